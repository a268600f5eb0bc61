"""cnnc.viz: every figure it draws (Agg backend), and its validation."""
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnc import viz  # noqa: E402
from cnnc.models import ShapesNet  # noqa: E402
from cnnc.nn import (Conv2d, Flatten, Linear, MaxPool2d, Parameter,  # noqa
                     ReLU, Sequential)
from cnnc.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def images_per_axes(fig):
    return [len(ax.images) for ax in fig.axes]


def small_history(epochs=3, validation=True, accuracy=True):
    h = History()
    for e in range(1, epochs + 1):
        logs = {"epoch": e, "loss": 1.0 / e, "lr": 0.1}
        if accuracy:
            logs["accuracy"] = 0.5 + 0.1 * e
        if validation:
            logs["val_loss"] = 1.2 / e
            if accuracy:
                logs["val_accuracy"] = 0.4 + 0.1 * e
        h.append(logs, {"encoder.0": 10.0 ** -e, "classifier.2": 0.1})
    h.layer_types.update({"encoder.0": "Conv2d", "classifier.2": "Linear"})
    return h


@pytest.fixture
def model():
    return ShapesNet(channels=(3, 4, 5), rng=0)


@pytest.fixture
def batch():
    return np.random.default_rng(0).random((2, 1, 32, 32), dtype=np.float32)


# -- feature_maps -------------------------------------------------------------

def test_feature_maps_records_every_layer_in_order(model, batch):
    model.train()
    maps = viz.feature_maps(model, batch)
    assert list(maps) == ["encoder.%d" % i for i in range(12)] + [
        "classifier.%d" % i for i in range(3)]
    assert maps["encoder.0"].shape == (2, 3, 32, 32)
    assert maps["encoder.11"].shape == (2, 5, 4, 4)
    assert maps["classifier.0"].shape == (2, 80)
    # The last map is the model's output, computed in evaluation mode.
    np.testing.assert_array_equal(maps["classifier.2"],
                                  model.eval()(batch))
    # Training mode is given back, and the layers' forward unwrapped.
    model.train()
    viz.feature_maps(model, batch)
    assert model.training
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_feature_maps_of_a_single_layer_and_of_a_repeated_one():
    conv = Conv2d(1, 2, 3, rng=0)
    maps = viz.feature_maps(conv, np.zeros((1, 1, 5, 5), np.float32))
    assert list(maps) == ["Conv2d"] and maps["Conv2d"].shape == (1, 2, 3, 3)

    relu = ReLU()
    net = Sequential(relu, Conv2d(1, 1, 1, rng=0), relu)
    maps = viz.feature_maps(net, -np.ones((1, 1, 2, 2), np.float32))
    # A module shared by two places is one leaf: its last output counts.
    assert list(maps)[-1] == "0"


def test_feature_maps_restores_the_model_when_forward_fails(model):
    model.train()
    with pytest.raises(ValueError):
        viz.feature_maps(model, np.zeros((2, 3, 32, 32), np.float32))
    assert model.training
    assert all("forward" not in m.__dict__ for m in model.modules())


def test_feature_maps_validation():
    with pytest.raises(TypeError, match="model must be a cnnc.nn.Module, "
                       "got function"):
        viz.feature_maps(lambda x: x, np.zeros((1, 1, 4, 4)))


# -- show_images --------------------------------------------------------------

def test_show_images_one_axes_per_image():
    x = np.random.default_rng(1).random((10, 1, 8, 8))
    fig = viz.show_images(x, [0, 1, 2, 3] * 2 + [0, 1],
                          ["square", "triangle", "circle", "diamond"],
                          ncols=4)
    assert isinstance(fig, Figure)
    assert images_per_axes(fig) == [1] * 10
    assert [ax.get_title() for ax in fig.axes[:5]] == [
        "square", "triangle", "circle", "diamond", "square"]
    # 10 images on 4 columns: 3 rows.
    assert fig.axes[8].get_subplotspec().rowspan.start == 2


