"""The graded tests of assignment A2 (activations and pooling).

Each test draws its inputs from ``rng`` (seeded by the grader at grading
time), runs the student's function through ``student`` and compares the
result with :mod:`cnnc.reference` in float64. The cases are chosen so
that each common mistake shows in the tests about it: ReLU and its
derivative on both signs, pooling windows that overlap (stride <
kernel), that leave pixels over, and that do neither, and pooling inputs
whose windows never hold two equal maxima.
"""
import numpy as np

from cnnc import reference
from cnnc.grading import (GRAD_ATOL, GRAD_RTOL, graded, numeric_gradient,
                          sample_indices)

# Shapes of the activation tests: a batch of vectors and of feature maps.
ACTIVATION_SHAPES = [(4, 7), (2, 3, 4, 5)]


def describe_shape(x):
    return "x of shape %s" % (x.shape,)


def check_activation(check, name, given, expected, x):
    check.close(name, given, expected, context=describe_shape(x),
                hint="%s has the shape of x" % name)


# -- activations ---------------------------------------------------------------

@graded(points=2, name="ReLU forward and backward")
def test_relu(student, rng, check):
    """relu_forward and relu_backward on a batch of vectors and of
    feature maps, with inputs of both signs."""
    for shape in ACTIVATION_SHAPES:
        x = rng.standard_normal(shape)
        check_activation(check, "out", student.relu_forward(x),
                         reference.relu(x), x)
    for shape in ACTIVATION_SHAPES:
        x = rng.standard_normal(shape)
        dout = rng.standard_normal(shape)
        expected = reference.relu_backward(dout, reference.relu(x))
        check_activation(check, "dx", student.relu_backward(dout, x),
                         expected, x)


@graded(points=2, name="Leaky ReLU forward and backward")
def test_leaky_relu(student, rng, check):
    """The default slope 0.01 (argument left out) and a slope drawn in
    [0.05, 0.3]."""
    slope = round(float(rng.uniform(0.05, 0.3)), 3)
    for kwargs in ({}, {"negative_slope": slope}):
        x = rng.standard_normal(ACTIVATION_SHAPES[1])
        context = "%s, negative_slope=%s" % (
            describe_shape(x), kwargs.get("negative_slope", "default"))
        check.close("out", student.leaky_relu_forward(x, **kwargs),
                    reference.leaky_relu(x, kwargs.get("negative_slope",
                                                       0.01)),
                    context=context)
    for kwargs in ({}, {"negative_slope": slope}):
        x = rng.standard_normal(ACTIVATION_SHAPES[1])
        dout = rng.standard_normal(x.shape)
        context = "%s, negative_slope=%s" % (
            describe_shape(x), kwargs.get("negative_slope", "default"))
        check.close("dx", student.leaky_relu_backward(dout, x, **kwargs),
                    reference.leaky_relu_backward(
                        dout, x, kwargs.get("negative_slope", 0.01)),
                    context=context)


@graded(points=1, name="Sigmoid forward")
def test_sigmoid_forward(student, rng, check):
    """sigmoid_forward on small inputs and on inputs up to +-30, where it
    saturates."""
    for scale in (1.0, 15.0):
        x = scale * rng.standard_normal(ACTIVATION_SHAPES[1])
        check_activation(check, "out", student.sigmoid_forward(x),
                         reference.sigmoid(x), x)


@graded(points=2, name="Sigmoid backward")
def test_sigmoid_backward(student, rng, check):
    """sigmoid_backward, which receives the forward pass's input x."""
    for shape in ACTIVATION_SHAPES:
        x = 2 * rng.standard_normal(shape)
        dout = rng.standard_normal(shape)
        expected = reference.sigmoid_backward(dout, reference.sigmoid(x))
        check.close("dx", student.sigmoid_backward(dout, x), expected,
                    context=describe_shape(x),
                    hint="dx has the shape of x; the derivative is s * (1 - "
                    "s) with s = sigmoid(x)")


# -- pooling -------------------------------------------------------------------

