"""The graded tests of assignment A1 (convolution).

Each test draws its inputs from ``rng`` (seeded by the grader at grading
time), runs the student's function through ``student`` and compares the
result with :mod:`cnnc.reference` in float64. The cases are chosen so
that each mistake a student commonly makes shows in the tests that are
about it: padding only in the padding tests, the stride only in the
stride tests, and every output position able to reveal a misplaced window
(at least two along each axis).
"""
import numpy as np

from cnnc import reference
from cnnc.grading import (GRAD_ATOL, GRAD_RTOL, graded, numeric_gradient,
                          sample_indices)


def draw_case(rng, stride, padding, kernel=None, exact=False, batch=(1, 3),
              square=False):
    """Random x, w, b for one convolution.

    The output has 2 to 4 positions along each axis. ``exact`` makes the
    last window end on the last padded pixel (no input left over), so
    that ``(H + 2*padding - R)`` is a multiple of the stride. Filters are
    2x2 to 3x3 unless ``kernel`` is given (``square`` makes R = S).
    """
    while True:
        R, S = kernel if kernel is not None else rng.integers(2, 4, size=2)
        if square:
            S = R
        R, S = max(int(R), padding + 1), max(int(S), padding + 1)
        P, Q = rng.integers(2, 5, size=2)
        extra = (0, 0) if exact or stride == 1 else rng.integers(
            0, stride, size=2)
        H = (P - 1) * stride + R - 2 * padding + int(extra[0])
        W = (Q - 1) * stride + S - 2 * padding + int(extra[1])
        if H >= 2 and W >= 2:
            break
    N = int(rng.integers(*batch, endpoint=True))
    C, K = (int(v) for v in rng.integers(1, 4, size=2))
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((K, C, R, S))
    b = rng.standard_normal(K)
    return x, w, b


def describe(x, w, stride, padding):
    return "stride=%d, padding=%d, x %s, w %s" % (stride, padding,
                                                  x.shape, w.shape)


def size_hint(x, w, stride, padding):
    """The output-size arithmetic, for a student whose shape is wrong."""
    (_, _, H, W), (_, _, R, S) = x.shape, w.shape
    P = (H + 2 * padding - R) // stride + 1
    Q = (W + 2 * padding - S) // stride + 1
    return ("the output is (N, K, P, Q) with\n"
            "  P = (H + 2*padding - R) // stride + 1 = (%d + 2*%d - %d) // %d "
            "+ 1 = %d\n"
            "  Q = (W + 2*padding - S) // stride + 1 = (%d + 2*%d - %d) // %d "
            "+ 1 = %d" % (H, padding, R, stride, P, W, padding, S, stride, Q))


def check_forward(student, check, x, w, b, stride, padding):
    out = student.conv2d_forward(x, w, b, stride=stride, padding=padding)
    expected = reference.conv2d(x, w, b, stride=stride, padding=padding)
    check.close("out", out, expected, context=describe(x, w, stride, padding),
                hint=size_hint(x, w, stride, padding))


# -- output size ---------------------------------------------------------------

@graded(points=2, name="Output size")
def test_output_size(student, rng, check):
    """conv_output_size on the lecture's examples and on random sizes."""
    cases = [(56, 3, 1, 1), (56, 3, 2, 1), (224, 7, 2, 3), (224, 11, 4, 2)]
    # Random cases: no padding at stride 1; no padding at a stride that
    # leaves pixels over; padding at stride 1; padding at a stride that
    # fits exactly.
    k = int(rng.integers(2, 6))
    s = int(rng.integers(2, 4))
    p = int(rng.integers(1, 3))
    n = int(rng.integers(8, 40))
    cases.append((n, k, 1, 0))
    cases.append((n * s + k + 1 + (s - 2), k, s, 0))
    cases.append((n, k, 1, p))
    cases.append((n * s + k - 2 * p, k, s, p))
    for size, kernel, stride, padding in cases:
        expected = (size + 2 * padding - kernel) // stride + 1
        given = student.conv_output_size(size, kernel, stride=stride,
                                          padding=padding)
        check.equal("conv_output_size(%d, %d, stride=%d, padding=%d)"
                    % (size, kernel, stride, padding), given, expected,
                    hint="  (in_size + 2*padding - kernel_size) // stride + 1"
                    " = (%d + 2*%d - %d) // %d + 1 = %d"
                    % (size, padding, kernel, stride, expected))


# -- forward -------------------------------------------------------------------

@graded(points=2, name="Forward pass: stride 1, no padding")
def test_forward_basic(student, rng, check):
    """The sliding window on its own: three random layers."""
    for _ in range(3):
        x, w, b = draw_case(rng, 1, 0)
        check_forward(student, check, x, w, b, 1, 0)


@graded(points=2, name="Forward pass: padding")
def test_forward_padding(student, rng, check):
    """Zero padding of 1 and 2 pixels at stride 1."""
    for padding in (1, 2):
        x, w, b = draw_case(rng, 1, padding)
        check_forward(student, check, x, w, b, 1, padding)


