"""cnnc.io: models and checkpoints to .npz and back, and clear errors for
files that are truncated, corrupted, of another version or not cnnc's."""
import json
import os
import pickle

import numpy as np
import pytest

from cnnc import io, optim
from cnnc.losses import CrossEntropyLoss
from cnnc.models import BenchNet, EncoderClassifier, LeNet5, ShapesNet
from cnnc.nn import (Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU,
                     Sequential)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(
        np.float32)


def _trained(model, x):
    """A model whose batch-norm statistics have moved from their defaults."""
    model.train()
    model(x)
    return model.eval()


@pytest.mark.parametrize("make, shape", [
    (lambda: ShapesNet(rng=0), (3, 1, 32, 32)),
    (lambda: LeNet5(image_size=28, dropout=0.5, rng=0), (3, 1, 28, 28)),
    (lambda: BenchNet(num_classes=7, rng=0), (2, 3, 32, 32)),
])
def test_save_load_rebuilds_the_same_model(tmp_path, make, shape):
    x = _x(shape)
    model = _trained(make(), x)
    path = tmp_path / "model.npz"
    io.save(model, path)
    loaded = io.load(path)
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    for key, value in model.state_dict().items():
        got = loaded.state_dict()[key]
        assert got.dtype == value.dtype, key
        np.testing.assert_array_equal(got, value, err_msg=key)
    np.testing.assert_array_equal(loaded.eval()(x), model(x))
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left


def test_save_writes_the_exact_path_and_replaces_atomically(tmp_path):
    path = str(tmp_path / "weights.bin")
    io.save(Conv2d(1, 2, 3), path)
    io.save(Conv2d(1, 4, 3), path)  # over an existing file
    assert os.listdir(tmp_path) == ["weights.bin"]
    assert io.load(path).out_channels == 4
    assert os.stat(path).st_mode & 0o644 == 0o644


def test_failed_save_leaves_no_file(tmp_path):
    class Opaque(Module):
        def __init__(self, thing):
            super().__init__()
            self.thing = thing

    with pytest.raises(TypeError, match="cannot be written as JSON"):
        io.save(Opaque(object()), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="model must be a cnnc Module"):
        io.save("model", tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_replaced_classifier_frozen_encoder_and_float64_survive(tmp_path):
    model = ShapesNet(num_classes=4, rng=0)
    model.classifier = Sequential(
        *model.classifier[:2], Linear(1024, 16, rng=1), Linear(16, 2, rng=2))
    model.encoder.freeze()
    model.astype(np.float64)
    io.save(model, tmp_path / "t.npz")
    loaded = io.load(tmp_path / "t.npz")
    assert len(loaded.classifier) == 4
    assert loaded.classifier[3].out_features == 2
    assert loaded.encoder[0].weight.dtype == np.float64
    assert not any(p.requires_grad for p in loaded.encoder.parameters())
    assert all(p.requires_grad for p in loaded.classifier.parameters())
    x = _x((2, 1, 32, 32)).astype(np.float64)
    np.testing.assert_array_equal(loaded.eval()(x), model.eval()(x))


def test_encoder_classifier_of_any_parts(tmp_path):
    model = EncoderClassifier(
        Sequential(Conv2d(1, 4, 3, rng=0), ReLU(), MaxPool2d(2)),
        Sequential(Flatten(), Linear(4 * 3 * 3, 2, rng=1)))
    io.save(model, tmp_path / "ec.npz")
    loaded = io.load(tmp_path / "ec.npz")
    assert repr(loaded) == repr(model)
    x = _x((2, 1, 8, 8))
    np.testing.assert_array_equal(loaded(x), model(x))


def test_metadata_and_header(tmp_path):
    io.save(Conv2d(1, 2, 3), tmp_path / "m.npz",
            metadata={"classes": ["star", "ring"], "accuracy": 0.97,
                      "mean": np.array([0.5])})
    header = io.read_header(tmp_path / "m.npz")
    assert header["format"] == "cnnc.model"
    assert header["version"] == io.FORMAT_VERSION
    assert header["config"]["type"] == "Conv2d"
    assert header["metadata"]["classes"] == ["star", "ring"]


# -- checkpoints ----------------------------------------------------------------

class StandInOptimizer:
    """The shape of a PyTorch-like optimiser's state dict: integer keys,
    tuples, numbers and arrays."""

    def __init__(self, params):
        self.params = list(params)
        self.state = {i: {"step": 3, "exp_avg": np.full(p.shape, 0.5),
                          "exp_avg_sq": np.full(p.shape, 0.25,
                                                np.float32)}
                      for i, p in enumerate(self.params)}
        self.param_groups = [{"lr": 1e-3, "betas": (0.9, 0.999),
                              "weight_decay": 0.0, "amsgrad": False,
                              "params": list(range(len(self.params)))}]
        self.loaded = None

    def state_dict(self):
        return {"state": self.state, "param_groups": self.param_groups}

    def load_state_dict(self, state):
        self.loaded = state


def test_checkpoint_round_trip_with_optimizer_state(tmp_path):
    model = _trained(ShapesNet(rng=0), _x((2, 1, 32, 32)))
    opt = StandInOptimizer(model.parameters())
    path = tmp_path / "ckpt.npz"
    io.save_checkpoint(path, model, opt, epoch=7,
                       extra={"history": {"loss": [1.0, 0.5]},
                              "rng_state": np.arange(4)})

    fresh = ShapesNet(rng=1)
    fresh_opt = StandInOptimizer(fresh.parameters())
    ckpt = io.load_checkpoint(path, model=fresh, optimizer=fresh_opt)
    assert ckpt["model"] is fresh and ckpt["epoch"] == 7
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key], value)
    state = fresh_opt.loaded
    assert state is ckpt["optimizer_state"]
    assert set(state["state"]) == set(range(len(opt.params)))
    assert state["state"][0]["step"] == 3
    assert state["state"][2]["exp_avg_sq"].dtype == np.float32
    np.testing.assert_array_equal(state["state"][1]["exp_avg"],
                                  opt.state[1]["exp_avg"])
    assert state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert state["param_groups"][0]["params"] == opt.param_groups[0]["params"]
    assert ckpt["extra"]["history"] == {"loss": [1.0, 0.5]}
    np.testing.assert_array_equal(ckpt["extra"]["rng_state"], np.arange(4))

    rebuilt = io.load_checkpoint(path)["model"]  # architecture from the file
    assert isinstance(rebuilt, ShapesNet)
    assert isinstance(io.load(path), ShapesNet)


