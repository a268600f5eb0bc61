"""Losses: validated values and gradients over the C core.

Each loss has a forward function returning the loss and a ``*_backward``
returning the gradient for its first argument. ``reduction`` is PyTorch's:
``"mean"`` and ``"sum"`` give one number (a 0-d array), ``"none"`` one
loss per sample (per element for the elementwise losses).
"""
import numbers

import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, check_same_dtype, contiguous)

__all__ = [
    "cross_entropy", "cross_entropy_backward", "cross_entropy_with_grad",
    "nll_loss", "nll_loss_backward", "mse_loss", "mse_loss_backward",
    "l1_loss", "l1_loss_backward",
]

REDUCTIONS = ("none", "mean", "sum")


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------

def check_reduction(reduction):
    """``reduction`` if it is "none", "mean" or "sum"; raise otherwise."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError("reduction must be 'none', 'mean' or 'sum', got %r"
                         % (reduction,))
    return reduction


def check_label_smoothing(label_smoothing):
    """``label_smoothing`` as a float in [0, 1]; raise otherwise."""
    if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(
            label_smoothing, numbers.Real):
        raise TypeError("label_smoothing must be a number in [0, 1], got %s %r"
                        % (type(label_smoothing).__name__, label_smoothing))
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError("label_smoothing must be in [0, 1], got %r"
                         % (label_smoothing,))
    return value


def _check_scores(scores, name):
    """Validate class scores of shape (N, C): logits or log-probabilities."""
    scores = as_float_array(scores, name)
    if scores.ndim != 2:
        raise ValueError("%s must be a 2-D array of shape (N, C), one row of "
                         "C class scores per sample, got shape %s"
                         % (name, scores.shape))
    if 0 in scores.shape:
        raise ValueError("%s must have no empty axis, got shape %s"
                         % (name, scores.shape))
    return scores


def check_target(target, scores, name):
    """Class indices of shape (N,) for ``scores`` (N, C), as int64.

    The first index out of [0, C) is reported with its position.
    """
    n, c = scores.shape
    target = np.asarray(target)
    if target.dtype == np.bool_ or target.dtype.kind not in "iu":
        raise TypeError(
            "target must be an integer array of class indices, got dtype %s"
            "%s" % (target.dtype, " (class probabilities are not supported)"
                    if target.dtype.kind == "f" else ""))
    if target.shape != (n,):
        raise ValueError(
            "target must have shape (N,) = (%d,), one class index per row of "
            "%s, got shape %s (%s.shape=%s)"
            % (n, name, target.shape, name, scores.shape))
    bad = (target < 0) | (target >= c)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "target[%d] = %d is not a class index: %s has C=%d classes, so "
            "indices must be in [0, %d]"
            % (i, int(target[i]), name, c, c - 1))
    return np.ascontiguousarray(target, dtype=np.int64)


def _check_pair(pred, target):
    """pred and target of the elementwise losses: same dtype and shape."""
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target")
    check_same_dtype(pred, "pred", target, "target")
    if target.shape != pred.shape:
        raise ValueError("target must have the shape of pred, got "
                         "target.shape=%s and pred.shape=%s"
                         % (target.shape, pred.shape))
    if pred.size == 0:
        raise ValueError("pred must not be empty, got shape %s"
                         % (pred.shape,))
    return pred, target


def grad_out_array(grad_out, reduction, shape, dtype):
    """``grad_out`` as the flat array the core reads: one value for "mean"
    and "sum", the unreduced loss's ``shape`` for "none"."""
    given = as_float_array(grad_out, "grad_out")
    if reduction == "none":
        if isinstance(grad_out, np.ndarray):
            check_same_dtype(np.empty(0, dtype), "the loss", given,
                             "grad_out")
        if given.shape != shape:
            raise ValueError(
                "grad_out must have the unreduced loss's shape %s for "
                "reduction='none', got shape %s" % (shape, given.shape))
        return contiguous(given.astype(dtype, copy=False)).reshape(-1)
    if given.size != 1 or given.ndim > 1:
        raise ValueError("grad_out must be a single number for reduction=%r, "
                         "got shape %s" % (reduction, given.shape))
    return np.array(given, dtype=dtype).reshape(1)


def _loss_out(reduction, shape, dtype):
    """The array the core writes the loss into."""
    if reduction == "none":
        return np.empty(shape, dtype)
    return np.empty(1, dtype)


def _loss_result(loss, reduction):
    return loss if reduction == "none" else loss.reshape(())


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------

