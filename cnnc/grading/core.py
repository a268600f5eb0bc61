"""Graded tests, assignments, and the loop that grades a submission.

See the :mod:`cnnc.grading` docstring for how an assignment is written.
"""
import ast
import inspect
import json
import logging
import os
import secrets
import time
import traceback
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from cnnc.grading._child import is_forbidden
from cnnc.grading.checks import Check, StudentOutputError
from cnnc.grading.sandbox import (DEFAULT_FORBIDDEN_MODULES, MiB, Sandbox,
                                  StudentError, _ProcessGuard)

__all__ = ["graded", "TestSpec", "Assignment", "Student", "TestResult",
           "GradingReport", "grade", "run_test", "VISIBILITIES", "FIXTURES"]

logger = logging.getLogger("cnnc")

# The visibilities of Gradescope's results format; PrairieLearn and the
# local report map them (see cnnc.grading.report).
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# What a test function may ask for, by parameter name.
FIXTURES = ("student", "rng", "check")


@dataclass(frozen=True)
class TestSpec:
    """The metadata of a graded test (see :func:`graded`)."""

    __test__ = False   # not a pytest test class, despite its name

    name: str
    points: float
    visibility: str = "visible"
    partial: bool = True
    timeout: float = None
    description: str = ""


def graded(points, name=None, visibility="visible", partial=True,
           timeout=None):
    """Mark a function as a graded test.

    Parameters
    ----------
    points : float
        What the test is worth (> 0).
    name : str, optional
        Its title in reports (default: the function's name, spaced out).
    visibility : {"visible", "hidden", "after_due_date", "after_published"}
        When students see the result on the course platform.
    partial : bool
        True: the score is ``points`` times the fraction of sub-checks
        passed. False: all or nothing.
    timeout : float, optional
        Seconds of wall-clock time for the whole test (default: the
        assignment's ``time_limit``).

    Examples
    --------
    >>> from cnnc.grading import graded
    >>> @graded(points=2, name="ReLU forward")
    ... def test_relu(student, rng, check):
    ...     x = rng.standard_normal((3, 4))
    ...     check.close("out", student.relu(x), np.maximum(x, 0))
    >>> test_relu.grading.points
    2.0
    """
    try:
        points = float(points)
    except (TypeError, ValueError):
        raise TypeError("points must be a number, got %r" % (points,)) \
            from None
    if not points > 0:
        raise ValueError("points must be > 0, got %r" % points)
    if visibility not in VISIBILITIES:
        raise ValueError("visibility must be one of %s, got %r"
                         % (", ".join(VISIBILITIES), visibility))
    if timeout is not None and not float(timeout) > 0:
        raise ValueError("timeout must be > 0 seconds, got %r" % timeout)

    def mark(function):
        unknown = [p for p in inspect.signature(function).parameters
                   if p not in FIXTURES]
        if unknown:
            raise TypeError("graded test %s asks for %s; a test may ask for "
                            "%s" % (function.__name__, ", ".join(unknown),
                                    ", ".join(FIXTURES)))
        title = name or function.__name__.removeprefix("test_").replace(
            "_", " ").capitalize()
        function.grading = TestSpec(
            name=title, points=points, visibility=visibility,
            partial=bool(partial),
            timeout=None if timeout is None else float(timeout),
            description=inspect.cleandoc(function.__doc__ or ""))
        return function
    return mark


class Student:
    """The submission as a test sees it.

    ``student.conv2d_forward(x, w, b)`` runs the student's function in
    the student's process and returns what it returned. Arguments and
    results travel as copies: NumPy arrays, numbers, strings, None, and
    tuples, lists and dicts of them. An object of another kind (an
    instance of a class the student wrote) stays in the student's process
    and comes back as a handle whose methods can be called the same way.
    """

    def __init__(self, call):
        self._call = call

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def function(*args, **kwargs):
            return self._call(name, args, kwargs)
        function.__name__ = name
        return function

    def attribute(self, obj, name):
        """The value of ``obj.name`` for an object in the student's
        process."""
        return obj._process.call(name, target=obj, get_attribute=True)


