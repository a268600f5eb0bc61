"""
Pooling
=======

Pooling is the third part of the lecture's building block (convolution,
activation, pooling, normalization): a down-sampling step that replaces
each window of a feature map by one number, its largest value (max
pooling) or its mean (average pooling). You will learn:

- the operation on a small grid, in plain NumPy and with cnnc's fast
  functions, and a check that they agree;
- the size of a pooled feature map, and how pooling shrinks the maps of a
  whole network (and its cost) while each pixel sees more of the input,
  read from :func:`cnnc.summary`;
- how max and average pooling differ on a photograph and on an edge
  feature map;
- a little translation invariance: shift the input by one pixel, and the
  pooled features change less than the feature maps they came from.
"""

# %%
# The largest value, or the mean, of each window
# ----------------------------------------------
#
# Take a 4 x 4 feature map and cut it into 2 x 2 windows side by side
# (window 2, stride 2). Max pooling keeps the largest of the four values
# of each window, average pooling their mean. Either way the 4 x 4 map
# becomes 2 x 2: each side is halved. There are no weights: pooling has
# nothing to learn.
#
# When the windows tile the map exactly, plain NumPy does it with a
# reshape: split each axis of length H into H / 2 blocks of 2, then reduce
# over the two block axes.
import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import functional, nn, reference
from cnnc.data import make_shapes
from cnnc.models import ShapesNet

feature_map = np.array([[1, 1, 2, 4],
                        [5, 6, 7, 8],
                        [3, 2, 1, 0],
                        [1, 2, 3, 4]], dtype=np.float32)


def pool_numpy(x, k, reduce):
    """k x k windows side by side over a 2-D array whose sides k divides."""
    h, w = x.shape
    blocks = x.reshape(h // k, k, w // k, k)
    return reduce(blocks, axis=(1, 3))


max_numpy = pool_numpy(feature_map, 2, np.max)
avg_numpy = pool_numpy(feature_map, 2, np.mean)
print("max pooling:\n", max_numpy)
print("average pooling:\n", avg_numpy)

# %%
# :func:`cnnc.functional.max_pool2d` and
# :func:`cnnc.functional.avg_pool2d` take a batch of feature maps shaped
# ``(N, C, H, W)`` and pool every channel of every image the same way;
# the layers :class:`cnnc.nn.MaxPool2d` and :class:`cnnc.nn.AvgPool2d` wrap
# them. With one image and one channel they must give what the reshape
# gives.
batch = feature_map[None, None]               # (N, C, H, W) = (1, 1, 4, 4)
np.testing.assert_array_equal(functional.max_pool2d(batch, 2)[0, 0],
                              max_numpy)
np.testing.assert_allclose(functional.avg_pool2d(batch, 2)[0, 0], avg_numpy)
print("cnnc's max_pool2d and avg_pool2d agree with the NumPy reshape")

# %%
# The figure colours the four windows and shows what each pooling keeps.

window_colours = np.array([[0, 0, 1, 1],
                           [0, 0, 1, 1],
                           [2, 2, 3, 3],
                           [2, 2, 3, 3]])


def draw_grid(ax, values, title, colours):
    """A grid of numbers on coloured cells."""
    ax.imshow(colours, cmap="Pastel1", vmin=0, vmax=8)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "%g" % v, ha="center", va="center", fontsize=12)
    for i in range(1, values.shape[0]):
        ax.axhline(i - 0.5, color="white", linewidth=2)
    for j in range(1, values.shape[1]):
        ax.axvline(j - 0.5, color="white", linewidth=2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)


fig, axes = plt.subplots(1, 3, figsize=(8, 3), layout="constrained",
                         width_ratios=[4, 2.6, 2.6])
draw_grid(axes[0], feature_map, "input, 4 x 4", window_colours)
draw_grid(axes[1], max_numpy, "max pooling, 2 x 2", window_colours[::2, ::2])
draw_grid(axes[2], avg_numpy, "average pooling", window_colours[::2, ::2])
plt.show()

# %%
# The size of the output
# ----------------------
#
# A pooling window slides like a convolution kernel, so the output size
# follows the same formula, with a window of size k, a stride s and a
# padding of "pad" on each side:
#
# .. math::
#
#    H' = \left\lfloor \frac{H + 2 \cdot \mathrm{pad} - k}{s}
#    \right\rfloor + 1
#
# The usual choice, k = s = 2 without padding, halves each side.
# :func:`cnnc.functional.pool2d_output_size` computes it. When the windows
# do not fit exactly, the floor drops the last row and column;
# ``ceil_mode=True`` keeps a last, partial window instead. A 3 x 3 window
# with stride 2 and padding 1 makes windows that overlap and also halves
# the size (ResNet's first pooling, for instance, takes 112 x 112 to
# 56 x 56, the size of the lecture's 56 x 56 x 64 example).
for size, k, s, pad, ceil in [(32, 2, 2, 0, False), (7, 2, 2, 0, False),
                              (7, 2, 2, 0, True), (112, 3, 2, 1, False)]:
    out = functional.pool2d_output_size(size, k, stride=s, padding=pad,
                                        ceil_mode=ceil)
    print("H = %3d, window %d, stride %d, padding %d%s -> H' = %d"
          % (size, k, s, pad, ", ceil_mode" if ceil else "", out))

