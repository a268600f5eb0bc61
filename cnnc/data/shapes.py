"""The lecture's shapes: a procedural, anti-aliased image dataset.

Each image holds one shape (square, triangle, circle, diamond, ...) at a
random position, size and rotation, filled or drawn as an outline, on a
background of another intensity (or colour) with a soft gradient and
Gaussian noise. Nothing is downloaded: the images are computed.

How a shape is drawn
--------------------
Every shape is described by its *signed distance function* (SDF): for a
point p, ``d(p)`` is the distance from p to the shape's outline, negative
inside and positive outside. A pixel whose centre lies at distance ``d``
is covered by the fraction ``clip(0.5 - d, 0, 1)`` of the shape, which
gives an edge one pixel wide: the anti-aliasing. An outline of width
``w`` is the band ``|d| < w / 2``, so its coverage is
``clip(0.5 - (|d| - w / 2), 0, 1)``. All of it is NumPy arithmetic on
whole ``(n, H, W)`` arrays, one class at a time.

Rotations and the square/diamond pair
-------------------------------------
A diamond is a square turned by 45 degrees. If squares and diamonds were
rotated at random by up to 45 degrees, a rotated square could be pixel
for pixel a diamond and the label would carry no information. So every
shape is rotated by at most ``rotation`` degrees, and when both ``square``
and ``diamond`` are among the classes ``rotation`` may not exceed
``MAX_SQUARE_DIAMOND_ROTATION`` (20 degrees): the squares' angles then stay
in [-20, 20] (modulo 90) and the diamonds' in [25, 65], at least 5 degrees
apart. The other classes have no such twin among the available ones:
a triangle, hexagon or star turned by any angle is still a triangle,
hexagon or star (of another orientation), a circle or ring does not
change, and the cross is a plus sign whose 45-degree twin, an "x", is
not a class here. The same limit applies to augmentation: a
``RandomRotation`` applied on top of this data adds its angle to the
shape's own, so keep the two together within 20 degrees.
"""

import numpy as np

from cnnc.data._checks import as_generator, check_float, check_int, check_range

__all__ = [
    "SHAPE_CLASSES",
    "LECTURE_CLASSES",
    "DIFFICULTIES",
    "MAX_SQUARE_DIAMOND_ROTATION",
    "shapes",
    "make_shapes",
]

SHAPE_CLASSES = (
    "square", "triangle", "circle", "diamond",
    "star", "cross", "hexagon", "ring",
)
"""tuple of str: every class name that :func:`shapes` can draw."""

LECTURE_CLASSES = ("square", "triangle", "circle", "diamond")
"""tuple of str: the four classes of the lecture, the default."""

MAX_SQUARE_DIAMOND_ROTATION = 20.0
"""float: the largest rotation (degrees) allowed with squares and diamonds."""

# The knobs that each difficulty sets unless the caller gives them:
#   scale     the shape's nominal radius as a fraction of half the image
#   rotation  largest rotation in degrees, drawn uniformly in [-r, r]
#   stroke    probability that a shape is an outline instead of filled
#   noise     standard deviation of the Gaussian pixel noise
#   contrast  smallest intensity difference between shape and background
#   gradient  largest background ramp, from one side to the other
#   polarity  probability of a dark shape on a light background
DIFFICULTIES = {
    "easy": dict(scale=(0.55, 0.8), rotation=10.0, stroke=0.0, noise=0.02,
                 contrast=0.6, gradient=0.0, polarity=0.0),
    "medium": dict(scale=(0.4, 0.8), rotation=15.0, stroke=0.25, noise=0.05,
                   contrast=0.35, gradient=0.15, polarity=0.5),
    "hard": dict(scale=(0.3, 0.85), rotation=20.0, stroke=0.5, noise=0.12,
                 contrast=0.2, gradient=0.3, polarity=0.5),
}