# (kernel_size, stride): windows side by side; overlapping; overlapping at
# stride 1; side by side with pixels left over (the input size is drawn so
# that the stride does not divide it).
POOL_CASES = [(2, 2), (3, 2), (2, 1), (3, 3)]


def distinct_values(rng, shape):
    """Random values at least 0.05 apart: no window holds two equal maxima,
    and a step of 1e-5 in the gradient check never changes which pixel is
    the maximum."""
    size = int(np.prod(shape))
    values = 0.05 * (rng.permutation(size) - size / 2)
    return values.reshape(shape) + rng.uniform(-0.01, 0.01, size=shape)


def draw_pool_input(rng, kernel, stride):
    """x of shape (N, C, H, W) with 2 or 3 outputs along each axis; when
    the windows do not overlap, one or more pixels are left over along W."""
    P, Q = (int(v) for v in rng.integers(2, 4, size=2))
    H = (P - 1) * stride + kernel
    W = (Q - 1) * stride + kernel
    if stride == kernel and stride > 1:
        W += int(rng.integers(1, stride))
    N, C = (int(v) for v in rng.integers(1, 3, size=2))
    return distinct_values(rng, (N, C, H, W))


def describe_pool(x, kernel, stride):
    return "kernel_size=%d, stride=%d, x %s" % (kernel, stride, x.shape)


