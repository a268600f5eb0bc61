"""Max, average and adaptive average pooling: C kernels against the NumPy
reference and PyTorch, gradient checks, ties, NaN and every validation
message."""
import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import nn
from cnnc import reference as R

from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

DTYPES = [np.float32, np.float64]

# (x shape, kernel_size, stride, padding, dilation, ceil_mode). The 2x2 and
# 3x3 stride-2 windows take the specialised row kernels (on the AVX2 path
# in steps of 8 outputs, so widths give full steps, an overlapping last
# step and rows shorter than 8); the rest the general ones, and padding or
# ceil mode add border windows.
CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((2, 3, 9, 35), 2, 2, 0, 1, False),
    ((1, 2, 7, 13), 2, 2, 0, 1, True),
    ((2, 3, 16, 17), 3, 2, 0, 1, False),
    ((1, 2, 9, 41), 3, 2, 1, 1, False),
    ((1, 2, 10, 12), 3, 2, 1, 1, True),
    ((2, 2, 7, 5), 3, 2, 0, 1, True),
    ((2, 3, 6, 7), 3, 1, 1, 1, False),
    ((1, 3, 11, 9), (2, 3), (1, 2), (1, 1), 1, False),
    ((1, 2, 12, 10), 4, 3, 2, 1, True),
    ((2, 1, 1, 9), (1, 3), (1, 2), 0, 1, False),
    ((2, 1, 9, 1), (3, 1), (2, 1), (1, 0), 1, True),
    ((1, 1, 1, 1), 1, 1, 0, 1, False),
    ((1, 2, 5, 5), 5, 1, 2, 1, False),
    ((1, 2, 2, 2), 3, 2, 0, 1, True),
    ((1, 2, 13, 11), 3, 2, 1, 2, False),
    ((2, 2, 10, 19), 2, 2, 1, 3, True),
    ((1, 2, 9, 9), (3, 2), 1, (1, 0), (2, 3), False),
]
CASE_IDS = ["case%d" % i for i in range(len(CASES))]


def _input(shape, dtype, rng, ties):
    """Random data; with ``ties`` few distinct values, so maxima repeat."""
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)
    return x.astype(dtype)


# --------------------------------------------------------------------------
# Fast path against the reference
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_matches_reference(case, dtype, simd, threads):
    shape, k, s, p, d, ceil = case
    rng = np.random.default_rng(0)
    for ties in (False, True):
        x = _input(shape, dtype, rng, ties)
        y, idx = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        y_ref, idx_ref = R.max_pool2d(x, k, s, p, d, ceil,
                                      return_indices=True)
        assert y.dtype == dtype and idx.dtype == np.int64
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(idx, idx_ref)
        np.testing.assert_array_equal(F.max_pool2d(x, k, s, p, d, ceil), y)

        grad = rng.standard_normal(y.shape).astype(dtype)
        assert_close(F.max_pool2d_backward(grad, idx, x.shape),
                     R.max_pool2d_backward(grad, idx_ref, x.shape))


