"""Affine warps of image batches: the plain NumPy reference.

Every geometric augmentation (shift, rotation, skew, zoom, crop) moves
pixels by an affine map. Warping is done backwards: for each pixel of the
output we ask where it comes from in the input, and sample the input
there. Each image n has its own 2x3 matrix ``theta[n]``::

    [x_in]   [a  b  tx]   [x_out]
    [y_in] = [d  e  ty] @ [y_out]
                          [  1  ]

with ``x`` the column and ``y`` the row, pixel centres at integer
coordinates, ``(0, 0)`` the centre of the top-left pixel.

Sampling at a point that is not a pixel centre:

* ``"nearest"`` takes the pixel whose centre is closest,
  ``round(x) = floor(x + 0.5)``;
* ``"bilinear"`` mixes the four surrounding pixels, each weighted by how
  close the point is to it along x times along y.

A neighbour that lies outside the input counts as ``fill``, so edges fade
smoothly into the fill colour (what ``scipy.ndimage`` calls
``mode="grid-constant"``).

This module is the specification: written to be read, one image at a
time. :func:`cnnc.functional.warp_affine` runs the same computation in C.
"""

import numpy as np

__all__ = ["warp_affine_reference", "affine_matrix", "cos_sin_degrees"]

MODES = ("bilinear", "nearest")


def warp_affine_reference(x, theta, out_size=None, mode="bilinear", fill=0.0):
    """Warp every image by its own affine matrix, in plain NumPy.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        Floating-point images.
    theta : ndarray of shape (N, 2, 3)
        For each image, the map from output pixel (x, y, 1) to the input
        point it samples (x = column, y = row).
    out_size : (int, int), optional
        Output (P, Q) = (height, width); default (H, W).
    mode : {"bilinear", "nearest"}, default "bilinear"
        How the input is sampled between pixel centres.
    fill : float, default 0.0
        Value of every point outside the input.

    Returns
    -------
    ndarray of shape (N, C, P, Q)
        Same dtype as ``x``.

    Examples
    --------
    Move an image one pixel to the right: output pixel x reads input x - 1.

    >>> import numpy as np
    >>> from cnnc.data.warp import warp_affine_reference
    >>> x = np.arange(4.0).reshape(1, 1, 1, 4)
    >>> theta = np.array([[[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]])
    >>> warp_affine_reference(x, theta, fill=-1.0)[0, 0, 0].tolist()
    [-1.0, 0.0, 1.0, 2.0]
    """
    n, c, h, w = x.shape
    p, q = (h, w) if out_size is None else out_size
    out = np.empty((n, c, p, q), dtype=x.dtype)
    rows, cols = np.meshgrid(np.arange(p, dtype=np.float64),
                             np.arange(q, dtype=np.float64), indexing="ij")
    for i in range(n):
        (a, b, tx), (d, e, ty) = np.asarray(theta[i], dtype=np.float64)
        src_x = a * cols + b * rows + tx
        src_y = d * cols + e * rows + ty
        if mode == "nearest":
            out[i] = _sample_nearest(x[i], src_x, src_y, fill)
        else:
            out[i] = _sample_bilinear(x[i], src_x, src_y, fill)
    return out


def _pixel(img, r, c, fill):
    """img[:, r, c] where (r, c) lies inside, ``fill`` elsewhere."""
    _, h, w = img.shape
    inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    values = img[:, np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)]
    return np.where(inside, values, fill)


def _clamp(src, size):
    # Points far outside only ever see `fill`; clamping them just beyond
    # the edge keeps the integer conversion below safe for any value.
    return np.clip(src, -2.0, size + 1.0)


def _sample_nearest(img, src_x, src_y, fill):
    _, h, w = img.shape
    c = np.floor(_clamp(src_x, w) + 0.5).astype(np.int64)
    r = np.floor(_clamp(src_y, h) + 0.5).astype(np.int64)
    return _pixel(img, r, c, fill)


