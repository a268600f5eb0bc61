"""Assignment A4 graded by its own tests: the instructor's solution gets
full marks, the untouched starter gets zero with clear feedback, each
planted bug loses exactly the points of the tests about it, and the
student's process may use cnnc's layers but not the parts of cnnc that
the assignment asks the student to write."""
import os

import pytest

from assignment_helpers import (assert_feedback, assert_scores, in_function,
                                needs_solution, outside_regions, read,
                                solution_path, submit)
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import grade

FILE = "training.py"
SOLUTION = solution_path("A4", FILE)
pytestmark = needs_solution("A4", FILE)

POINTS = {"test_sgd_plain": 1, "test_sgd_momentum": 3,
          "test_sgd_weight_decay": 2, "test_dropout_forward": 2,
          "test_dropout_mask": 2, "test_dropout_backward": 2,
          "test_clip_grad_norm": 3, "test_training_loop": 6}
# Every test but the training loop, which takes a few seconds.
UNIT_TESTS = [name for name in POINTS if name != "test_training_loop"]


def test_assignment_metadata():
    a4 = assignments.get("A4")
    assert a4.points == sum(POINTS.values()) == 21
    assert [t.__name__ for t in a4.tests] == list(POINTS)
    assert {t.__name__: t.grading.points for t in a4.tests} == POINTS
    loop = a4.tests[-1].grading
    assert loop.timeout == 60 and not loop.partial
    # cnnc is allowed, except what the student writes here.
    assert "cnnc" not in a4.forbidden_modules
    for part in ("cnnc.optim", "cnnc.train", "cnnc.functional",
                 "cnnc.reference", "cnnc._core", "torch", "scipy"):
        assert part in a4.forbidden_modules


def test_solution_differs_from_the_starter_only_in_the_marked_regions():
    starter = read(os.path.join(assignments.get("A4").starter_folder, FILE))
    # Five regions, and the pair that the module docstring shows.
    assert starter.count("# ---- YOUR CODE HERE ----") == 6
    assert outside_regions(starter) == outside_regions(read(SOLUTION))


def test_the_solution_scores_full_marks(tmp_path):
    report = grade("A4", submit(tmp_path / "s", FILE, read(SOLUTION)))
    assert report.score == report.max_score == 21, report.tests
    assert all(t.status == "passed" for t in report.tests)
    assert report.warnings == []
    loop = report.result("test_training_loop")
    assert "accuracy" in loop.output and "(needed 90%" in loop.output


def test_the_untouched_starter_scores_zero_with_clear_feedback(tmp_path,
                                                                capsys):
    # As a new user would: start the assignment, edit nothing, grade.
    folder = str(tmp_path / "a4")
    assert main(["assignments", "start", "A4", folder]) == 0
    assert main(["grade", "A4", folder]) == 0
    text = capsys.readouterr().out
    assert "score: 0 / 21" in text
    assert text.count("NotImplementedError") >= 8
    for function in ("sgd_step", "dropout_forward", "clip_grad_norm",
                     "train_and_predict"):
        assert "%s: fill in the marked region" % function in text
    assert 'File "training.py", line' in text


def test_a_loop_that_does_not_learn_scores_zero_with_its_accuracy(tmp_path):
    # No epoch at all: the network guesses.
    source = in_function(read(SOLUTION), "train_and_predict",
                         "epochs, batch_size = 8, 32",
                         "epochs, batch_size = 0, 32")
    report = grade("A4", submit(tmp_path / "bug", FILE, source),
                   only=["test_training_loop"])
    loop = report.tests[0]
    assert loop.score == 0 and loop.status == "failed", loop.output
    assert "ok   400 predictions" in loop.output
    assert "below the 90% needed (per class: square" in loop.output


# Each planted bug: one change to the solution, the score of every test it
# should cost points in (the others must keep full marks), and words the
# feedback must contain. The fractions follow from the cases each test
# draws (see cnnc/assignments/a4/tests.py). The training loop is left out
# here (it takes seconds; the loop test above shows how it fails).
PLANTED_BUGS = {
    "momentum the wrong way round (it scales the gradient, not the "
    "velocity)": (
        ("sgd_step", "velocity = momentum * velocity + d",
         "velocity = velocity + momentum * d"),
        # With momentum 0 the velocity never leaves 0: no step moves.
        {"test_sgd_plain": 0, "test_sgd_momentum": 0,
         "test_sgd_weight_decay": 0},
        ["w is wrong", "not checked: step 2 starts from the wrong w"]),
    "velocity averaged instead of summed": (
        ("sgd_step", "velocity = momentum * velocity + d",
         "velocity = momentum * velocity + (1 - momentum) * d"),
        # Right without momentum: only the steps with momentum lose.
        {"test_sgd_momentum": 0, "test_sgd_weight_decay": 0.5},
        ["step 1, lr=0.1, momentum=0.9", "w is wrong"]),
    "L2 not applied": (
        ("sgd_step", "d = dw + weight_decay * w", "d = dw"),
        {"test_sgd_weight_decay": 0},
        ["w is wrong"]),
    "L2 applied with the wrong sign": (
        ("sgd_step", "d = dw + weight_decay * w", "d = dw - weight_decay * w"),
        {"test_sgd_weight_decay": 0},
        ["w is wrong"]),
    "dropout does not scale the kept units by 1 / (1 - p)": (
        ("dropout_forward", "out = x * mask / (1 - p)", "out = x * mask"),
        {"test_dropout_forward": 0},
        ["out is wrong", "with your mask"]),
    "dropout keeps with probability p (keep prob used as drop prob)": (
        ("dropout_forward", "mask = rng.random(x.shape) >= p",
         "mask = rng.random(x.shape) < p"),
        # Its out is right for its mask; the fractions kept are not.
        {"test_dropout_mask": 1.0},
        ["expected about 75%, 1 - p", "p is the probability of dropping"]),
    "dropout backward does not scale": (
        ("dropout_backward", "dout * mask / (1 - p)", "dout * mask"),
        {"test_dropout_backward": 0},
        ["dx is wrong"]),
    "clipping per element instead of by the global norm": (
        ("clip_grad_norm", "[g * scale for g in grads]",
         "[np.clip(g, -max_norm, max_norm) for g in grads]"),
        # The norm is right, and gradients below max_norm are left alone.
        {"test_clip_grad_norm": 2.0},
        ["clipped[0] is wrong", "norm above max_norm"]),
    "clipping each array by its own norm": (
        ("clip_grad_norm", "[g * scale for g in grads]",
         "[g * min(1.0, max_norm / np.sqrt(np.sum(g ** 2))) for g in grads]"),
        {"test_clip_grad_norm": 2.0},
        ["is wrong", "one array 20x larger"]),
}


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_a_planted_bug_loses_exactly_the_points_of_its_tests(bug, tmp_path):
    (function, old, new), expected, words = PLANTED_BUGS[bug]
    source = in_function(read(SOLUTION), function, old, new)
    report = grade("A4", submit(tmp_path / "bug", FILE, source),
                   only=UNIT_TESTS)
    assert_scores(report, POINTS, expected)
    assert_feedback(report, expected, words)


