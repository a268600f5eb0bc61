"""The pieces of cnnc.grading: test metadata, the message format between
the grader and the student's process, comparisons and their feedback,
the import scan, argument validation, and running as another user."""
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import (Check, StudentOutputError, grade, graded,
                          numeric_gradient, sample_indices)
from cnnc.grading import _child
from cnnc.grading.checks import compare
from cnnc.grading.core import scan_imports
from cnnc.grading.report import format_report, to_gradescope, to_prairielearn
from cnnc.grading.sandbox import Sandbox

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(REPO, "assignments_solutions", "A1", "conv.py")


# -- @graded ---------------------------------------------------------------------

def test_graded_records_the_metadata():
    @graded(points=2.5, visibility="after_due_date", partial=False,
            timeout=3)
    def test_something(student, check):
        """What it checks.

        More detail."""

    spec = test_something.grading
    assert (spec.name, spec.points, spec.visibility, spec.partial,
            spec.timeout) == ("Something", 2.5, "after_due_date", False, 3.0)
    assert spec.description.startswith("What it checks.")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(points=0), ValueError, r"points must be > 0, got 0"),
    (dict(points="two"), TypeError, r"points must be a number, got 'two'"),
    (dict(points=1, visibility="secret"), ValueError,
     r"visibility must be one of visible, hidden, after_due_date, "
     r"after_published, got 'secret'"),
    (dict(points=1, timeout=0), ValueError, r"timeout must be > 0 seconds"),
])
def test_graded_rejects_bad_metadata(kwargs, error, match):
    with pytest.raises(error, match=match):
        graded(**kwargs)


def test_graded_rejects_an_unknown_fixture():
    with pytest.raises(TypeError, match=r"graded test test_x asks for "
                       r"tmp_path; a test may ask for student, rng, check"):
        @graded(points=1)
        def test_x(student, tmp_path):
            pass


# -- the message format --------------------------------------------------------------

def roundtrip(value):
    return _child.decode(_child.encode(value, np), np)


def test_values_travel_as_copies_of_the_same_kind():
    x = np.arange(12.0).reshape(3, 4)[:, ::2]        # not contiguous
    value = {"a": (x, np.int64(3), None, "s", [True, 1.5]),
             "b": np.float32(2.5), "c": float("nan")}
    back = roundtrip(value)
    assert isinstance(back["a"], tuple)
    np.testing.assert_array_equal(back["a"][0], x)
    assert back["a"][0].flags.writeable
    assert back["a"][1].dtype == np.int64 and back["a"][1] == 3
    assert back["a"][2:] == (None, "s", [True, 1.5])
    assert back["b"].dtype == np.float32
    assert np.isnan(back["c"])


def test_object_arrays_do_not_travel():
    with pytest.raises(_child.Unencodable, match="ndarray"):
        _child.encode(np.array([object()]), np)


def forged(doc, blob=b""):
    import json
    text = json.dumps(doc).encode()
    return struct.pack("<I", len(text)) + text + blob


@pytest.mark.parametrize("payload, match", [
    (b"\x01", "shorter than its header"),
    (struct.pack("<I", 99) + b"{}", "shorter than its JSON part"),
    (forged({"__array__": ["|O", [1]]}), "an array of dtype object"),
    (forged({"__array__": ["<f8", [2]]}, b"\x00" * 8),
     "an array longer than the message"),
    (forged({"__array__": ["<f8", [-1]]}), "a malformed array shape"),
    (forged({"__array__": ["<f8", [1]]}, b"\x00" * 9),
     "bytes left over after the last array"),
    (forged({"__eval__": "1"}), "an unknown object '__eval__'"),
    (forged({"__handle__": [1, "x"]}), "an unknown object '__handle__'"),
    (struct.pack("<I", 3) + b"{{{", "JSON that does not parse"),
])
def test_forged_messages_are_refused(payload, match):
    with pytest.raises(_child.WireError, match=match):
        _child.decode(payload, np)


