"""2-D pooling: validated forward and backward over the C core.

Max pooling keeps the largest value of each window, average pooling its
mean; both shrink the feature maps (the lecture's down-sampling). Sizes,
padding rules and tie-breaking follow PyTorch's ``torch.nn.functional``.
"""
import math

import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, as_int, as_pair, check_elements, check_ndim, contiguous)

__all__ = ["pool2d_output_size", "max_pool2d", "max_pool2d_backward",
           "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d",
           "adaptive_avg_pool2d_backward"]

_AXES = ("height", "width")
_MAX_PLANE = 2 ** 31 - 1


def _as_bool(value, name):
    """A flag given as a bool (or NumPy bool, or the ints 0 and 1)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return bool(value)
    raise TypeError("%s must be True or False, got %s %r"
                    % (name, type(value).__name__, value))


def _output_length(size, kernel, stride, padding, dilation, ceil_mode,
                   axis):
    """One axis of PyTorch's pooling output size, explained when empty."""
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span
    if ceil_mode:
        numerator += stride - 1
    out = numerator // stride + 1

    # In ceil mode the last window must start inside the input or the
    # left padding.
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        formula = ("(size + 2*padding - dilation*(kernel_size - 1) - 1%s) "
                   "// stride + 1" % (" + stride - 1" if ceil_mode else ""))
        values = ("(%d + 2*%d - %d*(%d - 1) - 1%s) // %d + 1"
                  % (size, padding, dilation, kernel,
                     " + %d - 1" % stride if ceil_mode else "", stride))
        raise ValueError(
            "the pooling's output %s is empty: %s = %s = %d; the window spans "
            "%d pixels but the padded input has only %d"
            % (axis, formula, values, out, span, size + 2 * padding))
    return out


def _check_padding(kernel, padding):
    """PyTorch's rule: padding at most half the window, per axis."""
    for i, axis in enumerate(_AXES):
        if padding[i] > kernel[i] // 2:
            raise ValueError(
                "padding must be at most half of kernel_size, got padding=%s "
                "for kernel_size=%s (along the %s, %d > %d // 2)"
                % (padding, kernel, axis, padding[i], kernel[i]))


def _check_windows_hit_input(size, kernel, stride, padding, dilation, out,
                             axis):
    """Raise if a dilated window's taps all fall in the padding.

    Without dilation this cannot happen; with it, the taps can step over a
    small input entirely. PyTorch returns -inf (and an index outside the
    plane) for such a window; cnnc refuses the geometry instead.
    """
    if dilation == 1:
        return
    starts = np.arange(out, dtype=np.int64) * stride - padding
    taps = starts[:, None] + np.arange(kernel, dtype=np.int64) * dilation
    hit = ((taps >= 0) & (taps < size)).any(axis=1)
    if not hit.all():
        o = int(np.argmin(hit))
        raise ValueError(
            "max_pool2d window %d along the %s has no tap inside the input: "
            "with kernel_size=%d, dilation=%d and padding=%d its taps fall at "
            "%s of an input of %s %d, all in the padding; use less padding or "
            "dilation" % (o, axis, kernel, dilation, padding,
                          taps[o].tolist(), axis, size))


