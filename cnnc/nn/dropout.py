"""Dropout layers: the lecture's fix for overfitting."""
import numpy as np

from cnnc import functional as F
from cnnc.functional._validate import as_float_array
from cnnc.functional.dropout import as_generator, check_probability
from cnnc.nn.module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutBase(Module):
    """Shared by Dropout and Dropout2d: p, the generator and the mask."""

    _forward = None     # the functional forward and backward, per class
    _backward = None

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_probability(p)
        self._rng = as_generator(rng)
        self._mask = None
        self._ran_forward = False

    def forward(self, x):
        """Drop units in training mode; the identity in eval mode."""
        self._ran_forward = True
        if not self.training or self.p == 0.0:
            self._mask = None
            return self._forward(x, self.p, training=False)
        y, self._mask = self._forward(x, self.p, training=True,
                                      rng=self._rng, return_mask=True)
        return y

    def backward(self, grad_out):
        """Route the gradient through the kept units, scaled alike."""
        if not self._ran_forward:
            raise RuntimeError("%s.backward called before forward"
                               % type(self).__name__)
        if self._mask is None:
            grad_out = as_float_array(grad_out, "grad_out")
            return np.array(grad_out, order="C", copy=True)
        return self._backward(grad_out, self._mask, self.p)

    def extra_repr(self):
        return "p=%r" % self.p


class Dropout(_DropoutBase):
    """Inverted dropout: in training, zero each element with probability p.

    The lecture keeps each unit with probability p_keep; PyTorch and cnnc
    name the other one, ``p = 1 - p_keep``, the probability of zeroing
    (the lecture's p_keep = 0.8 is ``Dropout(p=0.2)``). Kept elements are
    scaled by ``1 / (1 - p)`` so their expected value is unchanged, and in
    eval mode (``layer.eval()``) the layer is the identity.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an element, in [0, 1).
    rng : numpy.random.Generator or int, optional
        Source of the masks; a fixed seed gives the same sequence of masks.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Dropout
    >>> layer = Dropout(p=0.5, rng=0)
    >>> y = layer(np.ones(8))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> bool(np.all((layer.backward(np.ones(8)) == 0) == (y == 0)))
    True
    >>> layer.eval()(np.ones(3))
    array([1., 1., 1.])
    """

    _forward = staticmethod(F.dropout)
    _backward = staticmethod(F.dropout_backward)


class Dropout2d(_DropoutBase):
    """Channel dropout: in training, zero whole feature maps of ``(N, C, H,
    W)`` with probability p, scaling the rest by ``1 / (1 - p)``.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing a feature map, in [0, 1) (the lecture's keep
        probability is ``1 - p``).
    rng : numpy.random.Generator or int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Dropout2d
    >>> y = Dropout2d(p=0.5, rng=0)(np.ones((2, 3, 4, 4)))
    >>> bool(np.all(y.min(axis=(2, 3)) == y.max(axis=(2, 3))))
    True
    """

    _forward = staticmethod(F.dropout2d)
    _backward = staticmethod(F.dropout2d_backward)
