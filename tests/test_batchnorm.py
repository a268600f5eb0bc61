"""Batch normalization: C kernels against the NumPy reference, gradient
checks, PyTorch, precision on data with a large mean, and validation."""
import re

import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import reference as R
from cnnc.nn import BatchNorm1d, BatchNorm2d
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

DTYPES = [np.float32, np.float64]

# Absolute tolerance of the backward checks, relative to the largest
# gradient: the sums run over up to 36000 values per channel.
TOL_ATOL = {np.float32: 1e-5, np.float64: 1e-12}

# Shapes chosen to reach every path of the C core: the plane path (L >= 64)
# with one thread per channel and, for few channels, split by image blocks;
# the column path (short planes, L = 1 included); odd C, N = 2, N = 1 with
# L > 1; and sizes big enough for the second thread to start.
SHAPES = [
    (2, 3),              # BatchNorm1d (N, C): column path, L = 1
    (5, 7),
    (2, 5, 9),           # BatchNorm1d (N, C, L), short planes
    (3, 1, 70),          # one channel, plane path, split path
    (4, 3, 5, 5),        # BatchNorm2d, L = 25: column path
    (2, 5, 9, 9),        # L = 81: plane path, odd C
    (1, 4, 8, 1),        # N = 1, W = 1
    (3, 2, 1, 33),       # H = 1
    (7, 3, 40, 40),      # few channels, two threads: split path
    (3, 1, 110, 110),    # one channel, two threads: split path
    (4, 64, 16, 16),     # many channels, two threads: by channel
    (1100, 33),          # many rows, two threads: column path
    (300, 9, 4, 4),      # short planes (L = 16), two threads: column path
    (2, 9, 1200),        # planes longer than one run (1024 values)
]


