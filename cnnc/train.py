"""Training a network: the lecture's loop, written out.

The recipe of the lecture, and where each step lives::

    1. initialise the parameters at random        the layers' constructors
    2. preprocess and shuffle the images           cnnc.data.DataLoader
    3. feed a mini-batch forward                   scores = model(x)
    4. measure the error                           loss = loss_fn(scores, y)
    5. propagate its gradient back and step        model.backward(...)
                                                   optimizer.step()
    6. repeat until the error stops falling        epochs, EarlyStopping

:func:`fit` runs steps 3-6 for a number of epochs and returns a
:class:`History` of what happened; :func:`evaluate` and :func:`predict`
run a trained model in evaluation mode; :func:`confusion_matrix` counts
which classes it mistakes for which. Callbacks (:class:`EarlyStopping`,
:class:`ModelCheckpoint`, or a :class:`Callback` of your own) look at
every finished epoch and may stop the training.

Messages go to ``logging.getLogger("cnnc")``; nothing here prints. The
progress bar uses tqdm when it is installed (``pip install tqdm``).
"""
import json
import logging
import math
import numbers
import os
import time
from collections import OrderedDict

import numpy as np

from cnnc.nn.module import Module
from cnnc.optim.clip import clip_grad_norm_

__all__ = [
    "fit", "evaluate", "predict", "confusion_matrix", "History",
    "Callback", "EarlyStopping", "ModelCheckpoint",
]

_log = logging.getLogger("cnnc")

# Batch size of evaluate() and predict() when they are given plain arrays.
_EVAL_BATCH = 256


# -- the record of a training run --------------------------------------------

