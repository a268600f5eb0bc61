"""Tests of the affine warp reference and the batch transforms."""

import numpy as np
import pytest

from cnnc.data import transforms as T
from cnnc.data.warp import affine_matrix, cos_sin_degrees, warp_affine_reference

DTYPES = [np.float32, np.float64]


def batch(n=4, c=3, h=9, w=9, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(dtype)


def identity_theta(n):
    theta = np.zeros((n, 2, 3))
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    return theta


# ----------------------------------------------------------------------
# The reference warp


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_reference_identity(mode, dtype):
    x = batch(dtype=dtype)
    out = warp_affine_reference(x, identity_theta(4), mode=mode)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_reference_whole_pixel_shift_moves_pixels(mode):
    x = batch(n=1, c=2, h=5, w=6)
    theta = identity_theta(1)
    theta[0, :, 2] = [2.0, -1.0]   # output (x, y) reads input (x + 2, y - 1)
    out = warp_affine_reference(x, theta, mode=mode, fill=-1.0)
    expected = np.full_like(x, -1.0)
    expected[:, :, 1:, :4] = x[:, :, :4, 2:]
    np.testing.assert_array_equal(out, expected)


def scipy_warp(x, theta, out_size, order, fill):
    ndimage = pytest.importorskip("scipy.ndimage")
    n, c = x.shape[:2]
    out = np.empty((n, c) + tuple(out_size), x.dtype)
    for i in range(n):
        (a, b, tx), (d, e, ty) = theta[i]
        # scipy works in (row, col) = (y, x) order.
        matrix = np.array([[e, d], [b, a]])
        for k in range(c):
            out[i, k] = ndimage.affine_transform(
                x[i, k].astype(np.float64), matrix, offset=(ty, tx),
                output_shape=out_size, order=order, mode="grid-constant",
                cval=fill)
    return out


@pytest.mark.parametrize("out_size", [(9, 9), (5, 12)])
def test_reference_bilinear_matches_scipy(out_size):
    x = batch(n=3, c=2, h=9, w=11, dtype=np.float64)
    theta = affine_matrix(9, 11, angle=[10.0, -33.0, 71.0],
                          translate=([0.3, -1.7, 2.2], [1.1, 0.0, -0.4]),
                          scale=[1.2, 0.8, 1.0], shear=([5.0, 0, -8], [0, 3, 0]),
                          out_size=out_size)
    got = warp_affine_reference(x, theta, out_size, "bilinear", fill=0.25)
    want = scipy_warp(x, theta, out_size, order=1, fill=0.25)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_reference_nearest_matches_scipy():
    x = batch(n=2, c=1, h=8, w=8, dtype=np.float64)
    theta = affine_matrix(8, 8, angle=[13.0, -47.0], translate=(0.31, 0.17))
    got = warp_affine_reference(x, theta, None, "nearest", fill=0.5)
    want = scipy_warp(x, theta, (8, 8), order=0, fill=0.5)
    np.testing.assert_array_equal(got, want)


def test_reference_far_away_points_are_fill():
    x = batch(n=1, c=1, h=4, w=4)
    theta = identity_theta(1)
    theta[0, 0, 2] = 1e30
    for mode in ("bilinear", "nearest"):
        out = warp_affine_reference(x, theta, mode=mode, fill=7.0)
        np.testing.assert_array_equal(out, 7.0)


def test_bilinear_blends_into_the_fill_at_the_edge():
    x = np.ones((1, 1, 1, 3))
    theta = identity_theta(1)
    theta[0, 0, 2] = 0.5   # sample half-way between pixels
    out = warp_affine_reference(x, theta, fill=0.0)
    np.testing.assert_allclose(out[0, 0, 0], [1.0, 1.0, 0.5])


def test_cos_sin_exact_at_quarter_turns():
    c, s = cos_sin_degrees(np.array([0.0, 90.0, 180.0, -90.0, 270.0, 30.0]))
    np.testing.assert_array_equal(c[:5], [1, 0, -1, 0, 0])
    np.testing.assert_array_equal(s[:5], [0, 1, 0, -1, -1])
    np.testing.assert_allclose([c[5], s[5]], [np.sqrt(3) / 2, 0.5])


def test_affine_matrix_inverts_the_forward_map():
    # Rotating 90 degrees counter-clockwise moves the point right of the
    # centre to above it: the output pixel above reads the input on the right.
    theta = affine_matrix(5, 5, angle=90.0)[0]
    src = theta @ np.array([2.0, 0.0, 1.0])   # output (x=2, y=0): top middle
    np.testing.assert_allclose(src, [4.0, 2.0])  # input (x=4, y=2): right


# ----------------------------------------------------------------------
# Geometric properties


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flip", [T.RandomHorizontalFlip, T.RandomVerticalFlip])
def test_flip_twice_is_identity(flip, dtype):
    x = batch(n=16, dtype=dtype)
    t = flip(p=0.5, rng=3)
    once = t(x)
    twice = flip(p=1.0)(flip(p=1.0)(x))
    np.testing.assert_array_equal(twice, x)
    flipped = np.any(once != x, axis=(1, 2, 3))
    assert 0 < flipped.sum() < 16
    axis = -1 if flip is T.RandomHorizontalFlip else -2
    np.testing.assert_array_equal(once[flipped], np.flip(x[flipped], axis))
    np.testing.assert_array_equal(once[~flipped], x[~flipped])


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("transform", [
    lambda m: T.RandomRotation(0, interpolation=m),
    lambda m: T.RandomShift(0, interpolation=m),
    lambda m: T.RandomShift(0.0, whole_pixels=False, interpolation=m),
    lambda m: T.RandomSkew(0, interpolation=m),
    lambda m: T.RandomAffine(interpolation=m),
    lambda m: T.RandomAffine(degrees=0, translate=(0, 0), scale=(1, 1),
                             shear=0, interpolation=m),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_motion_changes_nothing(transform, mode, dtype):
    x = batch(h=8, w=11, dtype=dtype)
    out = transform(mode)(x)
    assert out.dtype == dtype and out is not x
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("size", [6, 7])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("degrees, k", [(90, 1), (180, 2), (-90, -1), (270, 3)])
def test_quarter_rotation_matches_rot90(size, mode, degrees, k):
    x = batch(n=2, c=3, h=size, w=size)
    out = T.RandomRotation((degrees, degrees), interpolation=mode)(x)
    np.testing.assert_array_equal(out, np.rot90(x, k=k, axes=(2, 3)))


def test_whole_pixel_shift_is_a_pure_translation():
    x = batch(n=32, c=1, h=10, w=10)
    out = T.RandomShift((3, 2), fill=-1.0, rng=5)(x)
    for img, src in zip(out[:, 0], x[:, 0]):
        # Find the shift that explains the output exactly.
        found = False
        for dy in range(-2, 3):
            for dx in range(-3, 4):
                want = np.full_like(src, -1.0)
                ys, xs = slice(max(dy, 0), 10 + min(dy, 0)), slice(max(dx, 0),
                                                                   10 + min(dx, 0))
                yt, xt = slice(max(-dy, 0), 10 + min(-dy, 0)), slice(
                    max(-dx, 0), 10 + min(-dx, 0))
                want[ys, xs] = src[yt, xt]
                found |= np.array_equal(img, want)
        assert found


def test_sub_pixel_shift_interpolates():
    x = np.zeros((64, 1, 5, 5))
    x[:, :, 2, 2] = 1.0
    out = T.RandomShift(1.0, whole_pixels=False, rng=0)(x)
    # Bilinear interpolation keeps the total mass of an interior pixel.
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), 1.0, rtol=1e-12)
    assert np.mean(out.max(axis=(1, 2, 3)) < 1.0) > 0.9


def test_scale_zooms_about_the_centre():
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 4, 4] = 1.0
    x[0, 0, 4, 6] = 1.0
    out = T.RandomAffine(scale=(2.0, 2.0), interpolation="nearest")(x)
    assert out[0, 0, 4, 4] == 1.0 and out[0, 0, 4, 8] == 1.0
    assert out[0, 0, 4, 6] == 0.0


