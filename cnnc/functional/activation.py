"""Activation functions: validated forward and backward over the C core.

Each forward takes an array of any shape and returns a new C-contiguous
array of the same shape and dtype. Each backward takes ``grad_out``
(dL/dy) and what the forward saved, and returns dL/dx. The backward of
ReLU, sigmoid, tanh, softmax and log-softmax needs only the forward's
output ``y``; LeakyReLU and ELU need the input ``x``.
"""
import math
import numbers
import operator

import numpy as np

from cnnc import _core
from cnnc.functional._validate import (as_float_array, check_same_dtype,
                                       contiguous)

__all__ = [
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu",
    "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
]


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

def as_finite_float(value, name):
    """``value`` as a finite Python float; bools and NaN are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, numbers.Real):
        raise TypeError("%s must be a real number, got %s %r"
                        % (name, type(value).__name__, value))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("%s must be a finite number, got %r" % (name, number))
    return number


def _grad_pair(grad_out, saved, saved_name):
    """grad_out and the saved array, checked to match in dtype and shape."""
    grad_out = as_float_array(grad_out, "grad_out")
    saved = as_float_array(saved, saved_name)
    check_same_dtype(saved, saved_name, grad_out, "grad_out")
    if grad_out.shape != saved.shape:
        raise ValueError("grad_out must have the shape of %s, %s, got %s"
                         % (saved_name, saved.shape, grad_out.shape))
    return grad_out, saved


def _flat(array):
    """A C-contiguous 1-D view of ``array`` (a copy if it is strided)."""
    return contiguous(array).reshape(-1)


def _forward(kernel, x, *params):
    """y = kernel(x, *params) elementwise, in a new array."""
    x = as_float_array(x, "x")
    y = np.empty(x.shape, x.dtype)
    if y.size:
        kernel(_flat(x), *params, y.reshape(-1))
    return y


def _backward(kernel, grad_out, saved, saved_name, *params):
    """dx = kernel(grad_out, saved, *params) elementwise, in a new array."""
    grad_out, saved = _grad_pair(grad_out, saved, saved_name)
    dx = np.empty(saved.shape, saved.dtype)
    if dx.size:
        kernel(_flat(grad_out), _flat(saved), *params, dx.reshape(-1))
    return dx


def as_dim(dim, name="dim"):
    """``dim`` as a Python int (any sign); bools and floats are refused."""
    if isinstance(dim, (bool, np.bool_)):
        raise TypeError("%s must be an int, got the bool %r" % (name, dim))
    try:
        return operator.index(dim)
    except TypeError:
        raise TypeError("%s must be an int, got %s %r"
                        % (name, type(dim).__name__, dim)) from None


def softmax_axis(dim, ndim):
    """``dim`` as an axis in [0, ndim), negative values counting back."""
    dim = as_dim(dim)
    if ndim == 0:
        raise ValueError("x must have at least one axis to normalise over, "
                         "got a 0-D array")
    if not -ndim <= dim < ndim:
        raise ValueError("dim must be in [%d, %d] for a %d-D x, got %d"
                         % (-ndim, ndim - 1, ndim, dim))
    return dim % ndim


def _as_columns(array, axis):
    """``array`` as a C-contiguous (outer, C, inner) view around ``axis``."""
    shape = array.shape
    outer = math.prod(shape[:axis])
    inner = math.prod(shape[axis + 1:])
    return contiguous(array).reshape(outer, shape[axis], inner)


# --------------------------------------------------------------------------
# ReLU family
# --------------------------------------------------------------------------

def relu(x):
    """Rectified linear unit, ``y = max(x, 0)``, elementwise.

    Parameters
    ----------
    x : ndarray
        float32 or float64, any shape; any memory layout.

    Returns
    -------
    ndarray
        A new array like ``x``. A NaN in ``x`` stays NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import relu
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return _forward(_core.relu_forward, x)


