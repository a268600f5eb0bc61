"""cnnc.nn: layers with explicit forward and backward passes."""
from cnnc.nn.conv import Conv2d
from cnnc.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Conv2d"]
from cnnc.nn.linear import Linear  # noqa: E402

__all__ += ["Linear"]

from cnnc.nn.batchnorm import BatchNorm1d, BatchNorm2d  # noqa: E402

__all__ += ["BatchNorm1d", "BatchNorm2d"]
from cnnc.nn.activation import (  # noqa: E402
    ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh)
from cnnc.nn.dropout import Dropout, Dropout2d  # noqa: E402
from cnnc.nn.flatten import Flatten  # noqa: E402

__all__ += ["ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax",
            "LogSoftmax", "Dropout", "Dropout2d", "Flatten"]
from cnnc.nn.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d  # noqa: E402

__all__ += ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
