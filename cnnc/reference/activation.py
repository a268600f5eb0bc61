"""Activation functions in plain NumPy, written to be read beside the
lecture.

The lecture's building block is Convolution -> Activation -> Pooling ->
Normalization. The activation is the non-linearity: without it a stack of
convolutions and linear layers would collapse into one linear map, however
deep, and could only draw straight boundaries between classes. Each
function below is applied elementwise (softmax along one axis), and each
has its derivative beside it, because backpropagation multiplies the
incoming gradient by that derivative, layer after layer.

No checks and no speed: these functions are the specification that the C
kernels are tested against and the model answers of the assignments.
"""
import numpy as np

__all__ = [
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu",
    "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
]


def relu(x):
    """Rectified linear unit::

        relu(x) = max(x, 0)

    Its derivative is 1 for x > 0 and 0 for x < 0 (at the kink x = 0 we
    take 0), so a gradient passes an active unit unchanged, however many
    layers deep: the fix the lecture suggests for the vanishing gradients
    of sigmoid stacks.
    """
    return np.where(x < 0, 0, x).astype(x.dtype)


def relu_backward(grad_out, y):
    """dL/dx = dL/dy * relu'(x) = grad_out where y > 0, else 0.

    ``y`` (the output) and ``x`` (the input) are positive at the same
    places, so either may be passed.
    """
    return np.where(y > 0, grad_out, 0).astype(grad_out.dtype)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU::

        leaky_relu(x) = x                    for x > 0
                        negative_slope * x   otherwise

    The derivative is 1 or ``negative_slope``, never 0, so no unit stops
    learning for good.
    """
    return np.where(x > 0, x, negative_slope * x).astype(x.dtype)


def leaky_relu_backward(grad_out, x, negative_slope=0.01):
    """dL/dx = grad_out for x > 0, grad_out * negative_slope otherwise."""
    return np.where(x > 0, grad_out,
                    negative_slope * grad_out).astype(grad_out.dtype)


def elu(x, alpha=1.0):
    """Exponential linear unit::

        elu(x) = x                      for x > 0
                 alpha * (e^x - 1)      otherwise

    ``np.expm1`` computes e^x - 1 without losing the digits of small x;
    taking it at min(x, 0) keeps a large positive x from overflowing.
    """
    negative_part = alpha * np.expm1(np.minimum(x, 0))
    return np.where(x > 0, x, negative_part).astype(x.dtype)


def elu_backward(grad_out, x, alpha=1.0):
    """elu'(x) = 1 for x > 0, alpha * e^x otherwise."""
    slope = alpha * np.exp(np.minimum(x, 0))
    return np.where(x > 0, grad_out, grad_out * slope).astype(grad_out.dtype)


def sigmoid(x):
    """Logistic sigmoid::

        sigmoid(x) = 1 / (1 + e^-x)

    Written directly, e^-x overflows for x below about -89 (float32). With
    ``e = e^-|x|``, which is at most 1, the same function reads::

        sigmoid(x) = 1 / (1 + e)    for x >= 0
                     e / (1 + e)    for x < 0
    """
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


def sigmoid_backward(grad_out, y):
    """sigmoid'(x) = y * (1 - y), with y = sigmoid(x).

    Its largest value is 1/4, at x = 0. Backpropagation through L sigmoid
    layers multiplies the gradient by L such factors (times the weights),
    so it shrinks at least like (1/4)^L when the weights are small: after
    10 layers by a factor of about a million. This is the lecture's
    vanishing gradient, and why deep networks use ReLU instead.
    """
    return grad_out * y * (1 - y)


def tanh(x):
    """Hyperbolic tangent::

        tanh(x) = (e^x - e^-x) / (e^x + e^-x) = 2 sigmoid(2x) - 1

    A sigmoid centred on 0, with outputs in (-1, 1).
    """
    return np.tanh(x)


def tanh_backward(grad_out, y):
    """tanh'(x) = 1 - y^2, at most 1 (at x = 0), and small wherever the
    unit saturates: deep tanh stacks vanish too, if more slowly."""
    return grad_out * (1 - y * y)


def softmax(x, dim=1):
    """Softmax along axis ``dim``::

        softmax(x)_c = e^(x_c) / sum_k e^(x_k)

    It turns a vector of scores (logits) into probabilities: positive,
    summing to 1. Subtracting the maximum m from every score changes
    nothing (the factor e^-m cancels) but keeps every e^(x - m) <= 1, so
    nothing overflows.
    """
    shifted = x - np.max(x, axis=dim, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=dim, keepdims=True)


def softmax_backward(grad_out, y, dim=1):
    """Gradient of softmax, from its output y.

    The Jacobian of y = softmax(x) is dy_c/dx_k = y_c (delta_ck - y_k),
    so::

        dL/dx_k = y_k * (dL/dy_k - sum_c dL/dy_c * y_c)
    """
    inner = np.sum(grad_out * y, axis=dim, keepdims=True)
    return y * (grad_out - inner)


def log_softmax(x, dim=1):
    """Logarithm of the softmax along ``dim``::

        log_softmax(x)_c = x_c - log sum_k e^(x_k)
                         = (x_c - m) - log sum_k e^(x_k - m)

    with m the maximum. Taking the log of softmax's output instead would
    give log(0) = -inf for very unlikely classes.
    """
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def log_softmax_backward(grad_out, y, dim=1):
    """Gradient of log-softmax, from its output y.

    With y = log_softmax(x), dy_c/dx_k = delta_ck - softmax(x)_k, so::

        dL/dx_k = dL/dy_k - e^(y_k) * sum_c dL/dy_c
    """
    return grad_out - np.exp(y) * np.sum(grad_out, axis=dim, keepdims=True)