class _InProcess:
    """Calls into a namespace in this process (for otter, whose own
    container isolates the student; nothing is sandboxed here). Values are
    copied through the wire format, as they are between processes."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.violations = []

    def call(self, name, args=(), kwargs=None):
        from cnnc.grading import _child
        function = self.namespace.get(name)
        if function is None:
            raise StudentError("no function named %s is defined" % name,
                               "raised")
        args, kwargs = _child.decode(_child.encode(
            (tuple(args), dict(kwargs or {})), np), np)
        try:
            result = function(*args, **kwargs)
        except Exception as exc:
            raise StudentError("%s raised %s: %s" % (
                name, type(exc).__name__, exc), "raised") from None
        try:
            return _child.decode(_child.encode(result, np), np)
        except _child.WireError as exc:
            raise StudentError("%s returned %s, which the grader cannot "
                               "read" % (name, exc), "raised") from None


@dataclass
class TestResult:
    """The outcome of one graded test.

    ``status`` is ``"passed"`` (full points), ``"partial"``, ``"failed"``
    (sub-checks failed), ``"error"`` (the student's code raised, crashed,
    ran out of time or memory) or ``"grader_error"`` (a bug in the test:
    tell the instructor).
    """

    __test__ = False   # not a pytest test class, despite its name
    number: int
    id: str
    name: str
    score: float
    max_score: float
    status: str
    output: str
    visibility: str
    description: str = ""
    checks_passed: int = 0
    checks_total: int = 0
    duration: float = 0.0


@dataclass
class GradingReport:
    """All the results of grading one submission."""

    assignment: str
    title: str
    submission: str
    tests: list
    seed: int
    warnings: list = field(default_factory=list)
    duration: float = 0.0

    @property
    def score(self):
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self):
        return round(sum(t.max_score for t in self.tests), 6)

    def result(self, test_id):
        """The result of the test named ``test_id`` (its function name)."""
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError("no test %r in this report (tests: %s)"
                       % (test_id, ", ".join(t.id for t in self.tests)))

    def to_dict(self):
        data = asdict(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data


class Assignment:
    """An assignment: its description, starter files and graded tests.

    Use :func:`cnnc.assignments.get` for the shipped ones, or
    :meth:`from_folder` for one of your own.
    """

    def __init__(self, folder, config, tests, package=None):
        self.folder = folder
        self.package = package
        self.id = config["id"]
        self.title = config["title"]
        self.summary = config.get("summary", "")
        self.module = config["module"]
        self.files = list(config.get("files", [self.module + ".py"]))
        self.time_limit = float(config.get("time_limit", 10))
        self.memory_limit_mb = int(config.get("memory_limit_mb", 1024))
        self.forbidden_modules = tuple(config.get(
            "forbidden_modules", DEFAULT_FORBIDDEN_MODULES))
        self.tests = tests

    @property
    def points(self):
        return sum(t.grading.points for t in self.tests)

    @property
    def starter_folder(self):
        return os.path.join(self.folder, "starter")

    @classmethod
    def from_folder(cls, folder, package=None):
        """Read ``assignment.json`` and the tests in ``tests.py`` of a
        folder."""
        path = os.path.join(folder, "assignment.json")
        try:
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
        except FileNotFoundError:
            raise ValueError("%s has no assignment.json" % folder) from None
        missing = [k for k in ("id", "title", "module") if k not in config]
        if missing:
            raise ValueError("%s lacks %s" % (path, ", ".join(missing)))
        if package is not None:
            import importlib
            module = importlib.import_module(package + ".tests")
        else:
            import importlib.util
            spec = importlib.util.spec_from_file_location(
                "cnnc_assignment_%s_tests" % config["id"],
                os.path.join(folder, "tests.py"))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        tests = collect_tests(module)
        if not tests:
            raise ValueError("%s defines no graded tests" % module.__name__)
        return cls(folder, config, tests, package)

    def __repr__(self):
        return "<Assignment %s: %s, %d tests, %g points>" % (
            self.id, self.title, len(self.tests), self.points)


def collect_tests(module):
    """The functions of a module named ``test_*``, in the order written;
    each must carry :func:`graded` metadata."""
    tests = []
    for name, value in vars(module).items():
        if name.startswith("test_") and callable(value):
            if not isinstance(getattr(value, "grading", None), TestSpec):
                raise ValueError("%s.%s has no @graded(points=...) metadata"
                                 % (module.__name__, name))
            tests.append(value)
    return sorted(tests, key=lambda f: f.__code__.co_firstlineno)


def _test_rng(seed, test_id):
    """The test's generator: from the grading seed and the test's name, so
    a test draws the same inputs whatever runs before it."""
    return np.random.default_rng([seed, zlib.crc32(test_id.encode())])


def run_test(function, call, seed, number=1, violations=()):
    """Run one graded test against a student reached through ``call``.

    ``call(name, args, kwargs)`` runs a student's function. Returns a
    :class:`TestResult`; never raises for what the student's code does.
    """
    spec = function.grading
    check = Check()
    fixtures = {"student": Student(call), "rng": _test_rng(seed,
                                                           function.__name__),
                "check": check}
    wanted = inspect.signature(function).parameters
    start = time.perf_counter()
    problem, status = None, None
    try:
        function(**{name: fixtures[name] for name in wanted})
    except StudentError as exc:
        problem, status = exc.message, "error"
    except StudentOutputError as exc:
        problem, status = str(exc), "error"
    except AssertionError as exc:
        problem, status = "check failed: %s" % (exc or "assertion"), "failed"
    except Exception:
        logger.error("graded test %s failed inside the grader:\n%s",
                     function.__name__, traceback.format_exc())
        problem = ("the test itself failed (a bug in the grader, not in your "
                   "code; please tell your instructor):\n"
                   + traceback.format_exc(limit=-3))
        status = "grader_error"
    duration = time.perf_counter() - start

    if problem is not None:
        score = 0.0
    elif check.total == 0:
        score = spec.points
    elif spec.partial:
        score = spec.points * check.passed / check.total
    else:
        score = spec.points if check.passed == check.total else 0.0
    if status is None:
        status = ("passed" if score >= spec.points else
                  "partial" if score > 0 else "failed")
    lines = list(check.lines)
    if problem is not None:
        lines.append("ERROR " + problem.replace("\n", "\n      "))
    for line in violations:
        lines.append("BLOCKED " + line)
    return TestResult(
        number=number, id=function.__name__, name=spec.name,
        score=round(score, 6), max_score=spec.points, status=status,
        output="\n".join(lines), visibility=spec.visibility,
        description=spec.description, checks_passed=check.passed,
        checks_total=check.total, duration=round(duration, 3))


def scan_imports(folder, forbidden_modules):
    """Lines of the submission's Python files that import a forbidden
    module, as messages (the import is also refused when the code runs)."""
    found = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py"):
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8",
                      errors="replace") as f:
                tree = ast.parse(f.read(), name)
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module \
                    and not node.level:
                modules = [node.module]
                if not is_forbidden(node.module, forbidden_modules):
                    # "from cnnc import optim" imports cnnc.optim.
                    modules = [node.module + "." + a.name
                               for a in node.names]
            else:
                continue
            for module in modules:
                if is_forbidden(module, forbidden_modules):
                    found.append(
                        "%s, line %d: imports %s, which a submission may not "
                        "use (the import is refused while grading: write "
                        "the computation yourself with NumPy)"
                        % (name, node.lineno, module))
    return found


def grade(assignment, submission, seed=None, time_limit=None,
          memory_limit_mb=None, user=None, python=None, protect=(),
          only=None):
    """Grade a submission folder.

    Parameters
    ----------
    assignment : Assignment or str
        The assignment or its id (``"A1"``).
    submission : str
        The folder with the student's files (``conv.py`` for A1).
    seed : int, optional
        The seed of every test's inputs (default: drawn at random, so
        answers fixed in advance cannot pass). The report gives it, to
        draw the same inputs again.
    time_limit : float, optional
        Seconds per test, replacing each test's own limit.
    memory_limit_mb : int, optional
        Megabytes the student's code may allocate (default: the
        assignment's).
    user : str, optional
        Run the student's code as this user when grading as root (the
        exported autograders use "nobody").
    python : str, optional
        The interpreter for the student's code (default: this one).
    protect : sequence of str
        More paths the student's code may not open.
    only : sequence of str, optional
        Run only these tests (function names).

    Returns
    -------
    GradingReport

    Raises
    ------
    ValueError
        The submission folder does not exist.
    SandboxError
        The student's process cannot be started on this machine.
    """
    if isinstance(assignment, str):
        from cnnc import assignments
        assignment = assignments.get(assignment)
    if not os.path.isdir(submission):
        raise ValueError("submission must be a folder, got %r" % submission)
    if seed is None:
        seed = secrets.randbits(63)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError("seed must be a non-negative integer, got %r"
                         % (seed,))
    seed = int(seed)
    tests = assignment.tests
    if only is not None:
        known = {t.__name__ for t in tests}
        unknown = sorted(set(only) - known)
        if unknown:
            raise ValueError("no test %s in %s (tests: %s)" % (
                ", ".join(unknown), assignment.id, ", ".join(sorted(known))))
        tests = [t for t in tests if t.__name__ in set(only)]

    start = time.perf_counter()
    warnings = scan_imports(submission, assignment.forbidden_modules)
    missing = [f for f in assignment.files
               if not os.path.isfile(os.path.join(submission, f))]
    sandbox = Sandbox(
        submission, assignment.module,
        time_limit=assignment.time_limit,
        memory_limit=(memory_limit_mb or assignment.memory_limit_mb) * MiB,
        forbidden_modules=assignment.forbidden_modules, protect=protect,
        user=user, python=python)
    if user is not None and sandbox.uid is None:
        warnings.append("the student's code ran as this user, not as %r: "
                        "changing user needs the grader to run as root"
                        % (user,))
    results = []
    with _ProcessGuard():
        if user is not None and not missing:
            sandbox.check()
        for number, function in enumerate(tests, 1):
            if missing:
                results.append(_missing_result(number, function, missing,
                                               submission, assignment))
                continue
            limit = time_limit or function.grading.timeout \
                or assignment.time_limit
            results.append(_run_sandboxed(sandbox, function, seed, number,
                                          limit))
    if sandbox.refused_limits:
        warnings.append("this system refused the limits %s: the student's "
                        "code ran without them" % ", ".join(
                            sorted(sandbox.refused_limits)))
    return GradingReport(
        assignment=assignment.id, title=assignment.title,
        submission=os.path.abspath(submission), tests=results, seed=seed,
        warnings=warnings, duration=round(time.perf_counter() - start, 3))


def _run_sandboxed(sandbox, function, seed, number, limit):
    spec = function.grading
    try:
        process = sandbox.start(limit)
    except StudentError as exc:
        lines = ["ERROR " + exc.message.replace("\n", "\n      ")]
        lines += ["BLOCKED " + v for v in exc.violations]
        if exc.output:
            lines.append("your code printed:\n" + exc.output)
        return TestResult(
            number=number, id=function.__name__, name=spec.name, score=0.0,
            max_score=spec.points, status="error", output="\n".join(lines),
            visibility=spec.visibility, description=spec.description)
    try:
        result = run_test(function, process.call, seed, number)
    finally:
        process.close()
    extra = ["BLOCKED " + v for v in process.violations]
    printed = process.output()
    if printed:
        extra.append("your code printed:\n" + printed)
    if extra:
        result.output = "\n".join([result.output] + extra).strip("\n")
    return result


def _missing_result(number, function, missing, submission, assignment):
    spec = function.grading
    message = ("ERROR the submission has no %s (looked in %s). Start from "
               "the starter: cnnc assignments start %s DIR"
               % (" or ".join(missing), os.path.abspath(submission),
                  assignment.id))
    return TestResult(
        number=number, id=function.__name__, name=spec.name, score=0.0,
        max_score=spec.points, status="error", output=message,
        visibility=spec.visibility, description=spec.description)


def grade_in_process(function, namespace, seed):
    """Run one test against functions defined in ``namespace`` (a dict),
    in this process, with no sandbox: for graders such as otter that run
    the student's notebook in their own container."""
    return run_test(function, _InProcess(namespace).call, seed)
