"""The convolution layer."""
import math

import numpy as np

from cnnc import functional as F
from cnnc.functional import _validate
from cnnc.functional._validate import as_int, as_pair
from cnnc.nn.module import Module, Parameter

__all__ = ["Conv2d"]


class Conv2d(Module):
    """2-D convolution layer: the lecture's building block.

    ``out_channels`` filters, each of shape ``(in_channels / groups,
    kernel_size)``, slide over the input; each produces one output channel
    plus its own bias (see :func:`cnnc.functional.conv2d`).

    Parameters
    ----------
    in_channels : int
        The lecture's N_I.
    out_channels : int
        The lecture's N_O: the number of filters.
    kernel_size : int or (int, int)
        The lecture's h x w.
    stride, padding, dilation : int or (int, int)
    groups : int, default 1
    bias : bool, default True
    rng : numpy.random.Generator or int, optional
        Source of the initial weights; a fixed seed gives the same layer.
    dtype : numpy dtype, default float32

    Attributes
    ----------
    weight : Parameter of shape (out_channels, in_channels/groups, R, S)
        Initialised as PyTorch does, uniform in ``+-1/sqrt(fan_in)`` with
        ``fan_in = in_channels/groups * R * S``.
    bias : Parameter of shape (out_channels,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Conv2d
    >>> conv = Conv2d(3, 8, kernel_size=3, padding=1, rng=0)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> y = conv(np.zeros((2, 3, 16, 16), np.float32))
    >>> y.shape
    (2, 8, 16, 16)
    >>> dx = conv.backward(np.ones_like(y))
    >>> dx.shape, conv.weight.grad.shape
    ((2, 3, 16, 16), (8, 3, 3, 3))
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, groups=1, bias=True, rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_channels = as_int(in_channels, "in_channels", 1)
        self.out_channels = as_int(out_channels, "out_channels", 1)
        self.kernel_size = as_pair(kernel_size, "kernel_size", 1)
        self.stride = as_pair(stride, "stride", 1)
        self.padding = as_pair(padding, "padding", 0)
        self.dilation = as_pair(dilation, "dilation", 1)
        self.groups = as_int(groups, "groups", 1)
        for name, value in (("in_channels", self.in_channels),
                            ("out_channels", self.out_channels)):
            if value % self.groups:
                raise ValueError("groups=%d must divide %s=%d"
                                 % (self.groups, name, value))
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError("dtype must be float32 or float64, got %s" % dtype)

        rng = np.random.default_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups) \
            + self.kernel_size
        bound = 1.0 / math.sqrt(shape[1] * shape[2] * shape[3])
        self.weight = Parameter(
            rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = Parameter(
            rng.uniform(-bound, bound, size=self.out_channels).astype(dtype)
        ) if bias else None
        self._x = None

    def forward(self, x):
        """Convolve ``x`` of shape (N, C, H, W); remembers x for backward."""
        x = self._check_input(x)
        self._x = x
        return F.conv2d(x, self.weight.data,
                        None if self.bias is None else self.bias.data,
                        self.stride, self.padding, self.dilation, self.groups)

    def backward(self, grad_out):
        """Return dL/dx; add dL/dweight and dL/dbias to their ``.grad``."""
        if self._x is None:
            raise RuntimeError("Conv2d.backward called before forward")
        want_w = self.weight.requires_grad
        want_b = self.bias is not None and self.bias.requires_grad
        dx, dw, db = F.conv2d_backward(
            grad_out, self._x, self.weight.data, self.stride, self.padding,
            self.dilation, self.groups, bias=want_b, needs_weight_grad=want_w)
        if want_w:
            self.weight.accumulate_grad(dw)
        if want_b:
            self.bias.accumulate_grad(db)
        return dx

    def _check_input(self, x):
        x = _validate.as_float_array(x, "x")
        if x.ndim == 4 and x.shape[1] != self.in_channels:
            raise ValueError(
                "x has %d channels but this Conv2d expects in_channels=%d "
                "(x.shape=%s)" % (x.shape[1], self.in_channels, x.shape))
        return x

    def extra_repr(self):
        text = "%d, %d, kernel_size=%s, stride=%s" % (
            self.in_channels, self.out_channels, self.kernel_size,
            self.stride)
        if self.padding != (0, 0):
            text += ", padding=%s" % (self.padding,)
        if self.dilation != (1, 1):
            text += ", dilation=%s" % (self.dilation,)
        if self.groups != 1:
            text += ", groups=%d" % self.groups
        if self.bias is None:
            text += ", bias=False"
        return text