def test_skew_along_x_keeps_the_middle_row():
    x = batch(n=3, c=1, h=9, w=9)
    out = T.RandomSkew(20, axes="x", rng=0)(x)
    np.testing.assert_allclose(out[:, :, 4], x[:, :, 4], atol=1e-6)
    assert not np.allclose(out[:, :, 0], x[:, :, 0])


@pytest.mark.parametrize("padding", [0, 3])
def test_random_crop_takes_windows_of_the_padded_image(padding):
    x = batch(n=8, c=2, h=7, w=8, dtype=np.float64)
    out = T.RandomCrop((5, 6), padding=padding, fill=-1.0, rng=1)(x)
    assert out.shape == (8, 2, 5, 6)
    padded = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2),
                    constant_values=-1.0)
    for img, src in zip(out, padded):
        windows = [src[:, i:i + 5, j:j + 6]
                   for i in range(src.shape[1] - 4) for j in range(src.shape[2] - 5)]
        assert any(np.array_equal(img, w) for w in windows)


def test_random_crop_of_full_size_without_padding_is_identity():
    x = batch()
    np.testing.assert_array_equal(T.RandomCrop(9)(x), x)


@pytest.mark.parametrize("make", [
    lambda s: T.RandomRotation(30, rng=s),
    lambda s: T.RandomShift(2, rng=s),
    lambda s: T.RandomSkew(10, rng=s),
    lambda s: T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1), 5, rng=s),
    lambda s: T.RandomCrop(7, padding=2, rng=s),
    lambda s: T.RandomHorizontalFlip(rng=s),
    lambda s: T.ColorJitter(0.3, 0.3, 0.3, rng=s),
    lambda s: T.RandomGamma(rng=s),
])
def test_same_seed_same_batch(make):
    x = batch(n=16)
    np.testing.assert_array_equal(make(7)(x), make(7)(x))
    assert not np.array_equal(make(7)(x), make(8)(x))
    t = make(7)
    assert not np.array_equal(t(x), t(x))   # the stream moves on