# Radius of the circle around the centre that holds each shape, in units
# of the nominal radius r. Sizes were picked so that the shapes look
# about equally big, not equally wide.
_EXTENT = {
    "square": 0.72 * np.sqrt(2.0), "diamond": 0.72 * np.sqrt(2.0),
    "triangle": 1.1, "circle": 0.9, "star": 1.1, "hexagon": 0.95,
    "cross": float(np.hypot(0.95, 0.3)), "ring": 0.95,
}

# Images are drawn in blocks of this many, which bounds the memory used
# by the (n, H, W) temporaries whatever n the caller asks for.
_BLOCK = 1024


def shapes(n_train=5000, n_test=1000, classes=LECTURE_CLASSES, size=32,
           channels=1, *, difficulty="medium", scale=None, rotation=None,
           stroke=None, noise=None, contrast=None, seed=0):
    """Make the shapes dataset: a training and a test set of drawn shapes.

    Parameters
    ----------
    n_train, n_test : int
        Number of training and test images (each >= 0). Labels are
        balanced: every class gets ``n // len(classes)`` images, and the
        first ``n % len(classes)`` classes one more.
    classes : sequence of str, default LECTURE_CLASSES
        Names from :data:`SHAPE_CLASSES`, without repeats. A label ``k``
        means ``classes[k]``.
    size : int, default 32
        Height and width of the square images, at least 8.
    channels : {1, 3}, default 1
        1 for grey images, 3 for colour ones (random hue and saturation).
    difficulty : {"easy", "medium", "hard"}, default "medium"
        Sets every knob below that is left as ``None``; see
        :data:`DIFFICULTIES` for the values.
    scale : (float, float), optional
        Range of the shape's nominal radius as a fraction of ``size / 2``,
        within (0, 1].
    rotation : float, optional
        Largest rotation in degrees; each shape is turned by an angle drawn
        uniformly in ``[-rotation, rotation]``. At most 20 when the classes
        hold both ``square`` and ``diamond`` (see the module notes).
    stroke : float, optional
        Probability in [0, 1] that a shape is drawn as an outline.
    noise : float, optional
        Standard deviation of the Gaussian noise added to every pixel.
    contrast : float, optional
        Smallest difference in (0, 1] between shape and background
        intensity.
    seed : int or numpy.random.Generator or None, default 0
        The same seed gives the same images. The training and test sets
        come from two independent streams derived from it.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` is a float32 ndarray of shape (N, channels, size, size) with
        values in [0, 1]; ``y`` is an int64 ndarray of shape (N,).

    Raises
    ------
    ValueError
        If a size is out of range, a class name is unknown or repeated,
        or the rotation could turn a square into a diamond.
    TypeError
        If an argument has the wrong type.

    See Also
    --------
    make_shapes : one set of images from one generator.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import shapes
    >>> (x_train, y_train), (x_test, y_test) = shapes(80, 20, seed=1)
    >>> x_train.shape, x_train.dtype, y_train.dtype
    ((80, 1, 32, 32), dtype('float32'), dtype('int64'))
    >>> [int(c) for c in np.bincount(y_train)]
    [20, 20, 20, 20]
    >>> bool(0.0 <= x_test.min() and x_test.max() <= 1.0)
    True
    """
    n_train = check_int(n_train, "n_train", minimum=0)
    n_test = check_int(n_test, "n_test", minimum=0)
    rng = as_generator(seed, "seed")
    train_rng, test_rng = (np.random.default_rng(s)
                           for s in rng.integers(0, 2**63 - 1, size=2))
    knobs = dict(classes=classes, size=size, channels=channels,
                 difficulty=difficulty, scale=scale, rotation=rotation,
                 stroke=stroke, noise=noise, contrast=contrast)
    train = make_shapes(n_train, rng=train_rng, **knobs)
    test = make_shapes(n_test, rng=test_rng, **knobs)
    return train, test


