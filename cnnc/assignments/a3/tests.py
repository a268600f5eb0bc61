"""The graded tests of assignment A3 (batch normalization).

Each test draws its inputs from ``rng``, runs the student's function
through ``student`` and compares the result with
:func:`cnnc.reference.batch_norm` and
:func:`cnnc.reference.batch_norm_backward` in float64. The running
statistics have their own tests, so a wrong momentum or a biased running
variance costs those and nothing else.
"""
import numpy as np

from cnnc import reference
from cnnc.grading import (GRAD_ATOL, GRAD_RTOL, graded, numeric_gradient,
                          sample_indices)

OUTPUTS = ("out", "running_mean", "running_var")


def draw_layer(rng):
    """A batch whose channels have their own mean and spread, and a layer
    (gamma, beta, running statistics) for it."""
    N = int(rng.integers(2, 5))
    C = int(rng.integers(1, 4))
    H, W = (int(v) for v in rng.integers(2, 5, size=2))
    centre = rng.uniform(-2, 2, size=(1, C, 1, 1))
    spread = rng.uniform(0.5, 2.0, size=(1, C, 1, 1))
    x = centre + spread * rng.standard_normal((N, C, H, W))
    gamma = rng.uniform(0.5, 2.0, size=C)
    beta = rng.standard_normal(C)
    running_mean = rng.standard_normal(C)
    running_var = rng.uniform(0.5, 2.0, size=C)
    return x, gamma, beta, running_mean, running_var


def expected_forward(x, gamma, beta, running_mean, running_var, momentum,
                     eps, training):
    """(out, running_mean, running_var) from cnnc.reference."""
    mean, var = running_mean.copy(), running_var.copy()
    out = reference.batch_norm(x, mean, var, gamma, beta, training=training,
                               momentum=momentum, eps=eps)[0]
    return out, mean, var


def run_forward(student, check, layer, momentum, eps, training):
    x, gamma, beta, running_mean, running_var = layer
    given = check.unpack(
        student.batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                  momentum=momentum, eps=eps,
                                  training=training),
        OUTPUTS, "batchnorm_forward")
    expected = expected_forward(x, gamma, beta, running_mean, running_var,
                                momentum, eps, training)
    context = "training=%s, momentum=%g, eps=%g, x %s" % (
        training, momentum, eps, x.shape)
    return given, expected, context


# -- forward -------------------------------------------------------------------

TRAINING_CASES = [(0.1, 1e-5), (0.3, 1e-2), (0.1, 0.1)]


@graded(points=3, name="Forward pass in training")
def test_forward_training(student, rng, check):
    """The output with the mini-batch's statistics, for three values of
    eps (a misplaced eps shows at the larger ones)."""
    for momentum, eps in TRAINING_CASES:
        given, expected, context = run_forward(
            student, check, draw_layer(rng), momentum, eps, True)
        check.close("out", given[0], expected[0], context=context,
                    hint="out has the shape of x")


@graded(points=2, name="Running mean")
def test_running_mean(student, rng, check):
    """The running mean after a training batch, for two momentums."""
    for momentum in (0.1, 0.3):
        given, expected, context = run_forward(
            student, check, draw_layer(rng), momentum, 1e-5, True)
        check.close("running_mean", given[1], expected[1], context=context,
                    hint="running_mean has one value per channel: (C,)")


@graded(points=3, name="Running variance")
def test_running_var(student, rng, check):
    """The running variance after a training batch: the batch's variance
    enters it unbiased, times M / (M - 1)."""
    for momentum in (0.1, 0.3):
        given, expected, context = run_forward(
            student, check, draw_layer(rng), momentum, 1e-5, True)
        check.close("running_var", given[2], expected[2], context=context,
                    hint="running_var has one value per channel: (C,)")


@graded(points=3, name="Forward pass at inference")
def test_forward_inference(student, rng, check):
    """With training=False: the running statistics normalize, and come
    back unchanged."""
    for eps in (1e-5, 1e-3):
        layer = draw_layer(rng)
        given, expected, context = run_forward(student, check, layer, 0.1,
                                               eps, False)
        check.close("out", given[0], expected[0], context=context,
                    hint="out has the shape of x")
        unchanged = (np.allclose(given[1], layer[3], rtol=0, atol=0)
                     and np.allclose(given[2], layer[4], rtol=0, atol=0)
                     if all(isinstance(g, np.ndarray)
                            and g.shape == layer[3].shape
                            for g in given[1:]) else False)
        check.that(unchanged, "the running statistics must come back "
                   "unchanged at inference", "the running statistics are "
                   "unchanged", context=context)


# -- backward ------------------------------------------------------------------

def run_backward(student, check, rng, eps):
    x, gamma, _, _, _ = draw_layer(rng)
    dout = rng.standard_normal(x.shape)
    given = check.unpack(student.batchnorm_backward(dout, x, gamma, eps=eps),
                         ("dx", "dgamma", "dbeta"), "batchnorm_backward")
    mean, var = np.zeros(x.shape[1]), np.ones(x.shape[1])
    _, mean, invstd = reference.batch_norm(x, mean, var, gamma, training=True,
                                           eps=eps)
    expected = reference.batch_norm_backward(dout, x, mean, invstd, gamma,
                                             training=True)
    return given, expected, "eps=%g, x %s" % (eps, x.shape)


@graded(points=4, name="Backward pass: gradient of the input (dx)")
def test_backward_dx(student, rng, check):
    """dx through the mini-batch's mean and variance (the fused formula)."""
    for eps in (1e-5, 1e-2):
        given, expected, context = run_backward(student, check, rng, eps)
        check.close("dx", given[0], expected[0], context=context,
                    hint="dx has the shape of x")


@graded(points=2, name="Backward pass: gradients of gamma and beta")
def test_backward_dgamma_dbeta(student, rng, check):
    """dgamma and dbeta, one value per channel."""
    for eps in (1e-5, 1e-2):
        given, expected, context = run_backward(student, check, rng, eps)
        check.close("dgamma", given[1], expected[1], context=context,
                    hint="dgamma has one value per channel: (C,)")
        check.close("dbeta", given[2], expected[2], context=context,
                    hint="dbeta has one value per channel: (C,)")


# -- gradient check ------------------------------------------------------------

@graded(points=3, name="Gradient check: your backward against central "
        "differences of your forward", visibility="after_due_date")
def test_gradient_check(student, rng, check):
    """The slope of L = sum(dout * out) in training, measured by central
    differences at random elements of x, gamma and beta, must match what
    batchnorm_backward returns."""
    eps = 0.1
    x, gamma, beta, running_mean, running_var = draw_layer(rng)
    dout = rng.standard_normal(x.shape)
    grads = check.unpack(student.batchnorm_backward(dout, x, gamma, eps=eps),
                         ("dx", "dgamma", "dbeta"), "batchnorm_backward")
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    for (name, value), given in zip(inputs.items(), grads):
        def forward(changed, name=name):
            args = dict(inputs, **{name: changed})
            result = student.batchnorm_forward(
                args["x"], args["gamma"], args["beta"], running_mean,
                running_var, momentum=0.1, eps=eps, training=True)
            return check.unpack(result, OUTPUTS, "batchnorm_forward")[0]
        indices = sample_indices(rng, value.shape, 6)
        numeric = numeric_gradient(forward, value, dout, indices)
        check.sampled("d" + name, given, value.shape, indices, numeric,
                      rtol=GRAD_RTOL, atol=GRAD_ATOL,
                      context="eps=%g, x %s, %d elements" % (
                          eps, x.shape, len(indices)))