def _data(shape, dtype, seed=0, loc=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.normal(loc, scale, shape).astype(dtype)
    w = rng.uniform(0.5, 1.5, c).astype(dtype)
    b = rng.normal(0, 1, c).astype(dtype)
    rm = rng.normal(0, 1, c).astype(dtype)
    rv = rng.uniform(0.5, 2.0, c).astype(dtype)
    dy = rng.normal(0, 1, shape).astype(dtype)
    return x, w, b, rm, rv, dy


# --------------------------------------------------------------------------
# Fast path against the reference
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_training_forward_matches_reference(shape, dtype, simd, threads):
    x, w, b, rm, rv, _ = _data(shape, dtype)
    rm2, rv2 = rm.copy(), rv.copy()
    y, mean, invstd = F.batch_norm(x, rm, rv, w, b, training=True,
                                   momentum=0.3, eps=1e-3)
    y_ref, mean_ref, invstd_ref = R.batch_norm(
        x, rm2, rv2, w, b, training=True, momentum=0.3, eps=1e-3)
    assert y.dtype == dtype and y.shape == shape and y.flags.c_contiguous
    assert_close(y, y_ref)
    assert_close(mean, mean_ref, dtype=dtype)
    assert_close(invstd, invstd_ref, dtype=dtype)
    assert_close(rm, rm2)
    assert_close(rv, rv2)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_eval_forward_matches_reference(shape, dtype, simd, threads):
    x, w, b, rm, rv, _ = _data(shape, dtype)
    before = rm.copy(), rv.copy()
    y, mean, invstd = F.batch_norm(x, rm, rv, w, b, training=False)
    y_ref, _, invstd_ref = R.batch_norm(x, rm, rv, w, b, training=False)
    assert_close(y, y_ref)
    assert_close(invstd, invstd_ref, dtype=dtype)
    np.testing.assert_array_equal(mean, rm)
    np.testing.assert_array_equal(rm, before[0])  # nothing updated
    np.testing.assert_array_equal(rv, before[1])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_backward_matches_reference(shape, dtype, training, simd, threads):
    x, w, b, rm, rv, dy = _data(shape, dtype)
    _, mean, invstd = F.batch_norm(x, rm, rv, w, b, training=training)
    dx, dw, db = F.batch_norm_backward(dy, x, mean, invstd, w,
                                       training=training)
    dx_ref, dw_ref, db_ref = R.batch_norm_backward(dy, x, mean, invstd, w,
                                                   training=training)
    assert_close(dx, dx_ref, atol=TOL_ATOL[dtype] * np.abs(dx_ref).max())
    assert_close(dw, dw_ref, atol=TOL_ATOL[dtype] * np.abs(dw_ref).max())
    assert_close(db, db_ref, atol=TOL_ATOL[dtype] * np.abs(db_ref).max())


@pytest.mark.parametrize("shape", [(2, 3), (1100, 33), (7, 3, 40, 40),
                                   (4, 64, 16, 16)], ids=str)
def test_results_do_not_depend_on_thread_count(shape):
    x, w, b, rm, rv, dy = _data(shape, np.float32)
    out = []
    before = cnnc.get_num_threads()
    try:
        for n in (1, 2):
            cnnc.set_num_threads(n)
            y, mean, invstd = F.batch_norm(x, rm.copy(), rv.copy(), w, b,
                                           training=True)
            out.append((y, mean, invstd) + F.batch_norm_backward(
                dy, x, mean, invstd, w))
    finally:
        cnnc.set_num_threads(before)
    for one, two in zip(*out):
        np.testing.assert_array_equal(one, two)


def test_without_weight_bias_or_running_stats(simd):
    x, _, _, _, _, dy = _data((6, 4, 9, 9), np.float64)
    y, mean, invstd = F.batch_norm(x, None, None, training=True)
    y_ref, _, _ = R.batch_norm(x, None, None, training=True)
    assert_close(y, y_ref)
    dx, dw, db = F.batch_norm_backward(dy, x, mean, invstd)
    ref = R.batch_norm_backward(dy, x, mean, invstd)
    for got, want in zip((dx, dw, db), ref):
        assert_close(got, want)


def test_backward_skips_what_is_not_needed():
    x, w, _, _, _, dy = _data((4, 3, 8, 8), np.float32)
    _, mean, invstd = F.batch_norm(x, None, None, w, training=True)
    dx, dw, db = F.batch_norm_backward(dy, x, mean, invstd, w,
                                       needs_weight_grad=False,
                                       needs_bias_grad=False)
    assert dw is None and db is None
    full = F.batch_norm_backward(dy, x, mean, invstd, w)
    np.testing.assert_array_equal(dx, full[0])
    dx, dw, db = F.batch_norm_backward(dy, x, mean, invstd, w,
                                       needs_input_grad=False)
    assert dx is None
    np.testing.assert_array_equal(dw, full[1])
    np.testing.assert_array_equal(db, full[2])
    assert F.batch_norm_backward(dy, x, mean, invstd, w,
                                 needs_input_grad=False,
                                 needs_weight_grad=False,
                                 needs_bias_grad=False) == (None, None, None)


@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 5, 5), (3, 4, 9, 9)],
                         ids=str)
def test_non_contiguous_and_read_only_inputs(shape, threads):
    x, w, b, rm, rv, dy = _data(shape, np.float32)
    # x and dy as transposed views of other arrays, read-only.
    xt = np.ascontiguousarray(np.swapaxes(x, 0, 1)).swapaxes(0, 1)
    dyt = np.ascontiguousarray(np.swapaxes(dy, 0, 1)).swapaxes(0, 1)
    assert not xt.flags.c_contiguous
    for a in (xt, dyt, w, b):
        a.flags.writeable = False
    # Running statistics as strided views: updated in place all the same.
    rm_big, rv_big = np.zeros(2 * len(rm), rm.dtype), np.ones(2 * len(rv),
                                                              rv.dtype)
    rm_big[::2], rv_big[::2] = rm, rv
    y, mean, invstd = F.batch_norm(xt, rm_big[::2], rv_big[::2], w, b,
                                   training=True)
    y_ref, _, _ = R.batch_norm(x, rm, rv, w, b, training=True)
    assert_close(y, y_ref)
    assert_close(rm_big[::2], rm)
    assert_close(rv_big[::2], rv)
    assert np.all(rm_big[1::2] == 0) and np.all(rv_big[1::2] == 1)
    dx, dw, db = F.batch_norm_backward(dyt, xt, mean, invstd, w)
    ref = R.batch_norm_backward(dy, x, mean, invstd, w)
    for got, want in zip((dx, dw, db), ref):
        assert_close(got, want, atol=1e-4)
    # Read-only running statistics are fine when nothing is updated.
    rm.flags.writeable = rv.flags.writeable = False
    F.batch_norm(xt, rm, rv, w, b, training=False)


