"""Pooling layers: the lecture's down-sampling step of the building block."""
from cnnc import functional as F
from cnnc.functional._validate import as_float_array
from cnnc.functional.pool import (_adaptive_output_size, _as_bool,
                                  _pool_args)
from cnnc.nn.module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """2-D max pooling layer: keeps the largest value of each window.

    See :func:`cnnc.functional.max_pool2d` for the formula, the output
    size and the tie rule (the first maximum in row-major window order).
    The layer has no parameters; ``backward`` sends each gradient to the
    input pixel that won its window in the last ``forward``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        At most half of ``kernel_size``.
    dilation : int or (int, int), default 1
    return_indices : bool, default False
        ``forward`` returns ``(y, indices)`` instead of ``y``.
    ceil_mode : bool, default False

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import MaxPool2d
    >>> pool = MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> pool(x)[0, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    >>> pool.backward(np.ones((1, 1, 2, 2), np.float32))[0, 0]
    array([[0., 0., 0., 0.],
           [0., 1., 0., 1.],
           [0., 0., 0., 0.],
           [0., 1., 0., 1.]], dtype=float32)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices=False, ceil_mode=False):
        super().__init__()
        _pool_args(kernel_size, stride, padding, dilation, ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = _as_bool(return_indices, "return_indices")
        self.ceil_mode = _as_bool(ceil_mode, "ceil_mode")
        self._indices = None
        self._input_shape = None

    def forward(self, x):
        """Pool ``x`` of shape (N, C, H, W); remembers the argmax."""
        x = as_float_array(x, "x")
        y, indices = F.max_pool2d(x, self.kernel_size, self.stride,
                                  self.padding, self.dilation, self.ceil_mode,
                                  return_indices=True)
        self._indices = indices
        self._input_shape = x.shape
        return (y, indices) if self.return_indices else y

    def backward(self, grad_out):
        """Return dL/dx: ``grad_out`` routed to each window's maximum."""
        if self._indices is None:
            raise RuntimeError("MaxPool2d.backward called before forward")
        return F.max_pool2d_backward(grad_out, self._indices,
                                     self._input_shape)

    def extra_repr(self):
        return ("kernel_size=%s, stride=%s, padding=%s, dilation=%s, "
                "ceil_mode=%s" % (self.kernel_size, self.stride, self.padding,
                                  self.dilation, self.ceil_mode))


class AvgPool2d(Module):
    """2-D average pooling layer: keeps the mean of each window.

    See :func:`cnnc.functional.avg_pool2d` for the formula and the divisor
    at the border.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size``.
    padding : int or (int, int), default 0
        At most half of ``kernel_size``.
    ceil_mode : bool, default False
    count_include_pad : bool, default True
        Whether zeros of the padding count in the divisor.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import AvgPool2d
    >>> pool = AvgPool2d(2)
    >>> pool
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    >>> x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    >>> pool(x)[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    >>> pool.backward(np.ones((1, 1, 2, 2), np.float32))[0, 0, 0]
    array([0.25, 0.25, 0.25, 0.25], dtype=float32)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        _pool_args(kernel_size, stride, padding, 1, ceil_mode)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = _as_bool(ceil_mode, "ceil_mode")
        self.count_include_pad = _as_bool(count_include_pad,
                                          "count_include_pad")
        self._input_shape = None

    def forward(self, x):
        """Pool ``x`` of shape (N, C, H, W); remembers its shape."""
        x = as_float_array(x, "x")
        y = F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                         self.ceil_mode, self.count_include_pad)
        self._input_shape = x.shape
        return y

    def backward(self, grad_out):
        """Return dL/dx: each window's gradient shared among its pixels."""
        if self._input_shape is None:
            raise RuntimeError("AvgPool2d.backward called before forward")
        return F.avg_pool2d_backward(grad_out, self._input_shape,
                                     self.kernel_size, self.stride,
                                     self.padding, self.ceil_mode,
                                     self.count_include_pad)

    def extra_repr(self):
        text = "kernel_size=%s, stride=%s, padding=%s" % (
            self.kernel_size, self.stride, self.padding)
        if self.ceil_mode:
            text += ", ceil_mode=True"
        if not self.count_include_pad:
            text += ", count_include_pad=False"
        return text


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's.

    ``AdaptiveAvgPool2d(1)`` is global average pooling: one number per
    channel, the usual bridge from the last feature maps to a classifier.
    See :func:`cnnc.functional.adaptive_avg_pool2d` for the windows.

    Parameters
    ----------
    output_size : int or (int, int)
        ``(P, Q)``; ``None`` in a pair keeps that axis's input size.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import AdaptiveAvgPool2d
    >>> gap = AdaptiveAvgPool2d(1)
    >>> gap
    AdaptiveAvgPool2d(output_size=1)
    >>> x = np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)
    >>> gap(x).ravel()
    array([1.5, 5.5], dtype=float32)
    >>> gap.backward(np.ones((1, 2, 1, 1), np.float32))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """

    def __init__(self, output_size):
        super().__init__()
        _adaptive_output_size(output_size, 1, 1)
        self.output_size = output_size
        self._input_shape = None

    def forward(self, x):
        """Pool ``x`` of shape (N, C, H, W) to (N, C, P, Q)."""
        x = as_float_array(x, "x")
        y = F.adaptive_avg_pool2d(x, self.output_size)
        self._input_shape = x.shape
        return y

    def backward(self, grad_out):
        """Return dL/dx: each window's gradient shared among its pixels."""
        if self._input_shape is None:
            raise RuntimeError(
                "AdaptiveAvgPool2d.backward called before forward")
        return F.adaptive_avg_pool2d_backward(grad_out, self._input_shape)

    def extra_repr(self):
        return "output_size=%s" % (self.output_size,)
