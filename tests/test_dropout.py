"""Dropout and Dropout2d: the C core against the NumPy reference, the
statistics of the masks, seeds, eval mode, PyTorch's convention and every
validation message."""
import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import reference as R
from cnnc.nn import Dropout, Dropout2d
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

SHAPES = [(1,), (7,), (3, 5), (2, 3, 5, 7), (2, 17, 1, 9), (3, 40001)]
SHAPES_4D = [(1, 1, 1, 1), (2, 3, 5, 7), (2, 17, 1, 9), (3, 5, 33, 31),
             (64, 3, 1, 1)]


def _data(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- fast path against the reference ----------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_dropout_matches_reference(shape, dtype, p, simd, threads):
    x = _data(shape, dtype)
    y, mask = F.dropout(x, p, rng=7, return_mask=True)
    y_ref, mask_ref = R.dropout(x, p, rng=7, return_mask=True)
    np.testing.assert_array_equal(mask, mask_ref)
    assert y.dtype == dtype and y.flags.c_contiguous and mask.dtype == bool
    assert_close(y, y_ref)
    dy = _data(shape, dtype, seed=1)
    assert_close(F.dropout_backward(dy, mask, p),
                 R.dropout_backward(dy, mask, p))


@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES_4D, ids=str)
def test_dropout2d_matches_reference(shape, dtype, p, simd, threads):
    x = _data(shape, dtype)
    y, mask = F.dropout2d(x, p, rng=3, return_mask=True)
    y_ref, mask_ref = R.dropout2d(x, p, rng=3, return_mask=True)
    assert mask.shape == shape[:2]
    np.testing.assert_array_equal(mask, mask_ref)
    assert_close(y, y_ref)
    dy = _data(shape, dtype, seed=1)
    assert_close(F.dropout2d_backward(dy, mask, p),
                 R.dropout2d_backward(dy, mask, p))


def test_non_contiguous_and_read_only_inputs():
    x = _data((3, 4, 5, 6), np.float64)
    big = np.zeros((3, 4, 5, 12))
    big[..., ::2] = x
    view = big[..., ::2]
    x.setflags(write=False)
    for fwd, ref in ((F.dropout, R.dropout), (F.dropout2d, R.dropout2d)):
        for arr in (view, np.asfortranarray(x), x):
            y, mask = fwd(arr, 0.3, rng=5, return_mask=True)
            assert y.flags.c_contiguous
            assert_close(y, ref(x, 0.3, rng=5))
    mask = np.asfortranarray(F.dropout(x, 0.3, rng=5, return_mask=True)[1])
    mask.setflags(write=False)
    dy = _data(x.shape, np.float64, seed=2)[:, ::-1]
    assert_close(F.dropout_backward(dy, mask, 0.3),
                 R.dropout_backward(dy, mask, 0.3))


def test_gradient_check():
    x = _data((2, 3, 4, 5), np.float64)
    w = _data(x.shape, np.float64, seed=1)
    for fwd, bwd in ((F.dropout, F.dropout_backward),
                     (F.dropout2d, F.dropout2d_backward)):
        _, mask = fwd(x, 0.4, rng=0, return_mask=True)

        def loss():
            return float(np.sum(fwd(x, 0.4, rng=0) * w))

        analytic = bwd(w, mask, 0.4)
        assert rel_error(analytic, numerical_grad(loss, x)) < GRADCHECK_TOL


# --- statistics and seeds -----------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_fraction_dropped_and_mean_are_as_expected(p):
    n = 400_000
    x = np.ones(n, np.float32)
    y = F.dropout(x, p, rng=11)
    dropped = np.mean(y == 0)
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 5 * sigma
    # Kept units are scaled by 1 / (1 - p): the mean stays 1 in expectation.
    assert np.all((y == 0) | np.isclose(y, 1 / (1 - p)))
    assert abs(y.mean() - 1) < 5 * sigma / (1 - p)


def test_dropout2d_drops_whole_channels_at_rate_p():
    x = np.ones((400, 250, 3, 2), np.float32)
    y, mask = F.dropout2d(x, 0.3, rng=12, return_mask=True)
    planes = y.reshape(400, 250, -1)
    assert np.all(planes.min(axis=2) == planes.max(axis=2))
    np.testing.assert_array_equal(planes[:, :, 0] != 0, mask)
    sigma = np.sqrt(0.3 * 0.7 / mask.size)
    assert abs(np.mean(~mask) - 0.3) < 5 * sigma
    assert_close(planes[mask], np.full((mask.sum(), 6), 1 / 0.7))


def test_seeds_reproduce_masks():
    x = np.ones((8, 9), np.float32)
    a = F.dropout(x, 0.5, rng=123)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5, rng=123))
    assert not np.array_equal(a, F.dropout(x, 0.5, rng=124))
    # A Generator advances: two calls give two masks, and the same
    # sequence again from the same seed.
    gen = np.random.default_rng(5)
    first, second = F.dropout(x, 0.5, rng=gen), F.dropout(x, 0.5, rng=gen)
    assert not np.array_equal(first, second)
    gen = np.random.default_rng(5)
    np.testing.assert_array_equal(first, F.dropout(x, 0.5, rng=gen))
    np.testing.assert_array_equal(second, F.dropout(x, 0.5, rng=gen))
    # The layer owns one generator.
    la, lb = Dropout(0.5, rng=9), Dropout(0.5, rng=9)
    for _ in range(3):
        np.testing.assert_array_equal(la(x), lb(x))


