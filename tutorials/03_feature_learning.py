"""
Feature learning: hand-crafted against learned features
=======================================================

Before deep learning, recognising an image took two steps: an expert
chose *features* to measure in it (edges, colours, textures) and a
learning algorithm drew its decision from those numbers. A CNN learns
the features too: its encoder turns raw pixels into features, and a fully
connected classifier reads them, both trained from labelled examples.
This page puts the two side by side on the lecture's shapes. You will
learn:

- how to compute two classic hand-crafted features, an intensity
  histogram and a histogram of edge orientations from edge filters;
- how to train a linear classifier on any features with cnnc
  (:class:`cnnc.nn.Linear` and :func:`cnnc.train.fit`);
- how those features compare with the ones a CNN's encoder learns, when
  the classifier on top is the same kind of linear layer;
- why the lecture says that hand-crafted features need expert knowledge
  and do not carry over to a new task, seen on eight classes of shapes
  instead of four.
"""

# %%
# The lecture's two pipelines
# ---------------------------
#
# **Classic machine learning**: input image -> features extracted by hand
# (edge detection, colours, texture, ...) -> a learning algorithm, here a
# linear classifier. Someone has to decide which features matter.
#
# **Automatic feature learning**: input image -> encoder (learnable
# weights) -> fully connected classifier (learnable weights). The network
# is fed raw pixels, and training sets both sets of weights.
#
# Both are tried on the shapes dataset: grey 32 x 32 images of the
# lecture's square, triangle, circle and diamond, at random positions,
# sizes and small rotations, light on dark or dark on light.
import time

import matplotlib.pyplot as plt
import numpy as np

from cnnc import functional, losses, optim
from cnnc.data import (LECTURE_CLASSES, SHAPE_CLASSES, ArrayDataset,
                       DataLoader, shapes)
from cnnc.models import ShapesNet
from cnnc.nn import Linear
from cnnc.train import confusion_matrix, evaluate, fit, predict
from cnnc.viz import plot_confusion_matrix

(x_train, y_train), (x_test, y_test) = shapes(n_train=2000, n_test=1000,
                                              seed=0)
print("training images:", x_train.shape, " test images:", x_test.shape)

# %%
# A hand-crafted feature: the intensity histogram
# -----------------------------------------------
#
# The simplest summary of an image is how many of its pixels have each
# brightness: a histogram (for colour images, one per colour channel,
# the "colour histogram" of classic image retrieval). We count the pixels
# in 16 bins between 0 and 1 and divide by the number of pixels, so that
# each image gives 16 numbers that add up to 1.
N_BINS = 16


def intensity_histogram(x):
    """(N, 1, H, W) images in [0, 1] -> (N, N_BINS) fractions of pixels."""
    pixels = x.reshape(len(x), -1)
    bins = np.minimum((pixels * N_BINS).astype(int), N_BINS - 1)
    counts = np.stack([(bins == b).sum(axis=1) for b in range(N_BINS)], axis=1)
    return (counts / pixels.shape[1]).astype(np.float32)


# %%
# A hand-crafted feature: edge orientations
# -----------------------------------------
#
# An expert looking at these four shapes would say that they differ in
# the directions of their edges: a square's sides run horizontally and
# vertically, a diamond's at 45 degrees, a triangle's in three directions
# 60 degrees apart and a circle's in every direction. Two edge filters,
# the Sobel filters that :ref:`sphx_glr_auto_tutorials_04_convolution.py`
# applies to a photograph, measure how fast the brightness changes across
# (``gx``) and down (``gy``) the image at every pixel. Together they give
# the edge's strength, ``sqrt(gx**2 + gy**2)``, and its orientation,
# ``arctan2(gy, gx)``. We take the orientation modulo 180 degrees, so that
# a light-to-dark edge counts the same as a dark-to-light one (the shapes
# come in both polarities), and add up the strengths of the edges in each
# of 16 orientation bins of 11.25 degrees. Divided by their total, the 16
# numbers do not depend on the shape's size or contrast. This is the
# idea behind the histograms of oriented gradients (HOG) of classic
# computer vision, here for the whole image at once.
sobel = np.array([[-1, 0, 1],
                  [-2, 0, 2],
                  [-1, 0, 1]], dtype=np.float32)
