"""Assignment A2 graded by its own tests: the instructor's solution gets
full marks, the untouched starter gets zero with clear feedback, and each
planted bug loses exactly the points of the tests about it."""
import os

import pytest

from assignment_helpers import (assert_feedback, assert_scores, in_function,
                                outside_regions, needs_solution, read,
                                solution_path, submit)
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import grade

FILE = "act_pool.py"
SOLUTION = solution_path("A2", FILE)
pytestmark = needs_solution("A2", FILE)

POINTS = {"test_relu": 2, "test_leaky_relu": 2, "test_sigmoid_forward": 1,
          "test_sigmoid_backward": 2, "test_max_pool_forward": 2,
          "test_max_pool_backward": 3, "test_avg_pool_forward": 2,
          "test_avg_pool_backward": 2, "test_pool_gradient_check": 2,
          "test_sigmoid_stack": 4, "test_relu_stack": 2}


def test_assignment_metadata():
    a2 = assignments.get("A2")
    assert a2.points == sum(POINTS.values()) == 24
    assert [t.__name__ for t in a2.tests] == list(POINTS)
    assert {t.__name__: t.grading.points for t in a2.tests} == POINTS
    visibility = {t.__name__: t.grading.visibility for t in a2.tests}
    assert visibility["test_relu_stack"] == "hidden"
    assert visibility["test_pool_gradient_check"] == "after_due_date"
    assert a2.files == [FILE] and "cnnc" in a2.forbidden_modules


def test_solution_differs_from_the_starter_only_in_the_marked_regions():
    starter = read(os.path.join(assignments.get("A2").starter_folder, FILE))
    # Eleven regions, and the pair that the module docstring shows.
    assert starter.count("# ---- YOUR CODE HERE ----") == 12
    assert outside_regions(starter) == outside_regions(read(SOLUTION))


def test_the_solution_scores_full_marks(tmp_path):
    report = grade("A2", submit(tmp_path / "s", FILE, read(SOLUTION)))
    assert report.score == report.max_score == 24, report.tests
    assert all(t.status == "passed" for t in report.tests)
    assert report.warnings == []


def test_the_untouched_starter_scores_zero_with_clear_feedback(tmp_path,
                                                                capsys):
    # As a new user would: start the assignment, edit nothing, grade.
    folder = str(tmp_path / "a2")
    assert main(["assignments", "start", "A2", folder]) == 0
    assert main(["grade", "A2", folder]) == 0
    text = capsys.readouterr().out
    assert "score: 0 / 24" in text
    assert text.count("NotImplementedError") >= 11
    for function in ("relu_forward", "max_pool_backward",
                     "stack_gradient_norms"):
        assert "%s: fill in the marked region" % function in text
    assert 'File "act_pool.py", line' in text


# Each planted bug: one change to the solution, the score of every test it
# should cost points in (the others must keep full marks), and words the
# feedback must contain. The fractions follow from the cases each test
# draws (see cnnc/assignments/a2/tests.py).
PLANTED_BUGS = {
    "ReLU gradient on the wrong side": (
        ("relu_backward", "np.where(x > 0, dout, 0.0)",
         "np.where(x < 0, dout, 0.0)"),
        # The forward half of the test passes; the ReLU stack backpropagates
        # through relu_backward.
        {"test_relu": 1.0, "test_relu_stack": 0},
        ["dx is wrong", "worst element dx[", "norms is wrong"]),
    "sigmoid derivative from the pre-activation": (
        ("sigmoid_backward", "return dout * s * (1.0 - s)",
         "return dout * x * (1.0 - x)"),
        {"test_sigmoid_backward": 0, "test_sigmoid_stack": 0},
        ["dx is wrong", "norms is wrong"]),
    "leaky ReLU gradient zero for negative inputs": (
        ("leaky_relu_backward", "negative_slope * dout", "0.0"),
        {"test_leaky_relu": 1.0},
        ["dx is wrong"]),
    "leaky ReLU forward ignores its slope argument": (
        ("leaky_relu_forward", "negative_slope * x", "0.01 * x"),
        # Only the case with a slope that is not the default.
        {"test_leaky_relu": 1.5},
        ["negative_slope=0.", "out is wrong"]),
    "max-pool gradient to every element of the window": (
        ("max_pool_backward",
         "is_max = window == window.max(axis=(2, 3), keepdims=True)",
         "is_max = np.ones_like(window)"),
        {"test_max_pool_backward": 0, "test_pool_gradient_check": 1.0},
        ["dx is wrong", "max pooling, kernel_size=3"]),
    "max-pool windows ignore the stride": (
        ("max_pool_forward", "top, left = p * stride, q * stride",
         "top, left = p, q"),
        # Stride 1 is the one case this cannot spoil. Whether the gradient
        # check's random cases catch it depends on the cases drawn (CI saw
        # a run where they did not), so its score is not compared.
        {"test_max_pool_forward": 0.5, "test_pool_gradient_check": None},
        ["out is wrong", "kernel_size=2, stride=1"]),
    "average pooling forward does not divide by the window size": (
        ("avg_pool_forward", "window.sum(axis=(2, 3)) / kernel_size ** 2",
         "window.sum(axis=(2, 3))"),
        {"test_avg_pool_forward": 0, "test_pool_gradient_check": 1.0},
        ["out is wrong", "avg pooling, kernel_size=3"]),
    "average pooling backward does not divide by the window size": (
        ("avg_pool_backward", "share = dout / kernel_size ** 2",
         "share = dout"),
        {"test_avg_pool_backward": 0, "test_pool_gradient_check": 1.0},
        ["dx is wrong"]),
    "backpropagation through the stack skips the weights": (
        ("stack_gradient_norms", "dh = dz @ weights[l].T", "dh = dz"),
        {"test_sigmoid_stack": 0, "test_relu_stack": 0},
        ["norms is wrong", "||dW_1|| / ||dW_L|| = "]),
}


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_a_planted_bug_loses_exactly_the_points_of_its_tests(bug, tmp_path):
    (function, old, new), expected, words = PLANTED_BUGS[bug]
    source = in_function(read(SOLUTION), function, old, new)
    report = grade("A2", submit(tmp_path / "bug", FILE, source))
    assert_scores(report, POINTS, expected)
    assert_feedback(report, expected, words)


def test_a_wrong_pooling_size_is_explained(tmp_path):
    # One window short: the first window is not counted.
    source = in_function(read(SOLUTION), "pool_output_size",
                         "// stride + 1", "// stride")
    report = grade("A2", submit(tmp_path / "bug", FILE, source),
                   only=["test_max_pool_forward"])
    output = report.tests[0].output
    assert report.score == 0, output
    assert "out has shape" in output
    assert "P = (H - kernel_size) // stride + 1 = " in output
