"""
Why deep learning works now
===========================

Neural networks are old; what changed is that they can now be trained at
scale. The lecture gives four reasons, and this page measures one of them,
computing power, on the machine that runs it. You will learn:

- the lecture's four reasons why deep learning works now;
- how to write a convolution as plain loops, straight from its formula;
- how much a vectorised NumPy version, a compiled C kernel, wider SIMD
  instructions and a second CPU core each add;
- how to check that a fast implementation computes the same numbers as a
  slow one.
"""

# %%
# Four reasons
# ------------
#
# The lecture lists them in this order:
#
# 1. **Better algorithms and understanding**: activations that keep
#    gradients alive, normalization, dropout, good initialisation (later
#    tutorials cover each).
# 2. **Computing power**: GPUs, TPUs, and on an ordinary CPU, vector
#    (SIMD) instructions and several cores.
# 3. **Data with labels**: millions of annotated images to learn from.
# 4. **Open-source tools and models**: libraries and pre-trained networks
#    anyone can download and build on.
#
# A convolutional network spends almost all of its time in convolutions,
# so below we write one convolution several ways and time each. First,
# what this machine offers: cnnc's build, the SIMD path it picked and its
# thread count.
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import functional, reference

cnnc.show_config()
default_threads = cnnc.get_num_threads()
rng = np.random.default_rng(0)

# %%
# The convolution, straight from its formula
# ------------------------------------------
#
# A convolution layer slides each of its ``K`` filters over the image. At
# every position it multiplies the filter element-wise with the pixels
# under it and adds up the products, plus one bias per filter. With the
# input ``x`` of shape ``(N, C, H, W)`` and the filters ``w`` of shape
# ``(K, C, R, S)`` (stride 1, no padding):
#
# .. math::
#
#    y[n, k, p, q] = b[k] + \sum_{c=0}^{C-1} \sum_{r=0}^{R-1}
#    \sum_{s=0}^{S-1} w[k, c, r, s] \; x[n, c, p + r, q + s]
#
# Written as Python loops, every sum is a ``for``: seven loops deep. It is
# the clearest version and the slowest, so we run it on a tiny input
# only: one 3-channel 32 x 32 image and eight 3 x 3 filters, three times,
# keeping the fastest run.


def conv2d_loops(x, w, b):
    """The formula above, one multiply-add at a time."""
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    P, Q = H - R + 1, W - S + 1
    y = np.zeros((N, K, P, Q))
    for n in range(N):
        for k in range(K):
            for p in range(P):
                for q in range(Q):
                    total = b[k]
                    for c in range(C):
                        for r in range(R):
                            for s in range(S):
                                total += w[k, c, r, s] * x[n, c, p + r, q + s]
                    y[n, k, p, q] = total
    return y


def multiply_adds(x_shape, w_shape, y_shape):
    """Multiply-adds of a convolution: one per filter weight per output."""
    N, K, P, Q = y_shape
    return N * K * P * Q * w_shape[1] * w_shape[2] * w_shape[3]


x_tiny = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
w_tiny = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
b_tiny = rng.standard_normal(8).astype(np.float32)

loop_seconds = float("inf")
for _ in range(3):
    start = time.perf_counter()
    y_loops = conv2d_loops(x_tiny, w_tiny, b_tiny)
    loop_seconds = min(loop_seconds, time.perf_counter() - start)
tiny_work = multiply_adds(x_tiny.shape, w_tiny.shape, y_loops.shape)
loop_rate = tiny_work / loop_seconds
print("Python loops: output %s in %.3f s, %.2f million multiply-adds per second"
      % (y_loops.shape, loop_seconds, loop_rate / 1e6))

# %%
# The same sum in NumPy
# ---------------------
#
# :func:`cnnc.reference.conv2d` computes the same formula but loops only
# over the ``R x S`` filter taps. For one tap ``(r, s)``, the input pixels
# it meets at every output position form a shifted view of the image, and
# one NumPy call multiplies that whole view by the tap's weights for all
# filters at once. The seven loops become nine NumPy calls for a 3 x 3
# filter, each doing many multiply-adds in compiled code.
#
# :func:`cnnc.functional.conv2d` has the same signature and calls cnnc's C
# core. Before timing anything, we check that all three give the same
# numbers on the tiny input. All three compute in single precision
# (float32) but add the products in different orders, so they differ by
# rounding only.
y_numpy = reference.conv2d(x_tiny, w_tiny, b_tiny)
y_c = functional.conv2d(x_tiny, w_tiny, b_tiny)
print("largest |loops - NumPy|:", np.abs(y_loops - y_numpy).max())
print("largest |loops - C|:    ", np.abs(y_loops - y_c).max())
print("largest |y| for scale:  ", np.abs(y_loops).max())
np.testing.assert_allclose(y_numpy, y_loops, rtol=1e-4, atol=1e-4)
np.testing.assert_allclose(y_c, y_loops, rtol=1e-4, atol=1e-4)

