"""conv2d: the C core against the NumPy reference, PyTorch and finite
differences, and every validation message."""
import numpy as np
import pytest

import cnnc
from cnnc import functional as F
from cnnc import reference as R
from cnnc.nn import Conv2d
from conftest import GRADCHECK_TOL, assert_close, numerical_grad, rel_error

# (N, C, H, W, K, R, S, stride, padding, dilation, groups)
SWEEP = [
    (2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1),          # odd sizes
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),          # batch 1, 1x1 image
    (2, 4, 1, 6, 3, 1, 3, 1, (0, 1), 1, 1),     # H of 1
    (2, 4, 6, 1, 3, 3, 1, 1, (1, 0), 1, 1),     # W of 1
    (2, 7, 8, 8, 13, 3, 3, 2, 1, 1, 1),         # channels not a SIMD width
    (1, 2, 3, 3, 2, 5, 5, 1, 1, 1, 1),          # kernel as large as input
    (2, 3, 5, 5, 4, 7, 7, 1, 1, 1, 1),          # kernel larger than input
    (2, 4, 9, 10, 6, 3, 2, (2, 1), (0, 2), (1, 2), 2),  # per-axis, groups
    (2, 6, 7, 7, 6, 3, 3, 2, 1, 1, 6),          # depthwise
    (3, 17, 6, 6, 19, 1, 1, 1, 0, 1, 1),        # pointwise
    (2, 8, 9, 9, 16, 1, 1, 2, 0, 1, 1),         # 1x1 with stride
    (2, 3, 11, 13, 8, 3, 3, 3, 2, 2, 1),        # stride 3 and dilation 2
    (2, 5, 20, 37, 22, 3, 3, 1, 1, 1, 1),       # rows longer than a tile
    (1, 4, 12, 12, 8, 4, 4, 1, 5, 1, 1),        # padding beyond dil*(R-1)
    (2, 6, 8, 8, 9, 2, 2, 2, 0, 1, 3),          # even kernel, groups 3
]


def _case(shape, dtype, seed=0):
    n, c, h, w, k, r, s, stride, pad, dil, groups = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((k, c // groups, r, s)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    return x, wt, b, dict(stride=stride, padding=pad, dilation=dil,
                          groups=groups)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SWEEP, ids=[str(s) for s in SWEEP])
def test_forward_and_backward_match_reference(shape, dtype, simd, threads):
    x, w, b, kw = _case(shape, dtype)
    y = F.conv2d(x, w, b, **kw)
    assert y.dtype == dtype and y.flags.c_contiguous
    assert_close(y, R.conv2d(x, w, b, **kw))

    dy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    got = F.conv2d_backward(dy, x, w, **kw)
    want = R.conv2d_backward(dy, x, w, **kw)
    for name, g, r in zip(("grad_x", "grad_weight", "grad_bias"), got, want):
        assert g.shape == r.shape, name
        assert_close(g, r, err_msg=name)


def test_larger_float32_case_matches_reference(threads):
    x, w, b, kw = _case((4, 16, 30, 30, 24, 3, 3, 1, 1, 1, 1), np.float32)
    y = F.conv2d(x, w, b, **kw)
    assert_close(y, R.conv2d(x, w, b, **kw), rtol=2e-4, atol=1e-4)
    dy = np.ones_like(y)
    for g, r in zip(F.conv2d_backward(dy, x, w, **kw),
                    R.conv2d_backward(dy, x, w, **kw)):
        assert_close(g, r, rtol=2e-4, atol=2e-3)


def test_no_bias_and_skipped_gradients():
    x, w, _, kw = _case(SWEEP[0], np.float64)
    y = F.conv2d(x, w, None, **kw)
    assert_close(y, R.conv2d(x, w, None, **kw))
    dx, dw, db = F.conv2d_backward(np.ones_like(y), x, w, bias=False,
                                   needs_weight_grad=False, **kw)
    assert dw is None and db is None
    assert_close(dx, R.conv2d_backward(np.ones_like(y), x, w, **kw)[0])
    dx, dw, db = F.conv2d_backward(np.ones_like(y), x, w,
                                   needs_input_grad=False, **kw)
    assert dx is None and dw.shape == w.shape and db.shape == (w.shape[0],)