# -- what of cnnc the student's process may use ---------------------------------

def submission_using(tmp_path, function, body, prelude=""):
    """The solution with the body of ``function``'s marked region replaced
    by ``body`` (and ``prelude`` added after the imports)."""
    source = read(SOLUTION)
    if prelude:
        source = source.replace("\n\n\n# -- the optimiser", "\n" + prelude
                                + "\n\n\n# -- the optimiser", 1)
    start = source.index("\ndef %s(" % function)
    begin = source.index("# ---- YOUR CODE HERE ----\n", start) + len(
        "# ---- YOUR CODE HERE ----\n")
    end = source.index("    # ---- END OF YOUR CODE ----", begin)
    return submit(tmp_path / "s", FILE, source[:begin] + body + source[end:])


def test_cnnc_optim_cannot_answer_the_sgd_tests(tmp_path):
    body = ("    from cnnc.optim import SGD\n"
            "    raise AssertionError('not reached')\n")
    folder = submission_using(tmp_path, "sgd_step", body)
    report = grade("A4", folder, only=["test_sgd_plain", "test_clip_grad_norm"])
    sgd, clip = report.tests
    assert sgd.score == 0 and sgd.status == "error"
    assert "BlockedImport: [cnnc grader] using cnnc.optim.SGD is not " \
        "allowed while grading" in sgd.output
    assert "BLOCKED using cnnc.optim.SGD" in sgd.output
    assert clip.score == 3
    # The scan of the source says so before anything runs.
    assert any("imports cnnc.optim" in w for w in report.warnings)


@pytest.mark.parametrize("module, attribute", [
    ("cnnc.optim", "clip_grad_norm_"), ("cnnc.train", "fit"),
    ("cnnc.reference", "dropout_backward"), ("cnnc.functional", "dropout"),
    ("cnnc._core", "dropout_backward_double")])
def test_cnnc_parts_reached_as_attributes_are_refused(tmp_path, module,
                                                      attribute):
    # import cnnc works (it is loaded for the layers); its forbidden
    # parts are stand-ins, however they are reached.
    body = ("    import cnnc\n"
            "    %s.%s\n"
            "    return dout * mask / (1 - p)\n" % (module, attribute))
    folder = submission_using(tmp_path, "dropout_backward", body,
                              prelude="import cnnc")
    report = grade("A4", folder, only=["test_dropout_backward"])
    result = report.tests[0]
    assert result.score == 0 and result.status == "error", result.output
    assert "using %s.%s is not allowed while grading" % (
        module, attribute) in result.output


@pytest.mark.parametrize("what, code, refused", [
    ("the grader's package", "import cnnc.grading",
     "importing cnnc.grading"),
    ("a reference module not yet loaded", "import cnnc.optim.nothing_here",
     "importing cnnc.optim.nothing_here"),
    ("cnnc's sources", "open(cnnc.nn.conv.__file__).read()",
     "(a file of the grader)"),
])
def test_the_rest_of_cnnc_stays_closed(tmp_path, what, code, refused):
    body = ("    import cnnc\n"
            "    %s\n"
            "    return dout * mask / (1 - p)\n" % code)
    folder = submission_using(tmp_path, "dropout_backward", body)
    report = grade("A4", folder, only=["test_dropout_backward"])
    result = report.tests[0]
    assert result.score == 0, (what, result.output)
    assert refused in result.output, result.output


def test_the_layers_work_in_the_students_process(tmp_path):
    # A layer runs in the student's process (cnnc and its kernels were
    # loaded before the guard) though cnnc.functional is a stand-in.
    body = ("    from cnnc.nn import Linear\n"
            "    layer = Linear(dout.shape[1], 2, rng=0)\n"
            "    layer(dout.astype(np.float32))\n"
            "    return dout * mask / (1 - p)\n")
    folder = submission_using(tmp_path, "dropout_backward", body)
    report = grade("A4", folder, only=["test_dropout_backward"])
    assert report.score == 2, report.tests[0].output
    assert report.warnings == []
