"""Fully connected layer: C kernels against the NumPy reference and
PyTorch, gradient checks, the layer, and every validation message."""
import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import reference as ref
from cnnc.nn import Linear
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

DTYPES = [np.float32, np.float64]

# (N, in_features, out_features): single rows and columns, sizes off the
# register tile (6 x 16 floats, 6 x 8 doubles), past the cache blocks
# (KC = 256 inner, MC = 120 rows, NC = 512 columns), and large enough for
# two threads both ways of splitting the output (by rows, by columns).
SHAPES = [
    (1, 1, 1),
    (1, 17, 5),
    (7, 13, 3),
    (5, 300, 70),
    (130, 7, 41),
    (3, 1, 600),
    (40, 200, 50),
    (64, 33, 10),
]


def _data(shape, dtype, seed=0):
    n, i, o = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, i)).astype(dtype)
    w = rng.standard_normal((o, i)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    dy = rng.standard_normal((n, o)).astype(dtype)
    return x, w, b, dy


def _tol(shape, dtype):
    # Sums over in_features (or N) values: allow rounding to grow with it.
    if np.dtype(dtype) == np.float32:
        return dict(rtol=1e-4, atol=1e-5 * max(shape))
    return {}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "nobias"])
def test_forward_matches_reference(shape, dtype, with_bias, simd, threads):
    x, w, b, _ = _data(shape, dtype)
    b = b if with_bias else None
    y = F.linear(x, w, b)
    assert y.shape == (shape[0], shape[2]) and y.dtype == dtype
    assert y.flags.c_contiguous
    assert_close(y, ref.linear(x, w, b), **_tol(shape, dtype))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_matches_reference(shape, dtype, simd, threads):
    x, w, _, dy = _data(shape, dtype)
    dx, dw, db = F.linear_backward(dy, x, w)
    rdx, rdw, rdb = ref.linear_backward(dy, x, w)
    tol = _tol(shape, dtype)
    assert_close(dx, rdx, **tol)
    assert_close(dw, rdw, **tol)
    assert_close(db, rdb, **tol)


def test_backward_skips_what_is_not_needed():
    x, w, _, dy = _data((4, 6, 3), np.float64)
    dx, dw, db = F.linear_backward(dy, x, w, bias=False,
                                   needs_input_grad=False,
                                   needs_weight_grad=False)
    assert dx is None and dw is None and db is None
    dx, dw, db = F.linear_backward(dy, x, w, needs_weight_grad=False)
    assert dw is None
    assert_close(dx, dy @ w)
    assert_close(db, dy.sum(axis=0))


@pytest.mark.parametrize("shape", [(40, 200, 50), (130, 7, 41)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_same_result_for_any_thread_count(shape, dtype):
    # Threads own bands of the output, so every element is the same sum.
    x, w, b, dy = _data(shape, dtype)
    before = cnnc.get_num_threads()
    try:
        results = []
        for n in (1, 2):
            cnnc.set_num_threads(n)
            results.append((F.linear(x, w, b),) + F.linear_backward(dy, x, w))
    finally:
        cnnc.set_num_threads(before)
    for a, b2 in zip(*results):
        np.testing.assert_array_equal(a, b2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_and_read_only_inputs(dtype):
    x, w, b, dy = _data((9, 11, 5), dtype)
    x_view = np.repeat(x, 2, axis=1)[:, ::2]          # strided columns
    w_view = np.asfortranarray(w)                      # column-major
    b_view = np.repeat(b, 3)[::3]
    dy_view = np.repeat(dy, 2, axis=0)[::2]
    for array in (x_view, w_view, b_view, dy_view):
        array.flags.writeable = False
    assert_close(F.linear(x_view, w_view, b_view), ref.linear(x, w, b))
    for got, want in zip(F.linear_backward(dy_view, x_view, w_view),
                         ref.linear_backward(dy, x, w)):
        assert_close(got, want)


def test_gradients_by_central_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 7))
    w = rng.standard_normal((5, 7))
    b = rng.standard_normal(5)
    dy = rng.standard_normal((4, 5))

    def objective():
        return float(np.sum(F.linear(x, w, b) * dy))

    dx, dw, db = F.linear_backward(dy, x, w)
    for analytic, array in ((dx, x), (dw, w), (db, b)):
        numeric = numerical_grad(objective, array)
        assert rel_error(analytic, numeric) < GRADCHECK_TOL


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 3, 2), (13, 29, 10), (64, 300, 70)],
                         ids=str)
def test_matches_pytorch(torch, dtype, shape):
    x, w, b, dy = _data(shape, dtype, seed=5)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.linear(tx, tw, tb)
    ty.backward(torch.tensor(dy))
    tol = _tol(shape, dtype)
    assert_close(F.linear(x, w, b), ty.detach().numpy(), **tol)
    dx, dw, db = F.linear_backward(dy, x, w)
    assert_close(dx, tx.grad.numpy(), **tol)
    assert_close(dw, tw.grad.numpy(), **tol)
    assert_close(db, tb.grad.numpy(), **tol)


# --------------------------------------------------------------------------
# The layer
# --------------------------------------------------------------------------

