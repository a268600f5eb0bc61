"""The graded tests of assignment A5 (transfer learning and augmentation).

The augmentation tests draw images from ``rng`` (seeded by the grader at
grading time) and compare the student's flips, shifts and rotations with
what :mod:`cnnc.data.transforms` and :mod:`cnnc.data.warp` (cnnc's plain
NumPy warp) compute here, in float64. The fine-tuning test draws shapes
the student's code has never seen and keeps their labels: the student
returns predictions, the grader counts them.

The student's process may use cnnc's networks and optimisers, but not
the parts of cnnc this assignment asks them to write
(``forbidden_modules`` in ``assignment.json``).
"""
import numpy as np

from cnnc.data import LECTURE_CLASSES, make_shapes
from cnnc.data.transforms import RandomHorizontalFlip, RandomVerticalFlip
from cnnc.data.warp import affine_matrix, warp_affine_reference
from cnnc.grading import graded


def draw_images(rng, square=False, wider=None):
    """A small batch of random images, H != W unless ``square``; W is H +
    ``wider`` when given."""
    n, c = (int(v) for v in rng.integers(1, 4, size=2))
    h = int(rng.integers(5, 10))
    if wider is None:
        wider = 0 if square else int(rng.integers(1, 4))
    return rng.standard_normal((n, c, h, h + wider))


def describe(x):
    return "x of shape %s" % (x.shape,)


# -- flips ---------------------------------------------------------------------------

@graded(points=1, name="Horizontal flip")
def test_flip_horizontal(student, rng, check):
    """flip_horizontal on two batches, compared with
    RandomHorizontalFlip(p=1)."""
    for _ in range(2):
        x = draw_images(rng)
        check.close("out", student.flip_horizontal(x),
                    RandomHorizontalFlip(p=1.0)(x), context=describe(x),
                    hint="out has the shape of x")


@graded(points=1, name="Vertical flip")
def test_flip_vertical(student, rng, check):
    """flip_vertical on two batches, compared with
    RandomVerticalFlip(p=1)."""
    for _ in range(2):
        x = draw_images(rng)
        check.close("out", student.flip_vertical(x),
                    RandomVerticalFlip(p=1.0)(x), context=describe(x),
                    hint="out has the shape of x")


# -- shift ----------------------------------------------------------------------------

def expected_shift(x, dx, dy):
    """cnnc's warp: output pixel (col, row) reads input (col - dx,
    row - dy), and 0 outside the image."""
    n, _, h, w = x.shape
    theta = np.repeat(affine_matrix(h, w, translate=(dx, dy)), n, axis=0)
    return warp_affine_reference(x, theta, mode="nearest", fill=0.0)


@graded(points=3, name="Shift with zero fill")
def test_shift(student, rng, check):
    """Shifts right and down, left and up, along one axis only, and by
    more than the image: what moves out is lost and what comes in is 0."""
    x = draw_images(rng)
    h, w = x.shape[2:]
    a, b = (int(v) for v in rng.integers(1, 3, size=2))
    cases = [(a, b), (-b, -a), (a + 1, 0), (0, -b), (-a, b + 1),
             (w + 1, 0)]
    for dx, dy in cases:
        check.close("out", student.shift(x, dx, dy),
                    expected_shift(x, dx, dy),
                    context="dx=%d, dy=%d, %s" % (dx, dy, describe(x)),
                    hint="out has the shape of x")


# -- rotation -------------------------------------------------------------------------

def expected_rotation(x, degrees):
    """cnnc's warp: bilinear, about the centre, counter-clockwise, 0
    outside the image."""
    n, _, h, w = x.shape
    theta = np.repeat(affine_matrix(h, w, angle=degrees), n, axis=0)
    return warp_affine_reference(x, theta, mode="bilinear", fill=0.0)


def check_rotation(student, check, x, degrees):
    check.close("out", student.rotate(x, degrees),
                expected_rotation(x, degrees),
                context="degrees=%g, %s" % (degrees, describe(x)),
                hint="out has the shape of x")


@graded(points=2, name="Rotation by quarter turns")
def test_rotate_quarter_turns(student, rng, check):
    """90 degrees counter-clockwise and clockwise on a square image, where
    pixels land on pixels, and 90 degrees on an image one pixel wider than
    high, where they land half-way between pixels."""
    x = draw_images(rng, square=True)
    for degrees in (90, -90):
        check_rotation(student, check, x, degrees)
    check_rotation(student, check, draw_images(rng, wider=1), 90)


@graded(points=3, name="Rotation by any angle (bilinear)")
def test_rotate(student, rng, check):
    """Three angles between 5 and 60 degrees, of either sign, on images
    that are not square: the points fall between pixels."""
    for sign in (1, -1, 1):
        degrees = sign * round(float(rng.uniform(5, 60)), 1)
        check_rotation(student, check, draw_images(rng), degrees)


# -- fine-tuning ---------------------------------------------------------------------

N_TRAIN, N_TEST = 80, 400
TARGET_ACCURACY = 0.80


@graded(points=6, name="Fine-tuning the pre-trained encoder: 80% of new "
        "shapes right from 80 labels", partial=False, timeout=60)
def test_fine_tuning(student, rng, check):
    """fine_tune_and_predict on 20 images of each lecture class (square,
    triangle, circle, diamond); its predictions of 400 new shapes must be
    80% right."""
    x_train, y_train = make_shapes(N_TRAIN, rng=rng)
    x_test, y_test = make_shapes(N_TEST, rng=rng)
    predicted = student.fine_tune_and_predict(x_train, y_train, x_test,
                                              int(rng.integers(2**31)))
    problem = None
    if not isinstance(predicted, np.ndarray) or predicted.shape != (N_TEST,):
        problem = ("fine_tune_and_predict returned %s; expected an ndarray "
                   "of shape (%d,), one class per test image"
                   % ("an ndarray of shape %s" % (predicted.shape,)
                      if isinstance(predicted, np.ndarray)
                      else type(predicted).__name__, N_TEST))
    elif predicted.dtype.kind not in "biuf" or not np.array_equal(
            predicted, np.round(predicted)):
        problem = ("the predictions must be class numbers 0..3, got values "
                   "such as %r" % (predicted.flat[0],))
    if not check.that(problem is None, problem,
                      "%d predictions, one class per test image" % N_TEST):
        return
    right = predicted.astype(np.int64) == y_test
    per_class = ", ".join("%s %.0f%%" % (name, 100 * right[y_test == k].mean())
                          for k, name in enumerate(LECTURE_CLASSES))
    accuracy = float(right.mean())
    check.that(accuracy >= TARGET_ACCURACY,
               "accuracy %.1f%% on %d new shapes, below the %.0f%% needed "
               "(per class: %s). Is the encoder frozen and in evaluation "
               "mode? Does the loss fall? Flips and shifts of the training "
               "images help." % (100 * accuracy, N_TEST,
                                 100 * TARGET_ACCURACY, per_class),
               "accuracy %.1f%% on %d new shapes (needed %.0f%%; per class: "
               "%s)" % (100 * accuracy, N_TEST, 100 * TARGET_ACCURACY,
                        per_class))
