"""
Convolution
===========

The convolution layer is the first part of the lecture's building block
(convolution, activation, pooling, normalization). This page builds it up
from a 5 x 5 grid of numbers to edge detection on a photograph. You will
learn:

- the operation itself: an element-wise multiplication and a sum, repeated
  as a window slides over the input;
- how stride and padding set the size of the output feature map, checked
  on the lecture's 56 x 56 x 64 and 224 x 224 x 3 examples;
- how a kernel tensor of shape h x w x N_I x N_O and one bias per output
  channel turn N_I input channels into N_O output channels, and how that
  tensor is stored in cnnc (and PyTorch);
- how hand-made edge filters respond to a real photograph, and that
  cnnc's fast convolution gives the same feature maps as its NumPy
  reference.
"""

# %%
# Element-wise multiplication and addition
# ----------------------------------------
#
# Take a small input, a 5 x 5 grid of pixel values, and a 3 x 3 kernel
# (also called a filter). Lay the kernel over the top-left 3 x 3 patch of
# the input, multiply each pair of numbers that lie on top of each other,
# and add up the nine products. That single number is the first value of
# the output.
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import functional, reference

rng = np.random.default_rng(0)

image = rng.integers(0, 4, size=(5, 5)).astype(np.float32)
kernel = np.array([[1, 0, 1],
                   [0, 1, 0],
                   [1, 0, 1]], dtype=np.float32)

patch = image[0:3, 0:3]
print("input:\n", image)
print("kernel:\n", kernel)
print("top-left patch times kernel, element by element:\n", patch * kernel)
print("their sum, the first output value:", (patch * kernel).sum())

# %%
# The sliding window
# ------------------
#
# The window then moves one pixel to the right and the same
# multiply-and-sum gives the next output value; at the end of a row it
# moves one pixel down and starts again from the left. A 3 x 3 window fits
# in 3 x 3 places on a 5 x 5 input, so the output feature map is 3 x 3.
# Here is the whole operation in plain NumPy, written for one channel.
#
# (Deep learning libraries call this a convolution, although strictly it
# is a cross-correlation: the kernel is not flipped. A learned kernel does
# not care, and cnnc follows the libraries.)


def slide(image, kernel, stride=1, padding=0):
    """One-channel convolution: multiply and sum under a sliding window."""
    image = np.pad(image, padding)
    h, w = kernel.shape
    out_h = (image.shape[0] - h) // stride + 1
    out_w = (image.shape[1] - w) // stride + 1
    out = np.zeros((out_h, out_w), dtype=image.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * stride:i * stride + h, j * stride:j * stride + w]
            out[i, j] = np.sum(window * kernel)
    return out


output = slide(image, kernel)
print("output feature map:\n", output)

# %%
# The figure shows two moments of the slide: the window (red) at the first
# position and at the centre, the kernel, and the output filled in up to
# that position.


def draw_grid(ax, values, title, box=None, shown=None):
    """Draw a grid of numbers; outline `box` = (row, col, size) in red and
    leave cells blank where `shown` is False."""
    ax.imshow(np.zeros_like(values), cmap="Greys", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(values):
        if shown is None or shown[i, j]:
            ax.text(j, i, "%g" % v, ha="center", va="center", fontsize=11)
    for i in range(1, values.shape[0]):
        ax.axhline(i - 0.5, color="0.6", linewidth=1)
    for j in range(1, values.shape[1]):
        ax.axvline(j - 0.5, color="0.6", linewidth=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if box is not None:
        row, col, size = box
        ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), size, size,
                                   fill=False, edgecolor="red", linewidth=3))
    ax.set_title(title)


fig, axes = plt.subplots(2, 3, figsize=(7.5, 5.2), layout="constrained",
                         width_ratios=[5, 3, 3])
for row, (i, j) in enumerate([(0, 0), (1, 1)]):
    done = np.arange(9).reshape(3, 3) <= i * 3 + j
    draw_grid(axes[row, 0], image, "input", box=(i, j, 3))
    draw_grid(axes[row, 1], kernel, "kernel")
    draw_grid(axes[row, 2], output, "output", box=(i, j, 1), shown=done)
plt.show()

