"""Sequential: layers applied one after another."""
from collections import OrderedDict

from cnnc.nn.module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of modules: forward runs them in order, backward in reverse.

    The children are named ``"0"``, ``"1"``, ... (or by the keys of an
    OrderedDict), so state dict keys are PyTorch's: ``"0.weight"``,
    ``"3.running_mean"``.

    Parameters
    ----------
    *layers : Module, or one OrderedDict of name to Module

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Conv2d, Sequential
    >>> net = Sequential(Conv2d(1, 4, 3, rng=0), Conv2d(4, 2, 3, rng=1))
    >>> y = net(np.zeros((1, 1, 8, 8), np.float32))
    >>> y.shape
    (1, 2, 4, 4)
    >>> net.backward(np.ones_like(y)).shape
    (1, 1, 8, 8)
    >>> list(net.state_dict())
    ['0.weight', '0.bias', '1.weight', '1.bias']
    >>> len(net), net[-1]
    (2, Conv2d(4, 2, kernel_size=(3, 3), stride=(1, 1)))
    >>> net[:1]
    Sequential(
      (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
    )
    """

    # The children are rebuilt from the configuration's "children".
    _config_skip = ("layers",)

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], dict):
            items = list(layers[0].items())
        else:
            items = [(str(i), layer) for i, layer in enumerate(layers)]
        for name, layer in items:
            self._add(name, layer)

    def _add(self, name, layer):
        if not isinstance(layer, Module):
            raise TypeError("Sequential takes Modules, got %s for layer %r"
                            % (type(layer).__name__, name))
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError("layer names must be non-empty strings without "
                             "'.', got %r" % (name,))
        setattr(self, name, layer)

    def forward(self, x):
        """Run ``x`` through every layer in order."""
        for layer in self._modules.values():
            x = layer(x)
        return x

    def backward(self, grad_out):
        """Run ``grad_out`` back through every layer in reverse order."""
        for layer in reversed(list(self._modules.values())):
            grad_out = layer.backward(grad_out)
        return grad_out

    def append(self, layer):
        """Add ``layer`` at the end, named by its position; returns self."""
        self._add(str(len(self)), layer)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def _index(self, index):
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError("Sequential indices must be integers or slices, "
                            "got %s" % type(index).__name__)
        size = len(self)
        if not -size <= index < size:
            raise IndexError("index %d is out of range for a Sequential of "
                             "%d layers" % (index, size))
        return list(self._modules)[index % size]

    def __getitem__(self, index):
        if isinstance(index, slice):
            # The layers keep their names, as in PyTorch.
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._index(index)]

    def __setitem__(self, index, layer):
        self._add(self._index(index), layer)