def pool2d_output_size(size, kernel_size, stride=None, padding=0, dilation=1,
                       ceil_mode=False):
    """Output size of a max or average pooling, as PyTorch computes it.

    Per axis::

        out = (size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1

    With ``ceil_mode=True`` the division rounds up instead (add
    ``stride - 1`` before it), except that the last window must start
    inside the input or the left padding: if it would start in the right
    padding, ``out`` is one less. With the defaults (``stride =
    kernel_size``, no padding) this is ``size // kernel_size``: a 2 x 2 max
    pooling halves each side.

    Parameters
    ----------
    size : int or (int, int)
        Input height and width (or one value for both).
    kernel_size : int or (int, int)
        Window height and width.
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        At most half of ``kernel_size``.
    dilation : int or (int, int), default 1
        Spacing between window taps (max pooling only).
    ceil_mode : bool, default False

    Returns
    -------
    int or (int, int)
        An int when ``size`` is an int, otherwise a pair.

    Raises
    ------
    ValueError
        If the output would be empty (the message shows the arithmetic) or
        the padding is more than half the window.

    Examples
    --------
    >>> from cnnc.functional import pool2d_output_size
    >>> pool2d_output_size(32, 2)
    16
    >>> pool2d_output_size((112, 112), 3, stride=2, padding=1)
    (56, 56)
    >>> pool2d_output_size(5, 2, ceil_mode=True)
    3
    """
    pair_input = isinstance(size, (tuple, list))
    sizes = as_pair(size, "size", 1)
    kernel, stride, padding, dilation, ceil_mode = _pool_args(
        kernel_size, stride, padding, dilation, ceil_mode)
    out = tuple(_output_length(sizes[i], kernel[i], stride[i], padding[i],
                               dilation[i], ceil_mode, axis)
                for i, axis in enumerate(_AXES))
    return out if pair_input else out[0]


def _pool_args(kernel_size, stride, padding, dilation, ceil_mode):
    """Normalise the hyper-parameters every pooling shares."""
    kernel = as_pair(kernel_size, "kernel_size", 1)
    stride = kernel if stride is None else as_pair(stride, "stride", 1)
    padding = as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    ceil_mode = _as_bool(ceil_mode, "ceil_mode")
    _check_padding(kernel, padding)
    return kernel, stride, padding, dilation, ceil_mode


def _check_input(x, name="x"):
    x = as_float_array(x, name)
    check_ndim(x, name, 4, "(N, C, H, W)")
    if 0 in x.shape:
        raise ValueError("%s must have no empty axis, got shape %s"
                         % (name, x.shape))
    return x


def _check_input_shape(input_shape):
    """``input_shape`` as a tuple of four positive ints (N, C, H, W)."""
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 4:
        raise ValueError("input_shape must be the 4 sizes (N, C, H, W) of the "
                         "forward input, got %r" % (input_shape,))
    return tuple(as_int(v, "input_shape[%d]" % i, 1)
                 for i, v in enumerate(input_shape))


def _check_grad_out(grad_out, out_shape, what):
    grad_out = as_float_array(grad_out, "grad_out")
    if grad_out.shape != tuple(out_shape):
        raise ValueError("grad_out must have the %s output shape (N, C, P, Q) "
                         "= %s, got %s" % (what, tuple(out_shape),
                                           grad_out.shape))
    return grad_out


def _out_shape(shape, kernel, stride, padding, dilation, ceil_mode):
    n, c, h, w = shape
    p, q = (_output_length(size, kernel[i], stride[i], padding[i],
                           dilation[i], ceil_mode, _AXES[i])
            for i, size in enumerate((h, w)))
    for i, (size, out) in enumerate(((h, p), (w, q))):
        _check_windows_hit_input(size, kernel[i], stride[i], padding[i],
                                 dilation[i], out, _AXES[i])
    check_elements(n * c * p * q, "the output (N, C, P, Q) = (%d, %d, %d, %d)"
                   % (n, c, p, q))
    return (n, c, p, q)


# --------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------

