"""Sequential and the Module additions: traversal, freezing, dtype
conversion, parameter counts and rebuilding any layer from its config."""
import inspect
import json
from collections import OrderedDict

import numpy as np
import pytest

from cnnc import nn
from cnnc.nn import Conv2d, Linear, Module, Sequential
from conftest import assert_close

# One construction of every layer class cnnc.nn exports, with arguments
# that differ from the defaults where there are any.
LAYERS = {
    "Conv2d": lambda: Conv2d(3, 6, (3, 2), stride=(2, 1), padding=1,
                             dilation=(1, 2), groups=3, bias=False, rng=0),
    "Linear": lambda: Linear(5, 4, bias=False, rng=0, dtype=np.float64),
    "ReLU": lambda: nn.ReLU(),
    "LeakyReLU": lambda: nn.LeakyReLU(0.2),
    "ELU": lambda: nn.ELU(alpha=0.5),
    "Sigmoid": lambda: nn.Sigmoid(),
    "Tanh": lambda: nn.Tanh(),
    "Softmax": lambda: nn.Softmax(dim=1),
    "LogSoftmax": lambda: nn.LogSoftmax(dim=-1),
    "Dropout": lambda: nn.Dropout(0.3, rng=1),
    "Dropout2d": lambda: nn.Dropout2d(p=0.25),
    "Flatten": lambda: nn.Flatten(1, -1),
    "MaxPool2d": lambda: nn.MaxPool2d((3, 2), stride=1, padding=(1, 0),
                                      ceil_mode=True),
    "AvgPool2d": lambda: nn.AvgPool2d(2, count_include_pad=False),
    "AdaptiveAvgPool2d": lambda: nn.AdaptiveAvgPool2d((2, None)),
    "BatchNorm1d": lambda: nn.BatchNorm1d(4, eps=1e-3, momentum=None),
    "BatchNorm2d": lambda: nn.BatchNorm2d(3, affine=False,
                                          dtype=np.float64),
    "Sequential": lambda: Sequential(Conv2d(1, 2, 3), nn.ReLU()),
}


def _exported_module_classes():
    return sorted(name for name in nn.__all__
                  if inspect.isclass(getattr(nn, name))
                  and issubclass(getattr(nn, name), Module)
                  and name != "Module")


def test_every_exported_layer_is_covered_here():
    assert set(_exported_module_classes()) <= set(LAYERS)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_rebuilds_from_its_json_config(name):
    layer = LAYERS[name]()
    config = layer.get_config()
    assert config["type"] == name
    assert "rng" not in config["args"]
    text = json.dumps(config)  # JSON-safe: no tuples, dtypes or arrays
    rebuilt = Module.from_config(json.loads(text))
    assert type(rebuilt) is type(layer)
    assert repr(rebuilt) == repr(layer)
    assert rebuilt.get_config() == json.loads(text)
    rebuilt.load_state_dict(layer.state_dict())
    for key, value in layer.state_dict().items():
        assert rebuilt.state_dict()[key].dtype == value.dtype, key


def test_config_values_are_json_types():
    args = LAYERS["Conv2d"]().get_config()["args"]
    assert args["kernel_size"] == [3, 2] and args["padding"] == 1
    assert args["dtype"] == "float32" and args["bias"] is False
    assert LAYERS["Linear"]().get_config()["args"]["dtype"] == "float64"


def test_rebuilt_conv_computes_the_same():
    conv = Conv2d(2, 4, 3, stride=2, padding=(1, 0), rng=3)
    rebuilt = Module.from_config(json.loads(json.dumps(conv.get_config())))
    rebuilt.load_state_dict(conv.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 6), np.float32)
    np.testing.assert_array_equal(rebuilt(x), conv(x))


class Scaled(Module):
    """A user's layer: positional, keyword-only and varargs arguments."""

    def __init__(self, factor, *shape, offset=0.0, inner=None, **options):
        super().__init__()
        self.factor, self.shape, self.offset = factor, shape, offset
        self.inner = inner if inner is not None else None
        self.options = options

    def forward(self, x):
        return x * self.factor + self.offset

    def backward(self, grad_out):
        return grad_out * self.factor


def test_user_layer_with_varargs_and_a_module_argument_rebuilds():
    layer = Scaled(2.0, 3, 4, offset=1.5, inner=Linear(2, 2), mode="x")
    config = json.loads(json.dumps(layer.get_config()))
    assert config["args"]["shape"] == [3, 4]
    assert config["args"]["options"] == {"mode": "x"}
    rebuilt = Module.from_config(config)
    assert rebuilt.shape == (3, 4) and rebuilt.offset == 1.5
    assert rebuilt.options == {"mode": "x"}
    assert isinstance(rebuilt.inner, Linear)
    assert rebuilt.get_config() == config


def test_argument_that_is_not_json_is_named():
    layer = Scaled(np.ones(3))
    with pytest.raises(TypeError, match="Scaled argument 'factor' is a "
                       "ndarray, which cannot be written as JSON"):
        layer.get_config()


def test_unknown_type_and_malformed_config_are_rejected():
    with pytest.raises(ValueError, match="unknown module type 'NoSuchLayer'"):
        Module.from_config({"type": "NoSuchLayer", "args": {}})
    with pytest.raises(ValueError, match="must be a dict with a string 'type'"):
        Module.from_config({"args": {}})
    with pytest.raises(ValueError, match="Conv2d takes no argument.*'colour'"):
        Module.from_config({"type": "Conv2d", "args": {"colour": 1}})
    with pytest.raises(ValueError, match="configuration of a Conv2d is not a "
                       "Sequential"):
        Sequential.from_config(Conv2d(1, 1, 1).get_config())