def make_shapes(n, classes=LECTURE_CLASSES, size=32, channels=1, *,
                difficulty="medium", scale=None, rotation=None, stroke=None,
                noise=None, contrast=None, rng=None):
    """Draw ``n`` shape images with balanced, shuffled labels.

    Parameters
    ----------
    n : int
        Number of images, >= 0.
    classes, size, channels, difficulty, scale, rotation, stroke, noise, \
contrast
        As in :func:`shapes`.
    rng : int or numpy.random.Generator or None
        Source of randomness; a Generator passed in is advanced.

    Returns
    -------
    x : ndarray of shape (n, channels, size, size), float32 in [0, 1]
    y : ndarray of shape (n,), int64 indexing ``classes``

    Examples
    --------
    >>> from cnnc.data.shapes import make_shapes
    >>> x, y = make_shapes(6, classes=("circle", "ring"), rng=0)
    >>> x.shape, sorted(int(v) for v in y)
    ((6, 1, 32, 32), [0, 0, 0, 1, 1, 1])
    """
    n = check_int(n, "n", minimum=0)
    classes = _check_classes(classes)
    size = check_int(size, "size", minimum=8)
    channels = check_int(channels, "channels")
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    knobs = _resolve_knobs(classes, difficulty, scale, rotation, stroke,
                           noise, contrast)
    rng = as_generator(rng)

    # Balanced labels in a random order.
    y = np.arange(n, dtype=np.int64) % len(classes)
    y = y[rng.permutation(n)]

    x = np.empty((n, channels, size, size), dtype=np.float32)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        x[start:stop] = _draw_block(y[start:stop], classes, size, channels,
                                    knobs, rng)
    return x, y


def _check_classes(classes):
    if isinstance(classes, str):
        raise TypeError(
            f"classes must be a sequence of class names, got the string "
            f"{classes!r} (write ({classes!r},) for one class)"
        )
    try:
        classes = tuple(classes)
    except TypeError:
        raise TypeError(
            f"classes must be a sequence of class names, got "
            f"{type(classes).__name__}"
        ) from None
    if not classes:
        raise ValueError("classes must name at least one shape, got ()")
    for name in classes:
        if name not in SHAPE_CLASSES:
            raise ValueError(
                f"classes must be names from {SHAPE_CLASSES}, got {name!r}"
            )
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must not repeat a name, got {classes}")
    return classes


def _resolve_knobs(classes, difficulty, scale, rotation, stroke, noise,
                   contrast):
    if difficulty not in DIFFICULTIES:
        raise ValueError(
            f"difficulty must be one of {tuple(DIFFICULTIES)}, "
            f"got {difficulty!r}"
        )
    knobs = dict(DIFFICULTIES[difficulty])
    if scale is not None:
        knobs["scale"] = check_range(scale, "scale", low=0.0, high=1.0)
        if knobs["scale"][0] <= 0.0:
            raise ValueError(f"scale must be > 0, got {knobs['scale']}")
    if rotation is not None:
        knobs["rotation"] = check_float(rotation, "rotation", low=0.0,
                                        high=180.0)
    if stroke is not None:
        knobs["stroke"] = check_float(stroke, "stroke", low=0.0, high=1.0)
    if noise is not None:
        knobs["noise"] = check_float(noise, "noise", low=0.0, high=1.0)
    if contrast is not None:
        knobs["contrast"] = check_float(contrast, "contrast", low=0.0,
                                        high=1.0)
        if knobs["contrast"] == 0.0:
            raise ValueError("contrast must be > 0, got 0.0")

    twins = "square" in classes and "diamond" in classes
    if twins and knobs["rotation"] > MAX_SQUARE_DIAMOND_ROTATION:
        raise ValueError(
            f"rotation must be <= {MAX_SQUARE_DIAMOND_ROTATION} degrees when "
            f"classes hold both 'square' and 'diamond' (a square turned by "
            f"45 degrees is a diamond), got {knobs['rotation']}"
        )
    return knobs


