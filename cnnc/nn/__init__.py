"""cnnc.nn: layers with explicit forward and backward passes."""
from cnnc.nn.activation import (
    ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh)
from cnnc.nn.batchnorm import BatchNorm1d, BatchNorm2d
from cnnc.nn.container import Sequential
from cnnc.nn.conv import Conv2d
from cnnc.nn.dropout import Dropout, Dropout2d
from cnnc.nn.flatten import Flatten
from cnnc.nn.linear import Linear
from cnnc.nn.module import Module, Parameter, module_class
from cnnc.nn.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Module", "Parameter",
    "Conv2d", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax",
    "LogSoftmax", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "BatchNorm1d", "BatchNorm2d", "Dropout", "Dropout2d", "Flatten",
    "Linear", "Sequential", "module_class",
]
