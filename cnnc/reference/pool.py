"""Pooling in plain NumPy, written to be read beside the lecture.

Pooling down-samples a feature map: it slides a window over each channel
and keeps one number per window, the maximum or the average. No checks and
no speed: these functions are the specification that the C kernels are
tested against and the model answer behind the assignments.
"""
import numpy as np

__all__ = ["max_pool2d", "max_pool2d_backward", "avg_pool2d",
           "avg_pool2d_backward", "adaptive_avg_pool2d",
           "adaptive_avg_pool2d_backward"]


def _pairs(*values):
    return [v if isinstance(v, tuple) else (v, v) for v in values]


def _output_length(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's output size along one axis."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        numerator += stride - 1
    out = numerator // stride + 1
    # In ceil mode the last window must start inside the input or the left
    # padding.
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _geometry(shape, kernel_size, stride, padding, dilation, ceil_mode):
    """Normalised pairs, the output size and the padded plane's size.

    The padded plane is large enough for every tap of every window: in
    ceil mode the last window may reach past the right padding.
    """
    if stride is None:
        stride = kernel_size
    kernel, stride, padding, dilation = _pairs(kernel_size, stride, padding,
                                               dilation)
    out, padded = [], []
    for i, size in enumerate(shape[2:]):
        o = _output_length(size, kernel[i], stride[i], padding[i],
                           dilation[i], ceil_mode)
        reach = (o - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1
        out.append(o)
        padded.append(max(size + 2 * padding[i], reach))
    return kernel, stride, padding, dilation, out, padded


def _tap(a, r, s, out, stride, dilation):
    """What window tap (r, s) meets at every output position: a strided
    view of the padded array ``a``, of shape (N, C, P, Q)."""
    top, left = r * dilation[0], s * dilation[1]
    return a[..., top: top + stride[0] * (out[0] - 1) + 1: stride[0],
             left: left + stride[1] * (out[1] - 1) + 1: stride[1]]


def _embed(x, padding, padded, fill):
    """x placed at (padding, padding) in an array of size ``padded`` filled
    with ``fill``."""
    n, c, h, w = x.shape
    out = np.full((n, c) + tuple(padded), fill, dtype=x.dtype)
    out[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return out


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    """Reference max pooling.

    The lecture's down-sampling by the maximum over windows::

        y[n, c, p, q] = max over r, s of
            x_pad[n, c, p*stride + r*dilation, q*stride + s*dilation]

    where only pixels of the image take part (the padding is never chosen).
    The running maximum below walks the window's taps in row-major order
    and is replaced only by a strictly larger value, so among equal maxima
    the first one wins; a NaN always replaces it, as in PyTorch. ``indices``
    records where each maximum was, as ``h * W + w`` in its plane.

    Returns
    -------
    y, or (y, indices) with ``return_indices``
    """
    n, c, h, w = x.shape
    kernel, stride, padding, dilation, out, padded = _geometry(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode)

    # The image, its padding marked as not a pixel, and each pixel's index.
    x_pad = _embed(x, padding, padded, 0)
    inside = _embed(np.ones((1, 1, h, w), bool), padding, padded, False)
    where = _embed(np.arange(h * w).reshape(1, 1, h, w), padding, padded, -1)

    best = np.full((n, c) + tuple(out), -np.inf, dtype=x.dtype)
    best_at = np.full((n, c) + tuple(out), -1, dtype=np.int64)
    for r in range(kernel[0]):
        for s in range(kernel[1]):
            v = _tap(x_pad, r, s, out, stride, dilation)
            ok = _tap(inside, r, s, out, stride, dilation)
            at = _tap(where, r, s, out, stride, dilation)
            # A pixel replaces the maximum so far when it is the window's
            # first pixel, larger, or NaN.
            take = ok & ((best_at < 0) | (v > best) | np.isnan(v))
            best = np.where(take, v, best)
            best_at = np.where(take, at, best_at)
    return (best, best_at) if return_indices else best


def max_pool2d_backward(grad_out, indices, input_shape):
    """Reference gradient of :func:`max_pool2d`.

    Only the maximum took part in each output, so the chain rule sends
    ``grad_out[n, c, p, q]`` back to that one pixel and zero to the others
    (``d max(a, b) / da`` is 1 when a wins, 0 otherwise). Pixels that win
    several overlapping windows collect the sum.
    """
    n, c, h, w = input_shape
    grad_x = np.zeros((n * c, h * w), dtype=grad_out.dtype)
    plane = np.arange(n * c)[:, None]
    np.add.at(grad_x, (plane, indices.reshape(n * c, -1)),
              grad_out.reshape(n * c, -1))
    return grad_x.reshape(input_shape)


def _avg_divisor(shape, kernel, stride, padding, out, padded,
                 count_include_pad):
    """How many taps each output divides by, shape (P, Q).

    Taps count when they lie in the image, or, with ``count_include_pad``,
    in the padding too; taps beyond the right padding (ceil mode) never
    count.
    """
    h, w = shape[2:]
    if count_include_pad:
        region = np.ones((h + 2 * padding[0], w + 2 * padding[1]))
        counted = np.zeros(padded)
        counted[:region.shape[0], :region.shape[1]] = region
    else:
        counted = _embed(np.ones((1, 1, h, w)), padding, padded, 0)[0, 0]
    divisor = np.zeros(out)
    for r in range(kernel[0]):
        for s in range(kernel[1]):
            divisor += _tap(counted, r, s, out, stride, (1, 1))
    return divisor


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Reference average pooling.

    The lecture's down-sampling by the average over windows::

        y[n, c, p, q] = (1 / divisor) * sum over r, s of
                        x_pad[n, c, p*stride + r, q*stride + s]

    with zeros in the padding. For a window wholly inside the image the
    divisor is the window's size R * S. At the border it counts the taps in
    the image, plus those in the padding when ``count_include_pad``; taps
    past the padding, which ceil mode allows, never count (PyTorch's rule).
    """
    kernel, stride, padding, dilation, out, padded = _geometry(
        x.shape, kernel_size, stride, padding, 1, ceil_mode)
    x_pad = _embed(x, padding, padded, 0)
    total = np.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
    for r in range(kernel[0]):
        for s in range(kernel[1]):
            total += _tap(x_pad, r, s, out, stride, dilation)
    divisor = _avg_divisor(x.shape, kernel, stride, padding, out, padded,
                           count_include_pad)
    return (total / divisor).astype(x.dtype)


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride=None,
                        padding=0, ceil_mode=False, count_include_pad=True):
    """Reference gradient of :func:`avg_pool2d`.

    ``y = sum / divisor`` gives ``dy / dx = 1 / divisor`` for every pixel
    of the window: each pixel receives ``grad_out / divisor`` from every
    window it lies in; what lands on the padding is dropped.
    """
    kernel, stride, padding, dilation, out, padded = _geometry(
        input_shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = _avg_divisor(input_shape, kernel, stride, padding, out, padded,
                           count_include_pad)
    share = grad_out / divisor
    grad_pad = np.zeros(tuple(input_shape[:2]) + tuple(padded),
                        dtype=grad_out.dtype)
    for r in range(kernel[0]):
        for s in range(kernel[1]):
            _tap(grad_pad, r, s, out, stride, dilation)[...] += share
    h, w = input_shape[2:]
    return np.ascontiguousarray(
        grad_pad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w])


def _adaptive_windows(size, out):
    """[start, end) of each of ``out`` windows over ``size`` pixels:
    start = floor(i * size / out), end = ceil((i + 1) * size / out)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_size(output_size, h, w):
    if not isinstance(output_size, (tuple, list)):
        output_size = (output_size, output_size)
    return tuple(size if o is None else o
                 for o, size in zip(output_size, (h, w)))


def adaptive_avg_pool2d(x, output_size):
    """Reference adaptive average pooling.

    The output size is fixed and the windows adapt: output row ``i`` of
    ``P`` averages input rows ``floor(i*H/P)`` to ``ceil((i+1)*H/P)``
    (exclusive), columns likewise::

        y[n, c, i, j] = mean of x[n, c, rows_i, cols_j]
    """
    n, c, h, w = x.shape
    p, q = _adaptive_size(output_size, h, w)
    y = np.empty((n, c, p, q), dtype=x.dtype)
    for i, (h0, h1) in enumerate(_adaptive_windows(h, p)):
        for j, (w0, w1) in enumerate(_adaptive_windows(w, q)):
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward(grad_out, input_shape):
    """Reference gradient of :func:`adaptive_avg_pool2d`: each pixel of
    window (i, j) receives ``grad_out[n, c, i, j] / window size``."""
    n, c, h, w = input_shape
    p, q = grad_out.shape[2:]
    grad_x = np.zeros(input_shape, dtype=grad_out.dtype)
    for i, (h0, h1) in enumerate(_adaptive_windows(h, p)):
        for j, (w0, w1) in enumerate(_adaptive_windows(w, q)):
            size = (h1 - h0) * (w1 - w0)
            grad_x[:, :, h0:h1, w0:w1] += (
                grad_out[:, :, i, j, None, None] / size)
    return grad_x

