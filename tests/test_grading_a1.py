"""Assignment A1 graded by its own tests: the instructor's solution gets
full marks, the untouched starter gets zero with clear feedback, and each
planted bug loses exactly the points of the tests about it."""
import os

import pytest

from assignment_helpers import (BEGIN, END, in_function, needs_solution,
                                outside_regions, read, solution_path)
from assignment_helpers import submit as _submit
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import grade

SOLUTION = solution_path("A1", "conv.py")
pytestmark = needs_solution("A1", "conv.py")

POINTS = {"test_output_size": 2, "test_forward_basic": 2,
          "test_forward_padding": 2, "test_forward_stride": 2,
          "test_forward_general": 2, "test_backward_dx": 3,
          "test_backward_dw": 3, "test_backward_db": 1,
          "test_gradient_check": 3}


def solution_source():
    return read(SOLUTION)


def submit(folder, source):
    return _submit(folder, "conv.py", source)



def test_assignment_metadata():
    a1 = assignments.get("A1")
    assert a1.points == sum(POINTS.values()) == 20
    assert [t.__name__ for t in a1.tests] == list(POINTS)
    assert {t.__name__: t.grading.points for t in a1.tests} == POINTS
    visibility = {t.__name__: t.grading.visibility for t in a1.tests}
    assert visibility["test_forward_general"] == "hidden"
    assert visibility["test_gradient_check"] == "after_due_date"


def test_solution_differs_from_the_starter_only_in_the_marked_regions():
    starter = open(os.path.join(assignments.get("A1").starter_folder,
                                "conv.py")).read()


    # Five regions, and the pair that the module docstring shows.
    assert starter.count(BEGIN) == starter.count(END) == 6
    assert outside_regions(starter) == outside_regions(solution_source())


def test_the_solution_scores_full_marks(tmp_path):
    report = grade("A1", submit(tmp_path / "s", solution_source()))
    assert report.score == report.max_score == 20, report.tests
    assert all(t.status == "passed" for t in report.tests)
    assert report.warnings == []


def test_the_untouched_starter_scores_zero_with_clear_feedback(tmp_path,
                                                                capsys):
    # As a new user would: start the assignment, edit nothing, grade.
    folder = str(tmp_path / "a1")
    assert main(["assignments", "start", "A1", folder]) == 0
    assert main(["grade", "A1", folder]) == 0
    text = capsys.readouterr().out
    assert "score: 0 / 20" in text
    assert text.count("NotImplementedError") >= 6
    assert "dx is None: did the function return its result? (expected an " \
        "ndarray of shape" in text
    assert 'File "conv.py", line' in text


def test_each_grading_draws_new_inputs(tmp_path):
    folder = submit(tmp_path / "s", solution_source())
    first = grade("A1", folder, only=["test_forward_basic"])
    second = grade("A1", folder, only=["test_forward_basic"])
    assert first.seed != second.seed
    assert first.tests[0].output != second.tests[0].output
    again = grade("A1", folder, seed=first.seed, only=["test_forward_basic"])
    assert again.tests[0].output == first.tests[0].output


# Each planted bug: one change to the solution, the score of every test it
# should cost points in (the others must keep full marks), and words the
# feedback must contain. The fractions follow from the cases each test
# draws (see cnnc/assignments/a1/tests.py): a bug about padding shows only
# where padding > 0, a bug about the stride only where stride > 1, ...
PLANTED_BUGS = {
    "output size counts the padding once (off by one pixel a side)": (
        ("conv_output_size", "in_size + 2 * padding - kernel_size",
         "in_size + padding - kernel_size"),
        # 3 of the 8 sizes have no padding or round down the same way;
        # 2 of the 4 general cases have no padding; the gradient check
        # needs the forward's shape.
        {"test_output_size": 0.75, "test_forward_padding": 0,
         "test_forward_general": 1.0, "test_gradient_check": 0},
        ["conv_output_size(56, 3, stride=1, padding=1): expected 56, "
         "given 55", "out has shape", "P = (H + 2*padding - R) // stride + 1",
         "the gradient check needs shape"]),
    "forward window ignores the stride": (
        ("conv2d_forward", "top, left = p * stride, q * stride",
         "top, left = p, q"),
        # Only the 1x1 stride-1 general case survives; db's check does not
        # depend on where the windows are.
        {"test_forward_stride": 0, "test_forward_general": 0.5,
         "test_gradient_check": 1.0},
        ["out is wrong", "worst element out["]),
    "backward windows ignore the stride": (
        ("conv2d_backward", "top, left = p * stride, q * stride",
         "top, left = p, q"),
        {"test_backward_dx": 1.5, "test_backward_dw": 1.5,
         "test_gradient_check": 1.0},
        ["dx is wrong", "dw is wrong", "central differences"]),
    "forward flips the filter (convolution, not correlation)": (
        ("conv2d_forward", "np.tensordot(window, w, axes",
         "np.tensordot(window, w[:, :, ::-1, ::-1], axes"),
        # A 1x1 filter is its own flip.
        {"test_forward_basic": 0, "test_forward_padding": 0,
         "test_forward_stride": 0, "test_forward_general": 0.5,
         "test_gradient_check": 1.0},
        ["out is wrong"]),
    "backward sends dx through the transposed filter": (
        ("conv2d_backward", "dout[:, :, p, q], w, axes=([1], [0]))",
         "dout[:, :, p, q], w.transpose(0, 1, 3, 2), axes=([1], [0]))"),
        # The backward tests use square filters (wrong values); the
        # gradient check's 3x2 filter makes the shapes clash (an error).
        {"test_backward_dx": 0, "test_gradient_check": 0},
        ["dx is wrong", "raised ValueError"]),
    "missing bias gradient": (
        ("conv2d_backward", "db = dout.sum(axis=(0, 2, 3))",
         "db = np.zeros(K)"),
        {"test_backward_db": 0, "test_gradient_check": 2.0},
        ["db is wrong", "every element of db is 0"]),
    "filter gradient from the first image only": (
        ("conv2d_backward",
         "dw += np.tensordot(dout[:, :, p, q], window, axes=([0], [0]))",
         "dw += np.tensordot(dout[:1, :, p, q], window[:1], "
         "axes=([0], [0]))"),
        {"test_backward_dw": 0, "test_gradient_check": 2.0},
        ["dw is wrong"]),
    "padding left on dx": (
        ("conv2d_backward",
         "dx = dx_pad[:, :, padding:padding + H, padding:padding + W]",
         "dx = dx_pad"),
        {"test_backward_dx": 1.5, "test_gradient_check": 2.0},
        ["dx has shape", "the gradient that lands on the padding is dropped"]),
}


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_a_planted_bug_loses_exactly_the_points_of_its_tests(bug, tmp_path):
    (function, old, new), expected, words = PLANTED_BUGS[bug]
    source = in_function(solution_source(), function, old, new)
    report = grade("A1", submit(tmp_path / "bug", source))
    scores = {t.id: t.score for t in report.tests}
    wanted = dict(POINTS, **expected)
    assert scores == pytest.approx(wanted), "\n".join(
        "%s: %s expected %s\n%s" % (t.id, t.score, wanted[t.id], t.output)
        for t in report.tests if t.score != pytest.approx(wanted[t.id]))
    feedback = "\n".join(t.output for t in report.tests if t.id in expected)
    for phrase in words:
        assert phrase in feedback, feedback
