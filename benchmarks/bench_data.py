"""How fast is the data pipeline? Images per second, printed, never judged.

Three measurements, each timed interleaved with its rivals (see _timing.py):

1. the shapes generator, grey and colour, 32 x 32;
2. a full augmentation pipeline on (64, 3, 32, 32) float32 batches: cnnc's
   transforms (geometric steps through the C warp), then the same steps
   with the geometric warps done by scipy.ndimage.affine_transform (when
   SciPy is installed) and by cnnc's plain NumPy reference warp;
3. as the yardstick, one training step of the benchmark network
   (cnnc.models.BenchNet: forward, cross-entropy, backward and an SGD step
   on the same batch size; see bench_train.py). The target is an
   augmentation pipeline that costs less than a tenth of a training step.

Run: python benchmarks/bench_data.py [--threads N] [--repeat R]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cnnc  # noqa: E402
from cnnc.data import make_shapes  # noqa: E402
from cnnc.data import transforms as T  # noqa: E402
from cnnc.data.warp import warp_affine_reference  # noqa: E402

from _timing import interleaved, median, table  # noqa: E402
from bench_train import cnnc_step  # noqa: E402

BATCH = (64, 3, 32, 32)


def pipeline(warp, seed=0):
    """Crop with padding, flip, affine, colour jitter, gamma; ``warp`` does
    the two geometric steps."""
    crop = T.RandomCrop(32, padding=4, rng=seed)
    flip = T.RandomHorizontalFlip(rng=seed + 1)
    affine = T.RandomAffine(degrees=10, translate=(0.1, 0.1),
                            scale=(0.9, 1.1), shear=5, rng=seed + 2)
    jitter = T.ColorJitter(0.2, 0.2, 0.2, rng=seed + 3)
    gamma = T.RandomGamma(rng=seed + 4)

    def run(x):
        n, _, h, w = x.shape
        # The crop as a whole-pixel translation sampled by the nearest pixel.
        top = crop.rng.integers(0, 9, n)
        left = crop.rng.integers(0, 9, n)
        theta = np.zeros((n, 2, 3))
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, 0, 2], theta[:, 1, 2] = left - 4, top - 4
        x = warp(x, theta, "nearest")
        x = flip(x)
        x = warp(x, affine.matrices(n, h, w), "bilinear")
        return gamma(jitter(x))
    return run


def reference_warp(x, theta, mode):
    return warp_affine_reference(x, theta, None, mode, 0.0)


def scipy_warp_factory():
    try:
        from scipy import ndimage
    except ImportError:
        return None

    def warp(x, theta, mode):
        out = np.empty_like(x)
        order = 1 if mode == "bilinear" else 0
        for i in range(x.shape[0]):
            (a, b, tx), (d, e, ty) = theta[i]
            # scipy's matrix acts on (row, col); ours on (x, y) = (col, row).
            matrix = np.array([[e, d], [b, a]])
            for c in range(x.shape[1]):
                ndimage.affine_transform(x[i, c], matrix, offset=(ty, tx),
                                         output=out[i, c], order=order,
                                         mode="grid-constant", cval=0.0)
        return out
    return warp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=cnnc.get_num_threads())
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cnnc.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"cnnc {cnnc.__version__}, {args.threads} thread(s), "
          f"SIMD {cnnc.get_simd()}; medians of {args.repeat} interleaved runs")

    # 1. The shapes generator.
    n = 2000
    times = interleaved({
        "shapes grey": lambda: make_shapes(n, channels=1, rng=1),
        "shapes colour": lambda: make_shapes(n, channels=3, rng=1),
    }, repeat=max(3, args.repeat // 3), warmup=1)
    rows = [[name, f"{median(ts) * 1e3:.1f}", f"{n / median(ts):,.0f}"]
            for name, ts in times.items()]
    print("\nShapes generator, 32 x 32, batches of", n)
    print(table(rows, ["generator", "ms/batch", "images/s"]))

    # 2. The augmentation pipeline, and 3. the convolution yardstick.
    x = rng.random(BATCH, dtype=np.float32)
    augment = T.Compose([
        T.RandomCrop(32, padding=4, rng=0), T.RandomHorizontalFlip(rng=1),
        T.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1),
                       shear=5, rng=2),
        T.ColorJitter(0.2, 0.2, 0.2, rng=3), T.RandomGamma(rng=4)])
    funcs = {"cnnc transforms (C warp)": lambda: augment(x)}
    scipy_warp = scipy_warp_factory()
    if scipy_warp is not None:
        funcs["NumPy + scipy.ndimage"] = lambda run=pipeline(scipy_warp): run(x)
    funcs["NumPy reference warp"] = lambda run=pipeline(reference_warp): run(x)
    funcs["BenchNet training step"] = cnnc_step(BATCH[0], rng)[-1]
    times = interleaved(funcs, repeat=args.repeat)
    base = median(times["cnnc transforms (C warp)"])
    step = median(times["BenchNet training step"])
    rows = []
    for name, ts in times.items():
        rows.append([name, f"{median(ts) * 1e3:.2f}",
                     f"{BATCH[0] / median(ts):,.0f}",
                     f"{median(ts) / base:.1f}x"])
    print("\nAugmentation (crop+pad 4, flip, affine, colour jitter, gamma) on",
          BATCH, "float32")
    print(table(rows, ["pipeline", "ms/batch", "images/s", "vs cnnc"]))
    print(f"\ncnnc augmentation / BenchNet training step: {base / step:.3f}"
          f" (target < 0.1)")
    if scipy_warp is None:
        print("scipy is not installed: its column was skipped")


if __name__ == "__main__":
    main()
