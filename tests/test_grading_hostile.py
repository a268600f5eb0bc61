"""Hostile submissions are contained and scored by what they compute.

Each submission is the instructor's A1 solution with one function
replaced by the hostile code (or hostile code added at import), so every
test that does not call it must keep its full points: one test crashing,
hanging or cheating costs that test only.
"""
import json
import os
import re
import signal
import time

import numpy as np
import pytest

import cnnc
from cnnc.cli import main
from cnnc.grading import grade

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(REPO, "assignments_solutions", "A1", "conv.py")
pytestmark = [
    pytest.mark.skipif(not os.path.exists(SOLUTION),
                       reason="the instructor solutions are not in this copy"),
    pytest.mark.skipif(not os.path.isdir("/proc"),
                       reason="the containment tests read /proc (Linux)"),
]

POINTS = {"test_output_size": 2, "test_forward_basic": 2,
          "test_forward_padding": 2, "test_forward_stride": 2,
          "test_forward_general": 2, "test_backward_dx": 3,
          "test_backward_dw": 3, "test_backward_db": 1,
          "test_gradient_check": 3}
# The tests that call each function (the gradient check calls both
# passes; the forward pass calls the correct conv_output_size, see
# hostile()).
CALLERS = {
    "conv_output_size": ["test_output_size"],
    "conv2d_forward": ["test_forward_basic", "test_forward_padding",
                       "test_forward_stride", "test_forward_general",
                       "test_gradient_check"],
    "conv2d_backward": ["test_backward_dx", "test_backward_dw",
                        "test_backward_db", "test_gradient_check"],
}
SIGNATURES = {
    "conv_output_size": "(in_size, kernel_size, stride=1, padding=0)",
    "conv2d_forward": "(x, w, b, stride=1, padding=0)",
    "conv2d_backward": "(dout, x, w, stride=1, padding=0)",
}


def hostile(function, body, prelude=""):
    """The solution with ``function`` renamed away and replaced by one
    whose body is ``body``; ``correct_<function>`` keeps the real one."""
    source = open(SOLUTION).read()
    source = source.replace("def %s(" % function,
                            "def correct_%s(" % function)
    if function == "conv_output_size":
        source = source.replace("= conv_output_size(",
                                "= correct_conv_output_size(")
    lines = ["", "", prelude, "",
             "def %s%s:" % (function, SIGNATURES[function])]
    lines += ["    " + line for line in body.strip("\n").splitlines()]
    return source + "\n".join(lines) + "\n"


def submit(tmp_path, source):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "conv.py").write_text(source)
    return str(folder)


def expect_lost(report, function, status=None):
    """Every test calling ``function`` scores 0 (with ``status``); every
    other test keeps its points."""
    scores = {t.id: t.score for t in report.tests}
    lost = set(CALLERS[function])
    wanted = {name: 0.0 if name in lost else points
              for name, points in POINTS.items()}
    assert scores == wanted, "\n".join(
        "%s %s\n%s" % (t.id, t.score, t.output) for t in report.tests)
    if status is not None:
        for t in report.tests:
            if t.id in lost:
                assert t.status == status, (t.id, t.status, t.output)
    return "\n".join(t.output for t in report.tests if t.id in lost)


def alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


# -- crashing, hanging, exiting -----------------------------------------------------

def test_infinite_loop_times_out_and_only_its_tests_lose(tmp_path):
    folder = submit(tmp_path, hostile("conv2d_backward", "while True:\n"
                                      "    pass"))
    start = time.monotonic()
    report = grade("A1", folder, time_limit=1.5)
    feedback = expect_lost(report, "conv2d_backward", "error")
    assert feedback.count("time limit: the test took longer than 1.5 s") == 4
    assert time.monotonic() - start < 60


