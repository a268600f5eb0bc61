"""``python -m cnnc``: the command line.

``python -m cnnc info`` prints the build configuration; ``python -m cnnc
demo`` runs a small convolution on the C core, checks it against the NumPy
reference and times both.
"""
import argparse
import sys
import time

import numpy as np

import cnnc
from cnnc import functional, reference


def _demo(out):
    """Edge filters on a generated image: the C core against NumPy."""
    rng = np.random.default_rng(0)
    # A batch of images with a bright square on a noisy background.
    x = rng.normal(0.0, 0.05, size=(16, 3, 64, 64)).astype(np.float32)
    x[:, :, 16:48, 16:48] += 1.0
    # Eight 3x3 filters per colour image: Sobel x and y among random ones.
    w = rng.normal(0.0, 0.3, size=(8, 3, 3, 3)).astype(np.float32)
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    w[0] = sobel / 3
    w[1] = sobel.T / 3

    start = time.perf_counter()
    y = functional.conv2d(x, w, padding=1)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    y_ref = reference.conv2d(x, w, padding=1)
    slow = time.perf_counter() - start

    err = float(np.max(np.abs(y - y_ref)))
    print("conv2d %s -> %s with %s filters" % (x.shape, y.shape, w.shape),
          file=out)
    print("C core   %8.2f ms  (%s, %d threads)"
          % (fast * 1e3, cnnc.get_simd(), cnnc.get_num_threads()), file=out)
    print("NumPy    %8.2f ms  (cnnc.reference)" % (slow * 1e3), file=out)
    print("largest difference %.2e" % err, file=out)
    edges = np.abs(y[0, 0])
    print("vertical-edge filter: strongest response %.2f at the square's "
          "sides, %.2f in its middle" % (edges[32, 16], edges[32, 32]),
          file=out)
    return 0 if err < 1e-3 else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="cnnc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print the build configuration")
    sub.add_parser("demo", help="run and check a convolution on the C core")
    args = parser.parse_args(argv)
    if args.command == "info":
        cnnc.show_config()
        return 0
    return _demo(sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
