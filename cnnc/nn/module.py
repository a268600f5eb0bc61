"""Parameters and the Module base class every layer derives from."""
from collections import OrderedDict

import numpy as np

__all__ = ["Parameter", "Module"]


class Parameter:
    """A learnable array and the gradient a backward pass leaves on it.

    Parameters
    ----------
    data : ndarray
        The values; float32 or float64.
    requires_grad : bool, default True
        When False (a frozen parameter) layers skip the work of computing
        its gradient.

    Attributes
    ----------
    data : ndarray
    grad : ndarray or None
        Sum of the gradients of every ``backward`` since the last
        ``zero_grad``; None before the first one.
    requires_grad : bool

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> p = Parameter(np.zeros(3, np.float32))
    >>> p.accumulate_grad(np.ones(3, np.float32)); p.grad
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, data, requires_grad=True):
        if not isinstance(data, np.ndarray):
            raise TypeError("data must be a NumPy array, got %s"
                            % type(data).__name__)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def accumulate_grad(self, grad):
        """Add ``grad`` to :attr:`grad` (which starts at None)."""
        if self.grad is None:
            self.grad = np.array(grad, dtype=self.data.dtype, copy=True)
        else:
            self.grad += grad

    def __repr__(self):
        return "Parameter(shape=%s, dtype=%s, requires_grad=%s)" % (
            self.data.shape, self.data.dtype, self.requires_grad)


class Module:
    """Base class of layers and models.

    A module holds parameters, buffers (arrays saved with the model but not
    learnt, such as batch norm's running statistics) and child modules, all
    registered by plain attribute assignment. Subclasses define
    ``forward(x)``, which remembers what ``backward`` needs, and
    ``backward(grad_out)``, which returns the gradient for the input and
    adds the parameters' gradients to their ``.grad``.

    ``state_dict()`` uses PyTorch's key names (``"weight"``, ``"0.bias"``,
    ``"features.3.running_mean"``), so weights move between the two.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -----------------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                "%s.__init__ must call super().__init__() before assigning "
                "attributes" % type(self).__name__)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """Keep ``array`` as a named buffer, saved in the state dict."""
        self.__setattr__(name, array)
        if array is not None:
            self._buffers[name] = array

    # -- the layer protocol -----------------------------------------------

    def forward(self, x):
        """Compute the output; subclasses define it."""
        raise NotImplementedError(
            "%s does not define forward()" % type(self).__name__)

    def backward(self, grad_out):
        """Return dL/dx for dL/dy = grad_out; subclasses define it."""
        raise NotImplementedError(
            "%s does not define backward()" % type(self).__name__)

    def __call__(self, x):
        return self.forward(x)

    # -- traversal ----------------------------------------------------------

    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, children included."""
        for name, param in self._parameters.items():
            if param is not None:
                yield prefix + name, param
        for child_name, child in self._modules.items():
            yield from child.named_parameters(prefix + child_name + ".")

    def parameters(self):
        """Yield every Parameter of this module and its children."""
        for _, param in self.named_parameters():
            yield param

    def named_buffers(self, prefix=""):
        """Yield ``(name, ndarray)`` pairs of buffers, children included."""
        for name, buf in self._buffers.items():
            yield prefix + name, buf
        for child_name, child in self._modules.items():
            yield from child.named_buffers(prefix + child_name + ".")

    def zero_grad(self, set_to_none=True):
        """Forget accumulated gradients (None, or zeros if asked)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad[...] = 0

    def train(self, mode=True):
        """Set training mode here and in every child; returns self."""
        object.__setattr__(self, "training", bool(mode))
        for child in self._modules.values():
            child.train(mode)
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    # -- saving -------------------------------------------------------------

    def state_dict(self):
        """Copies of every parameter and buffer, keyed as PyTorch does."""
        state = OrderedDict()
        for name, param in self.named_parameters():
            state[name] = param.data.copy()
        for name, buf in self.named_buffers():
            state[name] = np.array(buf, copy=True)
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from ``state_dict`` into the parameters and buffers.

        Parameters
        ----------
        state_dict : mapping of str to array-like
        strict : bool, default True
            Require exactly this module's keys.

        Raises
        ------
        KeyError
            With ``strict``, listing missing and unexpected keys.
        ValueError
            When an array's shape differs from the parameter's.
        """
        targets = OrderedDict()
        for name, param in self.named_parameters():
            targets[name] = param.data
        for name, buf in self.named_buffers():
            targets[name] = buf
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        if strict and (missing or unexpected):
            raise KeyError("state_dict does not match %s: missing keys %s, "
                           "unexpected keys %s"
                           % (type(self).__name__, missing, unexpected))
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = np.asarray(state_dict[key])
            if value.shape != target.shape:
                raise ValueError(
                    "state_dict[%r] has shape %s but %s expects %s"
                    % (key, value.shape, type(self).__name__, target.shape))
            target[...] = value

    # -- display ------------------------------------------------------------

    def extra_repr(self):
        """The configuration shown inside ``repr``; layers override it."""
        return ""

    def __repr__(self):
        lines = ["%s(%s" % (type(self).__name__, self.extra_repr())]
        if not self._modules:
            return lines[0] + ")"
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append("  (%s): %s" % (name, body))
        return "\n".join(lines) + "\n)"
