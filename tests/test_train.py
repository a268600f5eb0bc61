"""Tests of cnnc.train: the loop, History, evaluate, predict, the
confusion matrix and the callbacks."""
import json
import logging

import numpy as np
import pytest

from cnnc import losses, optim
from cnnc.data import ArrayDataset, DataLoader
from cnnc.nn import Conv2d, Linear, Module
from cnnc.train import (Callback, EarlyStopping, History, ModelCheckpoint,
                        confusion_matrix, evaluate, fit, predict)
import cnnc.train as train_module


class TinyConvNet(Module):
    """conv3x3(4) - flatten - linear: enough to learn bright-left against
    bright-right images, with two layers whose gradients can be tracked."""

    def __init__(self, rng=0):
        super().__init__()
        self.conv = Conv2d(1, 4, 3, padding=1, rng=rng)
        self.fc = Linear(4 * 6 * 6, 2, rng=rng)

    def forward(self, x):
        h = self.conv(x)
        self._shape = h.shape
        return self.fc(h.reshape(len(h), -1))

    def backward(self, grad_out):
        return self.conv.backward(self.fc.backward(grad_out).reshape(
            self._shape))


def left_right(n, seed=0):
    """Images of 6x6 with a bright left (class 0) or right (class 1) half."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0.0, 0.3, size=(n, 1, 6, 6)).astype(np.float32)
    x[y == 0, :, :, :3] += 1.0
    x[y == 1, :, :, 3:] += 1.0
    return x, y.astype(np.int64)


def blobs(n, seed=0):
    """Two Gaussian blobs in 2-D for a Linear classifier."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0.0, 1.0, size=(n, 2)) + 2.5 * (2 * y[:, None] - 1)
    return x.astype(np.float32), y.astype(np.int64)


def loader(x, y, batch_size=16, seed=0):
    return DataLoader(ArrayDataset(x, y), batch_size, shuffle=True, rng=seed)


def train_tiny(epochs=4, **kw):
    x, y = left_right(96)
    model = TinyConvNet()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    kw.setdefault("progress", False)
    history = fit(model, losses.CrossEntropyLoss(), opt, loader(x, y), epochs,
                  val_loader=left_right(32, seed=1), **kw)
    return model, opt, history


# -- fit and History ----------------------------------------------------------

def test_fit_reduces_the_loss_and_history_records_every_epoch():
    model, opt, history = train_tiny(epochs=4, track_grad_norms=True)
    assert len(history) == 4
    assert history["epoch"] == [1, 2, 3, 4]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > 0.9
    assert history["val_accuracy"][-1] > 0.9
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history["lr"] == [0.1] * 4
    assert all(s > 0 for s in history["seconds"])
    # One gradient norm per layer and epoch, input side first.
    assert list(history.grad_norms) == ["conv", "fc"]
    for values in history.grad_norms.values():
        assert len(values) == 4 and all(v > 0 for v in values)
    assert history.stopped_epoch is None
    assert model.training


def test_fit_records_the_lr_of_each_epoch_under_a_scheduler():
    x, y = blobs(64)
    model = Linear(2, 2, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.4)
    scheduler = optim.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, losses.CrossEntropyLoss(), opt, loader(x, y), 3,
                  scheduler=scheduler, progress=False)
    np.testing.assert_allclose(history["lr"], [0.4, 0.2, 0.1])
    assert history["val_loss"] == [None] * 3
    assert history.grad_norms == {}


def test_gradient_norms_are_the_mean_over_batches_of_each_layer_norm():
    x, y = blobs(8)
    model = Linear(2, 2, rng=0)
    expected = []
    for start in (0, 4):  # the two batches, before each step (lr=0)
        loss = losses.CrossEntropyLoss()
        loss(model(x[start:start + 4]), y[start:start + 4])
        model.zero_grad()
        model.backward(loss.backward())
        expected.append(np.sqrt(np.sum(model.weight.grad ** 2)
                                + np.sum(model.bias.grad ** 2)))
    history = fit(model, losses.CrossEntropyLoss(),
                  optim.SGD(model.parameters(), lr=0.0),
                  DataLoader(ArrayDataset(x, y), 4), 1, progress=False,
                  track_grad_norms=True)
    np.testing.assert_allclose(history.grad_norms["Linear"], [np.mean(expected)],
                               rtol=1e-5)


