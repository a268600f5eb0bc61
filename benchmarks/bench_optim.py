"""Time one optimiser step on the benchmark network's parameters.

The parameter shapes are those of the issue's benchmark network
(conv3x3(32)-BN-conv3x3(32)-BN-pool-conv3x3(64)-BN-conv3x3(64)-BN-pool-
linear(10) on 3x32x32, about 107k weights). Three versions are timed
interleaved: cnnc.optim (in-place NumPy ufuncs with reused scratch
buffers), the same rule written as plain NumPy expressions (a temporary
array per operation), and torch.optim when it imports.

    python benchmarks/bench_optim.py [--threads 1]
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import interleaved, median, set_torch_threads, table  # noqa: E402
from cnnc.nn import Parameter  # noqa: E402
from cnnc.optim import SGD, Adam  # noqa: E402

SHAPES = [(32, 3, 3, 3), (32,), (32,), (32,),
          (32, 32, 3, 3), (32,), (32,), (32,),
          (64, 32, 3, 3), (64,), (64,), (64,),
          (64, 64, 3, 3), (64,), (64,), (64,),
          (10, 4096), (10,)]


def _naive_sgd(params, grads, bufs, lr=0.01, mu=0.9, wd=5e-4):
    for w, g, v in zip(params, grads, bufs):
        d = g + wd * w
        v[...] = mu * v + d
        w -= lr * v


def _naive_adam(params, grads, ms, vs, t, lr=1e-3, b1=0.9, b2=0.999,
                eps=1e-8):
    for w, g, m, v in zip(params, grads, ms, vs):
        m[...] = b1 * m + (1 - b1) * g
        v[...] = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        w -= lr * m_hat / (np.sqrt(v_hat) + eps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    set_torch_threads(torch, args.threads)

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    count = sum(a.size for a in arrays)

    params = [Parameter(a.copy()) for a in arrays]
    for p, g in zip(params, grads):
        p.grad = g
    plain = [a.copy() for a in arrays]
    zeros = [np.zeros_like(a) for a in arrays]
    ms, vs = [np.zeros_like(a) for a in arrays], [np.zeros_like(a)
                                                  for a in arrays]
    sgd = SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
    adam = Adam(params, lr=1e-3)
    funcs = {
        "cnnc SGD": sgd.step,
        "numpy SGD": lambda: _naive_sgd(plain, grads, zeros),
        "cnnc Adam": adam.step,
        "numpy Adam": lambda: _naive_adam(plain, grads, ms, vs, 1),
    }
    if torch is not None:
        tparams = [torch.tensor(a, requires_grad=True) for a in arrays]
        for t, g in zip(tparams, grads):
            t.grad = torch.from_numpy(g.copy())
        tsgd = torch.optim.SGD(tparams, lr=0.01, momentum=0.9,
                               weight_decay=5e-4)
        tadam = torch.optim.Adam(tparams, lr=1e-3)
        funcs["torch SGD"] = tsgd.step
        funcs["torch Adam"] = tadam.step
    times = interleaved(funcs, repeat=args.repeat)

    rows = []
    for name, ts in times.items():
        rule = name.split()[1]
        ref = times.get("torch " + rule)
        ratio = "" if ref is None else "%.2f" % (median(ref) / median(ts))
        rows.append([name, "%.1f" % (1e6 * median(ts)),
                     "%.1f" % (1e6 * ts[0]), ratio])
    print("one step over %d float32 weights in %d arrays, %d thread(s)"
          % (count, len(SHAPES), args.threads))
    print(table(rows, ["step", "median us", "min us", "speed vs torch"]))
    assert math.isfinite(float(params[0].data.sum()))


if __name__ == "__main__":
    main()