def test_thread_count_changes_only_rounding():
    x, w, b, kw = _case((8, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1), np.float32)
    before = cnnc.get_num_threads()
    try:
        cnnc.set_num_threads(1)
        one = [F.conv2d(x, w, b, **kw)]
        one += list(F.conv2d_backward(one[0], x, w, **kw))
        cnnc.set_num_threads(2)
        two = [F.conv2d(x, w, b, **kw)]
        two += list(F.conv2d_backward(two[0], x, w, **kw))
    finally:
        cnnc.set_num_threads(before)
    for a, c in zip(one, two):
        assert_close(a, c, rtol=1e-5, atol=1e-4)


def test_simd_paths_agree():
    x, w, b, kw = _case((3, 9, 13, 15, 11, 3, 3, 1, 1, 1, 1), np.float32)
    results = {}
    for path in ("scalar", "auto"):
        cnnc.set_simd(path)
        y = F.conv2d(x, w, b, **kw)
        results[path] = [y] + list(F.conv2d_backward(y, x, w, **kw))
    cnnc.set_simd("auto")
    for a, c in zip(results["scalar"], results["auto"]):
        assert_close(a, c, rtol=1e-5, atol=1e-4)


# --- gradient checks by central differences, float64 ------------------------

GRAD_CASES = [
    (2, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1),
    (1, 4, 7, 7, 4, 3, 2, 2, (1, 0), (2, 1), 2),
    (2, 3, 4, 4, 3, 3, 3, 1, 1, 1, 3),
    (1, 2, 6, 5, 3, 3, 3, 3, 2, 1, 1),
]


@pytest.mark.parametrize("shape", GRAD_CASES, ids=[str(s) for s in GRAD_CASES])
def test_gradients_match_central_differences(shape, simd):
    x, w, b, kw = _case(shape, np.float64, seed=3)
    y = F.conv2d(x, w, b, **kw)
    weights = np.random.default_rng(4).standard_normal(y.shape)

    def loss():
        return float(np.sum(F.conv2d(x, w, b, **kw) * weights))

    dx, dw, db = F.conv2d_backward(weights, x, w, **kw)
    for name, analytic, array in (("x", dx, x), ("weight", dw, w),
                                  ("bias", db, b)):
        numeric = numerical_grad(loss, array)
        assert rel_error(analytic, numeric) < GRADCHECK_TOL, name


# --- against PyTorch --------------------------------------------------------

TORCH_CASES = SWEEP[:3] + SWEEP[4:10] + SWEEP[11:]