# %%
# Pooling inside a network
# ------------------------
#
# :class:`cnnc.models.ShapesNet` is the lecture's building block three
# times (convolution, batch normalization, ReLU, 2 x 2 max pooling) and a
# fully connected classifier. :func:`cnnc.summary` runs one image through
# it and lists every layer: its output shape, its parameters, its cost in
# floating-point operations (FLOPs), and its receptive field (RF), the
# size of the input window that one pixel of its output depends on.
print(cnnc.summary(ShapesNet(rng=0), (1, 32, 32)))

# %%
# Each ``MaxPool2d`` row halves the height and width (32 -> 16 -> 8 -> 4)
# with 0 parameters. Two consequences show in the other columns:
#
# - **Cost.** The convolution after a pooling works on a quarter of the
#   pixels. The third convolution has twice the filters and twice the
#   input channels of the second, four times the work per pixel, on a
#   quarter of the pixels: both cost 2.36 million FLOPs. The classifier
#   reads 64 x 4 x 4 = 1024 features instead of 64 x 32 x 32 = 65,536.
# - **Receptive field.** Each pooling doubles the *jump* (the distance in
#   input pixels between neighbouring output pixels), so every later 3 x 3
#   convolution adds twice as much to the receptive field as the one
#   before it: 3, 8, 18 input pixels, and 22 x 22 after the last pooling,
#   most of the 32 x 32 image. This is how deeper layers come to see
#   parts and whole objects rather than edges.
#
# The same encoder without its three poolings keeps every map at
# 32 x 32:
no_pooling = nn.Sequential(*[layer for layer in ShapesNet(rng=0).encoder
                             if not isinstance(layer, nn.MaxPool2d)])
with_pooling = ShapesNet(rng=0).encoder
for name, encoder in [("with pooling", with_pooling),
                      ("without pooling", no_pooling)]:
    table = cnnc.summary(encoder, (1, 32, 32))
    print("%-16s output %-13s %6.1f MFLOPs per image, receptive field %s"
          % (name, table.output_shape, table.total_flops / 1e6,
             "x".join(map(str, table.rows[-1].receptive_field))))

# %%
# Without pooling the encoder costs about 9 times as much per image, its
# output is 64 times larger, and its last pixels see only 7 x 7 input
# pixels.
#
# Max against average on a photograph
# -----------------------------------
#
# The photograph is scikit-learn's sample image ``china.jpg`` when
# scikit-learn and Pillow are installed; otherwise a scene drawn with
# NumPy, so that the page still builds. The printed line says which one
# this page used. We make it grey and pool it with 8 x 8 windows, which
# takes each side down by a factor of 8.


def draw_scene(height=240, width=320):
    """A grey scene with bright, dark, straight and curved edges."""
    rows, cols = np.mgrid[0:height, 0:width]
    scene = np.full((height, width), 0.75)                 # sky
    scene[rows > 0.7 * height] = 0.45                      # grass
    scene[(rows - 50) ** 2 + (cols - 260) ** 2 < 28 ** 2] = 1.0   # sun
    wall = (rows > 110) & (rows < 190) & (cols > 70) & (cols < 190)
    scene[wall] = 0.8
    scene[(rows <= 110) & (rows > 50 + abs(cols - 130))] = 0.3    # roof
    scene[(rows > 140) & (rows < 190) & (cols > 115) & (cols < 145)] = 0.2
    scene += 0.02 * np.random.default_rng(0).standard_normal(scene.shape)
    return scene.clip(0, 1)


try:
    from sklearn.datasets import load_sample_image
    photo = load_sample_image("china.jpg")
    grey = (photo / 255.0) @ np.array([0.299, 0.587, 0.114])
    source = "scikit-learn's sample photograph china.jpg"
except ImportError:
    grey = draw_scene()
    source = "a scene drawn with NumPy (scikit-learn or Pillow is missing)"
grey = grey.astype(np.float32)
print("image: %s, %d x %d" % ((source,) + grey.shape))

