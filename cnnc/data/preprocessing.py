"""Preprocessing on whole arrays: per-channel statistics and data splits."""

import numbers

import numpy as np

from cnnc.data._checks import as_generator, check_images, check_labels

__all__ = ["channel_stats", "normalize", "train_val_split"]


def channel_stats(x):
    """Mean and standard deviation of every channel over a training set.

    Compute them on the training images only and use them unchanged on
    validation and test images, so that no test information leaks into
    the preprocessing.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Floating-point images.

    Returns
    -------
    mean, std : ndarray of shape (C,), float64
        Statistics over the N, H and W axes (population std, ``ddof=0``).

    Raises
    ------
    ValueError
        If ``x`` is not 4-D or holds no image.
    TypeError
        If ``x`` is not a float32 or float64 array.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import channel_stats
    >>> x = np.zeros((2, 3, 4, 4), dtype=np.float32)
    >>> x[:, 1] = 1.0
    >>> mean, std = channel_stats(x)
    >>> mean.tolist(), std.tolist()
    ([0.0, 1.0, 0.0], [0.0, 0.0, 0.0])
    """
    x = check_images(x)
    if x.shape[0] == 0:
        raise ValueError(f"x must hold at least one image, got shape {x.shape}")
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x.std(axis=(0, 2, 3), dtype=np.float64)
    return mean, std


def normalize(x, mean, std, eps=1e-7):
    """Standardise every channel: ``(x - mean[c]) / (std[c] + eps)``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Floating-point images.
    mean, std : array_like of shape (C,)
        Per-channel statistics, usually from :func:`channel_stats` on the
        training set.
    eps : float, default 1e-7
        Added to ``std`` so that a constant channel does not divide by 0.

    Returns
    -------
    ndarray of shape (N, C, H, W)
        A new array of the same dtype as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import channel_stats, normalize
    >>> x = np.random.default_rng(0).random((8, 3, 5, 5)).astype(np.float32)
    >>> z = normalize(x, *channel_stats(x))
    >>> np.allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    True
    """
    x = check_images(x)
    c = x.shape[1]
    mean = _per_channel(mean, "mean", c)
    std = _per_channel(std, "std", c)
    if np.any(std < 0):
        raise ValueError(f"std must be >= 0 in every channel, got {std.tolist()}")
    scale = 1.0 / (std + eps)
    out = (x - mean[:, None, None].astype(x.dtype)) * scale[:, None, None]
    return out.astype(x.dtype, copy=False)


def _per_channel(values, name, channels):
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(channels, float(arr))
    if arr.shape != (channels,):
        raise ValueError(
            f"{name} must hold one value per channel, shape ({channels},), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def train_val_split(x, y, val_fraction=0.1, *, stratify=True, seed=0):
    """Split a training set into a smaller training set and a validation set.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
        Inputs.
    y : array_like of shape (N,)
        Integer labels.
    val_fraction : float, default 0.1
        Fraction of the samples that go to the validation set, in (0, 1).
    stratify : bool, default True
        Keep the class proportions the same in both parts (each class
        gives ``round(val_fraction * its count)`` samples).
    seed : int or numpy.random.Generator or None, default 0
        The same seed gives the same split.

    Returns
    -------
    (x_train, y_train), (x_val, y_val)
        New arrays; the order inside each part is random.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import train_val_split
    >>> x = np.arange(20.0).reshape(10, 2)
    >>> y = np.array([0, 1] * 5)
    >>> (xt, yt), (xv, yv) = train_val_split(x, y, val_fraction=0.2)
    >>> len(yt), len(yv), sorted(yv.tolist())
    (8, 2, [0, 1])
    """
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise TypeError(
            f"x must be a numpy.ndarray with a sample axis first, "
            f"got {type(x).__name__}"
        )
    y = check_labels(y, x.shape[0])
    if (isinstance(val_fraction, bool)
            or not isinstance(val_fraction, numbers.Real)
            or not 0.0 < val_fraction < 1.0):
        raise ValueError(
            f"val_fraction must be a number in (0, 1), got {val_fraction!r}"
        )
    rng = as_generator(seed, "seed")
    val_idx, train_idx = stratified_indices(y, val_fraction, rng, stratify)
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx])


def stratified_indices(y, fraction, rng, stratify=True):
    """Indices ``(picked, rest)`` taking ``fraction`` of the samples.

    With ``stratify`` each class contributes ``round(fraction * count)``
    of its samples; otherwise ``round(fraction * N)`` are drawn from all.
    Both index arrays come back in random order.
    """
    n = y.shape[0]
    if not stratify:
        order = rng.permutation(n)
        k = int(round(fraction * n))
        return order[:k], order[k:]
    picked, rest = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        k = int(round(fraction * members.size))
        picked.append(members[:k])
        rest.append(members[k:])
    picked = rng.permutation(np.concatenate(picked))
    rest = rng.permutation(np.concatenate(rest))
    return picked, rest