def test_segfault_through_ctypes_is_a_crash_of_its_tests(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "import ctypes\nreturn ctypes.c_double.from_address(8).value"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "crashed" in feedback and "SIGSEGV" in feedback


def test_os_exit_ends_only_its_tests(tmp_path):
    folder = submit(tmp_path, hostile("conv2d_backward",
                                      "import os\nos._exit(0)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_backward", "error")
    assert "exit status 0" in feedback and "os._exit()" in feedback


def test_sys_exit_is_reported_as_raised(tmp_path):
    folder = submit(tmp_path, hostile("conv_output_size",
                                      "import sys\nsys.exit(3)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv_output_size", "error")
    assert "raised SystemExit: 3" in feedback


def test_growing_memory_stops_at_the_limit(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "hog = []\nwhile True:\n    hog.append(np.ones(1 << 23))"))
    report = grade("A1", folder, memory_limit_mb=256)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "MemoryError" in feedback


def test_flooding_the_output_stops_at_the_output_limit(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward", "while True:\n    print('x' * 100000)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    # Python ignores SIGXFSZ: the write past the limit fails instead.
    assert "File too large (the limit on what a test may print" in feedback
    assert "more output cut" in feedback


# -- trying to raise the score ---------------------------------------------------------

def test_a_forged_results_file_is_refused_and_replaced(tmp_path):
    results = tmp_path / "results" / "results.json"
    fake = json.dumps({"score": 100, "tests": []})
    folder = submit(tmp_path, hostile(
        "conv2d_backward",
        "import os\nos.makedirs(%r, exist_ok=True)\n"
        "with open(%r, 'w') as f:\n    f.write(%r)\n"
        "return correct_conv2d_backward(dout, x, w, stride, padding)"
        % (str(results.parent), str(results), fake)))
    assert main(["grade", "A1", folder, "--format", "gradescope",
                 "--output", str(results)]) == 0
    data = json.loads(results.read_text())
    assert data["score"] == 10
    feedback = "\n".join(t["output"] for t in data["tests"])
    assert "BLOCKED" in feedback and "outside your working folder" in feedback


def test_a_results_file_written_past_the_guard_is_overwritten(tmp_path):
    # Through the C library, the audit hook does not see the write; the
    # grader still writes the real results last.
    results = tmp_path / "results.json"
    fake = json.dumps({"score": 100, "tests": []})
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "import ctypes\nlibc = ctypes.CDLL(None)\n"
        "fd = libc.open(%r.encode(), 0o1101, 0o644)\n"
        "libc.write(fd, %r.encode(), %d)\nlibc.close(fd)\n"
        "return np.zeros((1, 1, 1, 1))" % (str(results), fake, len(fake))))
    assert main(["grade", "A1", folder, "--format", "gradescope",
                 "--output", str(results)]) == 0
    data = json.loads(results.read_text())
    assert data["score"] == 9
    assert all(t["score"] == 0 for t in data["tests"]
               if t["name"].startswith(("2.", "3.", "4.", "5.", "9.")))


def test_printing_fake_json_is_only_printed_text(tmp_path, capsys):
    fake = json.dumps({"score": 100, "tests": [{"name": "all", "score": 100,
                                                "max_score": 100}]})
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "print(%r)\nreturn np.zeros((x.shape[0], w.shape[0], 1, 1))" % fake,
        prelude="print(%r)" % fake))
    assert main(["grade", "A1", folder, "--format", "gradescope"]) == 0
    data = json.loads(capsys.readouterr().out)   # all of stdout is the report
    assert data["score"] == 9
    outputs = [t["output"] for t in data["tests"]]
    assert any("your code printed:\n" + fake in o for o in outputs)


def test_importing_cnnc_reference_is_blocked_and_reported(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "from cnnc.reference import conv2d\n"
        "return conv2d(x, w, b, stride=stride, padding=padding)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "importing cnnc.reference" in feedback
    assert "BLOCKED importing cnnc.reference" in feedback
    assert any("imports cnnc.reference" in w for w in report.warnings)


def test_importing_cnnc_at_module_level_fails_every_test(tmp_path):
    source = open(SOLUTION).read().replace(
        "import numpy as np", "import numpy as np\nimport cnnc._core", 1)
    report = grade("A1", submit(tmp_path, source))
    assert report.score == 0
    assert all("could not be imported: BlockedImport" in t.output
               for t in report.tests)


def test_reading_the_reference_source_is_blocked(tmp_path):
    path = os.path.join(os.path.dirname(cnnc.__file__), "reference",
                        "conv.py")
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "namespace = {}\nexec(open(%r).read(), namespace)\n"
        "return namespace['conv2d'](x, w, b, stride=stride, padding=padding)"
        % path))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "(a file of the grader) is not allowed" in feedback


def test_patching_numpy_comparisons_changes_nothing(tmp_path):
    prelude = ("np.allclose = lambda *a, **k: True\n"
               "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
               "np.array_equal = lambda *a, **k: True\n"
               "np.testing.assert_allclose = lambda *a, **k: None")
    folder = submit(tmp_path, hostile(
        "conv2d_forward",
        "N, K = x.shape[0], w.shape[0]\n"
        "P = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1\n"
        "Q = (x.shape[3] + 2 * padding - w.shape[3]) // stride + 1\n"
        "return np.zeros((N, K, P, Q))", prelude=prelude))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward")
    assert "out is wrong" in feedback
    assert not np.allclose(0.0, 1.0)     # this process's NumPy is untouched