# %%
# Output feature map size
# -----------------------
#
# Two settings change where the window goes. The **stride** is the step
# between window positions: stride 2 skips every other position. The
# **padding** adds a border of zeros around the input, so that the window
# can also sit over the edges. With an input of size H, a kernel of size
# h, a padding of "pad" zeros on each side and stride s, the output size
# is
#
# .. math::
#
#    H' = \left\lfloor \frac{H + 2 \cdot \mathrm{pad} - h}{s}
#    \right\rfloor + 1
#
# and the same for the width. :func:`cnnc.functional.conv2d_output_size`
# computes it. In the figure below, the red circles mark where the
# window's centre stops on the padded 5 x 5 input (the zeros of the
# padding in grey; the dashed square is the first window): with padding
# 1, stride 1 keeps the size at 5 x 5 and stride 2 halves it, rounding
# up, to 3 x 3.
for stride, padding in [(1, 0), (2, 0), (1, 1), (2, 1)]:
    ours = slide(image, kernel, stride, padding).shape
    formula = functional.conv2d_output_size((5, 5), 3, stride, padding)
    print("stride %d, padding %d: slide() gives %s, the formula %s"
          % (stride, padding, ours, formula))

fig, axes = plt.subplots(1, 2, figsize=(7, 3.6), layout="constrained")
padded = np.pad(image, 1)
for ax, stride in zip(axes, (1, 2)):
    border = np.pad(np.zeros((5, 5), bool), 1, constant_values=True)
    ax.imshow(border, cmap="Greys", vmin=0, vmax=3)
    for (i, j), v in np.ndenumerate(padded):
        ax.text(j, i, "%g" % v, ha="center", va="center", color="0.3")
    out = functional.conv2d_output_size((5, 5), 3, stride, 1)
    centres = [(1 + stride * i, 1 + stride * j)
               for i in range(out[0]) for j in range(out[1])]
    ax.scatter([c for _, c in centres], [r for r, _ in centres], s=260,
               facecolors="none", edgecolors="red", linewidths=2)
    ax.add_patch(plt.Rectangle((-0.5, -0.5), 3, 3, fill=False,
                               edgecolor="red", linestyle="--"))
    ax.set_title("padding 1, stride %d: %d x %d output" % (stride, *out))
    ax.set_axis_off()
plt.show()

# %%
# The fast convolution, :func:`cnnc.functional.conv2d`, takes a batch of
# images shaped ``(N, C, H, W)`` and kernels shaped ``(K, C, R, S)``
# (explained below). With one image, one channel and one kernel it must
# give what ``slide`` gives, for every stride and padding.
for stride, padding in [(1, 0), (2, 0), (1, 1), (2, 1)]:
    fast = functional.conv2d(image[None, None], kernel[None, None],
                             stride=stride, padding=padding)[0, 0]
    np.testing.assert_allclose(fast, slide(image, kernel, stride, padding))
print("functional.conv2d agrees with slide() for every stride and padding")

# %%
# The lecture's examples
# ----------------------
#
# The lecture maps a 56 x 56 x 64 input feature map to a 56 x 56 x 128
# output at stride 1, and to 28 x 28 x 128 at stride 2. The kernel is
# 3 x 3 with padding 1 (the lecture's first kernel example,
# 3 x 3 x 64 x 128). The formula gives the height and width; the 128 is
# the number of kernels, one per output channel. We check the formula by
# running real cnnc layers, :class:`cnnc.nn.Conv2d`, on an input of that
# shape.
x56 = np.zeros((1, 64, 56, 56), np.float32)
for stride in (1, 2):
    layer = cnnc.nn.Conv2d(64, 128, kernel_size=3, stride=stride, padding=1,
                           rng=0)
    size = functional.conv2d_output_size(56, 3, stride=stride, padding=1)
    y = layer(x56)
    print("stride %d: formula %d x %d x 128, layer output (N, C, H, W) = %s"
          % (stride, size, size, y.shape))

# %%
# Each of these layers holds 3 x 3 x 64 x 128 weights plus 128 biases,
# whatever the stride; the second kernel example of the lecture,
# 5 x 5 x 64 x 128, holds almost three times as many.
for h in (3, 5):
    print("%d x %d x 64 x 128 kernel: %7d weights + 128 biases = %7d"
          % (h, h, h * h * 64 * 128, h * h * 64 * 128 + 128))

# %%
# A network usually starts from a 224 x 224 x 3 colour image, and the
# stride-2 steps of its blocks shrink the feature maps while the number of
# channels usually grows. Below, a 7 x 7 stride-2 first layer and then 3 x 3
# stride-2 layers: the 56 x 56 of the lecture's example appears on the
# way, and five halvings take 224 down to 7.
size = 224
print("input: %d x %d x 3" % (size, size))
for kernel_size, padding in [(7, 3), (3, 1), (3, 1), (3, 1), (3, 1)]:
    size = functional.conv2d_output_size(size, kernel_size, stride=2,
                                         padding=padding)
    print("%d x %d kernel, stride 2, padding %d -> %d x %d"
          % (kernel_size, kernel_size, padding, size, size))

