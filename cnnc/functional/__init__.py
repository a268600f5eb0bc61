"""cnnc.functional: every operation as a validated NumPy-in, NumPy-out
function over the C core.

This is the one place that checks arguments: layers in :mod:`cnnc.nn` call
these functions, and the Cython bridge below them trusts what they pass.
"""
from cnnc.functional.activation import (
    elu, elu_backward, leaky_relu, leaky_relu_backward, log_softmax,
    log_softmax_backward, relu, relu_backward, sigmoid, sigmoid_backward,
    softmax, softmax_backward, tanh, tanh_backward)
from cnnc.functional.batchnorm import batch_norm, batch_norm_backward
from cnnc.functional.conv import conv2d, conv2d_backward, conv2d_output_size
from cnnc.functional.dropout import (
    dropout, dropout2d, dropout2d_backward, dropout_backward)
from cnnc.functional.linear import linear, linear_backward
from cnnc.functional.loss import (
    cross_entropy, cross_entropy_backward, cross_entropy_with_grad, l1_loss,
    l1_loss_backward, mse_loss, mse_loss_backward, nll_loss,
    nll_loss_backward)
from cnnc.functional.pool import (
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward, pool2d_output_size)
from cnnc.functional.warp import warp_affine

__all__ = [
    # convolution
    "conv2d", "conv2d_backward", "conv2d_output_size",
    # activations
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu",
    "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    # pooling
    "pool2d_output_size", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
    "avg_pool2d_backward", "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
    # normalization and regularisation
    "batch_norm", "batch_norm_backward", "dropout", "dropout_backward",
    "dropout2d", "dropout2d_backward",
    # classifier and losses
    "linear", "linear_backward", "cross_entropy", "cross_entropy_backward",
    "cross_entropy_with_grad", "nll_loss", "nll_loss_backward", "mse_loss",
    "mse_loss_backward", "l1_loss", "l1_loss_backward",
    # augmentation
    "warp_affine",
]
