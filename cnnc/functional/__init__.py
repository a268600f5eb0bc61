"""cnnc.functional: every operation as a validated NumPy-in, NumPy-out
function over the C core.

This is the one place that checks arguments: layers in :mod:`cnnc.nn` call
these functions, and the Cython bridge below them trusts what they pass.
"""
from cnnc.functional.conv import conv2d, conv2d_backward, conv2d_output_size
from cnnc.functional.warp import warp_affine

__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size", "warp_affine"]

from cnnc.functional.linear import linear, linear_backward  # noqa: E402
from cnnc.functional.loss import (  # noqa: E402
    cross_entropy, cross_entropy_backward, cross_entropy_with_grad, l1_loss,
    l1_loss_backward, mse_loss, mse_loss_backward, nll_loss,
    nll_loss_backward)

__all__ += [
    "linear", "linear_backward", "cross_entropy", "cross_entropy_backward",
    "cross_entropy_with_grad", "nll_loss", "nll_loss_backward", "mse_loss",
    "mse_loss_backward", "l1_loss", "l1_loss_backward",
]

from cnnc.functional.batchnorm import batch_norm, batch_norm_backward  # noqa: E402

__all__ += ["batch_norm", "batch_norm_backward"]
