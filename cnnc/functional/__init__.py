"""cnnc.functional: every operation as a validated NumPy-in, NumPy-out
function over the C core.

This is the one place that checks arguments: layers in :mod:`cnnc.nn` call
these functions, and the Cython bridge below them trusts what they pass.
"""
from cnnc.functional.conv import conv2d, conv2d_backward, conv2d_output_size

__all__ = ["conv2d", "conv2d_backward", "conv2d_output_size"]

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