def test_each_image_gets_its_own_matrix():
    theta = T.RandomAffine(20, (0.1, 0.1), (0.8, 1.2), 10, rng=0).matrices(
        50, 32, 32)
    assert theta.shape == (50, 2, 3)
    assert len(np.unique(theta[:, 0, 0])) == 50


@pytest.mark.parametrize("transform", [
    T.RandomRotation(15, rng=0), T.RandomCrop(6, padding=1, rng=0),
    T.RandomHorizontalFlip(rng=0), T.ColorJitter(0.2, 0.2, 0.2, rng=0),
    T.RandomGamma(rng=0), T.Normalize([0.5] * 3, [0.2] * 3),
])
def test_non_contiguous_and_read_only_inputs(transform):
    base = batch(n=6, h=8, w=8)
    x = base[:, :, ::-1, :]
    x.flags.writeable = False
    assert not x.flags.c_contiguous
    out = transform(x)
    assert out.flags.writeable and out.dtype == np.float32


# ----------------------------------------------------------------------
# Colour and intensity


def test_color_jitter_brightness_contrast_saturation():
    x = batch(n=5, dtype=np.float64) * 0.4
    np.testing.assert_allclose(T.ColorJitter(brightness=(2, 2))(x), x * 2)
    flat = T.ColorJitter(contrast=(0, 0))(x)
    grey_mean = (np.einsum("nchw,c->nhw", x, [0.299, 0.587, 0.114])
                 .mean(axis=(1, 2)))
    np.testing.assert_allclose(flat, np.broadcast_to(
        grey_mean[:, None, None, None], x.shape))
    grey = T.ColorJitter(saturation=(0, 0))(x)
    np.testing.assert_allclose(grey[:, 0], grey[:, 1])
    np.testing.assert_allclose(grey[:, 1], grey[:, 2])
    same = T.ColorJitter()(x)
    np.testing.assert_allclose(same, x)


