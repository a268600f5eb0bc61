"""cnnc.optim: optimisers, schedulers and clipping against PyTorch step for
step, by hand where PyTorch is absent, state_dict round trips, and every
validation message."""
import copy
import doctest
import json
import math

import numpy as np
import pytest

import cnnc.optim
from cnnc import optim
from cnnc.nn import Module, Parameter
from cnnc.optim import (SGD, Adam, AdamW, CosineAnnealingLR, StepLR,
                        clip_grad_norm_, clip_grad_value_)

# Parameters after each step vs PyTorch.
STEP_TOL = {
    np.dtype(np.float32): dict(rtol=1e-5, atol=1e-6),
    np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12),
}
SHAPES = [(3,), (4, 5), (2, 3, 3, 3), (1,)]
STEPS = 5

CASES = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (SGD, dict(lr=0.1, weight_decay=0.05)),
    (SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.05, nesterov=True)),
    (Adam, dict()),
    (Adam, dict(lr=0.01, weight_decay=0.1)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01,
                amsgrad=True)),
    (AdamW, dict(lr=0.01)),
    (AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (AdamW, dict(lr=0.01, weight_decay=0)),
]
CASE_IDS = ["%s-%s" % (cls.__name__, "-".join("%s=%s" % kv
                                               for kv in kw.items()) or "default")
            for cls, kw in CASES]


def _initial(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def _noise(step, dtype):
    """Gradient noise of step ``step``: a different scale every step, so
    that AMSGrad's running maximum matters."""
    rng = np.random.default_rng(100 + step)
    scale = [1.0, 0.1, 3.0, 0.5, 2.0, 0.05][step % 6]
    return [(scale * rng.standard_normal(shape)).astype(dtype)
            for shape in SHAPES]


def _set_grads(params, step):
    """grad = noise + w: the gradient of a quadratic plus noise."""
    for p, n in zip(params, _noise(step, params[0].data.dtype)):
        p.grad = n + p.data


def _groups(params, lr_scale):
    """Two groups: the first two parameters with a smaller lr."""
    return [{"params": params[:2], "lr": lr_scale},
            {"params": params[2:]}]


def _run_pair(torch, cls, kw, dtype, grouped):
    ours = [Parameter(a.copy()) for a in _initial(dtype)]
    theirs = [torch.tensor(a.copy(), requires_grad=True)
              for a in _initial(dtype)]
    lr = kw.get("lr", 1e-3)
    if grouped:
        opt = cls(_groups(ours, lr / 10), **kw)
        topt = getattr(torch.optim, cls.__name__)(
            _groups(theirs, lr / 10), **kw)
    else:
        opt = cls(ours, **kw)
        topt = getattr(torch.optim, cls.__name__)(theirs, **kw)
    for step in range(STEPS):
        _set_grads(ours, step)
        for t, n in zip(theirs, _noise(step, dtype)):
            t.grad = torch.from_numpy(n) + t.detach()
        opt.step()
        topt.step()
        for i, (p, t) in enumerate(zip(ours, theirs)):
            assert p.data.dtype == dtype
            np.testing.assert_allclose(
                p.data, t.detach().numpy(), **STEP_TOL[np.dtype(dtype)],
                err_msg="parameter %d after step %d" % (i, step + 1))
    return opt, topt


@pytest.mark.parametrize("grouped", [False, True], ids=["one_group",
                                                         "two_groups"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kw", CASES, ids=CASE_IDS)
def test_matches_torch_step_for_step(torch, cls, kw, dtype, grouped):
    opt, topt = _run_pair(torch, cls, kw, dtype, grouped)
    # The state is laid out as PyTorch's: same entries, same indices.
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for index, entry in theirs["state"].items():
        assert sorted(ours["state"][index]) == sorted(entry)
        for key, value in entry.items():
            np.testing.assert_allclose(
                ours["state"][index][key], value.numpy(),
                **STEP_TOL[np.dtype(dtype)])
    for g, tg in zip(ours["param_groups"], theirs["param_groups"]):
        assert g["params"] == tg["params"]
        for key in opt.defaults:
            assert g[key] == tg[key], key


@pytest.mark.parametrize("cls, kw", [CASES[3], CASES[9], CASES[11]],
                         ids=[CASE_IDS[3], CASE_IDS[9], CASE_IDS[11]])
def test_loads_torch_state_dict_and_continues_alike(torch, cls, kw):
    # Three PyTorch steps, its state as NumPy, then both continue.
    theirs = [torch.tensor(a, requires_grad=True)
              for a in _initial(np.float64)]
    topt = getattr(torch.optim, cls.__name__)(theirs, **kw)
    for step in range(3):
        for t, n in zip(theirs, _noise(step, np.float64)):
            t.grad = torch.from_numpy(n) + t.detach()
        topt.step()
    saved = topt.state_dict()
    state = {i: {k: (v.numpy().copy() if v.dim() else float(v))
                 for k, v in entry.items()}
             for i, entry in saved["state"].items()}
    ours = [Parameter(t.detach().numpy().copy()) for t in theirs]
    opt = cls(ours, **kw)
    opt.load_state_dict({"state": state,
                         "param_groups": saved["param_groups"]})
    for step in range(3, 6):
        _set_grads(ours, step)
        for t, n in zip(theirs, _noise(step, np.float64)):
            t.grad = torch.from_numpy(n) + t.detach()
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(),
                                   **STEP_TOL[np.dtype(np.float64)])


# -- without PyTorch ----------------------------------------------------------

def test_sgd_by_hand():
    # lr 0.1, momentum 0.9, weight decay 0.1, gradient of the error 0.5:
    # step 1: d = 0.5 + 0.1 w = (0.6, 0.3); v = d;        w -= 0.1 v
    # step 2: d = 0.5 + 0.1 w = (0.594, 0.297); v = 0.9 v + d = (1.134, 0.567)
    w = Parameter(np.array([1.0, -2.0]))
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1)
    w.grad = np.array([0.5, 0.5])
    opt.step()
    np.testing.assert_allclose(w.data, [0.94, -2.03], rtol=1e-14)
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"], [0.6, 0.3],
                               rtol=1e-14)
    opt.step()
    np.testing.assert_allclose(opt.state[w]["momentum_buffer"],
                               [1.134, 0.567], rtol=1e-14)
    np.testing.assert_allclose(w.data, [0.8266, -2.0867], rtol=1e-14)
    np.testing.assert_array_equal(w.grad, [0.5, 0.5])   # grad untouched


