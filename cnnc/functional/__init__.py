"""cnnc.functional: every operation as a validated NumPy-in, NumPy-out
function over the C core.

This is the one place that checks arguments: layers in :mod:`cnnc.nn` call
these functions, and the Cython bridge below them trusts what they pass.
"""
from cnnc.functional.conv import conv2d, conv2d_backward, conv2d_output_size

__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size"]
from cnnc.functional.pool import (  # noqa: E402
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward, pool2d_output_size)

__all__ += ["pool2d_output_size", "max_pool2d", "max_pool2d_backward",
            "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d",
            "adaptive_avg_pool2d_backward"]
