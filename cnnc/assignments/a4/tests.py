"""The graded tests of assignment A4 (training).

The optimiser, dropout and clipping tests draw their inputs from ``rng``
(seeded by the grader at grading time) and compare the student's results
with the formulas of ``cnnc.optim.SGD``, :mod:`cnnc.reference` and
``cnnc.optim.clip_grad_norm_``, computed here in float64. The
training-loop test draws shapes the student's code has never seen and
keeps their labels: the student returns predictions, the grader counts
them.

The student's process may use cnnc's layers for the loop, but not the
parts of cnnc this assignment asks them to write (``forbidden_modules`` in
``assignment.json``).
"""
import numpy as np

from cnnc import reference
from cnnc.data import LECTURE_CLASSES, make_shapes
from cnnc.grading import graded
from cnnc.grading.checks import compare
from cnnc.nn import Parameter
from cnnc.optim import SGD, clip_grad_norm_


# -- SGD --------------------------------------------------------------------------

def expected_steps(w, grads, lr, momentum, weight_decay):
    """The parameter after each step of cnnc.optim.SGD (PyTorch's
    formulas), in float64."""
    param = Parameter(np.array(w, dtype=np.float64))
    optimizer = SGD([param], lr=lr, momentum=momentum,
                    weight_decay=weight_decay)
    after = []
    for dw in grads:
        param.grad = np.array(dw, dtype=np.float64)
        optimizer.step()
        after.append(param.data.copy())
    return after


def check_steps(student, check, w, grads, lr, momentum, weight_decay):
    """Run the student's sgd_step on each gradient in turn, passing back
    their own velocity, and compare w after every step."""
    expected = expected_steps(w, grads, lr, momentum, weight_decay)
    velocity = np.zeros_like(w)
    setting = "lr=%g, momentum=%g, weight_decay=%g" % (lr, momentum,
                                                       weight_decay)
    for step, (dw, want) in enumerate(zip(grads, expected), 1):
        w, velocity = check.unpack(
            student.sgd_step(w, dw, velocity, lr, momentum=momentum,
                             weight_decay=weight_decay),
            ("w", "velocity"), "sgd_step")
        if not check.close("w", w, want, context="step %d, %s" % (step,
                                                                  setting),
                           hint="w keeps its shape"):
            # Later steps start from a wrong w: say so once and stop.
            for later in range(step + 1, len(grads) + 1):
                check.that(False, "not checked: step %d starts from the "
                           "wrong w of step %d" % (later, step),
                           context="step %d, %s" % (later, setting))
            return


def draw_parameter(rng, steps):
    w = rng.standard_normal((3, 4))
    grads = [rng.standard_normal(w.shape) for _ in range(steps)]
    return w, grads


@graded(points=1, name="SGD: a plain step")
def test_sgd_plain(student, rng, check):
    """w - lr * dw, without momentum or weight decay, for two
    parameters."""
    for _ in range(2):
        w, grads = draw_parameter(rng, 1)
        lr = round(float(rng.uniform(0.01, 0.5)), 3)
        check_steps(student, check, w, grads, lr, 0.0, 0.0)


@graded(points=3, name="SGD with momentum")
def test_sgd_momentum(student, rng, check):
    """Four steps in a row with momentum in [0.5, 0.95]: the velocity
    must carry the earlier gradients."""
    w, grads = draw_parameter(rng, 4)
    lr = round(float(rng.uniform(0.01, 0.2)), 3)
    momentum = round(float(rng.uniform(0.5, 0.95)), 2)
    check_steps(student, check, w, grads, lr, momentum, 0.0)


@graded(points=2, name="SGD with L2 regularisation (weight decay)")
def test_sgd_weight_decay(student, rng, check):
    """One step with weight decay and no momentum, then three with
    both."""
    weight_decay = round(float(rng.uniform(0.05, 0.5)), 3)
    w, grads = draw_parameter(rng, 1)
    check_steps(student, check, w, grads, 0.1, 0.0, weight_decay)
    w, grads = draw_parameter(rng, 3)
    check_steps(student, check, w, grads, 0.1, 0.9, weight_decay)


# -- dropout ------------------------------------------------------------------------

