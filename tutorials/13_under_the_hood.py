"""
Under the hood: a fast convolution
==================================

The same convolution can run dozens of times faster, or slower,
depending on how it is computed. This page opens cnnc's C core and races
it. You will learn:

- how im2col turns a convolution into one matrix product (GEMM), written
  in readable NumPy;
- why cnnc's C core never builds the im2col matrix, and how it reads the
  padded image in place through one offset per filter tap instead;
- what register tiles and cache blocking are, with a diagram;
- what SIMD instructions and a second thread (OpenMP) add, timed;
- how cnnc compares, in GFLOP/s, with its NumPy reference, with im2col
  on NumPy's matrix product, and with PyTorch when it is installed.
"""

# %%
# A convolution is a matrix product in disguise
# ---------------------------------------------
#
# Each output pixel of output channel k is a dot product: the ``C x R x
# S`` weights of filter k times the ``C x R x S`` input pixels under the
# window. Write each filter as a row of a matrix ``W`` (``K`` rows of
# ``CRS`` numbers), and each window of input pixels as a column of a
# matrix ``B`` (``CRS`` rows, one column per output pixel). Then all the
# dot products at once are one matrix product:
#
# .. math::
#
#    Y_{k,\,(p,q)} = \sum_{(c,r,s)} W_{k,\,(c,r,s)} \, B_{(c,r,s),\,(p,q)},
#    \qquad
#    B_{(c,r,s),\,(p,q)} = x_{\mathrm{pad}}[c,\; p \cdot
#    \mathrm{stride} + r,\; q \cdot \mathrm{stride} + s]
#
# Building ``B`` is called **im2col** ("image to columns"). Row ``(c, r,
# s)`` of ``B`` holds, for every output pixel, the input pixel that tap
# ``(r, s)`` of channel ``c`` meets; so it can be filled with one strided
# slice of the padded image per tap.
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import functional, reference

default_threads = cnnc.get_num_threads()
rng = np.random.default_rng(0)


def im2col(x, R, S, stride=1, padding=0):
    """The im2col matrix of a batch: (C*R*S, N*P*Q)."""
    N, C, H, W = x.shape
    P = (H + 2 * padding - R) // stride + 1
    Q = (W + 2 * padding - S) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((C, R, S, N, P, Q), dtype=x.dtype)
    for r in range(R):
        for s in range(S):
            # Tap (r, s) meets pixel (p*stride + r, q*stride + s).
            window = x_pad[:, :, r:r + stride * P:stride, s:s + stride * Q:stride]
            cols[:, r, s] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * R * S, N * P * Q)


def conv2d_im2col(x, weight, stride=1, padding=0):
    """Convolution as im2col followed by one matrix product."""
    N, C, H, W = x.shape
    K, _, R, S = weight.shape
    P = (H + 2 * padding - R) // stride + 1
    Q = (W + 2 * padding - S) // stride + 1
    y = weight.reshape(K, C * R * S) @ im2col(x, R, S, stride, padding)
    return y.reshape(K, N, P, Q).transpose(1, 0, 2, 3)


x_small = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
w_small = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
for stride in (1, 2):
    y_gemm = conv2d_im2col(x_small, w_small, stride=stride, padding=1)
    y_ref = reference.conv2d(x_small, w_small, stride=stride, padding=1)
    np.testing.assert_allclose(y_gemm, y_ref, rtol=1e-5, atol=1e-5)
    print("stride %d: W %s @ B %s -> output %s, largest difference from "
          "cnnc.reference: %.1e" % (stride, (4, 27),
                                    im2col(x_small, 3, 3, stride, 1).shape,
                                    y_gemm.shape, np.abs(y_gemm - y_ref).max()))

# %%
# The price of im2col
# -------------------
#
# Matrix products are what computers do fastest, which is why im2col is
# popular. But ``B`` copies every input pixel once per filter tap that
# meets it: about ``R x S`` times, nine times for 3 x 3 filters. For the
# lecture's layer (56 x 56 x 64 in, 128 filters of 3 x 3, stride 1,
# padding 1) it is nine times the size of the input, and it grows with the
# batch.
C, H, W, K = 64, 56, 56, 128
P = Q = functional.conv2d_output_size(56, 3, stride=1, padding=1)
for batch in (1, 32):
    input_mb = batch * C * H * W * 4 / 1e6
    im2col_mb = C * 3 * 3 * batch * P * Q * 4 / 1e6
    print("batch %2d: input %6.1f MB, im2col matrix %6.1f MB (float32)"
          % (batch, input_mb, im2col_mb))