image = grey[None, None]                            # (1, 1, H, W)
pooled_max = functional.max_pool2d(image, 8)[0, 0]
pooled_avg = functional.avg_pool2d(image, 8)[0, 0]
print("pooled with 8 x 8 windows:", grey.shape, "->", pooled_max.shape)
print("mean brightness: input %.2f, max pooled %.2f, average pooled %.2f"
      % (grey.mean(), pooled_max.mean(), pooled_avg.mean()))

# %%
# cnnc's fast pooling must agree with the plain NumPy one of
# :mod:`cnnc.reference` on the photograph too.
np.testing.assert_array_equal(pooled_max, reference.max_pool2d(image, 8)[0, 0])
np.testing.assert_allclose(pooled_avg, reference.avg_pool2d(image, 8)[0, 0],
                           rtol=1e-5, atol=1e-6)
print("functional and reference pooling agree on the photograph")

# %%
# A photograph is the input of a network, not a feature map, but it shows
# the difference well. We also pool an edge map of it: the absolute
# response of a vertical edge filter (the one of the convolution
# tutorial), which is large on the thin lines where brightness changes
# from left to right and near 0 elsewhere, as the feature maps of a
# network's first layer are.
vertical = np.array([[-1, 0, 1],
                     [-2, 0, 2],
                     [-1, 0, 1]], dtype=np.float32)
edges = np.abs(functional.conv2d(image, vertical[None, None], padding=1))
edges_max = functional.max_pool2d(edges, 8)[0, 0]
edges_avg = functional.avg_pool2d(edges, 8)[0, 0]
edges = edges[0, 0]

fig, axes = plt.subplots(2, 3, figsize=(11, 5.4), layout="constrained")
top = np.percentile(edges, 99.5)
for col, (title, picture, edge_map) in enumerate([
        ("input", grey, edges),
        ("max pooling, 8 x 8", pooled_max, edges_max),
        ("average pooling, 8 x 8", pooled_avg, edges_avg)]):
    axes[0, col].imshow(picture, cmap="gray", vmin=0, vmax=1)
    axes[0, col].set_title("%s, %d x %d" % ((title,) + picture.shape))
    axes[1, col].imshow(edge_map, cmap="gray", vmin=0, vmax=top)
    axes[1, col].set_title("vertical edges, %s" % title.split(",")[0])
for ax in axes.flat:
    ax.set_axis_off()
plt.show()

# %%
# In the photograph (top row), average pooling gives a smaller, blurred
# copy with the same mean brightness as the input (printed above). Max
# pooling keeps the brightest pixel of each window, so the whole picture
# turns lighter: wherever a window holds some bright pixels it becomes
# bright, so the bright sky eats into the dark pagoda, whose outline
# becomes a light border, and the dark trees turn grey.
#
# On the edge map (bottom row, all three on the same grey scale) the
# difference is the one that matters in a network. An edge is one or two
# pixels wide, so an 8 x 8 window holds a few large responses and many
# near 0. Max pooling keeps the large response: the edges stay as bright
# as before, at an eighth of the size. Average pooling divides it among 64
# pixels, and the edges fade. The numbers below compare the strongest
# responses.
for name, edge_map in [("input edge map", edges), ("after max pooling",
                                                   edges_max),
                       ("after average pooling", edges_avg)]:
    print("%-22s largest response %.2f, 99th percentile %.2f"
          % (name, edge_map.max(), np.percentile(edge_map, 99)))

# %%
# Max pooling reports *whether* a feature is present somewhere in a
# window; average pooling reports *how much* of the window has it.
# ShapesNet above uses max pooling between its blocks. Averaging a whole
# map into one number per channel, *global average pooling*
# (:class:`cnnc.nn.AdaptiveAvgPool2d` with output size 1), is the other
# common use of average pooling, at the end of an encoder.
#
# A little translation invariance
# -------------------------------
#
# Shift an image by one pixel and its feature maps shift by one pixel
# too: a convolution is *equivariant*, it moves its output with its input.
# Compared position by position, though, a feature map of thin edges and
# its shifted copy hardly overlap. After max pooling, a shift by one pixel
# only changes the windows where the strongest response crosses from one
# window into the next; in the others, the maximum is still inside the
# same window and the pooled value does not change. Pooled features are
# therefore a little *invariant* to small shifts.
#
# To measure it, we draw 200 images of the lecture's shapes (square,
# triangle, circle, diamond) at 40 x 40 pixels and cut two 32 x 32 views
# out of each, one pixel apart: the second is the first moved one pixel
# to the left, with no wrapped-around border. Both go through the same
# four edge filters (vertical, horizontal and two diagonals) and a ReLU,
# then through max or average pooling with windows of 2, 4 and 8. For
# each we report the relative change
# :math:`\| f(x_{shifted}) - f(x) \| / \| f(x) \|`.
scenes, labels = make_shapes(200, size=40, difficulty="easy", rng=0)
view = scenes[:, :, 4:36, 4:36]
shifted = scenes[:, :, 4:36, 5:37]