def _draw_block(y, classes, size, channels, knobs, rng):
    """Draw the images of one block; every random draw happens here."""
    n = y.shape[0]

    # 1. Geometry: nominal radius, rotation, outline or fill, position.
    half = size / 2.0
    lo, hi = knobs["scale"]
    radius = rng.uniform(lo, hi, n) * half
    angle = np.deg2rad(rng.uniform(-1.0, 1.0, n) * knobs["rotation"])
    outline = rng.random(n) < knobs["stroke"]
    width = np.where(outline, np.maximum(1.2, rng.uniform(0.15, 0.22, n)
                                         * radius), 0.0)
    extent = np.array([_EXTENT[classes[k]] for k in y]) * radius
    # The shape, its outline and the 1-pixel soft edge stay inside.
    margin = np.minimum(extent + width / 2 + 0.5, half)
    cx = rng.uniform(margin, size - margin)
    cy = rng.uniform(margin, size - margin)

    # 2. Intensities: shape and background differ by at least `contrast`.
    gap = rng.uniform(knobs["contrast"], 1.0, n)
    low = rng.uniform(0.0, 1.0 - gap)
    dark_shape = rng.random(n) < knobs["polarity"]
    fg_value = np.where(dark_shape, low, low + gap)
    bg_value = np.where(dark_shape, low + gap, low)
    fg = _colours(fg_value, channels, rng)
    bg = _colours(bg_value, channels, rng)

    # 3. Background: a linear ramp in a random direction, zero on average.
    ramp_dir = rng.uniform(0.0, 2 * np.pi, n)
    ramp = rng.uniform(0.0, knobs["gradient"], n)

    # 4. Coverage of each pixel by its shape, class by class.
    coords = (np.arange(size, dtype=np.float32) + 0.5)
    px = coords[None, None, :]
    py = coords[None, :, None]
    cover = np.empty((n, size, size), dtype=np.float32)
    for k, name in enumerate(classes):
        idx = np.flatnonzero(y == k)
        if idx.size == 0:
            continue

        def col(a):
            # The per-image values of this class, ready to broadcast.
            return a[idx].astype(np.float32)[:, None, None]

        dx = px - col(cx)
        dy = py - col(cy)
        c, s = np.cos(col(angle)), np.sin(col(angle))
        u = c * dx + s * dy
        v = -s * dx + c * dy
        d = _SDF[name](u, v, col(radius))
        w = col(width)
        d = np.where(w > 0, np.abs(d) - w / 2, d)
        cover[idx] = np.clip(0.5 - d, 0.0, 1.0)

    # 5. Compose background and shape, add noise, keep within [0, 1].
    ramp_map = ((np.cos(ramp_dir)[:, None, None] * (px / size - 0.5)
                 + np.sin(ramp_dir)[:, None, None] * (py / size - 0.5))
                * ramp[:, None, None]).astype(np.float32)
    x = (bg[:, :, None, None] + ramp_map[:, None]
         + (fg - bg)[:, :, None, None] * cover[:, None])
    if knobs["noise"] > 0:
        x += rng.normal(0.0, knobs["noise"], x.shape).astype(np.float32)
    return np.clip(x, 0.0, 1.0, out=x)


def _colours(value, channels, rng):
    """Colours of brightness ``value`` (the largest channel), shape (n, C).

    Grey images use ``value`` itself. Colour images take a random hue and
    a saturation in [0, 0.8], so that a shape and its background differ in
    brightness as they do in the grey set, whatever their hues.
    """
    n = value.shape[0]
    if channels == 1:
        return value[:, None].astype(np.float32)
    hue = rng.uniform(0.0, 6.0, n)
    saturation = rng.uniform(0.0, 0.8, n)
    # Fully saturated colour of this hue, each channel in [0, 1].
    offsets = np.array([0.0, 4.0, 2.0])
    pure = np.clip(np.abs((hue[:, None] + offsets) % 6.0 - 3.0) - 1.0, 0.0, 1.0)
    rgb = value[:, None] * (1.0 - saturation[:, None] * (1.0 - pure))
    return rgb.astype(np.float32)


