"""Batch normalization in plain NumPy, written to be read beside the lecture.

No checks and no speed: these functions are the specification that the C
kernels are tested against and the model answer behind the assignments.
"""
import numpy as np

__all__ = ["batch_norm", "batch_norm_backward"]


def _per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(x, running_mean, running_var, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-5):
    """Reference batch normalization.

    The lecture's normalization layer whitens each feature map F with the
    statistics of the mini-batch, then lets the network learn a scale and
    a shift back. For one channel, over the B values F_1 ... F_B it has in
    the batch (in cnnc, B = M = N * H * W: every image and every pixel)::

        mu      = 1/B * sum_k F_k                   mini-batch mean
        sigma^2 = 1/B * sum_k (F_k - mu)^2          mini-batch variance
        F_hat   = (F - mu) / sqrt(sigma^2 + eps)    normalise
        out     = gamma * F_hat + beta              scale and shift

    (The slide writes sigma for the variance and divides by sigma + eps;
    the square root is meant: the original paper and PyTorch divide by
    sqrt(var + eps), the standard deviation made safe from zero by eps.)

    The batch statistics make the output of a sample depend a little on
    the other samples of its batch, a useful noise in training. At
    inference there may be a single sample, so the layer keeps running
    statistics during training, exponential averages over the batches::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var
                       + momentum * sigma^2 * B / (B - 1)

    (the unbiased variance), and uses them in place of mu and sigma^2 when
    ``training`` is False. Keeping every layer's input near zero mean and
    unit variance while the layers below it learn is what the lecture calls
    reducing the internal covariate shift.

    Parameters
    ----------
    x : ndarray of shape (N, C, ...)
    running_mean, running_var : ndarray of shape (C,) or None
        Updated in place when ``training``.
    weight, bias : ndarray of shape (C,), optional
        gamma and beta (1 and 0 when None).
    training : bool
    momentum, eps : float

    Returns
    -------
    y : ndarray of x's shape
    mean, invstd : ndarray of shape (C,), float64
        The statistics used, ``invstd = 1 / sqrt(var + eps)``.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    x64 = x.astype(np.float64)
    if training:
        mean = x64.mean(axis=axes)
        var = ((x64 - _per_channel(mean, x.ndim)) ** 2).mean(axis=axes)
        if running_mean is not None:
            count = x.size // x.shape[1]
            unbiased = var * count / (count - 1)
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean = running_mean.astype(np.float64)
        var = running_var.astype(np.float64)
    invstd = 1.0 / np.sqrt(var + eps)

    x_hat = (x64 - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    y = x_hat
    if weight is not None:
        y = y * _per_channel(weight.astype(np.float64), x.ndim)
    if bias is not None:
        y = y + _per_channel(bias.astype(np.float64), x.ndim)
    return y.astype(x.dtype), mean, invstd


def batch_norm_backward(grad_out, x, mean, invstd, weight=None,
                        training=True):
    """Reference gradients of :func:`batch_norm`.

    With dy = dL/dy, x_hat = (x - mean) * invstd and M values per channel,
    the chain rule through ``y = gamma * x_hat + beta`` gives::

        dbeta  = sum dy                 dgamma = sum dy * x_hat
        dx_hat = gamma * dy

    In training the mean and the variance are functions of x as well;
    following x_hat through both of them and collecting terms::

        dx = invstd / M * (M * dx_hat - sum(dx_hat)
                           - x_hat * sum(dx_hat * x_hat))

    With running statistics (``training=False``) they are constants and
    ``dx = dx_hat * invstd``.

    Parameters
    ----------
    grad_out, x : ndarray of shape (N, C, ...)
    mean, invstd : ndarray of shape (C,)
        As returned by :func:`batch_norm`.
    weight : ndarray of shape (C,), optional
    training : bool

    Returns
    -------
    dx : ndarray of x's shape
    dweight, dbias : ndarray of shape (C,)
    """
    axes = (0,) + tuple(range(2, x.ndim))
    count = x.size // x.shape[1]
    dy = grad_out.astype(np.float64)
    x_hat = ((x.astype(np.float64) - _per_channel(mean, x.ndim))
             * _per_channel(invstd, x.ndim))
    gamma = 1.0 if weight is None else _per_channel(
        weight.astype(np.float64), x.ndim)

    dbias = dy.sum(axis=axes)
    dweight = (dy * x_hat).sum(axis=axes)
    dx_hat = dy * gamma
    if training:
        sum_dx_hat = _per_channel(dx_hat.sum(axis=axes), x.ndim)
        sum_dx_hat_x_hat = _per_channel((dx_hat * x_hat).sum(axis=axes),
                                        x.ndim)
        dx = (_per_channel(invstd, x.ndim) / count
              * (count * dx_hat - sum_dx_hat - x_hat * sum_dx_hat_x_hat))
    else:
        dx = dx_hat * _per_channel(invstd, x.ndim)
    return (dx.astype(x.dtype), dweight.astype(x.dtype),
            dbias.astype(x.dtype))