edge_filters = np.stack([sobel, sobel.T])[:, None]     # (2, 1, 3, 3)


def edge_maps(x):
    """Edge strength and orientation (0 to pi) at every pixel.

    No padding: a border of zeros would add a frame of strong horizontal
    and vertical edges around every image with a light background.
    """
    g = functional.conv2d(x, edge_filters)             # (N, 2, H-2, W-2)
    gx, gy = g[:, 0], g[:, 1]
    # (gx, gy) points across the edge; the edge runs at 90 degrees to it.
    return np.hypot(gx, gy), np.mod(np.arctan2(gy, gx) + np.pi / 2, np.pi)


def orientation_histogram(x):
    """(N, 1, H, W) images -> (N, N_BINS) share of edge strength per
    orientation bin."""
    strength, angle = edge_maps(x)
    bins = np.minimum((angle / np.pi * N_BINS).astype(int), N_BINS - 1)
    strength = strength.reshape(len(x), -1)
    bins = bins.reshape(len(x), -1)
    hist = np.stack([np.where(bins == b, strength, 0).sum(axis=1)
                     for b in range(N_BINS)], axis=1)
    return (hist / hist.sum(axis=1, keepdims=True)).astype(np.float32)


# %%
# Here is one training image of each class (top), its edge strength
# (middle, from the two edge filters) and its two feature vectors
# (bottom). The orientation histograms differ the way the expert
# predicted: the square's edge strength piles up near 90 and 180 degrees
# (the same orientation as 0; this square is turned by a few degrees),
# the diamond's near 45 and 135, the triangle's in three peaks near 0, 60
# and 120, and the circle's is spread over all bins. The intensity
# histograms all have the
# same look, one peak for the background and one for the shape, at
# brightnesses that are drawn at random for every image: they tell the
# shapes' intensities apart, not their classes.
examples = [int(np.flatnonzero(y_train == k)[0])
            for k in range(len(LECTURE_CLASSES))]
strength, _ = edge_maps(x_train[examples])
orient = orientation_histogram(x_train[examples])
intens = intensity_histogram(x_train[examples])
bin_degrees = (np.arange(N_BINS) + 0.5) * 180 / N_BINS

fig, axes = plt.subplots(4, 4, figsize=(9, 8.4), layout="constrained",
                         height_ratios=[1.2, 1.2, 1, 1])
for col, (i, name) in enumerate(zip(examples, LECTURE_CLASSES)):
    axes[0, col].imshow(x_train[i, 0], cmap="gray", vmin=0, vmax=1)
    axes[0, col].set_title(name)
    axes[1, col].imshow(strength[col], cmap="magma")
    axes[2, col].bar(bin_degrees, orient[col], width=180 / N_BINS * 0.9,
                     color="tab:orange")
    axes[2, col].set_xticks([0, 45, 90, 135, 180])
    axes[3, col].bar(np.arange(N_BINS) / N_BINS + 0.5 / N_BINS, intens[col],
                     width=0.9 / N_BINS, color="tab:blue")
for ax in axes[:2].flat:
    ax.set_axis_off()
axes[1, 0].set_title("edge strength", loc="left", fontsize=9)
axes[2, 0].set_ylabel("share of edges")
axes[3, 0].set_ylabel("share of pixels")
for ax in axes[2]:
    ax.set_xlabel("edge orientation (degrees)", fontsize=8)
for ax in axes[3]:
    ax.set_xlabel("brightness", fontsize=8)
plt.show()