def test_a_user_class_cannot_shadow_a_cnnc_layer():
    class Conv2d(Module):  # noqa: F811 - a user's own class of that name
        pass

    assert nn.module_class("Conv2d") is nn.Conv2d
    config = Conv2d().get_config()
    assert config["type"].endswith("test_a_user_class_cannot_shadow_a_cnnc_"
                                   "layer.<locals>.Conv2d")
    assert type(Module.from_config(config)) is Conv2d


# -- Sequential ---------------------------------------------------------------

def _net():
    return Sequential(Conv2d(1, 3, 3, padding=1, rng=0), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), Linear(3 * 4 * 4, 5, rng=1))


def test_sequential_forward_in_order_and_backward_in_reverse():
    net = _net()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8), np.float32)
    y = net(x)
    h = x
    for layer in net:
        h = layer(h)
    np.testing.assert_array_equal(y, h)
    g = np.ones_like(y)
    dx = net.backward(g)
    for layer in reversed(list(net)):
        g = layer.backward(g)
    np.testing.assert_array_equal(dx, g)


def test_sequential_names_indexing_slicing_and_append():
    net = _net()
    assert len(net) == 5
    assert [name for name, _ in net.named_children()] == list("01234")
    assert list(net.state_dict()) == ["0.weight", "0.bias", "4.weight",
                                      "4.bias"]
    assert isinstance(net[0], Conv2d) and net[-1] is net[4]
    head = net[3:]
    assert isinstance(head, Sequential) and len(head) == 2
    assert list(head.state_dict()) == ["4.weight", "4.bias"]  # as PyTorch
    assert head[1] is net[4]
    net.append(nn.ReLU())
    assert len(net) == 6 and isinstance(net[5], nn.ReLU)
    net[0] = Conv2d(1, 3, 5, padding=2)
    assert list(net.state_dict())[0] == "0.weight"  # replaced in place
    assert net[0].kernel_size == (5, 5)


def test_sequential_from_ordered_dict_keeps_the_names():
    net = Sequential(OrderedDict([("conv", Conv2d(1, 2, 3)),
                                  ("act", nn.ReLU())]))
    assert list(net.state_dict()) == ["conv.weight", "conv.bias"]
    rebuilt = Module.from_config(json.loads(json.dumps(net.get_config())))
    assert [n for n, _ in rebuilt.named_children()] == ["conv", "act"]


def test_sequential_validation_messages():
    with pytest.raises(TypeError, match="Sequential takes Modules, got int "
                       "for layer '1'"):
        Sequential(Conv2d(1, 1, 1), 3)
    with pytest.raises(ValueError, match="layer names must be non-empty"):
        Sequential(OrderedDict([("a.b", nn.ReLU())]))
    net = _net()
    with pytest.raises(IndexError, match="index 5 is out of range for a "
                       "Sequential of 5 layers"):
        net[5]
    with pytest.raises(TypeError, match="indices must be integers or slices, "
                       "got str"):
        net["0"]


# -- traversal ----------------------------------------------------------------

def test_children_and_modules():
    inner = Sequential(Conv2d(2, 2, 1), nn.ReLU())
    net = Sequential(Conv2d(1, 2, 1), inner)
    assert list(net.children()) == [net[0], inner]
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "1.0",
                                                   "1.1"]
    assert [n for n, _ in net.named_modules("model")] == [
        "model", "model.0", "model.1", "model.1.0", "model.1.1"]
    assert len(list(net.modules())) == 5
    shared = Conv2d(1, 1, 1)
    twice = Sequential(shared, shared)
    assert len(list(twice.modules())) == 2
    assert twice.num_parameters() == 2


def test_replacing_a_child_keeps_its_place_and_buffers_stay_buffers():
    bn = nn.BatchNorm2d(3)
    bn.running_mean = np.full(3, 2.0, np.float32)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean",
                                     "running_var", "num_batches_tracked"]
    assert bn.state_dict()["running_mean"][0] == 2.0


# -- freezing, dtype, size ------------------------------------------------------

def test_freeze_stops_gradient_work_and_unfreeze_restores_it():
    net = _net()
    x = np.random.default_rng(0).standard_normal((2, 1, 8, 8), np.float32)
    net.backward(np.ones_like(net(x)))
    assert net[0].weight.grad is not None
    assert net[0].freeze() is net[0]
    assert not net[0].weight.requires_grad and net[0].weight.grad is None
    net.zero_grad()
    dx = net.backward(np.ones_like(net(x)))
    assert net[0].weight.grad is None and net[0].bias.grad is None
    assert net[4].weight.grad is not None and dx.shape == x.shape
    assert net.num_parameters(trainable_only=True) == 48 * 5 + 5
    net.unfreeze()
    assert all(p.requires_grad for p in net.parameters())
    assert net.num_parameters() == 3 * 9 + 3 + 48 * 5 + 5


def test_astype_converts_parameters_grads_and_float_buffers():
    net = Sequential(Conv2d(1, 2, 3, padding=1, rng=0), nn.BatchNorm2d(2),
                     nn.ReLU())
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5))
    y32 = net(x.astype(np.float32))
    net.backward(np.ones_like(y32))
    assert net.astype(np.float64) is net
    for name, p in net.named_parameters():
        assert p.dtype == np.float64 and p.grad.dtype == np.float64, name
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64
    assert net.state_dict()["1.running_var"].dtype == np.float64
    assert net[0].get_config()["args"]["dtype"] == "float64"
    assert Module.from_config(net.get_config())[0].weight.dtype == np.float64
    net.eval()
    y64 = net(x)
    assert y64.dtype == np.float64
    assert_close(net.astype(np.float32)(x.astype(np.float32)),
                 y64.astype(np.float32))
    with pytest.raises(TypeError, match="dtype must be float32 or float64, "
                       "got int32"):
        net.astype(np.int32)