def relu_backward(grad_out, y):
    """Gradient of :func:`relu`: ``grad_out`` where the unit was active.

    ``dx = grad_out * (y > 0)``; the derivative at the kink ``x = 0`` is
    taken as 0, as in PyTorch.

    Parameters
    ----------
    grad_out : ndarray
        dL/dy, the shape and dtype of ``y``.
    y : ndarray
        The forward's output. The input ``x`` works as well: ``y > 0``
        exactly where ``x > 0``.

    Returns
    -------
    ndarray
        dL/dx, a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import relu, relu_backward
    >>> y = relu(np.array([-2.0, 0.0, 3.0]))
    >>> relu_backward(np.ones(3), y)
    array([0., 0., 1.])
    """
    return _backward(_core.relu_backward, grad_out, y, "y")


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    The small slope keeps a gradient flowing through units that a plain
    ReLU would switch off.

    Parameters
    ----------
    x : ndarray
        float32 or float64, any shape.
    negative_slope : float, default 0.01
        Any finite number.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        If ``negative_slope`` is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import leaky_relu
    >>> leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)
    array([-0.2,  3. ])
    """
    slope = as_finite_float(negative_slope, "negative_slope")
    return _forward(_core.leaky_relu_forward, x, slope)


def leaky_relu_backward(grad_out, x, negative_slope=0.01):
    """Gradient of :func:`leaky_relu`, from the forward's input ``x``.

    ``dx = grad_out`` where ``x > 0``, ``grad_out * negative_slope``
    elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import leaky_relu_backward
    >>> leaky_relu_backward(np.ones(2), np.array([-2.0, 3.0]), 0.1)
    array([0.1, 1. ])
    """
    slope = as_finite_float(negative_slope, "negative_slope")
    return _backward(_core.leaky_relu_backward, grad_out, x, "x", slope)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) -
    1)`` otherwise.

    Smooth at 0 for ``alpha = 1`` and saturating to ``-alpha`` for very
    negative inputs. ``exp(x) - 1`` is computed without cancellation, so
    small negative inputs keep their digits.

    Parameters
    ----------
    x : ndarray
        float32 or float64, any shape.
    alpha : float, default 1.0
        Any finite number.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        If ``alpha`` is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import elu
    >>> np.round(elu(np.array([-np.inf, -1.0, 2.0])), 4)
    array([-1.    , -0.6321,  2.    ])
    """
    alpha = as_finite_float(alpha, "alpha")
    return _forward(_core.elu_forward, x, alpha)


def elu_backward(grad_out, x, alpha=1.0):
    """Gradient of :func:`elu`, from the forward's input ``x``.

    ``dx = grad_out`` where ``x > 0``, ``grad_out * alpha * exp(x)``
    elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import elu_backward
    >>> elu_backward(np.ones(2), np.array([0.0, 2.0]))
    array([1., 1.])
    """
    alpha = as_finite_float(alpha, "alpha")
    return _backward(_core.elu_backward, grad_out, x, "x", alpha)


# --------------------------------------------------------------------------
# Sigmoid and tanh
# --------------------------------------------------------------------------

def sigmoid(x):
    """Logistic sigmoid, ``y = 1 / (1 + exp(-x))``, elementwise.

    Computed from ``exp(-|x|)``, which cannot overflow, so that ``x =
    -1e4`` gives 0 and ``x = +-inf`` gives 0 and 1, with no warning.

    Parameters
    ----------
    x : ndarray
        float32 or float64, any shape.

    Returns
    -------
    ndarray
        Values in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import sigmoid
    >>> sigmoid(np.array([-np.inf, 0.0, 1e4]))
    array([0. , 0.5, 1. ])
    """
    return _forward(_core.sigmoid_forward, x)


def sigmoid_backward(grad_out, y):
    """Gradient of :func:`sigmoid` from its output: ``grad_out * y * (1 -
    y)``.

    The factor ``y (1 - y)`` is at most 1/4 (at ``x = 0``), which is why a
    deep stack of sigmoids shrinks the gradient layer after layer.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import sigmoid, sigmoid_backward
    >>> sigmoid_backward(np.ones(1), sigmoid(np.zeros(1)))
    array([0.25])
    """
    return _backward(_core.sigmoid_backward, grad_out, y, "y")


