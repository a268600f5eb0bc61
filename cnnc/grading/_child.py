"""The process that runs a student's code while it is graded.

The grader starts this file as a script, ``python -I -B _child.py REQ
REP``, once per test. It imports nothing from cnnc (a submission must not
reach cnnc's kernels or references, and this process is the one the
submission runs in), unless the assignment lets the submission use parts
of cnnc: then it imports cnnc before the guard is up and replaces the
forbidden parts by stand-ins that refuse use (see :func:`preload`). It
speaks to the grader over two pipes whose file descriptors are its two
arguments:

1. it reads a setup message (where NumPy lives, the module to import,
   the limits, the paths to protect), imports NumPy, sets the resource
   limits, installs the audit hook and imports the submission;
2. then it answers calls: "run the student's function ``name`` with
   these arguments" -> "here is what it returned" (or the exception it
   raised).

Nothing it sends is trusted by the grader beyond being the student's
answer: the grader draws the inputs, computes the expected outputs and
makes every comparison in its own process. A submission that writes to
these pipes itself can only return other arrays, which it could have
done by returning them.

The grader imports this module too (as ``cnnc.grading._child``) for the
message format below, so both ends share one encoder.
"""
import errno
import json
import os
import struct
import sys
import traceback

# -- the message format ---------------------------------------------------------
#
# A message is an 8-byte little-endian length, then a payload: a 4-byte
# length and a JSON document, then the raw bytes of the arrays the JSON
# refers to, in order. JSON holds the structure (numbers, strings, None,
# lists, tuples, dicts with string keys); each array appears in it as
# {"__array__": [dtype, shape]}. Only numeric and boolean arrays travel:
# object arrays would need pickle, and pickle runs code.

MAX_MESSAGE = 1 << 28          # 256 MiB: far above what any test sends
ARRAY_KINDS = "biufc"          # bool, int, unsigned, float, complex


class WireError(ValueError):
    """A value that cannot travel, or a message that is not well formed."""


class Unencodable(WireError):
    """A value with no wire form (the runner keeps it as a handle)."""

    def __init__(self, value):
        super().__init__("an object of type %s" % type(value).__name__)
        self.value = value


def encode(value, np, handles=None):
    """The payload bytes of ``value``.

    ``handles``, when given, is a callable that turns a value with no wire
    form into a JSON-able stand-in (the runner keeps such objects and
    sends a handle); without it such a value raises :class:`Unencodable`.
    """
    blobs = []

    def walk(v):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, np.generic):
            v = np.asarray(v)
        if isinstance(v, np.ndarray):
            v = np.ascontiguousarray(np.asarray(v))
            if v.dtype.kind not in ARRAY_KINDS:
                raise Unencodable(v)
            blobs.append(v.tobytes())
            return {"__array__": [v.dtype.str, list(v.shape)]}
        if isinstance(v, tuple):
            return {"__tuple__": [walk(x) for x in v]}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise Unencodable(v)
            return {"__dict__": {k: walk(x) for k, x in v.items()}}
        if handles is not None:
            return handles(v)
        raise Unencodable(v)

    doc = json.dumps(walk(value)).encode()
    return struct.pack("<I", len(doc)) + doc + b"".join(blobs)


def decode(payload, np, handles=None):
    """The value a payload from :func:`encode` describes.

    Checks everything it reads (lengths, dtypes, shapes) and raises
    :class:`WireError` on anything else: the grader decodes what a
    submission may have forged.
    """
    if len(payload) < 4:
        raise WireError("a message shorter than its header")
    (size,) = struct.unpack("<I", payload[:4])
    if 4 + size > len(payload):
        raise WireError("a message shorter than its JSON part")
    try:
        doc = json.loads(payload[4:4 + size].decode())
    except (ValueError, RecursionError) as exc:
        raise WireError("JSON that does not parse (%s)" % exc) from None
    offset = [4 + size]

    def array(spec):
        if not (isinstance(spec, list) and len(spec) == 2
                and isinstance(spec[0], str) and isinstance(spec[1], list)):
            raise WireError("a malformed array header")
        try:
            dtype = np.dtype(spec[0])
        except TypeError:
            raise WireError("an unknown dtype %r" % spec[0]) from None
        if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
            raise WireError("an array of dtype %s" % dtype)
        shape = spec[1]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                   for n in shape) or len(shape) > 32:
            raise WireError("a malformed array shape %r" % (shape,))
        count = 1
        for n in shape:
            count *= n
        nbytes = count * dtype.itemsize
        start = offset[0]
        if start + nbytes > len(payload):
            raise WireError("an array longer than the message")
        offset[0] = start + nbytes
        return np.frombuffer(payload, dtype, count, start).reshape(
            shape).copy()

    def walk(v):
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            if len(v) != 1:
                raise WireError("a malformed object")
            (key, inner), = v.items()
            if key == "__array__":
                return array(inner)
            if key == "__tuple__" and isinstance(inner, list):
                return tuple(walk(x) for x in inner)
            if key == "__dict__" and isinstance(inner, dict):
                return {k: walk(x) for k, x in inner.items()}
            if key == "__handle__" and handles is not None:
                return handles(inner)
            raise WireError("an unknown object %r" % key)
        return v

    try:
        value = walk(doc)
    except RecursionError:
        raise WireError("a value nested too deeply") from None
    if offset[0] != len(payload):
        raise WireError("bytes left over after the last array")
    return value