def test_sgd_nesterov_and_dampening_by_hand():
    w = Parameter(np.array([1.0]))
    opt = SGD([w], lr=0.5, momentum=0.5, nesterov=True)
    w.grad = np.array([2.0])
    opt.step()                      # v = 2; w -= 0.5 * (2 + 0.5 * 2)
    np.testing.assert_allclose(w.data, [-0.5])
    opt.step()                      # v = 0.5 * 2 + 2 = 3; w -= 0.5 * (2 + 1.5)
    np.testing.assert_allclose(w.data, [-2.25])

    w = Parameter(np.array([0.0]))
    opt = SGD([w], lr=1.0, momentum=0.5, dampening=0.25)
    w.grad = np.array([4.0])
    opt.step()                      # v = 4 (no dampening on the first step)
    opt.step()                      # v = 0.5 * 4 + 0.75 * 4 = 5
    np.testing.assert_allclose(w.data, [-9.0])


def test_weight_decay_is_the_l2_penalty():
    # weight_decay = lambda on L equals plain SGD on L + lambda/2 ||w||^2.
    lam, rng = 0.03, np.random.default_rng(0)
    start = rng.standard_normal(10)
    a, b = Parameter(start.copy()), Parameter(start.copy())
    opt_a = SGD([a], lr=0.1, momentum=0.9, weight_decay=lam)
    opt_b = SGD([b], lr=0.1, momentum=0.9)
    for _ in range(5):
        grad = rng.standard_normal(10)
        a.grad = grad.copy()
        b.grad = grad + lam * b.data
        opt_a.step()
        opt_b.step()
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def _adam_textbook(w, grads, lr, beta1, beta2, eps, amsgrad=False,
                   l2=0.0, decoupled=0.0):
    """Kingma and Ba's algorithm as written in the paper."""
    w = w.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    v_max = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w * (1 - lr * decoupled)
        g = g + l2 * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1 ** t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_adam_matches_the_paper(cls, amsgrad):
    rng = np.random.default_rng(1)
    start = rng.standard_normal(7)
    grads = [s * rng.standard_normal(7) for s in (1.0, 0.1, 3.0, 0.5)]
    w = Parameter(start.copy())
    opt = cls([w], lr=0.05, betas=(0.8, 0.95), eps=1e-7, weight_decay=0.1,
              amsgrad=amsgrad)
    for g in grads:
        w.grad = g.copy()
        opt.step()
    decay = dict(decoupled=0.1) if cls is AdamW else dict(l2=0.1)
    want = _adam_textbook(start, grads, 0.05, 0.8, 0.95, 1e-7, amsgrad,
                          **decay)
    np.testing.assert_allclose(w.data, want, rtol=1e-12)
    assert opt.state[w]["step"] == 4


