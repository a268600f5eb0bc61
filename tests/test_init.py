"""cnnc.init: gains and fans against PyTorch, the statistics of each
initialiser on large arrays, seeds, and every validation message."""
import doctest
import math

import numpy as np
import pytest

import cnnc.init
from cnnc import init
from cnnc.nn import Parameter

# (K, C, R, S) weight with 294912 elements: the sample std is within about
# 0.2 % of the true one, the mean within a few thousandths of it.
BIG = (256, 128, 3, 3)
STD_RTOL = 0.01


def _sample_std_and_bound(fill, shape=BIG, dtype=np.float64, **kw):
    w = fill(np.empty(shape, dtype), rng=0, **kw)
    return w, float(w.std()), float(np.abs(w).max())


GAIN_CASES = [("linear", None), ("conv2d", None), ("conv_transpose3d", None),
              ("sigmoid", None), ("tanh", None), ("relu", None),
              ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
              ("leaky_relu", 3), ("selu", None)]


@pytest.mark.parametrize("name, param", GAIN_CASES)
def test_gain_equals_torch(torch, name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(
        name, param)


def test_gains_by_hand():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / 1.0001)
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)


@pytest.mark.parametrize("shape", [(5, 3), (8, 3, 3, 3), (4, 2, 5),
                                   (6, 1, 1, 1), (2, 3, 2, 4, 5)])
def test_fans_as_torch(torch, shape):
    want = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == want
    assert init.fan_in_and_fan_out(np.empty(shape)) == want
    assert init.fan_in_and_fan_out(Parameter(np.empty(shape))) == want


def test_fans_by_hand():
    assert init.fan_in_and_fan_out((10, 20)) == (20, 10)
    assert init.fan_in_and_fan_out((64, 32, 3, 3)) == (288, 576)