def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of class scores: log-softmax and negative
    log-likelihood in one pass.

    For sample ``n`` with true class ``t = target[n]``::

        p[n]    = softmax(logits[n]),  p[n, c] = e^logits[n, c] / sum_c' e^...
        loss[n] = -log p[n, t]

    With ``label_smoothing = eps`` the target is the smoothed distribution
    ``(1 - eps) onehot(t) + eps / C``::

        loss[n] = -(1 - eps) log p[n, t] - (eps / C) sum over c of log p[n, c]

    Computed from log-probabilities with each row's largest logit taken out
    first, so logits of any size (1e4, -1e4) give finite results.

    Parameters
    ----------
    logits : ndarray of shape (N, C)
        Unnormalised class scores (the classifier's output, no softmax).
    target : integer ndarray of shape (N,)
        The true class of each sample, in [0, C).
    reduction : {"mean", "sum", "none"}, default "mean"
    label_smoothing : float in [0, 1], default 0.0

    Returns
    -------
    ndarray
        Of shape () for "mean" and "sum", (N,) for "none"; dtype of logits.

    Raises
    ------
    TypeError
        For non-float logits or non-integer targets.
    ValueError
        For wrong shapes, a class index out of range (the first one is
        named, with its position), an unknown reduction or a smoothing
        outside [0, 1].

    Examples
    --------
    Equal scores for 4 classes: the loss is log 4.

    >>> import numpy as np
    >>> from cnnc.functional import cross_entropy
    >>> float(cross_entropy(np.zeros((2, 4)), np.array([0, 3])))
    1.3862943611198906
    """
    logits, target, reduction, eps = _check_ce(logits, target, reduction,
                                               label_smoothing)
    loss = _loss_out(reduction, (logits.shape[0],), logits.dtype)
    _core.cross_entropy(contiguous(logits), target, eps,
                        _core.REDUCTIONS[reduction], loss, None, None)
    return _loss_result(loss, reduction)


def _check_ce(logits, target, reduction, label_smoothing):
    logits = _check_scores(logits, "logits")
    target = check_target(target, logits, "logits")
    return (logits, target, check_reduction(reduction),
            check_label_smoothing(label_smoothing))


def cross_entropy_backward(grad_out, logits, target, reduction="mean",
                           label_smoothing=0.0):
    """Gradient of :func:`cross_entropy` for the logits.

    ``dL/dlogits[n] = grad_out * (softmax(logits[n]) - smoothed onehot)``,
    divided by N for ``reduction="mean"``.

    Parameters
    ----------
    grad_out : float, or ndarray of shape (N,) for reduction="none"
        The gradient arriving at the loss; 1.0 when the loss is the
        objective itself.
    logits, target, reduction, label_smoothing
        As given to :func:`cross_entropy`.

    Returns
    -------
    ndarray of shape (N, C)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import cross_entropy_backward
    >>> cross_entropy_backward(1.0, np.zeros((1, 4)), np.array([2]))
    array([[ 0.25,  0.25, -0.75,  0.25]])
    """
    logits, target, reduction, eps = _check_ce(logits, target, reduction,
                                               label_smoothing)
    dloss = grad_out_array(grad_out, reduction, (logits.shape[0],),
                            logits.dtype)
    grad = np.empty(logits.shape, logits.dtype)
    _core.cross_entropy(contiguous(logits), target, eps,
                        _core.REDUCTIONS[reduction], None, dloss, grad)
    return grad


def cross_entropy_with_grad(logits, target, reduction="mean",
                            label_smoothing=0.0):
    """:func:`cross_entropy` and its gradient (for ``grad_out = 1``) from
    one pass over the logits.

    Parameters
    ----------
    logits, target, reduction, label_smoothing
        As for :func:`cross_entropy`.

    Returns
    -------
    loss : ndarray of shape () or (N,)
    grad : ndarray of shape (N, C)
        ``cross_entropy_backward(1.0, ...)``; for "none", the gradient of
        ``loss.sum()``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import cross_entropy_with_grad
    >>> loss, grad = cross_entropy_with_grad(np.zeros((1, 2)), np.array([1]))
    >>> float(loss), grad
    (0.6931471805599453, array([[ 0.5, -0.5]]))
    """
    logits, target, reduction, eps = _check_ce(logits, target, reduction,
                                               label_smoothing)
    loss = _loss_out(reduction, (logits.shape[0],), logits.dtype)
    grad = np.empty(logits.shape, logits.dtype)
    _core.cross_entropy(contiguous(logits), target, eps,
                        _core.REDUCTIONS[reduction], loss, None, grad)
    return _loss_result(loss, reduction), grad


# --------------------------------------------------------------------------
# Negative log-likelihood
# --------------------------------------------------------------------------

def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of the true class.

    ``loss[n] = -log_probs[n, target[n]]``. With ``log_probs`` from a
    log-softmax this is the cross-entropy; :func:`cross_entropy` does both
    steps in one pass.

    Parameters
    ----------
    log_probs : ndarray of shape (N, C)
        Log-probabilities of each class.
    target : integer ndarray of shape (N,)
        The true class of each sample, in [0, C).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    ndarray of shape () or (N,)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import nll_loss
    >>> log_probs = np.log(np.array([[0.5, 0.5], [0.9, 0.1]]))
    >>> nll_loss(log_probs, np.array([0, 1]), reduction="none")
    array([0.69314718, 2.30258509])
    """
    log_probs = _check_scores(log_probs, "log_probs")
    target = check_target(target, log_probs, "log_probs")
    reduction = check_reduction(reduction)
    loss = _loss_out(reduction, (log_probs.shape[0],), log_probs.dtype)
    _core.nll_loss(contiguous(log_probs), target,
                   _core.REDUCTIONS[reduction], loss, None, None)
    return _loss_result(loss, reduction)


def nll_loss_backward(grad_out, log_probs, target, reduction="mean"):
    """Gradient of :func:`nll_loss` for the log-probabilities:
    ``-grad_out`` at each sample's target (over N for "mean"), 0 elsewhere.

    Parameters
    ----------
    grad_out : float, or ndarray of shape (N,) for reduction="none"
    log_probs, target, reduction
        As given to :func:`nll_loss`.

    Returns
    -------
    ndarray of shape (N, C)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import nll_loss_backward
    >>> nll_loss_backward(1.0, np.zeros((2, 3)), np.array([2, 0]))
    array([[ 0. ,  0. , -0.5],
           [-0.5,  0. ,  0. ]])
    """
    log_probs = _check_scores(log_probs, "log_probs")
    target = check_target(target, log_probs, "log_probs")
    reduction = check_reduction(reduction)
    dloss = grad_out_array(grad_out, reduction, (log_probs.shape[0],),
                            log_probs.dtype)
    grad = np.empty(log_probs.shape, log_probs.dtype)
    _core.nll_loss(contiguous(log_probs), target, _core.REDUCTIONS[reduction],
                   None, dloss, grad)
    return grad


# --------------------------------------------------------------------------
# Squared and absolute error
# --------------------------------------------------------------------------

def _elementwise(kernel, pred, target, reduction, grad_out, want_loss):
    pred, target = _check_pair(pred, target)
    reduction = check_reduction(reduction)
    flat_pred = contiguous(pred).reshape(-1)
    flat_target = contiguous(target).reshape(-1)
    code = _core.REDUCTIONS[reduction]
    if want_loss:
        loss = _loss_out(reduction, (pred.size,), pred.dtype)
        kernel(flat_pred, flat_target, code, loss, None, None)
        if reduction == "none":
            return loss.reshape(pred.shape)
        return loss.reshape(())
    dloss = grad_out_array(grad_out, reduction, pred.shape, pred.dtype)
    grad = np.empty(pred.size, pred.dtype)
    kernel(flat_pred, flat_target, code, None, dloss, grad)
    return grad.reshape(pred.shape)


def mse_loss(pred, target, reduction="mean"):
    """Squared error, the lecture's error for regression.

    ``loss = (pred - target) ** 2`` element by element, then averaged
    ("mean"), added ("sum") or kept ("none").

    Parameters
    ----------
    pred : ndarray of any shape
        float32 or float64.
    target : ndarray of pred's shape and dtype
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    ndarray of shape () or pred's shape

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import mse_loss
    >>> float(mse_loss(np.array([1., 2., 3.]), np.array([1., 0., 0.])))
    4.333333333333333
    """
    return _elementwise(_core.mse_loss, pred, target, reduction, None, True)


def mse_loss_backward(grad_out, pred, target, reduction="mean"):
    """Gradient of :func:`mse_loss` for ``pred``:
    ``2 * (pred - target) * grad_out``, over the element count for "mean".

    Parameters
    ----------
    grad_out : float, or ndarray of pred's shape for reduction="none"
    pred, target, reduction
        As given to :func:`mse_loss`.

    Returns
    -------
    ndarray of pred's shape

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import mse_loss_backward
    >>> mse_loss_backward(1.0, np.array([1., 2.]), np.array([0., 0.]))
    array([1., 2.])
    """
    return _elementwise(_core.mse_loss, pred, target, reduction, grad_out,
                        False)


def l1_loss(pred, target, reduction="mean"):
    """Absolute error, the lecture's other error.

    ``loss = |pred - target|`` element by element, then averaged ("mean"),
    added ("sum") or kept ("none"). Less swayed by outliers than the
    squared error.

    Parameters
    ----------
    pred : ndarray of any shape
    target : ndarray of pred's shape and dtype
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    ndarray of shape () or pred's shape

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import l1_loss
    >>> float(l1_loss(np.array([1., 2., 3.]), np.array([1., 0., 0.])))
    1.6666666666666667
    """
    return _elementwise(_core.l1_loss, pred, target, reduction, None, True)


def l1_loss_backward(grad_out, pred, target, reduction="mean"):
    """Gradient of :func:`l1_loss` for ``pred``:
    ``sign(pred - target) * grad_out`` (0 where they are equal), over the
    element count for "mean".

    Parameters
    ----------
    grad_out : float, or ndarray of pred's shape for reduction="none"
    pred, target, reduction
        As given to :func:`l1_loss`.

    Returns
    -------
    ndarray of pred's shape

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import l1_loss_backward
    >>> l1_loss_backward(1.0, np.array([1., 0., -2.]), np.zeros(3),
    ...                  reduction="sum")
    array([ 1.,  0., -1.])
    """
    return _elementwise(_core.l1_loss, pred, target, reduction, grad_out,
                        False)