@pytest.mark.parametrize("cls, kw", CASES, ids=CASE_IDS)
def test_frozen_and_gradless_parameters_are_untouched(cls, kw):
    live = Parameter(np.ones(3))
    frozen = Parameter(np.ones(3), requires_grad=False)
    unused = Parameter(np.ones(3))
    opt = cls([live, frozen, unused], **kw)
    live.grad = np.full(3, 0.5)
    frozen.grad = np.full(3, 0.5)     # a stale gradient on a frozen weight
    for _ in range(3):
        opt.step()
    assert not np.array_equal(live.data, np.ones(3))
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    np.testing.assert_array_equal(unused.data, np.ones(3))
    assert frozen not in opt.state and unused not in opt.state
    np.testing.assert_array_equal(live.grad, np.full(3, 0.5))


def test_zero_grad():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = SGD([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_closure_and_generator_params():
    class Tiny(Module):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([3.0]))

    model = Tiny()
    opt = SGD(model.parameters(), lr=0.25)

    def closure():
        model.w.grad = 2 * model.w.data      # d/dw of w^2
        return float(model.w.data[0] ** 2)

    assert opt.step(closure) == 9.0
    np.testing.assert_allclose(model.w.data, [1.5])


def test_scratch_is_shared_and_steps_allocate_no_state_for_sgd():
    params = [Parameter(np.ones(s)) for s in [(5,), (2, 3), (40,)]]
    opt = SGD(params, lr=0.1, weight_decay=0.1, momentum=0.9, nesterov=True)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    # One flat scratch buffer per dtype, sized for the largest parameter.
    assert list(opt._work_buffers) == [np.dtype(np.float64)]
    assert opt._work_buffers[np.dtype(np.float64)].size == 2 * 40
    np.testing.assert_allclose(params[2].data, 1 - 0.1 * (1.1 + 0.9 * 1.1))


def test_add_param_group_and_options():
    enc, head = Parameter(np.zeros(3)), Parameter(np.zeros(2))
    opt = Adam([enc], lr=1e-4)
    opt.add_param_group({"params": head, "lr": 1e-2, "name": "classifier"})
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-2]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["name"] == "classifier"
    assert "group 1: 1 parameter(s)" in repr(opt)


def test_float32_state_stays_float32():
    w = Parameter(np.ones(4, np.float32))
    opt = Adam([w], amsgrad=True)
    w.grad = np.ones(4, np.float32)
    opt.step()
    assert w.data.dtype == np.float32
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert opt.state[w][key].dtype == np.float32


# -- state_dict ----------------------------------------------------------------

def _plain(value):
    """True when value is made of dicts, lists, tuples, numbers, strings
    and arrays only."""
    if isinstance(value, dict):
        return all(isinstance(k, (int, str)) and _plain(v)
                   for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, (int, float, str, bool, np.ndarray))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kw", CASES, ids=CASE_IDS)
