"""Looking inside a network: images, filters, feature maps and curves.

:func:`feature_maps` runs a model on a batch and keeps every layer's
output by name: the lecture's "layers learn edges, then parts, then
objects", made visible. The ``plot_*`` functions and :func:`show_images`
draw what the tutorials and ``cnnc train`` show; each returns a
matplotlib :class:`~matplotlib.figure.Figure` and never calls
``plt.show()``, so the caller decides whether to show it or to save it
(``fig.savefig("filters.png")``).

matplotlib is an optional extra: ``pip install "cnnc[viz]"``.
:func:`feature_maps` needs only NumPy.
"""
import math
import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from cnnc.nn.module import Module, Parameter

__all__ = [
    "feature_maps", "show_images", "plot_filters", "plot_feature_maps",
    "plot_history", "plot_gradient_flow", "plot_confusion_matrix",
]

_INSTALL_HINT = 'pip install "cnnc[viz]"'


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError("cnnc.viz needs matplotlib, an optional extra: %s "
                          "(or pip install matplotlib)" % _INSTALL_HINT) from exc
    return plt


# -- what the layers compute ----------------------------------------------------

def _leaves(model):
    """``(path, module)`` for every module without children, in order."""
    leaves = []
    for name, module in model.named_modules():
        if next(iter(module.children()), None) is None:
            leaves.append((name or type(module).__name__, module))
    return leaves


def feature_maps(model, x):
    """Run ``model`` on ``x`` and return every layer's output by name.

    Each leaf layer (a module without children: Conv2d, ReLU, MaxPool2d,
    ...) has its ``forward`` wrapped for the duration of the call, so that
    its output is recorded as the model's own ``forward`` calls it; the
    wrapping is removed afterwards. The model runs in evaluation mode and
    is put back in the mode it was in.

    Parameters
    ----------
    model : Module
        E.g. a Sequential, or a model with an ``encoder`` and a
        ``classifier``.
    x : ndarray
        A batch the model accepts, e.g. of shape (N, C, H, W).

    Returns
    -------
    OrderedDict of str to ndarray
        In the order the layers ran, keyed by their paths in the model
        (``"encoder.0"``, ``"encoder.1"``, ..., ``"classifier.2"``). A
        layer that did not run is absent; a layer that ran twice keeps its
        last output.

    Raises
    ------
    TypeError
        If ``model`` is not a Module.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Conv2d, Linear, Sequential
    >>> from cnnc.viz import feature_maps
    >>> net = Sequential(Conv2d(1, 4, 3, rng=0), Conv2d(4, 2, 3, rng=0))
    >>> maps = feature_maps(net, np.zeros((1, 1, 8, 8), np.float32))
    >>> {name: m.shape for name, m in maps.items()}
    {'0': (1, 4, 6, 6), '1': (1, 2, 4, 4)}
    """
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc.nn.Module, got %s"
                        % type(model).__name__)
    maps = OrderedDict()

    def recording(name, forward):
        def forward_and_record(inputs):
            output = forward(inputs)
            maps.pop(name, None)  # a layer run twice moves to the end
            maps[name] = output
            return output
        return forward_and_record

    leaves = _leaves(model)
    was_training = model.training
    model.eval()
    try:
        # An instance attribute ``forward`` hides the class's method, and
        # Module.__call__ looks it up on the instance.
        for name, module in leaves:
            object.__setattr__(module, "forward",
                               recording(name, module.forward))
        model(x)
    finally:
        for _, module in leaves:
            module.__dict__.pop("forward", None)
        model.train(was_training)
    return maps


# -- images ---------------------------------------------------------------------

def _grid(plt, n, ncols, cell=1.3, title_room=0.0):
    """A figure with exactly ``n`` axes on a grid of ``ncols`` columns."""
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(cell * ncols, cell * nrows + title_room))
    axes = axes.ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    for ax in axes[:n]:
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, list(axes[:n])


