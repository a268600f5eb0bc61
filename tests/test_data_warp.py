"""The C affine warp (cnnc.functional.warp_affine) against its NumPy reference."""

import numpy as np
import pytest

import cnnc
from cnnc.data.warp import affine_matrix, warp_affine_reference
from cnnc.functional import warp_affine

from conftest import assert_close


def random_theta(n, h, w, seed, out_size=None):
    rng = np.random.default_rng(seed)
    return affine_matrix(
        h, w, angle=rng.uniform(-180, 180, n),
        translate=(rng.uniform(-3, 3, n), rng.uniform(-3, 3, n)),
        scale=rng.uniform(0.6, 1.6, n),
        shear=(rng.uniform(-20, 20, n), rng.uniform(-20, 20, n)),
        out_size=out_size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("shape, out_size", [
    ((3, 2, 9, 9), None),
    ((2, 3, 7, 13), None),
    ((5, 1, 1, 6), None),
    ((1, 4, 6, 1), (3, 5)),
    ((4, 3, 16, 17), (8, 23)),
    ((64, 3, 32, 32), None),
    ((6, 3, 350, 350), None),    # over 2^21 outputs: runs on several threads
])
def test_c_warp_matches_reference(dtype, mode, shape, out_size, threads):
    x = np.random.default_rng(1).random(shape).astype(dtype)
    theta = random_theta(shape[0], shape[2], shape[3], seed=shape[0],
                         out_size=out_size)
    got = warp_affine(x, theta, out_size, mode, fill=0.3)
    want = warp_affine_reference(x, theta, out_size, mode, fill=0.3)
    assert got.dtype == dtype
    assert got.shape == want.shape
    assert_close(got, want)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_results_do_not_depend_on_threads(mode):
    x = np.random.default_rng(2).random((5, 3, 400, 400)).astype(np.float32)
    theta = random_theta(5, 400, 400, seed=3)  # 2.4e6 outputs
    before = cnnc.get_num_threads()
    try:
        cnnc.set_num_threads(1)
        one = warp_affine(x, theta, mode=mode)
        cnnc.set_num_threads(2)
        two = warp_affine(x, theta, mode=mode)
    finally:
        cnnc.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_identity_and_quarter_turn_are_exact():
    x = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
    theta = np.tile([[1.0, 0, 0], [0, 1.0, 0]], (2, 1, 1))
    np.testing.assert_array_equal(warp_affine(x, theta), x)
    quarter = affine_matrix(8, 8, angle=[90.0, 90.0])
    np.testing.assert_array_equal(warp_affine(x, quarter),
                                  np.rot90(x, 1, axes=(2, 3)))


def test_far_away_and_huge_coordinates_give_the_fill():
    x = np.ones((2, 1, 4, 4))
    theta = np.array([[[1.0, 0, 1e11], [0, 1.0, 0]],
                      [[1e12, -1e12, 0], [1e12, 1e12, -1e12]]])
    for mode in ("bilinear", "nearest"):
        np.testing.assert_array_equal(warp_affine(x, theta, mode=mode,
                                                  fill=-2.0), -2.0)


def test_non_contiguous_read_only_and_integer_theta():
    base = np.random.default_rng(0).random((3, 2, 10, 12)).astype(np.float32)
    x = base[:, :, ::2, ::-1]
    x.flags.writeable = False
    theta = np.tile(np.array([[1, 0, 1], [0, 1, 0]]), (3, 1, 1))
    got = warp_affine(x, theta)
    assert_close(got, warp_affine_reference(x, theta.astype(float)))
    empty = warp_affine(np.zeros((0, 1, 4, 4)), np.zeros((0, 2, 3)))
    assert empty.shape == (0, 1, 4, 4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: warp_affine(np.zeros((1, 1, 4, 4), np.int32), np.zeros((1, 2, 3))),
     TypeError, r"x must have dtype float32 or float64, got int32"),
    (lambda: warp_affine(np.zeros((1, 4, 4)), np.zeros((1, 2, 3))),
     ValueError, r"x must be a 4-D array of shape \(N, C, H, W\), got shape "
     r"\(1, 4, 4\)"),
    (lambda: warp_affine(np.zeros((1, 1, 0, 4)), np.zeros((1, 2, 3))),
     ValueError, r"x must have no empty channel or spatial axis"),
    (lambda: warp_affine(np.zeros((2, 1, 4, 4)), np.zeros((1, 2, 3))),
     ValueError, r"theta must have shape \(N, 2, 3\) = \(2, 2, 3\), one "
     r"matrix per image of x, got shape \(1, 2, 3\)"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), [[["a"] * 3] * 2]),
     TypeError, r"theta must hold real numbers, got dtype <U1"),
    (lambda: warp_affine(np.zeros((2, 1, 4, 4)),
                         np.array([np.eye(2, 3), np.full((2, 3), np.nan)])),
     ValueError, r"theta must be finite, got NaN or infinite entries in "
     r"matrices \[1\]"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), np.full((1, 2, 3), 1e13)),
     ValueError, r"theta entries must lie within \+-1e\+12, got 1e\+13"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 3)),
                         out_size=(0, 3)),
     ValueError, r"out_size\[0\] must be >= 1, got 0"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 3)),
                         mode="bicubic"),
     ValueError, r"mode must be one of \('bilinear', 'nearest'\), got 'bicubic'"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 3)),
                         fill="black"),
     TypeError, r"fill must be a number, got str"),
    (lambda: warp_affine(np.zeros((1, 1, 4, 4)), np.zeros((1, 2, 3)),
                         fill=float("inf")),
     ValueError, r"fill must be finite, got inf"),
])
def test_validation_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_transforms_use_the_c_kernel():
    from cnnc.data import transforms

    assert transforms._warp is warp_affine
    # A transform's output is the reference warp with the transform's own
    # matrices, drawn from the same seed.
    x = np.random.default_rng(0).random((6, 3, 12, 12)).astype(np.float32)
    aug = transforms.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10, fill=0.5,
                                  rng=4)
    theta = transforms.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10,
                                    rng=4).matrices(6, 12, 12)
    assert_close(aug(x), warp_affine_reference(x, theta, fill=0.5))