# --------------------------------------------------------------------------
# Gradient checks (float64, central differences)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 4, 3),
                                   (2, 2, 8, 9)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_gradients_by_central_differences(shape, training):
    x, w, b, rm, rv, _ = _data(shape, np.float64, seed=3)
    probe = np.random.default_rng(4).normal(size=shape)

    def loss():
        y, _, _ = F.batch_norm(x, rm.copy(), rv.copy(), w, b,
                               training=training)
        return float(np.sum(y * probe))

    _, mean, invstd = F.batch_norm(x, rm.copy(), rv.copy(), w, b,
                                   training=training)
    dx, dw, db = F.batch_norm_backward(probe, x, mean, invstd, w,
                                       training=training)
    assert rel_error(dx, numerical_grad(loss, x)) < GRADCHECK_TOL
    assert rel_error(dw, numerical_grad(loss, w)) < GRADCHECK_TOL
    assert rel_error(db, numerical_grad(loss, b)) < GRADCHECK_TOL


# --------------------------------------------------------------------------
# Precision: a large mean with a small spread
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(16, 3, 12, 12), (64, 5, 3, 3), (500, 4)],
                         ids=str)
@pytest.mark.parametrize("spread", [1.0, 0.05])
def test_large_mean_small_spread_float32(shape, spread, threads):
    # Values near 1e4 in float32 (spacing about 1e-3): a one-pass
    # sum-of-squares variance would lose every digit here.
    x, w, b, _, _, dy = _data(shape, np.float32, seed=5, loc=1e4,
                              scale=spread)
    c = shape[1]
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    rm_ref, rv_ref = rm.copy(), rv.copy()
    y, mean, invstd = F.batch_norm(x, rm, rv, w, b, training=True)
    y_ref, mean_ref, invstd_ref = R.batch_norm(x, rm_ref, rv_ref, w, b,
                                               training=True)
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(invstd, invstd_ref, rtol=1e-6)
    np.testing.assert_allclose(mean, mean_ref, rtol=1e-12)
    np.testing.assert_allclose(rv, rv_ref, rtol=1e-5)
    dx, dw, db = F.batch_norm_backward(dy, x, mean, invstd, w)
    ref = R.batch_norm_backward(dy, x, mean, invstd, w)
    for got, want in zip((dx, dw, db), ref):
        np.testing.assert_allclose(got, want, rtol=1e-4,
                                   atol=1e-4 * np.abs(want).max())


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------