def test_state_dict_round_trip_resumes_exactly(cls, kw, dtype):
    lr = kw.get("lr", 1e-3)
    straight = [Parameter(a) for a in _initial(dtype)]
    opt = cls(_groups(straight, lr / 10), **kw)
    for step in range(6):
        _set_grads(straight, step)
        opt.step()

    first = [Parameter(a) for a in _initial(dtype)]
    opt = cls(_groups(first, lr / 10), **kw)
    for step in range(3):
        _set_grads(first, step)
        opt.step()
    saved = opt.state_dict()
    at_save = [p.data.copy() for p in first]
    assert _plain(saved)
    snapshot = copy.deepcopy(saved)
    _set_grads(first, 3)
    opt.step()                          # the saved dict holds copies
    for i, entry in snapshot["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(saved["state"][i][key], value)

    # A fresh optimiser with other options takes the saved ones.
    fresh = [Parameter(a) for a in at_save]
    opt = cls(_groups(fresh, 123.0), **dict(kw, lr=456.0))
    opt.load_state_dict(saved)
    assert [g["lr"] for g in opt.param_groups] == [lr / 10, lr]
    for step in range(3, 6):
        _set_grads(fresh, step)
        opt.step()
    for p, q in zip(fresh, straight):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_survives_json_keys_and_lists():
    w = Parameter(np.ones(3))
    opt = Adam([w], lr=0.1)
    w.grad = np.ones(3)
    opt.step()
    saved = opt.state_dict()
    # As after JSON: string keys, lists for tuples and arrays.
    text = json.dumps({"state": {k: {n: (v.tolist() if hasattr(v, "tolist")
                                         else v) for n, v in e.items()}
                                 for k, e in saved["state"].items()},
                       "param_groups": saved["param_groups"]})
    w2 = Parameter(w.data.copy())
    opt2 = Adam([w2])
    opt2.load_state_dict(json.loads(text))
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt2.state[w2]["step"] == 1
    w.grad = w2.grad = np.ones(3)
    opt.step()
    opt2.step()
    np.testing.assert_array_equal(w.data, w2.data)


# -- schedulers -----------------------------------------------------------------

SCHEDULERS = [
    (StepLR, dict(step_size=3, gamma=0.5)),
    (StepLR, dict(step_size=1)),
    (CosineAnnealingLR, dict(T_max=5, eta_min=0.01)),
    (CosineAnnealingLR, dict(T_max=1)),
    (CosineAnnealingLR, dict(T_max=4)),
]


def _lr_sequence(make_opt, sched_cls, kw, epochs, step_opt=None):
    opt = make_opt()
    sched = sched_cls(opt, **kw)
    lrs = [sched.get_last_lr()]
    for _ in range(epochs):
        if step_opt:
            step_opt(opt)
        sched.step()
        lrs.append(sched.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return np.array(lrs)


@pytest.mark.parametrize("cls, kw", SCHEDULERS,
                         ids=["%s-%s" % (c.__name__, k) for c, k in SCHEDULERS])
def test_scheduler_matches_torch(torch, cls, kw):
    def ours():
        return SGD([{"params": [Parameter(np.zeros(1))], "lr": 0.1},
                    {"params": [Parameter(np.zeros(1))]}], lr=0.7)

    def theirs():
        return torch.optim.SGD(
            [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
             {"params": [torch.zeros(1, requires_grad=True)]}], lr=0.7)

    tcls = getattr(torch.optim.lr_scheduler, cls.__name__)
    got = _lr_sequence(ours, cls, kw, 17)
    want = _lr_sequence(theirs, tcls, kw, 17, step_opt=lambda o: o.step())
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_schedulers_closed_forms():
    opt = SGD([Parameter(np.zeros(1))], lr=2.0)
    got = _lr_sequence(lambda: opt, StepLR, dict(step_size=4, gamma=0.3), 12)
    want = [2.0 * 0.3 ** (t // 4) for t in range(13)]
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-14)

    opt = SGD([Parameter(np.zeros(1))], lr=2.0)
    got = _lr_sequence(lambda: opt, CosineAnnealingLR,
                       dict(T_max=6, eta_min=0.1), 20)
    t = np.arange(21)
    want = 0.1 + (2.0 - 0.1) * (1 + np.cos(np.pi * t / 6)) / 2
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls, kw", [SCHEDULERS[0], SCHEDULERS[2]],
                         ids=["StepLR", "CosineAnnealingLR"])
def test_scheduler_state_dict_round_trip(cls, kw):
    opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = cls(opt, **kw)
    for _ in range(4):
        sched.step()
    saved = sched.state_dict()
    assert _plain(saved) and saved["last_epoch"] == 4
    opt_saved = opt.state_dict()
    rest = []
    for _ in range(6):
        sched.step()
        rest.append(sched.get_last_lr())

    opt2 = SGD([Parameter(np.zeros(1))], lr=1.0)
    sched2 = cls(opt2, **{k: v for k, v in kw.items()})
    opt2.load_state_dict(opt_saved)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == saved["last_lr"]
    again = []
    for _ in range(6):
        sched2.step()
        again.append(sched2.get_last_lr())
    assert again == rest
    assert repr(sched2).startswith(cls.__name__)


# -- clipping ---------------------------------------------------------------------

def _grads(dtype, scale):
    rng = np.random.default_rng(5)
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, dtype, norm_type, max_norm):
    grads = _grads(dtype, 2.0)
    ours = [Parameter(np.zeros_like(g)) for g in grads]
    for p, g in zip(ours, grads):
        p.grad = g.copy()
    ours.append(Parameter(np.zeros(2, dtype)))          # grad None: ignored
    theirs = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name),
                          requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, float)
    tol = STEP_TOL[np.dtype(dtype)]
    np.testing.assert_allclose(total, float(ttotal), **tol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), **tol)
    if max_norm < total:
        assert (float(norm_type) == math.inf
                or max_norm == pytest.approx(clip_grad_norm_(ours, 1e9,
                                                              norm_type),
                                             rel=1e-4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_value_matches_torch(torch, dtype):
    grads = _grads(dtype, 2.0)
    ours = [Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=getattr(torch, np.dtype(dtype).name))
              for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad = g.copy()
        t.grad = torch.from_numpy(g.copy())
    assert clip_grad_value_(ours, 0.75) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.75)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_clipping_by_hand():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([-4.0])
    assert clip_grad_norm_([a, b], 10.0) == 5.0          # below: unchanged
    np.testing.assert_array_equal(a.grad, [3.0, 0.0])
    assert clip_grad_norm_(iter([a, b]), 2.5) == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]),
                               np.array([3.0, 0.0, -4.0]) * 2.5 / (5 + 1e-6))
    # Now (1.5, 0, -2) up to the 1e-6: an L1 norm of 3.5.
    assert clip_grad_norm_([a, b], 1.0, norm_type=1) == pytest.approx(3.5)
    assert clip_grad_norm_(Parameter(np.zeros(1)), 1.0) == 0.0   # no grads
    before = a.grad.copy()
    assert clip_grad_norm_([a, b], math.inf) == pytest.approx(
        np.sqrt(np.sum(a.grad ** 2) + np.sum(b.grad ** 2)))  # measures only
    np.testing.assert_array_equal(a.grad, before)
    b.grad = np.array([np.inf])
    with pytest.raises(RuntimeError, match="gradients have exploded"):
        clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([a, b], 1.0) == math.inf
    assert np.isnan(b.grad[0])                            # as PyTorch
    w = Parameter(np.zeros(3))
    w.grad = np.array([-2.0, 0.1, 7.0])
    clip_grad_value_([w], 1.0)
    np.testing.assert_array_equal(w.grad, [-1.0, 0.1, 1.0])