def test_history_round_trips_through_json(tmp_path):
    _, _, history = train_tiny(epochs=2, track_grad_norms=True)
    path = tmp_path / "history.json"
    history.save(path)
    data = json.loads(path.read_text())
    assert set(History.KEYS) <= set(data)
    assert data["grad_norms"].keys() == history.grad_norms.keys()
    again = History.load(path)
    assert again.to_dict() == history.to_dict()
    assert again.best_epoch("val_loss") in (1, 2)


def test_history_append_and_best_epoch():
    h = History()
    h.append({"epoch": 1, "loss": 1.0, "val_accuracy": 0.5}, {"a": 1.0})
    h.append({"epoch": 2, "loss": 0.5, "val_accuracy": 0.9})
    h.append({"epoch": 3, "loss": 0.7, "val_accuracy": 0.8}, {"b": 2.0})
    assert h.best_epoch("loss") == 2
    assert h.best_epoch("val_accuracy") == 2
    assert h.best_epoch("val_loss") is None
    assert h.grad_norms == {"a": [1.0, None, None], "b": [None, None, 2.0]}
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['acc'\]"):
        h.append({"acc": 1.0})
    with pytest.raises(KeyError, match="History has no metric 'acc'"):
        h["acc"]
    with pytest.raises(ValueError, match="not a History dictionary"):
        History.from_dict({"loss": [1.0]})
    assert "3 epochs" in repr(h)


def test_fit_with_clipping_bounds_each_step():
    x, y = blobs(32)
    x *= 100  # large inputs, large gradients
    model = Linear(2, 2, rng=0)
    before = model.weight.data.copy(), model.bias.data.copy()
    fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0),
        (x, y), 1, clip_grad_norm=0.01, progress=False)
    step = np.sqrt(np.sum((model.weight.data - before[0]) ** 2)
                   + np.sum((model.bias.data - before[1]) ** 2))
    assert 0 < step <= 0.01 * (1 + 1e-5)


def test_fit_skips_frozen_parameters():
    x, y = left_right(32)
    model = TinyConvNet()
    model.conv.weight.requires_grad = False
    model.conv.bias.requires_grad = False
    frozen = model.conv.weight.data.copy()
    history = fit(model, losses.CrossEntropyLoss(),
                  optim.SGD(model.parameters(), lr=0.1), loader(x, y), 1,
                  progress=False, track_grad_norms=True)
    np.testing.assert_array_equal(model.conv.weight.data, frozen)
    assert list(history.grad_norms) == ["fc"]


def test_fit_stops_with_a_clear_error_when_the_loss_diverges():
    x, y = blobs(16)
    x[3, 0] = np.nan
    model = Linear(2, 2, rng=0)
    with pytest.raises(FloatingPointError,
                       match="loss became nan in epoch 1/1, batch 1"):
        fit(model, losses.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1), (x, y), 1, progress=False)


