"""Activation speed: cnnc's C core against PyTorch and NumPy.

ReLU forward and backward on x of shape (32, 64, 32, 32) float32, the
issue's benchmark, and with ``--all`` the other activations, softmax and
dropout too. Implementations run interleaved in one process (the machine
is shared, so only ratios measured side by side mean anything); the table
gives the median time, the bandwidth of compulsory traffic and cnnc's
speed relative to PyTorch (> 1 means cnnc is faster).

Compulsory traffic is what the operation must move at least once: a
forward reads x and writes y (8 bytes per float32 element), a backward
reads dy and the saved x or y and writes dx (12 bytes); dropout's mask
(1 byte per element) is counted too. Every implementation allocates its
output, as a layer does.

Each side calls its own public entry point: ``cnnc.functional`` (argument
checks included) and ``torch.nn.functional`` under ``no_grad`` for the
forward; for the backward, the ATen function autograd itself calls (for
ReLU ``threshold_backward``), so no autograd graph is timed.

Usage::

    python benchmarks/bench_layers_act.py              # ReLU, 1 and 2 threads
    python benchmarks/bench_layers_act.py --all        # every activation
    python benchmarks/bench_layers_act.py --threads 1 --repeat 50
"""
import argparse
import os
import platform
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import interleaved, median, set_torch_threads, table  # noqa

import cnnc  # noqa: E402
from cnnc import functional as F  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None

SHAPE = (32, 64, 32, 32)


def numpy_ops(x, y, dy, mask):
    """The plain NumPy versions: name -> callable."""
    return {
        "relu fwd": lambda: np.maximum(x, 0),
        "relu bwd": lambda: np.where(y > 0, dy, np.float32(0)),
        "sigmoid fwd": lambda: 1 / (1 + np.exp(-x)),
        "sigmoid bwd": lambda: dy * y * (1 - y),
        "tanh fwd": lambda: np.tanh(x),
        "elu fwd": lambda: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        "softmax fwd": lambda: _numpy_softmax(x),
        "dropout fwd": lambda: x * mask / np.float32(0.5),
    }


def _numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cnnc_ops(x, y, dy, mask):
    return {
        "relu fwd": lambda: F.relu(x),
        "relu bwd": lambda: F.relu_backward(dy, y),
        "sigmoid fwd": lambda: F.sigmoid(x),
        "sigmoid bwd": lambda: F.sigmoid_backward(dy, y),
        "tanh fwd": lambda: F.tanh(x),
        "elu fwd": lambda: F.elu(x),
        "softmax fwd": lambda: F.softmax(x, 1),
        "dropout fwd": lambda: F.dropout_backward(x, mask, 0.5),
    }


def torch_ops(x, y, dy, mask):
    tf = torch.nn.functional
    tx, ty, tdy = (torch.from_numpy(a) for a in (x, y, dy))
    tmask = torch.from_numpy(mask)
    aten = torch.ops.aten

    def no_grad(f):
        def call():
            with torch.no_grad():
                return f()
        return call

    return {
        "relu fwd": no_grad(lambda: tf.relu(tx)),
        "relu bwd": lambda: aten.threshold_backward(tdy, ty, 0),
        "sigmoid fwd": no_grad(lambda: torch.sigmoid(tx)),
        "sigmoid bwd": lambda: aten.sigmoid_backward(tdy, ty),
        "tanh fwd": no_grad(lambda: torch.tanh(tx)),
        "elu fwd": no_grad(lambda: tf.elu(tx)),
        "softmax fwd": no_grad(lambda: torch.softmax(tx, 1)),
        # What dropout does once its mask is drawn: x * mask / (1 - p).
        "dropout fwd": lambda: aten._masked_scale(tx, tmask, 2.0),
    }


# Bytes each operation must move per element.
TRAFFIC = {"fwd": 8, "bwd": 12}
EXTRA = {"dropout fwd": 1}


def run(ops, threads, repeat, use_numpy):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE, dtype=np.float32)
    y = np.maximum(x, 0)
    dy = rng.standard_normal(SHAPE, dtype=np.float32)
    mask = rng.random(SHAPE, dtype=np.float32) >= 0.5
    impls = {"cnnc": cnnc_ops(x, y, dy, mask)}
    if torch is not None:
        impls["torch"] = torch_ops(x, y, dy, mask)
    if use_numpy:
        impls["numpy"] = numpy_ops(x, y, dy, mask)
    rows = []
    for nthreads in threads:
        cnnc.set_num_threads(nthreads)
        set_torch_threads(torch, nthreads)
        for op in ops:
            funcs = {name: table_[op] for name, table_ in impls.items()}
            times = interleaved(funcs, repeat=repeat, min_time=0.5)
            nbytes = x.size * (TRAFFIC[op.split()[1]] + EXTRA.get(op, 0))
            row = [op, str(nthreads)]
            for name in ("cnnc", "torch", "numpy"):
                if name in times:
                    t = median(times[name])
                    row += ["%.3f" % (t * 1e3), "%.1f" % (nbytes / t / 1e9)]
                else:
                    row += ["-", "-"]
            row.append("%.2f" % (median(times["torch"]) /
                                 median(times["cnnc"]))
                       if "torch" in times else "-")
            rows.append(row)
            print("  ".join(row), file=sys.stderr, flush=True)
    headers = ["op", "thr", "cnnc ms", "cnnc GB/s", "torch ms", "torch GB/s",
               "numpy ms", "numpy GB/s", "speed vs torch"]
    return table(rows, headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--all", action="store_true",
                        help="every activation, softmax and dropout")
    parser.add_argument("--no-numpy", action="store_true")
    args = parser.parse_args()
    ops = list(cnnc_ops(*[None] * 4)) if args.all else ["relu fwd",
                                                         "relu bwd"]
    print("x %s float32; cnnc %s (%s, OpenMP %s), torch %s, numpy %s, %s, "
          "load %s" % (SHAPE, cnnc.__version__, cnnc.get_simd(),
                       cnnc.config()["openmp"],
                       torch.__version__ if torch else "not installed",
                       np.__version__, platform.machine(),
                       " ".join("%.2f" % v for v in os.getloadavg())))
    print(run(ops, args.threads, args.repeat, not args.no_numpy))


if __name__ == "__main__":
    main()
