"""
What the layers learn
=====================

The lecture says that each layer of a deep network learns features a
little more abstract than the layer below: edges and corners at the
bottom, parts in the middle, whole objects at the top ("pixel -> edge ->
texton -> motif -> part -> object"). This page opens a trained CNN and
checks that claim on the lecture's shapes. You will learn:

- how to look at a layer's filters, and at the feature maps every layer
  computes for one image;
- what a unit's *receptive field* is: the window of the input it sees;
- how to find the image patches that excite a unit the most;
- how to make an input that excites a unit, by gradient ascent with
  ``backward`` carried all the way to the input;
- how the answers change from the first layer to the last: edges, then
  parts, then shapes.
"""

# %%
# A trained network
# -----------------
#
# We train :class:`cnnc.models.ShapesNet` on the four lecture shapes as in
# :ref:`sphx_glr_auto_tutorials_01_quickstart.py`. Its encoder has three
# blocks of convolution, batch normalization, ReLU and max pooling; we
# look at the output of each block's ReLU, the layers named
# ``encoder.2``, ``encoder.6`` and ``encoder.10``.
import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import functional, losses, optim, viz
from cnnc.data import LECTURE_CLASSES, ArrayDataset, DataLoader, shapes
from cnnc.models import ShapesNet
from cnnc.train import evaluate, fit

(x_train, y_train), (x_test, y_test) = shapes(n_train=2000, n_test=1000,
                                              seed=0)
model = ShapesNet(num_classes=len(LECTURE_CLASSES), rng=0)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
epochs = 5
fit(model, losses.CrossEntropyLoss(), optimizer,
    DataLoader(ArrayDataset(x_train, y_train), batch_size=64, shuffle=True,
               rng=0),
    epochs, scheduler=optim.CosineAnnealingLR(optimizer, T_max=epochs),
    progress=False)
model.eval()
_, accuracy = evaluate(model, (x_test, y_test))
print("test accuracy: %.1f%%" % (100 * accuracy))

BLOCKS = {"block 1": "encoder.2", "block 2": "encoder.6",
          "block 3": "encoder.10"}

# %%
# The first layer's filters
# -------------------------
#
# The first convolution's 16 filters can be drawn directly, because they
# act on pixels: each is a 3 x 3 pattern of weights (white positive, black
# negative). A filter answers most strongly to an image patch that looks
# like it. Several have a light side against a dark side, the signature of
# an edge detector; 3 x 3 pixels leave room for little more than an edge
# or a corner.
viz.plot_filters(model)
plt.show()

# %%
# Deeper filters act on the previous layer's feature maps, not on pixels:
# block 2's filters have 16 input channels each, block 3's 32, and
# drawing their weights says little. To see what those layers respond to,
# we look at their outputs instead.
#
# Feature maps, layer by layer
# ----------------------------
#
# :func:`cnnc.viz.feature_maps` runs the model on a batch and keeps every
# layer's output by name. For one test image, the figure shows the first 8
# channels of each block. Each pooling halves the maps (32 x 32, then
# 16 x 16, then 8 x 8) while the number of channels grows (16, 32, 64).
# Block 1's maps still look like the image: most trace the stretches of
# the outline that their filter likes, a few fill the disc or the
# background, and several also light up along the image's border, where
# the zeros of the padding make an edge. Deeper maps are coarser and each
# lights up in fewer places: they no longer say where every edge is, but
# whether something more specific is present at each place.
image = x_test[:1]
maps = viz.feature_maps(model, image)
fig, ax = plt.subplots(figsize=(2.4, 2.4), layout="constrained")
ax.imshow(image[0, 0], cmap="gray", vmin=0, vmax=1)
ax.set_title("test image: %s" % LECTURE_CLASSES[y_test[0]])
ax.set_axis_off()
plt.show()

viz.plot_feature_maps(maps, layers=list(BLOCKS.values()), max_channels=8)
plt.show()