def send(fd, payload):
    """Write one framed message to a blocking file descriptor."""
    data = struct.pack("<Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd):
    """Read one framed message from a blocking file descriptor (None at
    the end of the stream)."""
    header = _read_exactly(fd, 8)
    if header is None:
        return None
    (size,) = struct.unpack("<Q", header)
    if size > MAX_MESSAGE:
        raise WireError("a message of %d bytes" % size)
    return _read_exactly(fd, size)


def _read_exactly(fd, size):
    chunks, missing = [], size
    while missing:
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


# -- the guard --------------------------------------------------------------------
#
# An audit hook (PEP 578) sees imports, file opens, process creation,
# ctypes library loads, signals and resource limits, and can refuse them
# by raising. Once installed it cannot be removed from Python code. It is
# a guard for honest mistakes and casual cheating, not a wall: code that
# pokes the interpreter's memory through ctypes can get past it, which is
# why the grader also drops privileges, limits resources and compares
# everything in its own process.

PROCESS_EVENTS = frozenset([
    "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
    "os.forkpty", "subprocess.Popen", "pty.spawn"])
SIGNAL_EVENTS = frozenset(["os.kill", "os.killpg", "signal.pthread_kill"])
LIMIT_EVENTS = frozenset(["resource.setrlimit", "resource.prlimit"])
NETWORK_EVENTS = frozenset(["socket.connect", "socket.bind",
                            "socket.sendto", "socket.sendmsg"])
FILE_CHANGE_EVENTS = frozenset([
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod",
    "os.chown", "os.symlink", "os.link", "os.truncate", "os.utime",
    "shutil.rmtree", "shutil.move", "shutil.copyfile"])
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class Blocked(PermissionError):
    """What the guard raises: the action is not allowed while grading."""


class BlockedImport(ImportError):
    """What the guard raises for a forbidden import."""


def is_forbidden(name, forbidden_modules):
    """Whether module ``name`` is one of ``forbidden_modules`` or inside
    one (``cnnc.optim.sgd`` is inside ``cnnc.optim``)."""
    return any(name == m or name.startswith(m + ".")
               for m in forbidden_modules)


def install_guard(forbidden_modules, protected, workdir, record,
                  readable=()):
    """Install the audit hook.

    forbidden_modules : tuple of str
        Modules a submission may not import, with everything inside them:
        top-level names (cnnc, torch, ...) or parts of a package
        (cnnc.optim).
    protected : tuple of str
        Real paths whose files a submission may not open (cnnc's package,
        the grader's files, the grader process's /proc entry).
    workdir : str
        The only folder a submission may write in.
    record : callable
        Called with a one-line description of every refused action.
    readable : tuple of str
        Real paths inside ``protected`` whose files may be opened for
        reading (the weights of cnnc's pre-trained encoder).
    """
    forbidden_modules = tuple(forbidden_modules)
    protected = tuple(protected)
    readable = tuple(readable)
    workdir = os.path.realpath(workdir)
    realpath, sep = os.path.realpath, os.sep
    fspath = os.fspath

    def inside(path, roots):
        return any(path == root or path.startswith(root.rstrip(sep) + sep)
                   for root in roots)

    def resolve(raw):
        if isinstance(raw, int):
            return None
        try:
            path = fspath(raw)
        except TypeError:
            return None
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        return realpath(path)

    def refuse(what, error=Blocked):
        message = "%s is not allowed while grading" % what
        record(message)
        raise error("[cnnc grader] " + message)

    def guard(event, args, _modules=forbidden_modules, _protected=protected,
              _workdir=(workdir,), _readable=readable):
        if event == "import":
            name = args[0]
            if isinstance(name, str) and is_forbidden(name, _modules):
                refuse("importing %s (write the computation yourself with "
                       "NumPy)" % name, BlockedImport)
        elif event == "open":
            path = resolve(args[0])
            if path is None:
                return
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")
                       ) or (isinstance(flags, int) and flags & WRITE_FLAGS)
            if inside(path, _protected) and (writing or not inside(
                    path, _readable)):
                refuse("opening %s (a file of the grader)" % path)
            if writing and not inside(path, _workdir) and path != "/dev/null":
                refuse("writing to %s (outside your working folder)" % path)
        elif event in FILE_CHANGE_EVENTS:
            for raw in args[:2]:
                path = resolve(raw)
                if path is not None and not inside(path, _workdir):
                    refuse("%s on %s (outside your working folder)"
                           % (event, path))
        elif event in PROCESS_EVENTS:
            refuse("starting a process (%s)" % event)
        elif event in SIGNAL_EVENTS:
            refuse("sending a signal (%s)" % event)
        elif event in LIMIT_EVENTS:
            refuse("changing the resource limits")
        elif event in NETWORK_EVENTS:
            refuse("using the network (%s)" % event)
        elif event == "ctypes.dlopen":
            path = resolve(args[0]) if args and args[0] else None
            if path is not None and inside(path, _protected):
                refuse("loading %s (a library of the grader)" % path)
        elif event == "object.__setattr__" and args[0] is guard:
            refuse("changing the grader's guard")
        elif event in ("gc.get_referrers", "gc.get_objects"):
            refuse("walking the interpreter's objects (%s)" % event)

    sys.addaudithook(guard)


