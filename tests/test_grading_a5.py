"""Assignment A5 graded by its own tests: the instructor's solution gets
full marks, the untouched starter gets zero with clear feedback, each
planted bug loses exactly the points of the tests about it, and the
student's process may use the pre-trained encoder but not cnnc's own
augmentations."""
import os

import pytest

from assignment_helpers import (assert_feedback, assert_scores, in_function,
                                needs_solution, outside_regions, read,
                                solution_path, submit)
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading import grade

FILE = "transfer.py"
SOLUTION = solution_path("A5", FILE)
pytestmark = needs_solution("A5", FILE)

POINTS = {"test_flip_horizontal": 1, "test_flip_vertical": 1,
          "test_shift": 3, "test_rotate_quarter_turns": 2, "test_rotate": 3,
          "test_fine_tuning": 6}
# Every test but the fine-tuning, which takes a few seconds.
AUGMENTATION_TESTS = [name for name in POINTS if name != "test_fine_tuning"]


def test_assignment_metadata():
    a5 = assignments.get("A5")
    assert a5.points == sum(POINTS.values()) == 16
    assert [t.__name__ for t in a5.tests] == list(POINTS)
    assert {t.__name__: t.grading.points for t in a5.tests} == POINTS
    tuning = a5.tests[-1].grading
    assert tuning.timeout == 60 and not tuning.partial
    assert "cnnc" not in a5.forbidden_modules
    for part in ("cnnc.data.transforms", "cnnc.data.warp", "cnnc.functional",
                 "cnnc.reference", "cnnc._core", "torch", "scipy"):
        assert part in a5.forbidden_modules


def test_solution_differs_from_the_starter_only_in_the_marked_regions():
    starter = read(os.path.join(assignments.get("A5").starter_folder, FILE))
    # Five regions, and the pair that the module docstring shows.
    assert starter.count("# ---- YOUR CODE HERE ----") == 6
    assert outside_regions(starter) == outside_regions(read(SOLUTION))


def test_the_solution_scores_full_marks(tmp_path):
    report = grade("A5", submit(tmp_path / "s", FILE, read(SOLUTION)))
    assert report.score == report.max_score == 16, report.tests
    assert all(t.status == "passed" for t in report.tests)
    assert report.warnings == []
    tuning = report.result("test_fine_tuning")
    assert "(needed 80%; per class: square" in tuning.output


def test_the_untouched_starter_scores_zero_with_clear_feedback(tmp_path,
                                                                capsys):
    # As a new user would: start the assignment, edit nothing, grade.
    folder = str(tmp_path / "a5")
    assert main(["assignments", "start", "A5", folder]) == 0
    assert main(["grade", "A5", folder]) == 0
    text = capsys.readouterr().out
    assert "score: 0 / 16" in text
    assert text.count("NotImplementedError") >= 6
    for function in ("flip_horizontal", "shift", "rotate",
                     "fine_tune_and_predict"):
        assert "%s: fill in the marked region" % function in text
    assert 'File "transfer.py", line' in text


def test_fine_tuning_that_does_not_train_scores_zero_with_its_accuracy(
        tmp_path):
    # No epoch: the new classifier keeps its random weights.
    source = in_function(read(SOLUTION), "fine_tune_and_predict",
                         "epochs, batch_size = 40, 16",
                         "epochs, batch_size = 0, 16")
    report = grade("A5", submit(tmp_path / "bug", FILE, source),
                   only=["test_fine_tuning"])
    tuning = report.tests[0]
    assert tuning.score == 0 and tuning.status == "failed", tuning.output
    assert "below the 80% needed (per class: square" in tuning.output
    assert "Is the encoder frozen and in evaluation mode?" in tuning.output


