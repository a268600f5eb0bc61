"""Convolution in plain NumPy, written to be read beside the lecture.

No checks and no speed: these functions are the specification that the C
kernels are tested against and the model answer behind the assignments.
"""
import numpy as np

__all__ = ["conv2d", "conv2d_backward"]


def _pairs(*values):
    return [v if isinstance(v, tuple) else (v, v) for v in values]


def _window(x_pad, r, s, out_h, out_w, stride, dilation):
    """The input pixels that filter tap (r, s) meets at every output
    position: a strided view of shape (N, C, P, Q)."""
    top, left = r * dilation[0], s * dilation[1]
    return x_pad[:, :,
                 top: top + stride[0] * (out_h - 1) + 1: stride[0],
                 left: left + stride[1] * (out_w - 1) + 1: stride[1]]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Reference 2-D convolution.

    The lecture writes one layer as::

        F_O[:, :, j] = sum_i F_I[:, :, i] * K[:, :, i, j] + b_j

    where ``F_I`` is the h x w x N_I input, ``K`` the h x w x N_I x N_O
    kernel tensor, ``*`` the sliding-window product-and-sum, and ``b_j`` one
    bias per output channel. In cnnc's layout the input is ``x[n, i, :, :]``
    and the kernel ``weight[j, i, :, :]``, so the same sum reads::

        y[n, j, p, q] = b[j] + sum_i sum_r sum_s
                        weight[j, i, r, s] * x_pad[n, i, p*stride + r,
                                                         q*stride + s]

    It is computed here one filter tap (r, s) at a time: the tap's weight
    matrix times the input pixels it meets across the whole output.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    weight : ndarray of shape (K, C/groups, R, S)
    bias : ndarray of shape (K,), optional
    stride, padding, dilation : int or (int, int)
    groups : int

    Returns
    -------
    ndarray of shape (N, K, P, Q)
    """
    stride, padding, dilation = _pairs(stride, padding, dilation)
    n, c, h, w = x.shape
    k, c_per_group, kh, kw = weight.shape
    out_h = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    out_w = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    k_per_group = k // groups

    # Zero padding around each image.
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    y = np.zeros((n, k, out_h, out_w), dtype=x.dtype)

    # Each group sees only its own channels.
    for g in range(groups):
        xs = x_pad[:, g * c_per_group:(g + 1) * c_per_group]
        ks = slice(g * k_per_group, (g + 1) * k_per_group)
        for r in range(kh):
            for s in range(kw):
                window = _window(xs, r, s, out_h, out_w, stride, dilation)
                # sum over input channels i of weight[j, i, r, s] * window
                y[:, ks] += np.einsum("nipq,ji->njpq", window,
                                      weight[ks, :, r, s])
    if bias is not None:
        y += bias.reshape(1, k, 1, 1)
    return y


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1,
                    groups=1, bias=True):
    """Reference gradients of :func:`conv2d`.

    Every output pixel y[n, j, p, q] was a sum of products
    ``weight[j, i, r, s] * x_pad[n, i, p*stride + r, q*stride + s]``, so the
    chain rule sends its gradient ``dy[n, j, p, q]`` back along each
    product:

    - to the weight: ``dW[j, i, r, s] += dy[n, j, p, q] * x_pad[...]``
    - to the input pixel it read: ``dx_pad[...] += dy[n, j, p, q] *
      weight[j, i, r, s]``
    - to the bias: ``db[j] += dy[n, j, p, q]``

    and the padding's share of dx is dropped.

    Returns
    -------
    (grad_x, grad_weight, grad_bias)
        ``grad_bias`` is None when ``bias`` is False.
    """
    stride, padding, dilation = _pairs(stride, padding, dilation)
    n, c, h, w = x.shape
    k, c_per_group, kh, kw = weight.shape
    out_h, out_w = grad_out.shape[2:]
    k_per_group = k // groups

    x_pad = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(weight)

    for g in range(groups):
        cs = slice(g * c_per_group, (g + 1) * c_per_group)
        ks = slice(g * k_per_group, (g + 1) * k_per_group)
        for r in range(kh):
            for s in range(kw):
                window = _window(x_pad[:, cs], r, s, out_h, out_w, stride,
                                 dilation)
                dw[ks, :, r, s] = np.einsum("njpq,nipq->ji", grad_out[:, ks],
                                            window)
                dwindow = _window(dx_pad[:, cs], r, s, out_h, out_w, stride,
                                  dilation)
                dwindow += np.einsum("njpq,ji->nipq", grad_out[:, ks],
                                     weight[ks, :, r, s])

    # Drop the gradient that landed on the padding.
    grad_x = dx_pad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]
    grad_b = grad_out.sum(axis=(0, 2, 3)) if bias else None
    return np.ascontiguousarray(grad_x), dw, grad_b