def size_hint(x, kernel, stride):
    """The output-size arithmetic, for a student whose shape is wrong."""
    H, W = x.shape[2:]
    return ("the output is (N, C, P, Q) with\n"
            "  P = (H - kernel_size) // stride + 1 = (%d - %d) // %d + 1 = %d\n"
            "  Q = (W - kernel_size) // stride + 1 = (%d - %d) // %d + 1 = %d"
            % (H, kernel, stride, (H - kernel) // stride + 1,
               W, kernel, stride, (W - kernel) // stride + 1))


def reference_pool(kind, x, kernel, stride):
    if kind == "max":
        return reference.max_pool2d(x, kernel, stride)
    return reference.avg_pool2d(x, kernel, stride)


def reference_pool_backward(kind, dout, x, kernel, stride):
    if kind == "max":
        _, indices = reference.max_pool2d(x, kernel, stride,
                                          return_indices=True)
        return reference.max_pool2d_backward(dout, indices, x.shape)
    return reference.avg_pool2d_backward(dout, x.shape, kernel, stride)


def check_pool_forward(student, rng, check, kind):
    function = getattr(student, "%s_pool_forward" % kind)
    for kernel, stride in POOL_CASES:
        x = draw_pool_input(rng, kernel, stride)
        check.close("out", function(x, kernel, stride),
                    reference_pool(kind, x, kernel, stride),
                    context=describe_pool(x, kernel, stride),
                    hint=size_hint(x, kernel, stride))


def check_pool_backward(student, rng, check, kind, hint):
    function = getattr(student, "%s_pool_backward" % kind)
    for kernel, stride in POOL_CASES:
        x = draw_pool_input(rng, kernel, stride)
        dout = rng.standard_normal(reference_pool(kind, x, kernel,
                                                  stride).shape)
        check.close("dx", function(dout, x, kernel, stride),
                    reference_pool_backward(kind, dout, x, kernel, stride),
                    context=describe_pool(x, kernel, stride), hint=hint)


@graded(points=2, name="Max pooling forward")
def test_max_pool_forward(student, rng, check):
    """Windows side by side, overlapping, and leaving pixels over."""
    check_pool_forward(student, rng, check, "max")


@graded(points=3, name="Max pooling backward")
def test_max_pool_backward(student, rng, check):
    """The gradient goes to each window's maximum only; overlapping
    windows add up."""
    check_pool_backward(student, rng, check, "max",
                        "dx has the shape of x")


@graded(points=2, name="Average pooling forward")
def test_avg_pool_forward(student, rng, check):
    """Windows side by side, overlapping, and leaving pixels over."""
    check_pool_forward(student, rng, check, "avg")


@graded(points=2, name="Average pooling backward")
def test_avg_pool_backward(student, rng, check):
    """Every pixel of a window gets an equal share; overlapping windows
    add up."""
    check_pool_backward(student, rng, check, "avg",
                        "dx has the shape of x")


@graded(points=2, name="Gradient check: your pooling backward against "
        "central differences of your forward", visibility="after_due_date")
def test_pool_gradient_check(student, rng, check):
    """The slope of L = sum(dout * pool_forward(x)) measured by central
    differences at random pixels must match what pool_backward returns,
    for max and average pooling with overlapping windows: the two
    functions must agree with each other, whatever the reference says."""
    kernel, stride = 3, 2
    for kind in ("max", "avg"):
        x = distinct_values(rng, (2, 2, 7, 9))
        dout = rng.standard_normal((2, 2, 3, 4))
        forward = getattr(student, "%s_pool_forward" % kind)
        dx = getattr(student, "%s_pool_backward" % kind)(dout, x, kernel,
                                                         stride)
        indices = sample_indices(rng, x.shape, 8)
        numeric = numeric_gradient(
            lambda changed: forward(changed, kernel, stride), x, dout,
            indices)
        check.sampled("dx", dx, x.shape, indices, numeric, rtol=GRAD_RTOL,
                      atol=GRAD_ATOL, context="%s pooling, kernel_size=3, "
                      "stride=2, %d pixels" % (kind, len(indices)))


# -- the experiment: vanishing gradients ----------------------------------------

def draw_stack(rng, depth, width, gain):
    """Inputs, weights and dout of a deep stack: weights with standard
    deviation gain / sqrt(width)."""
    x = rng.standard_normal((4, width))
    weights = [gain / np.sqrt(width) * rng.standard_normal((width, width))
               for _ in range(depth)]
    dout = rng.standard_normal((4, width))
    return x, weights, dout


def stack_norms(x, weights, dout, activation):
    """The grader's own backpropagation through the stack (see the
    student's docstring), with cnnc.reference's activations."""
    forward = {"sigmoid": reference.sigmoid, "relu": reference.relu}[
        activation]
    inputs, outputs = [], []
    h = x
    for w in weights:
        inputs.append(h)
        h = forward(h @ w)
        outputs.append(h)
    norms = np.empty(len(weights))
    dh = dout
    for layer in reversed(range(len(weights))):
        if activation == "sigmoid":
            dz = reference.sigmoid_backward(dh, outputs[layer])
        else:
            dz = reference.relu_backward(dh, outputs[layer])
        norms[layer] = np.linalg.norm(inputs[layer].T @ dz)
        dh = dz @ weights[layer].T
    return norms


def check_stack(student, check, x, weights, dout, activation):
    expected = stack_norms(x, weights, dout, activation)
    given = student.stack_gradient_norms(x, weights, dout,
                                         activation=activation)
    # The case, with the experiment's answer: how much smaller the first
    # layer's gradient is than the last one's.
    context = ("%d %s layers of width %d, where ||dW_1|| / ||dW_L|| = %.2g"
               % (len(weights), activation, x.shape[1],
                  expected[0] / expected[-1]))
    # The norms span orders of magnitude: compare each relative to itself.
    check.close("norms", given, expected, atol=0, context=context,
                hint="one norm per layer, the first layer's first")


@graded(points=4, name="Vanishing gradients in a deep sigmoid stack")
def test_sigmoid_stack(student, rng, check):
    """stack_gradient_norms through 8 to 12 sigmoid layers: the norm of
    every layer's weight gradient. The feedback gives the factor between
    the first and the last: the lecture's vanishing gradient."""
    for _ in range(2):
        depth = int(rng.integers(8, 13))
        x, weights, dout = draw_stack(rng, depth, 16, gain=1.0)
        check_stack(student, check, x, weights, dout, "sigmoid")


@graded(points=2, name="ReLU keeps the gradient", visibility="hidden")
def test_relu_stack(student, rng, check):
    """The same experiment with ReLU and weights of standard deviation
    sqrt(2 / width) (He's initialisation): the first layer's gradient
    stays comparable to the last one's."""
    depth = int(rng.integers(8, 13))
    x, weights, dout = draw_stack(rng, depth, 16, gain=np.sqrt(2.0))
    check_stack(student, check, x, weights, dout, "relu")
