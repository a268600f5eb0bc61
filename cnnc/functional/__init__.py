"""cnnc.functional: every operation as a validated NumPy-in, NumPy-out
function over the C core.

This is the one place that checks arguments: layers in :mod:`cnnc.nn` call
these functions, and the Cython bridge below them trusts what they pass.
"""
from cnnc.functional.conv import conv2d, conv2d_backward, conv2d_output_size

__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size"]

from cnnc.functional.batchnorm import batch_norm, batch_norm_backward  # noqa: E402

__all__ += ["batch_norm", "batch_norm_backward"]