# (name, function, kwargs, expected std, expected bound or None)
FAN_IN, FAN_OUT = 128 * 9, 256 * 9
SCALE_CASES = [
    ("uniform", init.uniform_, dict(a=-0.3, b=0.3), 0.3 / math.sqrt(3), 0.3),
    ("normal", init.normal_, dict(std=0.05), 0.05, None),
    ("xavier_uniform", init.xavier_uniform_, dict(),
     math.sqrt(2 / (FAN_IN + FAN_OUT)), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("xavier_uniform_tanh", init.xavier_uniform_, dict(gain=5 / 3),
     5 / 3 * math.sqrt(2 / (FAN_IN + FAN_OUT)),
     5 / 3 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("xavier_normal", init.xavier_normal_, dict(gain=2.0),
     2 * math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    ("kaiming_uniform_default", init.kaiming_uniform_, dict(),
     math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    ("kaiming_uniform_leaky", init.kaiming_uniform_,
     dict(a=math.sqrt(5)), math.sqrt(1 / 3 / FAN_IN), math.sqrt(1 / FAN_IN)),
    ("kaiming_uniform_fan_out", init.kaiming_uniform_,
     dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / FAN_OUT),
     math.sqrt(6 / FAN_OUT)),
    ("kaiming_normal_relu", init.kaiming_normal_,
     dict(nonlinearity="relu"), math.sqrt(2 / FAN_IN), None),
    ("kaiming_normal_tanh_fan_out", init.kaiming_normal_,
     dict(mode="fan_out", nonlinearity="tanh"), 5 / 3 / math.sqrt(FAN_OUT),
     None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, fill, kw, std, bound", SCALE_CASES,
                         ids=[c[0] for c in SCALE_CASES])
def test_statistics_of_large_arrays(name, fill, kw, std, bound, dtype):
    w, got_std, got_max = _sample_std_and_bound(fill, dtype=dtype, **kw)
    assert w.dtype == dtype and w.shape == BIG
    assert got_std == pytest.approx(std, rel=STD_RTOL)
    assert abs(float(w.mean())) < 5 * std / math.sqrt(w.size)
    if bound is None:
        # A normal sample of this size reaches beyond 4 std.
        assert got_max > 4 * std
    else:
        assert got_max <= bound * (1 + 1e-7)
        assert got_max > bound * 0.999


@pytest.mark.parametrize("name, fill, kw, std, bound", SCALE_CASES,
                         ids=[c[0] for c in SCALE_CASES])
def test_scale_agrees_with_torch(torch, name, fill, kw, std, bound):
    torch_fill = getattr(torch.nn.init, fill.__name__)
    t = torch.empty(BIG, dtype=torch.float64)
    torch.manual_seed(0)
    torch_fill(t, **kw)
    _, got_std, got_max = _sample_std_and_bound(fill, **kw)
    assert got_std == pytest.approx(float(t.std()), rel=2 * STD_RTOL)
    if bound is not None:
        assert got_max == pytest.approx(float(t.abs().max()), rel=2e-3)


def test_kaiming_keeps_relu_activations_steady():
    # Ten Linear+ReLU layers: with Kaiming the second moment stays near its
    # start; with a scale half as large it falls by about 2^10.
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((512, 256))
    moments = {}
    for name, scale in (("kaiming", 1.0), ("small", 0.5)):
        x = x0
        for layer in range(10):
            w = init.kaiming_normal_(np.empty((256, 256)),
                                     nonlinearity="relu", rng=layer)
            x = np.maximum(x @ (scale * w).T, 0)
        moments[name] = float(np.mean(x ** 2))
    assert 0.5 < moments["kaiming"] < 2.0
    assert moments["small"] < 1e-2


def test_in_place_on_parameters_and_views():
    p = Parameter(np.zeros((6, 4), np.float32))
    data = p.data
    assert init.kaiming_uniform_(p, rng=1) is p
    assert p.data is data and p.data.dtype == np.float32
    assert np.all(p.data != 0)
    w = np.zeros((4, 6))
    view = w.T                                   # not C-contiguous
    init.xavier_normal_(view, rng=2)
    assert np.all(w != 0)
    np.testing.assert_array_equal(init.zeros_(p).data, 0)
    np.testing.assert_array_equal(init.ones_(w), 1)
    np.testing.assert_array_equal(init.constant_(w, -0.25), -0.25)
    empty = np.empty((0, 3))
    assert init.kaiming_normal_(empty, mode="fan_out") is empty
    assert init.xavier_uniform_(np.empty((3, 0))).shape == (3, 0)


@pytest.mark.parametrize("fill, kw", [
    (init.uniform_, dict(a=-1, b=2)), (init.normal_, dict(mean=1, std=2)),
    (init.xavier_uniform_, {}), (init.xavier_normal_, {}),
    (init.kaiming_uniform_, {}), (init.kaiming_normal_, {"mode": "fan_out"}),
])
def test_seeds_reproduce(fill, kw):
    a = fill(np.empty((7, 5)), rng=42, **kw)
    b = fill(np.empty((7, 5)), rng=42, **kw)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(42)
    c = fill(np.empty((7, 5)), rng=gen, **kw)
    d = fill(np.empty((7, 5)), rng=gen, **kw)     # the generator advanced
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(c, d)
    # float32 and float64 from one seed agree up to rounding.
    e = fill(np.empty((7, 5), np.float32), rng=42, **kw)
    np.testing.assert_allclose(e, a, rtol=1e-6, atol=1e-7)
    f = fill(np.empty((7, 5)), rng=None, **kw)    # fresh entropy works
    assert f.shape == (7, 5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: init.xavier_uniform_(np.empty(5)), ValueError,
     r"array must have at least 2 axes to have a fan-in and a fan-out .*got "
     r"shape \(5,\)"),
    (lambda: init.fan_in_and_fan_out(()), ValueError,
     r"at least 2 axes .*got shape \(\)"),
    (lambda: init.kaiming_normal_(np.empty((3, 3)), mode="fan"), ValueError,
     r"mode must be 'fan_in' or 'fan_out', got 'fan'"),
    (lambda: init.kaiming_uniform_(np.empty((3, 3)), nonlinearity="gelu"),
     ValueError, r"nonlinearity must be one of .*relu.*, got 'gelu'"),
    (lambda: init.calculate_gain("leaky_relu", "0.1"), ValueError,
     r"param \(the negative slope of leaky_relu\) must be a number, got '0.1'"),
    (lambda: init.calculate_gain("leaky_relu", True), ValueError,
     r"must be a number, got True"),
    (lambda: init.normal_(np.zeros(3, np.int64)), TypeError,
     r"array must have a floating dtype \(float32 or float64\), got int64"),
    (lambda: init.zeros_([0.0, 1.0]), TypeError,
     r"array must be a NumPy array or a cnnc.nn.Parameter, got list"),
    (lambda: init.ones_(np.broadcast_to(np.zeros(1), (3,))), ValueError,
     r"array is read-only; initialisers fill it in place"),
    (lambda: init.uniform_(np.empty(3), 1.0, 0.0), ValueError,
     r"a must be <= b, got a=1.0 and b=0.0"),
    (lambda: init.uniform_(np.empty(3), 0.0, float("inf")), ValueError,
     r"b must be finite, got inf"),
    (lambda: init.normal_(np.empty(3), std=-1), ValueError,
     r"std must be >= 0, got -1.0"),
    (lambda: init.normal_(np.empty(3), mean="0"), TypeError,
     r"mean must be a real number, got str '0'"),
    (lambda: init.xavier_normal_(np.empty((2, 2)), gain=-1), ValueError,
     r"gain must be >= 0, got -1.0"),
    (lambda: init.constant_(np.empty(2), float("nan")), ValueError,
     r"val must be finite, got nan"),
    (lambda: init.kaiming_uniform_(np.empty((2, 2)), a=None), TypeError,
     r"a must be a real number, got NoneType None"),
    (lambda: init.uniform_(np.empty(3), rng="seed"), TypeError,
     r"rng must be a numpy.random.Generator, an int seed or None, got str"),
    (lambda: init.normal_(np.empty(3), rng=1.5), TypeError,
     r"rng must be a numpy.random.Generator, an int seed or None, got float"),
])
def test_validation_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_docstring_examples_run():
    result = doctest.testmod(cnnc.init)
    assert result.failed == 0 and result.attempted > 10