@pytest.mark.parametrize("make_opt", [
    lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                        weight_decay=1e-3),
    lambda m: optim.Adam([{"params": m.encoder.parameters(), "lr": 1e-3},
                          {"params": m.classifier.parameters()}], lr=1e-2),
], ids=["SGD", "Adam-two-groups"])
def test_resuming_from_a_checkpoint_continues_the_same_run(tmp_path,
                                                           make_opt):
    x = _x((4, 1, 16, 16))
    y = np.array([0, 1, 2, 3])

    def steps(model, opt, count):
        loss_fn = CrossEntropyLoss()
        for _ in range(count):
            model.zero_grad()
            loss_fn(model(x), y)
            model.backward(loss_fn.backward())
            opt.step()

    straight = ShapesNet(image_size=16, rng=0, channels=(4, 4, 4))
    straight_opt = make_opt(straight)
    steps(straight, straight_opt, 2)
    io.save_checkpoint(tmp_path / "c.npz", straight, straight_opt, epoch=2)
    steps(straight, straight_opt, 2)

    resumed = ShapesNet(image_size=16, rng=9, channels=(4, 4, 4))
    resumed_opt = make_opt(resumed)
    ckpt = io.load_checkpoint(tmp_path / "c.npz", resumed, resumed_opt)
    assert ckpt["epoch"] == 2
    steps(resumed, resumed_opt, 2)
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value,
                                      err_msg=key)