def as_mask(check, mask, shape, context):
    """The student's mask as a bool array, or None after recording why
    it cannot be one."""
    if mask is None or not isinstance(mask, np.ndarray):
        check.that(False, "the mask is %s, expected an ndarray of shape %s"
                   % ("None" if mask is None else type(mask).__name__,
                      shape), context=context)
        return None
    if mask.shape != tuple(shape):
        check.that(False, "the mask has shape %s but should have shape %s "
                   "(one draw per unit of x)" % (mask.shape, shape),
                   context=context)
        return None
    if not np.all((mask == 0) | (mask == 1)):
        check.that(False, "the mask holds values other than 0 and 1 (it "
                   "says which units are kept: True or 1)", context=context)
        return None
    return mask.astype(bool)


@graded(points=2, name="Dropout forward: the kept units are scaled")
def test_dropout_forward(student, rng, check):
    """out = x * mask / (1 - p) with the mask the function returns, for
    p = 0.2 and p = 0.6."""
    for p in (0.2, 0.6):
        x = rng.standard_normal((20, 30))
        context = "p=%g, x of shape %s" % (p, x.shape)
        out, mask = check.unpack(
            student.dropout_forward(x, p, int(rng.integers(2**31))),
            ("out", "mask"), "dropout_forward")
        mask = as_mask(check, mask, x.shape, context)
        if mask is not None:
            # cnnc.reference.dropout's formula, with the student's mask.
            check.close("out", out, x * mask / (1 - p),
                        context=context + ", with your mask",
                        hint="out has the shape of x")


@graded(points=2, name="Dropout mask: p is the probability of dropping")
def test_dropout_mask(student, rng, check):
    """On 10000 units the mask must keep close to a fraction 1 - p
    (within 0.03, six standard deviations) for p = 0.25 and p = 0.7; the
    same seed must give the same mask; and outside training dropout must
    do nothing."""
    x = rng.standard_normal((100, 100))
    seed = int(rng.integers(2**31))
    for p in (0.25, 0.7):
        context = "p=%g, x of shape %s" % (p, x.shape)
        _, mask = check.unpack(student.dropout_forward(x, p, seed),
                               ("out", "mask"), "dropout_forward")
        mask = as_mask(check, mask, x.shape, context)
        if mask is None:
            continue
        kept = float(mask.mean())
        check.that(abs(kept - (1 - p)) <= 0.03,
                   "the mask keeps %.1f%% of the units; expected about "
                   "%.0f%%, 1 - p. (p is the probability of dropping a "
                   "unit; the lecture's keep probability is 1 - p.)"
                   % (100 * kept, 100 * (1 - p)),
                   "the mask keeps %.1f%% of the units (1 - p = %.0f%%)"
                   % (100 * kept, 100 * (1 - p)), context=context)
    context = "p=0.5, twice with seed %d" % seed
    masks = [check.unpack(student.dropout_forward(x, 0.5, seed),
                          ("out", "mask"), "dropout_forward")[1]
             for _ in range(2)]
    masks = [as_mask(check, m, x.shape, context) for m in masks]
    if all(m is not None for m in masks):
        check.that(np.array_equal(*masks),
                   "two calls with the same seed gave different masks: draw "
                   "them from np.random.default_rng(seed)",
                   "the same seed gives the same mask", context=context)
    out, _ = check.unpack(
        student.dropout_forward(x, 0.5, seed, training=False),
        ("out", "mask"), "dropout_forward")
    check.close("out", out, x, context="training=False: dropout does nothing",
                hint="out has the shape of x")


@graded(points=2, name="Dropout backward")
def test_dropout_backward(student, rng, check):
    """dx = dout * mask / (1 - p) for a given mask, p = 0.3 and 0.5."""
    for p in (0.3, 0.5):
        dout = rng.standard_normal((6, 7))
        mask = rng.random(dout.shape) >= p
        check.close("dx", student.dropout_backward(dout, mask, p),
                    reference.dropout_backward(dout, mask, p),
                    context="p=%g, dout of shape %s" % (p, dout.shape),
                    hint="dx has the shape of dout")


# -- gradient clipping ------------------------------------------------------------