def _as_image(img):
    """(C, H, W) with C in 1, 3 (or (H, W)) as something imshow draws:
    (H, W) or (H, W, 3), stretched to [0, 1] when outside it."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
    low, high = float(img.min()), float(img.max())
    if low < 0.0 or high > 1.0:
        img = (img - low) / (high - low) if high > low else img * 0.0
    return img


def _check_count(value, name):
    """An int >= 1 (ncols, max_channels)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s must be an int >= 1, got %s %r"
                        % (name, type(value).__name__, value))
    if value < 1:
        raise ValueError("%s must be an int >= 1, got %d" % (name, value))
    return int(value)


def _numeric(value, name, what):
    """``value`` as an array of numbers, or a TypeError naming it."""
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise TypeError("%s must be %s of numbers, got %s of dtype %s"
                        % (name, what, type(value).__name__, array.dtype))
    return array


def _check_images(x, name="x"):
    x = _numeric(x, name, "an array")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError("%s must be images of shape (N, C, H, W) with C 1 "
                         "or 3, or (N, H, W), got shape %s"
                         % (name, np.shape(x)))
    if x.shape[0] == 0:
        raise ValueError("%s must hold at least one image, got shape %s"
                         % (name, x.shape))
    return x


def _check_classes(values, name, n):
    """Integer classes, one per image."""
    values = np.asarray(values)
    if values.shape != (n,):
        raise ValueError("%s must have shape (%d,), one class per image, "
                         "got shape %s" % (name, n, values.shape))
    if not np.issubdtype(values.dtype, np.integer):
        raise TypeError("%s must hold integer classes, got dtype %s"
                        % (name, values.dtype))
    return values


def _class_name(label, class_names):
    label = int(label)
    if class_names is not None and 0 <= label < len(class_names):
        return str(class_names[label])
    return str(label)


