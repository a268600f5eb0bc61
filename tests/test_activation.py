"""Activations: the C core against the NumPy reference, PyTorch and finite
differences; accuracy of the float32 exponentials; extreme inputs; every
validation message; the layers and Flatten."""
import warnings

import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import reference as R
from cnnc.nn import (ELU, Flatten, LeakyReLU, LogSoftmax, ReLU, Sigmoid,
                     Softmax, Tanh)
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

# Shapes with odd sizes, sizes not a multiple of 8, a 1-element array, and
# arrays longer than one chunk of a thread's work (16384 elements).
SHAPES = [(1,), (7,), (3, 5), (2, 3, 5, 7), (2, 17, 1, 9), (1, 1, 1, 1),
          (3, 40001), (2, 9, 33, 31)]

# name -> (forward, backward, reference forward, reference backward,
#          params, backward takes "x" or "y")
ELEMENTWISE = {
    "relu": (F.relu, F.relu_backward, R.relu, R.relu_backward, {}, "y"),
    "leaky_relu": (F.leaky_relu, F.leaky_relu_backward, R.leaky_relu,
                   R.leaky_relu_backward, {"negative_slope": 0.2}, "x"),
    "leaky_relu_neg": (F.leaky_relu, F.leaky_relu_backward, R.leaky_relu,
                       R.leaky_relu_backward, {"negative_slope": -0.5}, "x"),
    "leaky_relu_0": (F.leaky_relu, F.leaky_relu_backward, R.leaky_relu,
                     R.leaky_relu_backward, {"negative_slope": 0.0}, "x"),
    "elu": (F.elu, F.elu_backward, R.elu, R.elu_backward, {}, "x"),
    "elu_alpha": (F.elu, F.elu_backward, R.elu, R.elu_backward,
                  {"alpha": 0.7}, "x"),
    "sigmoid": (F.sigmoid, F.sigmoid_backward, R.sigmoid,
                R.sigmoid_backward, {}, "y"),
    "tanh": (F.tanh, F.tanh_backward, R.tanh, R.tanh_backward, {}, "y"),
}

# (shape, dim) for softmax and log-softmax: rows (inner = 1), strided
# columns (inner > 1, also more than one block of 64), negative dims.
SOFTMAX_CASES = [((5, 7), 1), ((5, 7), 0), ((3,), 0), ((1, 1), 1),
                 ((2, 3, 4, 5), 1), ((2, 3, 4, 5), -1), ((2, 3, 4, 5), 2),
                 ((2, 130, 3), 1), ((2, 5, 67), 1), ((3, 10, 11, 13), 1),
                 ((4, 1000), 1), ((64, 10), -1)]

SOFTMAXES = {
    "softmax": (F.softmax, F.softmax_backward, R.softmax,
                R.softmax_backward),
    "log_softmax": (F.log_softmax, F.log_softmax_backward, R.log_softmax,
                    R.log_softmax_backward),
}


def _data(shape, dtype, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(shape)).astype(dtype)


# --- fast path against the reference ----------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elementwise_match_reference(shape, dtype, simd, threads):
    x = _data(shape, dtype)
    dy = _data(shape, dtype, seed=1)
    for name, (fwd, bwd, rfwd, rbwd, params, saved) in ELEMENTWISE.items():
        y = fwd(x, **params)
        assert y.dtype == dtype and y.shape == x.shape, name
        assert y.flags.c_contiguous, name
        assert_close(y, rfwd(x, **params), err_msg=name)
        keep = y if saved == "y" else x
        assert_close(bwd(dy, keep, **params), rbwd(dy, keep, **params),
                     err_msg=name + " backward")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", SOFTMAX_CASES, ids=str)
def test_softmax_match_reference(shape, dim, dtype, simd, threads):
    x = _data(shape, dtype)
    dy = _data(shape, dtype, seed=1)
    for name, (fwd, bwd, rfwd, rbwd) in SOFTMAXES.items():
        y = fwd(x, dim)
        assert y.dtype == dtype and y.flags.c_contiguous, name
        assert_close(y, rfwd(x, dim), err_msg=name)
        assert_close(bwd(dy, y, dim), rbwd(dy, y, dim),
                     err_msg=name + " backward")
    total = F.softmax(x, dim).sum(axis=dim)
    assert_close(total, np.ones_like(total), rtol=1e-5)