# -- a package the submission may partly use ------------------------------------------
#
# An assignment may let the submission use cnnc's layers but not, say, its
# optimisers. cnnc's own modules import each other (cnnc/__init__.py
# imports them all), so a forbidden part cannot simply be left out: the
# package is imported whole before the guard is up, and each forbidden
# part is then replaced, in sys.modules and as an attribute of its parent,
# by a stand-in that refuses every use. The allowed modules keep the
# references they took while being imported, so they still work.
#
# NOTE: the forbidden code itself stays in the process, and a submission
# that goes looking through those references (cnnc.nn.conv.F is the real
# cnnc.functional) can still reach it. Like the rest of the guard, the
# stand-ins stop an import or a use by name, which is what an honest
# mistake or casual cheating looks like; the scan of the source reports
# the imports too.

def refusing_module(name, record):
    """A module object that stands in for the forbidden module ``name``:
    reading any of its attributes is refused and recorded."""
    import types

    class Refused(types.ModuleType):
        def __getattr__(self, attribute):
            if attribute.startswith("__"):
                raise AttributeError(attribute)
            message = ("using %s.%s is not allowed while grading (this "
                       "assignment asks you to write it yourself)"
                       % (name, attribute))
            record(message)
            raise BlockedImport("[cnnc grader] " + message)

    return Refused(name, "refused while grading")


def preload(path, modules, forbidden_modules, record):
    """Import ``modules`` from the folder ``path`` (taken off ``sys.path``
    again afterwards), then put a refusing stand-in in place of every
    loaded module that ``forbidden_modules`` names."""
    import importlib
    # First on the path, as the grader's own copy is for the grader.
    added = path not in sys.path
    if added:
        sys.path.insert(0, path)
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        if added:
            sys.path.remove(path)
    for name in sorted(sys.modules):
        if not is_forbidden(name, forbidden_modules):
            continue
        stand_in = refusing_module(name, record)
        sys.modules[name] = stand_in
        # The attribute of an allowed parent (a stand-in parent refuses
        # every attribute by itself).
        parent, _, attribute = name.rpartition(".")
        if parent in sys.modules and not is_forbidden(parent,
                                                      forbidden_modules):
            setattr(sys.modules[parent], attribute, stand_in)


# -- the runner ---------------------------------------------------------------------

