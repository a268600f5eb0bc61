"""cnnc.models: shapes, sizes, PyTorch twins fed our state dicts, and the
shipped pre-trained encoder."""
import os

import numpy as np
import pytest

import cnnc
from cnnc import io
from cnnc.data import LECTURE_CLASSES
from cnnc.models import (PRETRAINED_ENCODER_PATH, BenchNet,
                         EncoderClassifier, LeNet5, ShapesNet,
                         pretrained_encoder)
from cnnc.nn import Sequential
from conftest import assert_close


def _x(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


CASES = {
    "ShapesNet": (lambda **kw: ShapesNet(rng=0, **kw), (4, 1, 32, 32), 4),
    "ShapesNet-rgb-40": (lambda **kw: ShapesNet(3, 5, image_size=40, rng=0,
                                               **kw), (2, 3, 40, 40), 5),
    "LeNet5": (lambda **kw: LeNet5(rng=0, **kw), (3, 1, 32, 32), 10),
    "LeNet5-28": (lambda **kw: LeNet5(image_size=28, rng=0, **kw),
                  (3, 1, 28, 28), 10),
    "BenchNet": (lambda **kw: BenchNet(rng=0, **kw), (2, 3, 32, 32), 10),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_backward_shapes_and_dtypes(name, dtype):
    make, shape, classes = CASES[name]
    model = make(dtype=dtype)
    assert isinstance(model, EncoderClassifier)
    assert isinstance(model.encoder, Sequential)
    assert isinstance(model.classifier, Sequential)
    x = _x(shape, dtype=dtype)
    y = model(x)
    assert y.shape == (shape[0], classes) and y.dtype == dtype
    dx = model.backward(np.ones_like(y))
    assert dx.shape == x.shape and dx.dtype == dtype
    assert all(p.grad is not None and p.grad.dtype == dtype
               for p in model.parameters())
    np.testing.assert_array_equal(model.features(x), model.encoder(x))


def test_same_seed_same_model_and_sizes():
    a, b = ShapesNet(rng=5), ShapesNet(rng=5)
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value)
    assert a.encoder.num_parameters() == 23408
    assert LeNet5().num_parameters() == 61706
    assert BenchNet().num_parameters() == 106730
    assert list(BenchNet().state_dict())[:7] == [
        "encoder.0.weight", "encoder.1.weight", "encoder.1.bias",
        "encoder.1.running_mean", "encoder.1.running_var",
        "encoder.1.num_batches_tracked", "encoder.3.weight"]


def test_constructor_validation():
    with pytest.raises(ValueError, match="ShapesNet needs images of at least "
                       "8x8.*image_size=7"):
        ShapesNet(image_size=7)
    with pytest.raises(ValueError, match="LeNet5 needs images of at least "
                       "12x12, got image_size=\\(11, 40\\)"):
        LeNet5(image_size=(11, 40))
    with pytest.raises(ValueError, match="image_size must be an int or a "
                       "pair"):
        BenchNet(image_size=(32, 32, 3))
    with pytest.raises(ValueError, match="image_size must hold positive ints"):
        BenchNet(image_size=0)
    with pytest.raises(ValueError, match="channels must be three ints"):
        ShapesNet(channels=(8, 16))
    with pytest.raises(ValueError, match="p, the probability of zeroing"):
        ShapesNet(dropout=1.0)


def test_config_rebuilds_each_model():
    for make, shape, _ in CASES.values():
        model = make(dropout=0.25)
        rebuilt = cnnc.nn.Module.from_config(model.get_config())
        assert repr(rebuilt) == repr(model)
        rebuilt.load_state_dict(model.state_dict())
        x = _x(shape)
        np.testing.assert_array_equal(rebuilt.eval()(x), model.eval()(x))


# -- PyTorch twins ----------------------------------------------------------------

def _torch_twin(torch, name, model):
    """The same network written in PyTorch, layer for layer."""
    tnn = torch.nn
    make, shape, classes = CASES[name]
    c_in = shape[1]

    def block(i, o):
        return [tnn.Conv2d(i, o, 3, padding=1, bias=False),
                tnn.BatchNorm2d(o), tnn.ReLU()]

    if name.startswith("ShapesNet"):
        enc, prev = [], c_in
        for width in (16, 32, 64):
            enc += block(prev, width) + [tnn.MaxPool2d(2)]
            prev = width
        feats = 64 * (shape[2] // 8) ** 2
        cls = [tnn.Flatten(), tnn.Dropout(0.0), tnn.Linear(feats, classes)]
    elif name.startswith("LeNet5"):
        pad = 2 if shape[2] < 32 else 0
        enc = [tnn.Conv2d(c_in, 6, 5, padding=pad), tnn.ReLU(),
               tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
               tnn.MaxPool2d(2)]
        side = ((shape[2] + 2 * pad - 4) // 2 - 4) // 2
        cls = [tnn.Flatten(), tnn.Linear(16 * side * side, 120), tnn.ReLU(),
               tnn.Dropout(0.0), tnn.Linear(120, 84), tnn.ReLU(),
               tnn.Dropout(0.0), tnn.Linear(84, classes)]
    else:
        enc = (block(c_in, 32) + block(32, 32) + [tnn.MaxPool2d(2)]
               + block(32, 64) + block(64, 64) + [tnn.MaxPool2d(2)])
        cls = [tnn.Flatten(), tnn.Dropout(0.0), tnn.Linear(4096, classes)]

    class Twin(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.Sequential(*enc)
            self.classifier = tnn.Sequential(*cls)

        def forward(self, x):
            return self.classifier(self.encoder(x))

    twin = Twin().double()
    state = {k: torch.from_numpy(np.array(v))
             for k, v in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)
    return twin


@pytest.mark.parametrize("name", sorted(CASES))
def test_state_dict_loads_into_the_pytorch_twin(torch, name):
    make, shape, _ = CASES[name]
    model = make(dtype=np.float64)
    x = _x(shape, dtype=np.float64)
    model(_x(shape, seed=1, dtype=np.float64))  # move the running stats
    twin = _torch_twin(torch, name, model)
    assert set(twin.state_dict()) == set(model.state_dict())

    # Evaluation: the running statistics are used.
    model.eval()
    twin.eval()
    assert_close(model(x), twin(torch.from_numpy(x)).detach().numpy())

    # Training: batch statistics, and the gradients of a backward pass.
    model.train()
    model.zero_grad()
    twin.train()
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = twin(tx)
    y = model(x)
    assert_close(y, ty.detach().numpy())
    dy = _x(y.shape, seed=2, dtype=np.float64)
    ty.backward(torch.from_numpy(dy))
    assert_close(model.backward(dy), tx.grad.numpy())
    grads = dict(model.named_parameters())
    for key, param in twin.named_parameters():
        assert_close(grads[key].grad, param.grad.numpy(), err_msg=key)
    for key, value in twin.state_dict().items():
        if value.dtype == torch.int64:  # num_batches_tracked
            assert int(model.state_dict()[key]) == int(value), key
        else:
            assert_close(model.state_dict()[key], value.numpy(), err_msg=key)


def test_pytorch_weights_load_into_cnnc(torch):
    model = BenchNet(rng=0)
    twin = _torch_twin(torch, "BenchNet", model.astype(np.float64)).float()
    torch.manual_seed(0)
    for p in twin.parameters():
        torch.nn.init.normal_(p, std=0.1)
    model.astype(np.float32).load_state_dict(
        {k: v.numpy() for k, v in twin.state_dict().items()})
    x = _x((2, 3, 32, 32))
    assert_close(model.eval()(x),
                 twin.eval()(torch.from_numpy(x)).detach().numpy())


# -- the shipped encoder ----------------------------------------------------------

def test_pretrained_encoder_ships_and_loads():
    assert os.path.getsize(PRETRAINED_ENCODER_PATH) < 300_000
    encoder = pretrained_encoder()
    assert isinstance(encoder, Sequential)
    ref = ShapesNet().encoder
    assert repr(encoder) == repr(ref)
    assert encoder.get_config() == ref.get_config()
    x = _x((2, 1, 32, 32))
    assert encoder.eval()(x).shape == (2, 64, 4, 4)
    assert all(p.requires_grad for p in encoder.parameters())
    assert int(encoder[1].num_batches_tracked) > 0  # trained

    frozen = pretrained_encoder(freeze=True, dtype=np.float64)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert frozen[0].weight.dtype == np.float64

    header = io.read_header(PRETRAINED_ENCODER_PATH)
    trained_on = header["metadata"]["classes"]
    assert not set(trained_on) & set(LECTURE_CLASSES)


def test_pretrained_encoder_drops_into_a_model():
    model = ShapesNet(num_classes=4, rng=0)
    model.encoder = pretrained_encoder(freeze=True)
    assert model.num_parameters(trainable_only=True) == 4100
    x = _x((3, 1, 32, 32))
    y = model(x)
    model.backward(np.ones_like(y))
    assert model.encoder[0].weight.grad is None
    assert model.classifier[2].weight.grad is not None


@pytest.fixture
def one_thread():
    # NOTE: 300 steps on batches of 16 make thousands of small kernel calls;
    # on a 2-core machine that other processes keep busy, two OpenMP
    # threads made this test 7x slower (30 s against 4 s) while waiting for
    # each other, so it runs on one: it checks transfer, not threading.
    before = cnnc.get_num_threads()
    cnnc.set_num_threads(1)
    yield
    cnnc.set_num_threads(before)


def test_pretrained_encoder_beats_training_from_scratch(one_thread):
    # 20 labelled images per class of the lecture's shapes, which the
    # encoder never saw; the same training for both networks.
    from cnnc.data import shapes
    from cnnc.losses import CrossEntropyLoss
    from cnnc.optim import SGD

    (x, y), (x_test, y_test) = shapes(80, 400, seed=1)
    accuracies = []
    for pretrained in (True, False):
        rng = np.random.default_rng(0)
        model = ShapesNet(num_classes=4, rng=rng)
        if pretrained:
            model.encoder = pretrained_encoder(freeze=True)
        opt = SGD([p for p in model.parameters() if p.requires_grad],
                  lr=0.01, momentum=0.9, weight_decay=5e-4)
        loss_fn = CrossEntropyLoss()
        for _ in range(30):
            order = rng.permutation(len(x))
            for start in range(0, len(x), 16):
                batch = order[start:start + 16]
                model.zero_grad()
                loss_fn(model(x[batch]), y[batch])
                model.backward(loss_fn.backward())
                opt.step()
        model.eval()
        accuracies.append(float(np.mean(model(x_test).argmax(1) == y_test)))
    tuned, scratch = accuracies
    assert tuned > 0.75 and tuned > scratch + 0.05, accuracies