def test_color_jitter_equals_the_three_steps_one_by_one():
    x = batch(n=6, dtype=np.float64) * 0.8
    out = T.ColorJitter(0.4, 0.5, 0.6, clip=False, rng=9)(x)
    rng = np.random.default_rng(9)
    b, k, s = (rng.uniform(lo, hi, 6)[:, None, None, None]
               for lo, hi in ((0.6, 1.4), (0.5, 1.5), (0.4, 1.6)))
    luma = np.array([0.299, 0.587, 0.114])[None, :, None, None]
    want = x * b
    mean = (want * luma).sum(axis=1, keepdims=True).mean(axis=(2, 3),
                                                          keepdims=True)
    want = mean + (want - mean) * k
    grey = (want * luma).sum(axis=1, keepdims=True)
    want = grey + (want - grey) * s
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


def test_color_jitter_clips_unless_told_not_to():
    x = np.full((2, 1, 2, 2), 0.8, np.float32)
    assert T.ColorJitter(brightness=(2, 2))(x).max() == 1.0
    np.testing.assert_allclose(
        T.ColorJitter(brightness=(2, 2), clip=False)(x), 1.6)


def test_random_gamma():
    x = batch(n=3, dtype=np.float64)
    np.testing.assert_allclose(T.RandomGamma((2, 2))(x), x ** 2)
    g = T.RandomGamma((0.5, 2.0), rng=0)(np.full((4000, 1, 1, 1), 0.5))
    exponents = np.log(g.ravel()) / np.log(0.5)
    assert 0.5 <= exponents.min() and exponents.max() <= 2.0
    # Log-uniform: as many exponents below 1 as above.
    assert abs(np.mean(exponents < 1.0) - 0.5) < 0.05


def test_normalize_and_compose():
    x = batch(n=2, c=2, dtype=np.float64)
    norm = T.Normalize([0.5, 0.25], [0.5, 2.0])
    want = (x - np.array([0.5, 0.25])[:, None, None]) / np.array(
        [0.5, 2.0])[:, None, None]
    np.testing.assert_allclose(norm(x), want)
    flip = T.RandomHorizontalFlip(p=1.0)
    np.testing.assert_allclose(T.Compose([flip, norm])(x), norm(x[..., ::-1]))
    assert "RandomHorizontalFlip(p=1.0)" in repr(T.Compose([flip, norm]))


# ----------------------------------------------------------------------
# Validation