# -- validation messages -------------------------------------------------------

def _p():
    return Parameter(np.zeros(3))


@pytest.mark.parametrize("make, error, match", [
    (lambda: SGD([_p()], lr=-0.1), ValueError,
     r"lr must be a finite number >= 0, got -0.1"),
    (lambda: SGD([_p()], lr=float("nan")), ValueError,
     r"lr must be a finite number >= 0, got nan"),
    (lambda: Adam([_p()], lr=float("inf")), ValueError,
     r"lr must be a finite number >= 0, got inf"),
    (lambda: SGD([_p()], lr="0.1"), TypeError,
     r"lr must be a real number, got str '0.1'"),
    (lambda: SGD([_p()], lr=0.1, momentum=-0.5), ValueError,
     r"momentum must be a finite number >= 0, got -0.5"),
    (lambda: SGD([_p()], lr=0.1, dampening=1.5), ValueError,
     r"dampening must be a finite number in \[0, 1\], got 1.5"),
    (lambda: SGD([_p()], lr=0.1, weight_decay=-1), ValueError,
     r"weight_decay must be a finite number >= 0, got -1"),
    (lambda: SGD([_p()], lr=0.1, nesterov=True), ValueError,
     r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.0"),
    (lambda: SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     ValueError, r"nesterov=True needs .* dampening=0.1"),
    (lambda: SGD([_p()], lr=0.1, nesterov="yes"), TypeError,
     r"nesterov must be True or False, got 'yes'"),
    (lambda: Adam([_p()], betas=(1.0, 0.999)), ValueError,
     r"betas\[0\] must be a finite number in \[0, 1\), got 1.0"),
    (lambda: Adam([_p()], betas=(0.9, -0.1)), ValueError,
     r"betas\[1\] must be a finite number in \[0, 1\), got -0.1"),
    (lambda: AdamW([_p()], betas=(0.9, 0.99, 0.1)), ValueError,
     r"betas must be a pair \(beta1, beta2\), got \(0.9, 0.99, 0.1\)"),
    (lambda: Adam([_p()], betas=0.9), ValueError,
     r"betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda: Adam([_p()], eps=0), ValueError,
     r"eps must be a finite number > 0, got 0"),
    (lambda: AdamW([_p()], eps=-1e-8), ValueError,
     r"eps must be a finite number > 0, got -1e-08"),
    (lambda: Adam([_p()], weight_decay=-0.1), ValueError,
     r"weight_decay must be a finite number >= 0, got -0.1"),
    (lambda: Adam([_p()], amsgrad=1), TypeError,
     r"amsgrad must be True or False, got 1"),
    (lambda: SGD([], lr=0.1), ValueError,
     r"params is empty: the optimizer was given no parameters"),
    (lambda: SGD(_p(), lr=0.1), TypeError,
     r"got a single Parameter; wrap it in a list"),
    (lambda: SGD(Module(), lr=0.1), TypeError,
     r"got a Module; pass model.parameters\(\)"),
    (lambda: SGD(3, lr=0.1), TypeError,
     r"params must be an iterable of Parameters or of dicts, got int"),
    (lambda: SGD([_p(), np.zeros(3)], lr=0.1), TypeError,
     r"param_group\['params'\]\[1\] must be a cnnc.nn.Parameter, got ndarray"),
    (lambda: SGD([_p(), {"params": [_p()]}], lr=0.1), TypeError,
     r"only Parameters or only dicts"),
    (lambda: SGD([{"lr": 0.1}], lr=0.1), ValueError,
     r"param_group must have a 'params' entry, got keys \['lr'\]"),
    (lambda: SGD([{"params": []}], lr=0.1), ValueError,
     r"param_group\['params'\] is empty \(parameter group 0\)"),
    (lambda: SGD([{"params": [_p()], "learning_rate": 0.1}], lr=0.1),
     ValueError, r"unknown option\(s\) \['learning_rate'\]; SGD accepts"),
    (lambda: SGD([{"params": [_p()], "lr": -2}], lr=0.1), ValueError,
     r"lr must be a finite number >= 0, got -2 \(parameter group 0\)"),
])
def test_validation_messages(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_parameter_in_two_groups():
    shared = _p()
    with pytest.raises(ValueError, match=r"a parameter appears in more than "
                       r"one parameter group \(groups 0 and 1\)"):
        SGD([{"params": [shared, _p()]}, {"params": [shared]}], lr=0.1)
    opt = Adam([shared])
    with pytest.raises(ValueError, match=r"more than one parameter group"):
        opt.add_param_group({"params": shared})
    with pytest.raises(ValueError, match=r"lists a parameter more than once"):
        Adam([shared, shared])
    with pytest.raises(TypeError, match=r"param_group must be a dict"):
        opt.add_param_group([shared])


def test_step_rejects_a_gradient_of_the_wrong_shape():
    w = _p()
    w.grad = np.zeros(4)
    with pytest.raises(ValueError, match=r"parameter 0 has a grad of shape "
                       r"\(4,\) but data of shape \(3,\)"):
        SGD([w], lr=0.1).step()


def _trained(cls=Adam, shapes=((3,), (2, 2)), groups=1, **kw):
    params = [Parameter(np.ones(s)) for s in shapes]
    if groups == 2:
        opt = cls([{"params": params[:1]}, {"params": params[1:]}], **kw)
    else:
        opt = cls(params, **kw)
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    return opt


def test_bad_state_dicts():
    saved = _trained().state_dict()
    with pytest.raises(ValueError, match=r"state_dict has 1 parameter "
                       r"group\(s\) but this Adam has 2"):
        _trained(groups=2).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"parameter group 0 of state_dict "
                       r"has 2 parameter\(s\) but group 0 of this Adam has 3"):
        _trained(shapes=((3,), (2, 2), (1,))).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state of parameter 1: 'exp_avg' "
                       r"has shape \(2, 2\) but the parameter has shape "
                       r"\(4,\)"):
        _trained(shapes=((3,), (4,))).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"state of parameter 0 holds "
                       r"\['exp_avg', 'exp_avg_sq', 'step'\], which SGD does "
                       r"not use"):
        sgd = _trained(SGD, lr=0.1, momentum=0.9)
        sgd.load_state_dict({"state": saved["state"],
                             "param_groups": sgd.state_dict()["param_groups"]})
    with pytest.raises(ValueError, match=r"must be a dict with keys 'state' "
                       r"and 'param_groups'"):
        _trained().load_state_dict({"state": {}})
    broken = copy.deepcopy(saved)
    del broken["state"][0]["exp_avg_sq"]
    with pytest.raises(ValueError, match=r"state of parameter 0 lacks "
                       r"\['exp_avg_sq'\], which Adam needs"):
        _trained().load_state_dict(broken)
    broken = copy.deepcopy(saved)
    del broken["param_groups"][0]["betas"]
    with pytest.raises(ValueError, match=r"parameter group 0 of state_dict "
                       r"lacks the option\(s\) \['betas'\]"):
        _trained().load_state_dict(broken)
    broken = copy.deepcopy(saved)
    broken["param_groups"][0]["eps"] = 0.0
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0, "
                       r"got 0.0 \(parameter group 0 of state_dict\)"):
        _trained().load_state_dict(broken)
    broken = copy.deepcopy(saved)
    broken["state"][7] = broken["state"][0]
    with pytest.raises(ValueError, match=r"an entry for parameter 7, which "
                       r"no parameter group of state_dict lists"):
        _trained().load_state_dict(broken)
    broken = copy.deepcopy(saved)
    broken["state"][0]["step"] = -1
    with pytest.raises(ValueError, match=r"'step' must be a non-negative "
                       r"whole number, got -1"):
        _trained().load_state_dict(broken)
    # A failed load changes nothing.
    opt = _trained()
    before = opt.state_dict()
    with pytest.raises(ValueError):
        opt.load_state_dict(broken)
    after = opt.state_dict()
    assert after["state"][0]["step"] == before["state"][0]["step"] == 1


