"""Assignment A3 graded by its own tests: the instructor's solution gets
full marks, the untouched starter gets zero, and each planted bug loses
exactly the points of the tests about it."""
import os

import pytest

from assignment_helpers import (BEGIN, END, needs_solution, outside_regions,
                                read, solution_path)
from assignment_helpers import submit as _submit
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import grade

SOLUTION = solution_path("A3", "batchnorm.py")
pytestmark = needs_solution("A3", "batchnorm.py")

POINTS = {"test_forward_training": 3, "test_running_mean": 2,
          "test_running_var": 3, "test_forward_inference": 3,
          "test_backward_dx": 4, "test_backward_dgamma_dbeta": 2,
          "test_gradient_check": 3}


def solution_source():
    return read(SOLUTION)


def submit(folder, source):
    return _submit(folder, "batchnorm.py", source)


def plant(source, changes):
    """``source`` with each (function, old, new) change made inside that
    function only."""
    for function, old, new in changes:
        start = source.index("\ndef %s(" % function)
        end = source.find("\ndef ", start + 1)
        end = len(source) if end < 0 else end
        body = source[start:end]
        assert body.count(old) == 1, "%r is not once in %s" % (old, function)
        source = source[:start] + body.replace(old, new) + source[end:]
    return source


def test_assignment_metadata():
    a3 = assignments.get("A3")
    assert a3.points == sum(POINTS.values()) == 20
    assert {t.__name__: t.grading.points for t in a3.tests} == POINTS
    assert "A3" in [a.id for a in assignments.available()]


def test_solution_differs_from_the_starter_only_in_the_marked_regions():
    starter = open(os.path.join(assignments.get("A3").starter_folder,
                                "batchnorm.py")).read()


    # Seven regions, and the pair that the module docstring shows.
    assert starter.count(BEGIN) == starter.count(END) == 8
    assert outside_regions(starter) == outside_regions(solution_source())


def test_the_solution_scores_full_marks(tmp_path):
    report = grade("A3", submit(tmp_path / "s", solution_source()))
    assert report.score == report.max_score == 20, report.tests


def test_the_untouched_starter_scores_zero(tmp_path, capsys):
    folder = str(tmp_path / "a3")
    assert main(["assignments", "start", "A3", folder]) == 0
    assert main(["grade", "A3", folder]) == 0
    text = capsys.readouterr().out
    assert "score: 0 / 20" in text
    assert "out is None: did the function return its result?" in text
    assert "running_var is None" in text and "dgamma is None" in text


MOMENTUM_BACKWARDS = [
    ("batchnorm_forward",
     "new_running_mean = (1 - momentum) * running_mean + momentum * mean",
     "new_running_mean = momentum * running_mean + (1 - momentum) * mean"),
    ("batchnorm_forward",
     "new_running_var = ((1 - momentum) * running_var\n"
     "                           + momentum * var * M / (M - 1))",
     "new_running_var = (momentum * running_var\n"
     "                           + (1 - momentum) * var * M / (M - 1))"),
]

# Each planted bug: its changes, the score of every test it should cost
# points in (the others keep full marks), and words of the feedback.
PLANTED_BUGS = {
    "biased variance in the running average": (
        [("batchnorm_forward", "momentum * var * M / (M - 1))",
          "momentum * var)")],
        {"test_running_var": 0},
        ["running_var is wrong"]),
    "momentum the wrong way round": (
        MOMENTUM_BACKWARDS,
        {"test_running_mean": 0, "test_running_var": 0},
        ["running_mean is wrong", "running_var is wrong"]),
    "unbiased variance to normalize": (
        # The running variance then gets M / (M - 1) twice; the backward,
        # which uses the biased variance, no longer matches the forward
        # (only dbeta, a plain sum, does).
        [("batchnorm_forward",
          "var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)",
          "var = ((x - mean.reshape(shape)) ** 2).sum(axis=axes) / (M - 1)")],
        {"test_forward_training": 0, "test_running_var": 0,
         "test_gradient_check": 1.0},
        ["out is wrong", "running_var is wrong", "dx is wrong"]),
    "eps outside the square root": (
        # At inference the output is wrong but the running statistics
        # still come back unchanged: half of that test.
        [("batchnorm_forward", "np.sqrt(var.reshape(shape) + eps)",
          "(np.sqrt(var.reshape(shape)) + eps)")],
        {"test_forward_training": 0, "test_forward_inference": 1.5,
         "test_gradient_check": 1.0},
        ["out is wrong"]),
    "dx without the terms through the mean and variance": (
        [("batchnorm_backward",
          "dx = invstd / M * (M * dx_hat - dx_hat.sum(axis=axes, "
          "keepdims=True)\n"
          "                       - x_hat * (dx_hat * x_hat).sum(axis=axes, "
          "keepdims=True))",
          "dx = dx_hat * invstd")],
        {"test_backward_dx": 0, "test_gradient_check": 2.0},
        ["dx is wrong", "central differences"]),
    "dgamma from x instead of x_hat": (
        [("batchnorm_backward", "dgamma = (dout * x_hat).sum(axis=axes)",
          "dgamma = (dout * x).sum(axis=axes)")],
        {"test_backward_dgamma_dbeta": 1.0, "test_gradient_check": 2.0},
        ["dgamma is wrong"]),
}


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_a_planted_bug_loses_exactly_the_points_of_its_tests(bug, tmp_path):
    changes, expected, words = PLANTED_BUGS[bug]
    report = grade("A3", submit(tmp_path / "bug",
                                plant(solution_source(), changes)))
    scores = {t.id: t.score for t in report.tests}
    wanted = dict(POINTS, **expected)
    assert scores == pytest.approx(wanted), "\n".join(
        "%s: %s expected %s\n%s" % (t.id, t.score, wanted[t.id], t.output)
        for t in report.tests if t.score != pytest.approx(wanted[t.id]))
    feedback = "\n".join(t.output for t in report.tests if t.id in expected)
    for phrase in words:
        assert phrase in feedback, feedback
