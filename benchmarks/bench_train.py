"""Benchmark: one full training step of the benchmark network, cnnc vs
PyTorch, in images per second.

The network is :class:`cnnc.models.BenchNet` (conv3x3(32)-BN-ReLU-
conv3x3(32)-BN-ReLU-maxpool2 - conv3x3(64)-BN-ReLU-conv3x3(64)-BN-ReLU-
maxpool2 - flatten - linear(10) on 3x32x32, 106,730 weights). A step is
what a training loop does per mini-batch: forward, cross-entropy, backward,
an SGD step with momentum and weight decay. PyTorch runs the same network
from the same weights (cnnc's state dict loads into it unchanged), and the
two are timed interleaved in one process::

    python benchmarks/bench_train.py [--batch 64] [--threads 1 2] [--repeat 20]

"speed vs torch" is PyTorch's median time over cnnc's: above 1 means cnnc
trains faster. The script prints numbers; it never passes or fails.
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
from cnnc.losses import CrossEntropyLoss  # noqa: E402
from cnnc.models import BenchNet  # noqa: E402
from cnnc.optim import SGD  # noqa: E402
from _timing import interleaved, median, set_torch_threads, table  # noqa: E402

try:
    import torch
except ImportError:  # the table then has cnnc only
    torch = None

LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 5e-4


def cnnc_step(batch, rng):
    """A closure doing one training step of BenchNet in cnnc."""
    model = BenchNet(rng=rng)
    model.train()
    loss_fn = CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
              weight_decay=WEIGHT_DECAY)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y)
        model.backward(loss_fn.backward())
        opt.step()

    return model, x, y, step


def torch_step(model, x, y):
    """The same step in PyTorch, from cnnc's weights."""
    tnn = torch.nn

    def block(i, o):
        return [tnn.Conv2d(i, o, 3, padding=1, bias=False),
                tnn.BatchNorm2d(o), tnn.ReLU()]

    class Twin(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.Sequential(
                *block(3, 32), *block(32, 32), tnn.MaxPool2d(2),
                *block(32, 64), *block(64, 64), tnn.MaxPool2d(2))
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Dropout(0.0), tnn.Linear(4096, 10))

        def forward(self, inputs):
            return self.classifier(self.encoder(inputs))

    twin = Twin()
    twin.load_state_dict({k: torch.from_numpy(np.array(v))
                          for k, v in model.state_dict().items()})
    twin.train()
    loss_fn = tnn.CrossEntropyLoss()
    opt = torch.optim.SGD(twin.parameters(), lr=LR, momentum=MOMENTUM,
                          weight_decay=WEIGHT_DECAY)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss_fn(twin(tx), ty).backward()
        opt.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    print("cnnc %s, SIMD %s; PyTorch %s" % (
        cnnc.__version__, cnnc.get_simd(),
        torch.__version__ if torch is not None else "not installed"))
    print("BenchNet training step (forward, cross-entropy, backward, SGD), "
          "batch %d of 3x32x32 float32" % args.batch)
    rows = []
    for threads in args.threads:
        cnnc.set_num_threads(threads)
        set_torch_threads(torch, threads)
        model, x, y, step = cnnc_step(args.batch, np.random.default_rng(0))
        funcs = {"cnnc": step}
        if torch is not None:
            funcs["torch"] = torch_step(model, x, y)
        times = interleaved(funcs, repeat=args.repeat)
        t_cnnc = median(times["cnnc"])
        row = [str(threads), "%.1f" % (1e3 * t_cnnc),
               "%.0f" % (args.batch / t_cnnc)]
        if torch is not None:
            t_torch = median(times["torch"])
            row += ["%.1f" % (1e3 * t_torch), "%.0f" % (args.batch / t_torch),
                    "%.2f" % (t_torch / t_cnnc)]
        rows.append(row)
    headers = ["threads", "cnnc ms", "cnnc img/s"]
    if torch is not None:
        headers += ["torch ms", "torch img/s", "speed vs torch"]
    print(table(rows, headers))


if __name__ == "__main__":
    main()
