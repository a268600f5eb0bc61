"""Running a submission in a separate, limited process.

:class:`Sandbox` holds what every test's process shares (the submission,
the limits, the user to run as); :meth:`Sandbox.start` gives a
:class:`StudentProcess` for one test, and the grader kills it, its
process group, and every process it left behind when the test ends.

What contains a submission, from the outside in:

- a fresh process per test, in its own session, killed with SIGKILL (its
  whole process group) at the end of the test or when its time is up;
- the grading process made a "child subreaper" (Linux), so that a process
  the submission started and detached (a double fork, ``setsid``) is
  handed to the grader rather than to init, and killed as well;
- resource limits set before the student's module is imported: address
  space (memory), CPU seconds, size of written files (including what it
  prints), open files, and, for an unprivileged user, processes;
- when the grader runs as root and a ``user`` is given (the exported
  Gradescope and PrairieLearn graders use ``nobody``), the process drops
  to that user, so it cannot write the results file, read the grader's
  private files or signal the grader;
- an audit hook in the student's process that refuses imports of cnnc
  (or of the parts of cnnc an assignment forbids, which are also replaced
  by stand-ins that refuse use), torch and other libraries that would
  answer for the student, opening
  the grader's files, writing outside its working folder, starting
  processes and sending signals (see ``_child.py``);
- nothing secret in the student's process: the grader draws the inputs
  from its seed and sends only the arrays; it keeps the expected outputs
  and makes every comparison itself, so a submission that patches NumPy,
  prints a results file or writes one changes nothing;
- the grading process is made non-dumpable while it grades, so a process
  of the same user cannot read its memory through /proc.
"""
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

from cnnc.grading import _child

__all__ = ["Sandbox", "StudentProcess", "StudentError", "SandboxError",
           "DEFAULT_FORBIDDEN_MODULES", "GRADER_MODULES"]

CHILD_SCRIPT = os.path.abspath(_child.__file__)

# Libraries that would compute a submission's answers for it.
DEFAULT_FORBIDDEN_MODULES = ("cnnc", "torch", "tensorflow", "jax", "keras",
                             "scipy", "sklearn", "skimage", "cv2", "numba")

# The parts of cnnc that a submission never uses, even when an assignment
# lets it use the rest (the grader itself, and the command line).
GRADER_MODULES = ("cnnc.grading", "cnnc.assignments", "cnnc.cli",
                  "cnnc.__main__")

MiB = 1 << 20


class SandboxError(RuntimeError):
    """The grader could not set up the student's process (a problem of the
    grading machine, not of the submission)."""


class StudentError(Exception):
    """The student's code failed: it raised, crashed, ran out of time or
    memory, or sent something the grader cannot read.

    Attributes
    ----------
    message : str
        What happened, written for the student.
    kind : str
        ``"raised"``, ``"timeout"``, ``"crashed"``, ``"exited"``,
        ``"import"``, ``"protocol"``.
    """

    def __init__(self, message, kind):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.output = ""
        self.violations = []


def _libc():
    """The C library through ctypes, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


PR_SET_DUMPABLE, PR_GET_DUMPABLE = 4, 3
PR_SET_CHILD_SUBREAPER = 36


class _ProcessGuard:
    """While grading: become a subreaper and non-dumpable; restore after."""

    def __enter__(self):
        self.libc = _libc()
        self.was_dumpable = None
        if self.libc is not None:
            self.was_dumpable = self.libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)
            self.libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            self.libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        return self

    def __exit__(self, *exc):
        if self.libc is not None:
            self.libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
            if self.was_dumpable and self.was_dumpable > 0:
                self.libc.prctl(PR_SET_DUMPABLE, self.was_dumpable, 0, 0, 0)
        return False


def _proc_stat(pid):
    """(ppid, pgid, session, starttime) of a process from /proc, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return (int(fields[1]), int(fields[2]), int(fields[3]),
                int(fields[19]))
    except (IndexError, ValueError):
        return None


