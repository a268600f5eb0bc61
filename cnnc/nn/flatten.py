"""Flatten: from feature maps to the classifier's feature vectors."""
import math

from cnnc.functional._validate import as_float_array
from cnnc.functional.activation import as_dim
from cnnc.nn.module import Module

__all__ = ["Flatten"]


def _axis(dim, name, ndim, shape):
    if not -ndim <= dim < ndim:
        raise ValueError("%s must be in [%d, %d] for a %d-D x, got %d "
                         "(x.shape=%s)"
                         % (name, -ndim, ndim - 1, ndim, dim, shape))
    return dim % ndim


class Flatten(Module):
    """Merge axes ``start_dim`` to ``end_dim`` (both included) into one.

    The lecture's network ends its encoder with feature maps of shape
    ``(N, C, H, W)`` and feeds a fully connected classifier, which wants
    one vector per image: ``Flatten()`` gives ``(N, C * H * W)``. The
    vector lists channel 0's pixels row by row, then channel 1's, as in
    PyTorch, so trained weights of the classifier carry over.

    The output is a view of ``x`` when ``x`` is contiguous (a copy
    otherwise); backward reshapes the gradient back to ``x``'s shape.

    Parameters
    ----------
    start_dim : int, default 1
        First axis to merge (keeping axis 0, the batch).
    end_dim : int, default -1
        Last axis to merge; negative values count from the end.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Flatten
    >>> layer = Flatten()
    >>> layer(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    >>> layer.backward(np.ones((2, 60))).shape
    (2, 3, 4, 5)
    >>> Flatten(0, 1)(np.zeros((2, 3, 4))).shape
    (6, 4)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = as_dim(start_dim, "start_dim")
        self.end_dim = as_dim(end_dim, "end_dim")
        self._shape = None

    def output_shape(self, shape):
        """The shape ``forward`` gives for an input of shape ``shape``."""
        ndim = max(len(shape), 1)
        start = _axis(self.start_dim, "start_dim", ndim, shape)
        end = _axis(self.end_dim, "end_dim", ndim, shape)
        if start > end:
            raise ValueError(
                "start_dim must not come after end_dim, got start_dim=%d "
                "and end_dim=%d (axes %d and %d of a %d-D x)"
                % (self.start_dim, self.end_dim, start, end, ndim))
        if len(shape) == 0:
            return (1,)
        merged = math.prod(shape[start:end + 1])
        return tuple(shape[:start]) + (merged,) + tuple(shape[end + 1:])

    def forward(self, x):
        x = as_float_array(x, "x")
        out_shape = self.output_shape(x.shape)
        self._shape = x.shape
        return x.reshape(out_shape)

    def backward(self, grad_out):
        if self._shape is None:
            raise RuntimeError("Flatten.backward called before forward")
        grad_out = as_float_array(grad_out, "grad_out")
        if grad_out.size != math.prod(self._shape):
            raise ValueError(
                "grad_out must have %d elements to take x's shape %s, got "
                "shape %s" % (math.prod(self._shape), self._shape,
                              grad_out.shape))
        return grad_out.reshape(self._shape)

    def extra_repr(self):
        return "start_dim=%d, end_dim=%d" % (self.start_dim, self.end_dim)