@pytest.mark.parametrize("make, error, match", [
    (lambda o: StepLR(o, step_size=0), ValueError, r"step_size must be >= 1"),
    (lambda o: StepLR(o, step_size=2.5), TypeError, r"step_size must be an int"),
    (lambda o: StepLR(o, 2, gamma=0), ValueError,
     r"gamma must be a finite number > 0, got 0"),
    (lambda o: CosineAnnealingLR(o, T_max=0), ValueError,
     r"T_max must be >= 1, got 0"),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=-0.1), ValueError,
     r"eta_min must be a finite number >= 0, got -0.1"),
    (lambda o: StepLR("sgd", 2), TypeError,
     r"optimizer must be a cnnc.optim.Optimizer, got str"),
    (lambda o: StepLR(o, 2).load_state_dict({"last_epoch": 3}), ValueError,
     r"state_dict lacks \['base_lrs', 'last_lr', 'step_size', 'gamma'\]"),
    (lambda o: StepLR(o, 2).load_state_dict(
        dict(StepLR(o, 2).state_dict(), base_lrs=[0.1, 0.2])), ValueError,
     r"state_dict\['base_lrs'\] has 2 value\(s\) but the optimizer has 1 "
     r"parameter group\(s\)"),
    (lambda o: CosineAnnealingLR(o, 3).load_state_dict(
        dict(CosineAnnealingLR(o, 3).state_dict(), T_max=-1)), ValueError,
     r"T_max must be >= 1, got -1"),
])
def test_scheduler_validation_messages(make, error, match):
    opt = SGD([_p()], lr=0.1)
    with pytest.raises(error, match=match):
        make(opt)


