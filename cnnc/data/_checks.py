"""Argument checks shared by the data module.

Each helper raises a ``ValueError`` or ``TypeError`` whose message names
the argument, says what was expected and echoes what was given.
"""

import numbers

import numpy as np


def as_generator(rng, name="rng"):
    """Return a ``numpy.random.Generator`` built from ``rng``.

    ``None`` gives a freshly seeded generator, an integer seeds a new one,
    and a ``Generator`` is used as it is (so the caller's stream advances).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} must be a non-negative seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be None, an int seed or a numpy.random.Generator, "
        f"got {type(rng).__name__}"
    )


def check_int(value, name, minimum=None):
    """Return ``value`` as an ``int`` after checking its type and minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(value, name, low=None, high=None):
    """Return ``value`` as a finite ``float`` within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_range(value, name, low=None, high=None, symmetric=False):
    """Return a ``(lo, hi)`` pair of floats with ``lo <= hi``.

    A single number ``v`` means ``(-v, v)`` when ``symmetric`` is true and
    is otherwise refused. Both ends must lie within ``[low, high]``.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not symmetric:
            raise TypeError(
                f"{name} must be a (low, high) pair, got the number {value}"
            )
        v = check_float(value, name, low=0.0)
        pair = (-v, v)
    else:
        try:
            items = tuple(value)
        except TypeError:
            raise TypeError(
                f"{name} must be a number or a (low, high) pair, "
                f"got {type(value).__name__}"
            ) from None
        if len(items) != 2:
            raise ValueError(
                f"{name} must be a (low, high) pair, got {len(items)} values "
                f"{items!r}"
            )
        pair = tuple(check_float(v, name) for v in items)
        if pair[0] > pair[1]:
            raise ValueError(f"{name} must have low <= high, got {pair}")
    for v in pair:
        if low is not None and v < low:
            raise ValueError(f"{name} must lie within [{low}, {high}], got {pair}")
        if high is not None and v > high:
            raise ValueError(f"{name} must lie within [{low}, {high}], got {pair}")
    return pair


def check_images(x, name="x"):
    """Return ``x`` as a floating NCHW array, refusing anything else.

    Integer images are refused rather than silently converted, because
    the transforms assume intensities in ``[0, 1]`` (or normalised values).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray of shape (N, C, H, W), "
            f"got {type(x).__name__}"
        )
    if x.ndim != 4:
        hint = " (use x[None] for a single image)" if x.ndim == 3 else ""
        raise ValueError(
            f"{name} must have 4 dimensions (N, C, H, W), got shape "
            f"{x.shape}{hint}"
        )
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{name} must be float32 or float64, got dtype {x.dtype} "
            f"(convert with x.astype(np.float32) / 255 for 8-bit images)"
        )
    return x


def check_labels(y, n, name="y"):
    """Return ``y`` as a 1-D int64 array of length ``n``."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(
            f"{name} must have shape ({n},) to match the images, got {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer labels, got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)