def _left_behind(child_pid, pgid, started):
    """Processes the student's process left: in its process group or
    session, or handed to this (subreaper) process after it started."""
    if not os.path.isdir("/proc"):
        return []
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in (me, child_pid):
            continue
        stat = _proc_stat(pid)
        if stat is None:
            continue
        ppid, group, session, start = stat
        if group == pgid or session == pgid or (
                ppid == me and started is not None and start >= started):
            found.append(pid)
    return found


def _reap(pids, timeout=2.0):
    """Collect killed processes that became children of this one, so no
    zombie is left (the others are not ours to wait for)."""
    pending = set(pids)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.01)


def _ready(fd, event, seconds):
    """Wait at most ``seconds`` for ``fd`` to be readable or writable (or
    closed at the other end, which the read or write then reports)."""
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(max(0, int(seconds * 1000) + 1)))


def _signal_name(number):
    try:
        name = signal.Signals(number).name
    except ValueError:
        return "signal %d" % number
    meaning = {"SIGSEGV": "segmentation fault: memory accessed outside "
               "what the process owns", "SIGKILL": "killed",
               "SIGXCPU": "the CPU time limit was reached",
               "SIGXFSZ": "the limit on written output was reached",
               "SIGABRT": "aborted", "SIGBUS": "bus error",
               "SIGFPE": "arithmetic error"}.get(name)
    return "%s (%s)" % (name, meaning) if meaning else name


class Sandbox:
    """What the processes of one grading run share.

    Parameters
    ----------
    submission : str
        The folder with the student's files. It is copied for each test
        into a fresh working folder; the original is never touched.
    module : str or None
        The module to import from it (``"conv"`` for ``conv.py``).
    time_limit : float
        Default seconds of wall-clock time per test.
    memory_limit : int
        Bytes of address space the student's code may add to what Python
        and NumPy take.
    output_limit : int
        Bytes the process may write to a file (what it prints included).
    forbidden_modules : sequence of str
        Packages the submission may not import: top-level names, or parts
        of cnnc (``"cnnc.optim"``). When ``"cnnc"`` itself is not among
        them the submission may use the rest of cnnc: its process imports
        cnnc before any student code runs, and each forbidden part is
        replaced there by a stand-in that refuses use. cnnc's files stay
        closed to the submission, except the weights of the pre-trained
        encoder.
    protect : sequence of str
        More paths the submission may not open (besides cnnc's package).
    user : str or int, optional
        Run the student's code as this user (only when the grader is
        root), e.g. ``"nobody"``.
    python : str, optional
        The interpreter for the student's code (default: this one). It
        must be able to import NumPy, as ``user`` when one is given.
    """

    def __init__(self, submission, module, time_limit=10.0,
                 memory_limit=1024 * MiB, output_limit=8 * MiB,
                 forbidden_modules=DEFAULT_FORBIDDEN_MODULES, protect=(),
                 user=None, python=None):
        if os.name != "posix":
            # TODO: Windows has no process groups, resource limits or
            # inheritable pipe descriptors as used here; a grader there
            # would need job objects. Students on Windows can grade in WSL.
            raise SandboxError("grading runs the student's code under POSIX "
                               "process controls (Linux or macOS); on "
                               "Windows, use WSL")
        self.submission = os.path.abspath(submission)
        self.module = module
        self.time_limit = float(time_limit)
        self.memory_limit = int(memory_limit)
        self.output_limit = int(output_limit)
        self.forbidden_modules = tuple(forbidden_modules)
        import cnnc
        self.protect = tuple(os.path.realpath(p) for p in (
            os.path.dirname(os.path.abspath(cnnc.__file__)),) + tuple(protect))
        scratch = os.path.realpath(tempfile.gettempdir())
        for path in self.protect:
            if scratch == path or scratch.startswith(path.rstrip(os.sep)
                                                     + os.sep):
                raise ValueError(
                    "protect: %s holds %s, where the student's code runs; "
                    "protect narrower folders (or set TMPDIR elsewhere)"
                    % (path, scratch))
        self.python = python or sys.executable
        self.user = user
        # uid and gid stay None unless the grader is root and can drop.
        self.uid = self.gid = None
        if user is not None and os.getuid() == 0:
            import pwd
            try:
                entry = (pwd.getpwuid(user) if isinstance(user, int)
                         else pwd.getpwnam(user))
            except KeyError:
                raise SandboxError("no user %r on this machine to run the "
                                   "student's code as" % (user,)) from None
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
        # Resource limits the system would not set (reported once).
        self.refused_limits = set()
        # NumPy's folder goes on the child's path: -I leaves out
        # PYTHONPATH, and the sandbox user's interpreter may not know it.
        self.python_path = [os.path.dirname(os.path.dirname(np.__file__))]
        # cnnc in part: imported from the grader's copy before the guard.
        self.preload_path, self.preload_modules = None, []
        self.readable = ()
        if "cnnc" not in self.forbidden_modules:
            package = os.path.dirname(os.path.abspath(cnnc.__file__))
            self.preload_path = os.path.dirname(package)
            self.preload_modules = ["cnnc", "cnnc.data"]
            self.forbidden_modules += tuple(
                m for m in GRADER_MODULES if m not in self.forbidden_modules)
            self.readable = (os.path.realpath(os.path.join(
                package, "models", "weights")),)

    def start(self, time_limit=None):
        """A fresh process with the student's module imported.

        Raises
        ------
        StudentError
            The module does not import (or the process dies doing so).
        SandboxError
            The process cannot be started at all.
        """
        limit = self.time_limit if time_limit is None else float(time_limit)
        return StudentProcess(self, limit)

    def check(self):
        """Start a process without importing the submission, to show that
        the interpreter, NumPy and the user work; raises SandboxError."""
        module, self.module = self.module, None
        try:
            process = StudentProcess(self, 30.0)
        except StudentError as exc:
            raise SandboxError(
                "the student's process cannot start with %s%s: %s"
                % (self.python, " as user %s" % self.user if self.uid
                   is not None else "", exc.message)) from None
        finally:
            self.module = module
        process.close()