# %%
# Receptive fields
# ----------------
#
# A unit is one value of a feature map: one channel at one position. It
# depends on a window of the input only, its **receptive field**, which
# grows with every layer: a 3 x 3 convolution adds two rows and columns
# of the layer below, and a 2 x 2 pooling doubles the step between
# neighbouring units. :func:`cnnc.summary` lists both for every layer:
# "RF" is the window's size in input pixels and "Jump" the step.
summary = cnnc.summary(model, input_shape=(1, 32, 32))
fields = {row.name: (row.receptive_field[0], row.jump[0])
          for row in summary.rows if row.receptive_field is not None}
for block, name in BLOCKS.items():
    size, jump = fields[name]
    print("%s (%s): a unit sees %2d x %2d input pixels; neighbouring units "
          "are %d pixel%s apart" % (block, name, size, size, jump,
                                    "s" * (jump > 1)))

# %%
# In this network every convolution pads by 1 and every pooling window is
# 2 x 2, so each unit's window is centred on the point its position maps
# to: the unit at row ``p`` of a map with jump ``j`` and field size ``r``
# sees input rows ``j * p + (j - r) / 2`` to that plus ``r - 1``, and the
# same for columns. Parts of the window can hang over the image's edge,
# where the network sees the zeros of the padding.


def receptive_window(image, name, p, q):
    """The input window (H, W) that the unit at (p, q) of layer `name`
    sees, zero outside the image."""
    size, jump = fields[name]
    top, left = jump * p + (jump - size) // 2, jump * q + (jump - size) // 2
    padded = np.pad(image, size)
    return padded[top + size:top + 2 * size, left + size:left + 2 * size]


# %%
# The inputs that excite a unit most
# ----------------------------------
#
# To see what a unit responds to, we show it many images and keep the
# ones that make it answer most strongly. For every channel of a block,
# the answer to an image is the largest value of that channel's map, at
# whatever position it occurs; we take the 8 test images with the largest
# answers, and from each the window that the strongest unit sees.
#
# The figures show the first six channels of each block, one channel per
# row, with each window titled by its image's class.
all_maps = viz.feature_maps(model, x_test)
TOP = 8


def top_windows(name, channel, k=TOP):
    """The k test images that excite `channel` of layer `name` most, with
    the receptive window of the strongest unit in each."""
    fmap = all_maps[name][:, channel]                  # (N, H, W)
    peaks = fmap.reshape(len(fmap), -1)
    best = np.argsort(-peaks.max(axis=1), kind="stable")[:k]
    windows = []
    for i in best:
        p, q = np.unravel_index(peaks[i].argmax(), fmap.shape[1:])
        windows.append(receptive_window(x_test[i, 0], name, p, q))
    return best, windows


def show_top_windows(block, channels=range(6)):
    name = BLOCKS[block]
    fig, axes = plt.subplots(len(channels), TOP, figsize=(7, 1.0 * len(
        channels) + 0.5), layout="constrained", squeeze=False)
    for row, channel in enumerate(channels):
        best, windows = top_windows(name, channel)
        for ax, i, window in zip(axes[row], best, windows):
            ax.imshow(window, cmap="gray", vmin=0, vmax=1)
            ax.set_title(LECTURE_CLASSES[y_test[i]], fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row, 0].set_ylabel("channel %d" % channel, fontsize=8)
    size = fields[name][0]
    fig.suptitle("%s (%s): the %d x %d windows that excite each channel "
                 "most" % (block, name, size, size), fontsize=10)
    plt.show()


# %%
# **Block 1** sees 3 x 3 pixels. Its favourite windows are tiny patterns of
# light against dark: edges in one direction and corners. They come from
# every class, and some sit on the image's border, where the padding's
# zeros meet a light background: a strong edge too.
show_top_windows("block 1")

# %%
# **Block 2** sees 8 x 8 pixels, enough for a piece of outline. Its
# favourite windows are line segments at one orientation, each channel
# with its own polarity (a dark line on a light ground, or the reverse),
# and bends and corners where two lines meet: parts of shapes, not yet
# shapes. A slanted segment can belong to a triangle, a diamond or a
# circle, and the windows' classes are mixed.
show_top_windows("block 2")