def test_scheduler_notices_a_later_group():
    opt = SGD([_p()], lr=0.1)
    sched = StepLR(opt, 1)
    opt.add_param_group({"params": [_p()]})
    with pytest.raises(ValueError, match=r"the optimizer has 2 parameter "
                       r"group\(s\) but this StepLR was made for 1"):
        sched.step()


@pytest.mark.parametrize("call, error, match", [
    (lambda ps: clip_grad_norm_(ps, -1.0), ValueError,
     r"max_norm must be a finite number >= 0, got -1.0"),
    (lambda ps: clip_grad_norm_(ps, float("nan")), ValueError,
     r"max_norm must be a finite number >= 0, got nan"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), ValueError,
     r"norm_type must be > 0 \(or inf\), got 0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="two"), TypeError,
     r"norm_type must be a number or 'inf', got 'two'"),
    (lambda ps: clip_grad_value_(ps, -0.5), ValueError,
     r"clip_value must be a finite number >= 0, got -0.5"),
    (lambda ps: clip_grad_value_([np.zeros(3)], 1.0), TypeError,
     r"parameters\[0\] must be a cnnc.nn.Parameter, got ndarray"),
    (lambda ps: clip_grad_norm_(Module(), 1.0), TypeError,
     r"got a Module; pass model.parameters\(\)"),
])
def test_clip_validation_messages(call, error, match):
    with pytest.raises(error, match=match):
        call([_p()])