# %%
# A linear classifier on the features
# -----------------------------------
#
# The learning algorithm is the simplest one: a single
# :class:`cnnc.nn.Linear` layer that gives each class a score, a weighted
# sum of the features plus a bias, trained with the cross-entropy loss and
# stochastic gradient descent by :func:`cnnc.train.fit`. Each feature is
# first standardised with the mean and standard deviation of the training
# set, so that all of them start on the same scale. As a baseline without
# any feature extraction, the same classifier also reads the 1024 raw
# pixels.


def linear_classifier(f_train, y_train, f_test, num_classes, epochs=10):
    """Train Linear(features -> classes) on f_train; predict f_test."""
    mean, std = f_train.mean(axis=0), f_train.std(axis=0) + 1e-6
    f_train = ((f_train - mean) / std).astype(np.float32)
    f_test = ((f_test - mean) / std).astype(np.float32)
    classifier = Linear(f_train.shape[1], num_classes, rng=0)
    loader = DataLoader(ArrayDataset(f_train, y_train), batch_size=64,
                        shuffle=True, rng=0)
    fit(classifier, losses.CrossEntropyLoss(),
        optim.SGD(classifier.parameters(), lr=0.05, momentum=0.9), loader,
        epochs, progress=False)
    return predict(classifier, f_test)


def hand_crafted_features(x):
    """Every hand-crafted feature set of this page, by name."""
    intensity = intensity_histogram(x)
    orientation = orientation_histogram(x)
    return {
        "raw pixels": x.reshape(len(x), -1),
        "intensity histogram": intensity,
        "edge orientations": orientation,
        "edge orientations\n+ intensity": np.concatenate(
            [orientation, intensity], axis=1),
    }


def compare_hand_crafted(x_train, y_train, x_test, y_test, num_classes):
    """Test accuracy, and test predictions, of a linear classifier on each
    feature set."""
    train_features = hand_crafted_features(x_train)
    test_features = hand_crafted_features(x_test)
    accuracies, predictions = {}, {}
    for name in train_features:
        predictions[name] = linear_classifier(
            train_features[name], y_train, test_features[name], num_classes)
        accuracies[name] = np.mean(predictions[name] == y_test)
        print("%-34s %4d features: test accuracy %5.1f%%"
              % (name.replace("\n", " "), train_features[name].shape[1],
                 100 * accuracies[name]))
    return accuracies, predictions


start = time.perf_counter()
four_results, _ = compare_hand_crafted(x_train, y_train, x_test, y_test,
                                       len(LECTURE_CLASSES))
print("hand-crafted features and their classifiers: %.1f s"
      % (time.perf_counter() - start))

# %%
# Learned features: an encoder and a fully connected classifier
# -------------------------------------------------------------
#
# :class:`cnnc.models.ShapesNet` is the lecture's picture: an encoder of
# three convolution blocks turns the image into 64 feature maps of 4 x 4,
# and its classifier is one linear layer on those 1024 numbers, the same
# kind of layer as above. The difference is where the features come from:
# the encoder's filters start at random and are trained, together with
# the classifier, from the pixels and labels alone.


def learned_features_accuracy(x_train, y_train, x_test, y_test,
                              num_classes, epochs=5):
    """Train a ShapesNet (encoder + linear classifier); test accuracy."""
    model = ShapesNet(num_classes=num_classes, rng=0)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=64,
                        shuffle=True, rng=0)
    fit(model, losses.CrossEntropyLoss(), optimizer, loader, epochs,
        scheduler=optim.CosineAnnealingLR(optimizer, T_max=epochs),
        progress=False)
    _, accuracy = evaluate(model, (x_test, y_test))
    return accuracy


start = time.perf_counter()
four_results["learned encoder"] = learned_features_accuracy(
    x_train, y_train, x_test, y_test, len(LECTURE_CLASSES))
print("learned encoder + linear classifier: test accuracy %.1f%% "
      "(trained in %.1f s)" % (100 * four_results["learned encoder"],
                               time.perf_counter() - start))