def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    """2-D max pooling: the largest value of each window.

    ::

        y[n, c, p, q] = max over r < R, s < S of
            x[n, c, p*stride - padding + r*dilation,
                    q*stride - padding + s*dilation]

    taken over the taps inside the image (padding is never chosen).

    Ties are deterministic: the first maximum in row-major window order
    wins (top row first, left to right), so ``indices`` and the gradient
    never depend on threads or SIMD. A NaN in the window makes the output
    NaN, and its index is the window's last NaN. PyTorch's CPU kernels
    (version 2.13, contiguous and channels-last inputs) behave the same.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        float32 or float64; any memory layout, read-only is fine.
    kernel_size : int or (int, int)
        The window, the lecture's pooling size.
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (windows side by side).
    padding : int or (int, int), default 0
        Implicit padding on both sides, at most half of ``kernel_size``.
    dilation : int or (int, int), default 1
        Spacing between window taps.
    ceil_mode : bool, default False
        Round the output size up (see :func:`pool2d_output_size`).
    return_indices : bool, default False
        Also return where each maximum was found.

    Returns
    -------
    y : ndarray of shape (N, C, P, Q)
    indices : ndarray of int64, shape (N, C, P, Q)
        Only with ``return_indices``: each maximum's index ``h * W + w`` in
        its H x W plane, as PyTorch returns it; pass it to
        :func:`max_pool2d_backward`.

    Raises
    ------
    TypeError
        For non-float arrays or a non-bool flag.
    ValueError
        For a wrong rank, an empty output, padding over half the window, or
        a dilated window with no tap inside the input.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import max_pool2d
    >>> x = np.array([[[[1, 2, 5, 0],
    ...                 [3, 4, 1, 1],
    ...                 [0, 0, 7, 7],
    ...                 [0, 9, 7, 7]]]], dtype=np.float32)
    >>> y, idx = max_pool2d(x, 2, return_indices=True)
    >>> y[0, 0]
    array([[4., 5.],
           [9., 7.]], dtype=float32)
    >>> idx[0, 0]
    array([[ 5,  2],
           [13, 10]])
    """
    x = _check_input(x)
    kernel, stride, padding, dilation, ceil_mode = _pool_args(
        kernel_size, stride, padding, dilation, ceil_mode)
    return_indices = _as_bool(return_indices, "return_indices")
    out_shape = _out_shape(x.shape, kernel, stride, padding, dilation,
                           ceil_mode)
    if x.shape[2] * x.shape[3] > _MAX_PLANE:
        # NOTE: the C kernels keep a tap's offset within its plane in 32
        # bits; a single image plane of 8 GiB is far beyond any CNN.
        raise ValueError(
            "max_pool2d supports planes of at most 2**31 - 1 pixels, got "
            "H*W = %d*%d = %d" % (x.shape[2], x.shape[3],
                                  x.shape[2] * x.shape[3]))
    y = np.empty(out_shape, dtype=x.dtype)
    indices = np.empty(out_shape, dtype=np.int64) if return_indices else None
    _core.maxpool2d_forward(contiguous(x), y, indices, kernel, stride,
                            padding, dilation, ceil_mode)
    return (y, indices) if return_indices else y


def max_pool2d_backward(grad_out, indices, input_shape):
    """Gradient of a loss through :func:`max_pool2d`.

    Only the maximum of a window influenced its output, so each
    ``grad_out[n, c, p, q]`` flows back to the one input pixel recorded in
    ``indices[n, c, p, q]``; every other pixel gets zero. When windows
    overlap, a pixel that won several of them receives the sum.

    Parameters
    ----------
    grad_out : ndarray of shape (N, C, P, Q)
        Gradient of the loss with respect to the pooling's output.
    indices : ndarray of int64, shape (N, C, P, Q)
        As returned by ``max_pool2d(..., return_indices=True)``.
    input_shape : tuple of 4 ints
        The forward input's shape (N, C, H, W).

    Returns
    -------
    ndarray of shape (N, C, H, W)
        Same dtype as ``grad_out``.

    Raises
    ------
    TypeError
        For a float ``indices`` or a non-float ``grad_out``.
    ValueError
        For mismatched shapes or an index outside ``[0, H*W)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import max_pool2d, max_pool2d_backward
    >>> x = np.array([[[[1., 2.], [4., 3.]]]])
    >>> y, idx = max_pool2d(x, 2, return_indices=True)
    >>> max_pool2d_backward(np.ones_like(y), idx, x.shape)[0, 0]
    array([[0., 0.],
           [1., 0.]])
    """
    grad_out = as_float_array(grad_out, "grad_out")
    check_ndim(grad_out, "grad_out", 4, "(N, C, P, Q)")
    if 0 in grad_out.shape:
        raise ValueError("grad_out must have no empty axis, got shape %s"
                         % (grad_out.shape,))
    n, c, h, w = _check_input_shape(input_shape)
    if not isinstance(indices, np.ndarray) or indices.dtype.kind not in "iu":
        raise TypeError("indices must be an integer NumPy array (the int64 "
                        "indices max_pool2d returns), got %s"
                        % (indices.dtype if isinstance(indices, np.ndarray)
                           else type(indices).__name__))
    if indices.shape != grad_out.shape:
        raise ValueError("indices must have grad_out's shape %s, got %s"
                         % (grad_out.shape, indices.shape))
    if grad_out.shape[:2] != (n, c):
        raise ValueError(
            "grad_out has (N, C) = %s but input_shape has (N, C) = %s"
            % (grad_out.shape[:2], (n, c)))
    check_elements(n * c * h * w, "the input (N, C, H, W) = %s"
                   % ((n, c, h, w),))
    grad_x = np.empty((n, c, h, w), dtype=grad_out.dtype)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    try:
        _core.maxpool2d_backward(contiguous(grad_out), indices, grad_x)
    except ValueError:
        bad = (indices < 0) | (indices >= h * w)
        if not bad.any():
            raise
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "indices must lie in [0, H*W) = [0, %d) for input_shape %s, got "
            "%d at position %s" % (h * w, (n, c, h, w), indices[where],
                                   where)) from None
    return grad_x