def test_thread_count_and_simd_path_change_only_rounding():
    x = _data((4, 16, 33, 35), np.float32)
    dy = _data(x.shape, np.float32, seed=1)
    before = cnnc.get_num_threads()
    results = {}
    try:
        for path in ("scalar", "auto"):
            cnnc.set_simd(path)
            for n in (1, 2):
                cnnc.set_num_threads(n)
                results[path, n] = [
                    F.relu(x), F.sigmoid(x), F.tanh(x), F.elu(x),
                    F.softmax(x), F.log_softmax(x),
                    F.elu_backward(dy, x), F.log_softmax_backward(dy, x)]
    finally:
        cnnc.set_simd("auto")
        cnnc.set_num_threads(before)
    for path in ("scalar", "auto"):
        # Each element is computed the same way whatever the thread count.
        for a, b in zip(results[path, 1], results[path, 2]):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(results["scalar", 1], results["auto", 1]):
        assert_close(a, b, rtol=1e-6, atol=1e-6)


# --- accuracy of float32 exp, expm1 and tanh --------------------------------

def _ulp_error(got, exact):
    """|got - exact| in units of the last place of float32(exact)."""
    nearest = exact.astype(np.float32)
    tiny = np.finfo(np.float32).tiny
    normal = np.isfinite(nearest) & (np.abs(nearest) >= tiny)
    ulp = np.spacing(np.abs(nearest[normal])).astype(np.float64)
    return np.abs(got[normal].astype(np.float64) - exact[normal]) / ulp


# Measured maxima are about 1 ulp for e^x and e^x - 1 alone, 2.5 ulp for
# tanh and sigmoid; the bounds leave a margin for either SIMD path.
ULP_BOUNDS = {"sigmoid": 3.5, "tanh": 3.5, "elu": 2.5, "softmax": 3.5}


def test_float32_transcendentals_within_a_few_ulp(simd):
    x = np.arange(-110, 95, 2.0 ** -9).astype(np.float32)
    xd = x.astype(np.float64)
    with np.errstate(all="ignore"):
        exact = {
            "sigmoid": 1 / (1 + np.exp(-xd)),
            "tanh": np.tanh(xd),
            "elu": np.where(xd > 0, xd, np.expm1(np.minimum(xd, 0))),
        }
    got = {"sigmoid": F.sigmoid(x), "tanh": F.tanh(x), "elu": F.elu(x)}
    for name in ("sigmoid", "tanh", "elu"):
        worst = _ulp_error(got[name], exact[name]).max()
        assert worst <= ULP_BOUNDS[name], (name, worst)
    # Below the normal range results round gradually to 0.
    tiny = x < -87
    np.testing.assert_allclose(got["sigmoid"][tiny], exact["sigmoid"][tiny],
                               rtol=0, atol=2e-45)
    # Softmax's exponentials, seen through softmax of two classes.
    p = F.softmax(np.stack([x - 1, np.zeros_like(x)], 1))[:, 0]
    q = np.exp(xd - 1) / (1 + np.exp(xd - 1))
    ok = np.isfinite(q) & (x < 80)
    assert _ulp_error(p[ok], q[ok]).max() <= ULP_BOUNDS["softmax"]


def test_small_arguments_keep_their_digits(simd):
    x = np.float32([1e-3, 1e-6, 1e-20, 1e-40, -1e-3, -1e-6, -1e-20, -1e-40])
    xd = x.astype(np.float64)
    # Relative accuracy down to the subnormals (where 1 ulp is 1.4e-45).
    assert_close(F.tanh(x), np.tanh(xd), rtol=3e-7, atol=2e-45)
    assert_close(F.elu(x), np.where(xd > 0, xd, np.expm1(xd)), rtol=3e-7,
                 atol=2e-45)


# --- extreme inputs -----------------------------------------------------------

