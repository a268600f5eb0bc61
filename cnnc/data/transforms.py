"""Image augmentation on whole batches: the lecture's answer to scarce data.

"Randomly perturb the representation": shift, flip, rotate, skew, change
colour and illumination. Each transform here takes a batch ``x`` of shape
(N, C, H, W), draws its own random parameters for every image, and
returns a new array of the same dtype. Geometric transforms build one
affine matrix per image and warp the whole batch in one call to the C
kernel :func:`cnnc.functional.warp_affine` (its plain NumPy twin and the
conventions are in :mod:`cnnc.data.warp`); flips just reverse an axis.

Every transform takes ``rng``, a seed or a ``numpy.random.Generator``:
the same seed gives the same augmented batches.

NOTE: on the shapes dataset a square turned by 45 degrees is a diamond.
``shapes`` already rotates each shape by up to 15 degrees (20 at most);
a rotation, skew or affine augmentation adds to that, so keep the sum
within 20 degrees (e.g. ``RandomRotation(5)``) when both classes are used.
"""

import numbers

import numpy as np

from cnnc.data._checks import (
    as_generator,
    check_float,
    check_images,
    check_int,
    check_range,
)
from cnnc.data.warp import MODES, affine_matrix
from cnnc.functional import warp_affine as _warp

__all__ = [
    "Transform",
    "Compose",
    "RandomShift",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomRotation",
    "RandomSkew",
    "RandomAffine",
    "RandomCrop",
    "ColorJitter",
    "RandomGamma",
    "Normalize",
]


class Transform:
    """Base class: a callable from a batch (N, C, H, W) to a new batch."""

    def __call__(self, x):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"

    def _config(self):
        return {}


class Compose(Transform):
    """Apply transforms one after the other.

    Parameters
    ----------
    transforms : sequence of callables
        Each takes and returns a batch (N, C, H, W).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import Compose, RandomHorizontalFlip
    >>> flip = RandomHorizontalFlip(p=1.0)
    >>> x = np.arange(6.0).reshape(1, 1, 2, 3)
    >>> np.array_equal(Compose([flip, flip])(x), x)
    True
    """

    def __init__(self, transforms):
        try:
            transforms = list(transforms)
        except TypeError:
            raise TypeError(
                f"transforms must be a sequence of callables, got "
                f"{type(transforms).__name__}"
            ) from None
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(
                    f"transforms[{i}] must be callable, got {type(t).__name__}"
                )
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"interpolation must be one of {MODES}, got {mode!r}")
    return mode


class _Geometric(Transform):
    """Shared by the transforms that warp each image by an affine matrix."""

    def __init__(self, interpolation, fill, rng):
        self.interpolation = _check_mode(interpolation)
        self.fill = check_float(fill, "fill")
        self.rng = as_generator(rng)

    def matrices(self, n, height, width):
        """Draw the ``theta`` of ``n`` images, shape (n, 2, 3)."""
        raise NotImplementedError

    def __call__(self, x):
        x = check_images(x)
        n, _, h, w = x.shape
        theta = self.matrices(n, h, w)
        return _warp(x, theta, None, self.interpolation, self.fill)

    def _config(self):
        return dict(interpolation=self.interpolation, fill=self.fill)