# Each planted bug: one change to the solution, the score of every test it
# should cost points in (the others must keep full marks), and words the
# feedback must contain. The fractions follow from the cases each test
# draws (see cnnc/assignments/a5/tests.py). The fine-tuning is left out
# here (it takes seconds; the test above shows how it fails).
PLANTED_BUGS = {
    "horizontal flip on the wrong axis": (
        ("flip_horizontal", "x[:, :, :, ::-1]", "x[:, :, ::-1, :]"),
        {"test_flip_horizontal": 0},
        ["out is wrong", "worst element out["]),
    "vertical flip on the wrong axis": (
        ("flip_vertical", "x[:, :, ::-1, :]", "x[:, :, :, ::-1]"),
        {"test_flip_vertical": 0},
        ["out is wrong"]),
    "shift with wrap-around instead of zero fill": (
        ("shift", "    out = np.zeros_like(x)\n",
         "    return np.roll(x, (dy, dx), axis=(2, 3))\n"),
        # Every case moves the image; a shift past the edge shows it most.
        {"test_shift": 0},
        ["out is wrong", "dx=", "given"]),
    "rotation in the wrong direction": (
        ("rotate", "radians = np.deg2rad(degrees)",
         "radians = np.deg2rad(-degrees)"),
        {"test_rotate_quarter_turns": 0, "test_rotate": 0},
        ["degrees=90", "degrees=-90", "out is wrong"]),
    "rotation about the top-left corner instead of the centre": (
        ("rotate", "row_c, col_c = (H - 1) / 2, (W - 1) / 2",
         "row_c, col_c = 0.0, 0.0"),
        {"test_rotate_quarter_turns": 0, "test_rotate": 0},
        ["out is wrong"]),
    "rotation by nearest neighbour instead of bilinear": (
        ("rotate", "fr, fc = row_in - r0, col_in - c0",
         "fr, fc = np.round(row_in - r0), np.round(col_in - c0)"),
        # Quarter turns of a square image move pixels onto pixels; the
        # image that is not square, and other angles, fall between them.
        {"test_rotate_quarter_turns": 2 * 2 / 3, "test_rotate": 0},
        ["out is wrong"]),
}


@pytest.mark.parametrize("bug", list(PLANTED_BUGS))
def test_a_planted_bug_loses_exactly_the_points_of_its_tests(bug, tmp_path):
    (function, old, new), expected, words = PLANTED_BUGS[bug]
    source = in_function(read(SOLUTION), function, old, new)
    report = grade("A5", submit(tmp_path / "bug", FILE, source),
                   only=AUGMENTATION_TESTS)
    assert_scores(report, POINTS, expected)
    assert_feedback(report, expected, words)


# -- what of cnnc the student's process may use ---------------------------------

def with_region(function, body):
    """The solution with the marked region of ``function`` replaced."""
    source = read(SOLUTION)
    start = source.index("\ndef %s(" % function)
    begin = source.index("# ---- YOUR CODE HERE ----\n", start) + len(
        "# ---- YOUR CODE HERE ----\n")
    end = source.index("    # ---- END OF YOUR CODE ----", begin)
    return source[:begin] + body + source[end:]


@pytest.mark.parametrize("body, refused", [
    ("    from cnnc.data.transforms import RandomHorizontalFlip\n"
     "    return RandomHorizontalFlip(p=1.0)(x)\n",
     "using cnnc.data.transforms.RandomHorizontalFlip is not allowed"),
    ("    from cnnc.data import transforms\n"
     "    return transforms.RandomHorizontalFlip(p=1.0)(x)\n",
     "using cnnc.data.transforms.RandomHorizontalFlip is not allowed"),
    ("    import cnnc.data.warp as warp\n"
     "    return warp.warp_affine_reference(x, None)\n",
     "using cnnc.data.warp.warp_affine_reference is not allowed"),
    ("    import cnnc.models.nets\n"
     "    return open(cnnc.models.nets.__file__).read()\n",
     "(a file of the grader)"),
])
def test_cnnc_augmentations_cannot_answer(tmp_path, body, refused):
    folder = submit(tmp_path / "s", FILE, with_region("flip_horizontal",
                                                      body))
    report = grade("A5", folder, only=["test_flip_horizontal"])
    result = report.tests[0]
    assert result.score == 0 and result.status == "error", result.output
    assert refused in result.output, result.output