# Shapes of the gradients of three parameters.
CLIP_SHAPES = [(4, 3), (3,), (2, 2, 2)]
# cnnc.optim.clip_grad_norm_ divides by total_norm + 1e-6, as PyTorch
# does; this tolerance accepts that form as well as the exact one.
CLIP_RTOL = 1e-5


def expected_clip(grads, max_norm):
    """cnnc.optim.clip_grad_norm_ on copies of the gradients."""
    params = []
    for g in grads:
        param = Parameter(np.zeros_like(g))
        param.grad = g.copy()
        params.append(param)
    total = clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total


def check_clipped(check, clipped, expected, context):
    """One sub-check for the whole list of clipped gradients."""
    if not isinstance(clipped, (list, tuple)) or len(clipped) != len(
            expected):
        return check.that(False, "clipped must be a list of %d arrays, one "
                          "per gradient, got %s" % (
                              len(expected), "%d values" % len(clipped)
                              if isinstance(clipped, (list, tuple))
                              else type(clipped).__name__), context=context)
    for i, (given, want) in enumerate(zip(clipped, expected)):
        passed, message = compare("clipped[%d]" % i, given, want,
                                  rtol=CLIP_RTOL, hint="clipped[%d] has the "
                                  "shape of grads[%d]" % (i, i))
        if not passed:
            return check.record(False, message, context)
    return check.record(True, "clipped matches, all %d arrays"
                        % len(expected), context)


@graded(points=3, name="Gradient clipping by the global norm")
def test_clip_grad_norm(student, rng, check):
    """Three cases: gradients whose norm is above max_norm (all scaled by
    max_norm / total_norm), below it (unchanged), and above it with one
    array much larger than the others."""
    grads = [[rng.standard_normal(s) for s in CLIP_SHAPES] for _ in range(3)]
    grads[2][0] *= 20
    totals = [float(np.sqrt(sum(np.sum(g ** 2) for g in case)))
              for case in grads]
    cases = [("norm above max_norm", grads[0],
              round(totals[0] * rng.uniform(0.3, 0.6), 3)),
             ("norm below max_norm", grads[1],
              round(totals[1] * rng.uniform(1.5, 3.0), 3)),
             ("one array 20x larger", grads[2], 1.0)]
    for (label, case, max_norm), total in zip(cases, totals):
        context = "%s: max_norm=%g, total norm %.4g" % (label, max_norm,
                                                        total)
        expected, expected_total = expected_clip(case, max_norm)
        clipped, total_norm = check.unpack(
            student.clip_grad_norm([g.copy() for g in case], max_norm),
            ("clipped", "total_norm"), "clip_grad_norm")
        check_clipped(check, clipped, expected, context)
        check.close("total_norm", total_norm, expected_total,
                    rtol=CLIP_RTOL, context=context)


# -- the training loop ------------------------------------------------------------

N_TRAIN, N_TEST = 1000, 400
TARGET_ACCURACY = 0.90


@graded(points=6, name="Training loop: 90% of new shapes right",
        partial=False, timeout=60)
def test_training_loop(student, rng, check):
    """train_and_predict on 1000 easy shapes (square, triangle, circle,
    diamond); its predictions of 400 new shapes must be 90% right."""
    x_train, y_train = make_shapes(N_TRAIN, difficulty="easy", rng=rng)
    x_test, y_test = make_shapes(N_TEST, difficulty="easy", rng=rng)
    predicted = student.train_and_predict(x_train, y_train, x_test,
                                          int(rng.integers(2**31)))
    problem = None
    if not isinstance(predicted, np.ndarray) or predicted.shape != (N_TEST,):
        problem = ("train_and_predict returned %s; expected an ndarray of "
                   "shape (%d,), one class per test image"
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
               "(per class: %s). Check that the loss falls during training; "
               "try more epochs or another learning rate."
               % (100 * accuracy, N_TEST, 100 * TARGET_ACCURACY, per_class),
               "accuracy %.1f%% on %d new shapes (needed %.0f%%; per class: "
               "%s)" % (100 * accuracy, N_TEST, 100 * TARGET_ACCURACY,
                        per_class))