@pytest.mark.parametrize("call, error, message", [
    (lambda: T.RandomRotation(10)(np.zeros((3, 4, 4))), ValueError,
     r"x must have 4 dimensions \(N, C, H, W\), got shape \(3, 4, 4\) "
     r"\(use x\[None\] for a single image\)"),
    (lambda: T.RandomRotation(10)(np.zeros((1, 1, 4, 4), np.uint8)), TypeError,
     r"x must be float32 or float64, got dtype uint8"),
    (lambda: T.RandomRotation(10)([[1.0]]), TypeError,
     r"x must be a numpy.ndarray of shape \(N, C, H, W\), got list"),
    (lambda: T.RandomRotation("a lot"), ValueError,
     r"degrees must be a \(low, high\) pair, got 5 values"),
    (lambda: T.RandomRotation((20, 10)), ValueError,
     r"degrees must have low <= high, got \(20.0, 10.0\)"),
    (lambda: T.RandomRotation(10, interpolation="cubic"), ValueError,
     r"interpolation must be one of \('bilinear', 'nearest'\), got 'cubic'"),
    (lambda: T.RandomRotation(10, fill=float("nan")), ValueError,
     r"fill must be finite, got nan"),
    (lambda: T.RandomRotation(10, rng="seed"), TypeError,
     r"rng must be None, an int seed or a numpy.random.Generator, got str"),
    (lambda: T.RandomShift(-1), ValueError, r"max_shift must be >= 0.0, got -1"),
    (lambda: T.RandomShift((1, 2, 3)), TypeError,
     r"max_shift must be a number or a pair \(x, y\) of numbers, got \(1, 2, 3\)"),
    (lambda: T.RandomSkew(90), ValueError,
     r"degrees must lie within \[-89.0, 89.0\], got \(-90.0, 90.0\)"),
    (lambda: T.RandomSkew(10, axes="z"), ValueError,
     r"axes must be 'x', 'y' or 'xy', got 'z'"),
    (lambda: T.RandomAffine(translate=(0.1, 1.5)), ValueError,
     r"translate must lie within \[0.0, 1.0\], got \(0.1, 1.5\)"),
    (lambda: T.RandomAffine(scale=(0.0, 1.0)), ValueError,
     r"scale must be > 0, got \(0.0, 1.0\)"),
    (lambda: T.RandomAffine(scale=1.2), TypeError,
     r"scale must be a \(low, high\) pair, got the number 1.2"),
    (lambda: T.RandomCrop(0), ValueError, r"size must be >= 1, got 0"),
    (lambda: T.RandomCrop("big"), TypeError,
     r"size must be an int or a pair \(height, width\), got 'big'"),
    (lambda: T.RandomCrop(4, padding=-2), ValueError,
     r"padding must be >= 0, got -2"),
    (lambda: T.RandomCrop(12, padding=1)(np.zeros((1, 1, 8, 8))), ValueError,
     r"size \(12, 12\) is larger than the padded image \(10, 10\)"),
    (lambda: T.RandomHorizontalFlip(p=1.5), ValueError, r"p must be <= 1.0, got 1.5"),
    (lambda: T.RandomVerticalFlip(p="half"), TypeError,
     r"p must be a number, got str"),
    (lambda: T.ColorJitter(brightness=-0.5), ValueError,
     r"brightness must be >= 0.0, got -0.5"),
    (lambda: T.ColorJitter(contrast=(1.5, 0.5)), ValueError,
     r"contrast must have low <= high"),
    (lambda: T.ColorJitter(saturation=0.5)(np.zeros((1, 1, 2, 2))), ValueError,
     r"saturation needs images with 3 channels \(RGB\), got x with 1 channels"),
    (lambda: T.RandomGamma((0.0, 1.0)), ValueError,
     r"gamma must be > 0, got \(0.0, 1.0\)"),
    (lambda: T.RandomGamma()(np.full((1, 1, 2, 2), -0.5)), ValueError,
     r"RandomGamma needs x >= 0 .* got a minimum of -0.5"),
    (lambda: T.Normalize([0.5, 0.5], [1.0]), ValueError,
     r"mean and std must be 1-D with one value per channel, got shapes "
     r"\(2,\) and \(1,\)"),
    (lambda: T.Normalize([0.5], [0.0]), ValueError,
     r"std must be > 0 in every channel, got \[0.0\]"),
    (lambda: T.Normalize([0.5], [1.0])(np.zeros((1, 3, 2, 2))), ValueError,
     r"x has 3 channels but this Normalize has 1 means"),
    (lambda: T.Compose(T.RandomGamma()), TypeError,
     r"transforms must be a sequence of callables, got RandomGamma"),
    (lambda: T.Compose([T.RandomGamma(), 3]), TypeError,
     r"transforms\[1\] must be callable, got int"),
])
def test_validation_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_reprs_show_the_configuration():
    assert repr(T.RandomRotation(10)) == (
        "RandomRotation(degrees=(-10.0, 10.0), interpolation='bilinear', "
        "fill=0.0)")
    assert "padding=4" in repr(T.RandomCrop(32, padding=4))