# %%
# Reading the image in place
# --------------------------
#
# cnnc's C core (``src_c/conv2d_direct_impl.h``) computes the same matrix
# product but never writes ``B``. Look at one output row ``p`` and 16
# neighbouring output pixels ``q, ..., q + 15``. At stride 1, the pixels
# that tap ``(c, r, s)`` meets there are ``x_pad[c, p + r, q + s : q + s +
# 16]``: 16 neighbours in one row of the padded image, so 16 consecutive
# numbers in memory. The kernel therefore keeps a table with one offset
# per tap, ``off[c, r, s] = c*Hp*Wp + r*Wp + s`` (``Hp x Wp`` being the
# padded size), and reads row ``(c, r, s)`` of ``B`` for those pixels
# straight from the padded image at ``off[c, r, s] + p*Wp + q``.
#
# With a stride of 2 the pixels a tap meets are every other pixel, no
# longer neighbours. The core then splits the padded image into
# ``stride x stride`` "phase" planes, plane ``(a, b)`` holding the pixels
# whose row is ``a`` and column ``b`` modulo the stride; within one plane
# they are neighbours again, and the table points each tap into its plane.
# (A 1 x 1 filter at stride 1 without padding needs nothing of this: the
# image already is ``B``, and the core calls its matrix product directly.)
#
# Below, NumPy plays the C core for one image: it makes the phase planes
# and the offset table and checks that they address exactly the im2col
# matrix, for stride 1 and 2. The only copy of the image is the padded
# one (one per thread, in the C core).