def test_mask_does_not_depend_on_threads_or_simd():
    x = _data((4, 16, 33, 35), np.float32)
    before = cnnc.get_num_threads()
    outs = []
    try:
        for path in ("scalar", "auto"):
            cnnc.set_simd(path)
            for n in (1, 2):
                cnnc.set_num_threads(n)
                outs.append(F.dropout(x, 0.3, rng=1))
                outs.append(F.dropout2d(x, 0.3, rng=1))
    finally:
        cnnc.set_simd("auto")
        cnnc.set_num_threads(before)
    for a, b in zip(outs[0::2], outs[2::2]):
        np.testing.assert_array_equal(a, b)


# --- identity cases -----------------------------------------------------------

def test_eval_mode_and_p_zero_are_the_identity():
    x = _data((2, 3, 4, 5), np.float32)
    for fwd in (F.dropout, F.dropout2d):
        for kwargs in (dict(p=0.5, training=False), dict(p=0.0)):
            y, mask = fwd(x, rng=0, return_mask=True, **kwargs)
            np.testing.assert_array_equal(y, x)
            assert y is not x and mask.all()
    for layer in (Dropout(0.5, rng=0), Dropout2d(0.5, rng=0)):
        layer.eval()
        np.testing.assert_array_equal(layer(x), x)
        np.testing.assert_array_equal(layer.backward(2 * x), 2 * x)
        layer.train()
        y = layer(x)
        assert (y == 0).any()
        dx = layer.backward(np.ones_like(x))
        np.testing.assert_array_equal(dx == 0, y == 0)
    for layer in (Dropout(0.0), Dropout2d(0.0)):
        np.testing.assert_array_equal(layer(x), x)


def test_nan_and_inf_propagate():
    x = np.array([np.nan, np.inf, -np.inf, 1.0] * 64, np.float32)
    y, mask = F.dropout(x, 0.5, rng=0, return_mask=True)
    assert np.isnan(y[0::4]).all()
    kept = mask[1::4]
    assert np.all(y[1::4][kept] == np.inf)
    assert np.isnan(y[1::4][~kept]).all()      # inf * 0, as x * mask gives


# --- PyTorch's convention ---------------------------------------------------

def test_same_scaling_convention_as_torch(torch):
    x = _data((4, 6, 5, 5), np.float32)
    for ours, theirs in ((F.dropout, torch.nn.functional.dropout),
                         (F.dropout2d, torch.nn.functional.dropout2d)):
        ty = theirs(torch.tensor(x), p=0.25, training=True).numpy()
        y = ours(x, 0.25, rng=0)
        for out in (ty, y):
            kept = out != 0
            assert_close(out[kept], x[kept] / 0.75)
        np.testing.assert_array_equal(
            theirs(torch.tensor(x), p=0.25, training=False).numpy(),
            ours(x, 0.25, training=False))
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    assert Dropout().state_dict() == {} == torch.nn.Dropout().state_dict()


# --- validation messages ----------------------------------------------------

X = np.zeros((2, 3, 4, 5), np.float32)
MASK = np.ones((2, 3, 4, 5), bool)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.dropout(X, p=1.0), ValueError,
     r"p, the probability of zeroing a unit, must be in \[0, 1\), got 1.0"),
    (lambda: F.dropout(X, p=-0.1), ValueError,
     r"must be in \[0, 1\), got -0.1"),
    (lambda: F.dropout2d(X, p=float("nan")), ValueError,
     r"must be in \[0, 1\), got nan"),
    (lambda: F.dropout(X, p="0.5"), TypeError,
     r"p must be a float in \[0, 1\), got str '0.5'"),
    (lambda: F.dropout(X, p=True), TypeError,
     r"p must be a float in \[0, 1\), got bool True"),
    (lambda: F.dropout(X, training=1), TypeError,
     "training must be a bool, got int 1"),
    (lambda: F.dropout(X, rng="seed"), TypeError,
     "rng must be None, a non-negative int seed or a "
     "numpy.random.Generator, got str 'seed'"),
    (lambda: F.dropout(X, rng=-1), TypeError, "rng must be None"),
    (lambda: F.dropout(X.astype(np.int32)), TypeError,
     "x must have dtype float32 or float64, got int32"),
    (lambda: F.dropout2d(X[0]), ValueError,
     r"x must be a 4-D array of shape \(N, C, H, W\), got shape "
     r"\(3, 4, 5\)"),
    (lambda: F.dropout_backward(X, MASK[:1]), ValueError,
     r"mask must have shape \(2, 3, 4, 5\) \(the shape of grad_out\), got "
     r"\(1, 3, 4, 5\)"),
    (lambda: F.dropout_backward(X, MASK.astype(np.float32)), TypeError,
     "mask must be a bool NumPy array .*, got float32"),
    (lambda: F.dropout_backward(X, [True]), TypeError,
     "mask must be a bool NumPy array .*, got list"),
    (lambda: F.dropout_backward(X, MASK, p=1), ValueError,
     r"must be in \[0, 1\), got 1.0"),
    (lambda: F.dropout2d_backward(X, MASK), ValueError,
     r"mask must have shape \(2, 3\) \(\(N, C\) of grad_out\), got "
     r"\(2, 3, 4, 5\)"),
    (lambda: F.dropout2d_backward(X[0], MASK[0, :, 0, 0]), ValueError,
     r"grad_out must be a 4-D array of shape \(N, C, H, W\)"),
    (lambda: Dropout(p=1), ValueError, r"must be in \[0, 1\), got 1.0"),
    (lambda: Dropout2d(p=2.0), ValueError, r"must be in \[0, 1\), got 2.0"),
    (lambda: Dropout(rng=1.5), TypeError, "rng must be None"),
    (lambda: Dropout().backward(X), RuntimeError,
     "Dropout.backward called before forward"),
    (lambda: Dropout2d()(X[0]), ValueError, "x must be a 4-D array"),
])
def test_validation_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()