class RandomShift(_Geometric):
    """Move each image by a random offset (translation).

    Parameters
    ----------
    max_shift : float or (float, float)
        Largest shift in pixels, or ``(along x, along y)``; each image is
        moved by offsets drawn uniformly in ``[-max_shift, max_shift]``.
    whole_pixels : bool, default True
        Round the offsets to whole pixels, so the image is moved without
        any blur; otherwise sub-pixel offsets are interpolated.
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    fill : float, default 0.0
        Value of the pixels uncovered at the edge.
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomShift
    >>> x = np.zeros((4, 1, 8, 8), np.float32)
    >>> RandomShift(2, rng=0)(x).shape
    (4, 1, 8, 8)
    """

    def __init__(self, max_shift, whole_pixels=True, interpolation="bilinear",
                 fill=0.0, rng=None):
        super().__init__(interpolation, fill, rng)
        if isinstance(max_shift, numbers.Real) and not isinstance(max_shift, bool):
            max_shift = (max_shift, max_shift)
        if not isinstance(max_shift, (tuple, list)) or len(max_shift) != 2:
            raise TypeError(
                f"max_shift must be a number or a pair (x, y) of numbers, "
                f"got {max_shift!r}"
            )
        self.max_shift = tuple(check_float(v, "max_shift", low=0.0)
                               for v in max_shift)
        self.whole_pixels = bool(whole_pixels)

    def matrices(self, n, height, width):
        mx, my = self.max_shift
        dx = self.rng.uniform(-mx, mx, n)
        dy = self.rng.uniform(-my, my, n)
        if self.whole_pixels:
            dx, dy = np.round(dx), np.round(dy)
        return affine_matrix(height, width, translate=(dx, dy))

    def _config(self):
        return dict(max_shift=self.max_shift, whole_pixels=self.whole_pixels,
                    **super()._config())


class RandomRotation(_Geometric):
    """Rotate each image about its centre by a random angle.

    Parameters
    ----------
    degrees : float or (float, float)
        Angles are drawn uniformly in ``[-degrees, degrees]`` or in the
        given ``(low, high)`` range; positive turns counter-clockwise.
        On the shapes data keep this small (see the module notes): a
        square turned by 45 degrees is a diamond.
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    fill : float, default 0.0
        Value of the corners that the rotation uncovers.
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomRotation
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> RandomRotation((90, 90))(x)[0, 0].tolist()
    [[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
    """

    def __init__(self, degrees, interpolation="bilinear", fill=0.0, rng=None):
        super().__init__(interpolation, fill, rng)
        self.degrees = check_range(degrees, "degrees", symmetric=True)

    def matrices(self, n, height, width):
        angle = self.rng.uniform(*self.degrees, n)
        return affine_matrix(height, width, angle=angle)

    def _config(self):
        return dict(degrees=self.degrees, **super()._config())


class RandomSkew(_Geometric):
    """Shear each image: slant its columns, rows, or both.

    Parameters
    ----------
    degrees : float or (float, float)
        Shear angle range; a number ``d`` means ``[-d, d]``. Within
        (-90, 90).
    axes : {"x", "y", "xy"}, default "xy"
        ``"x"`` slants vertical lines (x moves with y), ``"y"`` slants
        horizontal lines, ``"xy"`` draws an angle for each.
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    fill : float, default 0.0
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomSkew
    >>> x = np.ones((2, 3, 16, 16), np.float32)
    >>> RandomSkew(10, axes="x", rng=1)(x).dtype
    dtype('float32')
    """

    def __init__(self, degrees, axes="xy", interpolation="bilinear", fill=0.0,
                 rng=None):
        super().__init__(interpolation, fill, rng)
        self.degrees = check_range(degrees, "degrees", low=-89.0, high=89.0,
                                   symmetric=True)
        if axes not in ("x", "y", "xy"):
            raise ValueError(f"axes must be 'x', 'y' or 'xy', got {axes!r}")
        self.axes = axes

    def matrices(self, n, height, width):
        sx = self.rng.uniform(*self.degrees, n) if "x" in self.axes else 0.0
        sy = self.rng.uniform(*self.degrees, n) if "y" in self.axes else 0.0
        shear = (np.broadcast_to(sx, (n,)), np.broadcast_to(sy, (n,)))
        return affine_matrix(height, width, shear=shear)

    def _config(self):
        return dict(degrees=self.degrees, axes=self.axes, **super()._config())