EXTREMES = [1e4, -1e4, np.inf, -np.inf, 88.8, -88.8, 100.0, -104.0, 0.0,
            -0.0, 1e-30, -1e-30]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_give_limits_without_warnings(dtype, simd):
    x = np.array(EXTREMES, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = {name: fwd(x, **params) for name, (fwd, _, _, _, params, _)
                   in ELEMENTWISE.items()}
        dy = np.ones_like(x)
        grads = {name: bwd(dy, results[name] if saved == "y" else x,
                           **params)
                 for name, (_, bwd, _, _, params, saved)
                 in ELEMENTWISE.items()}
    for name, y in list(results.items()) + list(grads.items()):
        if name != "leaky_relu_0":        # 0 * -inf is NaN, as in PyTorch
            assert not np.isnan(y).any(), name
    assert results["relu"].tolist()[:4] == [1e4, 0, np.inf, 0]
    assert results["sigmoid"].tolist()[:4] == [1, 0, 1, 0]
    assert results["tanh"].tolist()[:4] == [1, -1, 1, -1]
    assert results["elu"].tolist()[:4] == [1e4, -1, np.inf, -1]
    assert results["elu_alpha"][3] == dtype(-0.7)
    assert results["leaky_relu"].tolist()[:4] == [1e4, -2e3, np.inf,
                                                  -np.inf]
    assert grads["sigmoid"].tolist()[:4] == [0, 0, 0, 0]
    assert grads["tanh"].tolist()[:4] == [0, 0, 0, 0]
    assert grads["elu"].tolist()[:4] == [1, 0, 1, 0]
    with np.errstate(all="ignore"):
        for name, (_, _, rfwd, _, params, _) in ELEMENTWISE.items():
            if name != "leaky_relu_0":    # 0 * -inf is NaN, as in PyTorch
                assert_close(results[name], rfwd(x, **params), err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_extremes(dtype, simd):
    x = np.array([[1e4, 0, -1e4], [-np.inf, 0, 0], [-1e4, -1e4, -1e4],
                  [np.nan, 0, 1]], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = F.softmax(x)
        logp = F.log_softmax(x)
    assert_close(p[:3], [[1, 0, 0], [0, 0.5, 0.5], [1 / 3] * 3])
    assert logp[1, 0] == -np.inf
    assert_close(logp[[0, 2]], [[0, -1e4, -2e4], [-np.log(3)] * 3])
    assert_close(logp[1, 1:], [-np.log(2)] * 2)
    assert np.isnan(p[3]).all() and np.isnan(logp[3]).all()
    with np.errstate(all="ignore"):
        assert_close(p, R.softmax(x))
        np.testing.assert_array_equal(np.isfinite(logp),
                                      np.isfinite(R.log_softmax(x)))
        finite = np.isfinite(logp)
        assert_close(logp[finite], R.log_softmax(x)[finite])
    dy = np.ones_like(x[:3])
    assert not np.isnan(F.softmax_backward(dy, p[:3])).any()
    assert_close(F.log_softmax_backward(dy, logp[:3]),
                 R.log_softmax_backward(dy, logp[:3]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_propagates(dtype, simd):
    x = np.array([np.nan, 1.0, -1.0], dtype)
    for name, (fwd, _, _, _, params, _) in ELEMENTWISE.items():
        y = fwd(x, **params)
        assert np.isnan(y[0]) and not np.isnan(y[1:]).any(), name


def test_sigmoid_derivative_is_at_most_a_quarter():
    x = np.linspace(-10, 10, 2001)
    slope = F.sigmoid_backward(np.ones_like(x), F.sigmoid(x))
    assert slope.max() == pytest.approx(0.25) and slope.max() <= 0.25
    # Ten sigmoid layers shrink a gradient by at least 4^10 ~ 1e6.
    assert 0.25 ** 10 < 1e-6


# --- gradient checks by central differences, float64 ------------------------

def _away_from_zero(shape, seed):
    """Values with |x| in [0.1, 2]: no kink inside a finite difference."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_gradients(name, simd):
    fwd, bwd, _, _, params, saved = ELEMENTWISE[name]
    x = _away_from_zero((2, 3, 4), seed=2)
    w = np.random.default_rng(3).standard_normal(x.shape)

    def loss():
        return float(np.sum(fwd(x, **params) * w))

    y = fwd(x, **params)
    analytic = bwd(w, y if saved == "y" else x, **params)
    assert rel_error(analytic, numerical_grad(loss, x)) < GRADCHECK_TOL


@pytest.mark.parametrize("shape, dim", [((3, 5), 1), ((2, 3, 4), 1),
                                        ((2, 3, 4), 0), ((2, 3, 4), -1)],
                         ids=str)
@pytest.mark.parametrize("name", list(SOFTMAXES))
def test_softmax_gradients(name, shape, dim, simd):
    fwd, bwd, _, _ = SOFTMAXES[name]
    x = np.random.default_rng(4).standard_normal(shape)
    w = np.random.default_rng(5).standard_normal(shape)

    def loss():
        return float(np.sum(fwd(x, dim) * w))

    analytic = bwd(w, fwd(x, dim), dim)
    assert rel_error(analytic, numerical_grad(loss, x)) < GRADCHECK_TOL


# --- against PyTorch ------------------------------------------------------------

def _torch_ops(torch):
    tf = torch.nn.functional
    return {
        "relu": tf.relu,
        "leaky_relu": lambda t: tf.leaky_relu(t, 0.2),
        "leaky_relu_neg": lambda t: tf.leaky_relu(t, -0.5),
        "leaky_relu_0": lambda t: tf.leaky_relu(t, 0.0),
        "elu": tf.elu,
        "elu_alpha": lambda t: tf.elu(t, 0.7),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_match_torch(dtype, torch):
    x = _away_from_zero((4, 5, 6, 7), seed=6).astype(dtype)
    x[0, 0, 0, :4] = [30.0, -30.0, 1e4, -1e4]
    dy = _data(x.shape, dtype, seed=7)
    for name, op in _torch_ops(torch).items():
        fwd, bwd, _, _, params, saved = ELEMENTWISE[name]
        tx = torch.tensor(x, requires_grad=True)
        ty = op(tx)
        ty.backward(torch.tensor(dy))
        y = fwd(x, **params)
        assert_close(y, ty.detach().numpy(), rtol=2e-6, atol=1e-7,
                     err_msg=name)
        dx = bwd(dy, y if saved == "y" else x, **params)
        assert_close(dx, tx.grad.numpy(), rtol=2e-6, atol=1e-7,
                     err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", SOFTMAX_CASES, ids=str)
def test_softmax_match_torch(shape, dim, dtype, torch):
    x = _data(shape, dtype, seed=8)
    dy = _data(shape, dtype, seed=9)
    for name, op in (("softmax", torch.softmax),
                     ("log_softmax", torch.log_softmax)):
        fwd, bwd, _, _ = SOFTMAXES[name]
        tx = torch.tensor(x, requires_grad=True)
        ty = op(tx, dim)
        ty.backward(torch.tensor(dy))
        y = fwd(x, dim)
        assert_close(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6,
                     err_msg=name)
        assert_close(bwd(dy, y, dim), tx.grad.numpy(), rtol=1e-5,
                     atol=1e-5, err_msg=name)


def test_layers_match_torch_modules(torch):
    x = _away_from_zero((2, 3, 4, 5), seed=10).astype(np.float32)
    dy = _data(x.shape, np.float32, seed=11)
    pairs = [(ReLU(), torch.nn.ReLU()),
             (LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
             (ELU(0.5), torch.nn.ELU(0.5)), (Sigmoid(), torch.nn.Sigmoid()),
             (Tanh(), torch.nn.Tanh()), (Softmax(1), torch.nn.Softmax(1)),
             (LogSoftmax(-1), torch.nn.LogSoftmax(-1)),
             (Flatten(), torch.nn.Flatten()),
             (Flatten(0, 2), torch.nn.Flatten(0, 2))]
    for ours, theirs in pairs:
        tx = torch.tensor(x, requires_grad=True)
        ty = theirs(tx)
        y = ours(x)
        assert y.shape == tuple(ty.shape), ours
        assert_close(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        g = dy.reshape(y.shape)
        ty.backward(torch.tensor(g))
        assert_close(ours.backward(g), tx.grad.numpy(), rtol=1e-5,
                     atol=1e-6, err_msg=repr(ours))
        assert ours.state_dict() == {} and theirs.state_dict() == {}


# --- memory layouts ---------------------------------------------------------

def test_non_contiguous_and_read_only_inputs():
    x = _data((3, 4, 5, 6), np.float64)
    big = np.zeros((3, 4, 5, 12))
    big[..., ::2] = x
    view = big[..., ::2]
    fortran = np.asfortranarray(x)
    x.setflags(write=False)
    dy = _data(x.shape, np.float64, seed=1)[:, ::-1][:, ::-1]
    for name, (fwd, bwd, rfwd, rbwd, params, saved) in ELEMENTWISE.items():
        for arr in (view, fortran, x):
            y = fwd(arr, **params)
            assert y.flags.c_contiguous
            assert_close(y, rfwd(x, **params), err_msg=name)
            keep = y if saved == "y" else arr
            assert_close(bwd(dy, keep, **params), rbwd(dy, x if saved == "x"
                                                       else y, **params))
    for name, (fwd, bwd, rfwd, rbwd) in SOFTMAXES.items():
        for dim in (0, 1, 3):
            y = fwd(view, dim)
            assert_close(y, rfwd(x, dim), err_msg=name)
            ro = y.copy()
            ro.setflags(write=False)
            assert_close(bwd(dy, ro, dim), rbwd(dy, y, dim))


def test_empty_and_zero_dimensional_arrays():
    for name, (fwd, bwd, _, _, params, _) in ELEMENTWISE.items():
        assert fwd(np.zeros((0, 3)), **params).shape == (0, 3)
        assert bwd(np.zeros((2, 0)), np.zeros((2, 0)), **params).shape \
            == (2, 0)
        assert fwd(np.float32(-2.0), **params).shape == ()
    assert F.relu(np.float32(-2.0)) == 0
    assert F.softmax(np.zeros((0, 4))).shape == (0, 4)
    assert F.softmax(np.zeros((3, 0))).shape == (3, 0)
    assert F.log_softmax_backward(np.zeros((2, 0, 3)), np.zeros((2, 0, 3))
                                  ).shape == (2, 0, 3)
    assert F.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]


# --- validation messages ----------------------------------------------------

X = np.zeros((2, 3), np.float32)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.relu("x"), TypeError, "x must be a NumPy array of float32 or "
     "float64, got str"),
    (lambda: F.sigmoid(X.astype(np.int64)), TypeError,
     "x must have dtype float32 or float64, got int64"),
    (lambda: F.leaky_relu(X, negative_slope=np.nan), ValueError,
     "negative_slope must be a finite number, got nan"),
    (lambda: F.leaky_relu(X, negative_slope="0.1"), TypeError,
     "negative_slope must be a real number, got str '0.1'"),
    (lambda: F.leaky_relu(X, negative_slope=True), TypeError,
     "negative_slope must be a real number, got bool True"),
    (lambda: F.leaky_relu_backward(X, X, negative_slope=np.inf), ValueError,
     "negative_slope must be a finite number, got inf"),
    (lambda: F.elu(X, alpha=np.nan), ValueError,
     "alpha must be a finite number, got nan"),
    (lambda: F.elu_backward(X, X, alpha=-np.inf), ValueError,
     "alpha must be a finite number, got -inf"),
    (lambda: F.relu_backward(X.T, X), ValueError,
     r"grad_out must have the shape of y, \(2, 3\), got \(3, 2\)"),
    (lambda: F.elu_backward(X[0], X), ValueError,
     r"grad_out must have the shape of x, \(2, 3\), got \(3,\)"),
    (lambda: F.tanh_backward(X.astype(np.float64), X), TypeError,
     "grad_out has dtype float64 but y has dtype float32"),
    (lambda: F.sigmoid_backward(X, "y"), TypeError,
     "y must be a NumPy array"),
    (lambda: F.softmax(X, dim=2), ValueError,
     r"dim must be in \[-2, 1\] for a 2-D x, got 2"),
    (lambda: F.log_softmax(X, dim=-3), ValueError,
     r"dim must be in \[-2, 1\] for a 2-D x, got -3"),
    (lambda: F.softmax(X[0]), ValueError,
     r"dim must be in \[-1, 0\] for a 1-D x, got 1"),
    (lambda: F.softmax(X, dim=1.0), TypeError,
     "dim must be an int, got float 1.0"),
    (lambda: F.softmax(X, dim=True), TypeError,
     "dim must be an int, got the bool True"),
    (lambda: F.softmax(np.float32(1.0), dim=0), ValueError,
     "x must have at least one axis to normalise over, got a 0-D array"),
    (lambda: F.softmax_backward(X, X, dim=5), ValueError,
     r"dim must be in \[-2, 1\] for a 2-D x, got 5"),
    (lambda: F.log_softmax_backward(X[:1], X), ValueError,
     r"grad_out must have the shape of y, \(2, 3\), got \(1, 3\)"),
])
def test_validation_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the layers -----------------------------------------------------------------

def test_layers_forward_backward_and_repr():
    x = _away_from_zero((2, 3, 4), seed=12)
    dy = _data(x.shape, np.float64, seed=13)
    layers = [
        (ReLU(), "ReLU()", R.relu(x), R.relu_backward(dy, x)),
        (LeakyReLU(), "LeakyReLU(negative_slope=0.01)", R.leaky_relu(x),
         R.leaky_relu_backward(dy, x)),
        (ELU(alpha=0.5), "ELU(alpha=0.5)", R.elu(x, 0.5),
         R.elu_backward(dy, x, 0.5)),
        (Sigmoid(), "Sigmoid()", R.sigmoid(x),
         R.sigmoid_backward(dy, R.sigmoid(x))),
        (Tanh(), "Tanh()", R.tanh(x), R.tanh_backward(dy, R.tanh(x))),
        (Softmax(), "Softmax(dim=1)", R.softmax(x),
         R.softmax_backward(dy, R.softmax(x))),
        (LogSoftmax(dim=-1), "LogSoftmax(dim=-1)", R.log_softmax(x, -1),
         R.log_softmax_backward(dy, R.log_softmax(x, -1), -1)),
    ]
    for layer, text, y, dx in layers:
        assert repr(layer) == text
        assert list(layer.parameters()) == []
        with pytest.raises(RuntimeError, match=text.split("(")[0] +
                           r".backward called before forward"):
            layer.backward(dy)
        assert_close(layer(x), y, err_msg=text)
        assert_close(layer.backward(dy), dx, err_msg=text)
        layer.eval()
        assert_close(layer(x), y, err_msg=text)


def test_layer_validation():
    with pytest.raises(ValueError, match="negative_slope must be a finite "
                       "number, got nan"):
        LeakyReLU(float("nan"))
    with pytest.raises(ValueError, match="alpha must be a finite number"):
        ELU(alpha=float("inf"))
    with pytest.raises(TypeError, match="dim must be an int, got float 1.5"):
        Softmax(dim=1.5)
    with pytest.raises(ValueError, match=r"dim must be in \[-2, 1\] for a "
                       r"2-D x, got 3"):
        LogSoftmax(dim=3)(X)


def test_flatten():
    x = _data((2, 3, 4, 5), np.float32)
    layer = Flatten()
    assert repr(layer) == "Flatten(start_dim=1, end_dim=-1)"
    y = layer(x)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    g = layer.backward(y * 2)
    assert g.shape == x.shape
    np.testing.assert_array_equal(g, x * 2)
    assert Flatten(0, -1)(x).shape == (120,)
    assert Flatten(1, 2)(x).shape == (2, 12, 5)
    assert Flatten(-2)(x).shape == (2, 3, 20)
    assert Flatten(2, 2)(x).shape == x.shape
    view = np.zeros((2, 3, 8, 5), np.float32)[:, :, ::2]
    assert Flatten()(view).shape == (2, 60)


@pytest.mark.parametrize("layer, x, error, match", [
    (Flatten(4), np.zeros((2, 3, 4, 5)), ValueError,
     r"start_dim must be in \[-4, 3\] for a 4-D x, got 4 "
     r"\(x.shape=\(2, 3, 4, 5\)\)"),
    (Flatten(1, -5), np.zeros((2, 3, 4, 5)), ValueError,
     r"end_dim must be in \[-4, 3\] for a 4-D x, got -5"),
    (Flatten(2, 1), np.zeros((2, 3, 4, 5)), ValueError,
     r"start_dim must not come after end_dim, got start_dim=2 and "
     r"end_dim=1"),
    (Flatten(), np.zeros((2, 3), np.int32), TypeError,
     "x must have dtype float32 or float64, got int32"),
])
def test_flatten_validation(layer, x, error, match):
    with pytest.raises(error, match=match):
        layer(x)


def test_flatten_backward_validation():
    layer = Flatten()
    with pytest.raises(RuntimeError, match="Flatten.backward called before "
                       "forward"):
        layer.backward(np.zeros((2, 3)))
    layer(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"grad_out must have 24 elements "
                       r"to take x's shape \(2, 3, 4\), got shape \(2, 3\)"):
        layer.backward(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="start_dim must be an int, got str"):
        Flatten("1")