class History:
    """What :func:`fit` measured, epoch by epoch.

    Every metric is a list with one entry per finished epoch; an entry is
    None when it was not measured (``val_loss`` without a validation set,
    ``accuracy`` for a loss that is not a classifier's).

    Attributes
    ----------
    metrics : dict of str to list
        ``"epoch"`` (1, 2, ...), ``"loss"`` and ``"accuracy"`` (on the
        training batches, as they were seen during the epoch),
        ``"val_loss"`` and ``"val_accuracy"`` (on the validation set at
        the end of the epoch), ``"lr"`` (of the first parameter group
        during the epoch) and ``"seconds"``.
    grad_norms : OrderedDict of str to list
        With ``fit(..., track_grad_norms=True)``: for each layer that has
        parameters (named by its path, ``"encoder.0"``), the Euclidean
        norm of its parameters' gradients averaged over the epoch's
        batches, from the input side to the output side. A layer whose
        gradient shrinks by orders of magnitude towards the input shows
        vanishing gradients.
    layer_types : OrderedDict of str to str
        The class of each layer in :attr:`grad_norms` (``"Conv2d"``).
    stopped_epoch : int or None
        The epoch after which a callback stopped the training.

    Examples
    --------
    >>> from cnnc.train import History
    >>> h = History()
    >>> h.append({"epoch": 1, "loss": 0.9, "accuracy": 0.6, "lr": 0.1,
    ...           "seconds": 2.0})
    >>> len(h), h["loss"], h["val_loss"]
    (1, [0.9], [None])
    >>> History.from_dict(h.to_dict())["accuracy"]
    [0.6]
    """

    KEYS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr",
            "seconds")

    def __init__(self):
        self.metrics = OrderedDict((key, []) for key in self.KEYS)
        self.grad_norms = OrderedDict()
        self.layer_types = OrderedDict()
        self.stopped_epoch = None

    def append(self, logs, grad_norms=None):
        """Add one epoch: ``logs`` maps names of :attr:`KEYS` to values
        (missing ones are None); ``grad_norms`` maps layers to a norm."""
        unknown = sorted(set(logs) - set(self.KEYS))
        if unknown:
            raise ValueError("unknown metric(s) %s; History records %s"
                             % (unknown, list(self.KEYS)))
        for key, values in self.metrics.items():
            values.append(_plain(logs.get(key)))
        done = len(self) - 1
        for name, norm in (grad_norms or {}).items():
            # A layer seen for the first time gets None for earlier epochs.
            self.grad_norms.setdefault(name, [None] * done).append(_plain(norm))
        for values in self.grad_norms.values():
            if len(values) < len(self):
                values.append(None)

    def __len__(self):
        return len(self.metrics["epoch"])

    def __getitem__(self, key):
        if key not in self.metrics:
            raise KeyError("History has no metric %r; it has %s"
                           % (key, list(self.metrics)))
        return self.metrics[key]

    def best_epoch(self, monitor="val_loss", mode="auto"):
        """The epoch with the lowest (or, for accuracies, highest) value
        of ``monitor``; None when it was never measured."""
        sign = -1.0 if _resolve_mode(monitor, mode) == "max" else 1.0
        pairs = [(sign * v, e) for v, e in zip(self[monitor], self["epoch"])
                 if v is not None]
        return min(pairs)[1] if pairs else None

    def to_dict(self):
        """Plain lists, floats and None: ready for ``json.dump``."""
        data = OrderedDict((key, list(values))
                           for key, values in self.metrics.items())
        data["grad_norms"] = OrderedDict(
            (name, list(values)) for name, values in self.grad_norms.items())
        data["layer_types"] = OrderedDict(self.layer_types)
        data["stopped_epoch"] = self.stopped_epoch
        return data

    @classmethod
    def from_dict(cls, data):
        """Rebuild a History from :meth:`to_dict`'s output (or its JSON)."""
        history = cls()
        lengths = {len(data.get(key, [])) for key in cls.KEYS if key in data}
        if "epoch" not in data or len(lengths) > 1:
            raise ValueError("not a History dictionary: it needs an 'epoch' "
                             "list and lists of the same length for %s"
                             % (list(cls.KEYS),))
        for key in cls.KEYS:
            history.metrics[key] = list(data.get(key, [None] * len(
                data["epoch"])))
        for name, values in (data.get("grad_norms") or {}).items():
            history.grad_norms[name] = list(values)
        history.layer_types.update(data.get("layer_types") or {})
        history.stopped_epoch = data.get("stopped_epoch")
        return history

    def save(self, path):
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1, allow_nan=True)
            f.write("\n")

    @classmethod
    def load(cls, path):
        """Read a History written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def __repr__(self):
        last = ""
        if len(self):
            last = ", last: " + _format_logs(
                {k: v[-1] for k, v in self.metrics.items()})
        return "History(%d epochs%s)" % (len(self), last)


def _plain(value):
    """A NumPy scalar as a Python number, so JSON can write it."""
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- callbacks ----------------------------------------------------------------

class Callback:
    """Something :func:`fit` calls at the start, after every epoch and at
    the end of training. Subclass it and override what you need.

    Attributes
    ----------
    model : Module
        Set by ``on_train_begin``.
    optimizer : Optimizer
        Set by ``on_train_begin``.

    Examples
    --------
    >>> from cnnc.train import Callback
    >>> class StopWhenPerfect(Callback):
    ...     def on_epoch_end(self, epoch, logs):
    ...         return logs["accuracy"] == 1.0   # True stops the training
    """

    model = None
    optimizer = None

    def on_train_begin(self, model, optimizer):
        """Called once before the first epoch."""
        self.model = model
        self.optimizer = optimizer

    def on_epoch_end(self, epoch, logs):
        """Called after each epoch with its number (1 for the first) and
        its metrics (the keys of :attr:`History.KEYS`). Return True to
        stop the training."""
        return False

    def on_train_end(self, history):
        """Called once after the last epoch with the :class:`History`."""


def _resolve_mode(monitor, mode):
    """"min" or "max": accuracies improve upwards, everything else down."""
    if mode not in ("auto", "min", "max"):
        raise ValueError("mode must be 'auto', 'min' or 'max', got %r"
                         % (mode,))
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class _Monitor(Callback):
    """The best value of one metric so far, for the callbacks below."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if monitor not in History.KEYS or monitor in ("epoch", "seconds"):
            raise ValueError("monitor must be one of 'loss', 'accuracy', "
                             "'val_loss', 'val_accuracy', 'lr', got %r"
                             % (monitor,))
        if (isinstance(min_delta, bool)
                or not isinstance(min_delta, numbers.Real)
                or not min_delta >= 0):
            raise ValueError("min_delta must be a number >= 0, got %r"
                             % (min_delta,))
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode)
        self.min_delta = float(min_delta)
        self.best = None
        self.best_epoch = None

    def on_train_begin(self, model, optimizer):
        super().on_train_begin(model, optimizer)
        self.best = None
        self.best_epoch = None

    def _value(self, logs):
        value = logs.get(self.monitor)
        if value is None:
            hint = (" (pass val_loader to fit)"
                    if self.monitor.startswith("val_") else "")
            raise ValueError("%s monitors %r, which this training does not "
                             "measure%s" % (type(self).__name__, self.monitor,
                                            hint))
        return value

    def _improved(self, value):
        """Whether ``value`` beats the best by more than ``min_delta``."""
        if self.best is None or math.isnan(self.best):
            return not math.isnan(value)
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when a metric has not improved for ``patience`` epochs.

    The lecture's "repeat until the error stops falling", and a guard
    against overfitting: the validation loss rises while the training
    loss still falls.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of :attr:`History.KEYS`.
    patience : int, default 5
        Epochs without improvement before stopping.
    min_delta : float, default 0.0
        Smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; "auto" picks "max" for
        accuracies.
    restore_best : bool, default True
        At the end of training, put back the weights (and buffers) of the
        best epoch.

    Attributes
    ----------
    best : float or None
    best_epoch : int or None
    stopped_epoch : int or None

    Examples
    --------
    >>> from cnnc.train import EarlyStopping
    >>> EarlyStopping(patience=3)
    EarlyStopping(monitor='val_loss', patience=3, min_delta=0.0)
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0,
                 mode="auto", restore_best=True):
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(
                patience, (int, np.integer)) or patience < 1:
            raise ValueError("patience must be an int >= 1, got %r"
                             % (patience,))
        self.patience = int(patience)
        self.restore_best = bool(restore_best)
        self.stopped_epoch = None
        self._best_state = None
        self._wait = 0

    def on_train_begin(self, model, optimizer):
        super().on_train_begin(model, optimizer)
        self.stopped_epoch = None
        self._best_state = None
        self._wait = 0

    def on_epoch_end(self, epoch, logs):
        value = self._value(logs)
        if self._improved(value):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best:
                self._best_state = self.model.state_dict()
            return False
        self._wait += 1
        if self._wait < self.patience:
            return False
        self.stopped_epoch = epoch
        _log.info("early stopping after epoch %d: %s has not improved on "
                  "%.4g (epoch %d) for %d epochs", epoch, self.monitor,
                  self.best, self.best_epoch, self.patience)
        return True

    def on_train_end(self, history):
        if self._best_state is not None and self.best_epoch != len(history):
            self.model.load_state_dict(self._best_state)
            _log.info("restored the weights of epoch %d (%s=%.4g)",
                      self.best_epoch, self.monitor, self.best)
        self._best_state = None

    def __repr__(self):
        return "EarlyStopping(monitor=%r, patience=%d, min_delta=%r)" % (
            self.monitor, self.patience, self.min_delta)


