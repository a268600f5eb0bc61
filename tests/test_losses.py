"""Losses: C kernels against the NumPy reference and PyTorch, gradient
checks, extreme logits, the loss objects and every validation message."""
import numpy as np
import pytest

import cnnc
from cnnc import _core
from cnnc import functional as F
from cnnc import reference as ref
from cnnc.losses import CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]

# (N, C): one sample, one class, sizes off the 4- and 8-float vector width,
# and large enough for two threads.
CLASS_SHAPES = [(1, 1), (1, 7), (5, 3), (7, 1), (33, 17), (64, 10),
                (257, 129)]

# Elementwise shapes: 0-d, odd, and past the 4096-element blocks and the
# two-thread threshold.
VALUE_SHAPES = [(), (1,), (7,), (3, 5, 2), (200, 201)]


def _logits(shape, dtype, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = (scale * rng.standard_normal(shape)).astype(dtype)
    target = rng.integers(0, shape[1], shape[0])
    return logits, target


def _grad_out(reduction, shape, dtype, seed=1):
    if reduction == "none":
        return np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return 0.7


def _tol(dtype, size=1):
    if np.dtype(dtype) == np.float32:
        return dict(rtol=2e-4, atol=1e-5 * max(1.0, np.sqrt(size)))
    return {}


# --------------------------------------------------------------------------
# Cross-entropy
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_matches_reference(shape, dtype, reduction, smoothing,
                                         simd, threads):
    logits, target = _logits(shape, dtype)
    loss = F.cross_entropy(logits, target, reduction, smoothing)
    want = ref.cross_entropy(logits.astype(np.float64), target, reduction,
                             smoothing)
    assert loss.dtype == dtype
    assert loss.shape == (() if reduction != "none" else (shape[0],))
    assert_close(loss, want, dtype=dtype, **_tol(dtype))

    g = _grad_out(reduction, (shape[0],), dtype)
    grad = F.cross_entropy_backward(g, logits, target, reduction, smoothing)
    want = ref.cross_entropy_backward(g, logits.astype(np.float64), target,
                                      reduction, smoothing)
    assert grad.dtype == dtype and grad.shape == shape
    assert_close(grad, want, dtype=dtype, **_tol(dtype))

    fused_loss, fused_grad = F.cross_entropy_with_grad(logits, target,
                                                       reduction, smoothing)
    assert_close(fused_loss, loss)
    ones = _grad_out(reduction, (shape[0],), dtype) * 0 + 1
    assert_close(fused_grad, F.cross_entropy_backward(
        ones, logits, target, reduction, smoothing))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extreme_logits(dtype, simd):
    logits = np.array([[1e4, -1e4, 0.0],
                       [-1e4, 1e4, 0.0],
                       [-1e4, -1e4, -1e4],
                       [1e4, 1e4, -1e4]], dtype)
    target = np.array([0, 0, 2, 1])
    loss = F.cross_entropy(logits, target, "none")
    assert_close(loss, [0.0, 2e4, np.log(3), np.log(2)], dtype=dtype)
    grad = F.cross_entropy_backward(np.ones(4, dtype), logits, target, "none")
    assert np.isfinite(grad).all()
    assert_close(grad, [[0, 0, 0], [-1, 1, 0], [1 / 3, 1 / 3, -2 / 3],
                        [0.5, -0.5, 0]], dtype=dtype)
    smooth = F.cross_entropy(logits, target, "none", label_smoothing=0.3)
    assert_close(smooth, ref.cross_entropy(logits.astype(np.float64), target,
                                           "none", 0.3), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_nan_stays_in_its_row(dtype, simd):
    logits = np.array([[0.0, np.nan], [0.0, 0.0], [np.inf, 0.0]], dtype)
    loss, grad = F.cross_entropy_with_grad(logits, np.array([0, 0, 1]),
                                           "none")
    assert np.isnan(loss[0]) and np.isnan(grad[0]).all()
    assert np.isnan(loss[2]) and np.isnan(grad[2]).all()
    assert_close(loss[1], np.log(2), dtype=dtype)
    assert np.isnan(float(F.cross_entropy(logits, np.array([0, 0, 1]))))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reduced_loss_does_not_depend_on_threads(reduction):
    logits, target = _logits((300, 150), np.float32)
    values, before = [], cnnc.get_num_threads()
    try:
        for n in (1, 2):
            cnnc.set_num_threads(n)
            values.append(F.cross_entropy_with_grad(logits, target,
                                                    reduction))
            values.append(F.mse_loss(logits, logits[::-1], reduction))
    finally:
        cnnc.set_num_threads(before)
    np.testing.assert_array_equal(values[0][0], values[2][0])
    np.testing.assert_array_equal(values[0][1], values[2][1])
    np.testing.assert_array_equal(values[1], values[3])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_gradient_by_central_differences(reduction, smoothing):
    logits, target = _logits((4, 5), np.float64, seed=7)
    g = _grad_out(reduction, (4,), np.float64)

    def objective():
        return float(np.sum(F.cross_entropy(logits, target, reduction,
                                             smoothing) * g))

    analytic = F.cross_entropy_backward(g, logits, target, reduction,
                                        smoothing)
    numeric = numerical_grad(objective, logits)
    assert rel_error(analytic, numeric) < GRADCHECK_TOL


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_pytorch(torch, dtype, reduction, smoothing):
    logits, target = _logits((37, 11), dtype, seed=3)
    t_logits = torch.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(
        t_logits, torch.tensor(target), reduction=reduction,
        label_smoothing=smoothing)
    g = _grad_out(reduction, (37,), dtype)
    t_loss.backward(torch.tensor(g, dtype=t_loss.dtype))
    assert_close(F.cross_entropy(logits, target, reduction, smoothing),
                 t_loss.detach().numpy(), **_tol(dtype))
    assert_close(F.cross_entropy_backward(g, logits, target, reduction,
                                          smoothing),
                 t_logits.grad.numpy(), **_tol(dtype))


# --------------------------------------------------------------------------
# Negative log-likelihood
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_matches_reference(shape, dtype, reduction, threads):
    logits, target = _logits(shape, dtype)
    log_probs = (logits - np.log(np.exp(logits).sum(1, keepdims=True))
                 ).astype(dtype)
    loss = F.nll_loss(log_probs, target, reduction)
    assert_close(loss, ref.nll_loss(log_probs, target, reduction),
                 **_tol(dtype))
    g = _grad_out(reduction, (shape[0],), dtype)
    assert_close(F.nll_loss_backward(g, log_probs, target, reduction),
                 ref.nll_loss_backward(g, log_probs, target, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_gradient_by_central_differences(reduction):
    log_probs, target = _logits((5, 4), np.float64, seed=2)
    g = _grad_out(reduction, (5,), np.float64)

    def objective():
        return float(np.sum(F.nll_loss(log_probs, target, reduction) * g))

    analytic = F.nll_loss_backward(g, log_probs, target, reduction)
    assert rel_error(analytic, numerical_grad(objective, log_probs)) \
        < GRADCHECK_TOL


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_matches_pytorch(torch, dtype, reduction):
    logits, target = _logits((23, 6), dtype, seed=4)
    t_in = torch.tensor(logits, requires_grad=True)
    t_loss = torch.nn.functional.nll_loss(t_in, torch.tensor(target),
                                          reduction=reduction)
    g = _grad_out(reduction, (23,), dtype)
    t_loss.backward(torch.tensor(g, dtype=t_loss.dtype))
    assert_close(F.nll_loss(logits, target, reduction),
                 t_loss.detach().numpy(), **_tol(dtype))
    assert_close(F.nll_loss_backward(g, logits, target, reduction),
                 t_in.grad.numpy(), **_tol(dtype))


# --------------------------------------------------------------------------
# Squared and absolute error
# --------------------------------------------------------------------------

ELEMENTWISE = {
    "mse": (F.mse_loss, F.mse_loss_backward, ref.mse_loss,
            ref.mse_loss_backward),
    "l1": (F.l1_loss, F.l1_loss_backward, ref.l1_loss,
           ref.l1_loss_backward),
}


def _pair(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(dtype),
            rng.standard_normal(shape).astype(dtype))


@pytest.mark.parametrize("kind", ELEMENTWISE)
@pytest.mark.parametrize("shape", VALUE_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_matches_reference(kind, shape, dtype, reduction,
                                       threads):
    fwd, bwd, ref_fwd, ref_bwd = ELEMENTWISE[kind]
    pred, target = _pair(shape, dtype)
    target.reshape(-1)[:1] = pred.reshape(-1)[:1]   # one exact match: sign 0
    loss = fwd(pred, target, reduction)
    assert loss.dtype == dtype
    assert loss.shape == (shape if reduction == "none" else ())
    size = int(np.prod(shape))
    assert_close(loss, ref_fwd(pred.astype(np.float64), target, reduction),
                 dtype=dtype, **_tol(dtype, size))
    g = _grad_out(reduction, shape, dtype)
    grad = bwd(g, pred, target, reduction)
    assert grad.shape == shape and grad.dtype == dtype
    assert_close(grad, ref_bwd(g, pred, target, reduction), **_tol(dtype))


@pytest.mark.parametrize("kind", ELEMENTWISE)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_gradient_by_central_differences(kind, reduction):
    fwd, bwd, _, _ = ELEMENTWISE[kind]
    pred, target = _pair((3, 4), np.float64, seed=5)
    g = _grad_out(reduction, (3, 4), np.float64)

    def objective():
        return float(np.sum(fwd(pred, target, reduction) * g))

    analytic = bwd(g, pred, target, reduction)
    assert rel_error(analytic, numerical_grad(objective, pred)) \
        < GRADCHECK_TOL


@pytest.mark.parametrize("kind", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_matches_pytorch(torch, kind, dtype, reduction):
    fwd, bwd, _, _ = ELEMENTWISE[kind]
    t_fn = {"mse": torch.nn.functional.mse_loss,
            "l1": torch.nn.functional.l1_loss}[kind]
    pred, target = _pair((9, 7), dtype, seed=6)
    t_pred = torch.tensor(pred, requires_grad=True)
    t_loss = t_fn(t_pred, torch.tensor(target), reduction=reduction)
    g = _grad_out(reduction, (9, 7), dtype)
    t_loss.backward(torch.tensor(g, dtype=t_loss.dtype))
    assert_close(fwd(pred, target, reduction), t_loss.detach().numpy(),
                 **_tol(dtype))
    assert_close(bwd(g, pred, target, reduction), t_pred.grad.numpy(),
                 **_tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_and_read_only_inputs(dtype):
    logits, target = _logits((8, 6), dtype)
    view = np.repeat(logits, 2, axis=1)[:, ::2]
    target_view = np.repeat(target, 2)[::2].astype(np.int32)
    pred_view = np.asfortranarray(logits)
    for array in (view, target_view, pred_view):
        array.flags.writeable = False
    assert_close(F.cross_entropy(view, target_view),
                 F.cross_entropy(logits, target))
    assert_close(F.cross_entropy_backward(1.0, view, target_view),
                 F.cross_entropy_backward(1.0, logits, target))
    assert_close(F.nll_loss(view, target_view), F.nll_loss(logits, target))
    other = logits[::-1].copy()
    assert_close(F.mse_loss(pred_view, other), F.mse_loss(logits, other))
    assert_close(F.l1_loss_backward(1.0, pred_view, other, "sum"),
                 F.l1_loss_backward(1.0, logits, other, "sum"))


# --------------------------------------------------------------------------
# The loss objects
# --------------------------------------------------------------------------

def test_cross_entropy_loss_object():
    logits, target = _logits((6, 4), np.float32)
    criterion = CrossEntropyLoss(label_smoothing=0.1)
    value = criterion(logits, target)
    assert isinstance(value, float)
    assert value == pytest.approx(float(F.cross_entropy(
        logits, target, label_smoothing=0.1)))
    assert_close(criterion.backward(), F.cross_entropy_backward(
        1.0, logits, target, label_smoothing=0.1))
    assert_close(criterion.backward(2.0), 2 * criterion.backward())
    assert repr(criterion) == \
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"

    per_sample = CrossEntropyLoss(reduction="none")
    losses = per_sample(logits, target)
    assert losses.shape == (6,)
    assert_close(per_sample.backward(), F.cross_entropy_backward(
        np.ones(6, np.float32), logits, target, "none"))
    g = np.arange(6, dtype=np.float32)
    assert_close(per_sample.backward(g), F.cross_entropy_backward(
        g, logits, target, "none"))


@pytest.mark.parametrize("cls", [NLLLoss, MSELoss, L1Loss])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_other_loss_objects(cls, reduction):
    logits, target = _logits((5, 3), np.float64)
    if cls is NLLLoss:
        fwd, bwd = F.nll_loss, F.nll_loss_backward
    else:
        target = logits[::-1].copy()
        fwd, bwd = ((F.mse_loss, F.mse_loss_backward) if cls is MSELoss
                    else (F.l1_loss, F.l1_loss_backward))
    criterion = cls(reduction=reduction)
    value = criterion(logits, target)
    if reduction == "none":
        assert isinstance(value, np.ndarray)
        ones = np.ones(value.shape)
        assert_close(criterion.backward(), bwd(ones, logits, target,
                                                reduction))
        assert_close(criterion.backward(2 * ones),
                     2 * criterion.backward())
    else:
        assert isinstance(value, float)
        assert value == pytest.approx(float(fwd(logits, target, reduction)))
        assert_close(criterion.backward(), bwd(1.0, logits, target,
                                                reduction))
    assert repr(criterion) == "%s(reduction=%r)" % (cls.__name__, reduction)


def test_training_step_against_pytorch(torch):
    # Linear -> CrossEntropyLoss, both directions, as a classifier trains.
    from cnnc.nn import Linear
    fc = Linear(20, 5, rng=0)
    x = np.random.default_rng(1).standard_normal((16, 20)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 5, 16)
    criterion = CrossEntropyLoss(label_smoothing=0.05)
    loss = criterion(fc(x), y)
    fc.backward(criterion.backward())

    tfc = torch.nn.Linear(20, 5)
    tfc.load_state_dict({k: torch.tensor(v)
                         for k, v in fc.state_dict().items()})
    t_loss = torch.nn.CrossEntropyLoss(label_smoothing=0.05)(
        tfc(torch.tensor(x)), torch.tensor(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-5)
    assert_close(fc.weight.grad, tfc.weight.grad.numpy())
    assert_close(fc.bias.grad, tfc.bias.grad.numpy())


@pytest.mark.parametrize("cls", [CrossEntropyLoss, NLLLoss, MSELoss, L1Loss])
def test_backward_before_forward(cls):
    with pytest.raises(RuntimeError, match=r"^%s.backward called before "
                       r"forward$" % cls.__name__):
        cls().backward()


# --------------------------------------------------------------------------
# Validation messages
# --------------------------------------------------------------------------

def test_target_out_of_range_names_the_first_bad_index():
    logits = np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match=r"^target\[1\] = 5 is not a class "
                       r"index: logits has C=5 classes, so indices must be "
                       r"in \[0, 4\]$"):
        F.cross_entropy(logits, np.array([0, 5, -1, 7]))
    with pytest.raises(ValueError, match=r"target\[2\] = -1 is not a class"):
        CrossEntropyLoss()(logits, [0, 4, -1, 2])
    with pytest.raises(ValueError, match=r"target\[0\] = 9 .* log_probs has "
                       r"C=5 classes"):
        F.nll_loss(logits, np.array([9, 0, 0, 0], np.uint8))


def test_core_refuses_out_of_range_targets():
    # The C core checks too, for callers that skip cnnc.functional.
    z = np.zeros((2, 3), np.float32)
    bad = np.array([0, 3], np.int64)
    loss = np.full(1, 42, np.float32)
    with pytest.raises(ValueError, match="cross_entropy: an argument is out "
                       "of its domain"):
        _core.cross_entropy(z, bad, 0.0, _core.REDUCTIONS["mean"], loss,
                            None, None)
    assert loss[0] == 42
    with pytest.raises(ValueError, match="nll_loss: an argument"):
        _core.nll_loss(z, bad, _core.REDUCTIONS["sum"], loss, None, None)


def test_target_dtype_and_shape():
    logits = np.zeros((3, 4))
    with pytest.raises(TypeError, match=r"target must be an integer array of "
                       r"class indices, got dtype float64 \(class "
                       r"probabilities are not supported\)"):
        F.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype bool$"):
        F.cross_entropy(logits, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"target must have shape \(N,\) = "
                       r"\(3,\), one class index per row of logits, got shape"
                       r" \(3, 4\) \(logits.shape=\(3, 4\)\)"):
        F.cross_entropy(logits, np.zeros((3, 4), np.int64))
    with pytest.raises(ValueError, match=r"got shape \(2,\)"):
        F.nll_loss(logits, np.array([0, 1]))


def test_scores_shape_and_dtype():
    with pytest.raises(ValueError, match=r"logits must be a 2-D array of "
                       r"shape \(N, C\), one row of C class scores per "
                       r"sample, got shape \(4,\)"):
        F.cross_entropy(np.zeros(4), np.array([1]))
    with pytest.raises(ValueError, match=r"log_probs must have no empty axis,"
                       r" got shape \(2, 0\)"):
        F.nll_loss(np.zeros((2, 0)), np.array([0, 0]))
    with pytest.raises(TypeError, match="logits must have dtype float32 or "
                       "float64, got int64"):
        F.cross_entropy(np.zeros((2, 3), np.int64), np.array([0, 0]))


def test_reduction_and_label_smoothing():
    logits, target = np.zeros((2, 3)), np.array([0, 1])
    with pytest.raises(ValueError, match=r"reduction must be 'none', 'mean' "
                       r"or 'sum', got 'average'"):
        F.cross_entropy(logits, target, reduction="average")
    with pytest.raises(ValueError, match="reduction must be .* got None"):
        MSELoss(reduction=None)
    with pytest.raises(ValueError, match=r"label_smoothing must be in "
                       r"\[0, 1\], got 1.5"):
        CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"got nan"):
        F.cross_entropy(logits, target, label_smoothing=float("nan"))
    with pytest.raises(TypeError, match=r"label_smoothing must be a number "
                       r"in \[0, 1\], got str '0.1'"):
        F.cross_entropy(logits, target, label_smoothing="0.1")
    with pytest.raises(TypeError, match=r"got bool True"):
        CrossEntropyLoss(label_smoothing=True)


def test_elementwise_shape_and_dtype_mismatch():
    with pytest.raises(ValueError, match=r"target must have the shape of "
                       r"pred, got target.shape=\(3, 1\) and "
                       r"pred.shape=\(3,\)"):
        F.mse_loss(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(TypeError, match="target has dtype float32 but pred "
                       "has dtype float64"):
        F.l1_loss(np.zeros(3), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"pred must not be empty, got shape "
                       r"\(0, 2\)"):
        MSELoss()(np.zeros((0, 2)), np.zeros((0, 2)))


def test_grad_out_checks():
    logits, target = np.zeros((2, 3)), np.array([0, 1])
    with pytest.raises(ValueError, match=r"grad_out must have the unreduced "
                       r"loss's shape \(2,\) for reduction='none', got shape "
                       r"\(\)"):
        F.cross_entropy_backward(1.0, logits, target, "none")
    with pytest.raises(ValueError, match=r"grad_out must be a single number "
                       r"for reduction='mean', got shape \(2,\)"):
        F.nll_loss_backward(np.ones(2), logits, target)
    with pytest.raises(TypeError, match="grad_out has dtype float32 but the "
                       "loss has dtype float64"):
        F.mse_loss_backward(np.ones(3, np.float32), np.zeros(3), np.zeros(3),
                            "none")
    criterion = L1Loss(reduction="none")
    criterion(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"unreduced loss's shape \(3,\)"):
        criterion.backward(np.ones(4))
