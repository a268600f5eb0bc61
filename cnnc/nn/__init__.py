"""cnnc.nn: layers with explicit forward and backward passes."""
from cnnc.nn.conv import Conv2d
from cnnc.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Conv2d"]
from cnnc.nn.pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d  # noqa: E402

__all__ += ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]