def phase_planes_and_offsets(x_one, R, S, stride, padding):
    """The padded image as phase planes, flattened, and one offset per tap."""
    C = x_one.shape[0]
    x_pad = np.pad(x_one, ((0, 0), (padding, padding), (padding, padding)))
    Hp, Wp = x_pad.shape[1:]
    Hph, Wph = -(-Hp // stride), -(-Wp // stride)   # rounded up
    planes = np.zeros((C, stride, stride, Hph, Wph), dtype=x_one.dtype)
    for a in range(stride):
        for b in range(stride):
            plane = x_pad[:, a::stride, b::stride]
            planes[:, a, b, :plane.shape[1], :plane.shape[2]] = plane
    c, r, s = np.meshgrid(np.arange(C), np.arange(R), np.arange(S),
                          indexing="ij")
    offsets = np.ravel_multi_index(
        (c, r % stride, s % stride, r // stride, s // stride), planes.shape)
    return planes.ravel(), offsets.ravel(), Wph


x_one = rng.standard_normal((C, H, W)).astype(np.float32)
for stride in (1, 2):
    flat, offsets, Wph = phase_planes_and_offsets(x_one, 3, 3, stride, 1)
    P2 = Q2 = functional.conv2d_output_size(56, 3, stride=stride, padding=1)
    p, q = np.divmod(np.arange(P2 * Q2), Q2)
    B_by_offsets = flat[offsets[:, None] + (p * Wph + q)[None, :]]
    B = im2col(x_one[None], 3, 3, stride, 1)
    print("stride %d: %d offsets address the whole %s im2col matrix: %s"
          % (stride, offsets.size, B.shape, np.array_equal(B_by_offsets, B)))
    print("          padded copy %.2f MB instead of %.2f MB"
          % (flat.nbytes / 1e6, B.nbytes / 1e6))

# %%
# Register tiles and cache blocking
# ---------------------------------
#
# A CPU computes only on numbers in its registers, a few dozen named
# slots, and fetching from memory costs far more than a multiply-add. So
# the innermost piece of code, the **micro-kernel**, keeps a small block
# of the output, a **register tile**, in registers for the whole sum. In
# cnnc it is 6 output channels x 16 output pixels of one row (float32).
# For each tap it loads the tap's 16 pixels (at the offset above) and the
# 6 channels' weights for that tap, and adds all 6 x 16 products into the
# tile: 96 multiply-adds for 22 numbers read. Only when a block of taps
# is done is the tile written to memory.
#
# The weights of 6 channels are first packed into one "panel", tap after
# tap, so that the micro-kernel reads them in order. Around the
# micro-kernel, **cache blocking** chooses the order of the loops so that
# what is reused stays in a fast cache: the weights of 120 channels for
# 256 taps (120 KiB) are used for every output row a thread is working on
# before it moves on, and should stay in the core's L2 cache meanwhile.
# The loops, from outer to inner::
#
#     for each block of 256 taps:
#         for each block of 120 output channels (20 panels of 6):
#             for each output row p:
#                 for each run of 16 output pixels q:
#                     for each panel of 6 channels:
#                         micro-kernel: 6 x 16 tile += panel x pixels
#
# The diagram shows the matrix-product view on the left (not to scale):
# a panel of weights times a 16-pixel sliver of ``B`` fills a register
# tile of ``Y``. On the right, one channel of a small padded image (the
# padding grey, rows and columns counted from 0 in the padded image):
# for output row 2, three of the nine taps each read one run of 16
# pixels, one row lower and one column further right per step of ``r``
# and ``s``. The first pixel of each run lies in the window of output
# pixel (2, 0).
fig, (ax_gemm, ax_image) = plt.subplots(1, 2, figsize=(11, 4.8),
                                        width_ratios=[1, 1.05])
fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.05)


def box(ax, x, y, w, h, **style):
    """A rectangle with its lower-left corner at (x, y)."""
    ax.add_patch(plt.Rectangle((x, y), w, h, **style))


def note(ax, text, point, where):
    """A label at `where` with an arrow to `point`."""
    ax.annotate(text, point, where, fontsize=9, ha="center",
                arrowprops=dict(arrowstyle="->", color="0.3"))


# Left: W (K x CRS) times B (CRS x PQ) gives Y (K x PQ), not to scale.
box(ax_gemm, 0, 0, 4, 5, fill=False, lw=1.5)
box(ax_gemm, 5, 6, 8, 4, fill=False, lw=1.5, linestyle="--")
box(ax_gemm, 5, 0, 8, 5, fill=False, lw=1.5)
box(ax_gemm, 0, 1.5, 2.5, 3, color="tab:blue", alpha=0.25)     # MC x KC
box(ax_gemm, 0, 3.9, 2.5, 0.6, color="tab:blue", alpha=0.7)    # panel
box(ax_gemm, 8, 7.5, 0.8, 2.5, color="tab:orange", alpha=0.8)  # KC x NR
box(ax_gemm, 8, 3.9, 0.8, 0.6, color="tab:red")                # tile
ax_gemm.text(2, -0.3, "W: K x CRS\npacked weights", ha="center", va="top")
ax_gemm.text(9, -0.3, "Y: K x PQ, the output", ha="center", va="top")
ax_gemm.text(11, 8, "B: CRS x PQ\n(im2col)\nnever built", ha="center",
             va="center", color="0.4")
ax_gemm.text(1.25, 2.65, "120 channels\nx 256 taps:\nin L2", ha="center",
             va="center", fontsize=8)
note(ax_gemm, "one panel:\n6 channels", (2.3, 4.2), (-1.6, 4.8))
note(ax_gemm, "16 pixels x 256 taps,\nread through offsets", (8.4, 9.0),
     (5.5, 10.6))
note(ax_gemm, "register tile:\n6 x 16 outputs", (8.8, 4.2), (11.2, 2.2))
ax_gemm.set_xlim(-3, 13.5)
ax_gemm.set_ylim(-1.8, 11.8)
ax_gemm.set_aspect("equal")
ax_gemm.set_axis_off()
ax_gemm.set_title("the matrix-product view")

# Right: one channel of a padded 6 x 18 image (padding grey). Output row
# p = 2, pixels q = 0..15: tap (r, s) reads row p + r from column s on.
Hp, Wp, p_row = 8, 20, 2
for i in range(Hp):
    for j in range(Wp):
        edge = i in (0, Hp - 1) or j in (0, Wp - 1)
        box(ax_image, j, Hp - 1 - i, 1, 1, facecolor="0.8" if edge else
            "white", edgecolor="0.7", lw=0.6)
for (r, s), colour in zip([(0, 0), (1, 1), (2, 2)],
                          ["tab:green", "tab:purple", "tab:red"]):
    row = Hp - 1 - (p_row + r)
    box(ax_image, s + 0.1, row + 0.25, 15.8, 0.5, color=colour)
    ax_image.text(Wp + 0.4, row + 0.5, "tap (%d, %d): row %d, from column %d"
                  % (r, s, p_row + r, s), va="center", color=colour,
                  fontsize=9)
box(ax_image, 0, Hp - 1 - (p_row + 2), 3, 3, fill=False, edgecolor="black",
    lw=1.5, linestyle="--")
note(ax_image, "the window of output pixel (2, 0)", (1.5, 3),
     (6, -2))
ax_image.set_xlim(-0.5, Wp + 12.5)
ax_image.set_ylim(-3.5, Hp + 0.5)
ax_image.set_aspect("equal")
ax_image.set_axis_off()
ax_image.set_title("where three taps find their 16 pixels for output row 2")
plt.show()

# %%
# SIMD: one instruction, many numbers
# -----------------------------------
#
# SIMD ("single instruction, multiple data") instructions work on a whole
# register of numbers at once. With AVX2, a register holds 8 floats and a
# fused multiply-add (FMA) instruction does 8 multiply-adds: the 6 x 16
# tile is 12 such registers, and each tap costs 12 FMA instructions. cnnc
# chooses its kernels when it is imported, from what the CPU supports;
# ``cnnc.set_simd("scalar")`` switches to the portable C kernels, the
# specification that the AVX2 ones are tested against, written to be
# plain and to run anywhere rather than to be fast. (On x86-64,
# compilers typically still vectorise them with the 128-bit SSE2
# instructions every such CPU has, but without FMA or 256-bit registers.)
#
# We time the lecture's layer on a batch of two images with one thread,
# taking the fastest of a few runs: the machine is shared, and other work
# only ever adds time.
N, R, stride, padding = 2, 3, 1, 1
x = rng.standard_normal((N, C, H, W)).astype(np.float32)
w = rng.standard_normal((K, C, R, R)).astype(np.float32)
P, Q = functional.conv2d_output_size((H, W), R, stride, padding)
flops = 2 * N * K * P * Q * C * R * R       # a multiply-add is 2 flops


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


def cnnc_conv(simd, threads):
    """cnnc's convolution with a given SIMD path and thread count."""
    def run():
        cnnc.set_simd(simd)
        cnnc.set_num_threads(threads)
        return functional.conv2d(x, w, stride=stride, padding=padding)
    return run


cnnc.set_simd("auto")
best_simd = cnnc.get_simd()
simd_times = fastest_times({"scalar": cnnc_conv("scalar", 1),
                            best_simd: cnnc_conv("auto", 1)}, repeat=3)
for name, t in simd_times.items():
    print("%-9s 1 thread: %7.1f ms, %6.1f GFLOP/s"
          % (name, 1e3 * t, flops / t / 1e9))
if best_simd == "scalar":
    print("cnnc has no faster SIMD path for this CPU: 'auto' is 'scalar'")
else:
    print("%s is %.1f times as fast as scalar in this run"
          % (best_simd, simd_times["scalar"] / simd_times[best_simd]))

# %%
# OpenMP: one core or two
# -----------------------
#
# OpenMP spreads a loop over threads, one per core. The core splits the
# batch into work items of one image (or, with few images, a block of its
# output rows) and hands them out to the threads. Each thread keeps its
# own padded copy of the image it works on, and every output pixel is
# written by exactly one thread, so the threads never wait for each
# other. Small convolutions, below 32768 multiply-adds, stay on one
# thread: waking a second one would cost more than it saves.
#
# Two threads can at best halve the time. On a shared machine the second
# core may be busy with other work, so read the result with the load
# average printed next to it.
thread_times = fastest_times({1: cnnc_conv("auto", 1),
                              2: cnnc_conv("auto", 2)})
for threads, t in thread_times.items():
    print("%s, %d thread(s): %6.1f ms, %6.1f GFLOP/s"
          % (best_simd, threads, 1e3 * t, flops / t / 1e9))
print("2 threads: %.2f times as fast as 1 in this run"
      % (thread_times[1] / thread_times[2]))
if hasattr(os, "getloadavg"):
    print("load average over the last minute: %.1f on %d CPUs"
          % (os.getloadavg()[0], os.cpu_count()))

# %%
# The race
# --------
#
# Last, cnnc against other ways of computing the same layer, in GFLOP/s
# (billions of floating-point operations per second, a multiply-add
# counting as two):
#
# - ``cnnc.reference.conv2d``: NumPy, one call per filter tap;
# - im2col with NumPy's matrix product, which calls a BLAS library, tuned
#   over many years with kernels for many CPUs (held to one thread when
#   threadpoolctl is installed; the line below names the library);
# - cnnc's C core, as timed above;
# - PyTorch's CPU convolution with one and two threads, when PyTorch is
#   installed. If it is not, its bars are left out and a line below says
#   so.
#
# First, all of them must agree with the reference.
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: its bars are left out of the race.")
try:
    from threadpoolctl import threadpool_info, threadpool_limits
    for lib in threadpool_info():
        if lib["user_api"] == "blas":
            print("NumPy's BLAS: %s %s, kernels for %s"
                  % (lib["internal_api"], lib["version"],
                     lib.get("architecture")))
except ImportError:
    threadpool_limits = None
    print("threadpoolctl is not installed: NumPy's BLAS uses its own "
          "thread count")


def numpy_im2col():
    """im2col + matrix product, the BLAS on one thread if we can say so."""
    if threadpool_limits is None:
        return conv2d_im2col(x, w, stride, padding)
    with threadpool_limits(1, user_api="blas"):
        return conv2d_im2col(x, w, stride, padding)


racers = {
    "cnnc.reference (NumPy)":
        lambda: reference.conv2d(x, w, stride=stride, padding=padding),
    "im2col + NumPy matmul": numpy_im2col,
    "cnnc, scalar, 1 thread": cnnc_conv("scalar", 1),
    "cnnc, %s, 1 thread" % best_simd: cnnc_conv("auto", 1),
    "cnnc, %s, 2 threads" % best_simd: cnnc_conv("auto", 2),
}
if torch is not None:
    torch_threads = torch.get_num_threads()
    x_torch, w_torch = torch.from_numpy(x), torch.from_numpy(w)

    def torch_conv(threads):
        def run():
            torch.set_num_threads(threads)
            with torch.no_grad():
                return torch.nn.functional.conv2d(
                    x_torch, w_torch, stride=stride, padding=padding).numpy()
        return run

    racers["PyTorch, 1 thread"] = torch_conv(1)
    racers["PyTorch, 2 threads"] = torch_conv(2)

y_ref = racers["cnnc.reference (NumPy)"]()
for name, f in list(racers.items())[1:]:
    y = f()
    np.testing.assert_allclose(y, y_ref, rtol=1e-4, atol=1e-3)
    print("%-26s largest difference from the reference: %.1e"
          % (name, np.abs(y - y_ref).max()))

# %%
# Then the times, taking turns, and the GFLOP/s as bars (logarithmic
# axis). The numbers come from this run only; on another machine, or on
# this one at a quieter moment, the order of close bars can change.
# Whatever the order, the im2col route needs its whole matrix in memory,
# and cnnc's C core a padded copy of one image per thread (sizes printed
# below).
race_times = fastest_times(racers, repeat=3)
for name, t in race_times.items():
    print("%-26s %8.1f ms  %6.1f GFLOP/s" % (name, 1e3 * t, flops / t / 1e9))
print("im2col matrix: %.1f MB; one padded image: %.2f MB"
      % (C * R * R * N * P * Q * 4 / 1e6,
         C * (H + 2 * padding) * (W + 2 * padding) * 4 / 1e6))

names = list(race_times)
gflops = [flops / t / 1e9 for t in race_times.values()]
colours = ["tab:blue" if "cnnc," in n else "tab:green" if "PyTorch" in n
           else "0.6" for n in names]
fig, ax = plt.subplots(figsize=(7.5, 3.8), layout="constrained")
bars = ax.barh(names, gflops, color=colours)
ax.bar_label(bars, labels=["%.1f" % g for g in gflops], padding=3)
ax.set_xscale("log")
ax.set_xlim(min(gflops) / 2, max(gflops) * 3)
ax.invert_yaxis()
ax.set_xlabel("GFLOP/s (higher is faster)")
ax.set_title("%dx%dx%d -> %dx%dx%d, %dx%d filters, stride %d, batch of %d"
             % (H, W, C, P, Q, K, R, R, stride, N))
ax.grid(axis="x", which="both", alpha=0.3)
plt.show()

# %%
# Try this
# --------
#
# In the cell "SIMD: one instruction, many numbers", change the layer and
# run the page again:
#
# - ``stride = 2``: the core reads phase planes, and there are a quarter
#   as many outputs. Do the GFLOP/s of the racers change alike?
# - ``R, padding = 1, 0`` (1 x 1 filters): the core calls its matrix
#   product directly, on the image as it is. How do the bars compare with
#   the 3 x 3 race?
#
# Last, we put back the settings this page changed.
cnnc.set_simd("auto")
cnnc.set_num_threads(default_threads)
if torch is not None:
    torch.set_num_threads(torch_threads)