# %%
# Convolutional feature mapping: many channels
# --------------------------------------------
#
# A real input has several channels: three colours for a photograph, N_I
# feature maps inside a network. The lecture stacks the input as
# :math:`F_I \in \mathbb{R}^{H \times W \times N_I}` and the kernels as a
# tensor :math:`K \in \mathbb{R}^{h \times w \times N_I \times N_O}`.
# Output channel j convolves every input channel i with its own slice of
# the kernel, adds the N_I results and one bias :math:`b_j`:
#
# .. math::
#
#    F_O[:, :, j] = \sum_{i=1}^{N_I} F_I[:, :, i] * K[:, :, i, j] + b_j
#
# Below, this formula is computed exactly as written, using ``slide`` for
# each ``*``, on a small 6 x 6 x 3 input with two output channels.
F_I = rng.standard_normal((6, 6, 3)).astype(np.float32)
K = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
b = np.array([0.5, -1.0], dtype=np.float32)

n_in, n_out = K.shape[2], K.shape[3]
F_O = np.stack([sum(slide(F_I[:, :, i], K[:, :, i, j]) for i in range(n_in))
                + b[j] for j in range(n_out)], axis=-1)
print("F_I:", F_I.shape, " K:", K.shape, " F_O:", F_O.shape)

# %%
# cnnc, like PyTorch, puts channels first: a batch of inputs is
# ``(N, C, H, W)`` and the kernels are ``(K, C, R, S)``, so
# ``weight[j, i]`` is the lecture's ``K[:, :, i, j]``: the letters are C =
# N_I input channels, K = N_O output channels, R x S = h x w. Two
# transposes convert, and the fast convolution then gives the lecture's
# F_O.
x = F_I.transpose(2, 0, 1)[None]     # (1, N_I, H, W)
weight = K.transpose(3, 2, 0, 1)     # (N_O, N_I, h, w)
y = functional.conv2d(x, weight, b)  # (1, N_O, H', W')
print("x:", x.shape, " weight:", weight.shape, " y:", y.shape)
np.testing.assert_allclose(y[0].transpose(1, 2, 0), F_O, rtol=1e-5, atol=1e-5)
print("largest difference from the formula:",
      np.abs(y[0].transpose(1, 2, 0) - F_O).max())

# %%
# Edge filters on a photograph
# ----------------------------
#
# Before networks learned their own filters, image processing used
# hand-made ones. A Sobel-like filter subtracts the pixels on one side of
# the window from those on the other, weighting the middle row twice: on
# a flat region the products cancel to zero, across an edge they do not.
# Its transpose finds horizontal edges, and two diagonal versions find
# edges at 45 degrees.
#
# The photograph is scikit-learn's sample image ``china.jpg`` when
# scikit-learn and Pillow (which it needs to read JPEG files) are
# installed; otherwise a scene is drawn with NumPy so that the page still
# builds. The printed line says which one this page used.


def draw_scene(height=240, width=320):
    """A simple RGB scene with straight, slanted and curved edges."""
    rows, cols = np.mgrid[0:height, 0:width]
    scene = np.empty((height, width, 3))
    scene[:] = [0.55, 0.75, 0.95]                          # sky
    scene[rows > 0.7 * height] = [0.35, 0.6, 0.3]          # grass
    sun = (rows - 50) ** 2 + (cols - 260) ** 2 < 28 ** 2
    scene[sun] = [1.0, 0.85, 0.3]
    wall = (rows > 110) & (rows < 190) & (cols > 70) & (cols < 190)
    scene[wall] = [0.85, 0.8, 0.7]
    roof = (rows <= 110) & (rows > 50 + abs(cols - 130))
    scene[roof] = [0.6, 0.25, 0.2]
    door = (rows > 140) & (rows < 190) & (cols > 115) & (cols < 145)
    scene[door] = [0.4, 0.3, 0.2]
    scene += 0.02 * np.random.default_rng(0).standard_normal(scene.shape)
    return (255 * scene.clip(0, 1)).astype(np.uint8)


try:
    from sklearn.datasets import load_sample_image
    photo = load_sample_image("china.jpg")
    source = "scikit-learn's sample photograph china.jpg"
    detail = (slice(40, 340), slice(60, 360))   # the pagoda
except ImportError:
    photo = draw_scene()
    source = "a scene drawn with NumPy (scikit-learn or Pillow is missing)"
    detail = (slice(None), slice(None))         # all of it
print("image: %s, %d x %d x %d" % ((source,) + photo.shape))

fig, ax = plt.subplots(figsize=(6, 4.2), layout="constrained")
ax.imshow(photo)
ax.set_title("input, H x W x N_I = %d x %d x %d" % photo.shape)
ax.set_axis_off()
plt.show()