@pytest.mark.parametrize("case", [c for c in CASES if c[4] == 1],
                         ids=[i for i, c in zip(CASE_IDS, CASES) if c[4] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_matches_reference(case, count_include_pad, dtype, simd,
                                    threads):
    shape, k, s, p, _, ceil = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    y = F.avg_pool2d(x, k, s, p, ceil, count_include_pad)
    assert y.dtype == dtype
    assert_close(y, R.avg_pool2d(x, k, s, p, ceil, count_include_pad))

    grad = rng.standard_normal(y.shape).astype(dtype)
    assert_close(
        F.avg_pool2d_backward(grad, shape, k, s, p, ceil, count_include_pad),
        R.avg_pool2d_backward(grad, shape, k, s, p, ceil, count_include_pad))


@pytest.mark.parametrize("shape, output_size", [
    ((2, 3, 8, 8), 1), ((2, 3, 7, 5), 3), ((1, 2, 10, 9), (4, 2)),
    ((1, 2, 3, 2), (5, 7)), ((2, 1, 1, 6), (1, 4)), ((1, 2, 6, 9), (None, 4)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool_matches_reference(shape, output_size, dtype,
                                             threads):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(dtype)
    y = F.adaptive_avg_pool2d(x, output_size)
    assert_close(y, R.adaptive_avg_pool2d(x, output_size))
    grad = rng.standard_normal(y.shape).astype(dtype)
    assert_close(F.adaptive_avg_pool2d_backward(grad, shape),
                 R.adaptive_avg_pool2d_backward(grad, shape))


def _random_geometries(count, seed):
    """Valid pooling geometries of every kind: windows larger than the
    input, all-border planes, wide runs, dilation, ceil mode."""
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < count:
        h, w = rng.integers(1, 24, size=2)
        k = tuple(rng.integers(1, 6, size=2))
        s = tuple(rng.integers(1, 4, size=2))
        p = tuple(rng.integers(0, kk // 2 + 1) for kk in k)
        d = tuple(rng.integers(1, 3, size=2))
        ceil = bool(rng.integers(2))
        try:
            F.max_pool2d(np.zeros((1, 1, h, w)), k, s, p, d, ceil)
        except ValueError:
            continue
        found.append(((2, 2, int(h), int(w)), k, s, p, d, ceil))
    return found


@pytest.mark.parametrize("case", _random_geometries(60, seed=20))
def test_random_geometries_match_reference(case, simd):
    shape, k, s, p, d, ceil = case
    rng = np.random.default_rng(21)
    x = np.round(rng.standard_normal(shape), 1).astype(np.float32)
    y, idx = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    y_ref, idx_ref = R.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(idx, idx_ref)
    grad = rng.standard_normal(y.shape).astype(np.float32)
    assert_close(F.max_pool2d_backward(grad, idx, shape),
                 R.max_pool2d_backward(grad, idx_ref, shape))

    # Average pooling has no dilation: the same windows, taps adjacent.
    for cip in (True, False):
        y = F.avg_pool2d(x, k, s, p, ceil, cip)
        assert_close(y, R.avg_pool2d(x, k, s, p, ceil, cip))
        grad = rng.standard_normal(y.shape).astype(np.float32)
        assert_close(
            F.avg_pool2d_backward(grad, shape, k, s, p, ceil, cip),
            R.avg_pool2d_backward(grad, shape, k, s, p, ceil, cip))


def test_simd_paths_agree_bit_for_bit():
    rng = np.random.default_rng(3)
    x = np.round(rng.standard_normal((2, 4, 33, 47)), 1).astype(np.float32)
    results = []
    for path in ("scalar", "auto"):
        cnnc.set_simd(path)
        results.append([F.max_pool2d(x, k, 2, p, return_indices=True)
                        for k, p in ((2, 0), (3, 0), (3, 1))])
    cnnc.set_simd("auto")
    for (y0, i0), (y1, i1) in zip(*results):
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(i0, i1)


def test_results_do_not_depend_on_threads():
    # Large enough (N*C*H*W > CNNC_PARALLEL_MIN_WORK) for the planes to be
    # shared among threads; rounded, so maxima tie.
    x = np.round(np.random.default_rng(4).standard_normal((4, 16, 33, 32)), 1)
    before = cnnc.get_num_threads()
    outs = []
    for n in (1, 2, 3):
        cnnc.set_num_threads(n)
        y, idx = F.max_pool2d(x, 3, 2, 1, return_indices=True)
        outs.append((y, idx, F.avg_pool2d(x, 3, 2, 1),
                     F.max_pool2d_backward(y, idx, x.shape),
                     F.avg_pool2d_backward(y, x.shape, 3, 2, 1),
                     F.adaptive_avg_pool2d(x, (5, 3)),
                     F.adaptive_avg_pool2d_backward(y, x.shape)))
    cnnc.set_num_threads(before)
    np.testing.assert_array_equal(outs[0][1], R.max_pool2d(
        x, 3, 2, 1, return_indices=True)[1])
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_and_read_only_inputs(dtype):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((3, 4, 12, 20)).astype(dtype)
    views = {
        "strided": base[:, ::2, :, ::2],
        "transposed": np.ascontiguousarray(
            base.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2),
        "fortran": np.asfortranarray(base),
    }
    read_only = base.copy()
    read_only.flags.writeable = False
    views["read-only"] = read_only
    for x in views.values():
        y, idx = F.max_pool2d(x, 3, 2, 1, return_indices=True)
        y_ref, idx_ref = R.max_pool2d(np.array(x), 3, 2, 1,
                                      return_indices=True)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(idx, idx_ref)
        assert_close(F.avg_pool2d(x, 2), R.avg_pool2d(np.array(x), 2))
        assert_close(F.adaptive_avg_pool2d(x, 3),
                     R.adaptive_avg_pool2d(np.array(x), 3))
        assert y.flags.c_contiguous and y.flags.writeable

    grad = y[:, :, ::-1]  # negative strides
    idx.flags.writeable = False
    assert_close(F.max_pool2d_backward(grad, idx, read_only.shape),
                 R.max_pool2d_backward(np.array(grad), idx, read_only.shape))
    assert_close(F.avg_pool2d_backward(grad, read_only.shape, 3, 2, 1),
                 R.avg_pool2d_backward(np.array(grad), read_only.shape, 3,
                                       2, 1))


# --------------------------------------------------------------------------
# Gradient checks (float64, central differences)
# --------------------------------------------------------------------------

def _distinct(shape, rng):
    """Values that differ by far more than the finite-difference step, so
    no window has two maxima and the max is differentiable."""
    values = rng.permutation(int(np.prod(shape))).astype(np.float64)
    return (values / values.size).reshape(shape)


@pytest.mark.parametrize("k, s, p, d, ceil", [
    (2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False),
    ((2, 3), (1, 2), (1, 0), 1, True)])
def test_max_pool_gradient(k, s, p, d, ceil):
    rng = np.random.default_rng(6)
    x = _distinct((2, 2, 7, 6), rng)
    y, idx = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    weights = rng.standard_normal(y.shape)
    analytic = F.max_pool2d_backward(weights, idx, x.shape)
    numeric = numerical_grad(
        lambda: float(np.sum(F.max_pool2d(x, k, s, p, d, ceil) * weights)),
        x)
    assert rel_error(analytic, numeric) < GRADCHECK_TOL


@pytest.mark.parametrize("k, s, p, ceil, cip", [
    (2, 2, 0, False, True), (3, 2, 1, True, True), (3, 2, 1, True, False),
    ((2, 3), (1, 2), (1, 1), False, False)])
def test_avg_pool_gradient(k, s, p, ceil, cip):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 7, 6))
    y = F.avg_pool2d(x, k, s, p, ceil, cip)
    weights = rng.standard_normal(y.shape)
    analytic = F.avg_pool2d_backward(weights, x.shape, k, s, p, ceil, cip)
    numeric = numerical_grad(
        lambda: float(np.sum(F.avg_pool2d(x, k, s, p, ceil, cip) * weights)),
        x)
    assert rel_error(analytic, numeric) < GRADCHECK_TOL


@pytest.mark.parametrize("output_size", [1, (3, 2), (5, 8)])
def test_adaptive_avg_pool_gradient(output_size):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 7, 6))
    y = F.adaptive_avg_pool2d(x, output_size)
    weights = rng.standard_normal(y.shape)
    analytic = F.adaptive_avg_pool2d_backward(weights, x.shape)
    numeric = numerical_grad(
        lambda: float(np.sum(F.adaptive_avg_pool2d(x, output_size)
                             * weights)), x)
    assert rel_error(analytic, numeric) < GRADCHECK_TOL


# --------------------------------------------------------------------------
# Ties and NaN
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_ties_go_to_the_first_maximum_in_row_major_order(dtype, simd):
    # Each 2x2 window holds its maximum twice or more; wide enough (Q = 9)
    # for the AVX2 kernel, which must pick the same pixel.
    x = np.zeros((1, 1, 2, 18), dtype)
    x[0, 0, :, 0:2] = [[1, 3], [3, 3]]     # first: top right (index 1)
    x[0, 0, :, 2:4] = [[2, 1], [2, 0]]     # first: top left (index 2)
    x[0, 0, :, 4:6] = [[0, 1], [1, 0]]     # top right before bottom left
    x[0, 0, :, 6:8] = 7                    # all equal: the first tap
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert list(idx[0, 0, 0, :4]) == [1, 2, 5, 6]
    assert list(idx[0, 0, 0, 4:]) == [8, 10, 12, 14, 16]  # all zero
    assert list(y[0, 0, 0, :4]) == [3, 2, 1, 7]

    # 3x3: row-major order means the whole top row precedes the next one.
    x = np.zeros((1, 1, 3, 17), dtype)
    x[0, 0, 0, 2] = x[0, 0, 1, 0] = 5
    y, idx = F.max_pool2d(x, 3, 2, return_indices=True)
    assert idx[0, 0, 0, 0] == 2 and y[0, 0, 0, 0] == 5


def test_ties_match_torch(torch):
    rng = np.random.default_rng(9)
    x = rng.integers(0, 3, size=(2, 3, 13, 37)).astype(np.float32)
    for k, s, p, d in ((2, 2, 0, 1), (3, 2, 0, 1), (3, 2, 1, 1),
                       (3, 1, 1, 2)):
        _, idx = F.max_pool2d(x, k, s, p, d, return_indices=True)
        _, idx_t = torch.nn.functional.max_pool2d(
            torch.from_numpy(x), k, s, p, d, return_indices=True)
        np.testing.assert_array_equal(idx, idx_t.numpy())


def test_nan_propagates_and_points_at_the_last_nan(simd):
    x = np.zeros((1, 1, 2, 18), np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan          # window 0: two NaN
    x[0, 0, :, 2:4] = [[np.nan, 9], [1, 2]]         # window 1: NaN, then 9
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(y[0, 0, 0, :2]).all()
    assert not np.isnan(y[0, 0, 0, 2:]).any()
    assert list(idx[0, 0, 0, :2]) == [18, 2]
    assert np.isnan(F.avg_pool2d(x, 2)[0, 0, 0, :2]).all()
    y_ref, idx_ref = R.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx, idx_ref)


def test_nan_matches_torch(torch):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((1, 2, 9, 19)).astype(np.float32)
    x[rng.random(x.shape) < 0.15] = np.nan
    for k in (2, 3):
        y, idx = F.max_pool2d(x, k, 2, return_indices=True)
        y_t, idx_t = torch.nn.functional.max_pool2d(
            torch.from_numpy(x), k, 2, return_indices=True)
        np.testing.assert_array_equal(y, y_t.numpy())
        np.testing.assert_array_equal(idx, idx_t.numpy())


def test_infinities():
    x = np.full((1, 1, 3, 3), -np.inf, np.float32)
    y, idx = F.max_pool2d(x, 3, 1, 1, return_indices=True)
    assert np.all(y == -np.inf)
    # The first pixel inside the image wins, as in PyTorch.
    np.testing.assert_array_equal(idx[0, 0], [[0, 0, 1], [0, 0, 1],
                                              [3, 3, 4]])


# --------------------------------------------------------------------------
# Against PyTorch
# --------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_torch(case, dtype, torch):
    shape, k, s, p, d, ceil = case
    tf = torch.nn.functional
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(dtype)

    xt = torch.from_numpy(x).requires_grad_()
    y_t, idx_t = tf.max_pool2d(xt, k, s, p, d, ceil, return_indices=True)
    y, idx = F.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(y, y_t.detach().numpy())
    np.testing.assert_array_equal(idx, idx_t.numpy())
    grad = rng.standard_normal(y.shape).astype(dtype)
    y_t.backward(torch.from_numpy(grad))
    assert_close(F.max_pool2d_backward(grad, idx, shape), xt.grad.numpy())

    if d != 1:
        return
    for cip in (True, False):
        xt = torch.from_numpy(x).requires_grad_()
        y_t = tf.avg_pool2d(xt, k, s, p, ceil, cip)
        assert_close(F.avg_pool2d(x, k, s, p, ceil, cip),
                     y_t.detach().numpy())
        y_t.backward(torch.from_numpy(grad))
        assert_close(F.avg_pool2d_backward(grad, shape, k, s, p, ceil, cip),
                     xt.grad.numpy())


@pytest.mark.parametrize("output_size", [1, 3, (2, 5), (None, 2), (9, 4)])
def test_adaptive_matches_torch(output_size, torch):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 7, 10)).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_()
    y_t = torch.nn.functional.adaptive_avg_pool2d(xt, output_size)
    y = F.adaptive_avg_pool2d(x, output_size)
    assert_close(y, y_t.detach().numpy())
    grad = rng.standard_normal(y.shape).astype(np.float32)
    y_t.backward(torch.from_numpy(grad))
    assert_close(F.adaptive_avg_pool2d_backward(grad, x.shape),
                 xt.grad.numpy())


def test_layers_match_torch_modules(torch):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 3, 11, 11)).astype(np.float32)
    pairs = [
        (nn.MaxPool2d(3, 2, 1, ceil_mode=True),
         torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
        (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
         torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        (nn.AdaptiveAvgPool2d((2, 3)), torch.nn.AdaptiveAvgPool2d((2, 3))),
    ]
    for ours, theirs in pairs:
        # cnnc's AvgPool2d also shows non-default flags; PyTorch hides them.
        if not isinstance(ours, nn.AvgPool2d):
            assert repr(ours) == repr(theirs)
        xt = torch.from_numpy(x).requires_grad_()
        y_t = theirs(xt)
        y = ours(x)
        assert_close(y, y_t.detach().numpy())
        grad = rng.standard_normal(y.shape).astype(np.float32)
        y_t.backward(torch.from_numpy(grad))
        assert_close(ours.backward(grad), xt.grad.numpy())


# --------------------------------------------------------------------------
# Output size
# --------------------------------------------------------------------------

@pytest.mark.parametrize("size, k, s, p, d, ceil, expected", [
    (32, 2, None, 0, 1, False, 16),
    (33, 2, None, 0, 1, False, 16),
    (33, 2, None, 0, 1, True, 17),
    (112, 3, 2, 1, 1, False, 56),
    (5, 2, 2, 1, 1, True, 3),     # last window would start in the padding
    (4, 2, 2, 1, 1, True, 3),
    (2, 3, 2, 0, 1, True, 1),     # ceil mode: one window past the end
    (10, 3, 1, 0, 2, False, 6),
])
def test_output_size(size, k, s, p, d, ceil, expected):
    assert F.pool2d_output_size(size, k, s, p, d, ceil) == expected
    assert F.pool2d_output_size((size, 7), k, s, p, d, ceil)[0] == expected


def test_output_size_matches_torch(torch):
    for size in range(1, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(0, k // 2 + 1):
                    for ceil in (False, True):
                        x = torch.zeros(1, 1, size, size)
                        try:
                            expected = torch.nn.functional.max_pool2d(
                                x, k, s, p, ceil_mode=ceil).shape[2]
                        except RuntimeError:
                            with pytest.raises(ValueError, match="empty"):
                                F.pool2d_output_size(size, k, s, p, 1, ceil)
                            continue
                        assert F.pool2d_output_size(size, k, s, p, 1,
                                                    ceil) == expected


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

def test_max_pool_layer():
    x = np.random.default_rng(14).standard_normal((2, 3, 6, 6))
    pool = nn.MaxPool2d(2, return_indices=True)
    with pytest.raises(RuntimeError, match="before forward"):
        pool.backward(np.ones((2, 3, 3, 3)))
    y, idx = pool(x)
    np.testing.assert_array_equal(idx, F.max_pool2d(x, 2,
                                                    return_indices=True)[1])
    dx = pool.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == x.dtype and dx.sum() == 54
    assert list(pool.parameters()) == [] and pool.state_dict() == {}
    assert repr(nn.MaxPool2d((3, 2), 1, (1, 0), 2, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=(3, 2), stride=1, padding=(1, 0), dilation=2, "
        "ceil_mode=True)")


def test_avg_pool_layer():
    x = np.ones((1, 2, 5, 5), np.float32)
    pool = nn.AvgPool2d(2, padding=1, ceil_mode=True, count_include_pad=False)
    assert repr(pool) == ("AvgPool2d(kernel_size=2, stride=2, padding=1, "
                          "ceil_mode=True, count_include_pad=False)")
    with pytest.raises(RuntimeError, match="before forward"):
        pool.backward(np.ones((1, 2, 3, 3), np.float32))
    y = pool(x)
    np.testing.assert_allclose(y, 1.0)
    dx = pool.backward(np.ones_like(y))
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx.sum(), y.size)


def test_adaptive_layer_is_global_average_pooling():
    x = np.random.default_rng(15).standard_normal((4, 5, 7, 3))
    gap = nn.AdaptiveAvgPool2d(1)
    with pytest.raises(RuntimeError, match="before forward"):
        gap.backward(np.ones((4, 5, 1, 1)))
    assert_close(gap(x)[:, :, 0, 0], x.mean(axis=(2, 3)))
    np.testing.assert_allclose(gap.backward(np.ones((4, 5, 1, 1))),
                               1 / 21)
    assert repr(nn.AdaptiveAvgPool2d((None, 4))) == (
        "AdaptiveAvgPool2d(output_size=(None, 4))")


# --------------------------------------------------------------------------
# Validation messages
# --------------------------------------------------------------------------

X = np.zeros((1, 2, 4, 4), np.float32)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.max_pool2d(X[0], 2), ValueError,
     r"x must be a 4-D array of shape \(N, C, H, W\), got shape \(2, 4, 4\)"),
    (lambda: F.max_pool2d(X.astype(np.int32), 2), TypeError,
     "x must have dtype float32 or float64, got int32"),
    (lambda: F.max_pool2d({}, 2), TypeError,
     "x must be a NumPy array of float32 or float64, got dict"),
    (lambda: F.max_pool2d(np.zeros((1, 0, 4, 4)), 2), ValueError,
     r"x must have no empty axis, got shape \(1, 0, 4, 4\)"),
    (lambda: F.max_pool2d(X, 0), ValueError, "kernel_size must be >= 1, got 0"),
    (lambda: F.max_pool2d(X, (2, 2, 2)), ValueError,
     r"kernel_size must be an int or a pair \(height, width\), got 3 values"),
    (lambda: F.max_pool2d(X, 2.0), TypeError,
     "kernel_size must be an int, got float 2.0"),
    (lambda: F.max_pool2d(X, 2, stride=0), ValueError,
     "stride must be >= 1, got 0"),
    (lambda: F.max_pool2d(X, 2, padding=-1), ValueError,
     "padding must be >= 0, got -1"),
    (lambda: F.max_pool2d(X, 2, dilation=(1, 0)), ValueError,
     r"dilation\[1\] must be >= 1, got 0"),
    (lambda: F.max_pool2d(X, 3, padding=2), ValueError,
     r"padding must be at most half of kernel_size, got padding=\(2, 2\) for "
     r"kernel_size=\(3, 3\) \(along the height, 2 > 3 // 2\)"),
    (lambda: F.avg_pool2d(X, (4, 2), padding=(0, 2)), ValueError,
     r"along the width, 2 > 2 // 2"),
    (lambda: F.max_pool2d(X, 5), ValueError,
     r"the pooling's output height is empty: \(size \+ 2\*padding - "
     r"dilation\*\(kernel_size - 1\) - 1\) // stride \+ 1 = \(4 \+ 2\*0 - "
     r"1\*\(5 - 1\) - 1\) // 5 \+ 1 = 0; the window spans 5 pixels but the "
     r"padded input has only 4"),
    (lambda: F.avg_pool2d(X, (2, 6), stride=1, ceil_mode=True), ValueError,
     r"output width is empty: .* \+ stride - 1\) // stride \+ 1 = "
     r"\(4 \+ 2\*0 - 1\*\(6 - 1\) - 1 \+ 1 - 1\) // 1 \+ 1 = -1"),
    (lambda: F.max_pool2d(np.zeros((1, 1, 2, 2)), 2, 1, 1, 3), ValueError,
     r"max_pool2d window 0 along the height has no tap inside the input: "
     r"with kernel_size=2, dilation=3 and padding=1 its taps fall at "
     r"\[-1, 2\] of an input of height 2"),
    (lambda: F.max_pool2d(X, 2, ceil_mode="yes"), TypeError,
     "ceil_mode must be True or False, got str 'yes'"),
    (lambda: F.max_pool2d(X, 2, return_indices=2), TypeError,
     "return_indices must be True or False, got int 2"),
    (lambda: F.avg_pool2d(X, 2, count_include_pad=None), TypeError,
     "count_include_pad must be True or False, got NoneType None"),
    (lambda: F.pool2d_output_size(0, 2), ValueError,
     "size must be >= 1, got 0"),
    (lambda: F.max_pool2d(np.broadcast_to(np.float32(0), (1, 1, 46341, 46341)),
                          2), ValueError,
     r"max_pool2d supports planes of at most 2\*\*31 - 1 pixels, got "
     r"H\*W = 46341\*46341 = 2147488281"),
])
def test_forward_validation(call, error, match):
    with pytest.raises(error, match=match):
        call()


G = np.zeros((1, 2, 2, 2), np.float32)
IDX = np.zeros((1, 2, 2, 2), np.int64)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.max_pool2d_backward(G, IDX.astype(np.float32), X.shape),
     TypeError, "indices must be an integer NumPy array .* got float32"),
    (lambda: F.max_pool2d_backward(G, [0], X.shape), TypeError,
     "indices must be an integer NumPy array .* got list"),
    (lambda: F.max_pool2d_backward(G, IDX[..., :1], X.shape), ValueError,
     r"indices must have grad_out's shape \(1, 2, 2, 2\), got \(1, 2, 2, 1\)"),
    (lambda: F.max_pool2d_backward(G, IDX, (1, 3, 4, 4)), ValueError,
     r"grad_out has \(N, C\) = \(1, 2\) but input_shape has \(N, C\) = "
     r"\(1, 3\)"),
    (lambda: F.max_pool2d_backward(G, IDX, (1, 2, 4)), ValueError,
     r"input_shape must be the 4 sizes \(N, C, H, W\) of the forward input, "
     r"got \(1, 2, 4\)"),
    (lambda: F.max_pool2d_backward(G, IDX, (1, 2, 0, 4)), ValueError,
     r"input_shape\[2\] must be >= 1, got 0"),
    (lambda: F.max_pool2d_backward(G[0], IDX, X.shape), ValueError,
     r"grad_out must be a 4-D array of shape \(N, C, P, Q\)"),
    (lambda: F.max_pool2d_backward(np.zeros((1, 2, 0, 2)), IDX[:, :, :0],
                                   X.shape), ValueError,
     "grad_out must have no empty axis"),
    (lambda: F.max_pool2d_backward(G, IDX + 16, X.shape), ValueError,
     r"indices must lie in \[0, H\*W\) = \[0, 16\) for input_shape "
     r"\(1, 2, 4, 4\), got 16 at position \(0, 0, 0, 0\)"),
    (lambda: F.max_pool2d_backward(G, IDX - 1, X.shape), ValueError,
     r"got -1 at position \(0, 0, 0, 0\)"),
    (lambda: F.avg_pool2d_backward(G[..., :1], X.shape, 2), ValueError,
     r"grad_out must have the average pooling's output shape \(N, C, P, Q\) "
     r"= \(1, 2, 2, 2\), got \(1, 2, 2, 1\)"),
    (lambda: F.avg_pool2d_backward(G.astype(int), X.shape, 2), TypeError,
     "grad_out must have dtype float32 or float64"),
    (lambda: F.adaptive_avg_pool2d_backward(G, (2, 2, 4, 4)), ValueError,
     r"grad_out has \(N, C\) = \(1, 2\) but input_shape has \(N, C\) = "
     r"\(2, 2\)"),
    (lambda: F.adaptive_avg_pool2d_backward(G[:, :, :0], X.shape),
     ValueError, "grad_out must have no empty axis"),
    (lambda: F.adaptive_avg_pool2d(X, 0), ValueError,
     "output_size must be >= 1, got 0"),
    (lambda: F.adaptive_avg_pool2d(X, (2, 0)), ValueError,
     r"output_size\[1\] must be >= 1, got 0"),
    (lambda: F.adaptive_avg_pool2d(X, (1, 2, 3)), ValueError,
     r"output_size must be an int or a pair \(height, width\), got 3 values"),
    (lambda: nn.MaxPool2d(3, padding=2), ValueError,
     "padding must be at most half of kernel_size"),
    (lambda: nn.AvgPool2d(0), ValueError, "kernel_size must be >= 1, got 0"),
    (lambda: nn.AdaptiveAvgPool2d(-1), ValueError,
     "output_size must be >= 1, got -1"),
])
def test_backward_and_layer_validation(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_dtype_follows_grad_out():
    dx = F.max_pool2d_backward(G.astype(np.float64), IDX, X.shape)
    assert dx.dtype == np.float64