# -- comparisons and feedback -----------------------------------------------------------

def test_compare_names_the_worst_element_with_both_values():
    expected = np.zeros((2, 3))
    expected[1, 2] = 2.0
    given = expected.copy()
    given[1, 2] = 2.5
    given[0, 0] = 1e-9                            # inside atol
    passed, message = compare("dx", given, expected)
    assert not passed
    assert message.splitlines() == [
        "dx is wrong in 1 of the 6 elements",
        "worst element dx[1, 2]: expected 2, given 2.5 (relative error "
        "2.50e-01)",
        "tolerance: |given - expected| <= 1e-06 * |expected| + 1e-08"]


def test_compare_explains_a_shape_with_the_hint():
    passed, message = compare("out", np.zeros((1, 2, 3, 3)),
                              np.zeros((1, 2, 4, 4)), hint="P = 4")
    assert not passed
    assert message == ("out has shape (1, 2, 3, 3) but should have shape "
                       "(1, 2, 4, 4)\nP = 4")


@pytest.mark.parametrize("given, match", [
    (None, r"out is None: did the function return its result\? \(expected "
           r"an ndarray of shape \(2,\)\)"),
    ("text", r"out is a str, expected an ndarray of shape \(2,\)"),
    (np.array([1 + 1j, 0]), r"out has dtype complex128, expected real"),
    (np.array([np.nan, 1.0]), r"out has 1 values that are NaN or infinite, "
                              r"the first at out\[0\] \(expected 1 there\)"),
])
def test_compare_says_what_is_wrong_with_a_result(given, match):
    passed, message = compare("out", given, np.ones(2))
    assert not passed
    assert __import__("re").search(match, message), message


def test_check_scores_sub_checks_and_explains_floats_for_sizes():
    check = Check()
    assert check.equal("P", 5, 5)
    assert not check.equal("Q", 5.0, 5)
    assert check.close("out", np.ones(3) + 1e-12, np.ones(3))
    assert (check.passed, check.total) == (2, 3)
    assert "use // for the division" in check.lines[1]
    assert check.lines[0].startswith("ok   ")
    assert check.lines[1].startswith("FAIL ")


def test_unpack_explains_a_wrong_return():
    with pytest.raises(StudentOutputError, match=r"conv2d_backward must "
                       r"return a tuple \(dx, dw, db\), but returned None"):
        Check.unpack(None, ("dx", "dw", "db"), "conv2d_backward")
    with pytest.raises(StudentOutputError, match="returned 2 values"):
        Check.unpack((1, 2), ("dx", "dw", "db"), "conv2d_backward")


def test_numeric_gradient_of_a_linear_map_is_exact():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    dout = rng.standard_normal(3)
    indices = sample_indices(rng, x.shape, 10)
    assert len(indices) == 4                    # all of them
    numeric = numeric_gradient(lambda v: a @ v, x, dout, indices)
    exact = (a.T @ dout)[[i[0] for i in indices]]
    np.testing.assert_allclose(numeric, exact, rtol=1e-8)


# -- the import scan and the arguments of grade() ------------------------------------------

def test_scan_imports_finds_forbidden_imports_anywhere(tmp_path):
    (tmp_path / "conv.py").write_text(
        "import numpy as np\nfrom . import helper\n"
        "def f():\n    import torch.nn\n    from cnnc import reference\n")
    (tmp_path / "notes.txt").write_text("import cnnc")
    found = scan_imports(str(tmp_path), ("cnnc", "torch"))
    assert [line.split(":")[0] for line in found] == ["conv.py, line 4",
                                                      "conv.py, line 5"]
    assert "imports torch.nn" in found[0]


def test_grade_without_the_file_scores_zero_and_says_what_is_missing(
        tmp_path):
    report = grade("A1", str(tmp_path))
    assert report.score == 0
    assert all("the submission has no conv.py" in t.output
               and "cnnc assignments start A1 DIR" in t.output
               for t in report.tests)


