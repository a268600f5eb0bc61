"""Convolution speed: cnnc's C core against PyTorch and NumPy.

Runs every implementation interleaved in one process (the machine is
shared, so only ratios measured side by side mean anything) and prints, per
shape, thread count and direction, the median and minimum time, GFLOP/s
and cnnc's speed relative to PyTorch (> 1 means cnnc is faster).

FLOPs count 2 * N * K * P * Q * C * R * S / groups for a forward pass and
twice that for a backward pass (input and weight gradients), so
"fwd+bwd" is three times the forward count.

Usage::

    python benchmarks/bench_conv.py                 # all shapes, 1 and 2 threads
    python benchmarks/bench_conv.py --threads 2 --repeat 30
    python benchmarks/bench_conv.py --no-numpy      # skip the slow baseline
"""
import argparse
import os
import platform
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import interleaved, median, table  # noqa: E402

import cnnc  # noqa: E402
from cnnc import functional as F  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None

# (N, C, H, W, K, R=S, stride, pad), as in issue 2.
SHAPES = [
    (32, 3, 32, 32, 32, 3, 1, 1),
    (32, 32, 32, 32, 32, 3, 1, 1),
    (32, 64, 16, 16, 64, 3, 1, 1),
    (8, 64, 56, 56, 128, 3, 1, 1),
    (8, 64, 56, 56, 128, 3, 2, 1),
    (8, 3, 224, 224, 64, 7, 2, 3),
    (32, 128, 8, 8, 128, 1, 1, 0),
]


def numpy_conv(x, w, stride, pad):
    """im2col of the whole batch + one matmul: the textbook baseline."""
    n, c, h, wd = x.shape
    k, _, r, s = w.shape
    p = (h + 2 * pad - r) // stride + 1
    q = (wd + 2 * pad - s) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (r, s), axis=(2, 3))
    cols = cols[:, :, ::stride, ::stride][:, :, :p, :q]
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * p * q, c * r * s)
    y = cols @ w.reshape(k, -1).T
    return y.reshape(n, p, q, k).transpose(0, 3, 1, 2)


def cases(shape, use_numpy, rng):
    """The callables to race for one shape: name -> (fwd, fwd+bwd)."""
    n, c, h, w, k, r, stride, pad = shape
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    wt = rng.standard_normal((k, c, r, r), dtype=np.float32) * 0.1
    b = rng.standard_normal(k, dtype=np.float32)
    y = F.conv2d(x, wt, b, stride, pad)
    dy = rng.standard_normal(y.shape, dtype=np.float32)

    def cnnc_fwd():
        F.conv2d(x, wt, b, stride, pad)

    def cnnc_fwdbwd():
        F.conv2d(x, wt, b, stride, pad)
        F.conv2d_backward(dy, x, wt, stride, pad)

    out = {"cnnc": (cnnc_fwd, cnnc_fwdbwd)}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tw = torch.from_numpy(wt).requires_grad_(True)
        tb = torch.from_numpy(b).requires_grad_(True)
        tdy = torch.from_numpy(dy)

        def torch_fwd():
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, tb, stride, pad)

        def torch_fwdbwd():
            ty = torch.nn.functional.conv2d(tx, tw, tb, stride, pad)
            torch.autograd.grad(ty, (tx, tw, tb), tdy)

        out["torch"] = (torch_fwd, torch_fwdbwd)
    if use_numpy:
        out["numpy"] = (lambda: numpy_conv(x, wt, stride, pad), None)
    return out


def run(shapes, threads, repeat, use_numpy):
    rng = np.random.default_rng(0)
    rows = []
    for nthreads in threads:
        cnnc.set_num_threads(nthreads)
        if torch is not None:
            torch.set_num_threads(nthreads)
        for shape in shapes:
            n, c, h, w, k, r, stride, pad = shape
            p = (h + 2 * pad - r) // stride + 1
            q = (w + 2 * pad - r) // stride + 1
            flops = 2.0 * n * k * p * q * c * r * r
            impls = cases(shape, use_numpy, rng)
            for direction, index, mult in (("fwd", 0, 1), ("fwd+bwd", 1, 3)):
                funcs = {name: fs[index] for name, fs in impls.items()
                         if fs[index] is not None}
                times = interleaved(funcs, repeat=repeat, min_time=0.5)
                cn = median(times["cnnc"])
                row = [str(shape), str(nthreads), direction,
                       "%.2f" % (cn * 1e3), "%.2f" % (times["cnnc"][0] * 1e3),
                       "%.1f" % (flops * mult / cn / 1e9)]
                if "torch" in times:
                    tm = median(times["torch"])
                    row += ["%.2f" % (tm * 1e3),
                            "%.1f" % (flops * mult / tm / 1e9),
                            "%.2f" % (tm / cn)]
                else:
                    row += ["-", "-", "-"]
                if "numpy" in times:
                    row.append("%.2f" % (median(times["numpy"]) * 1e3))
                else:
                    row.append("-")
                rows.append(row)
                print("  ".join(row), file=sys.stderr, flush=True)
    headers = ["(N,C,H,W,K,R,stride,pad)", "thr", "pass", "cnnc ms",
               "cnnc min", "cnnc GF/s", "torch ms", "torch GF/s",
               "speed vs torch", "numpy ms"]
    return table(rows, headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-numpy", action="store_true")
    parser.add_argument("--shape", type=int, nargs=8, action="append",
                        help="N C H W K R stride pad (repeatable)")
    args = parser.parse_args()
    shapes = [tuple(s) for s in args.shape] if args.shape else SHAPES
    print("cnnc %s (%s, OpenMP %s), torch %s, numpy %s, %s, load %s"
          % (cnnc.__version__, cnnc.get_simd(), cnnc.config()["openmp"],
             torch.__version__ if torch else "not installed", np.__version__,
             platform.machine(), " ".join("%.2f" % v for v in os.getloadavg())))
    print(table_text := run(shapes, args.threads, args.repeat,
                            not args.no_numpy))
    return table_text


if __name__ == "__main__":
    main()
