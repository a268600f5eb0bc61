"""cnnc.nn: layers with explicit forward and backward passes."""
from cnnc.nn.conv import Conv2d
from cnnc.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "Conv2d"]
from cnnc.nn.linear import Linear  # noqa: E402

__all__ += ["Linear"]

from cnnc.nn.batchnorm import BatchNorm1d, BatchNorm2d  # noqa: E402

__all__ += ["BatchNorm1d", "BatchNorm2d"]