# %%
# **Block 3** sees 18 x 18 pixels, more than half the image, and its
# windows hold large parts of shapes, often whole outlines. Some channels'
# favourites are mostly of one class; others answer to a form that two
# classes share, such as a closed outline (diamonds and circles) or a
# corner (squares, and the curve of a circle). Their classes are less
# mixed than in the blocks below; the next section counts how much less.
show_top_windows("block 3")

# %%
# From edges to objects, counted
# ------------------------------
#
# If deeper units stand for more specific things, their favourite images
# should come from fewer classes. For every channel of every block we
# take its 20 favourite test images and measure the share of the most
# common class among them: 1 when all 20 have the same class. For
# comparison, the dotted line is the same share for 20 images drawn at
# random (averaged over 500 draws): even then one class usually comes up
# more often than a quarter of the time. Each dot is one channel.
K = 20
random_share = np.mean([
    np.bincount(np.random.default_rng(s).choice(y_test, K, replace=False),
                minlength=len(LECTURE_CLASSES)).max() / K
    for s in range(500)])

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
jitter = np.random.default_rng(0)
for x_pos, (block, name) in enumerate(BLOCKS.items()):
    fmap = all_maps[name]
    peaks = fmap.reshape(fmap.shape[0], fmap.shape[1], -1).max(axis=2)
    shares = [np.bincount(y_test[np.argsort(-peaks[:, c], kind="stable")[:K]],
                          minlength=len(LECTURE_CLASSES)).max() / K
              for c in range(fmap.shape[1])]
    ax.scatter(x_pos + jitter.uniform(-0.15, 0.15, len(shares)), shares,
               s=14, alpha=0.7)
    ax.plot([x_pos - 0.25, x_pos + 0.25], [np.mean(shares)] * 2, color="k")
    print("%s: %d channels, mean share of the top class %.2f"
          % (block, len(shares), np.mean(shares)))
ax.axhline(random_share, color="0.5", linestyle=":",
           label="20 random images (%.2f)" % random_share)
ax.set_xticks(range(len(BLOCKS)))
ax.set_xticklabels(["%s\n%s" % item for item in BLOCKS.items()])
ax.set_ylabel("share of the most common class\namong the 20 top images")
ax.set_ylim(0, 1.05)
ax.legend(loc="upper left", fontsize=8)
plt.show()

# %%
# The black bars are the means. Block 1's channels are only a little
# more selective than random images, block 2's a little more, and block
# 3's clearly more, several of them with most of their 20 favourites in
# one class: a straight edge or a corner occurs in several classes, a
# larger arrangement of edges in fewer. Block 3 is where the features
# start to stand for shapes; the linear classifier on top combines them
# into the final answer.
#
# Making an input that excites a unit
# -----------------------------------
#
# Instead of searching a dataset, we can let the network tell us what it
# wants to see. Start from a plain grey image, run it forward to a unit,
# and ask for the gradient of that unit's value with respect to the
# *input* pixels: the same ``backward`` that training uses, carried one
# step further, through the first layer to the image. A small step along
# that gradient makes the unit answer more strongly; repeated, this is
# **gradient ascent on the input**.
#
# A few details keep the images readable. We raise the unit's value
# before its ReLU (``encoder.1``, ``.5`` and ``.9``, the batch norm
# outputs), because the ReLU passes no gradient while the unit is
# silent, as it may be for a grey image. Each step has a fixed size
# (the gradient divided by its standard deviation), pixels stay within
# [0, 1] like real images, and every other step a light blur, made with
# :func:`cnnc.functional.conv2d` and a 3 x 3 averaging filter, removes
# pixel-level noise. The model stays in evaluation mode, so batch
# normalization uses its running statistics and the images of a batch do
# not influence each other: one batch optimises one image per unit.
BLUR = (np.outer([1, 2, 1], [1, 2, 1]) / 16).astype(np.float32)[None, None]