class ModelCheckpoint(_Monitor):
    """Save the model (and the optimiser's state) after epochs.

    Files are written with :func:`cnnc.io.save_checkpoint`, so
    :func:`cnnc.io.load_checkpoint` resumes from them.

    Parameters
    ----------
    path : str or path-like
        Where to write. It may contain ``{epoch}`` (and any other key of
        the epoch's metrics, e.g. ``{val_loss:.3f}``) to keep one file per
        epoch; otherwise each save replaces the last.
    monitor : str, default "val_loss"
        The metric that decides which epoch is the best.
    save_best_only : bool, default True
        Save only when ``monitor`` improves; otherwise after every epoch.
    mode : {"auto", "min", "max"}, default "auto"

    Attributes
    ----------
    best : float or None
    best_epoch : int or None
    saved : list of str
        The files written, in order.

    Examples
    --------
    >>> from cnnc.train import ModelCheckpoint
    >>> ModelCheckpoint("best.npz", monitor="val_accuracy")
    ModelCheckpoint('best.npz', monitor='val_accuracy', save_best_only=True)
    """

    def __init__(self, path, monitor="val_loss", save_best_only=True,
                 mode="auto"):
        super().__init__(monitor, mode)
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)
        self.saved = []

    def on_train_begin(self, model, optimizer):
        super().on_train_begin(model, optimizer)
        self.saved = []

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            value = self._value(logs)
            if not self._improved(value):
                return False
            self.best, self.best_epoch = value, epoch
        path = self.path.format(**logs)
        from cnnc import io
        io.save_checkpoint(path, self.model, self.optimizer, epoch=epoch,
                           extra={"logs": {k: v for k, v in logs.items()
                                           if v is not None}})
        self.saved.append(path)
        _log.info("epoch %d: saved %s", epoch, path)
        return False

    def __repr__(self):
        return "ModelCheckpoint(%r, monitor=%r, save_best_only=%r)" % (
            self.path, self.monitor, self.save_best_only)