def test_layer_state_dict_and_repr():
    bn = BatchNorm2d(4)
    assert repr(bn) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True,"
                        " track_running_stats=True)")
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var",
                           "num_batches_tracked"]
    assert state["num_batches_tracked"].shape == ()
    assert state["num_batches_tracked"].dtype == np.int64
    bare = BatchNorm1d(3, affine=False, track_running_stats=False)
    assert bare.state_dict() == {}
    assert list(BatchNorm1d(3, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]


def test_layer_train_eval_and_counting():
    x, _, _, _, _, dy = _data((8, 3, 4, 4), np.float32)
    bn = BatchNorm2d(3)
    for step in range(3):
        bn(x + step)
    assert int(bn.num_batches_tracked) == 3
    running = bn.running_mean.copy()
    y_eval = bn.eval()(x)
    np.testing.assert_array_equal(bn.running_mean, running)
    assert int(bn.num_batches_tracked) == 3
    y_ref, _, _ = R.batch_norm(x, bn.running_mean, bn.running_var,
                               bn.weight.data, bn.bias.data)
    assert_close(y_eval, y_ref)
    # Evaluation backward treats the statistics as constants.
    dx = bn.backward(dy)
    assert_close(dx, dy / np.sqrt(bn.running_var + bn.eps)[:, None, None])


def test_layer_without_running_stats_uses_batch_stats_in_eval():
    x, _, _, _, _, _ = _data((8, 3, 4, 4), np.float32)
    bn = BatchNorm2d(3, track_running_stats=False).eval()
    assert bn.running_mean is None
    y_ref, _, _ = R.batch_norm(x, None, None, training=True)
    assert_close(bn(x), y_ref)


def test_layer_cumulative_momentum():
    bn = BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).normal(i, 1 + i, (10, 2))
               .astype(np.float32) for i in range(4)]
    for batch in batches:
        bn(batch)
    means = [b.mean(axis=0) for b in batches]
    assert_close(bn.running_mean, np.mean(means, axis=0), atol=1e-5)


def test_layer_frozen_parameters_get_no_gradient():
    x, _, _, _, _, dy = _data((8, 3, 4, 4), np.float32)
    bn = BatchNorm2d(3)
    bn.weight.requires_grad = False
    bn(x)
    bn.backward(dy)
    assert bn.weight.grad is None and bn.bias.grad is not None


def test_layer_input_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d expects x of shape "
                       r"\(N, C, H, W\), got shape \(2, 3\)"):
        BatchNorm2d(3)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d expects x of shape "
                       r"\(N, C\) or \(N, C, L\), got shape \(2, 3, 4, 4\)"):
        BatchNorm1d(3)(np.zeros((2, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"x has 4 channels but this "
                       r"BatchNorm2d expects num_features=3"):
        BatchNorm2d(3)(np.zeros((2, 4, 5, 5), np.float32))
    with pytest.raises(TypeError, match=re.escape(
            "x has dtype float64 but this BatchNorm2d holds float32 "
            "parameters and running statistics; convert x with "
            "x.astype(np.float32)")):
        BatchNorm2d(3)(np.zeros((2, 3, 5, 5)))
    with pytest.raises(RuntimeError, match="backward called before forward"):
        BatchNorm2d(3).backward(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="num_features must be >= 1"):
        BatchNorm2d(0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        BatchNorm2d(3, dtype=np.int32)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="eps must be a positive"):
        BatchNorm1d(3, eps=0.0)
    # A failed forward does not count as a tracked batch.
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value"):
        bn(np.zeros((1, 3), np.float32))
    assert int(bn.num_batches_tracked) == 0


# --------------------------------------------------------------------------
# Validation messages of cnnc.functional
# --------------------------------------------------------------------------

def _args(shape=(4, 3, 5, 5), dtype=np.float32):
    x, w, b, rm, rv, _ = _data(shape, dtype)
    return dict(x=x, running_mean=rm, running_var=rv, weight=w, bias=b)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)],
                         ids=str)
def test_one_value_per_channel_in_training(shape):
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=re.escape(
            "Expected more than 1 value per channel when training, got input "
            "of shape %s" % (shape,))):
        F.batch_norm(x, None, None, training=True)
    # In evaluation a single value is fine.
    F.batch_norm(x, np.zeros(3, np.float32), np.ones(3, np.float32))


@pytest.mark.parametrize("name", ["running_mean", "running_var", "weight",
                                  "bias"])
def test_channel_vector_shape_mismatch(name):
    args = _args()
    args[name] = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=re.escape(
            "%s must have shape (C,) = (3,) to match x's 3 channels, got "
            "shape (4,)" % name)):
        F.batch_norm(training=True, **args)