def tanh(x):
    """Hyperbolic tangent, elementwise; saturates to +-1 without overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import tanh
    >>> tanh(np.array([-np.inf, 0.0, 1e4]))
    array([-1.,  0.,  1.])
    """
    return _forward(_core.tanh_forward, x)


def tanh_backward(grad_out, y):
    """Gradient of :func:`tanh` from its output: ``grad_out * (1 - y**2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import tanh, tanh_backward
    >>> tanh_backward(np.ones(1), tanh(np.zeros(1)))
    array([1.])
    """
    return _backward(_core.tanh_backward, grad_out, y, "y")


# --------------------------------------------------------------------------
# Softmax and log-softmax
# --------------------------------------------------------------------------

def _softmax_forward(kernel, x, dim):
    x = as_float_array(x, "x")
    axis = softmax_axis(dim, x.ndim)
    y = np.empty(x.shape, x.dtype)
    if y.size:
        kernel(_as_columns(x, axis), _as_columns(y, axis))
    return y


def _softmax_backward(kernel, grad_out, y, dim):
    grad_out, y = _grad_pair(grad_out, y, "y")
    axis = softmax_axis(dim, y.ndim)
    dx = np.empty(y.shape, y.dtype)
    if dx.size:
        kernel(_as_columns(grad_out, axis), _as_columns(y, axis),
               _as_columns(dx, axis))
    return dx


def softmax(x, dim=1):
    """Softmax along axis ``dim``: ``exp(x) / sum(exp(x))`` over that axis.

    Every slice along ``dim`` (for ``(N, C)`` logits and ``dim=1``: every
    row; for ``(N, C, H, W)``: every pixel's C values) becomes a
    probability distribution. The slice's maximum is subtracted first, so
    large inputs do not overflow; a NaN makes its whole slice NaN, and a
    ``-inf`` gets probability 0.

    Parameters
    ----------
    x : ndarray
        float32 or float64, at least 1-D.
    dim : int, default 1
        The axis to normalise; negative values count from the end.

    Returns
    -------
    ndarray
        Same shape; non-negative, summing to 1 along ``dim``.

    Raises
    ------
    ValueError
        If ``dim`` is not an axis of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import softmax
    >>> softmax(np.array([[0.0, np.log(3.0)], [1e4, 1e4]]))
    array([[0.25, 0.75],
           [0.5 , 0.5 ]])
    """
    return _softmax_forward(_core.softmax_forward, x, dim)


def softmax_backward(grad_out, y, dim=1):
    """Gradient of :func:`softmax` from its output ``y``.

    ``dx = y * (grad_out - sum(grad_out * y))``, the sum along ``dim``:
    softmax's Jacobian ``diag(y) - y y^T`` applied to ``grad_out``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import softmax, softmax_backward
    >>> y = softmax(np.zeros((1, 2)))
    >>> softmax_backward(np.array([[1.0, 0.0]]), y)
    array([[ 0.25, -0.25]])
    """
    return _softmax_backward(_core.softmax_backward, grad_out, y, dim)


def log_softmax(x, dim=1):
    """Logarithm of :func:`softmax` along ``dim``, computed stably.

    ``y = (x - m) - log(sum(exp(x - m)))`` with ``m`` the maximum along
    ``dim``: no overflow, and no ``log(0)`` for very unlikely classes.
    This is the first half of the cross-entropy loss.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import log_softmax
    >>> log_softmax(np.array([[0.0, 0.0], [0.0, -1e4]]))
    array([[-6.93147181e-01, -6.93147181e-01],
           [ 0.00000000e+00, -1.00000000e+04]])
    """
    return _softmax_forward(_core.log_softmax_forward, x, dim)


def log_softmax_backward(grad_out, y, dim=1):
    """Gradient of :func:`log_softmax` from its output ``y``.

    ``dx = grad_out - exp(y) * sum(grad_out)``, the sum along ``dim``
    (``exp(y)`` is the softmax).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import log_softmax, log_softmax_backward
    >>> y = log_softmax(np.zeros((1, 2)))
    >>> log_softmax_backward(np.array([[1.0, 0.0]]), y)
    array([[ 0.5, -0.5]])
    """
    return _softmax_backward(_core.log_softmax_backward, grad_out, y, dim)
