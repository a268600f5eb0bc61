"""cnnc.reference: the lecture's formulas in plain, slow NumPy.

These functions are the oracle of the test suite and the model answers of
the assignments. They check nothing and favour reading over speed.
"""
from cnnc.reference.activation import (
    elu, elu_backward, leaky_relu, leaky_relu_backward, log_softmax,
    log_softmax_backward, relu, relu_backward, sigmoid, sigmoid_backward,
    softmax, softmax_backward, tanh, tanh_backward)
from cnnc.reference.batchnorm import batch_norm, batch_norm_backward
from cnnc.reference.conv import conv2d, conv2d_backward
from cnnc.reference.dropout import (
    dropout, dropout2d, dropout2d_backward, dropout_backward)
from cnnc.reference.linear import linear, linear_backward
from cnnc.reference.loss import (
    cross_entropy, cross_entropy_backward, l1_loss, l1_loss_backward,
    mse_loss, mse_loss_backward, nll_loss, nll_loss_backward)
from cnnc.reference.pool import (
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward)

__all__ = [
    # convolution
    "conv2d", "conv2d_backward",
    # activations
    "relu", "relu_backward", "leaky_relu", "leaky_relu_backward", "elu",
    "elu_backward", "sigmoid", "sigmoid_backward", "tanh", "tanh_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
    # pooling
    "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
    "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward",
    # normalization and regularisation
    "batch_norm", "batch_norm_backward", "dropout", "dropout_backward",
    "dropout2d", "dropout2d_backward",
    # classifier and losses
    "linear", "linear_backward", "cross_entropy", "cross_entropy_backward",
    "nll_loss", "nll_loss_backward", "mse_loss", "mse_loss_backward",
    "l1_loss", "l1_loss_backward",
]