# -- batches, progress --------------------------------------------------------

def _batches(data, name):
    """Mini-batches ``(x, y)`` of a loader, or of a pair of arrays."""
    if isinstance(data, tuple) and len(data) == 2 and isinstance(
            data[0], np.ndarray):
        x, y = data
        y = np.asarray(y)
        if len(x) != len(y):
            raise ValueError("%s holds %d images but %d labels"
                             % (name, len(x), len(y)))
        return [(x[i:i + _EVAL_BATCH], y[i:i + _EVAL_BATCH])
                for i in range(0, len(x), _EVAL_BATCH)]
    if isinstance(data, np.ndarray) or not hasattr(data, "__iter__"):
        raise TypeError("%s must be a DataLoader (or an iterable of (x, y) "
                        "batches) or a pair (x, y) of arrays, got %s"
                        % (name, type(data).__name__))
    return data


def _load_tqdm():
    """tqdm's progress bar class, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class _Progress:
    """A tqdm bar over one epoch's batches, or nothing.

    Without tqdm (or with ``enabled=False``) it does nothing, and the
    epoch's summary goes to the log instead (see :func:`fit`).
    """

    def __init__(self, enabled, total, description):
        tqdm = _load_tqdm() if enabled else None
        self.shown = tqdm is not None
        self._bar = None
        if tqdm is not None:
            self._bar = tqdm(total=total, desc=description, unit="batch",
                             leave=True, dynamic_ncols=True)

    def update(self, **values):
        """One more batch done; ``values`` go after the bar."""
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(values), refresh=False)
            self._bar.update(1)

    def close(self, **values):
        """Finish the bar, with ``values`` (if any) after it."""
        if self._bar is not None:
            if values:
                self._bar.set_postfix_str(_format_logs(values), refresh=False)
            self._bar.close()
            self._bar = None


def _format_logs(logs):
    """``loss=0.412 acc=87.5% val_loss=...`` for the bar and the log."""
    parts = []
    for key, value in logs.items():
        if value is None or key == "epoch":
            continue
        if key.endswith("accuracy"):
            parts.append("%s=%.1f%%" % (key.replace("accuracy", "acc"),
                                        100 * value))
        elif key == "seconds":
            parts.append("%.1fs" % value)
        else:
            parts.append("%s=%.4g" % (key, value))
    return " ".join(parts)


# -- the loop -------------------------------------------------------------------

def _check_fit_arguments(model, loss_fn, optimizer, epochs, clip_grad_norm,
                         callbacks):
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc.nn.Module, got %s"
                        % type(model).__name__)
    if not (callable(loss_fn) and hasattr(loss_fn, "backward")):
        raise TypeError("loss_fn must be a loss with forward and backward "
                        "(e.g. cnnc.losses.CrossEntropyLoss()), got %s"
                        % type(loss_fn).__name__)
    if getattr(loss_fn, "reduction", "mean") not in ("mean", "sum"):
        raise ValueError("loss_fn must reduce to one number per batch "
                         "(reduction 'mean' or 'sum'), got reduction=%r"
                         % loss_fn.reduction)
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "param_groups")):
        raise TypeError("optimizer must be a cnnc.optim.Optimizer, got %s"
                        % type(optimizer).__name__)
    if isinstance(epochs, bool) or not isinstance(
            epochs, (int, np.integer)) or epochs < 1:
        raise ValueError("epochs must be an int >= 1, got %r" % (epochs,))
    if clip_grad_norm is not None and (
            isinstance(clip_grad_norm, bool)
            or not isinstance(clip_grad_norm, numbers.Real)
            or not clip_grad_norm > 0):
        raise ValueError("clip_grad_norm must be a number > 0 or None, got %r"
                         % (clip_grad_norm,))
    callbacks = list(callbacks)
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError("callbacks[%d] must be a cnnc.train.Callback, got "
                            "%s" % (i, type(callback).__name__))
    return callbacks


def _batch_total(loss, n, loss_fn):
    """The summed loss of a batch of ``n`` from its reduced value."""
    return loss if getattr(loss_fn, "reduction", "mean") == "sum" else loss * n


def _n_correct(scores, y):
    """How many rows of ``scores`` have their largest entry at ``y``, or
    None when the model is not a classifier (scores not (N, classes))."""
    y = np.asarray(y)
    if scores.ndim != 2 or y.ndim != 1 or y.dtype.kind not in "iu":
        return None
    return int(np.count_nonzero(scores.argmax(axis=1) == y))


def _layer_name(parameter_name, model):
    """``"encoder.0"`` for ``"encoder.0.weight"``: the owning layer."""
    return parameter_name.rpartition(".")[0] or type(model).__name__


def _layer_types(model):
    """The class name of every layer that owns parameters, by path."""
    types = OrderedDict()
    owners = dict(model.named_modules()) if hasattr(
        model, "named_modules") else {}
    for name, _ in model.named_parameters():
        layer = _layer_name(name, model)
        owner = owners.get(name.rpartition(".")[0], model)
        types.setdefault(layer, type(owner).__name__)
    return types


def _layer_norms(model):
    """Per layer (the path of the module owning the parameters), the
    Euclidean norm of all its parameters' gradients."""
    squares = OrderedDict()
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        layer = _layer_name(name, model)
        g = param.grad
        squares[layer] = squares.get(layer, 0.0) + float(np.vdot(g, g))
    return OrderedDict((layer, math.sqrt(s)) for layer, s in squares.items())