# %%
# We make the photograph grey, as one channel of values between 0 and 1,
# stack the four filters into a weight array of shape ``(4, 1, 3, 3)``
# (four output channels, one input channel) and convolve with padding 1,
# so that each feature map has the photograph's size. The figure shows
# each filter above the absolute value of its feature map (for the
# photograph, the part with the pagoda): bright where the filter found an
# edge of its direction, dark on flat regions such as the sky. In the
# photograph, the vertical filter picks out the pagoda's pillars, the
# horizontal one its roof lines and balconies, and each diagonal filter
# lights up one of the two slopes of the top roof: the right-hand slope,
# which runs down to the right like ``\``, in the first, the left-hand one
# in the second.
grey = (photo / 255.0) @ np.array([0.299, 0.587, 0.114])
grey = grey.astype(np.float32)

vertical = np.array([[-1, 0, 1],
                     [-2, 0, 2],
                     [-1, 0, 1]], dtype=np.float32)
filters = {
    "vertical edges": vertical,
    "horizontal edges": vertical.T,
    "diagonal edges (\\)": np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]],
                                    dtype=np.float32),
    "diagonal edges (/)": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]],
                                   dtype=np.float32),
}
edge_weight = np.stack(list(filters.values()))[:, None]   # (4, 1, 3, 3)
maps = functional.conv2d(grey[None, None], edge_weight, padding=1)[0]
print("weight:", edge_weight.shape, " feature maps:", maps.shape)

fig, axes = plt.subplots(2, 4, figsize=(11, 4.6), layout="constrained",
                         height_ratios=[1, 3])
for col, (name, filt) in enumerate(filters.items()):
    axes[0, col].imshow(filt, cmap="coolwarm", vmin=-2, vmax=2)
    for (i, j), v in np.ndenumerate(filt):
        axes[0, col].text(j, i, "%g" % v, ha="center", va="center")
    axes[0, col].set_title(name)
    response = np.abs(maps[col][detail])
    axes[1, col].imshow(response, cmap="gray", vmin=0,
                        vmax=np.percentile(response, 99.5))
for ax in axes.flat:
    ax.set_axis_off()
plt.show()

# %%
# One kernel over three colour channels
# -------------------------------------
#
# The grey conversion is itself a weighted sum over the three colour
# channels, so it can move into the kernels: a kernel of shape
# ``(4, 3, 3, 3)`` whose slice for colour i is the edge filter times that
# colour's grey weight. Applied to the RGB photograph, the sum over input
# channels in the lecture's formula does the conversion and the edge
# detection in one convolution, with the same feature maps as before.
rgb = (photo / 255.0).astype(np.float32).transpose(2, 0, 1)[None]  # (1, 3, H, W)
grey_weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
colour_weight = edge_weight * grey_weights[None, :, None, None]   # (4, 3, 3, 3)
colour_maps = functional.conv2d(rgb, colour_weight, padding=1)[0]
print("weight:", colour_weight.shape,
      " largest difference from the grey feature maps: %.1e"
      % np.abs(colour_maps - maps).max())

# %%
# The reference and the fast version agree
# ----------------------------------------
#
# :func:`cnnc.reference.conv2d` is the plain NumPy version of the same
# formula, the one the tests compare the C core against. On the
# photograph both must give the same feature maps up to float32 rounding.
# Their times (the fastest of three runs) are from this run only: the
# machine that builds these pages is shared. Four small filters are
# little work; :ref:`sphx_glr_auto_tutorials_02_why_now.py` races the
# two on a layer of the lecture's size.


def fastest_of_three(f):
    """Run f three times; return its result and the fastest time."""
    seconds = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = f()
        seconds = min(seconds, time.perf_counter() - start)
    return result, seconds


maps_ref, reference_seconds = fastest_of_three(
    lambda: reference.conv2d(rgb, colour_weight, padding=1)[0])
maps_fast, fast_seconds = fastest_of_three(
    lambda: functional.conv2d(rgb, colour_weight, padding=1)[0])

np.testing.assert_allclose(maps_fast, maps_ref, rtol=1e-5, atol=1e-5)
print("largest difference: %.1e" % np.abs(maps_fast - maps_ref).max())
print("reference %.1f ms, fast %.1f ms in this run"
      % (1e3 * reference_seconds, 1e3 * fast_seconds))

# %%
# Try this
# --------
#
# - Add a filter of your own to ``filters``, for instance
#   ``np.ones((3, 3), np.float32) / 9``, which averages its window (a
#   blur), or a 5 x 5 edge filter (every filter in one weight array must
#   have the same size).
# - Convolve the photograph with ``stride=2``: predict the feature maps'
#   size with :func:`cnnc.functional.conv2d_output_size` first.
