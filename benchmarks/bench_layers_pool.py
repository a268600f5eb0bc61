"""Benchmark: 2x2 stride-2 max and average pooling, forward and backward.

On x of shape (32, 64, 32, 32) float32, cnnc against PyTorch (when it
imports) and a plain NumPy version, with 1 and 2 threads. Each row prints
the median and minimum time per call, the bandwidth of the compulsory
memory traffic (bytes that must be read and written at least once: for the
max pooling forward pass x in, y and the int64 indices out) and PyTorch's
time divided by this implementation's (above 1: faster than PyTorch).

The implementations are timed interleaved in one process (see
_timing.py); the machine's load average is printed before and after,
since 2-thread figures mean little while another process holds a core.
This script prints numbers; it never passes or fails anything.

Run from the repository root::

    python benchmarks/bench_layers_pool.py [--repeat 30]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cnnc  # noqa: E402
from cnnc import functional as F  # noqa: E402
from _timing import interleaved, median, set_torch_threads, table  # noqa: E402

try:
    import torch
except ImportError:  # the benchmark still compares cnnc with NumPy
    torch = None

SHAPE = (32, 64, 32, 32)
MIB = 1024 * 1024


# --------------------------------------------------------------------------
# NumPy versions: 2x2 windows as a reshaped axis pair
# --------------------------------------------------------------------------

def numpy_max_forward(x):
    """y and plane indices of 2x2 stride-2 max pooling."""
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(n, c, h // 2, w // 2, 4)
    tap = windows.argmax(axis=-1)
    y = np.take_along_axis(windows, tap[..., None], axis=-1)[..., 0]
    rows = 2 * np.arange(h // 2)[:, None] + tap // 2
    cols = 2 * np.arange(w // 2)[None, :] + tap % 2
    return y, rows * w + cols


def numpy_max_values(x):
    """y alone: no indices to find."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def numpy_max_backward(grad_out, indices, shape):
    n, c, h, w = shape
    grad_x = np.zeros((n * c, h * w), grad_out.dtype)
    np.put_along_axis(grad_x, indices.reshape(n * c, -1),
                      grad_out.reshape(n * c, -1), axis=1)
    return grad_x.reshape(shape)


def numpy_avg_forward(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def numpy_avg_backward(grad_out):
    share = grad_out * 0.25
    return np.repeat(np.repeat(share, 2, axis=2), 2, axis=3)


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------

def cases(x, xt):
    """(name, compulsory bytes, {implementation: callable})."""
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    dy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    size_x, size_y, size_i = x.nbytes, y.nbytes, idx.nbytes

    out = [
        ("max fwd+idx", size_x + size_y + size_i, {
            "cnnc": lambda: F.max_pool2d(x, 2, return_indices=True),
            "numpy": lambda: numpy_max_forward(x)}),
        ("max fwd", size_x + size_y, {
            "cnnc": lambda: F.max_pool2d(x, 2),
            "numpy": lambda: numpy_max_values(x)}),
        ("max bwd", size_y + size_i + size_x, {
            "cnnc": lambda: F.max_pool2d_backward(dy, idx, x.shape),
            "numpy": lambda: numpy_max_backward(dy, idx, x.shape)}),
        ("avg fwd", size_x + size_y, {
            "cnnc": lambda: F.avg_pool2d(x, 2),
            "numpy": lambda: numpy_avg_forward(x)}),
        ("avg bwd", size_y + size_x, {
            "cnnc": lambda: F.avg_pool2d_backward(dy, x.shape, 2),
            "numpy": lambda: numpy_avg_backward(dy)}),
    ]
    if xt is not None:
        tf = torch.nn.functional
        dyt = torch.from_numpy(dy)
        _, idxt = tf.max_pool2d(xt, 2, return_indices=True)
        aten = torch.ops.aten
        torch_calls = [
            lambda: tf.max_pool2d(xt, 2, return_indices=True),
            lambda: tf.max_pool2d(xt, 2),
            lambda: aten.max_pool2d_with_indices_backward(
                dyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, idxt),
            lambda: tf.avg_pool2d(xt, 2),
            lambda: aten.avg_pool2d_backward(
                dyt, xt, [2, 2], [2, 2], [0, 0], False, True, None),
        ]
        for (_, _, funcs), call in zip(out, torch_calls):
            funcs["torch"] = call
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30,
                        help="interleaved rounds per case (default 30)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    x = np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)
    xt = None if torch is None else torch.from_numpy(x)
    print("x: %s float32 (%.0f MiB); cnnc %s, SIMD %s; PyTorch %s"
          % (SHAPE, x.nbytes / MIB, cnnc.__version__, cnnc.get_simd(),
             "missing" if torch is None else torch.__version__))
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())

    rows = []
    before = cnnc.get_num_threads()
    for threads in args.threads:
        cnnc.set_num_threads(threads)
        set_torch_threads(torch, threads)
        for name, nbytes, funcs in cases(x, xt):
            times = interleaved(funcs, repeat=args.repeat)
            reference = median(times["torch"]) if "torch" in times else None
            for impl in ("cnnc", "torch", "numpy"):
                if impl not in times:
                    continue
                t = median(times[impl])
                rows.append([
                    name, str(threads), impl, "%.3f" % (t * 1e3),
                    "%.3f" % (times[impl][0] * 1e3),
                    "%.1f" % (nbytes / t / 1e9),
                    "-" if reference is None else "%.2f" % (reference / t)])
    cnnc.set_num_threads(before)

    print(table(rows, ["op", "threads", "impl", "median ms", "min ms",
                       "GB/s", "torch/this"]))
    print("load average after:  %.2f %.2f %.2f" % os.getloadavg())
    print("GB/s counts compulsory traffic only (bytes read + written at "
          "least once);\ntorch/this > 1 means faster than PyTorch.")


if __name__ == "__main__":
    main()