class RandomAffine(_Geometric):
    """Rotation, shift, zoom and skew together, in one warp per image.

    Each image is sheared, scaled, rotated about its centre and then
    shifted, with parameters drawn independently; the four motions cost
    one interpolation, so the image is blurred once, not four times.

    Parameters
    ----------
    degrees : float or (float, float), default 0
        Rotation range in degrees (a number ``d`` means ``[-d, d]``).
    translate : (float, float), optional
        Largest shift as fractions of the width and of the height.
    scale : (float, float), optional
        Range of the zoom factor, both > 0.
    shear : float or (float, float), optional
        Shear angle range in degrees, applied along x and along y.
    interpolation : {"bilinear", "nearest"}, default "bilinear"
    fill : float, default 0.0
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomAffine
    >>> aug = RandomAffine(degrees=5, translate=(0.1, 0.1), scale=(0.9, 1.1),
    ...                    shear=5, rng=0)
    >>> aug.matrices(3, 32, 32).shape
    (3, 2, 3)
    """

    def __init__(self, degrees=0.0, translate=None, scale=None, shear=None,
                 interpolation="bilinear", fill=0.0, rng=None):
        super().__init__(interpolation, fill, rng)
        self.degrees = check_range(degrees, "degrees", symmetric=True)
        if translate is not None:
            translate = check_range(translate, "translate", low=0.0, high=1.0)
        self.translate = translate
        if scale is not None:
            scale = check_range(scale, "scale")
            if scale[0] <= 0:
                raise ValueError(f"scale must be > 0, got {scale}")
        self.scale = scale
        if shear is not None:
            shear = check_range(shear, "shear", low=-89.0, high=89.0,
                                symmetric=True)
        self.shear = shear

    def matrices(self, n, height, width):
        angle = self.rng.uniform(*self.degrees, n)
        dx = dy = np.zeros(n)
        if self.translate is not None:
            fx, fy = self.translate
            dx = self.rng.uniform(-fx, fx, n) * width
            dy = self.rng.uniform(-fy, fy, n) * height
        zoom = np.ones(n)
        if self.scale is not None:
            zoom = self.rng.uniform(*self.scale, n)
        sx = sy = np.zeros(n)
        if self.shear is not None:
            sx = self.rng.uniform(*self.shear, n)
            sy = self.rng.uniform(*self.shear, n)
        return affine_matrix(height, width, angle=angle, translate=(dx, dy),
                             scale=zoom, shear=(sx, sy))

    def _config(self):
        return dict(degrees=self.degrees, translate=self.translate,
                    scale=self.scale, shear=self.shear, **super()._config())


class RandomCrop(Transform):
    """Pad each image, then cut a window at a random place.

    Parameters
    ----------
    size : int or (int, int)
        Output height and width.
    padding : int, default 0
        Border of ``fill`` added on every side before cropping.
    fill : float, default 0.0
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomCrop
    >>> x = np.ones((5, 3, 32, 32), np.float32)
    >>> RandomCrop(32, padding=4, rng=0)(x).shape
    (5, 3, 32, 32)
    """

    def __init__(self, size, padding=0, fill=0.0, rng=None):
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            size = (size, size)
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise TypeError(
                f"size must be an int or a pair (height, width), got {size!r}"
            )
        self.size = tuple(check_int(s, "size", minimum=1) for s in size)
        self.padding = check_int(padding, "padding", minimum=0)
        self.fill = check_float(fill, "fill")
        self.rng = as_generator(rng)

    def __call__(self, x):
        x = check_images(x)
        n, _, h, w = x.shape
        (p, q), pad = self.size, self.padding
        if p > h + 2 * pad or q > w + 2 * pad:
            raise ValueError(
                f"size {self.size} is larger than the padded image "
                f"({h + 2 * pad}, {w + 2 * pad}) (x.shape={x.shape}, "
                f"padding={pad})"
            )
        # Top-left corner of each window in the padded image; a pure
        # whole-pixel translation, so nearest sampling copies pixels.
        top = self.rng.integers(0, h + 2 * pad - p + 1, n)
        left = self.rng.integers(0, w + 2 * pad - q + 1, n)
        theta = np.zeros((n, 2, 3))
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, 0, 2] = left - pad
        theta[:, 1, 2] = top - pad
        return _warp(x, theta, (p, q), "nearest", self.fill)

    def _config(self):
        return dict(size=self.size, padding=self.padding, fill=self.fill)