def ascend(network, pick, n_images, steps=60, step_size=0.1):
    """Gradient ascent: images that make network's outputs large.

    ``pick(out)`` returns, for the network's output ``out``, the gradient
    to send back: 1 at the unit each image should excite, 0 elsewhere.
    """
    rng = np.random.default_rng(0)
    x = 0.5 + 0.01 * rng.standard_normal((n_images, 1, 32, 32))
    x = x.astype(np.float32)
    for step in range(steps):
        out = network(x)
        grad_x = network.backward(pick(out))           # dunit/dx
        scale = grad_x.reshape(n_images, -1).std(axis=1) + 1e-8
        x = np.clip(x + step_size * grad_x / scale[:, None, None, None],
                    0.0, 1.0).astype(np.float32)
        if step % 2 == 0:
            x = functional.conv2d(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)),
                                         mode="edge"), BLUR)
    return x


# %%
# For each block, the unit at the centre of each of its first eight
# channels: images of its 32 x 32 input, with the mid-grey it started
# from wherever the unit does not look. Block 1's images change only a
# few pixels in the middle, a small light-dark pattern the size of its
# receptive field. Block 2's hold short stripes at particular
# orientations inside a window of about 8 x 8 pixels. Block 3's fill a
# larger window with several lines at one or two orientations: the
# arrangements of edges that its favourite windows above share.
pre_relu = {"block 1": 1, "block 2": 5, "block 3": 9}
channels = np.arange(8)
fig, axes = plt.subplots(3, 8, figsize=(9, 3.8), layout="constrained")
for row, (block, index) in enumerate(pre_relu.items()):
    network = model.encoder[:index + 1]   # shares the trained layers

    def centre_units(out):
        grad = np.zeros_like(out)
        grad[channels, channels, out.shape[2] // 2, out.shape[3] // 2] = 1
        return grad

    synthetic = ascend(network, centre_units, len(channels))
    for ax, image_c, channel in zip(axes[row], synthetic, channels):
        ax.imshow(image_c[0], cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("channel %d" % channel, fontsize=7)
    axes[row, 0].set_ylabel(block, fontsize=9)
plt.show()

# %%
# The top of the network: the classes
# -----------------------------------
#
# The same ascent on the whole model, now raising one class score per
# image, asks what the network takes for a perfect square, triangle,
# circle and diamond. The answers are not shapes a person would draw, but
# their ingredients are there: the triangle's image is full of triangle
# outlines, the diamond's of lines at 45 degrees forming diamonds, the
# circle's of rounded outlines, and the square's of short horizontal and
# vertical strokes. The last layer has learnt objects, in its own way: as
# combinations of the right edges in the right places.
classes = np.arange(len(LECTURE_CLASSES))


def class_scores(out):
    grad = np.zeros_like(out)
    grad[classes, classes] = 1
    return grad


synthetic = ascend(model, class_scores, len(classes))
scores = model(synthetic)
fig, axes = plt.subplots(1, 4, figsize=(8, 2.4), layout="constrained")
for ax, image_k, k in zip(axes, synthetic, classes):
    ax.imshow(image_k[0], cmap="gray", vmin=0, vmax=1)
    ax.set_title("most %s" % LECTURE_CLASSES[k])
    ax.set_axis_off()
plt.show()
print("class predicted for each image:",
      [LECTURE_CLASSES[k] for k in scores.argmax(axis=1)])

# %%
# Edges, parts, objects
# ---------------------
#
# Putting the pieces together for this small network:
#
# - **block 1** (3 x 3 pixels): light against dark, edges and corners,
#   found in every class;
# - **block 2** (8 x 8 pixels): line segments at one orientation, bends
#   and corners, parts shared by several shapes;
# - **block 3** (18 x 18 pixels): arrangements of lines that belong to
#   fewer classes, large parts of shapes;
# - **the classifier**: one score per shape, built from block 3's
#   features.
#
# Nobody told the network what an edge or a corner is: these features
# came from the labels alone, through training. The lecture's networks
# for photographs, with many more layers, go the same way from edges to
# textures, to object parts such as eyes or wheels, to objects.
#
# Try this
# --------
#
# - Change ``channels = np.arange(8)`` to other channels, for instance
#   ``np.arange(8, 16)``, and call ``show_top_windows("block 3",
#   range(6, 12))``: do the synthetic images and the favourite windows of
#   a channel agree?
# - Remove the blur from ``ascend`` (delete the ``if step % 2 == 0``
#   block). The class scores still rise; what do the images look like
#   now, and what does that tell you about what a network needs to be
#   convinced?