@pytest.mark.parametrize("kwargs, match", [
    (dict(submission="/no/such/folder"), "submission must be a folder"),
    (dict(seed=-1), "seed must be a non-negative integer, got -1"),
    (dict(only=["test_nothing"]), r"no test test_nothing in A1 \(tests: "),
])
def test_grade_rejects_bad_arguments(tmp_path, kwargs, match):
    kwargs.setdefault("submission", str(tmp_path))
    with pytest.raises(ValueError, match=match):
        grade("A1", **kwargs)


def test_unknown_assignment_is_an_error():
    with pytest.raises(ValueError, match=r"no assignment 'A9'; the "
                       r"assignments are A1"):
        assignments.get("A9")


def test_protecting_the_scratch_folder_is_refused(tmp_path):
    import tempfile
    with pytest.raises(ValueError, match="where the student's code runs"):
        Sandbox(str(tmp_path), "conv",
                protect=[os.path.dirname(tempfile.gettempdir()) or "/"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["grade", "A9", str(tmp_path)]) == 1
    assert "cnnc grade: error: no assignment 'A9'" in capsys.readouterr().err
    assert main(["grade", "A1", str(tmp_path / "nothing")]) == 1
    assert "no folder" in capsys.readouterr().err
    assert main(["assignments", "start", "A1", str(tmp_path)]) == 0
    assert main(["assignments", "start", "A1", str(tmp_path)]) == 1
    assert "not overwriting it" in capsys.readouterr().err
    assert main(["assignments", "start", "A1", str(tmp_path), "--force"]) == 0


def test_assignments_list_shows_points_and_files(capsys):
    assert main(["assignments", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "title", "points", "files", "what",
                                "you", "write"]
    a1 = next(line for line in lines if line.startswith("A1 "))
    assert "Convolution" in a1 and " 20  conv.py " in a1


# -- reports ---------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists(SOLUTION), reason="no solutions")
def test_reports_map_partial_scores_and_visibility(tmp_path):
    source = open(SOLUTION).read().replace(
        "db = dout.sum(axis=(0, 2, 3))", "db = np.zeros(K)")
    (tmp_path / "conv.py").write_text(source)
    report = grade("A1", str(tmp_path), only=["test_forward_general",
                                              "test_backward_db",
                                              "test_gradient_check"])
    gradescope = to_gradescope(report)
    assert [t["status"] for t in gradescope["tests"]] == ["passed", "failed",
                                                          "failed"]
    assert [t["score"] for t in gradescope["tests"]] == [2, 0, 2]
    assert [t["visibility"] for t in gradescope["tests"]] == [
        "hidden", "visible", "after_due_date"]
    prairielearn = to_prairielearn(report)
    assert prairielearn["score"] == pytest.approx(4 / 6)
    assert prairielearn["tests"][1]["message"] == "0 of 2 checks passed"
    assert prairielearn["tests"][2]["output"] == ""
    text = format_report(report, "text")
    assert "PART     2/3   3. Gradient check" in text
    assert "--seed %d" % report.seed in text


# -- running the student's code as another user ---------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


def nobody_can_run_numpy():
    """Whether this test can drop to 'nobody' with a Python that user can
    run (the virtual environment's may sit in root's home) and NumPy."""
    if os.getuid() != 0 or not os.path.exists(SYSTEM_PYTHON):
        return False
    code = ("import sys; sys.path.append(%r); import numpy"
            % os.path.dirname(os.path.dirname(np.__file__)))
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-I", "-c", code], user="nobody",
            group="nogroup" if _group_exists("nogroup") else None,
            extra_groups=[], capture_output=True, timeout=60, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _group_exists(name):
    import grp
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


@pytest.mark.skipif(not os.path.exists(SOLUTION), reason="no solutions")
@pytest.mark.skipif(not nobody_can_run_numpy(),
                    reason="needs root and a Python that 'nobody' can run")
def test_as_nobody_the_code_cannot_write_or_signal_past_the_guard(
        tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    os.chmod(tmp_path, 0o755)                 # as on /autograder: readable
    target = results / "results.json"
    hostile = open(SOLUTION).read().replace(
        "def conv2d_forward(", "def correct_forward(") + '''

def conv2d_forward(x, w, b, stride=1, padding=0):
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.open(%r.encode(), 0o1101, 0o644)
    write_errno = ctypes.get_errno()
    killed = libc.kill(os.getppid(), 0)
    print("uid", os.getuid(), "open", fd, write_errno, "kill", killed,
          ctypes.get_errno())
    return correct_forward(x, w, b, stride, padding)
''' % str(target)
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "conv.py").write_text(hostile)
    report = grade("A1", str(submission), user="nobody",
                   python=SYSTEM_PYTHON, only=["test_forward_basic"])
    assert report.score == 2, report.tests[0].output
    # EACCES (13) for the file, EPERM (1) for the signal: the kernel, not
    # the audit hook, refuses both.
    assert "uid 65534 open -1 13 kill -1 1" in report.tests[0].output
    assert not target.exists()


def test_the_child_runner_imports_nothing_from_cnnc():
    import ast
    tree = ast.parse(open(_child.__file__).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("cnnc") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("cnnc")
    done = subprocess.run(
        [sys.executable, "-I", "-c",
         "import runpy, sys; runpy.run_path(%r); "
         "print(any(m.startswith('cnnc') for m in sys.modules))"
         % _child.__file__], capture_output=True, text=True, timeout=60,
        cwd=shutil.os.path.dirname(_child.__file__))
    assert done.stdout.strip() == "False", done.stderr


# -- an assignment of one's own, objects left in the student's process ------------------

TOY_TESTS = '''
from cnnc.grading import graded


@graded(points=1, name="Counter")
def test_counter(student, check):
    counter = student.Counter(start=2)
    counter.add(3)
    check.equal("total", student.attribute(counter, "total"), 5)
    check.equal("twice", counter.twice(), 10)


@graded(points=1, partial=False)
def test_all_or_nothing(student, check):
    check.equal("one", student.one(), 1)
    check.equal("one again", student.one(), 2)


@graded(points=2)
def test_plain_assert(student):
    assert student.one() == 2, "one() should be 2 here"
'''

TOY_SUBMISSION = '''
class Counter:
    def __init__(self, start):
        self.total = start

    def add(self, n):
        self.total += n

    def twice(self):
        return 2 * self.total


def one():
    return 1
'''


def test_an_assignment_from_a_folder_with_objects_and_scoring_rules(
        tmp_path):
    from cnnc.grading import Assignment
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "assignment.json").write_text(
        '{"id": "T1", "title": "Toy", "module": "toy"}')
    (folder / "tests.py").write_text(TOY_TESTS)
    toy = Assignment.from_folder(str(folder))
    assert (toy.id, toy.files, toy.points) == ("T1", ["toy.py"], 4)
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "toy.py").write_text(TOY_SUBMISSION)
    report = grade(toy, str(submission))
    results = {t.id: t for t in report.tests}
    assert results["test_counter"].score == 1, results["test_counter"].output
    assert results["test_all_or_nothing"].score == 0      # 1 of 2 checks
    assert results["test_all_or_nothing"].status == "failed"
    plain = results["test_plain_assert"]
    assert (plain.score, plain.status) == (0, "failed")
    assert "check failed: one() should be 2 here" in plain.output


def test_an_assignment_folder_needs_graded_tests(tmp_path):
    from cnnc.grading import Assignment
    (tmp_path / "assignment.json").write_text(
        '{"id": "T2", "title": "Toy", "module": "toy"}')
    (tmp_path / "tests.py").write_text("def test_unmarked(student):\n"
                                       "    pass\n")
    with pytest.raises(ValueError, match=r"test_unmarked has no "
                       r"@graded\(points=...\) metadata"):
        Assignment.from_folder(str(tmp_path))