@pytest.mark.parametrize("name", ["running_mean", "weight", "bias"])
def test_channel_vector_dtype_mismatch(name):
    args = _args()
    args[name] = args[name].astype(np.float64)
    with pytest.raises(TypeError, match="%s has dtype float64 but x has "
                       "dtype float32" % name):
        F.batch_norm(**args)


def test_running_stats_both_or_neither():
    args = _args()
    args["running_var"] = None
    with pytest.raises(ValueError, match="running_mean and running_var must "
                       "both be arrays or both be None"):
        F.batch_norm(training=True, **args)


def test_running_stats_needed_in_eval():
    with pytest.raises(ValueError, match="running_mean and running_var are "
                       "required when training=False"):
        F.batch_norm(np.zeros((2, 3), np.float32), None, None)


def test_read_only_running_stats_in_training():
    args = _args()
    args["running_var"].flags.writeable = False
    with pytest.raises(ValueError, match="running_var must be writable when "
                       "training=True"):
        F.batch_norm(training=True, **args)


@pytest.mark.parametrize("eps", [0.0, -1e-5, float("nan"), float("inf")])
def test_bad_eps(eps):
    with pytest.raises(ValueError, match=re.escape(
            "eps must be a positive finite number (it keeps the division by "
            "sqrt(var + eps) finite), got %r" % eps)):
        F.batch_norm(eps=eps, **_args())


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan")])
def test_bad_momentum(momentum):
    with pytest.raises(ValueError, match=re.escape(
            "momentum must be in [0, 1] (the weight of the new batch in the "
            "running statistics), got %r" % momentum)):
        F.batch_norm(training=True, momentum=momentum, **_args())


@pytest.mark.parametrize("name, value, message", [
    ("momentum", None, "momentum must be a number in [0, 1], got NoneType"),
    ("momentum", True, "momentum must be a number in [0, 1], got bool"),
    ("eps", "1e-5", "eps must be a number, got str"),
    ("training", 1, "training must be a bool, got int 1"),
])
def test_bad_scalar_types(name, value, message):
    with pytest.raises(TypeError, match=re.escape(message)):
        F.batch_norm(**{name: value}, **_args())


def test_bad_x():
    with pytest.raises(ValueError, match=re.escape(
            "x must be an array of shape (N, C), (N, C, L) or (N, C, H, W), "
            "got shape (5,)")):
        F.batch_norm(np.zeros(5, np.float32), None, None, training=True)
    with pytest.raises(ValueError, match=re.escape(
            "x must have no empty axis, got shape (0, 3)")):
        F.batch_norm(np.zeros((0, 3), np.float32), None, None, training=True)
    with pytest.raises(TypeError, match="x must have dtype float32 or "
                       "float64, got int64"):
        F.batch_norm(np.zeros((4, 3), np.int64), None, None, training=True)


def test_backward_validation():
    x, w, _, _, _, dy = _data((4, 3, 5, 5), np.float32)
    _, mean, invstd = F.batch_norm(x, None, None, w, training=True)
    with pytest.raises(ValueError, match=re.escape(
            "grad_out must have x's shape (4, 3, 5, 5), got (4, 3, 5, 4)")):
        F.batch_norm_backward(dy[..., :4], x, mean, invstd, w)
    with pytest.raises(TypeError, match="grad_out has dtype float64 but x "
                       "has dtype float32"):
        F.batch_norm_backward(dy.astype(np.float64), x, mean, invstd, w)
    with pytest.raises(ValueError, match=re.escape(
            "save_invstd must have shape (C,) = (3,) to match x's 3 "
            "channels, got shape (2,)")):
        F.batch_norm_backward(dy, x, mean, invstd[:2], w)
    with pytest.raises(ValueError, match=re.escape(
            "weight must have shape (C,) = (3,)")):
        F.batch_norm_backward(dy, x, mean, invstd, w[:2])


# --------------------------------------------------------------------------
# Against PyTorch
# --------------------------------------------------------------------------

