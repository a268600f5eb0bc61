"""Activation layers: the non-linearity of the lecture's building block."""
from cnnc import functional as F
from cnnc.functional.activation import as_dim, as_finite_float
from cnnc.nn.module import Module

__all__ = ["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax",
           "LogSoftmax"]


class _Activation(Module):
    """A parameter-free layer that remembers one array for backward."""

    def __init__(self):
        super().__init__()
        self._saved = None

    def _saved_for_backward(self):
        if self._saved is None:
            raise RuntimeError("%s.backward called before forward"
                               % type(self).__name__)
        return self._saved


class ReLU(_Activation):
    """Rectified linear unit, ``y = max(x, 0)``, elementwise.

    Keeps its output for backward (see :func:`cnnc.functional.relu`).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import ReLU
    >>> layer = ReLU()
    >>> layer(np.array([-1.0, 2.0]))
    array([0., 2.])
    >>> layer.backward(np.array([5.0, 5.0]))
    array([0., 5.])
    """

    def forward(self, x):
        self._saved = F.relu(x)
        return self._saved

    def backward(self, grad_out):
        return F.relu_backward(grad_out, self._saved_for_backward())


class LeakyReLU(_Activation):
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Parameters
    ----------
    negative_slope : float, default 0.01

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import LeakyReLU
    >>> LeakyReLU(0.1)(np.array([-1.0, 2.0]))
    array([-0.1,  2. ])
    """

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = as_finite_float(negative_slope,
                                              "negative_slope")

    def forward(self, x):
        self._saved = x
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_out):
        return F.leaky_relu_backward(grad_out, self._saved_for_backward(),
                                     self.negative_slope)

    def extra_repr(self):
        return "negative_slope=%r" % self.negative_slope


class ELU(_Activation):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) -
    1)`` otherwise.

    Parameters
    ----------
    alpha : float, default 1.0

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import ELU
    >>> ELU()(np.array([0.0, 2.0]))
    array([0., 2.])
    """

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = as_finite_float(alpha, "alpha")

    def forward(self, x):
        self._saved = x
        return F.elu(x, self.alpha)

    def backward(self, grad_out):
        return F.elu_backward(grad_out, self._saved_for_backward(),
                              self.alpha)

    def extra_repr(self):
        return "alpha=%r" % self.alpha


class Sigmoid(_Activation):
    """Logistic sigmoid, ``y = 1 / (1 + exp(-x))``, elementwise.

    Its derivative ``y (1 - y)`` is at most 1/4: a deep stack of sigmoids
    multiplies the gradient by such factors layer after layer, the
    lecture's vanishing gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Sigmoid
    >>> layer = Sigmoid()
    >>> layer(np.zeros(1)), layer.backward(np.ones(1))
    (array([0.5]), array([0.25]))
    """

    def forward(self, x):
        self._saved = F.sigmoid(x)
        return self._saved

    def backward(self, grad_out):
        return F.sigmoid_backward(grad_out, self._saved_for_backward())


class Tanh(_Activation):
    """Hyperbolic tangent, elementwise.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Tanh
    >>> Tanh()(np.zeros(2))
    array([0., 0.])
    """

    def forward(self, x):
        self._saved = F.tanh(x)
        return self._saved

    def backward(self, grad_out):
        return F.tanh_backward(grad_out, self._saved_for_backward())


class _Normalising(_Activation):
    """Softmax and log-softmax: an axis, checked against x at forward."""

    def __init__(self, dim=1):
        super().__init__()
        self.dim = as_dim(dim)

    def extra_repr(self):
        return "dim=%d" % self.dim


class Softmax(_Normalising):
    """Softmax along ``dim``: each slice becomes a probability
    distribution.

    Parameters
    ----------
    dim : int, default 1
        For ``(N, C)`` scores, ``dim=1`` normalises each row; for ``(N, C,
        H, W)`` maps, each pixel's C values.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Softmax
    >>> Softmax(dim=1)(np.array([[0.0, 0.0]]))
    array([[0.5, 0.5]])
    """

    def forward(self, x):
        self._saved = F.softmax(x, self.dim)
        return self._saved

    def backward(self, grad_out):
        return F.softmax_backward(grad_out, self._saved_for_backward(),
                                  self.dim)


class LogSoftmax(_Normalising):
    """Logarithm of the softmax along ``dim``, computed stably.

    Parameters
    ----------
    dim : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import LogSoftmax
    >>> LogSoftmax()(np.array([[0.0, 0.0]])).round(4)
    array([[-0.6931, -0.6931]])
    """

    def forward(self, x):
        self._saved = F.log_softmax(x, self.dim)
        return self._saved

    def backward(self, grad_out):
        return F.log_softmax_backward(grad_out, self._saved_for_backward(),
                                      self.dim)