def _sample_bilinear(img, src_x, src_y, fill):
    _, h, w = img.shape
    src_x, src_y = _clamp(src_x, w), _clamp(src_y, h)
    x0 = np.floor(src_x)
    y0 = np.floor(src_y)
    fx = src_x - x0          # how far past the left column, in [0, 1)
    fy = src_y - y0          # how far below the top row, in [0, 1)
    c0, r0 = x0.astype(np.int64), y0.astype(np.int64)
    top = (1 - fx) * _pixel(img, r0, c0, fill) + fx * _pixel(img, r0, c0 + 1, fill)
    bottom = ((1 - fx) * _pixel(img, r0 + 1, c0, fill)
              + fx * _pixel(img, r0 + 1, c0 + 1, fill))
    return (1 - fy) * top + fy * bottom


def cos_sin_degrees(degrees):
    """``cos`` and ``sin`` of angles in degrees, exact at multiples of 90.

    ``np.cos(np.pi / 2)`` is 6e-17, not 0; snapping the quarter turns
    makes a 90-degree rotation move pixels exactly onto pixels.
    """
    degrees = np.asarray(degrees, dtype=np.float64)
    radians = np.deg2rad(degrees)
    quarter = np.mod(degrees, 90.0) == 0
    cos = np.where(quarter, np.round(np.cos(radians)), np.cos(radians))
    sin = np.where(quarter, np.round(np.sin(radians)), np.sin(radians))
    return cos, sin


def affine_matrix(height, width, angle=0.0, translate=(0.0, 0.0), scale=1.0,
                  shear=(0.0, 0.0), out_size=None):
    """The ``theta`` that warps images by the given motions, batched.

    The image is sheared, then scaled, then rotated about its centre, then
    translated; ``theta`` is the inverse of that map, as the warp needs.
    Every argument may be a scalar or an array of shape (N,).

    Parameters
    ----------
    height, width : int
        Input image size.
    angle : float or ndarray
        Rotation in degrees, counter-clockwise as the image is displayed.
    translate : (float or ndarray, float or ndarray)
        Shift (right, down) in pixels.
    scale : float or ndarray
        Zoom factor (> 1 enlarges).
    shear : (float or ndarray, float or ndarray)
        Shear angles in degrees along x and along y.
    out_size : (int, int), optional
        Output (P, Q); the input centre is mapped to the output centre.

    Returns
    -------
    ndarray of shape (N, 2, 3), float64

    Examples
    --------
    >>> from cnnc.data.warp import affine_matrix
    >>> affine_matrix(5, 5, translate=(2.0, 0.0))[0].tolist()
    [[1.0, 0.0, -2.0], [0.0, 1.0, 0.0]]
    """
    angle = np.atleast_1d(np.asarray(angle, dtype=np.float64))
    tx, ty = (np.atleast_1d(np.asarray(t, dtype=np.float64)) for t in translate)
    scale = np.atleast_1d(np.asarray(scale, dtype=np.float64))
    sx, sy = (np.atleast_1d(np.asarray(s, dtype=np.float64)) for s in shear)
    n = np.broadcast_shapes(angle.shape, tx.shape, ty.shape, scale.shape,
                            sx.shape, sy.shape)[0]
    p, q = (height, width) if out_size is None else out_size

    # Linear part of the forward map about the centre: shear, scale,
    # rotate. y points down the image, so a counter-clockwise turn on
    # screen is [[cos, sin], [-sin, cos]] in (x, y).
    cos, sin = cos_sin_degrees(angle)
    rotate = _stack2x2(cos, sin, -sin, cos, n)
    zoom = _stack2x2(scale, 0, 0, scale, n)
    skew = _stack2x2(1, np.tan(np.deg2rad(sx)), np.tan(np.deg2rad(sy)), 1, n)
    forward = rotate @ zoom @ skew

    # Around the centres, then shifted: out = C_out + T + F (in - C_in).
    c_in = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    c_out = np.array([(q - 1) / 2.0, (p - 1) / 2.0])
    inverse = np.linalg.inv(forward)
    offset = c_out + np.stack([np.broadcast_to(tx, (n,)),
                               np.broadcast_to(ty, (n,))], axis=1)
    theta = np.empty((n, 2, 3))
    theta[:, :, :2] = inverse
    theta[:, :, 2] = c_in - np.einsum("nij,nj->ni", inverse, offset)
    return theta


def _stack2x2(a, b, d, e, n):
    """Batch of n 2x2 matrices [[a, b], [d, e]]; entries scalar or (n,)."""
    m = np.empty((n, 2, 2))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a, b, d, e
    return m