def show_images(x, labels=None, class_names=None, ncols=8, predictions=None):
    """Draw a batch of images on a grid, each titled with its label.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W) with C = 1 or 3, or (N, H, W)
        Values in [0, 1] are drawn as they are; other ranges are
        stretched per image.
    labels : array_like of int, shape (N,), optional
    class_names : sequence of str, optional
        Names of the labels.
    ncols : int, default 8
    predictions : array_like of int, shape (N,), optional
        Predicted classes: titles become "predicted (true)", in red where
        they differ from ``labels``.

    Returns
    -------
    matplotlib.figure.Figure
        With one axes per image.

    Raises
    ------
    ValueError
        If ``x`` has another shape or holds no image, or ``labels`` or
        ``predictions`` has not one entry per image.
    TypeError
        If ``x`` does not hold numbers, ``labels`` or ``predictions`` not
        integers, or ``ncols`` is not an int.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> from cnnc.data import shapes, LECTURE_CLASSES
    >>> from cnnc.viz import show_images
    >>> (x, y), _ = shapes(8, 0)
    >>> fig = show_images(x, y, LECTURE_CLASSES, ncols=4)
    >>> len(fig.axes)
    8
    """
    plt = _pyplot()
    x = _check_images(x)
    n = x.shape[0]
    ncols = _check_count(ncols, "ncols")
    if labels is not None:
        labels = _check_classes(labels, "labels", n)
    if predictions is not None:
        predictions = _check_classes(predictions, "predictions", n)
    fig, axes = _grid(plt, n, ncols, title_room=0.3)
    for i, ax in enumerate(axes):
        ax.imshow(_as_image(x[i]), cmap="gray", vmin=0.0, vmax=1.0,
                  interpolation="nearest")
        if predictions is not None:
            title = _class_name(predictions[i], class_names)
            wrong = labels is not None and int(predictions[i]) != int(labels[i])
            if labels is not None:
                title += " (%s)" % _class_name(labels[i], class_names)
            ax.set_title(title, fontsize=8, color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(_class_name(labels[i], class_names), fontsize=8)
    fig.tight_layout()
    return fig


def _first_weight(weight_or_layer):
    """The 4-D weight of a conv layer, or of the first one in a model."""
    if isinstance(weight_or_layer, Parameter):
        return weight_or_layer.data
    if isinstance(weight_or_layer, Module):
        for module in weight_or_layer.modules():
            weight = module._parameters.get("weight")
            if weight is not None and weight.data.ndim == 4:
                return weight.data
        raise ValueError("weight_or_layer must be a convolution or a model "
                         "with one (a 4-D weight), got a %s without any"
                         % type(weight_or_layer).__name__)
    return _numeric(weight_or_layer, "weight_or_layer",
                    "a Module, a Parameter or an array")


def plot_filters(weight_or_layer, ncols=8, max_channels=8):
    """Draw convolution kernels as small images: what the first layer
    learned to look for (edges, blobs, colours).

    Parameters
    ----------
    weight_or_layer : ndarray of shape (K, C, R, S), Parameter, or Module
        The weights themselves, a Conv2d, or a model (its first
        convolution is used).
    ncols : int, default 8
        Filters per row when each filter is one image.
    max_channels : int, default 8
        With C other than 1 or 3 every filter gets a row of one image per
        input channel, for at most this many channels.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per filter (C = 1: grey, 0 is mid-grey; C = 3: an RGB
        image, each filter stretched to [0, 1]), or K rows of
        ``min(C, max_channels)`` grey images.

    Raises
    ------
    ValueError
        If the weights are not 4-D, a model has no convolution, or
        ``ncols`` or ``max_channels`` is below 1.
    TypeError
        If ``weight_or_layer`` is neither a Module, a Parameter nor an
        array of numbers, or ``ncols`` or ``max_channels`` is not an int.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> from cnnc.nn import Conv2d
    >>> from cnnc.viz import plot_filters
    >>> fig = plot_filters(Conv2d(3, 6, 5, rng=0))
    >>> len(fig.axes)
    6
    """
    plt = _pyplot()
    ncols = _check_count(ncols, "ncols")
    max_channels = _check_count(max_channels, "max_channels")
    w = np.asarray(_first_weight(weight_or_layer), dtype=np.float64)
    if w.ndim != 4 or w.size == 0:
        raise ValueError("weight_or_layer must be weights of shape (K, C, R, "
                         "S) (out channels, in channels, kernel height, "
                         "kernel width), none of them 0, got shape %s"
                         % (w.shape,))
    k, c = w.shape[:2]
    if c == 3:
        fig, axes = _grid(plt, k, ncols, cell=1.0, title_room=0.4)
        for ax, f in zip(axes, w):
            low, high = f.min(), f.max()
            rgb = (f - low) / (high - low) if high > low else f * 0 + 0.5
            ax.imshow(np.moveaxis(rgb, 0, -1), interpolation="nearest")
    else:
        shown = c if c == 1 else min(c, int(max_channels))
        columns = ncols if c == 1 else shown
        fig, axes = _grid(plt, k * shown, columns, cell=1.0, title_room=0.4)
        for i, ax in enumerate(axes):
            f = w[i // shown, i % shown]
            bound = float(np.abs(f).max()) or 1.0
            ax.imshow(f, cmap="gray", vmin=-bound, vmax=bound,
                      interpolation="nearest")
            if c > 1 and i < shown:
                ax.set_title("in %d" % i, fontsize=7)
    fig.suptitle("%d filters of %d x %d x %d%s" % (
        k, c, w.shape[2], w.shape[3],
        "" if c == 3 else " (grey 0, white positive, black negative)"),
        fontsize=9)
    fig.tight_layout()
    return fig


def plot_feature_maps(maps_or_array, index=0, layers=None, max_channels=8,
                      ncols=8):
    """Draw feature maps: the channels a layer outputs for one image.

    Parameters
    ----------
    maps_or_array : mapping of str to ndarray, or ndarray
        The output of :func:`feature_maps` (one row per layer whose output
        is 4-D, i.e. has feature maps), or one layer's output of shape
        (N, C, H, W) or (C, H, W) (a grid of its channels).
    index : int, default 0
        Which image of the batch.
    layers : sequence of str, optional
        With a mapping, only these layers (by name), in this order.
    max_channels : int, default 8
        Channels drawn per layer (the first ones). For a single array,
        the grid shows up to ``max(max_channels, ncols)`` channels.
    ncols : int, default 8
        Columns of the grid for a single array.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per map drawn.

    Raises
    ------
    ValueError
        If ``layers`` names maps that are not there, no map drawn is 4-D
        (a mapping) or the array is not 3-D or 4-D, ``index`` is outside
        the batch, or ``ncols`` or ``max_channels`` is below 1.
    TypeError
        If ``layers`` is a str, ``index``, ``ncols`` or ``max_channels`` is
        not an int, or the array does not hold numbers.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.viz import plot_feature_maps
    >>> fig = plot_feature_maps(np.zeros((2, 5, 6, 6)), ncols=5)
    >>> len(fig.axes)
    5
    """
    plt = _pyplot()
    max_channels = _check_count(max_channels, "max_channels")
    ncols = _check_count(ncols, "ncols")
    if isinstance(maps_or_array, Mapping):
        if isinstance(layers, str):
            raise TypeError("layers must be a sequence of layer names, got "
                            "the str %r (write [%r])" % (layers, layers))
        names = list(maps_or_array) if layers is None else list(layers)
        if not names:
            raise ValueError("layers must name at least one layer, got %r"
                             % (layers,))
        missing = [name for name in names if name not in maps_or_array]
        if missing:
            raise ValueError("layers must be names of maps_or_array, which "
                             "has %s; got %s"
                             % (list(maps_or_array), missing))
        rows = [(name, np.asarray(maps_or_array[name])) for name in names]
        drawn = [(name, m) for name, m in rows if m.ndim == 4]
        if not drawn:
            raise ValueError("maps_or_array must have at least one 4-D (N, "
                             "C, H, W) output among the layers drawn, got "
                             "shapes %s" % {name: m.shape
                                            for name, m in rows})
        rows = [(name, m[_check_index(index, m.shape[0])])
                for name, m in drawn]
        width = min(max_channels, max(m.shape[0] for _, m in rows))
        fig, axes = plt.subplots(len(rows), width, squeeze=False,
                                 figsize=(1.1 * width + 1.0, 1.2 * len(rows)))
        for r, (name, m) in enumerate(rows):
            for j in range(width):
                ax = axes[r, j]
                if j >= m.shape[0]:
                    fig.delaxes(ax)
                    continue
                ax.imshow(m[j], cmap="viridis", interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
            axes[r, 0].set_ylabel("%s\n%dx%dx%d" % ((name,) + m.shape),
                                  fontsize=7, rotation=0, ha="right",
                                  va="center")
        fig.tight_layout()
        return fig

    m = _numeric(maps_or_array, "maps_or_array",
                 "a mapping of layer names to arrays, or an array")
    if m.ndim == 4:
        m = m[_check_index(index, m.shape[0])]
    if m.ndim != 3 or m.size == 0:
        raise ValueError("maps_or_array must have shape (N, C, H, W) or "
                         "(C, H, W), none of them 0, got shape %s"
                         % (np.shape(maps_or_array),))
    n = min(m.shape[0], max(max_channels, ncols))
    fig, axes = _grid(plt, n, ncols)
    for j, ax in enumerate(axes):
        ax.imshow(m[j], cmap="viridis", interpolation="nearest")
        ax.set_title("channel %d" % j, fontsize=7)
    fig.tight_layout()
    return fig


def _check_index(index, n):
    """``index`` of an image in a batch of ``n``."""
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError("index must be an int, got %s %r"
                        % (type(index).__name__, index))
    if not 0 <= index < n:
        raise ValueError("index must be from 0 to %d (the batch holds %d "
                         "images), got %d" % (n - 1, n, index))
    return int(index)


# -- training curves ------------------------------------------------------------

def _history_dict(history):
    """A History, its to_dict(), or the JSON of one, as a dict."""
    if hasattr(history, "to_dict"):
        return history.to_dict()
    if isinstance(history, Mapping):
        if "epoch" in history:
            return history
        raise ValueError("history must be a cnnc.train.History or its "
                         "to_dict(), a dict with an 'epoch' list; got a "
                         "dict with keys %s" % sorted(map(str, history)))
    raise TypeError("history must be a cnnc.train.History or its to_dict(), "
                    "got %s" % type(history).__name__)


def _curve(ax, epochs, values, **style):
    """Plot the measured points of ``values`` (None entries skipped)."""
    points = [(e, v) for e, v in zip(epochs, values) if v is not None]
    if points:
        ax.plot(*zip(*points), **style)
    return bool(points)


def plot_history(history):
    """Loss and accuracy per epoch, on the training and validation sets.

    Training and validation curves that part ways (validation loss going
    up while training loss still goes down) show overfitting.

    Parameters
    ----------
    history : cnnc.train.History, or its ``to_dict()`` (e.g. from JSON)

    Returns
    -------
    matplotlib.figure.Figure
        Two axes (loss, accuracy), or one when no accuracy was measured.

    Raises
    ------
    TypeError
        If ``history`` is neither a History nor a dict.
    ValueError
        If the dict has no ``"epoch"`` list, or no epoch was recorded.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> from cnnc.train import History
    >>> from cnnc.viz import plot_history
    >>> h = History()
    >>> for e, (l, a) in enumerate([(1.2, 0.5), (0.7, 0.8)], start=1):
    ...     h.append({"epoch": e, "loss": l, "accuracy": a,
    ...               "val_loss": l + 0.1, "val_accuracy": a - 0.1})
    >>> len(plot_history(h).axes)
    2
    """
    plt = _pyplot()
    data = _history_dict(history)
    epochs = list(data["epoch"])
    if not epochs:
        raise ValueError("history is empty: no epoch was recorded")
    has_accuracy = any(v is not None for key in ("accuracy", "val_accuracy")
                       for v in data.get(key, []))
    fig, axes = plt.subplots(1, 2 if has_accuracy else 1, squeeze=False,
                             figsize=(9.5 if has_accuracy else 5, 3.6))
    axes = axes.ravel()
    panels = [("loss", axes[0], 1.0)]
    if has_accuracy:
        panels.append(("accuracy", axes[1], 100.0))
    for key, ax, scale in panels:
        for prefix, label, style in (("", "training", "-"),
                                     ("val_", "validation", "--")):
            values = [None if v is None else scale * v
                      for v in data.get(prefix + key, [])]
            _curve(ax, epochs, values, linestyle=style, marker="o",
                   markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key + (" (%)" if scale != 1.0 else ""))
        ax.set_title(key)
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_gradient_flow(history):
    """Per-layer gradient norms during training, on a log scale.

    Left: the norm of each layer's gradient, from the input side to the
    output side, at a few epochs; a curve that drops by orders of
    magnitude towards the input is the lecture's vanishing gradient.
    Right: each layer's norm over the epochs.

    Parameters
    ----------
    history : cnnc.train.History, or its ``to_dict()``
        From ``fit(..., track_grad_norms=True)``.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes.

    Raises
    ------
    TypeError
        If ``history`` is neither a History nor a dict.
    ValueError
        If the dict has no ``"epoch"`` list, or the history holds no
        gradient norms.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> from cnnc.train import History
    >>> from cnnc.viz import plot_gradient_flow
    >>> h = History()
    >>> h.append({"epoch": 1}, {"0": 1e-4, "2": 1e-1})
    >>> h.append({"epoch": 2}, {"0": 1e-3, "2": 5e-2})
    >>> len(plot_gradient_flow(h).axes)
    2
    """
    plt = _pyplot()
    data = _history_dict(history)
    norms = data.get("grad_norms") or {}
    if not norms:
        raise ValueError("history holds no gradient norms: train with "
                         "fit(..., track_grad_norms=True)")
    layers = list(norms)
    types = data.get("layer_types") or {}
    labels = ["%s %s" % (layer, types[layer]) if layer in types else layer
              for layer in layers]
    epochs = list(data["epoch"])
    fig, (by_layer, by_epoch) = plt.subplots(1, 2, figsize=(10, 3.8))

    # Left: one curve per chosen epoch across the layers.
    picks = sorted({0, len(epochs) // 2, len(epochs) - 1}) if epochs else []
    colours = plt.get_cmap("viridis")
    for n, i in enumerate(picks):
        values = [norms[layer][i] if i < len(norms[layer]) else None
                  for layer in layers]
        _curve(by_layer, range(len(layers)), values, marker="o",
               color=colours(n / max(1, len(picks) - 1)),
               label="epoch %s" % epochs[i])
    by_layer.set_xticks(range(len(layers)))
    by_layer.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    by_layer.set_xlabel("layer (input side on the left)")
    by_layer.set_title("gradient norm per layer")

    # Right: one curve per layer across the epochs, input side darkest.
    for n, (layer, label) in enumerate(zip(layers, labels)):
        _curve(by_epoch, epochs, norms[layer], marker=".",
               color=colours(n / max(1, len(layers) - 1)), label=label)
    by_epoch.set_xlabel("epoch")
    by_epoch.set_title("gradient norm over training")
    by_epoch.xaxis.get_major_locator().set_params(integer=True)
    for ax in (by_layer, by_epoch):
        ax.set_yscale("log")
        ax.set_ylabel("mean ||dL/dw|| per batch")
        ax.grid(True, which="both", alpha=0.3)
        if ax is by_layer or len(layers) <= 12:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, class_names=None, normalize=False):
    """Draw a confusion matrix: true classes down, predictions across.

    Parameters
    ----------
    cm : array_like of shape (K, K)
        From :func:`cnnc.train.confusion_matrix`.
    class_names : sequence of str, optional
    normalize : bool, default False
        Show each row as fractions of the true class (the recall of each
        class on the diagonal) instead of counts.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (and a colour bar).

    Raises
    ------
    ValueError
        If ``cm`` is not square, holds a negative or non-finite count, or
        ``class_names`` has not one name per class.
    TypeError
        If ``cm`` does not hold numbers.
    ImportError
        Without matplotlib.

    Examples
    --------
    >>> from cnnc.viz import plot_confusion_matrix
    >>> fig = plot_confusion_matrix([[5, 1], [0, 6]], ["cat", "dog"])
    >>> fig.axes[0].get_title()
    'accuracy 91.7% (11/12)'
    """
    plt = _pyplot()
    cm = _numeric(cm, "cm", "a (K, K) array")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.size == 0:
        raise ValueError("cm must be a square (K, K) array, got shape %s"
                         % (cm.shape,))
    bad = cm[~np.isfinite(cm) | (cm < 0)]
    if bad.size:
        raise ValueError("cm must hold counts >= 0, got an entry %r"
                         % bad[0].item())
    k = cm.shape[0]
    if class_names is None:
        class_names = [str(i) for i in range(k)]
    if len(class_names) != k:
        raise ValueError("class_names must have one name per class (%d), "
                         "got %d names" % (k, len(class_names)))
    shown = cm.astype(np.float64)
    if normalize:
        totals = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, totals, out=np.zeros_like(shown),
                          where=totals > 0)
    size = max(3.5, 0.55 * k + 2.0)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    image = ax.imshow(shown, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    top = shown.max() if shown.size else 0.0
    for i in range(k):
        for j in range(k):
            text = "%.2f" % shown[i, j] if normalize else "%d" % cm[i, j]
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > 0.6 * top else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(class_names, rotation=45, ha="right")
    ax.set_yticklabels(class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    correct, total = int(np.trace(cm)), int(cm.sum())
    ax.set_title("accuracy %.1f%% (%d/%d)"
                 % (100.0 * correct / max(total, 1), correct, total))
    fig.tight_layout()
    return fig
