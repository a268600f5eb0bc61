"""cnnc.reference: the lecture's formulas in plain, slow NumPy.

These functions are the oracle of the test suite and the model answers of
the assignments. They check nothing and favour reading over speed.
"""
from cnnc.reference.conv import conv2d, conv2d_backward

__all__ = ["conv2d", "conv2d_backward"]
from cnnc.reference.pool import (  # noqa: E402
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward)

__all__ += ["max_pool2d", "max_pool2d_backward", "avg_pool2d",
            "avg_pool2d_backward", "adaptive_avg_pool2d",
            "adaptive_avg_pool2d_backward"]
