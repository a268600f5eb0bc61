"""Benchmark: the fully connected layer and cross-entropy, cnnc against
PyTorch on the CPU, forward and backward together as training calls them.

Run from the repository root after building::

    python benchmarks/bench_layers_linear.py [--repeat 30]

Prints median times (and the fastest) per call for 1 and 2 threads and
PyTorch's time over each row's ("x PyTorch": above 1 means faster than
PyTorch). PyTorch is timed twice: through autograd, as a training step
runs it, and as bare tensor operations without autograd's bookkeeping
(addmm, mm, sum; log_softmax, nll_loss and the gradient as softmax minus
one-hot). Linear also shows GFLOP/s of its three matrix products (6 N C K
flops). Numbers only: nothing here passes or fails.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import cnnc  # noqa: E402
from cnnc import functional as F  # noqa: E402
from cnnc.losses import CrossEntropyLoss  # noqa: E402
from _timing import interleaved, median, set_torch_threads, table  # noqa

try:
    import torch
except ImportError:  # the cnnc column still means something alone
    torch = None


def linear_cases(n, c, k, rng):
    x = rng.standard_normal((n, c)).astype(np.float32)
    w = (rng.standard_normal((k, c)) / np.sqrt(c)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    dy = rng.standard_normal((n, k)).astype(np.float32)

    def run_cnnc():
        F.linear(x, w, b)
        F.linear_backward(dy, x, w)

    funcs = {"cnnc": run_cnnc}
    if torch is not None:
        tx, tw, tb, tdy = (torch.from_numpy(a) for a in (x, w, b, dy))
        ax, aw, ab = (t.clone().requires_grad_() for t in (tx, tw, tb))

        def run_autograd():
            ax.grad = aw.grad = ab.grad = None
            torch.nn.functional.linear(ax, aw, ab).backward(tdy)

        def run_ops():
            torch.addmm(tb, tx, tw.t())
            tdy.mm(tw)
            tdy.t().mm(tx)
            tdy.sum(0)

        funcs["torch autograd"] = run_autograd
        funcs["torch ops"] = run_ops
    return funcs, 6.0 * n * c * k


def cross_entropy_cases(n, c, rng):
    z = (3 * rng.standard_normal((n, c))).astype(np.float32)
    t = rng.integers(0, c, n)
    criterion = CrossEntropyLoss()

    def run_cnnc():
        criterion(z, t)
        criterion.backward()

    funcs = {"cnnc": run_cnnc}
    if torch is not None:
        tz, tt = torch.from_numpy(z), torch.from_numpy(t)
        az = tz.clone().requires_grad_()

        def run_autograd():
            az.grad = None
            torch.nn.functional.cross_entropy(az, tt).backward()

        rows = torch.arange(n)

        def run_ops():
            logp = torch.log_softmax(tz, 1)
            loss = torch.nn.functional.nll_loss(logp, tt)
            grad = logp.exp_()
            grad[rows, tt] -= 1.0
            grad.div_(n)
            return loss

        funcs["torch autograd"] = run_autograd
        funcs["torch ops"] = run_ops
    return funcs, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--min-time", type=float, default=0.5,
                        help="seconds each case runs at least")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    cases = [
        ("Linear 64x4096 -> 10", linear_cases(64, 4096, 10, rng)),
        ("Linear 64x1024 -> 256", linear_cases(64, 1024, 256, rng)),
        ("CrossEntropy 64 x 10", cross_entropy_cases(64, 10, rng)),
        ("CrossEntropy 256 x 1000", cross_entropy_cases(256, 1000, rng)),
    ]
    print("cnnc %s, SIMD %s, torch %s; forward + backward, float32"
          % (cnnc.__version__, cnnc.get_simd(),
             torch.__version__ if torch else "not installed"))
    headers = ["case", "threads", "impl", "median us", "min us", "GFLOP/s",
               "x PyTorch"]
    rows = []
    before = cnnc.get_num_threads()
    for threads in (1, 2):
        cnnc.set_num_threads(threads)
        set_torch_threads(torch, threads)
        for name, (funcs, flops) in cases:
            times = interleaved(funcs, repeat=args.repeat,
                                min_time=args.min_time)
            base = median(times["torch autograd"]) if torch else None
            for impl, ts in times.items():
                med = median(ts)
                rows.append([
                    name, str(threads), impl, "%.1f" % (med * 1e6),
                    "%.1f" % (ts[0] * 1e6),
                    "%.1f" % (flops / med / 1e9) if flops else "",
                    "%.2f" % (base / med) if base else "",
                ])
    cnnc.set_num_threads(before)
    print(table(rows, headers))
    print("x PyTorch = PyTorch autograd's median time / this row's median "
          "time (above 1: faster than PyTorch's training path).")


if __name__ == "__main__":
    main()