# %%
# A layer from the lecture
# ------------------------
#
# The lecture's example maps a 56 x 56 x 64 feature map to 56 x 56 x 128
# with 3 x 3 filters at stride 1 (padding 1 keeps the 56 x 56). That is
# 231 million multiply-adds for one image, far too many for the loops on
# a page that must build in a minute: for them we extrapolate from their
# rate instead.
#
# The C core is timed in four settings. ``cnnc.set_simd("scalar")`` uses
# the portable C kernel, written for any CPU; ``"auto"`` takes the best
# kernel this CPU supports: on an x86-64 CPU with AVX2, one written for
# those instructions, whose registers hold eight floats and whose fused
# multiply-add does a multiplication and an addition in one step.
# ``cnnc.set_num_threads`` chooses one or two cores.
#
# Each setting is timed a few times, taking turns with the others, and its
# fastest run is kept: the machine that built this page may be busy with
# other work, and that only ever adds time.
size, in_channels, filters = 56, 64, 128

x = rng.standard_normal((1, in_channels, size, size)).astype(np.float32)
w = rng.standard_normal((filters, in_channels, 3, 3)).astype(np.float32)
b = rng.standard_normal(filters).astype(np.float32)


def c_core(simd, threads):
    """The C convolution with a given SIMD path and thread count."""
    def run():
        cnnc.set_simd(simd)
        cnnc.set_num_threads(threads)
        return functional.conv2d(x, w, b, padding=1)
    return run


cnnc.set_simd("auto")
best_simd = cnnc.get_simd()
versions = {"NumPy (cnnc.reference)": lambda: reference.conv2d(x, w, b, padding=1)}
for simd, name in [("scalar", "scalar")] + (
        [("auto", best_simd)] if best_simd != "scalar" else []):
    for threads in (1, 2):
        versions["C, %s, %d thread%s" % (name, threads, "s" * (threads > 1))] = \
            c_core(simd, threads)


def fastest_times(functions, repeat=5):
    """Fastest of `repeat` timed calls of each function, taken in turns.

    Every timed call follows an untimed one of the same function, so it
    finds its threads awake and its data in the caches.
    """
    best = {name: float("inf") for name in functions}
    for _ in range(repeat):
        for name, f in functions.items():
            f()
            start = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


seconds = fastest_times(versions)
y_shape = (1, filters, size, size)
work = multiply_adds(x.shape, w.shape, y_shape)
print("%d million multiply-adds per image" % (work / 1e6))
print("Python loops   : %9.1f ms (extrapolated)" % (1e3 * work / loop_rate))
for name, t in seconds.items():
    print("%-26s: %9.1f ms" % (name, 1e3 * t))
if hasattr(os, "getloadavg"):
    print("load average over the last minute: %.1f on %d CPUs"
          % (os.getloadavg()[0], os.cpu_count()))

# %%
# Do they agree?
# --------------
#
# A fast answer is only worth having if it is the right one. Every setting
# of the C core must match the NumPy reference up to float32 rounding,
# which grows with the number of products summed into each output (576
# here: 64 channels times 9 taps).
y_ref = versions["NumPy (cnnc.reference)"]()
for name, f in list(versions.items())[1:]:
    y = f()
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-3)
    print("%-26s largest difference from NumPy: %.2e"
          % (name, np.abs(y - y_ref).max()))
print("largest |y| for scale: %.1f" % np.abs(y_ref).max())

# %%
# The speed-ups
# -------------
#
# Each bar is a speed, multiply-adds per second, divided by the speed of
# the Python loops; the loops' speed hardly depends on the input size, so
# measuring it on the tiny input is fair. The axis is logarithmic: each
# grid line is ten times the one before.
#
# The largest step is leaving the Python interpreter: every other bar is
# hundreds of times faster than the loops, or more. The next is the AVX2
# kernel, written by hand for those instructions: it keeps a block of 6
# output channels x 16 output pixels in registers, and each of its fused
# multiply-adds does eight multiply-adds at once. The portable kernel is
# plain C that the compiler translates as well as it can for any CPU, and
# it need not beat NumPy, whose inner loops use SIMD instructions too.
#
# A second core can at most halve the time. On a shared machine, where
# another program may hold that core, it can gain nothing or even lose:
# read the two thread bars of this run together with the load average
# printed above.
names = ["Python loops"] + list(seconds)
speedups = [1.0] + [work / t / loop_rate for t in seconds.values()]

fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
colours = ["0.6", "tab:blue"] + ["tab:orange"] * (len(names) - 2)
bars = ax.barh(names, speedups, color=colours)
ax.bar_label(bars, labels=["x%s" % format(round(v), ",") for v in speedups],
             padding=3)
ax.set_xscale("log")
ax.set_xlim(0.5, max(speedups) * 20)
ax.invert_yaxis()
ax.set_xlabel("speed-up over Python loops (multiply-adds per second)")
ax.set_title("One %dx%dx%d -> %dx%dx%d convolution (3x3, stride 1)"
             % (size, size, in_channels, size, size, filters))
ax.grid(axis="x", which="major", alpha=0.3)
plt.show()

# %%
# Try this
# --------
#
# Change ``size``, ``in_channels`` or ``filters`` in the cell "A layer
# from the lecture" and run the page again:
#
# - ``size = 14`` shrinks the work 16 times: the second thread now has
#   little to share, and fixed costs weigh more in every bar.
# - ``filters = 8``: the C kernel computes output channels six at a time,
#   so eight filters make one full block and one a third full. Do the
#   bars, which measure work per second, shrink?
#
# Last, we put back the settings this page changed.
cnnc.set_simd("auto")
cnnc.set_num_threads(default_threads)
