"""Dropout: validated forward and backward over the C core.

The random mask is drawn here, from a NumPy Generator, and applied by a
C kernel that holds no random state: a seed gives the same mask whatever
the thread count or SIMD path.
"""
import numbers

import numpy as np

from cnnc import _core
from cnnc.functional._validate import as_float_array, check_ndim, contiguous

__all__ = ["dropout", "dropout_backward", "dropout2d", "dropout2d_backward"]


def check_probability(p):
    """``p`` as a float in [0, 1), the probability of zeroing a unit."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError("p must be a float in [0, 1), got %s %r"
                        % (type(p).__name__, p))
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError(
            "p, the probability of zeroing a unit, must be in [0, 1), got "
            "%r (p = 1 would zero everything and the scale 1/(1-p) is "
            "undefined)" % p)
    return p


def check_training(training):
    """``training`` as a bool; only real booleans are accepted."""
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError("training must be a bool, got %s %r"
                        % (type(training).__name__, training))
    return bool(training)


def as_generator(rng):
    """``rng`` (None, an int seed or a Generator) as a Generator."""
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise TypeError(
            "rng must be None, a non-negative int seed or a "
            "numpy.random.Generator, got %s %r" % (type(rng).__name__, rng)
        ) from None


def _draw_keep(shape, p, rng):
    """True where a unit is kept: each with probability 1 - p."""
    return rng.random(shape, dtype=np.float32) >= p


def _apply(x, keep, inner, p):
    """x * keep / (1 - p), one keep entry per ``inner`` elements."""
    y = np.empty(x.shape, x.dtype)
    if y.size:
        _core.dropout_apply(contiguous(x).reshape(-1),
                            contiguous(keep).reshape(-1).view(np.uint8),
                            inner, 1.0 / (1.0 - p), y.reshape(-1))
    return y


def _identity(x, mask_shape, return_mask):
    y = np.array(x, order="C", copy=True)
    return (y, np.ones(mask_shape, dtype=bool)) if return_mask else y


def _check_mask(mask, shape, what):
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        raise TypeError("mask must be a bool NumPy array (the mask the "
                        "forward returned), got %s"
                        % (getattr(mask, "dtype", type(mask).__name__),))
    if mask.shape != shape:
        raise ValueError("mask must have shape %s (%s), got %s"
                         % (shape, what, mask.shape))


def dropout(x, p=0.5, training=True, rng=None, *, return_mask=False):
    """Inverted dropout: zero each element with probability ``p``.

    In training, every element is kept with probability ``1 - p`` (the
    lecture's keep probability) and the kept ones are scaled by ``1 / (1 -
    p)``, so the expected value of every output equals its input and
    nothing needs rescaling at test time::

        y = x * mask / (1 - p),   mask[i] ~ Bernoulli(1 - p)

    Out of training, or with ``p = 0``, it is the identity.

    Parameters
    ----------
    x : ndarray
        float32 or float64, any shape.
    p : float, default 0.5
        Probability of zeroing an element, in [0, 1).
    training : bool, default True
    rng : numpy.random.Generator or int, optional
        Source of the mask. A Generator is advanced (pass the same one to
        get fresh masks); an int seed gives the same mask every call; None
        draws from fresh entropy. Unused (and not drawn from) when the
        call is the identity.
    return_mask : bool, default False
        Also return the mask, for :func:`dropout_backward`.

    Returns
    -------
    y : ndarray
        A new array like ``x``.
    mask : ndarray of bool, the shape of x
        Only with ``return_mask``: True where the element was kept.

    Raises
    ------
    TypeError
        For a non-float ``x``, a non-bool ``training`` or a bad ``rng``.
    ValueError
        If ``p`` is outside [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import dropout
    >>> y = dropout(np.ones(8), p=0.5, rng=0)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> dropout(np.ones(3), p=0.5, training=False)
    array([1., 1., 1.])
    """
    x = as_float_array(x, "x")
    p = check_probability(p)
    training = check_training(training)
    if not training or p == 0.0:
        return _identity(x, x.shape, return_mask)
    rng = as_generator(rng)
    keep = _draw_keep(x.shape, p, rng)
    y = _apply(x, keep, 1, p)
    return (y, keep) if return_mask else y


def dropout_backward(grad_out, mask, p=0.5):
    """Gradient of :func:`dropout`: ``grad_out * mask / (1 - p)``.

    Parameters
    ----------
    grad_out : ndarray
        dL/dy.
    mask : ndarray of bool, the shape of grad_out
        The mask the forward returned.
    p : float
        The forward's ``p``.

    Returns
    -------
    ndarray
        dL/dx.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import dropout_backward
    >>> dropout_backward(np.ones(2), np.array([True, False]), p=0.5)
    array([2., 0.])
    """
    grad_out = as_float_array(grad_out, "grad_out")
    p = check_probability(p)
    _check_mask(mask, grad_out.shape, "the shape of grad_out")
    return _apply(grad_out, mask, 1, p)


def dropout2d(x, p=0.5, training=True, rng=None, *, return_mask=False):
    """Channel dropout: zero whole feature maps with probability ``p``.

    Neighbouring pixels of a feature map are strongly correlated, so
    dropping single pixels hardly regularises a convolutional layer;
    dropping the whole map ``x[n, c]`` does::

        y[n, c] = x[n, c] * mask[n, c] / (1 - p)

    Out of training, or with ``p = 0``, it is the identity.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    p, training, rng, return_mask
        As in :func:`dropout`.

    Returns
    -------
    y : ndarray of shape (N, C, H, W)
    mask : ndarray of bool, shape (N, C)
        Only with ``return_mask``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import dropout2d
    >>> y, mask = dropout2d(np.ones((1, 4, 2, 2)), rng=1, return_mask=True)
    >>> bool(np.all(y[0][mask[0]] == 2.0) and np.all(y[0][~mask[0]] == 0))
    True
    """
    x = as_float_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    p = check_probability(p)
    training = check_training(training)
    if not training or p == 0.0:
        return _identity(x, x.shape[:2], return_mask)
    rng = as_generator(rng)
    keep = _draw_keep(x.shape[:2], p, rng)
    y = _apply(x, keep, x.shape[2] * x.shape[3], p)
    return (y, keep) if return_mask else y


def dropout2d_backward(grad_out, mask, p=0.5):
    """Gradient of :func:`dropout2d`: ``grad_out[n, c] * mask[n, c] / (1 -
    p)``.

    Parameters
    ----------
    grad_out : ndarray of shape (N, C, H, W)
    mask : ndarray of bool, shape (N, C)
    p : float

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import dropout2d_backward
    >>> dx = dropout2d_backward(np.ones((1, 2, 1, 1)), np.array([[True, False]]))
    >>> dx.ravel()
    array([2., 0.])
    """
    grad_out = as_float_array(grad_out, "grad_out")
    check_ndim(grad_out, "grad_out", 4, "(N, C, H, W)")
    p = check_probability(p)
    _check_mask(mask, grad_out.shape[:2], "(N, C) of grad_out")
    return _apply(grad_out, mask, grad_out.shape[2] * grad_out.shape[3], p)