edge_filters = np.stack([vertical, vertical.T,
                         np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]),
                         np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]])]
                        ).astype(np.float32)[:, None]       # (4, 1, 3, 3)


def edge_features(x):
    """Four edge filters and a ReLU: (N, 1, 32, 32) -> (N, 4, 32, 32)."""
    return functional.relu(functional.conv2d(x, edge_filters, padding=1))


def relative_change(a, b):
    return np.linalg.norm(b - a) / np.linalg.norm(a)


features, features_shifted = edge_features(view), edge_features(shifted)
print("image itself:            %.2f" % relative_change(view, shifted))
print("edge maps, no pooling:   %.2f"
      % relative_change(features, features_shifted))
windows = [2, 4, 8]
change = {"max": [], "average": []}
for k in windows:
    for name, pool in [("max", functional.max_pool2d),
                       ("average", functional.avg_pool2d)]:
        change[name].append(relative_change(pool(features, k),
                                            pool(features_shifted, k)))
    print("edge maps, %d x %d pooling: max %.2f, average %.2f"
          % (k, k, change["max"][-1], change["average"][-1]))

# %%
# The figure shows one image and its shifted view (top row), the
# vertical-edge maps of both (middle) and the same maps after 4 x 4 max
# pooling (bottom), each pair with its difference on the right (red where
# the shifted view's value is larger, blue where it is smaller). On the
# far right, the relative change against the pooling window.
index = 0
pooled = functional.max_pool2d(features, 4)
pooled_shifted = functional.max_pool2d(features_shifted, 4)
vmax = features[index, 0].max()
rows = [("image", view[index, 0], shifted[index, 0], "gray", 1.0),
        ("vertical edges", features[index, 0], features_shifted[index, 0],
         "magma", vmax),
        ("4 x 4 max pooled", pooled[index, 0], pooled_shifted[index, 0],
         "magma", vmax)]

fig = plt.figure(figsize=(10, 6.6), layout="constrained")
grid = fig.add_gridspec(3, 4, width_ratios=[1, 1, 1, 2.2])
for row, (what, a, b, cmap, top) in enumerate(rows):
    panels = [(a, what, cmap, 0), (b, what + ", shifted", cmap, 0),
              (b - a, "difference", "coolwarm", -top)]
    for col, (picture, title, colours, bottom) in enumerate(panels):
        ax = fig.add_subplot(grid[row, col])
        ax.imshow(picture, cmap=colours, vmin=bottom, vmax=top)
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
ax = fig.add_subplot(grid[:, 3])
ax.plot(windows, change["max"], marker="o", label="max pooling")
ax.plot(windows, change["average"], marker="o", label="average pooling")
ax.axhline(relative_change(features, features_shifted), color="0.5",
           linestyle=":", label="no pooling")
ax.set_xticks(windows)
ax.set_xlabel("pooling window k (k x k, stride k)")
ax.set_ylabel("relative change after a 1-pixel shift")
ax.set_ylim(0, None)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %%
# The image itself changes by about a quarter of its size: its flat
# regions do not change when shifted, only its outline does. The edge
# map is all outline (here only the triangle's left side: the filter
# answers where brightness rises from left to right, and the ReLU removes
# the negative answers of the right side), so a one-pixel shift changes it
# by about 60%: the thin edges of the two views lie on neighbouring
# pixels, the red and blue pair in the difference. After 4 x 4 max
# pooling most windows keep their value, and the difference is left at a
# few windows along the edge. The larger the window, the smaller the
# change, for both poolings: with max pooling it falls from 0.60 to about
# 0.44, 0.30 and 0.20 for windows of 2, 4 and 8. Average pooling, which
# also smooths, changes a little more than max pooling for the small
# windows and a little less for the 8 x 8 one.
#
# The invariance is only "a little": a one-pixel shift still changes the
# windows at whose borders the edges lie, and a shift by a whole window
# moves the pooled map by one pixel, which is as large a change as
# before. A network stacks several poolings, and its last layers see
# whole objects; tolerance to larger shifts is learned from the data,
# for instance from shifted copies of the training images (augmentation).
#
# Try this
# --------
#
# - Shift by ``d`` = 2, 4 or 8 pixels instead of 1, with
#   ``shifted = scenes[:, :, 4:36, 4 + d:36 + d]``. What happens to the
#   change after 2 x 2 pooling when ``d = 2`` compared with ``d = 1``?
# - Use overlapping windows,
#   ``functional.max_pool2d(x, 3, stride=2, padding=1)``: predict the
#   output size with :func:`cnnc.functional.pool2d_output_size`, then
#   measure the change after a one-pixel shift.
