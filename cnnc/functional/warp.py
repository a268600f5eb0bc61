"""Affine warp of an image batch: validated, over the C core."""
import numbers

import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, as_pair, check_elements, check_ndim, contiguous)

__all__ = ["warp_affine"]

# Matrix entries beyond this could turn a coordinate into inf - inf; no
# useful warp comes near it (it would move pixels by 1e12 images).
_MAX_THETA = 1e12


def warp_affine(x, theta, out_size=None, mode="bilinear", fill=0.0):
    """Warp every image of a batch by its own affine matrix.

    Output pixel (row p, column q) of image n takes the input at::

        x_in = theta[n, 0, 0] * q + theta[n, 0, 1] * p + theta[n, 0, 2]
        y_in = theta[n, 1, 0] * q + theta[n, 1, 1] * p + theta[n, 1, 2]

    (``x`` a column, ``y`` a row, pixel centres at integers), sampled by
    bilinear interpolation or the nearest pixel; input points outside the
    image are worth ``fill``. :mod:`cnnc.data.warp` holds the same rule in
    plain NumPy and builds ``theta`` from angles, shifts and scales.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        float32 or float64 images.
    theta : array_like of shape (N, 2, 3)
        One matrix per image, mapping output pixels to input points.
    out_size : int or (int, int), optional
        Output height and width (P, Q); default (H, W).
    mode : {"bilinear", "nearest"}, default "bilinear"
    fill : float, default 0.0
        Value of the points outside the input.

    Returns
    -------
    ndarray of shape (N, C, P, Q)
        A new array of x's dtype.

    Raises
    ------
    ValueError
        If a shape does not fit, theta is not finite, or mode is unknown.
    TypeError
        If x is not a float array or fill is not a number.

    Examples
    --------
    A half-turn about the centre of a 2 x 2 image:

    >>> import numpy as np
    >>> from cnnc.functional import warp_affine
    >>> x = np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2)
    >>> theta = np.array([[[-1.0, 0.0, 1.0], [0.0, -1.0, 1.0]]])
    >>> warp_affine(x, theta)[0, 0].tolist()
    [[3.0, 2.0], [1.0, 0.0]]
    """
    x = as_float_array(x, "x")
    check_ndim(x, "x", 4, "(N, C, H, W)")
    n, c, h, w = x.shape
    if 0 in (c, h, w):
        raise ValueError("x must have no empty channel or spatial axis, got "
                         "shape %s" % (x.shape,))
    theta = np.asarray(theta)
    if theta.dtype.kind not in "fiu":
        raise TypeError("theta must hold real numbers, got dtype %s"
                        % theta.dtype)
    if theta.shape != (n, 2, 3):
        raise ValueError("theta must have shape (N, 2, 3) = (%d, 2, 3), one "
                         "matrix per image of x, got shape %s"
                         % (n, theta.shape))
    theta = theta.astype(np.float64)
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta must be finite, got NaN or infinite entries "
                         "in matrices %s"
                         % np.flatnonzero(~np.isfinite(theta).all(axis=(1, 2)))
                         .tolist())
    if theta.size and np.abs(theta).max() > _MAX_THETA:
        raise ValueError("theta entries must lie within +-%g, got %g"
                         % (_MAX_THETA, np.abs(theta).max()))
    p, q = (h, w) if out_size is None else as_pair(out_size, "out_size", 1)
    if mode not in _core.WARP_MODES:
        raise ValueError("mode must be one of %s, got %r"
                         % (tuple(_core.WARP_MODES), mode))
    if isinstance(fill, bool) or not isinstance(fill, numbers.Real):
        raise TypeError("fill must be a number, got %s"
                        % type(fill).__name__)
    if not np.isfinite(fill):
        raise ValueError("fill must be finite, got %r" % (fill,))
    check_elements(n * c * p * q, "the output (N, C, P, Q) = (%d, %d, %d, %d)"
                   % (n, c, p, q))

    y = np.empty((n, c, p, q), dtype=x.dtype)
    if n == 0:
        return y
    _core.warp_affine(contiguous(x), np.ascontiguousarray(theta.reshape(n, 6)),
                      y, _core.WARP_MODES[mode], float(fill))
    return y