def test_reading_the_graders_files_is_blocked(tmp_path):
    tests_file = os.path.join(os.path.dirname(cnnc.__file__), "assignments",
                              "a1", "tests.py")
    body = """
import os
found = []
for path in ['/proc/%%d/environ' %% os.getppid(),
             '/proc/%%d/cmdline' %% os.getppid(), %r]:
    try:
        found.append(open(path, 'rb').read())
    except PermissionError:
        pass
if found:
    raise RuntimeError('read %%d of the files' %% len(found))
return correct_conv2d_backward(dout, x, w, stride, padding)
""" % tests_file
    folder = submit(tmp_path, hostile("conv2d_backward", body))
    report = grade("A1", folder)
    assert report.score == 20           # nothing was read, so nothing raised
    blocked = "\n".join(t.output for t in report.tests)
    assert "BLOCKED opening /proc/%d/environ" % os.getpid() in blocked
    assert "BLOCKED opening %s" % os.path.realpath(tests_file) in blocked


def test_signalling_the_grader_is_blocked(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward", "import os\nos.kill(os.getppid(), 0)\n"
        "return correct_conv2d_forward(x, w, b, stride, padding)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "sending a signal (os.kill) is not allowed" in feedback


def test_writing_garbage_to_the_graders_channel_fails_its_tests(tmp_path):
    body = """
import os
for fd in range(3, 64):
    try:
        if os.readlink('/proc/self/fd/%d' % fd).startswith('pipe:'):
            os.write(fd, b'\\x10' + b'\\x00' * 7 + b'garbage!' * 2)
    except OSError:
        pass
return correct_conv2d_forward(x, w, b, stride, padding)
"""
    folder = submit(tmp_path, hostile("conv2d_forward", body))
    report = grade("A1", folder, time_limit=3)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "did the code write to the grader's channel?" in feedback


def test_an_unreadable_result_is_explained(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_forward", "return np.array([object()])"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_forward", "error")
    assert "which the grader cannot read" in feedback


# -- processes left behind ---------------------------------------------------------------

def test_os_fork_is_refused(tmp_path):
    folder = submit(tmp_path, hostile(
        "conv2d_backward", "import os\nos.fork()\n"
        "return correct_conv2d_backward(dout, x, w, stride, padding)"))
    report = grade("A1", folder)
    feedback = expect_lost(report, "conv2d_backward", "error")
    assert "starting a process (os.fork) is not allowed" in feedback


def test_a_detached_child_process_is_killed_before_it_can_act(tmp_path):
    # Forked through the C library (the audit hook does not see it) and
    # moved to a session of its own (killing the process group misses
    # it): the grader, a subreaper, still finds and kills it.
    marker = tmp_path / "still-running"
    body = """
import ctypes, os, time
libc = ctypes.CDLL(None)
pid = libc.fork()
if pid == 0:
    libc.setsid()
    time.sleep(2.0)
    fd = libc.open(%r.encode(), 0o101, 0o644)
    libc._exit(0)
os.write(1, b'LINGERING %%d\\n' %% pid)
return correct_conv2d_backward(dout, x, w, stride, padding)
""" % str(marker)
    folder = submit(tmp_path, hostile("conv2d_backward", body))
    report = grade("A1", folder)
    assert report.score == 20
    pids = [int(p) for t in report.tests
            for p in re.findall(r"LINGERING (\d+)", t.output)]
    # One per call of the backward: 4 cases for dx, 4 for dw, 2 for db,
    # 1 in the gradient check.
    assert len(pids) == 11
    time.sleep(2.5)
    assert not marker.exists()
    assert not any(alive(pid) for pid in pids)
    for pid in pids:                     # not even left as a zombie of ours
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_the_grading_process_is_restored_after_grading(tmp_path):
    import ctypes
    libc = ctypes.CDLL(None)
    before = libc.prctl(3, 0, 0, 0, 0)           # PR_GET_DUMPABLE
    folder = submit(tmp_path, open(SOLUTION).read())
    grade("A1", folder, only=["test_output_size"])
    assert libc.prctl(3, 0, 0, 0, 0) == before
    subreaper = ctypes.c_int(-1)
    libc.prctl(37, ctypes.byref(subreaper), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    assert subreaper.value == 0
    assert signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL


def test_a_link_in_the_submission_is_not_followed(tmp_path):
    # The grader copies the submission; a link to a file only the grader
    # may read must not become a copy of that file.
    secret = tmp_path / "secret.txt"
    secret.write_text("the grader's secret")
    folder = submit(tmp_path, hostile(
        "conv2d_forward", "import os\n"
        "if os.path.exists('secret.txt'):\n"
        "    raise RuntimeError(open('secret.txt').read())\n"
        "return correct_conv2d_forward(x, w, b, stride, padding)"))
    os.symlink(secret, os.path.join(folder, "secret.txt"))
    report = grade("A1", folder, only=["test_forward_basic"])
    assert report.score == 2, report.tests[0].output