def test_docstring_examples_run():
    modules = [cnnc.optim, cnnc.optim.optimizer, cnnc.optim.sgd,
               cnnc.optim.adam, cnnc.optim.lr_scheduler, cnnc.optim.clip]
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert optim.__all__


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.5, momentum=0.9, weight_decay=1e-4),
    lambda ps: Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: AdamW(ps, lr=0.05),
], ids=["SGD", "Adam", "AdamW"])
def test_trains_a_linear_classifier(make):
    # The lecture's loop on three separable blobs: initialise, forward,
    # error, backward, clip, step; the error falls and accuracy is high.
    from cnnc import init
    from cnnc.losses import CrossEntropyLoss
    from cnnc.nn import Linear

    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = rng.integers(0, 3, 300)
    x = (centres[y] + 0.4 * rng.standard_normal((300, 2))).astype(np.float32)
    model = Linear(2, 3, rng=0)
    init.xavier_uniform_(model.weight, rng=1)
    init.zeros_(model.bias)
    criterion = CrossEntropyLoss()
    opt = make(model.parameters())
    sched = StepLR(opt, step_size=20, gamma=0.5)
    losses = []
    for epoch in range(40):
        opt.zero_grad()
        losses.append(criterion(model(x), y))
        model.backward(criterion.backward())
        clip_grad_norm_(model.parameters(), max_norm=5.0)
        opt.step()
        sched.step()
    accuracy = np.mean(np.argmax(model(x), axis=1) == y)
    assert losses[-1] < 0.25 * losses[0]
    assert accuracy > 0.95
