"""cnnc.gradcheck: agreement on correct layers and models, a planted bug
found and located, warnings for float32 and kinks, nothing left changed."""
import warnings

import numpy as np
import pytest

import cnnc
from cnnc import nn
from cnnc.gradcheck import GradcheckWarning
from cnnc.losses import CrossEntropyLoss
from cnnc.models import ShapesNet
from cnnc.nn import Conv2d, Linear, Module, Sequential
from conftest import GRADCHECK_TOL


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _quiet(*args, **kwargs):
    """gradcheck, failing the test on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradcheckWarning)
        return cnnc.gradcheck(*args, **kwargs)


def test_layer_passes_with_every_tensor_reported():
    conv = Conv2d(2, 3, 3, stride=2, padding=1, rng=0, dtype=np.float64)
    result = _quiet(conv, _x((2, 2, 5, 6)))
    assert result.passed and bool(result)
    assert [c.name for c in result.checks] == ["input", "weight", "bias"]
    assert result.max_error < GRADCHECK_TOL
    weight = result["weight"]
    assert weight.shape == (3, 2, 3, 3) and weight.checked == 54
    assert len(weight.index) == 4 and weight.passed
    assert abs(weight.analytic - weight.numeric) < 1e-6
    assert "passed: largest relative error" in str(result)


def test_model_with_batchnorm_dropout_and_a_loss():
    model = Sequential(Conv2d(1, 3, 3, padding=1, rng=0), nn.BatchNorm2d(3),
                       nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                       nn.Dropout(0.5, rng=1), Linear(12, 4, rng=2))
    model.astype(np.float64)
    x = _x((3, 1, 4, 4))
    target = np.array([0, 3, 1])
    result = _quiet(model, x, target=target, loss=CrossEntropyLoss())
    assert result.passed, str(result)
    assert [c.name for c in result.checks][:3] == ["input", "0.weight",
                                                   "0.bias"]
    # The bias before batch norm has no effect: its gradient is zero and
    # only rounding noise is compared.
    bias = result["0.bias"]
    assert bias.passed and bias.abs_error <= result.atol < 1e-6
    assert "ok (noise)" in str(result) or bias.rel_error <= 1e-6


def test_shapesnet_subset_of_elements():
    model = ShapesNet(num_classes=3, image_size=8, rng=0,
                      channels=(2, 3, 4)).astype(np.float64)
    # A smooth stand-in input far from the ReLU kinks is not needed: the
    # check warns only when a kink is within reach, and passes here.
    result = cnnc.gradcheck(model, _x((2, 1, 8, 8)), max_elements=6)
    assert all(c.checked <= 6 for c in result.checks)
    assert result["classifier.2.weight"].checked == 6
    assert result.passed, str(result)


class BuggyScale(Module):
    """y = w * x, with a backward that forgets the factor 2 of element 3."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.linspace(0.5, 2.0, 5))

    def forward(self, x):
        self.x = x
        return x * self.weight.data

    def backward(self, grad_out):
        grad_w = (grad_out * self.x).sum(axis=0)
        grad_w[3] *= 2
        self.weight.accumulate_grad(grad_w)
        return grad_out * self.weight.data


def test_a_wrong_gradient_is_found_and_located():
    result = cnnc.gradcheck(BuggyScale(), _x((4, 5)))
    assert not result.passed and not bool(result)
    assert result["input"].passed
    bad = result["weight"]
    assert not bad.passed and bad.rel_error > 0.01
    assert bad.index == (3,)
    np.testing.assert_allclose(bad.analytic, 2 * bad.numeric, rtol=1e-6)
    assert "FAIL" in str(result) and "FAILED" in str(result)


def test_float32_warns():
    conv = Conv2d(1, 1, 2, rng=0)
    with pytest.warns(GradcheckWarning, match="running in float32"):
        result = cnnc.gradcheck(conv, _x((1, 1, 3, 3)).astype(np.float32))
    assert "float32" in result.warnings[0]


def test_relu_kink_warns_and_names_the_layer():
    model = Sequential(Linear(3, 3, rng=0, dtype=np.float64), nn.ReLU())
    model[0].bias.data[:] = 0.0
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])  # 0 reaches the ReLU
    with pytest.warns(GradcheckWarning, match=r"1 \(ReLU\): 3 input\(s\) "
                      r"within 1.0e-05 of the kink at 0"):
        cnnc.gradcheck(model, x)


def test_max_pool_tie_warns():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = x[0, 0, 1, 1] = 10.0  # a tie in the first window only
    with pytest.warns(GradcheckWarning, match=r"MaxPool2d: 1 window\(s\) "
                      r"whose two largest values are within"):
        cnnc.gradcheck(nn.MaxPool2d(2), x)


def test_model_is_left_as_it_was():
    model = Sequential(Conv2d(1, 2, 3, rng=0), nn.BatchNorm2d(2),
                       nn.Dropout(0.5, rng=3)).astype(np.float64)
    x = _x((2, 1, 5, 5))
    model(x)
    model.backward(np.ones((2, 2, 3, 3)))
    grad = model[0].weight.grad.copy()
    state = model.state_dict()
    rng_state = model[2]._rng.bit_generator.state
    result = cnnc.gradcheck(model, x)
    assert result.passed, str(result)
    np.testing.assert_array_equal(model[0].weight.grad, grad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    assert model[2]._rng.bit_generator.state == rng_state


def test_frozen_parameters_are_skipped_and_input_check_optional():
    model = Sequential(Linear(3, 2, rng=0, dtype=np.float64),
                       Linear(2, 2, rng=1, dtype=np.float64))
    model[0].freeze()
    result = _quiet(model, _x((2, 3)), check_input=False)
    assert [c.name for c in result.checks] == ["1.weight", "1.bias"]
    with pytest.raises(KeyError, match="no gradient was checked for "
                       "'0.weight'"):
        result["0.weight"]


def test_validation_messages():
    conv = Conv2d(1, 1, 1, dtype=np.float64)
    x = _x((1, 1, 2, 2))
    with pytest.raises(ValueError, match="give both target and loss"):
        cnnc.gradcheck(conv, x, loss=CrossEntropyLoss())
    with pytest.raises(ValueError, match="eps must be positive and finite, "
                       "got -1.0"):
        cnnc.gradcheck(conv, x, eps=-1)
    with pytest.raises(ValueError, match="atol must be positive"):
        cnnc.gradcheck(conv, x, atol=0)
    with pytest.raises(TypeError, match="tol must be a number"):
        cnnc.gradcheck(conv, x, tol="small")
    with pytest.raises(ValueError, match="max_elements must be a positive "
                       "int or None, got 0"):
        cnnc.gradcheck(conv, x, max_elements=0)
    with pytest.raises(TypeError, match="model must be a cnnc Module"):
        cnnc.gradcheck(np.sum, x)