def test_layer_init_shapes_and_bounds():
    fc = Linear(50, 7, rng=1)
    bound = 1 / np.sqrt(50)
    assert fc.weight.shape == (7, 50) and fc.bias.shape == (7,)
    assert fc.weight.dtype == np.float32
    assert np.abs(fc.weight.data).max() <= bound
    assert np.abs(fc.bias.data).max() <= bound
    # Uniform in +-bound: the spread reaches close to both ends.
    assert fc.weight.data.max() > 0.9 * bound
    assert fc.weight.data.min() < -0.9 * bound
    assert list(fc.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(Linear(50, 7, rng=1).weight.data,
                                  fc.weight.data)
    assert Linear(3, 2, bias=False).bias is None
    assert Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_layer_repr():
    assert repr(Linear(4096, 10)) == \
        "Linear(in_features=4096, out_features=10, bias=True)"
    assert repr(Linear(3, 2, bias=False)) == \
        "Linear(in_features=3, out_features=2, bias=False)"


def test_layer_forward_backward_accumulates():
    fc = Linear(6, 4, rng=2, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((5, 6))
    dy = np.ones((5, 4))
    y = fc(x)
    assert_close(y, ref.linear(x, fc.weight.data, fc.bias.data))
    dx = fc.backward(dy)
    rdx, rdw, rdb = ref.linear_backward(dy, x, fc.weight.data)
    assert_close(dx, rdx)
    assert_close(fc.weight.grad, rdw)
    assert_close(fc.bias.grad, rdb)
    fc.backward(dy)
    assert_close(fc.weight.grad, 2 * rdw)


def test_layer_frozen_parameters_get_no_gradient():
    fc = Linear(3, 2, rng=0)
    fc.weight.requires_grad = False
    fc.bias.requires_grad = False
    fc(np.ones((2, 3), np.float32))
    dx = fc.backward(np.ones((2, 2), np.float32))
    assert dx.shape == (2, 3)
    assert fc.weight.grad is None and fc.bias.grad is None


def test_layer_matches_torch_state_dict(torch):
    fc = Linear(12, 5, rng=4)
    tfc = torch.nn.Linear(12, 5)
    tfc.load_state_dict({k: torch.tensor(v)
                         for k, v in fc.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((3, 12)).astype(np.float32)
    assert_close(fc(x), tfc(torch.tensor(x)).detach().numpy())
    assert {k: tuple(v.shape) for k, v in tfc.state_dict().items()} == \
        {k: v.shape for k, v in fc.state_dict().items()}
    fc2 = Linear(12, 5, rng=9)
    fc2.load_state_dict({k: v.detach().numpy()
                         for k, v in tfc.state_dict().items()})
    assert_close(fc2(x), fc(x))


# --------------------------------------------------------------------------
# Validation messages
# --------------------------------------------------------------------------

def test_layer_wrong_feature_count():
    fc = Linear(4096, 10)
    with pytest.raises(ValueError, match=r"^Linear expects 4096 input "
                       r"features but receives 1568 \(x.shape=\(8, 1568\)\)$"):
        fc(np.zeros((8, 1568), np.float32))


def test_layer_backward_before_forward():
    with pytest.raises(RuntimeError, match="Linear.backward called before"):
        Linear(3, 2).backward(np.zeros((1, 2), np.float32))


def test_layer_bad_arguments():
    with pytest.raises(ValueError, match="in_features must be >= 1, got 0"):
        Linear(0, 3)
    with pytest.raises(TypeError, match="out_features must be an int"):
        Linear(3, 2.5)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Linear(3, 2, dtype=np.int32)


def test_x_must_be_2d_with_a_flatten_hint():
    w = np.zeros((10, 1568), np.float32)
    with pytest.raises(ValueError, match=r"x must be a 2-D array of shape "
                       r"\(N, in_features\), got shape \(8, 32, 7, 7\); "
                       r"flatten .* gives shape \(8, 1568\)"):
        F.linear(np.zeros((8, 32, 7, 7), np.float32), w)
    with pytest.raises(ValueError, match=r"got shape \(5,\)$"):
        F.linear(np.zeros(5, np.float32), w)


def test_weight_must_be_2d():
    with pytest.raises(ValueError, match=r"weight must be a 2-D array of "
                       r"shape \(out_features, in_features\), got shape "
                       r"\(3,\)"):
        F.linear(np.zeros((2, 3)), np.zeros(3))


def test_feature_mismatch_shows_both_shapes():
    with pytest.raises(ValueError, match=r"x has 5 features but weight "
                       r"expects in_features=4 \(x.shape=\(2, 5\), "
                       r"weight.shape=\(3, 4\)\)"):
        F.linear(np.zeros((2, 5)), np.zeros((3, 4)))


def test_dtypes():
    with pytest.raises(TypeError, match="weight has dtype float64 but x has "
                       "dtype float32"):
        F.linear(np.zeros((2, 3), np.float32), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="x must have dtype float32 or "
                       "float64, got int64"):
        F.linear(np.zeros((2, 3), np.int64), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="bias has dtype float32 but x has "
                       "dtype float64"):
        F.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(4, np.float32))


def test_bias_shape():
    with pytest.raises(ValueError, match=r"bias must have shape "
                       r"\(out_features,\) = \(4,\), got \(3,\)"):
        F.linear(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros(3))


def test_empty_axes():
    with pytest.raises(ValueError, match=r"x must have no empty axis, got "
                       r"shape \(0, 3\)"):
        F.linear(np.zeros((0, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"weight must have no empty axis"):
        F.linear(np.zeros((2, 3)), np.zeros((0, 3)))


def test_grad_out_shape_and_dtype():
    x, w = np.zeros((2, 3)), np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"grad_out must have the layer's "
                       r"output shape \(N, out_features\) = \(2, 4\), got "
                       r"\(2, 3\)"):
        F.linear_backward(np.zeros((2, 3)), x, w)
    with pytest.raises(TypeError, match="grad_out has dtype float32"):
        F.linear_backward(np.zeros((2, 4), np.float32), x, w)
