"""2-D convolution: validated forward and backward over the C core."""
import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, as_int, as_pair, check_elements, check_ndim,
    check_same_dtype, contiguous)

__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size"]


def _output_length(size, kernel, stride, padding, dilation, axis):
    """One axis of the output-size formula, explained when it is empty."""
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span
    if numerator < 0:
        raise ValueError(
            "the convolution's output %s is empty: (size + 2*padding - "
            "dilation*(kernel_size - 1) - 1) // stride + 1 = (%d + 2*%d - "
            "%d*(%d - 1) - 1) // %d + 1 = %d // %d + 1 < 1; the kernel spans "
            "%d pixels but the padded input has only %d"
            % (axis, size, padding, dilation, kernel, stride, numerator,
               stride, span, size + 2 * padding))
    return numerator // stride + 1


def conv2d_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution, the lecture's formula.

    Per axis::

        out = (size + 2 * padding - dilation * (kernel_size - 1) - 1)
              // stride + 1

    With ``dilation=1`` this is ``(size + 2*padding - kernel_size) // stride
    + 1``: the number of positions a window of ``kernel_size`` pixels can
    take on the padded input, stepping ``stride`` pixels at a time.

    Parameters
    ----------
    size : int or (int, int)
        Input height and width (or one value for both).
    kernel_size : int or (int, int)
        Filter height and width.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zeros added on each side.
    dilation : int or (int, int), default 1
        Spacing between filter taps.

    Returns
    -------
    int or (int, int)
        An int when ``size`` is an int, otherwise a pair.

    Raises
    ------
    ValueError
        If the output would be empty; the message shows the arithmetic.

    Examples
    --------
    The lecture's examples: a 56 x 56 x 64 input and 128 filters of 3 x 3
    with padding 1 keep 56 x 56 at stride 1, ``(56 + 2 - 3) // 1 + 1 = 56``,
    giving 56 x 56 x 128; at stride 2, ``(56 + 2 - 3) // 2 + 1 = 28``,
    giving 28 x 28 x 128. (The 128 output channels are the number of
    filters; the formula decides only height and width.)

    >>> from cnnc.functional import conv2d_output_size
    >>> conv2d_output_size(56, 3, stride=1, padding=1)
    56
    >>> conv2d_output_size(56, 3, stride=2, padding=1)
    28
    >>> conv2d_output_size((224, 224), 7, stride=2, padding=3)
    (112, 112)
    """
    pair_input = isinstance(size, (tuple, list))
    sizes = as_pair(size, "size", 1)
    kernel = as_pair(kernel_size, "kernel_size", 1)
    strides = as_pair(stride, "stride", 1)
    pads = as_pair(padding, "padding", 0)
    dils = as_pair(dilation, "dilation", 1)
    out = tuple(
        _output_length(sizes[i], kernel[i], strides[i], pads[i], dils[i],
                       axis)
        for i, axis in enumerate(("height", "width")))
    return out if pair_input else out[0]


def _check_conv_args(x, weight, stride, padding, dilation, groups):
    """Validate a convolution; returns the normalised pieces."""
    x = as_float_array(x, "x")
    weight = as_float_array(weight, "weight")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    check_ndim(weight, "weight", 4, "(K, C/groups, R, S)")
    check_same_dtype(x, "x", weight, "weight")
    if 0 in x.shape:
        raise ValueError("x must have no empty axis, got shape %s"
                         % (x.shape,))
    if 0 in weight.shape:
        raise ValueError("weight must have no empty axis, got shape %s"
                         % (weight.shape,))
    stride = as_pair(stride, "stride", 1)
    padding = as_pair(padding, "padding", 0)
    dilation = as_pair(dilation, "dilation", 1)
    groups = as_int(groups, "groups", 1)

    n, c, h, w = x.shape
    k, c_per_group = weight.shape[:2]
    if c % groups:
        raise ValueError("groups=%d must divide the input channels C=%d "
                         "(x.shape=%s)" % (groups, c, x.shape))
    if k % groups:
        raise ValueError("groups=%d must divide the output channels K=%d "
                         "(weight.shape=%s)" % (groups, k, weight.shape))
    if c_per_group * groups != c:
        raise ValueError(
            "x has %d channels but weight expects %d = C/groups x groups = "
            "%d x %d (x.shape=%s, weight.shape=%s)"
            % (c, c_per_group * groups, c_per_group, groups, x.shape,
               weight.shape))
    p, q = conv2d_output_size((h, w), weight.shape[2:], stride, padding,
                              dilation)
    check_elements(n * k * p * q, "the output (N, K, P, Q) = (%d, %d, %d, %d)"
                   % (n, k, p, q))
    return x, weight, stride, padding, dilation, groups, (n, k, p, q)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every CNN library).

    For output channel ``k`` in group ``g``::

        y[n, k, p, q] = bias[k] + sum over c, r, s of
            weight[k, c, r, s] * x[n, g*C/groups + c,
                                   p*stride - padding + r*dilation,
                                   q*stride - padding + s*dilation]

    which is the lecture's ``F_O[:, :, j] = sum_i F_I[:, :, i] * K[:, :, i,
    j] + b_j`` with the kernel tensor stored as ``(K, C, R, S)``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        float32 or float64; any memory layout, read-only is fine.
    weight : ndarray of shape (K, C/groups, R, S)
        Same dtype as ``x``.
    bias : ndarray of shape (K,), optional
    stride, padding, dilation : int or (int, int)
        Per axis (height, width); ``padding`` adds zeros on both sides.
    groups : int, default 1
        Channels split into independent groups; ``groups=C=K`` is a
        depthwise convolution.

    Returns
    -------
    ndarray of shape (N, K, P, Q)
        A new C-contiguous array, sizes from :func:`conv2d_output_size`.

    Raises
    ------
    TypeError
        For non-float arrays or mixed dtypes.
    ValueError
        For wrong ranks, channel or group mismatches, bad sizes or an empty
        output.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import conv2d
    >>> x = np.ones((1, 1, 4, 4), np.float32)
    >>> w = np.ones((1, 1, 3, 3), np.float32)
    >>> conv2d(x, w, padding=1)[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]], dtype=float32)
    """
    x, weight, stride, padding, dilation, groups, out_shape = \
        _check_conv_args(x, weight, stride, padding, dilation, groups)
    if bias is not None:
        bias = as_float_array(bias, "bias")
        check_same_dtype(x, "x", bias, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError("bias must have shape (K,) = (%d,), got %s"
                             % (weight.shape[0], bias.shape))
        bias = contiguous(bias)
    y = np.empty(out_shape, dtype=x.dtype)
    _core.conv2d_forward(contiguous(x), contiguous(weight), bias, y,
                         stride, padding, dilation, groups)
    return y


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1,
                    groups=1, bias=True, *, needs_input_grad=True,
                    needs_weight_grad=True):
    """Gradients of a loss through :func:`conv2d`.

    With ``dy = grad_out = dL/dy``::

        grad_x = the "full" correlation of dy with the flipped weights
        grad_weight[k, c, r, s] = sum over n, p, q of dy[n, k, p, q] *
                                  x[n, c, p*stride - padding + r*dilation, ...]
        grad_bias[k] = sum over n, p, q of dy[n, k, p, q]

    Parameters
    ----------
    grad_out : ndarray of shape (N, K, P, Q)
        Gradient of the loss with respect to the convolution's output.
    x, weight, stride, padding, dilation, groups
        As given to :func:`conv2d`.
    bias : bool, default True
        Whether the convolution had a bias (then ``grad_bias`` is computed).
    needs_input_grad, needs_weight_grad : bool, default True
        Skip ``grad_x`` or ``grad_weight`` (returned as None), e.g. for the
        first layer or a frozen one.

    Returns
    -------
    grad_x : ndarray of shape (N, C, H, W) or None
    grad_weight : ndarray of shape (K, C/groups, R, S) or None
    grad_bias : ndarray of shape (K,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import conv2d, conv2d_backward
    >>> x = np.ones((1, 1, 3, 3)); w = np.ones((1, 1, 2, 2))
    >>> dy = np.ones_like(conv2d(x, w))
    >>> dx, dw, db = conv2d_backward(dy, x, w)
    >>> dx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> db
    array([4.])
    """
    x, weight, stride, padding, dilation, groups, out_shape = \
        _check_conv_args(x, weight, stride, padding, dilation, groups)
    grad_out = as_float_array(grad_out, "grad_out")
    check_same_dtype(x, "x", grad_out, "grad_out")
    if grad_out.shape != out_shape:
        raise ValueError(
            "grad_out must have the convolution's output shape (N, K, P, Q) "
            "= %s, got %s" % (out_shape, grad_out.shape))
    grad_x = np.empty(x.shape, x.dtype) if needs_input_grad else None
    grad_w = np.empty(weight.shape, x.dtype) if needs_weight_grad else None
    grad_b = np.empty(weight.shape[0], x.dtype) if bias else None
    _core.conv2d_backward(contiguous(grad_out), contiguous(x),
                          contiguous(weight), grad_x, grad_w, grad_b,
                          stride, padding, dilation, groups)
    return grad_x, grad_w, grad_b