# %%
# A new task: eight shapes
# ------------------------
#
# The edge-orientation histogram was designed with the four lecture
# shapes in mind. The lecture warns that hand-crafted features do not
# generalise to other tasks. To see what that means, we keep every
# feature and the whole recipe as they are and change the task: all
# eight classes that :func:`cnnc.data.shapes` can draw, adding star,
# cross, hexagon and ring.
print("classes:", SHAPE_CLASSES)
(x8_train, y8_train), (x8_test, y8_test) = shapes(
    n_train=2000, n_test=1000, classes=SHAPE_CLASSES, seed=0)
eight_results, eight_predictions = compare_hand_crafted(
    x8_train, y8_train, x8_test, y8_test, len(SHAPE_CLASSES))

start = time.perf_counter()
eight_results["learned encoder"] = learned_features_accuracy(
    x8_train, y8_train, x8_test, y8_test, len(SHAPE_CLASSES))
print("learned encoder + linear classifier: test accuracy %.1f%% "
      "(trained in %.1f s)" % (100 * eight_results["learned encoder"],
                               time.perf_counter() - start))

# %%
# Side by side
# ------------
#
# Each bar is a test accuracy on 1000 images the classifiers never saw;
# the dashed lines mark chance, one in four and one in eight.
names = list(four_results)
positions = np.arange(len(names))
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
for offset, (results, label, chance, colour) in zip(
        (-0.2, 0.2),
        ((four_results, "4 lecture shapes", 1 / 4, "tab:blue"),
         (eight_results, "8 shapes", 1 / 8, "tab:orange"))):
    values = [100 * results[name] for name in names]
    bars = ax.bar(positions + offset, values, width=0.4, label=label,
                  color=colour)
    ax.bar_label(bars, fmt="%.0f", fontsize=8)
    ax.axhline(100 * chance, color=colour, linestyle="--", linewidth=1)
ax.set_xticks(positions)
ax.set_xticklabels(names, fontsize=9)
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(0, 109)
ax.set_title("A linear classifier on hand-crafted features, "
             "and on learned ones")
ax.legend(loc="upper left", fontsize=9)
plt.show()

# %%
# What the bars say
# -----------------
#
# - **Raw pixels** give a linear classifier little to work with, barely
#   more than chance: a shape can sit anywhere, in either polarity, so no
#   fixed weighting of the pixels finds it.
# - **The intensity histogram** is at chance: it measures brightness,
#   which the dataset draws at random, and not shape. A feature is only
#   as good as the question it answers.
# - **Edge orientations** solve the four-shape task as well as the
#   learned encoder, because an expert (here, the author of this page)
#   knew what separates those four shapes and built it in. Adding the
#   intensity histogram changes little.
# - **On eight shapes** the same orientation histogram drops to about
#   three answers in five, while the learned encoder, trained by the very
#   same recipe, still gets more than nine in ten right. Nothing in the
#   network was redesigned; it learned new features from the new labels.
#
# The confusion matrix of the orientation-histogram classifier on the
# eight shapes shows where the hand-crafted features run out: shapes with
# the same mix of edge directions look alike to them. Squares and crosses
# both have only horizontal and vertical edges, and are mixed up both
# ways; triangles and hexagons both have edges in three directions 60
# degrees apart; circles, stars and rings, with edges in many
# directions, are confused among themselves. Only the diamond, the one
# class with edges at 45 and 135 degrees, keeps a histogram of its own.
cm = confusion_matrix(y8_test, eight_predictions["edge orientations"],
                      num_classes=len(SHAPE_CLASSES))
plot_confusion_matrix(cm, SHAPE_CLASSES)
plt.show()

# %%
# Try this
# --------
#
# - Give the orientation histogram a sense of place, as HOG does: cut the
#   image into 4 x 4 cells of 8 x 8 pixels and compute one histogram per
#   cell (16 x 16 = 256 features). How much of the gap to the learned
#   encoder does it close on eight shapes, and how long did it take you
#   to write compared with changing ``num_classes``?
# - Make the task harder for the features with
#   ``shapes(..., difficulty="hard")``: more noise and fainter shapes.
#   Noise adds edges in every direction; which pipeline suffers more?