class StudentProcess:
    """One test's process running the student's code.

    Call the student's functions with :meth:`call`; :meth:`close` kills
    the process, its group, and whatever it left behind. All waiting
    counts against the test's deadline.
    """

    def __init__(self, sandbox, time_limit):
        self.sandbox = sandbox
        self.deadline = time.monotonic() + time_limit
        self.time_limit = time_limit
        self.violations = []
        self.process = None
        self.closed = False
        self._printed = ""
        self._output = None
        self._workdir = tempfile.mkdtemp(prefix="cnnc-grade-")
        try:
            self._start()
        except StudentError as exc:
            self.close()
            exc.output = self.output()
            exc.violations = list(self.violations)
            raise
        except BaseException:
            self.close()
            raise

    # -- start ---------------------------------------------------------------

    def _prepare_workdir(self):
        sandbox = self.sandbox
        if sandbox.module is not None:
            for name in os.listdir(sandbox.submission):
                source = os.path.join(sandbox.submission, name)
                # Links are not followed: the grader may read what the
                # student's process may not.
                if (name.startswith(".") or name == "__pycache__"
                        or os.path.islink(source)):
                    continue
                if os.path.isdir(source):
                    shutil.copytree(source, os.path.join(self._workdir, name),
                                    symlinks=True,
                                    ignore=shutil.ignore_patterns(
                                        "__pycache__", ".*"))
                elif os.path.isfile(source):
                    shutil.copy2(source, self._workdir)
        if sandbox.uid is not None:
            for root, dirs, files in os.walk(self._workdir):
                for name in [root] + [os.path.join(root, f)
                                      for f in dirs + files]:
                    os.chown(name, sandbox.uid, sandbox.gid)
        os.chmod(self._workdir, 0o700)

    def _start(self):
        sandbox = self.sandbox
        self._prepare_workdir()
        # What the student prints goes to an unlinked file: no name to find.
        self._output = tempfile.TemporaryFile()
        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self._workdir,
               "TMPDIR": self._workdir, "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "CNNC_NUM_THREADS": "1"}
        kwargs = {}
        if sandbox.uid is not None:
            kwargs = dict(user=sandbox.uid, group=sandbox.gid,
                          extra_groups=[])
        try:
            self.process = subprocess.Popen(
                # -u: what the student prints reaches the file at once,
                # even when the process is then killed.
                [sandbox.python, "-I", "-B", "-u", CHILD_SCRIPT,
                 str(request_r), str(reply_w)],
                stdin=subprocess.DEVNULL, stdout=self._output,
                stderr=self._output, env=env, cwd=self._workdir,
                pass_fds=(request_r, reply_w), start_new_session=True,
                close_fds=True, **kwargs)
        except OSError as exc:
            raise SandboxError("cannot start %s: %s"
                               % (sandbox.python, exc)) from None
        finally:
            os.close(request_r)
            os.close(reply_w)
        stat = _proc_stat(self.process.pid)
        self._started = stat[3] if stat else None
        # The grader's /proc entries (its command line, environment and
        # memory), under its process id and each of its threads' ids.
        protected = list(sandbox.protect) + ["/proc/%d" % os.getpid()]
        try:
            protected += ["/proc/%s" % tid
                          for tid in os.listdir("/proc/self/task")]
        except OSError:
            pass
        setup = {"workdir": self._workdir, "module": sandbox.module,
                 "python_path": sandbox.python_path,
                 "forbidden_modules": list(sandbox.forbidden_modules),
                 "protected": protected,
                 "preload_path": sandbox.preload_path,
                 "preload_modules": sandbox.preload_modules,
                 "readable": list(sandbox.readable),
                 "memory_limit": sandbox.memory_limit,
                 "cpu_limit": int(self.time_limit) + 2,
                 "file_limit": sandbox.output_limit,
                 "process_limit": 64}
        self._send(_child.encode(setup, np))
        try:
            answer = self._receive("starting")
        except StudentError as exc:
            # Before the guard is up no student code has run: the fault is
            # the grading machine's.
            raise SandboxError("the process for the student's code did not "
                               "start: %s\n%s" % (exc.message,
                                                   self.output())) from None
        if answer["kind"] != "guarded":
            raise SandboxError("the process for the student's code answered "
                               "%r instead of 'guarded'" % answer["kind"])
        sandbox.refused_limits.update(answer.get("refused_limits") or ())
        answer = self._receive("importing %s.py" % sandbox.module)
        if answer["kind"] == "import_error":
            error = answer["error"]
            raise StudentError(
                "%s.py could not be imported: %s: %s%s"
                % (sandbox.module, error["type"], error["message"],
                   _indent_traceback(error["traceback"])), "import")
        if answer["kind"] != "ready":
            raise StudentError("the student's process did not start "
                               "properly", "protocol")

    # -- talking -------------------------------------------------------------

    def call(self, name, args=(), kwargs=None, target=None,
             get_attribute=False):
        """Run the student's ``name(*args, **kwargs)`` and return what it
        returned (arrays, numbers, tuples, lists, dicts, or a
        :class:`RemoteObject` for anything else).

        Raises
        ------
        StudentError
        """
        if self.closed:
            raise StudentError("the student's process was closed", "protocol")
        request = {"name": name, "args": tuple(args),
                   "kwargs": dict(kwargs or {}),
                   "target": target, "get_attribute": get_attribute}
        try:
            payload = _child.encode(request, np, self._handle_out)
        except _child.WireError as exc:
            raise TypeError("the grader cannot send %s to the student's "
                            "code" % exc) from None
        self._send(payload)
        answer = self._receive("running %s" % name)
        if answer["kind"] == "result":
            return answer.get("value")
        if answer["kind"] == "error":
            error = answer["error"]
            raise StudentError(
                "%s raised %s: %s%s" % (name, error["type"], error["message"],
                                        _indent_traceback(error["traceback"])),
                "raised")
        raise StudentError("the student's process answered %r"
                           % answer.get("kind"), "protocol")

    @staticmethod
    def _handle_out(value):
        if isinstance(value, RemoteObject):
            return {"__handle__": [value._key, value._type]}
        raise _child.Unencodable(value)

    def _handle_in(self, spec):
        if (isinstance(spec, list) and len(spec) == 2
                and isinstance(spec[0], int) and isinstance(spec[1], str)):
            return RemoteObject(self, spec[0], spec[1])
        raise _child.WireError("a malformed handle")

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _send(self, payload):
        data = memoryview(struct.pack("<Q", len(payload)) + payload)
        while data:
            remaining = self._remaining()
            if remaining <= 0:
                self._timeout("sending it its inputs")
            if not _ready(self._request_w, select.POLLOUT, remaining):
                continue
            try:
                written = os.write(self._request_w, data[:1 << 16])
            except (BrokenPipeError, OSError):
                self._died("receiving its inputs")
            data = data[written:]

    def _read(self, size, doing):
        chunks, missing = [], size
        while missing:
            remaining = self._remaining()
            if remaining <= 0:
                self._timeout(doing)
            if not _ready(self._reply_r, select.POLLIN, remaining):
                continue
            chunk = os.read(self._reply_r, min(missing, 1 << 20))
            if not chunk:
                self._died(doing)
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _receive(self, doing):
        (size,) = struct.unpack("<Q", self._read(8, doing))
        if size > _child.MAX_MESSAGE:
            self._bad_message("a message of %d bytes" % size)
        payload = self._read(size, doing)
        try:
            answer = _child.decode(payload, np, self._handle_in)
        except _child.WireError as exc:
            self._bad_message(str(exc))
        if not isinstance(answer, dict) or "kind" not in answer:
            self._bad_message("a message without a kind")
        for line in answer.get("violations") or ():
            if isinstance(line, str) and line not in self.violations:
                self.violations.append(line[:500])
        return answer

    # -- failures --------------------------------------------------------------

    def _bad_message(self, what):
        self.close()
        raise StudentError("the grader received %s from the student's "
                           "process: did the code write to the grader's "
                           "channel?" % what, "protocol")

    def _timeout(self, doing):
        self.close()
        raise StudentError(
            "time limit: the test took longer than %g s (while %s) and the "
            "process was stopped. Look for an infinite loop, or for work "
            "that grows much faster than the input." % (self.time_limit,
                                                        doing), "timeout")

    def _died(self, doing):
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is None:
            raise StudentError("the student's process closed the grader's "
                               "channel while %s" % doing, "protocol")
        if code < 0:
            raise StudentError(
                "the process running your code crashed while %s: it was "
                "ended by %s." % (doing, _signal_name(-code)), "crashed")
        raise StudentError(
            "the process running your code ended while %s, with exit status "
            "%d: does the code call sys.exit(), os._exit() or quit()? A "
            "function must return its result." % (doing, code), "exited")

    # -- output and the end ------------------------------------------------------

    def output(self):
        """What the student's code printed (the first 2000 characters)."""
        if self.closed:
            return self._printed
        return self._read_output()

    def _read_output(self, limit=2000):
        if self._output is None:
            return ""
        try:
            self._output.seek(0)
            data = self._output.read(limit + 1)
        except (OSError, ValueError):
            return ""
        text = data.decode(errors="replace")
        if len(text) > limit:
            text = text[:limit] + "\n... (more output cut)"
        return text

    def close(self):
        """Kill the process, its group and what it left behind; clean up."""
        if self.closed:
            return
        self.closed = True
        process = self.process
        if process is not None:
            pgid = process.pid
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            # Twice: a process may fork while the first sweep kills.
            for _ in range(2):
                stray = _left_behind(process.pid, pgid, self._started)
                for pid in stray:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                _reap(stray)
        self._printed = self._read_output()
        if self._output is not None:
            self._output.close()
        for fd in (getattr(self, "_request_w", None),
                   getattr(self, "_reply_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class RemoteObject:
    """An object that lives in the student's process (an instance of a
    class the student wrote). Calling a method runs it there; read an
    attribute with :meth:`Student.attribute`."""

    def __init__(self, process, key, type_name):
        self._process = process
        self._key = key
        self._type = type_name

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def method(*args, **kwargs):
            return self._process.call(name, args, kwargs, target=self)
        method.__name__ = name
        return method

    def __repr__(self):
        return "<%s object in the student's process>" % self._type


def _indent_traceback(text):
    if not text:
        return ""
    return "\n  where (in your code):\n" + "\n".join(
        "    " + line for line in text.rstrip().splitlines())