class _Flip(Transform):
    axis = None

    def __init__(self, p=0.5, rng=None):
        self.p = check_float(p, "p", low=0.0, high=1.0)
        self.rng = as_generator(rng)

    def __call__(self, x):
        x = check_images(x)
        flip = self.rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=self.axis)
        return out

    def _config(self):
        return dict(p=self.p)


class RandomHorizontalFlip(_Flip):
    """Mirror each image left to right with probability ``p``.

    Parameters
    ----------
    p : float, default 0.5
        Probability that an image is flipped.
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomHorizontalFlip
    >>> x = np.arange(3.0).reshape(1, 1, 1, 3)
    >>> RandomHorizontalFlip(p=1.0)(x)[0, 0, 0].tolist()
    [2.0, 1.0, 0.0]
    """

    axis = -1


class RandomVerticalFlip(_Flip):
    """Mirror each image top to bottom with probability ``p``.

    Parameters
    ----------
    p : float, default 0.5
        Probability that an image is flipped.
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomVerticalFlip
    >>> x = np.arange(3.0).reshape(1, 1, 3, 1)
    >>> RandomVerticalFlip(p=1.0)(x)[0, 0, :, 0].tolist()
    [2.0, 1.0, 0.0]
    """

    axis = -2


def _factor_range(value, name):
    """A jitter strength ``v`` means factors in [max(0, 1 - v), 1 + v]."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = check_float(value, name, low=0.0)
        return (max(0.0, 1.0 - v), 1.0 + v)
    return check_range(value, name, low=0.0)


class ColorJitter(Transform):
    """Random brightness, contrast and saturation: illumination changes.

    For each image a factor is drawn for each property and applied in
    this order:

    * brightness ``b``: ``x * b``;
    * contrast ``c``: ``m + (x - m) * c`` with ``m`` the image's mean
      grey level, so 0 gives a flat grey image;
    * saturation ``s`` (3 channels only): ``g + (x - g) * s`` with ``g``
      the grey level of each pixel (0.299 R + 0.587 G + 0.114 B), so 0
      gives a grey image.

    Parameters
    ----------
    brightness, contrast, saturation : float or (float, float), default 0
        A strength ``v`` draws factors uniformly in
        ``[max(0, 1 - v), 1 + v]``; a pair gives the range itself.
    clip : bool, default True
        Keep the result within [0, 1].
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import ColorJitter
    >>> x = np.full((2, 3, 4, 4), 0.5, np.float32)
    >>> y = ColorJitter(brightness=(2.0, 2.0))(x)
    >>> float(y.max())
    1.0
    """

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0,
                 clip=True, rng=None):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.clip = bool(clip)
        self.rng = as_generator(rng)

    def __call__(self, x):
        x = check_images(x)
        n, c = x.shape[:2]
        if self.saturation != (1.0, 1.0) and c != 3:
            raise ValueError(
                f"saturation needs images with 3 channels (RGB), got x with "
                f"{c} channels (x.shape={x.shape}); leave saturation at 0"
            )
        b = self.rng.uniform(*self.brightness, n).astype(x.dtype)
        k = self.rng.uniform(*self.contrast, n).astype(x.dtype)
        s = self.rng.uniform(*self.saturation, n).astype(x.dtype)

        # Brightness then contrast make one affine map per image:
        # m + (b x - m) k = (b k) x + (1 - k) m, with m = b * mean grey of x.
        m = b * _grey(x).mean(axis=(1, 2, 3)).astype(x.dtype)
        out = x * (b * k)[:, None, None, None]
        out += ((1 - k) * m)[:, None, None, None]
        if c == 3:
            # Saturation: g + (out - g) s = s out + (1 - s) g, g per pixel.
            grey = _grey(out)
            out *= s[:, None, None, None]
            out += (1 - s)[:, None, None, None] * grey
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return out

    def _config(self):
        return dict(brightness=self.brightness, contrast=self.contrast,
                    saturation=self.saturation, clip=self.clip)


def _grey(x):
    """Grey level, shape (N, 1, H, W): the luma of RGB, or the channel mean."""
    if x.shape[1] == 3:
        grey = x[:, 0:1] * x.dtype.type(0.299)
        grey += x[:, 1:2] * x.dtype.type(0.587)
        grey += x[:, 2:3] * x.dtype.type(0.114)
        return grey
    return x.mean(axis=1, keepdims=True)


class RandomGamma(Transform):
    """Random gamma curve ``x ** g``: darker or lighter mid-tones.

    Gamma keeps black at 0 and white at 1 and bends the levels between,
    like a change of exposure. ``g`` is drawn log-uniformly, so that
    ``g`` and ``1 / g`` are equally likely when the range is symmetric.

    Parameters
    ----------
    gamma : (float, float), default (0.7, 1.5)
        Range of ``g``, both > 0.
    rng : int or numpy.random.Generator or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import RandomGamma
    >>> x = np.full((1, 1, 2, 2), 0.25)
    >>> RandomGamma((0.5, 0.5))(x)[0, 0, 0, 0]
    np.float64(0.5)
    """

    def __init__(self, gamma=(0.7, 1.5), rng=None):
        gamma = check_range(gamma, "gamma")
        if gamma[0] <= 0:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        self.gamma = gamma
        self.rng = as_generator(rng)

    def __call__(self, x):
        x = check_images(x)
        if x.size and x.min() < 0:
            raise ValueError(
                f"RandomGamma needs x >= 0 (intensities, before any "
                f"normalisation), got a minimum of {x.min()}"
            )
        lo, hi = np.log(self.gamma)
        g = np.exp(self.rng.uniform(lo, hi, x.shape[0])).astype(x.dtype)
        return np.power(x, g[:, None, None, None])

    def _config(self):
        return dict(gamma=self.gamma)


class Normalize(Transform):
    """Standardise each channel: ``(x - mean[c]) / std[c]``.

    Parameters
    ----------
    mean, std : sequence of float
        One value per channel, e.g. from
        :func:`cnnc.data.channel_stats` on the training set; ``std > 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data.transforms import Normalize
    >>> x = np.full((1, 2, 1, 1), 0.5, np.float32)
    >>> Normalize([0.5, 0.0], [1.0, 0.25])(x)[0, :, 0, 0].tolist()
    [0.0, 2.0]
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape:
            raise ValueError(
                f"mean and std must be 1-D with one value per channel, got "
                f"shapes {self.mean.shape} and {self.std.shape}"
            )
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.std))):
            raise ValueError(
                f"mean and std must be finite, got {self.mean.tolist()} and "
                f"{self.std.tolist()}"
            )
        if np.any(self.std <= 0):
            raise ValueError(f"std must be > 0 in every channel, got "
                             f"{self.std.tolist()}")

    def __call__(self, x):
        x = check_images(x)
        c = x.shape[1]
        if c != self.mean.shape[0]:
            raise ValueError(
                f"x has {c} channels but this Normalize has "
                f"{self.mean.shape[0]} means (x.shape={x.shape})"
            )
        mean = self.mean.astype(x.dtype)[:, None, None]
        scale = (1.0 / self.std).astype(x.dtype)[:, None, None]
        return (x - mean) * scale

    def _config(self):
        return dict(mean=self.mean.tolist(), std=self.std.tolist())
