"""cnnc.losses: the errors a network minimises, as objects with
``forward`` and ``backward``.

A loss is called on the network's output and the truth and returns a
Python float (or, with ``reduction="none"``, an array of per-sample
losses); its ``backward()`` returns the gradient for the output, which
starts the backward pass through the layers::

    loss = criterion(model(x), y)       # forward
    model.backward(criterion.backward())

Names and semantics follow PyTorch's ``torch.nn`` losses.
"""
import numpy as np

from cnnc import functional as F
from cnnc.functional._validate import as_float_array
from cnnc.functional.loss import (
    check_label_smoothing, check_reduction, grad_out_array)

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss"]


class _Loss:
    """What every loss shares: the reduction, ``__call__`` and the
    arguments ``backward`` needs, remembered by ``forward``."""

    def __init__(self, reduction="mean"):
        self.reduction = check_reduction(reduction)
        self._saved = None

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def forward(self, pred, target):
        raise NotImplementedError(
            "%s does not define forward()" % type(self).__name__)

    def _result(self, loss):
        """A float for "mean" and "sum", the array for "none"."""
        return loss if self.reduction == "none" else float(loss)

    def _default_grad(self, grad_out, shape, dtype):
        """The gradient arriving at the loss: 1 unless given."""
        if grad_out is not None:
            return grad_out
        if self.reduction == "none":
            return np.ones(shape, dtype)
        return 1.0

    def _check_called(self):
        if self._saved is None:
            raise RuntimeError("%s.backward called before forward"
                               % type(self).__name__)

    def extra_repr(self):
        return "reduction=%r" % self.reduction

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.extra_repr())


class CrossEntropyLoss(_Loss):
    """Cross-entropy of class scores: softmax, then minus the log of the
    true class's probability (see :func:`cnnc.functional.cross_entropy`).

    The loss of a classifier. ``forward`` computes the loss and its
    gradient in one pass over the logits, so ``backward`` for "mean" and
    "sum" costs nothing more.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
    label_smoothing : float in [0, 1], default 0.0
        Mix the one-hot target with the uniform distribution by this much.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.losses import CrossEntropyLoss
    >>> criterion = CrossEntropyLoss()
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    >>> round(criterion(logits, np.array([0, 2])), 6)
    0.669079
    >>> criterion.backward().round(3)
    array([[-0.107,  0.053,  0.053],
           [ 0.167,  0.167, -0.333]])
    """

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def forward(self, pred, target):
        """The loss of logits ``pred`` (N, C) for class indices ``target``
        (N,): a float, or an array (N,) for reduction="none"."""
        if self.reduction == "none":
            pred = as_float_array(pred, "logits")
            loss = F.cross_entropy(pred, target, "none", self.label_smoothing)
            self._saved = (pred, target)
            return loss
        loss, grad = F.cross_entropy_with_grad(
            pred, target, self.reduction, self.label_smoothing)
        self._saved = grad
        return float(loss)

    def backward(self, grad_out=None):
        """The gradient for ``pred``, of shape (N, C).

        Parameters
        ----------
        grad_out : float, or ndarray of shape (N,) for reduction="none"
            The gradient arriving at the loss; 1 by default.
        """
        self._check_called()
        if self.reduction != "none":
            if grad_out is None:
                return self._saved
            grad = self._saved
            scale = grad_out_array(grad_out, self.reduction, (), grad.dtype)
            return grad * scale[0]
        pred, target = self._saved
        grad_out = self._default_grad(grad_out, (len(target),), pred.dtype)
        return F.cross_entropy_backward(grad_out, pred, target, "none",
                                        self.label_smoothing)

    def extra_repr(self):
        text = super().extra_repr()
        if self.label_smoothing:
            text += ", label_smoothing=%r" % self.label_smoothing
        return text


class NLLLoss(_Loss):
    """Negative log-likelihood of the true class, for log-probabilities
    (see :func:`cnnc.functional.nll_loss`). A log-softmax followed by this
    loss is :class:`CrossEntropyLoss`.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.losses import NLLLoss
    >>> criterion = NLLLoss()
    >>> log_probs = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    >>> round(criterion(log_probs, np.array([0, 1])), 6)
    0.490415
    >>> criterion.backward()
    array([[-0.5,  0. ],
           [ 0. , -0.5]])
    """

    def forward(self, pred, target):
        """The loss of log-probabilities ``pred`` (N, C) for class indices
        ``target`` (N,)."""
        pred = as_float_array(pred, "log_probs")
        loss = F.nll_loss(pred, target, self.reduction)
        self._saved = (pred, target)
        return self._result(loss)

    def backward(self, grad_out=None):
        """The gradient for ``pred``, of shape (N, C).

        Parameters
        ----------
        grad_out : float, or ndarray of shape (N,) for reduction="none"
            The gradient arriving at the loss; 1 by default.
        """
        self._check_called()
        pred, target = self._saved
        grad_out = self._default_grad(grad_out, (len(target),), pred.dtype)
        return F.nll_loss_backward(grad_out, pred, target, self.reduction)


class _ElementwiseLoss(_Loss):
    _forward = None
    _backward = None

    def forward(self, pred, target):
        """The loss between ``pred`` and ``target`` of the same shape."""
        pred = as_float_array(pred, "pred")
        loss = type(self)._forward(pred, target, self.reduction)
        self._saved = (pred, target)
        return self._result(loss)

    def backward(self, grad_out=None):
        """The gradient for ``pred``, of pred's shape.

        Parameters
        ----------
        grad_out : float, or ndarray of pred's shape for reduction="none"
            The gradient arriving at the loss; 1 by default.
        """
        self._check_called()
        pred, target = self._saved
        grad_out = self._default_grad(grad_out, pred.shape, pred.dtype)
        return type(self)._backward(grad_out, pred, target, self.reduction)


class MSELoss(_ElementwiseLoss):
    """Squared error ``(pred - target)^2``, averaged by default: the
    lecture's error for values (see :func:`cnnc.functional.mse_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.losses import MSELoss
    >>> criterion = MSELoss()
    >>> criterion(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    5.0
    >>> criterion.backward()
    array([1., 3.])
    """

    _forward = staticmethod(F.mse_loss)
    _backward = staticmethod(F.mse_loss_backward)


class L1Loss(_ElementwiseLoss):
    """Absolute error ``|pred - target|``, averaged by default: the
    lecture's absolute error (see :func:`cnnc.functional.l1_loss`).

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.losses import L1Loss
    >>> criterion = L1Loss(reduction="sum")
    >>> criterion(np.array([1.0, -3.0]), np.array([0.0, 0.0]))
    4.0
    >>> criterion.backward()
    array([ 1., -1.])
    """

    _forward = staticmethod(F.l1_loss)
    _backward = staticmethod(F.l1_loss_backward)