def test_checkpoint_errors(tmp_path):
    path = tmp_path / "ckpt.npz"
    io.save_checkpoint(path, Conv2d(1, 2, 3), epoch=1)
    with pytest.raises(ValueError, match="ckpt.npz holds no optimizer state"):
        io.load_checkpoint(path, optimizer=StandInOptimizer([]))
    with pytest.raises(ValueError, match="saved weights do not fit the model"
                       ".*missing keys"):
        io.load_checkpoint(path, model=Sequential(Linear(2, 2)))
    with pytest.raises(ValueError, match="saved weights do not fit.*\\['weight'\\] "
                       "has shape \\(2, 1, 3, 3\\)"):
        io.load_checkpoint(path, model=Conv2d(1, 2, 5))
    with pytest.raises(TypeError, match="epoch must be an int or None"):
        io.save_checkpoint(path, Conv2d(1, 2, 3), epoch=1.5)

    class BadOptimizer:
        def state_dict(self):
            return {"state": {0: {"closure": print}}}

    with pytest.raises(TypeError, match="optimizer.state_dict\\(\\)\\['state'\\]"
                       "\\[0\\]\\['closure'\\] is a builtin_function_or_method"):
        io.save_checkpoint(path, Conv2d(1, 2, 3), BadOptimizer())


# -- broken files ---------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.npz"
    io.save(ShapesNet(rng=0), path)
    return path


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / "cut.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.npz is not a cnnc file: it "
                           "cannot be read as an .npz archive.*truncated"):
            io.load(bad)


def test_corrupted_array_bytes(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    start = data.index(b"encoder.0.weight.npy") + 200  # inside its values
    data[start:start + 8] = b"\xff" * 8
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="flipped.npz is corrupted: entry "
                       "'state/encoder.0.weight' cannot be read"):
        io.load(bad)


def _rewrite_header(path, out, change):
    with np.load(path) as archive:
        entries = {name: archive[name] for name in archive.files}
    header = json.loads(entries["__cnnc__"].tobytes())
    change(header)
    entries["__cnnc__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    np.savez(out, **entries)


def test_newer_and_invalid_format_versions(saved, tmp_path):
    newer = tmp_path / "newer.npz"
    _rewrite_header(saved, newer, lambda h: h.update(version=99))
    with pytest.raises(ValueError, match="newer.npz has format version 99, "
                       "written by a newer cnnc.*reads format version 1"):
        io.load(newer)
    invalid = tmp_path / "invalid.npz"
    _rewrite_header(saved, invalid, lambda h: h.update(version="one"))
    with pytest.raises(ValueError, match="invalid format version 'one'"):
        io.load(invalid)


def test_header_naming_an_unknown_class(saved, tmp_path):
    bad = tmp_path / "unknown.npz"
    _rewrite_header(saved, bad, lambda h: h["config"].update(type="os.system"))
    with pytest.raises(ValueError, match="unknown.npz: cannot rebuild the "
                       "model.*unknown module type 'os.system'"):
        io.load(bad)


def test_files_that_are_not_cnnc(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, weight=np.ones(3))
    with pytest.raises(ValueError, match="plain.npz is not a cnnc file: the "
                       ".npz archive has no '__cnnc__' header"):
        io.load(plain)
    array = tmp_path / "array.npy"
    np.save(array, np.ones(3))
    with pytest.raises(ValueError, match="array.npy is not a cnnc file: it "
                       "holds a single NumPy array"):
        io.load(array)
    text = tmp_path / "notes.txt"
    text.write_text("just some text\n")
    with pytest.raises(ValueError, match="notes.txt is not a cnnc file"):
        io.load(text)
    junk = tmp_path / "junk.npz"
    np.savez(junk, __cnnc__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match="junk.npz is corrupted: the header "
                       "is not valid JSON"):
        io.load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, __cnnc__=np.frombuffer(b'{"format": "x"}', np.uint8))
    with pytest.raises(ValueError, match="other.npz is not a cnnc file: its "
                       "header does not name a cnnc model"):
        io.load(other)
    with pytest.raises(FileNotFoundError, match="no such file"):
        io.load(tmp_path / "missing.npz")


class _Trap:
    """Unpickling this would create a file: loading must never do it."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_loading_never_unpickles(saved, tmp_path):
    trap_file = tmp_path / "trap-was-sprung"
    with np.load(saved) as archive:
        entries = {name: archive[name] for name in archive.files}
    payload = np.empty(1, dtype=object)
    payload[0] = _Trap(str(trap_file))
    entries["state/encoder.0.weight"] = payload
    bad = tmp_path / "pickled.npz"
    np.savez(bad, **entries)  # np.savez pickles object arrays
    assert pickle.dumps(payload[0])  # the trap is real
    with pytest.raises(ValueError, match="pickled.npz is corrupted: entry "
                       "'state/encoder.0.weight' cannot be read"):
        io.load(bad)
    assert not trap_file.exists()