def _train_epoch(model, loss_fn, optimizer, loader, clip_grad_norm,
                 track_grad_norms, bar, description):
    """One pass over the training batches; returns (mean loss, accuracy
    or None, mean gradient norm per layer)."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    total_loss, correct, seen, batches = 0.0, 0, 0, 0
    norm_sums = OrderedDict()
    for x, y in _batches(loader, "train_loader"):
        # Forward, and the error of this mini-batch.
        scores = model(x)
        loss = loss_fn(scores, y)
        if not math.isfinite(loss):
            raise FloatingPointError(
                "the loss became %r in %s, batch %d: the weights have "
                "diverged; lower the learning rate or clip the gradients "
                "(clip_grad_norm)" % (loss, description, batches + 1))

        # Backward: forget the last batch's gradients, then accumulate.
        model.zero_grad()
        model.backward(loss_fn.backward())
        if track_grad_norms:
            for layer, norm in _layer_norms(model).items():
                count, total = norm_sums.get(layer, (0, 0.0))
                norm_sums[layer] = (count + 1, total + norm)

        # Step: the optimiser moves every parameter against its gradient.
        if clip_grad_norm is not None:
            clip_grad_norm_(params, clip_grad_norm)
        optimizer.step()

        n = len(y)
        total_loss += _batch_total(loss, n, loss_fn)
        hits = _n_correct(scores, y)
        correct = None if hits is None or correct is None else correct + hits
        seen += n
        batches += 1
        bar.update(loss=total_loss / seen,
                   accuracy=None if correct is None else correct / seen)
    if seen == 0:
        raise ValueError("train_loader gave no batches")
    accuracy = None if correct is None else correct / seen
    norms = OrderedDict((layer, total / count)
                        for layer, (count, total) in norm_sums.items())
    return total_loss / seen, accuracy, norms


def _length(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def fit(model, loss_fn, optimizer, train_loader, epochs, val_loader=None,
        scheduler=None, clip_grad_norm=None, callbacks=(), progress=True,
        track_grad_norms=False):
    """Train ``model`` for ``epochs`` passes over ``train_loader``.

    Each epoch: the model in training mode; for every mini-batch a
    forward pass, the loss, ``model.zero_grad()``, the backward pass
    ``model.backward(loss_fn.backward())``, optional gradient clipping and
    ``optimizer.step()``; then the validation set in evaluation mode,
    ``scheduler.step()``, and the callbacks.

    Parameters
    ----------
    model : Module
    loss_fn : loss object
        Called as ``loss_fn(scores, y)``; its ``backward()`` starts the
        backward pass. E.g. :class:`cnnc.losses.CrossEntropyLoss`.
    optimizer : cnnc.optim.Optimizer
        Built on the parameters to train.
    train_loader : DataLoader, iterable of (x, y), or (x, y) arrays
        The training mini-batches; a :class:`cnnc.data.DataLoader` with
        ``shuffle=True`` gives a new order every epoch.
    epochs : int
        At most this many passes (a callback may stop earlier).
    val_loader : DataLoader or (x, y) arrays, optional
        Evaluated after every epoch for ``val_loss`` and ``val_accuracy``.
    scheduler : learning-rate scheduler, optional
        Its ``step()`` is called once after every epoch.
    clip_grad_norm : float, optional
        Scale the gradients so that their joint norm is at most this,
        before each step (:func:`cnnc.optim.clip_grad_norm_`).
    callbacks : sequence of Callback
        Called after every epoch; one returning True stops the training.
    progress : bool, default True
        Show a tqdm progress bar per epoch (when tqdm is installed;
        otherwise each epoch's summary is logged at INFO level).
    track_grad_norms : bool, default False
        Record each layer's mean gradient norm per epoch in
        :attr:`History.grad_norms` (for :func:`cnnc.viz.plot_gradient_flow`).

    Returns
    -------
    History
        The metrics of every finished epoch. The model is left in
        training mode, with the weights of the last epoch (or the best
        one, after :class:`EarlyStopping` with ``restore_best``).

    Raises
    ------
    FloatingPointError
        When the loss becomes NaN or infinite (the training diverged).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import losses, optim
    >>> from cnnc.data import ArrayDataset, DataLoader
    >>> from cnnc.nn import Linear
    >>> from cnnc.train import fit
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2)).astype(np.float32)
    >>> y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    >>> model = Linear(2, 2, rng=0)
    >>> loader = DataLoader(ArrayDataset(x, y), batch_size=20, shuffle=True,
    ...                     rng=0)
    >>> history = fit(model, losses.CrossEntropyLoss(),
    ...               optim.SGD(model.parameters(), lr=0.5), loader,
    ...               epochs=5, progress=False)
    >>> history["accuracy"][-1] > 0.95
    True
    """
    callbacks = _check_fit_arguments(model, loss_fn, optimizer, epochs,
                                     clip_grad_norm, callbacks)
    history = History()
    if track_grad_norms:
        history.layer_types.update(_layer_types(model))
    for callback in callbacks:
        callback.on_train_begin(model, optimizer)
    for epoch in range(1, int(epochs) + 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        description = "epoch %d/%d" % (epoch, epochs)
        bar = _Progress(progress, _length(train_loader), description)
        try:
            loss, accuracy, norms = _train_epoch(
                model, loss_fn, optimizer, train_loader, clip_grad_norm,
                track_grad_norms, bar, description)
            val_loss = val_accuracy = None
            if val_loader is not None:
                val_loss, val_accuracy = evaluate(model, val_loader, loss_fn)
            bar.close(loss=loss, accuracy=accuracy, val_loss=val_loss,
                      val_accuracy=val_accuracy)
        finally:
            bar.close()
        if scheduler is not None:
            scheduler.step()
        logs = OrderedDict(epoch=epoch, loss=loss, accuracy=accuracy,
                           val_loss=val_loss, val_accuracy=val_accuracy,
                           lr=lr, seconds=time.perf_counter() - start)
        history.append(logs, norms)
        _log.log(logging.INFO if progress and not bar.shown
                 else logging.DEBUG, "%s: %s", description, _format_logs(logs))
        # Every callback sees every epoch, even when an earlier one stops.
        stops = [bool(callback.on_epoch_end(epoch, dict(logs)))
                 for callback in callbacks]
        if any(stops):
            history.stopped_epoch = epoch
            break
    for callback in callbacks:
        callback.on_train_end(history)
    return history


# -- using a trained model ------------------------------------------------------

def evaluate(model, loader, loss_fn=None):
    """The mean loss and the accuracy of ``model`` over a dataset.

    The model runs in evaluation mode (batch norm uses its running
    statistics, dropout is off) and is put back in the mode it was in.

    Parameters
    ----------
    model : Module
    loader : DataLoader, iterable of (x, y), or (x, y) arrays
    loss_fn : loss object, optional
        Without it the returned loss is None.

    Returns
    -------
    loss : float or None
        Averaged over samples (not batches).
    accuracy : float or None
        Fraction of samples whose largest score is at their label; None
        when the model's output is not (N, classes).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Linear
    >>> from cnnc.train import evaluate
    >>> model = Linear(2, 2, rng=0)
    >>> model.weight.data[...] = np.eye(2); model.bias.data[...] = 0
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]], np.float32)
    >>> evaluate(model, (x, np.array([0, 1, 1])))
    (None, 0.6666666666666666)
    """
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc.nn.Module, got %s"
                        % type(model).__name__)
    was_training = model.training
    model.eval()
    try:
        total_loss, correct, seen = 0.0, 0, 0
        for x, y in _batches(loader, "loader"):
            scores = model(x)
            if loss_fn is not None:
                total_loss += _batch_total(loss_fn(scores, y), len(y), loss_fn)
            hits = _n_correct(scores, y)
            correct = None if hits is None or correct is None else correct + hits
            seen += len(y)
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("loader gave no batches to evaluate")
    loss = None if loss_fn is None else total_loss / seen
    return loss, (None if correct is None else correct / seen)


def predict(model, x, batch_size=_EVAL_BATCH, logits=False):
    """The predicted class of every image (or the raw scores).

    Parameters
    ----------
    model : Module
    x : ndarray of shape (N, ...)
        Inputs, e.g. images (N, C, H, W).
    batch_size : int, default 256
        Images per forward pass (bounds the memory used).
    logits : bool, default False
        Return the scores of shape (N, classes) instead of the classes.

    Returns
    -------
    ndarray of shape (N,), int64, or of shape (N, classes)

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Linear
    >>> from cnnc.train import predict
    >>> model = Linear(2, 3, rng=0)
    >>> predict(model, np.zeros((5, 2), np.float32)).shape
    (5,)
    """
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc.nn.Module, got %s"
                        % type(model).__name__)
    if not isinstance(x, np.ndarray) or x.ndim < 1:
        raise TypeError("x must be an array with the samples along axis 0, "
                        "got %s" % type(x).__name__)
    if isinstance(batch_size, bool) or not isinstance(
            batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError("batch_size must be an int >= 1, got %r"
                         % (batch_size,))
    was_training = model.training
    model.eval()
    try:
        outputs = [model(x[i:i + batch_size])
                   for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("x holds no samples")
    scores = np.concatenate(outputs)
    if logits:
        return scores
    if scores.ndim != 2:
        raise ValueError("the model's output has shape %s, not (N, classes); "
                         "use logits=True to get it" % (scores.shape,))
    return scores.argmax(axis=1).astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        Labels in ``[0, num_classes)``.
    num_classes : int, optional
        Default: one more than the largest label seen.

    Returns
    -------
    ndarray of shape (num_classes, num_classes), int64
        ``cm[i, j]`` counts samples of class ``i`` predicted as ``j``: the
        diagonal holds the correct ones, and ``cm.trace() / cm.sum()`` is
        the accuracy.

    Examples
    --------
    >>> from cnnc.train import confusion_matrix
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 1]])
    """
    y_true = _labels(y_true, "y_true")
    y_pred = _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred must have the same length, got "
                         "%d and %d" % (y_true.size, y_pred.size))
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    if num_classes is None:
        num_classes = largest + 1
    elif isinstance(num_classes, bool) or not isinstance(
            num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError("num_classes must be an int >= 1, got %r"
                         % (num_classes,))
    elif largest >= num_classes:
        raise ValueError("labels must be below num_classes=%d, got a label %d"
                         % (num_classes, largest))
    counts = np.bincount(y_true * num_classes + y_pred,
                         minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and y.dtype.kind not in "iu"):
        raise ValueError("%s must be a 1-D array of integer labels, got shape "
                         "%s and dtype %s" % (name, y.shape, y.dtype))
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError("%s must hold labels >= 0, got %d" % (name, y.min()))
    return y