# --------------------------------------------------------------------------
# Average pooling
# --------------------------------------------------------------------------

def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """2-D average pooling: the mean of each window.

    ::

        y[n, c, p, q] = (1 / divisor) * sum over r < R, s < S of
            x[n, c, p*stride - padding + r, q*stride - padding + s]

    where taps in the padding read zero. The window is first clipped to the
    padded input; ``divisor`` is then the clipped window's size when
    ``count_include_pad`` (padding counts as zeros), or else the number of
    taps inside the image. Both rules are PyTorch's.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        At most half of ``kernel_size``.
    ceil_mode : bool, default False
    count_include_pad : bool, default True

    Returns
    -------
    ndarray of shape (N, C, P, Q)

    Raises
    ------
    TypeError
        For non-float arrays or a non-bool flag.
    ValueError
        For a wrong rank, an empty output or padding over half the window.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import avg_pool2d
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2)[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> avg_pool2d(np.ones((1, 1, 2, 2)), 2, padding=1)[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    x = _check_input(x)
    kernel, stride, padding, _, ceil_mode = _pool_args(
        kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = _as_bool(count_include_pad, "count_include_pad")
    out_shape = _out_shape(x.shape, kernel, stride, padding, (1, 1),
                           ceil_mode)
    y = np.empty(out_shape, dtype=x.dtype)
    _core.avgpool2d_forward(contiguous(x), y, kernel, stride, padding,
                            ceil_mode, count_include_pad)
    return y


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride=None,
                        padding=0, ceil_mode=False, count_include_pad=True):
    """Gradient of a loss through :func:`avg_pool2d`.

    Each output was ``sum / divisor`` of its window, so every input pixel of
    the window receives ``grad_out[n, c, p, q] / divisor``; a pixel in
    several windows receives the sum of their shares.

    Parameters
    ----------
    grad_out : ndarray of shape (N, C, P, Q)
    input_shape : tuple of 4 ints
        The forward input's shape (N, C, H, W).
    kernel_size, stride, padding, ceil_mode, count_include_pad
        As given to :func:`avg_pool2d`.

    Returns
    -------
    ndarray of shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import avg_pool2d_backward
    >>> avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2), 2)[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    shape = _check_input_shape(input_shape)
    kernel, stride, padding, _, ceil_mode = _pool_args(
        kernel_size, stride, padding, 1, ceil_mode)
    count_include_pad = _as_bool(count_include_pad, "count_include_pad")
    out_shape = _out_shape(shape, kernel, stride, padding, (1, 1), ceil_mode)
    grad_out = _check_grad_out(grad_out, out_shape, "average pooling's")
    check_elements(math.prod(shape), "the input (N, C, H, W) = %s"
                   % (shape,))
    grad_x = np.empty(shape, dtype=grad_out.dtype)
    _core.avgpool2d_backward(contiguous(grad_out), grad_x, kernel, stride,
                             padding, ceil_mode, count_include_pad)
    return grad_x


# --------------------------------------------------------------------------
# Adaptive average pooling
# --------------------------------------------------------------------------

def _adaptive_output_size(output_size, h, w):
    """(P, Q) from an int, a pair, or a pair with None (keep that size)."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError("output_size must be an int or a pair (height, "
                             "width), got %d values %r"
                             % (len(output_size), output_size))
        return tuple(size if v is None else
                     as_int(v, "output_size[%d]" % i, 1)
                     for i, (v, size) in enumerate(zip(output_size, (h, w))))
    size = as_int(output_size, "output_size", 1)
    return (size, size)


def adaptive_avg_pool2d(x, output_size):
    """Average pooling to a fixed output size, whatever the input's.

    Output row ``p`` of ``P`` averages input rows ``floor(p*H/P)`` up to
    ``ceil((p+1)*H/P)`` (exclusive), and columns likewise: windows that
    tile the input as evenly as whole pixels allow, overlapping by a pixel
    when ``P`` does not divide ``H``. ``output_size=1`` is global average
    pooling, the usual bridge from the last feature maps to the classifier.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    output_size : int or (int, int)
        ``(P, Q)``; an int for both, and ``None`` in a pair keeps that
        axis's input size.

    Returns
    -------
    ndarray of shape (N, C, P, Q)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import adaptive_avg_pool2d
    >>> x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)
    >>> adaptive_avg_pool2d(x, 1)[0, 0]
    array([[2.5]], dtype=float32)
    >>> adaptive_avg_pool2d(x, (1, 2))[0, 0]
    array([[2., 3.]], dtype=float32)
    """
    x = _check_input(x)
    n, c, h, w = x.shape
    p, q = _adaptive_output_size(output_size, h, w)
    check_elements(n * c * p * q, "the output (N, C, P, Q) = (%d, %d, %d, %d)"
                   % (n, c, p, q))
    y = np.empty((n, c, p, q), dtype=x.dtype)
    _core.adaptive_avgpool2d_forward(contiguous(x), y)
    return y


def adaptive_avg_pool2d_backward(grad_out, input_shape):
    """Gradient of a loss through :func:`adaptive_avg_pool2d`.

    Every input pixel of output (p, q)'s window receives
    ``grad_out[n, c, p, q]`` divided by the window's size.

    Parameters
    ----------
    grad_out : ndarray of shape (N, C, P, Q)
        Its P and Q are the forward's output size.
    input_shape : tuple of 4 ints
        The forward input's shape (N, C, H, W).

    Returns
    -------
    ndarray of shape (N, C, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import adaptive_avg_pool2d_backward
    >>> adaptive_avg_pool2d_backward(np.ones((1, 1, 1, 1)), (1, 1, 2, 2))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    grad_out = as_float_array(grad_out, "grad_out")
    check_ndim(grad_out, "grad_out", 4, "(N, C, P, Q)")
    shape = _check_input_shape(input_shape)
    if 0 in grad_out.shape:
        raise ValueError("grad_out must have no empty axis, got shape %s"
                         % (grad_out.shape,))
    if grad_out.shape[:2] != shape[:2]:
        raise ValueError(
            "grad_out has (N, C) = %s but input_shape has (N, C) = %s"
            % (grad_out.shape[:2], shape[:2]))
    check_elements(math.prod(shape), "the input (N, C, H, W) = %s"
                   % (shape,))
    grad_x = np.empty(shape, dtype=grad_out.dtype)
    _core.adaptive_avgpool2d_backward(contiguous(grad_out), grad_x)
    return grad_x
