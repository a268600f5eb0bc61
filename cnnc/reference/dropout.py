"""Dropout in plain NumPy, written to be read beside the lecture.

Dropout is one of the lecture's fixes for overfitting: during training
every unit is kept with probability p_keep and otherwise set to zero, so
no unit can rely on any particular other one being there. cnnc follows
PyTorch and names the other probability, the chance of dropping a unit::

    p = 1 - p_keep        (the lecture's p_keep = 0.8 is cnnc's p = 0.2)

"Inverted" dropout scales the kept units by 1 / p_keep = 1 / (1 - p) in
training, so every unit's expected value is unchanged, and at test time
the layer does nothing at all.

The masks are drawn exactly as :mod:`cnnc.functional` draws them, so the
same seed gives the same mask in both.
"""
import numpy as np

__all__ = ["dropout", "dropout_backward", "dropout2d", "dropout2d_backward"]


def dropout(x, p=0.5, training=True, rng=None, return_mask=False):
    """Inverted dropout::

        keep ~ Bernoulli(1 - p), one draw per element
        y = x * keep / (1 - p)

    so that E[y] = x. The identity when not training (or p = 0).
    """
    if not training or p == 0:
        keep = np.ones(x.shape, dtype=bool)
    else:
        rng = np.random.default_rng(rng)
        keep = rng.random(x.shape, dtype=np.float32) >= p
    y = (x * keep / (1 - p)).astype(x.dtype)
    return (y, keep) if return_mask else y


def dropout_backward(grad_out, mask, p=0.5):
    """y is linear in x, so dL/dx = dL/dy * keep / (1 - p)."""
    return (grad_out * mask / (1 - p)).astype(grad_out.dtype)


def dropout2d(x, p=0.5, training=True, rng=None, return_mask=False):
    """Channel dropout on x of shape (N, C, H, W)::

        keep ~ Bernoulli(1 - p), one draw per feature map (n, c)
        y[n, c] = x[n, c] * keep[n, c] / (1 - p)

    Pixels of one feature map are strongly correlated, so dropping single
    pixels barely changes what the next layer sees; dropping whole maps
    does.
    """
    n, c = x.shape[:2]
    if not training or p == 0:
        keep = np.ones((n, c), dtype=bool)
    else:
        rng = np.random.default_rng(rng)
        keep = rng.random((n, c), dtype=np.float32) >= p
    y = (x * keep[:, :, None, None] / (1 - p)).astype(x.dtype)
    return (y, keep) if return_mask else y


def dropout2d_backward(grad_out, mask, p=0.5):
    """dL/dx[n, c] = dL/dy[n, c] * keep[n, c] / (1 - p)."""
    return (grad_out * mask[:, :, None, None] / (1 - p)).astype(
        grad_out.dtype)
