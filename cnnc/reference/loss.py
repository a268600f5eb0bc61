"""Losses in plain NumPy, written to be read beside the lecture.

The lecture's training loop measures an error between the network's
output and the truth, and propagates its gradient back. These are those
errors: squared and absolute error for values, cross-entropy for classes.
No checks and no speed: they are the oracle of the tests.
"""
import numpy as np

__all__ = [
    "cross_entropy", "cross_entropy_backward", "nll_loss",
    "nll_loss_backward", "mse_loss", "mse_loss_backward", "l1_loss",
    "l1_loss_backward",
]


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _grad_scale(grad_out, reduction, count):
    """The factor each sample's gradient is multiplied by."""
    grad_out = np.asarray(grad_out)
    return grad_out / count if reduction == "mean" else grad_out


def _log_softmax(logits):
    """``log softmax(z)[c] = z[c] - log sum_c' e^z[c']`` per row.

    The row's largest score m is taken out first, ``log sum e^z = m + log
    sum e^(z - m)``, so no exponential overflows.
    """
    m = logits.max(axis=1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))


def _smoothed_targets(target, classes, label_smoothing, dtype):
    """One-hot rows, mixed with the uniform distribution by eps."""
    onehot = np.zeros((len(target), classes), dtype=dtype)
    onehot[np.arange(len(target)), target] = 1
    return (1 - label_smoothing) * onehot + label_smoothing / classes


def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0):
    """Reference cross-entropy: minus the log-probability of the true class.

    The classifier's scores ``z`` become probabilities with the softmax,
    ``p[c] = e^z[c] / sum_c' e^z[c']``, and the error of a sample whose
    true class is ``t`` is::

        loss = -log p[t]

    0 when the network is sure and right, large when it is sure and wrong.
    With label smoothing eps, the truth is a distribution ``q = (1 - eps)
    onehot(t) + eps / C`` instead, and the loss is ``-sum_c q[c] log p[c]``.

    Parameters
    ----------
    logits : ndarray of shape (N, C)
    target : integer ndarray of shape (N,)
    reduction : {"mean", "sum", "none"}
    label_smoothing : float in [0, 1]

    Returns
    -------
    float or ndarray of shape (N,)
    """
    log_p = _log_softmax(logits)
    q = _smoothed_targets(target, logits.shape[1], label_smoothing,
                          logits.dtype)
    return _reduce(-(q * log_p).sum(axis=1), reduction)


def cross_entropy_backward(grad_out, logits, target, reduction="mean",
                           label_smoothing=0.0):
    """Reference gradient of :func:`cross_entropy`: ``p - q`` per sample.

    Differentiating ``-sum_c q[c] (z[c] - log sum e^z)`` by ``z[c]`` gives
    ``softmax(z)[c] - q[c]``, because q sums to 1.

    Returns
    -------
    ndarray of shape (N, C)
    """
    p = np.exp(_log_softmax(logits))
    q = _smoothed_targets(target, logits.shape[1], label_smoothing,
                          logits.dtype)
    scale = _grad_scale(grad_out, reduction, logits.shape[0])
    if reduction == "none":
        scale = scale[:, None]
    return ((p - q) * scale).astype(logits.dtype)


def nll_loss(log_probs, target, reduction="mean"):
    """Reference negative log-likelihood: ``loss[n] = -log_probs[n, t[n]]``.

    Returns
    -------
    float or ndarray of shape (N,)
    """
    picked = log_probs[np.arange(len(target)), target]
    return _reduce(-picked, reduction)


def nll_loss_backward(grad_out, log_probs, target, reduction="mean"):
    """Reference gradient of :func:`nll_loss`: -1 at the true class, 0
    elsewhere, times ``grad_out``.

    Returns
    -------
    ndarray of shape (N, C)
    """
    grad = np.zeros_like(log_probs)
    scale = _grad_scale(grad_out, reduction, log_probs.shape[0])
    grad[np.arange(len(target)), target] = -scale
    return grad


def mse_loss(pred, target, reduction="mean"):
    """Reference squared error: ``loss = (pred - target)^2`` per element.

    Returns
    -------
    float or ndarray of pred's shape
    """
    return _reduce((pred - target) ** 2, reduction)


def mse_loss_backward(grad_out, pred, target, reduction="mean"):
    """Reference gradient of :func:`mse_loss`: ``d/dpred (pred - target)^2
    = 2 (pred - target)``, times ``grad_out``.

    Returns
    -------
    ndarray of pred's shape
    """
    scale = _grad_scale(grad_out, reduction, pred.size)
    return (2 * (pred - target) * scale).astype(pred.dtype)


def l1_loss(pred, target, reduction="mean"):
    """Reference absolute error: ``loss = |pred - target|`` per element.

    Returns
    -------
    float or ndarray of pred's shape
    """
    return _reduce(np.abs(pred - target), reduction)


def l1_loss_backward(grad_out, pred, target, reduction="mean"):
    """Reference gradient of :func:`l1_loss`: ``d/dpred |pred - target| =
    sign(pred - target)``, taken as 0 where they are equal, times
    ``grad_out``.

    Returns
    -------
    ndarray of pred's shape
    """
    scale = _grad_scale(grad_out, reduction, pred.size)
    return (np.sign(pred - target) * scale).astype(pred.dtype)