def test_fit_validates_its_arguments():
    x, y = blobs(8)
    model = Linear(2, 2, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ce = losses.CrossEntropyLoss()
    with pytest.raises(TypeError, match="model must be a cnnc.nn.Module"):
        fit(lambda v: v, ce, opt, (x, y), 1)
    with pytest.raises(TypeError, match="loss_fn must be a loss"):
        fit(model, "ce", opt, (x, y), 1)
    with pytest.raises(ValueError, match="reduction='none'"):
        fit(model, losses.CrossEntropyLoss(reduction="none"), opt, (x, y), 1)
    with pytest.raises(TypeError, match="optimizer must be"):
        fit(model, ce, None, (x, y), 1)
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        fit(model, ce, opt, (x, y), 0)
    with pytest.raises(ValueError, match="clip_grad_norm must be a number > 0"):
        fit(model, ce, opt, (x, y), 1, clip_grad_norm=-1.0)
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be a "):
        fit(model, ce, opt, (x, y), 1, callbacks=[print])
    with pytest.raises(TypeError, match="train_loader must be a DataLoader"):
        fit(model, ce, opt, x, 1, progress=False)
    with pytest.raises(ValueError, match="train_loader gave no batches"):
        fit(model, ce, opt, [], 1, progress=False)


# -- progress and logging -----------------------------------------------------

def test_progress_false_prints_nothing(capsys):
    train_tiny(epochs=2, progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


class FakeBar:
    """Records what fit asks of a tqdm bar."""
    made = []

    def __init__(self, total, desc, **kw):
        self.total, self.desc, self.updates = total, desc, 0
        self.postfix, self.closed = "", False
        FakeBar.made.append(self)

    def set_postfix_str(self, text, refresh=True):
        self.postfix = text

    def update(self, n):
        self.updates += n

    def close(self):
        self.closed = True


def test_progress_shows_one_bar_per_epoch(monkeypatch, capsys):
    FakeBar.made = []
    monkeypatch.setattr(train_module, "_load_tqdm", lambda: FakeBar)
    train_tiny(epochs=2, progress=True)
    assert [bar.desc for bar in FakeBar.made] == ["epoch 1/2", "epoch 2/2"]
    for bar in FakeBar.made:
        assert bar.total == bar.updates == 6 and bar.closed  # 96 / 16
        assert "loss=" in bar.postfix and "val_acc=" in bar.postfix
    assert capsys.readouterr().out == ""


def test_without_tqdm_each_epoch_is_logged(monkeypatch, caplog, capsys):
    monkeypatch.setattr(train_module, "_load_tqdm", lambda: None)
    with caplog.at_level(logging.INFO, logger="cnnc"):
        train_tiny(epochs=2, progress=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "cnnc"]
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: loss=") and "val_acc=" in lines[0]
    assert capsys.readouterr().out == ""


def test_load_tqdm_returns_none_when_it_is_missing(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    assert train_module._load_tqdm() is None


# -- evaluate, predict, confusion_matrix --------------------------------------

def identity_model():
    model = Linear(2, 2, rng=0)
    model.weight.data[...] = np.eye(2)
    model.bias.data[...] = 0
    return model


def test_evaluate_is_exact_and_independent_of_the_batching():
    x = np.array([[2, 0], [0, 1], [1, 3], [3, 0], [0, 0.5]], np.float32)
    y = np.array([0, 1, 0, 0, 0])
    model = identity_model()
    ce = losses.CrossEntropyLoss()
    full = ce(x, y)  # the model is the identity
    for batch_size in (1, 2, 5):
        batches = DataLoader(ArrayDataset(x, y), batch_size)
        loss, accuracy = evaluate(model, batches, ce)
        assert loss == pytest.approx(full, rel=1e-6)
        assert accuracy == 3 / 5
    assert evaluate(model, (x, y)) == (None, 3 / 5)


def test_evaluate_and_predict_run_in_eval_mode_and_restore_it():
    seen = []

    class ModeSpy(Linear):
        def forward(self, x):
            seen.append(self.training)
            return super().forward(x)

    model = ModeSpy(2, 2, rng=0)
    x, y = blobs(4)
    evaluate(model, (x, y))
    predict(model, x)
    assert seen == [False, False] and model.training
    model.eval()
    predict(model, x)
    assert not model.training


def test_evaluate_without_accuracy_for_a_regression():
    model = Linear(2, 1, rng=0)
    x = np.ones((3, 2), np.float32)
    target = model(x)
    loss, accuracy = evaluate(model, (x, target), losses.MSELoss())
    assert loss == 0.0 and accuracy is None


def test_predict_classes_and_logits():
    x = np.array([[2, 0], [0, 1], [1, 3]], np.float32)
    model = identity_model()
    np.testing.assert_array_equal(predict(model, x), [0, 1, 1])
    assert predict(model, x).dtype == np.int64
    np.testing.assert_array_equal(predict(model, x, batch_size=1, logits=True),
                                  x)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        predict(model, x, batch_size=0)
    with pytest.raises(TypeError, match="x must be an array"):
        predict(model, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="x holds no samples"):
        predict(model, x[:0])


def test_confusion_matrix_counts_exactly():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype == np.int64
    wide = confusion_matrix(np.array([1]), np.array([1]), num_classes=4)
    assert wide.shape == (4, 4) and wide[1, 1] == 1 and wide.sum() == 1
    assert confusion_matrix([], [], num_classes=2).sum() == 0


def test_confusion_matrix_validation():
    with pytest.raises(ValueError, match="same length, got 2 and 1"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="below num_classes=2, got a label 2"):
        confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="y_pred must hold labels >= 0"):
        confusion_matrix([0, 1], [0, -1])
    with pytest.raises(ValueError, match="y_true must be a 1-D array"):
        confusion_matrix([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        confusion_matrix([0], [0], num_classes=0)


# -- callbacks ------------------------------------------------------------------

def test_a_callback_sees_every_epoch_and_can_stop():
    class StopAtTwo(Callback):
        def __init__(self):
            self.calls = []

        def on_epoch_end(self, epoch, logs):
            self.calls.append((epoch, sorted(logs)))
            return epoch == 2

        def on_train_end(self, history):
            self.calls.append(("end", len(history)))

    cb = StopAtTwo()
    model, opt, history = train_tiny(epochs=5, callbacks=[cb])
    assert cb.model is model and cb.optimizer is opt
    assert [c[0] for c in cb.calls] == [1, 2, "end"]
    assert cb.calls[0][1] == sorted(History.KEYS)
    assert len(history) == 2 and history.stopped_epoch == 2


def test_early_stopping_stops_when_nothing_improves():
    x, y = blobs(32)
    model = Linear(2, 2, rng=0)
    stopper = EarlyStopping(monitor="loss", patience=2)
    history = fit(model, losses.CrossEntropyLoss(),
                  optim.SGD(model.parameters(), lr=0.0), (x, y), 10,
                  callbacks=[stopper], progress=False)
    # Epoch 1 sets the best; 2 and 3 do not beat it.
    assert len(history) == 3 and history.stopped_epoch == 3
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 1


def test_early_stopping_restores_the_best_weights():
    model = Linear(2, 2, rng=0)
    stopper = EarlyStopping(monitor="val_accuracy", patience=2,
                            min_delta=0.01)
    stopper.on_train_begin(model, None)
    history = History()
    weights = {}
    for epoch, acc in enumerate([0.5, 0.8, 0.805, 0.7], start=1):
        model.weight.data[...] = epoch
        weights[epoch] = model.weight.data.copy()
        history.append({"epoch": epoch, "val_accuracy": acc})
        stop = stopper.on_epoch_end(epoch, {"val_accuracy": acc})
        if stop:
            break
    # 0.805 is not 0.01 better than 0.8: epochs 3 and 4 count as no gain.
    assert stop and epoch == 4 and stopper.best_epoch == 2
    stopper.on_train_end(history)
    np.testing.assert_array_equal(model.weight.data, weights[2])


def test_early_stopping_without_restoring():
    model = Linear(2, 2, rng=0)
    stopper = EarlyStopping(monitor="loss", patience=1, restore_best=False)
    stopper.on_train_begin(model, None)
    stopper.on_epoch_end(1, {"loss": 1.0})
    model.weight.data[...] = 7
    assert stopper.on_epoch_end(2, {"loss": 2.0})
    stopper.on_train_end(History())
    assert np.all(model.weight.data == 7)


def test_callback_validation():
    with pytest.raises(ValueError, match="patience must be an int >= 1"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="monitor must be one of"):
        EarlyStopping(monitor="val_acc")
    with pytest.raises(ValueError, match="min_delta must be a number >= 0"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        ModelCheckpoint("x.npz", mode="best")
    x, y = blobs(8)
    model = Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match=r"monitors 'val_loss', which this "
                       r"training does not measure \(pass val_loader"):
        fit(model, losses.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1), (x, y), 1,
            callbacks=[EarlyStopping()], progress=False)


def test_model_checkpoint_saves_the_best_epochs(tmp_path):
    io = pytest.importorskip("cnnc.io")
    pattern = str(tmp_path / "ckpt-{epoch}.npz")
    checkpoint = ModelCheckpoint(pattern, monitor="val_accuracy")
    model, opt, history = train_tiny(epochs=3, callbacks=[checkpoint])
    best, top = [], None
    for epoch, accuracy in zip(history["epoch"], history["val_accuracy"]):
        if top is None or accuracy > top:
            best.append(epoch)
            top = accuracy
    assert checkpoint.saved == [pattern.format(epoch=e) for e in best]
    last = io.load_checkpoint(checkpoint.saved[-1])
    assert last["epoch"] == best[-1]
    assert last["optimizer_state"] is not None
    assert last["extra"]["logs"]["val_accuracy"] == max(
        history["val_accuracy"])


def test_model_checkpoint_every_epoch_to_one_file(tmp_path):
    io = pytest.importorskip("cnnc.io")
    path = tmp_path / "last.npz"
    checkpoint = ModelCheckpoint(path, save_best_only=False)
    model, opt, _ = train_tiny(epochs=2, callbacks=[checkpoint])
    assert checkpoint.saved == [str(path)] * 2
    restored = io.load_checkpoint(path)
    assert restored["epoch"] == 2
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(restored["model"].state_dict()[key],
                                      value)