# Signed distance functions. Coordinates (u, v) are in pixels in the
# shape's own frame: origin at its centre, v pointing down the image.
# r is the nominal radius, broadcast against u and v.

def _sdf_circle(u, v, r):
    return np.hypot(u, v) - 0.9 * r


def _sdf_ring(u, v, r):
    # Outer radius 0.95 r and inner 0.5 r: a band 0.45 r wide, more than
    # twice the widest outline, so a filled ring never looks like an
    # outlined circle.
    return np.abs(np.hypot(u, v) - 0.725 * r) - 0.225 * r


def _sdf_box(u, v, half_w, half_h):
    qx = np.abs(u) - half_w
    qy = np.abs(v) - half_h
    outside = np.hypot(np.maximum(qx, 0.0), np.maximum(qy, 0.0))
    inside = np.minimum(np.maximum(qx, qy), 0.0)
    return outside + inside


def _sdf_cross(u, v, r):
    # A plus sign: the union (minimum) of a wide and a tall bar.
    arm, bar = 0.95 * r, 0.3 * r
    return np.minimum(_sdf_box(u, v, arm, bar), _sdf_box(u, v, bar, arm))


def _sdf_star(u, v, r_tip, r_notch, points, tip_angle):
    """Distance to a star with ``points`` tips, or a regular polygon.

    The star is symmetric under rotations by 2 pi / points and under the
    mirror through each tip, so every point is first folded into the
    wedge between one tip (angle 0) and the next notch (angle pi/points).
    Inside that wedge the outline is the single segment from the tip T at
    radius ``r_tip`` to the notch V at radius ``r_notch``, and the
    distance to the whole outline is the distance to that segment. A
    regular polygon is the star whose notches lie on its edges, at
    ``r_notch = r_tip * cos(pi / points)``.
    """
    wedge = np.pi / points
    phi = np.mod(np.arctan2(v, u) - tip_angle, 2 * wedge)
    phi = np.minimum(phi, 2 * wedge - phi)
    rho = np.hypot(u, v)
    qx, qy = rho * np.cos(phi), rho * np.sin(phi)

    # Closest point of the segment T -> V, T = (r_tip, 0).
    ex = r_notch * np.cos(wedge) - r_tip
    ey = r_notch * np.sin(wedge)
    wx, wy = qx - r_tip, qy
    t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0)
    dist = np.hypot(wx - t * ex, wy - t * ey)

    # The centre lies to the left of T -> V; so does every inside point.
    inside = ex * wy - ey * wx > 0
    return np.where(inside, -dist, dist)


def _sdf_square(u, v, r):
    # Half side 0.72 r, sides along the image axes (corners at 45 degrees).
    corner = 0.72 * np.sqrt(2.0) * r
    return _sdf_star(u, v, corner, corner * np.cos(np.pi / 4), 4, np.pi / 4)


def _sdf_diamond(u, v, r):
    # The same square with its corners on the axes.
    corner = 0.72 * np.sqrt(2.0) * r
    return _sdf_star(u, v, corner, corner * np.cos(np.pi / 4), 4, 0.0)


def _sdf_triangle(u, v, r):
    # Equilateral, one corner pointing up (v points down the image).
    tip = 1.1 * r
    return _sdf_star(u, v, tip, tip * np.cos(np.pi / 3), 3, -np.pi / 2)


def _sdf_hexagon(u, v, r):
    tip = 0.95 * r
    return _sdf_star(u, v, tip, tip * np.cos(np.pi / 6), 6, 0.0)


def _sdf_five_star(u, v, r):
    return _sdf_star(u, v, 1.1 * r, 0.45 * r, 5, -np.pi / 2)


_SDF = {
    "square": _sdf_square, "triangle": _sdf_triangle,
    "circle": _sdf_circle, "diamond": _sdf_diamond,
    "star": _sdf_five_star, "cross": _sdf_cross,
    "hexagon": _sdf_hexagon, "ring": _sdf_ring,
}