def _torch_layer(torch, cls, ours):
    layer = getattr(torch.nn, cls)(
        ours.num_features, eps=ours.eps, momentum=ours.momentum,
        affine=ours.affine, track_running_stats=ours.track_running_stats,
        dtype=torch.float64 if ours.running_mean is not None and
        ours.running_mean.dtype == np.float64 else torch.float32)
    layer.load_state_dict({k: torch.from_numpy(v)
                           for k, v in ours.state_dict().items()})
    return layer


@pytest.mark.parametrize("cls, shape", [
    ("BatchNorm2d", (8, 5, 7, 6)),
    ("BatchNorm2d", (4, 64, 16, 16)),
    ("BatchNorm1d", (16, 7)),
    ("BatchNorm1d", (6, 3, 70)),
], ids=str)
@pytest.mark.parametrize("momentum", [0.1, None], ids=["m0.1", "cumulative"])
def test_layers_match_torch(torch, cls, shape, momentum):
    ours = getattr(cnnc.nn, cls)(shape[1], momentum=momentum)
    rng = np.random.default_rng(7)
    ours.weight.data[...] = rng.uniform(0.5, 1.5, shape[1])
    ours.bias.data[...] = rng.normal(size=shape[1])
    theirs = _torch_layer(torch, cls, ours)

    for step in range(4):
        x = rng.normal(step, 1 + step, shape).astype(np.float32)
        dy = rng.normal(size=shape).astype(np.float32)
        ours.zero_grad()
        y = ours(x)
        dx = ours.backward(dy)
        xt = torch.from_numpy(x).requires_grad_()
        yt = theirs(xt)
        yt.backward(torch.from_numpy(dy))
        assert_close(y, yt.detach().numpy(), atol=1e-5)
        assert_close(dx, xt.grad.numpy(), atol=1e-5)
        assert_close(ours.weight.grad, theirs.weight.grad.numpy(),
                     atol=1e-3)
        assert_close(ours.bias.grad, theirs.bias.grad.numpy(), atol=1e-3)
        theirs.weight.grad = theirs.bias.grad = None
    assert_close(ours.running_mean, theirs.running_mean.numpy())
    assert_close(ours.running_var, theirs.running_var.numpy())
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)

    ours.eval()
    theirs.eval()
    x = rng.normal(1, 2, shape).astype(np.float32)
    assert_close(ours(x), theirs(torch.from_numpy(x)).detach().numpy(),
                 atol=1e-5)
    # Our state moves back into a fresh torch layer unchanged.
    again = _torch_layer(torch, cls, ours).eval()
    assert_close(ours(x), again(torch.from_numpy(x)).detach().numpy(),
                 atol=1e-5)


@pytest.mark.parametrize("affine, track", [(False, True), (True, False),
                                           (False, False)])
def test_layer_options_match_torch(torch, affine, track):
    shape = (6, 3, 5, 5)
    ours = BatchNorm2d(3, affine=affine, track_running_stats=track,
                       dtype=np.float64)
    theirs = _torch_layer(torch, "BatchNorm2d", ours).double()
    rng = np.random.default_rng(8)
    for mode in ("train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = rng.normal(2, 3, shape)
        dy = rng.normal(size=shape)
        xt = torch.from_numpy(x).requires_grad_()
        yt = theirs(xt)
        yt.backward(torch.from_numpy(dy))
        assert_close(ours(x), yt.detach().numpy())
        assert_close(ours.backward(dy), xt.grad.numpy())


def test_functional_matches_torch(torch):
    x, w, b, rm, rv, _ = _data((5, 4, 3, 3), np.float64)
    rm_t, rv_t = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    y, _, _ = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.25,
                           eps=1e-3)
    y_t = torch.nn.functional.batch_norm(
        torch.from_numpy(x), rm_t, rv_t, torch.from_numpy(w),
        torch.from_numpy(b), training=True, momentum=0.25, eps=1e-3)
    assert_close(y, y_t.numpy())
    assert_close(rm, rm_t.numpy())
    assert_close(rv, rv_t.numpy())