def test_show_images_colour_grey_and_predictions():
    x = np.random.default_rng(2).normal(size=(3, 3, 6, 6))  # stretched
    fig = viz.show_images(x, labels=[0, 1, 2], predictions=[0, 2, 2])
    assert images_per_axes(fig) == [1, 1, 1]
    assert fig.axes[0].images[0].get_array().shape == (6, 6, 3)
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes]
    assert titles == [("0 (0)", "black"), ("2 (1)", "red"),
                      ("2 (2)", "black")]
    fig = viz.show_images(np.zeros((2, 5, 5)), ncols=8)  # (N, H, W)
    assert images_per_axes(fig) == [1, 1]
    assert fig.axes[0].get_title() == ""


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=np.zeros((2, 2, 4, 4))), ValueError,
     r"x must be images of shape \(N, C, H, W\) with C 1 or 3, or \(N, H, "
     r"W\), got shape \(2, 2, 4, 4\)"),
    (dict(x=np.zeros((4, 4))), ValueError, r"got shape \(4, 4\)"),
    (dict(x=np.zeros((0, 1, 4, 4))), ValueError,
     r"x must hold at least one image, got shape \(0, 1, 4, 4\)"),
    (dict(x=[["a"]]), TypeError,
     "x must be an array of numbers, got list of dtype <U1"),
    (dict(x=np.zeros((3, 4, 4)), labels=[0, 1]), ValueError,
     r"labels must have shape \(3,\), one class per image, got shape \(2,\)"),
    (dict(x=np.zeros((3, 4, 4)), labels=2), ValueError,
     r"labels must have shape \(3,\), one class per image, got shape \(\)"),
    (dict(x=np.zeros((2, 4, 4)), labels=[0.5, 1.0]), TypeError,
     "labels must hold integer classes, got dtype float64"),
    (dict(x=np.zeros((2, 4, 4)), predictions=[[0, 1]]), ValueError,
     r"predictions must have shape \(2,\), one class per image, got shape "
     r"\(1, 2\)"),
    (dict(x=np.zeros((2, 4, 4)), ncols=0), ValueError,
     "ncols must be an int >= 1, got 0"),
    (dict(x=np.zeros((2, 4, 4)), ncols=2.0), TypeError,
     "ncols must be an int >= 1, got float 2.0"),
])
def test_show_images_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.show_images(**kwargs)


# -- plot_filters -------------------------------------------------------------

def test_plot_filters_of_grey_colour_and_many_channel_weights(model):
    # A model: its first convolution, 3 filters of 1 x 3 x 3.
    fig = viz.plot_filters(model)
    assert isinstance(fig, Figure)
    assert images_per_axes(fig) == [1, 1, 1]
    assert fig._suptitle.get_text().startswith("3 filters of 1 x 3 x 3")
    # Grey filters share 0 as mid-grey: the colour limits are symmetric.
    low, high = fig.axes[0].images[0].get_clim()
    assert low == -high

    fig = viz.plot_filters(Conv2d(3, 6, 5, rng=0), ncols=4)
    assert images_per_axes(fig) == [1] * 6
    assert fig.axes[0].images[0].get_array().shape == (5, 5, 3)

    # 2 filters of 5 channels, at most 4 channels each: 2 rows of 4.
    w = Parameter(np.random.default_rng(0).normal(size=(2, 5, 3, 3)))
    fig = viz.plot_filters(w, max_channels=4)
    assert images_per_axes(fig) == [1] * 8
    assert [ax.get_title() for ax in fig.axes[:5]] == [
        "in 0", "in 1", "in 2", "in 3", ""]

    fig = viz.plot_filters(np.zeros((4, 1, 2, 2)))  # all zero: no crash
    assert images_per_axes(fig) == [1] * 4


