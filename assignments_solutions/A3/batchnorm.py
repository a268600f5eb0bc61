"""Assignment A3: batch normalization. INSTRUCTOR SOLUTION: do not share.

You write the lecture's normalization layer in plain NumPy: the forward
pass in training (statistics of the mini-batch) and at inference (running
statistics), the update of the running statistics, and the backward pass
in its fused form.

Fill in each region between::

    # ---- YOUR CODE HERE ----
    # ---- END OF YOUR CODE ----

and keep the names and arguments of the functions: the grader calls them.
Check your work from this folder with ``cnnc grade A3 .``; it draws new
random inputs every time and compares your results with cnnc's own.

The layer normalizes each channel of a batch of feature maps ``x`` of
shape (N, C, H, W) over the M = N * H * W values the channel has in the
batch (every image and every pixel), then scales and shifts it with the
learnable ``gamma`` and ``beta``, one of each per channel. In the
lecture's words, for one channel with values F_1 ... F_M::

    mu      = 1/M * sum_k F_k                 mean of the mini-batch
    sigma^2 = 1/M * sum_k (F_k - mu)^2        its variance (divided by M)
    F_hat   = (F - mu) / sqrt(sigma^2 + eps)  whitened
    out     = gamma * F_hat + beta            scaled and shifted

(The slide writes sigma + eps under the fraction; the square root of the
variance plus eps is meant, as in the original paper, cnnc and PyTorch.)

Rules: NumPy only. Importing cnnc, torch, scipy or another library that
would compute it for you is refused by the grader. Every input is
float64; compute in float64. Return new arrays: the grader only sees
what your functions return, not what they change in place.
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                      momentum=0.1, eps=1e-5, training=True):
    """The forward pass of batch normalization over (N, H, W).

    In training the layer uses the mean and the variance of this
    mini-batch, and updates the running statistics, exponential averages
    over the batches seen::

        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var
                       + momentum * sigma^2 * M / (M - 1)

    (the variance in the running average is the unbiased one, divided by
    M - 1). At inference (``training=False``) a single image may come
    alone, so the running statistics stand in for mu and sigma^2, and
    stay as they are.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    gamma, beta : ndarray of shape (C,)
        Scale and shift.
    running_mean, running_var : ndarray of shape (C,)
        The running statistics before this batch.
    momentum : float
        Weight of the new batch in the running averages, in (0, 1).
    eps : float
        Added to the variance under the square root.
    training : bool

    Returns
    -------
    out : ndarray of shape (N, C, H, W)
    running_mean, running_var : ndarray of shape (C,)
        The running statistics after this batch (unchanged copies at
        inference).
    """
    N, C, H, W = x.shape
    M = N * H * W
    axes = (0, 2, 3)          # every axis but the channels
    shape = (1, C, 1, 1)      # a per-channel vector against x

    if training:
        # 1. The statistics of this mini-batch, per channel.
        # ---- YOUR CODE HERE ----
        mean = x.mean(axis=axes)
        var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
        # ---- END OF YOUR CODE ----

        # 2. The running statistics after this batch.
        # ---- YOUR CODE HERE ----
        new_running_mean = (1 - momentum) * running_mean + momentum * mean
        new_running_var = ((1 - momentum) * running_var
                           + momentum * var * M / (M - 1))
        # ---- END OF YOUR CODE ----
    else:
        # 3. At inference: the running statistics, left as they are.
        # ---- YOUR CODE HERE ----
        mean = running_mean
        var = running_var
        new_running_mean = running_mean.copy()
        new_running_var = running_var.copy()
        # ---- END OF YOUR CODE ----

    # 4. Normalize, then scale and shift.
    # ---- YOUR CODE HERE ----
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    out = gamma.reshape(shape) * x_hat + beta.reshape(shape)
    # ---- END OF YOUR CODE ----

    return out, new_running_mean, new_running_var


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """The backward pass of :func:`batchnorm_forward` in training.

    With ``x_hat = (x - mu) * invstd``, ``invstd = 1 / sqrt(sigma^2 +
    eps)`` (the mini-batch's statistics, computed again from ``x``) and
    ``dx_hat = gamma * dout``, the chain rule through ``out = gamma *
    x_hat + beta`` gives, per channel::

        dbeta  = sum over (n, h, w) of dout
        dgamma = sum over (n, h, w) of dout * x_hat

    In training mu and sigma^2 depend on x as well; following x_hat
    through both and collecting the terms gives one fused formula::

        dx = invstd / M * (M * dx_hat - sum(dx_hat)
                           - x_hat * sum(dx_hat * x_hat))

    with the sums over (n, h, w) of each channel.

    Parameters
    ----------
    dout : ndarray of shape (N, C, H, W)
        Gradient of the loss with respect to ``out``.
    x : ndarray of shape (N, C, H, W)
        The input of the forward pass.
    gamma : ndarray of shape (C,)
    eps : float
        As in the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dgamma, dbeta : ndarray of shape (C,)
    """
    N, C, H, W = x.shape
    M = N * H * W
    axes = (0, 2, 3)
    shape = (1, C, 1, 1)

    # 1. The normalized input again, and 1 / sqrt(sigma^2 + eps).
    # ---- YOUR CODE HERE ----
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
    invstd = (1.0 / np.sqrt(var + eps)).reshape(shape)
    x_hat = (x - mean.reshape(shape)) * invstd
    # ---- END OF YOUR CODE ----

    # 2. The gradients of the scale and the shift.
    # ---- YOUR CODE HERE ----
    dgamma = (dout * x_hat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    # ---- END OF YOUR CODE ----

    # 3. The gradient of the input, in one fused expression.
    # ---- YOUR CODE HERE ----
    dx_hat = gamma.reshape(shape) * dout
    dx = invstd / M * (M * dx_hat - dx_hat.sum(axis=axes, keepdims=True)
                       - x_hat * (dx_hat * x_hat).sum(axis=axes, keepdims=True))
    # ---- END OF YOUR CODE ----

    return dx, dgamma, dbeta