@graded(points=2, name="Forward pass: stride")
def test_forward_stride(student, rng, check):
    """Strides 2 and 3 without padding."""
    for stride in (2, 3):
        x, w, b = draw_case(rng, stride, 0)
        check_forward(student, check, x, w, b, stride, 0)


@graded(points=2, name="Forward pass: stride and padding together",
        visibility="hidden")
def test_forward_general(student, rng, check):
    """Stride with padding, a 1x1 filter and a filter that is not square."""
    cases = [(2, 1, None, True), (3, 2, None, True), (1, 0, (1, 1), False),
             (2, 0, (3, 2), False)]
    for stride, padding, kernel, exact in cases:
        x, w, b = draw_case(rng, stride, padding, kernel=kernel, exact=exact)
        check_forward(student, check, x, w, b, stride, padding)


# -- backward ------------------------------------------------------------------

# Square filters here: the filter that is not square is in the forward
# tests and in the gradient check.
BACKWARD_CASES = [(1, 0), (1, 1), (2, 0), (2, 1)]
GRADIENT_HINTS = {
    "dx": "dx has the shape of x: the gradient that lands on the padding "
          "is dropped",
    "dw": "dw has the shape of w",
    "db": "db has one value per output channel: shape (K,)",
}


def check_backward(student, rng, check, which):
    """Compare one of (dx, dw, db) over the backward cases."""
    position = ("dx", "dw", "db").index(which)
    for stride, padding in BACKWARD_CASES:
        x, w, b = draw_case(rng, stride, padding, batch=(2, 3), square=True)
        out = reference.conv2d(x, w, b, stride=stride, padding=padding)
        dout = rng.standard_normal(out.shape)
        expected = reference.conv2d_backward(dout, x, w, stride=stride,
                                             padding=padding)
        given = check.unpack(
            student.conv2d_backward(dout, x, w, stride=stride,
                                    padding=padding),
            ("dx", "dw", "db"), "conv2d_backward")
        check.close(which, given[position], expected[position],
                    context=describe(x, w, stride, padding),
                    hint=GRADIENT_HINTS[which])


@graded(points=3, name="Backward pass: gradient of the input (dx)")
def test_backward_dx(student, rng, check):
    """dx at strides 1 and 2, with and without padding."""
    check_backward(student, rng, check, "dx")


@graded(points=3, name="Backward pass: gradient of the filters (dw)")
def test_backward_dw(student, rng, check):
    """dw at strides 1 and 2, with and without padding."""
    check_backward(student, rng, check, "dw")


@graded(points=1, name="Backward pass: gradient of the bias (db)")
def test_backward_db(student, rng, check):
    """db, in two of the cases."""
    for stride, padding in BACKWARD_CASES[1::2]:
        x, w, b = draw_case(rng, stride, padding, batch=(2, 3), square=True)
        out = reference.conv2d(x, w, b, stride=stride, padding=padding)
        dout = rng.standard_normal(out.shape)
        expected = reference.conv2d_backward(dout, x, w, stride=stride,
                                             padding=padding)[2]
        _, _, db = check.unpack(
            student.conv2d_backward(dout, x, w, stride=stride,
                                    padding=padding),
            ("dx", "dw", "db"), "conv2d_backward")
        check.close("db", db, expected,
                    context=describe(x, w, stride, padding),
                    hint=GRADIENT_HINTS["db"])


# -- gradient check ------------------------------------------------------------

@graded(points=3, name="Gradient check: your backward against central "
        "differences of your forward", visibility="after_due_date")
def test_gradient_check(student, rng, check):
    """The slope of L = sum(dout * conv2d_forward(x, w, b)) measured by
    central differences at random elements of x, w and b must match what
    conv2d_backward returns: the two functions must agree with each other,
    whatever the reference says."""
    stride, padding = 2, 1
    x = rng.standard_normal((2, 2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 2))      # R != S on purpose
    b = rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 4))   # P = 3, Q = 4
    grads = check.unpack(
        student.conv2d_backward(dout, x, w, stride=stride, padding=padding),
        ("dx", "dw", "db"), "conv2d_backward")
    inputs = {"x": x, "w": w, "b": b}
    for (name, value), given in zip(inputs.items(), grads):
        def forward(changed, name=name):
            args = dict(inputs, **{name: changed})
            return student.conv2d_forward(args["x"], args["w"], args["b"],
                                          stride=stride, padding=padding)
        indices = sample_indices(rng, value.shape, 6)
        numeric = numeric_gradient(forward, value, dout, indices)
        check.sampled("d" + name, given, value.shape, indices, numeric,
                      rtol=GRAD_RTOL, atol=GRAD_ATOL,
                      context="stride=2, padding=1, %d elements" % len(
                          indices))