def _set_limits(resource, setup):
    """Memory, CPU time, file size, open files and processes; returns the
    names of the limits this system refused (macOS, for one, does not
    take every limit)."""
    refused = []

    def limit(which, value):
        if value is None or not hasattr(resource, which):
            return
        value = int(value)
        try:
            resource.setrlimit(getattr(resource, which), (value, value))
        except (ValueError, OSError):
            refused.append(which)

    memory = setup.get("memory_limit")
    if memory is not None:
        # The limit is on top of what Python and NumPy already take.
        limit("RLIMIT_AS", _address_space() + memory)
    limit("RLIMIT_CPU", setup.get("cpu_limit"))
    limit("RLIMIT_FSIZE", setup.get("file_limit"))
    limit("RLIMIT_CORE", 0)
    limit("RLIMIT_NOFILE", 256)
    if setup.get("process_limit") is not None and os.getuid() != 0:
        limit("RLIMIT_NPROC", setup["process_limit"])
    return refused


def _address_space():
    """This process's virtual memory size in bytes (0 if unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _describe_exception(exc, student_files, workdir):
    """Type, message and the traceback lines inside the student's files
    (only their source is read: the grader's files are closed to it)."""
    frames = [(frame, line) for frame, line in
              traceback.walk_tb(exc.__traceback__)
              if os.path.realpath(frame.f_code.co_filename) in student_files]
    summary = traceback.StackSummary.extract(frames[-6:], lookup_lines=True)
    text = "".join(summary.format()).replace(workdir + os.sep, "")
    message = str(exc)[:2000]
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        message += (" (the limit on what a test may print or write was "
                    "reached: print less)")
    return {"type": type(exc).__name__, "message": message,
            "traceback": text[-4000:]}


def main(argv):
    request_fd, reply_fd = int(argv[1]), int(argv[2])
    setup_payload = receive(request_fd)
    if setup_payload is None:
        return 3
    # The setup message holds only strings, numbers and lists: it decodes
    # as plain JSON before NumPy is imported.
    setup = json.loads(setup_payload[4:].decode())["__dict__"]
    for path in setup.get("python_path", []):
        if path not in sys.path:
            sys.path.append(path)
    import numpy as np
    import resource

    violations = []
    objects = {}

    def keep(value):
        key = len(objects) + 1
        objects[key] = value
        return {"__handle__": [key, type(value).__name__]}

    def lookup(spec):
        if (isinstance(spec, list) and spec and isinstance(spec[0], int)
                and spec[0] in objects):
            return objects[spec[0]]
        raise WireError("an unknown handle %r" % (spec,))

    def reply(kind, **fields):
        fields["kind"] = kind
        fields["violations"] = list(violations)
        try:
            payload = encode(fields, np, keep)
        except Exception as exc:
            fields = {"kind": "error", "violations": list(violations),
                      "error": {"type": "UnreadableResult",
                                "message": "it returned %s, which the grader "
                                "cannot read (return NumPy arrays, numbers, "
                                "or tuples and lists of them)" % exc,
                                "traceback": ""}}
            payload = encode(fields, np)
        send(reply_fd, payload)

    # Before the submission's folder is on the path: nothing of it may
    # stand in for the package.
    if setup.get("preload_modules"):
        preload(setup["preload_path"], setup["preload_modules"],
                setup.get("forbidden_modules", ()), violations.append)

    workdir = setup["workdir"]
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    student_files = set()
    for name in os.listdir(workdir):
        if name.endswith(".py"):
            student_files.add(os.path.realpath(os.path.join(workdir, name)))
    refused = _set_limits(resource, setup)
    install_guard(setup.get("forbidden_modules", ()),
                  setup.get("protected", ()), workdir, violations.append,
                  readable=setup.get("readable", ()))

    reply("guarded", refused_limits=refused)

    module = None
    if setup.get("module"):
        import importlib
        try:
            module = importlib.import_module(setup["module"])
        except BaseException as exc:
            reply("import_error",
                  error=_describe_exception(exc, student_files, workdir))
            return 0
    reply("ready")

    while True:
        payload = receive(request_fd)
        if payload is None:
            return 0
        request = decode(payload, np, lookup)
        try:
            if request.get("target") is not None:
                target = request["target"]
                function = getattr(target, request["name"])
            else:
                function = getattr(module, request["name"], None)
                if function is None:
                    raise AttributeError(
                        "%s.py has no function named %s"
                        % (setup["module"], request["name"]))
            if request.get("get_attribute"):
                result = function
            else:
                result = function(*request.get("args", ()),
                                  **request.get("kwargs", {}))
        except BaseException as exc:
            reply("error",
                  error=_describe_exception(exc, student_files, workdir))
            continue
        reply("result", value=result)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
