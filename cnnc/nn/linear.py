"""The fully connected layer."""
import math

import numpy as np

from cnnc import functional as F
from cnnc.functional import _validate
from cnnc.functional._validate import as_int
from cnnc.nn.module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    """Fully connected layer: ``y = x @ weight.T + bias``.

    The lecture's classifier after the encoder: every one of the
    ``out_features`` neurons sees every input feature through its own
    weight (see :func:`cnnc.functional.linear`). After convolutions, the
    feature maps are flattened first, ``(N, C, H, W) -> (N, C*H*W)``.

    Parameters
    ----------
    in_features : int
        Features per sample in the input.
    out_features : int
        Neurons, i.e. features per sample in the output (the number of
        classes for a classifier's last layer).
    bias : bool, default True
    rng : numpy.random.Generator or int, optional
        Source of the initial weights; a fixed seed gives the same layer.
    dtype : numpy dtype, default float32

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
        Initialised as PyTorch does, uniform in ``+-1/sqrt(in_features)``.
    bias : Parameter of shape (out_features,) or None
        Uniform in ``+-1/sqrt(in_features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Linear
    >>> fc = Linear(16, 4, rng=0)
    >>> fc
    Linear(in_features=16, out_features=4, bias=True)
    >>> y = fc(np.ones((8, 16), np.float32))
    >>> y.shape
    (8, 4)
    >>> dx = fc.backward(np.ones_like(y))
    >>> dx.shape, fc.weight.grad.shape, fc.bias.grad.shape
    ((8, 16), (4, 16), (4,))
    """

    def __init__(self, in_features, out_features, bias=True, rng=None,
                 dtype=np.float32):
        super().__init__()
        self.in_features = as_int(in_features, "in_features", 1)
        self.out_features = as_int(out_features, "out_features", 1)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError("dtype must be float32 or float64, got %s" % dtype)

        rng = np.random.default_rng(rng)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(rng.uniform(
            -bound, bound, size=(self.out_features, self.in_features)
        ).astype(dtype))
        self.bias = Parameter(
            rng.uniform(-bound, bound, size=self.out_features).astype(dtype)
        ) if bias else None
        self._x = None

    def forward(self, x):
        """``x @ weight.T + bias`` for x of shape (N, in_features);
        remembers x for backward."""
        x = self._check_input(x)
        self._x = x
        return F.linear(x, self.weight.data,
                        None if self.bias is None else self.bias.data)

    def backward(self, grad_out):
        """Return dL/dx; add dL/dweight and dL/dbias to their ``.grad``."""
        if self._x is None:
            raise RuntimeError("Linear.backward called before forward")
        want_w = self.weight.requires_grad
        want_b = self.bias is not None and self.bias.requires_grad
        dx, dw, db = F.linear_backward(grad_out, self._x, self.weight.data,
                                       bias=want_b, needs_weight_grad=want_w)
        if want_w:
            self.weight.accumulate_grad(dw)
        if want_b:
            self.bias.accumulate_grad(db)
        return dx

    def _check_input(self, x):
        x = _validate.as_float_array(x, "x")
        if x.ndim == 2 and x.shape[1] != self.in_features:
            raise ValueError(
                "Linear expects %d input features but receives %d "
                "(x.shape=%s)" % (self.in_features, x.shape[1], x.shape))
        return x

    def extra_repr(self):
        return "in_features=%d, out_features=%d, bias=%s" % (
            self.in_features, self.out_features, self.bias is not None)