@pytest.mark.parametrize("shape", TORCH_CASES,
                         ids=[str(s) for s in TORCH_CASES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(shape, dtype, torch):
    x, w, b, kw = _case(shape, dtype, seed=5)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    y = F.conv2d(x, w, b, **kw)
    assert_close(y, ty.detach().numpy(), rtol=1e-4, atol=1e-4)

    dy = np.random.default_rng(6).standard_normal(y.shape).astype(dtype)
    ty.backward(torch.tensor(dy))
    dx, dw, db = F.conv2d_backward(dy, x, w, **kw)
    assert_close(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert_close(dw, tw.grad.numpy(), rtol=1e-4, atol=1e-3)
    assert_close(db, tb.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_layer_state_dict_moves_to_torch_and_back(torch):
    conv = Conv2d(3, 6, kernel_size=(3, 5), stride=2, padding=(1, 2),
                  groups=3, rng=0)
    tconv = torch.nn.Conv2d(3, 6, (3, 5), stride=2, padding=(1, 2), groups=3)
    tconv.load_state_dict({k: torch.from_numpy(v)
                           for k, v in conv.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 11),
                                                 dtype=np.float32)
    assert_close(conv(x), tconv(torch.from_numpy(x)).detach().numpy(),
                 rtol=1e-4, atol=1e-5)
    back = Conv2d(3, 6, kernel_size=(3, 5), stride=2, padding=(1, 2),
                  groups=3, rng=1)
    back.load_state_dict({k: v.detach().numpy()
                          for k, v in tconv.state_dict().items()})
    assert_close(back.weight.data, conv.weight.data)


# --- memory layouts ---------------------------------------------------------

def test_non_contiguous_and_read_only_inputs():
    x, w, b, kw = _case(SWEEP[0], np.float64)
    x_big = np.zeros((x.shape[0], x.shape[1], x.shape[2], 2 * x.shape[3]))
    x_big[..., ::2] = x
    x_view = x_big[..., ::2]
    w_f = np.asfortranarray(w)
    for array in (x, w, b):
        array.setflags(write=False)
    y = F.conv2d(x_view, w_f, b, **kw)
    assert_close(y, R.conv2d(x, w, b, **kw))
    dy = np.ones_like(y)[:, :, ::-1]
    grads = F.conv2d_backward(dy, x_view, w_f, **kw)
    for g, r in zip(grads, R.conv2d_backward(np.ascontiguousarray(dy), x, w,
                                             **kw)):
        assert_close(g, r)


# --- the output-size formula ------------------------------------------------

def test_output_size_lecture_examples():
    assert F.conv2d_output_size(56, 3, stride=1, padding=1) == 56
    assert F.conv2d_output_size(56, 3, stride=2, padding=1) == 28
    assert F.conv2d_output_size((224, 224), 7, 2, 3) == (112, 112)
    assert F.conv2d_output_size((5, 9), (3, 1), (1, 2), (0, 1), (2, 1)) \
        == (1, 6)
    x = np.zeros((1, 64, 56, 56), np.float32)
    w = np.zeros((128, 64, 3, 3), np.float32)
    assert F.conv2d(x, w, padding=1).shape == (1, 128, 56, 56)
    assert F.conv2d(x, w, stride=2, padding=1).shape == (1, 128, 28, 28)


def test_empty_output_error_shows_the_arithmetic():
    x = np.zeros((1, 1, 3, 3), np.float32)
    w = np.zeros((1, 1, 5, 5), np.float32)
    with pytest.raises(ValueError, match=r"output height is empty: .*"
                       r"\(3 \+ 2\*0 - 1\*\(5 - 1\) - 1\) // 1 \+ 1"):
        F.conv2d(x, w)
    with pytest.raises(ValueError, match="spans 9 pixels but the padded "
                       "input has only 7"):
        F.conv2d_output_size(7, 5, dilation=2)


# --- validation messages ----------------------------------------------------

X = np.zeros((2, 4, 8, 8), np.float32)
W = np.zeros((6, 4, 3, 3), np.float32)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=X[0]), ValueError,
     r"x must be a 4-D array of shape \(N, C, H, W\), got shape \(4, 8, 8\)"),
    (dict(weight=W[0]), ValueError,
     r"weight must be a 4-D array of shape \(K, C/groups, R, S\)"),
    (dict(x=X.astype(np.int64)), TypeError,
     "x must have dtype float32 or float64, got int64"),
    (dict(x="image"), TypeError, "x must be a NumPy array"),
    (dict(weight=W.astype(np.float64)), TypeError,
     "weight has dtype float64 but x has dtype float32"),
    (dict(x=np.zeros((2, 3, 8, 8), np.float32)), ValueError,
     r"x has 3 channels but weight expects 4 = C/groups x groups = 4 x 1"),
    (dict(groups=3), ValueError,
     r"groups=3 must divide the input channels C=4"),
    (dict(x=np.zeros((2, 6, 8, 8), np.float32), groups=2,
          weight=np.zeros((5, 3, 3, 3), np.float32)), ValueError,
     "groups=2 must divide the output channels K=5"),
    (dict(groups=0), ValueError, "groups must be >= 1, got 0"),
    (dict(stride=0), ValueError, "stride must be >= 1, got 0"),
    (dict(stride=(1, 0)), ValueError, r"stride\[1\] must be >= 1, got 0"),
    (dict(stride=1.5), TypeError, "stride must be an int, got float 1.5"),
    (dict(stride=(1, 2, 3)), ValueError,
     r"stride must be an int or a pair \(height, width\), got 3 values"),
    (dict(padding=-1), ValueError, "padding must be >= 0, got -1"),
    (dict(dilation=0), ValueError, "dilation must be >= 1, got 0"),
    (dict(stride=True), TypeError, "stride must be an int, got the bool"),
    (dict(bias=np.zeros(5, np.float32)), ValueError,
     r"bias must have shape \(K,\) = \(6,\), got \(5,\)"),
    (dict(bias=np.zeros(6, np.float64)), TypeError,
     "bias has dtype float64 but x has dtype float32"),
    (dict(x=np.zeros((0, 4, 8, 8), np.float32)), ValueError,
     "x must have no empty axis"),
    (dict(weight=np.zeros((0, 4, 3, 3), np.float32)), ValueError,
     "weight must have no empty axis"),
    (dict(padding=2 ** 40), ValueError,
     "would have .* elements, more than"),
])
def test_conv2d_validation(kwargs, error, match):
    args = dict(x=X, weight=W, bias=None, stride=1, padding=0, dilation=1,
                groups=1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        F.conv2d(**args)


def test_backward_validation():
    dy = np.zeros((2, 6, 6, 6), np.float32)
    with pytest.raises(ValueError, match=r"grad_out must have the "
                       r"convolution's output shape \(N, K, P, Q\) = "
                       r"\(2, 6, 6, 6\), got \(2, 6, 5, 5\)"):
        F.conv2d_backward(dy[:, :, :5, :5], X, W)
    with pytest.raises(TypeError, match="grad_out has dtype float64"):
        F.conv2d_backward(dy.astype(np.float64), X, W)


def test_output_size_validation():
    with pytest.raises(ValueError, match="kernel_size must be >= 1, got 0"):
        F.conv2d_output_size(5, 0)
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        F.conv2d_output_size(0, 3)


# --- the layer --------------------------------------------------------------

def test_layer_forward_backward_accumulates():
    conv = Conv2d(3, 4, 3, padding=1, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    y = conv(x)
    dy = np.ones_like(y)
    dx = conv.backward(dy)
    want = R.conv2d_backward(dy, x, conv.weight.data, padding=1)
    assert_close(dx, want[0])
    assert_close(conv.weight.grad, want[1])
    assert_close(conv.bias.grad, want[2])
    conv.backward(dy)
    assert_close(conv.weight.grad, 2 * want[1])
    conv.zero_grad()
    assert conv.weight.grad is None and conv.bias.grad is None


def test_layer_frozen_weights_get_no_gradient():
    conv = Conv2d(2, 3, 3, rng=0)
    conv.weight.requires_grad = False
    y = conv(np.ones((1, 2, 5, 5), np.float32))
    conv.backward(np.ones_like(y))
    assert conv.weight.grad is None
    assert conv.bias.grad.shape == (3,)


def test_layer_init_is_pytorch_like_and_seeded():
    a = Conv2d(8, 16, 3, rng=42)
    b = Conv2d(8, 16, 3, rng=42)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    bound = 1 / np.sqrt(8 * 3 * 3)
    assert np.abs(a.weight.data).max() <= bound
    assert np.abs(a.weight.data).max() > 0.9 * bound
    assert a.weight.dtype == np.float32
    assert list(a.state_dict()) == ["weight", "bias"]
    assert Conv2d(8, 16, 3, bias=False).state_dict().keys() == {"weight"}


def test_layer_repr_and_validation():
    assert repr(Conv2d(3, 8, 3, stride=2, padding=1, groups=1, bias=False)) \
        == ("Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), "
            "padding=(1, 1), bias=False)")
    conv = Conv2d(4, 8, 3)
    with pytest.raises(ValueError, match=r"x has 3 channels but this Conv2d "
                       r"expects in_channels=4 \(x.shape=\(8, 3, 32, 32\)\)"):
        conv(np.zeros((8, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="groups=3 must divide in_channels=4"):
        Conv2d(4, 6, 3, groups=3)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Conv2d(4, 6, 3, dtype=np.int32)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        conv.backward(np.zeros((1, 8, 1, 1), np.float32))
    with pytest.raises(KeyError, match=r"missing keys \['bias'\]"):
        conv.load_state_dict({"weight": conv.weight.data})
    with pytest.raises(ValueError, match=r"state_dict\['weight'\] has shape"):
        conv.load_state_dict({"weight": np.zeros((1,)),
                              "bias": conv.bias.data})
