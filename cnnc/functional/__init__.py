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
from cnnc.functional.activation import (  # noqa: E402
    elu, elu_backward, leaky_relu, leaky_relu_backward, log_softmax,
    log_softmax_backward, relu, relu_backward, sigmoid, sigmoid_backward,
    softmax, softmax_backward, tanh, tanh_backward)
from cnnc.functional.dropout import (  # noqa: E402
    dropout, dropout2d, dropout2d_backward, dropout_backward)

__all__ += [
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu",
    "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    "dropout", "dropout_backward", "dropout2d", "dropout2d_backward",
]
__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size"]
from cnnc.functional.pool import (  # noqa: E402
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward, pool2d_output_size)

__all__ += ["pool2d_output_size", "max_pool2d", "max_pool2d_backward",
            "avg_pool2d", "avg_pool2d_backward", "adaptive_avg_pool2d",
            "adaptive_avg_pool2d_backward"]
