"""``python -m cnnc``: the same command as ``cnnc`` (see :mod:`cnnc.cli`).

``python -m cnnc train`` trains a CNN on the shapes data, ``python -m cnnc
info`` prints the build configuration, ``python -m cnnc demo`` checks a
convolution on the C core against the NumPy reference.
"""
import sys

from cnnc.cli import main

if __name__ == "__main__":
    sys.exit(main())
