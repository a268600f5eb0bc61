"""Benchmark: BatchNorm2d training forward and backward, cnnc vs PyTorch vs
NumPy, on x of shape (32, 64, 32, 32) float32 with 1 and 2 threads.

Run from the repository root after building::

    python benchmarks/bench_layers_bn.py [--repeat 30] [--shape 32 64 32 32]

Each implementation is called through its public functional API, as a
training step would call it (a new output array every call). The three are
timed interleaved in one process; the table shows median times, the
bandwidth of the compulsory memory traffic and the speed relative to
PyTorch (above 1 is faster). Compulsory traffic is what no implementation
can avoid: the forward reads x and writes y; the backward reads dy and x and
writes dx. This script prints numbers; it never passes or fails.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import cnnc
except ImportError:  # not installed: the built source tree above this one
    sys.path.insert(1, os.path.dirname(HERE))
    import cnnc
from cnnc import functional as F  # noqa: E402
from _timing import interleaved, median, set_torch_threads, table  # noqa: E402

try:
    import torch
except ImportError:  # the table then has cnnc and NumPy only
    torch = None

EPS = 1e-5


def numpy_forward(x, weight, bias, running_mean, running_var, momentum=0.1):
    """Training forward in NumPy: the formula, one array operation at a
    time (each a pass over memory)."""
    axes = (0, 2, 3)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    m = x.size // x.shape[1]
    invstd = 1.0 / np.sqrt(var + EPS)
    y = (x - mean[:, None, None]) * (invstd * weight)[:, None, None] \
        + bias[:, None, None]
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * var * m / (m - 1)
    return y, mean, invstd


def numpy_backward(dy, x, weight, mean, invstd):
    axes = (0, 2, 3)
    m = x.size // x.shape[1]
    x_hat = (x - mean[:, None, None]) * invstd[:, None, None]
    dbias = dy.sum(axis=axes)
    dweight = (dy * x_hat).sum(axis=axes)
    dx = (weight * invstd / m)[:, None, None] * (
        m * dy - dbias[:, None, None] - x_hat * dweight[:, None, None])
    return dx, dweight, dbias


def make_cases(shape, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.normal(0.5, 2.0, shape).astype(np.float32)
    dy = rng.normal(0.0, 1.0, shape).astype(np.float32)
    w = rng.uniform(0.5, 1.5, c).astype(np.float32)
    b = rng.normal(0.0, 1.0, c).astype(np.float32)
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    _, mean, invstd = F.batch_norm(x, rm.copy(), rv.copy(), w, b,
                                   training=True)
    np_mean, np_invstd = mean.astype(np.float32), invstd.astype(np.float32)

    fwd = {
        "cnnc": lambda: F.batch_norm(x, rm, rv, w, b, training=True),
        "numpy": lambda: numpy_forward(x, w, b, rm, rv),
    }
    bwd = {
        "cnnc": lambda: F.batch_norm_backward(dy, x, mean, invstd, w),
        "numpy": lambda: numpy_backward(dy, x, w, np_mean, np_invstd),
    }
    if torch is not None:
        xt, dyt = torch.from_numpy(x), torch.from_numpy(dy)
        wt, bt = torch.from_numpy(w), torch.from_numpy(b)
        rmt, rvt = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
        _, save_mean, save_invstd = torch.ops.aten.native_batch_norm(
            xt, wt, bt, rmt, rvt, True, 0.1, EPS)
        fwd["torch"] = lambda: torch.nn.functional.batch_norm(
            xt, rmt, rvt, wt, bt, training=True, momentum=0.1, eps=EPS)
        # The kernel autograd calls for batch norm, without the graph.
        bwd["torch"] = lambda: torch.ops.aten.native_batch_norm_backward(
            dyt, xt, wt, rmt, rvt, save_mean, save_invstd, True, EPS,
            [True, True, True])
    return fwd, bwd


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--shape", type=int, nargs=4,
                        default=[32, 64, 32, 32])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    shape = tuple(args.shape)
    nbytes = int(np.prod(shape)) * 4

    print("BatchNorm2d training, x of shape %s float32 (%.1f MB), eps=%g"
          % (shape, nbytes / 1e6, EPS))
    config = cnnc.config()
    print("cnnc SIMD path %s, OpenMP %s; torch %s; load average %s"
          % (config["simd"], config["openmp"],
             "absent" if torch is None else torch.__version__,
             " ".join("%.2f" % v for v in os.getloadavg())))

    rows = []
    for threads in args.threads:
        cnnc.set_num_threads(threads)
        set_torch_threads(torch, threads)
        fwd, bwd = make_cases(shape)
        for name, funcs, traffic in (("forward", fwd, 2 * nbytes),
                                     ("backward", bwd, 3 * nbytes)):
            times = interleaved(funcs, repeat=args.repeat)
            base = median(times["torch"]) if "torch" in times else None
            for impl in ("cnnc", "torch", "numpy"):
                if impl not in times:
                    continue
                t = median(times[impl])
                rows.append([
                    name, str(threads), impl, "%.3f" % (t * 1e3),
                    "%.3f" % (times[impl][0] * 1e3),
                    "%.1f" % (traffic / t / 1e9),
                    "-" if base is None else "%.2f" % (base / t)])
    print(table(rows, ["op", "threads", "impl", "median ms", "min ms",
                       "GB/s", "x torch"]))
    print("load average after: %s"
          % " ".join("%.2f" % v for v in os.getloadavg()))


if __name__ == "__main__":
    main()