@pytest.mark.parametrize("arg, kwargs, error, match", [
    (np.zeros((3, 3, 3)), {}, ValueError,
     r"weight_or_layer must be weights of shape \(K, C, R, S\) .*got shape "
     r"\(3, 3, 3\)"),
    (np.zeros((0, 1, 3, 3)), {}, ValueError, r"got shape \(0, 1, 3, 3\)"),
    (Sequential(Flatten(), Linear(4, 2, rng=0)), {}, ValueError,
     "weight_or_layer must be a convolution or a model with one "
     r"\(a 4-D weight\), got a Sequential without any"),
    ("conv1", {}, TypeError, "weight_or_layer must be a Module, a Parameter "
     "or an array of numbers, got str of dtype <U5"),
    (np.zeros((2, 1, 3, 3)), dict(ncols=-1), ValueError,
     "ncols must be an int >= 1, got -1"),
    (np.zeros((2, 1, 3, 3)), dict(max_channels=None), TypeError,
     "max_channels must be an int >= 1, got NoneType None"),
])
def test_plot_filters_validation(arg, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_filters(arg, **kwargs)


# -- plot_feature_maps --------------------------------------------------------

def test_plot_feature_maps_of_a_model(model, batch):
    maps = viz.feature_maps(model, batch)
    fig = viz.plot_feature_maps(maps, index=1, max_channels=4)
    assert isinstance(fig, Figure)
    # 12 layers with 4-D outputs: 4 of 3 channels, 4 of 4 and 4 of 5
    # channels, drawn up to 4.
    assert len(fig.axes) == 4 * 3 + 8 * 4
    assert fig.axes[0].get_ylabel() == "encoder.0\n3x32x32"
    first = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(first, maps["encoder.0"][1, 0])

    fig = viz.plot_feature_maps(maps, layers=["encoder.11", "encoder.0"])
    assert len(fig.axes) == 5 + 3
    assert fig.axes[0].get_ylabel() == "encoder.11\n5x4x4"


def test_plot_feature_maps_of_one_array():
    m = np.arange(2 * 12 * 3 * 3, dtype=float).reshape(2, 12, 3, 3)
    fig = viz.plot_feature_maps(m, index=1, max_channels=10, ncols=4)
    assert images_per_axes(fig) == [1] * 10
    np.testing.assert_array_equal(fig.axes[9].images[0].get_array(),
                                  m[1, 9])
    assert fig.axes[9].get_title() == "channel 9"
    fig = viz.plot_feature_maps(m[0], max_channels=2, ncols=3)
    assert len(fig.axes) == 3  # max(max_channels, ncols) channels


@pytest.mark.parametrize("arg, kwargs, error, match", [
    ({"a": np.zeros((1, 2, 3, 3))}, dict(layers=["b", "a", "c"]), ValueError,
     r"layers must be names of maps_or_array, which has \['a'\]; got "
     r"\['b', 'c'\]"),
    ({"a": np.zeros((1, 2, 3, 3))}, dict(layers="a"), TypeError,
     r"layers must be a sequence of layer names, got the str 'a' "
     r"\(write \['a'\]\)"),
    ({"a": np.zeros((1, 2, 3, 3))}, dict(layers=[]), ValueError,
     r"layers must name at least one layer, got \[\]"),
    ({}, {}, ValueError, "layers must name at least one layer, got None"),
    ({"flat": np.zeros((1, 8))}, {}, ValueError,
     r"maps_or_array must have at least one 4-D \(N, C, H, W\) output among "
     r"the layers drawn, got shapes \{'flat': \(1, 8\)\}"),
    ({"a": np.zeros((2, 2, 3, 3))}, dict(index=2), ValueError,
     r"index must be from 0 to 1 \(the batch holds 2 images\), got 2"),
    (np.zeros((2, 2, 3, 3)), dict(index=-1), ValueError,
     r"index must be from 0 to 1 \(the batch holds 2 images\), got -1"),
    (np.zeros((2, 2, 3, 3)), dict(index=0.0), TypeError,
     "index must be an int, got float 0.0"),
    (np.zeros((2, 3, 3)), dict(max_channels=0), ValueError,
     "max_channels must be an int >= 1, got 0"),
    (np.zeros((2, 3, 3)), dict(ncols=True), TypeError,
     "ncols must be an int >= 1, got bool True"),
    (np.zeros((3, 3)), {}, ValueError,
     r"maps_or_array must have shape \(N, C, H, W\) or \(C, H, W\), none of "
     r"them 0, got shape \(3, 3\)"),
    (np.zeros((0, 3, 3)), {}, ValueError, r"got shape \(0, 3, 3\)"),
    (None, {}, TypeError, "maps_or_array must be a mapping of layer names to "
     "arrays, or an array of numbers, got NoneType of dtype object"),
])
def test_plot_feature_maps_validation(arg, kwargs, error, match):
    with pytest.raises(error, match=match):
        viz.plot_feature_maps(arg, **kwargs)


# -- plot_history -------------------------------------------------------------

def test_plot_history_loss_and_accuracy():
    h = small_history()
    fig = viz.plot_history(h)
    assert isinstance(fig, Figure)
    loss, accuracy = fig.axes
    assert (loss.get_title(), accuracy.get_title()) == ("loss", "accuracy")
    assert [line.get_label() for line in loss.lines] == ["training",
                                                         "validation"]
    np.testing.assert_allclose(loss.lines[0].get_ydata(), h["loss"])
    np.testing.assert_allclose(accuracy.lines[1].get_ydata(),
                               [50.0, 60.0, 70.0])  # in percent
    # The same from its JSON form.
    assert len(viz.plot_history(h.to_dict()).axes) == 2


def test_plot_history_without_accuracy_or_validation():
    fig = viz.plot_history(small_history(validation=False, accuracy=False))
    assert len(fig.axes) == 1
    assert [line.get_label() for line in fig.axes[0].lines] == ["training"]


@pytest.mark.parametrize("func", [viz.plot_history, viz.plot_gradient_flow])
def test_history_validation(func):
    with pytest.raises(TypeError, match="history must be a "
                       r"cnnc.train.History or its to_dict\(\), got list"):
        func([1.0, 0.5])
    with pytest.raises(ValueError, match=r"history must be a "
                       r"cnnc.train.History or its to_dict\(\), a dict with "
                       r"an 'epoch' list; got a dict with keys \['loss'\]"):
        func({"loss": [1.0]})


def test_plot_history_of_no_epoch():
    with pytest.raises(ValueError, match="history is empty: no epoch was "
                       "recorded"):
        viz.plot_history(History())


# -- plot_gradient_flow -------------------------------------------------------

def test_plot_gradient_flow():
    h = small_history(epochs=5)
    fig = viz.plot_gradient_flow(h)
    assert isinstance(fig, Figure)
    by_layer, by_epoch = fig.axes
    assert by_layer.get_yscale() == by_epoch.get_yscale() == "log"
    # Left: epochs 1, 3 and 5 across the two layers.
    assert [line.get_label() for line in by_layer.lines] == [
        "epoch 1", "epoch 3", "epoch 5"]
    np.testing.assert_allclose(by_layer.lines[1].get_ydata(), [1e-3, 0.1])
    assert [t.get_text() for t in by_layer.get_xticklabels()] == [
        "encoder.0 Conv2d", "classifier.2 Linear"]
    # Right: one curve per layer over the epochs.
    np.testing.assert_allclose(by_epoch.lines[0].get_ydata(),
                               [1e-1, 1e-2, 1e-3, 1e-4, 1e-5])


def test_plot_gradient_flow_without_norms():
    h = History()
    h.append({"epoch": 1, "loss": 1.0})
    with pytest.raises(ValueError, match=r"history holds no gradient norms: "
                       r"train with fit\(..., track_grad_norms=True\)"):
        viz.plot_gradient_flow(h)


# -- plot_confusion_matrix ----------------------------------------------------

def test_plot_confusion_matrix_counts_and_fractions():
    cm = np.array([[5, 1, 0], [0, 6, 0], [2, 0, 0]])
    fig = viz.plot_confusion_matrix(cm, ["a", "b", "c"])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the matrix and its colour bar
    assert images_per_axes(fig)[0] == 1
    assert ax.get_title() == "accuracy 78.6% (11/14)"
    assert [t.get_text() for t in ax.texts][:3] == ["5", "1", "0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]

    fig = viz.plot_confusion_matrix(cm, normalize=True)
    ax = fig.axes[0]
    # Rows as fractions of the true class; an empty row stays 0.
    assert [t.get_text() for t in ax.texts] == [
        "0.83", "0.17", "0.00", "0.00", "1.00", "0.00", "1.00", "0.00",
        "0.00"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    fig = viz.plot_confusion_matrix(np.zeros((2, 2), int))  # no images
    assert fig.axes[0].get_title() == "accuracy 0.0% (0/0)"


@pytest.mark.parametrize("cm, names, error, match", [
    (np.ones((2, 3)), None, ValueError,
     r"cm must be a square \(K, K\) array, got shape \(2, 3\)"),
    (np.ones(4), None, ValueError, r"got shape \(4,\)"),
    (np.ones((0, 0)), None, ValueError, r"got shape \(0, 0\)"),
    ([[1, -2], [0, 1]], None, ValueError,
     "cm must hold counts >= 0, got an entry -2"),
    ([[1, np.nan], [0, 1]], None, ValueError,
     "cm must hold counts >= 0, got an entry nan"),
    ([["1", "2"], ["3", "4"]], None, TypeError,
     r"cm must be a \(K, K\) array of numbers, got list of dtype <U1"),
    (np.ones((2, 2)), ["a", "b", "c"], ValueError,
     r"class_names must have one name per class \(2\), got 3 names"),
])
def test_plot_confusion_matrix_validation(cm, names, error, match):
    with pytest.raises(error, match=match):
        viz.plot_confusion_matrix(cm, names)


# -- without matplotlib -------------------------------------------------------

def test_without_matplotlib_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'cnnc.viz needs matplotlib, an '
                       r'optional extra: pip install "cnnc\[viz\]"'):
        viz.plot_confusion_matrix([[1]])
    # feature_maps needs only NumPy.
    maps = viz.feature_maps(Sequential(MaxPool2d(2)), np.ones((1, 1, 2, 2)))
    assert maps["0"].shape == (1, 1, 1, 1)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(viz)
    assert result.attempted > 0 and result.failed == 0
