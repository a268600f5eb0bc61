"""Parameters and the Module base class every layer derives from."""
import functools
import inspect
from collections import OrderedDict

import numpy as np

__all__ = ["Parameter", "Module", "module_class"]


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


# -- rebuilding modules from JSON ------------------------------------------
#
# Every Module subclass records the arguments its constructor was called
# with (``_config_args``), so ``get_config()`` can describe any layer as
# ``{"type": class name, "args": {...}}`` without code in the layer, and
# ``Module.from_config`` can call the constructor again. Classes are looked
# up by name in ``_REGISTRY``; nothing is imported or evaluated while
# loading, so a configuration can only build classes that already exist.

_REGISTRY = {}

# Constructor arguments that are not recorded: the random source only sets
# the initial values, which a saved state dict replaces.
_UNRECORDED = ("rng",)


def _type_name(cls):
    """The name under which ``cls`` is registered."""
    if _REGISTRY.get(cls.__name__) is cls:
        return cls.__name__
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def _register(cls):
    """Register ``cls`` by its name; cnnc's own classes keep theirs.

    A user's class that reuses the name of one of cnnc's layers (say a
    custom ``Conv2d``) is registered under its full dotted name instead,
    so saved cnnc models keep loading cnnc's layer.
    """
    short = cls.__name__
    held = _REGISTRY.get(short)
    if (held is None or held is cls
            or not held.__module__.startswith("cnnc.")
            or cls.__module__.startswith("cnnc.")):
        _REGISTRY[short] = cls
    _REGISTRY["%s.%s" % (cls.__module__, cls.__qualname__)] = cls


def module_class(name):
    """The Module subclass registered under ``name``.

    Every subclass of :class:`Module` is registered when it is defined,
    under its class name (or, when that name belongs to one of cnnc's own
    layers, under ``"module.QualName"``).

    Raises
    ------
    ValueError
        When no class of that name has been defined (or imported).

    Examples
    --------
    >>> from cnnc.nn import module_class
    >>> module_class("Conv2d")
    <class 'cnnc.nn.conv.Conv2d'>
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            "unknown module type %r: define or import the class before "
            "rebuilding a model that uses it" % (name,))
    return cls


def _recording(init):
    """Wrap a constructor so that it stores its bound arguments."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        # Only the outermost constructor records: a subclass's arguments
        # describe the object, not those it passes to super().__init__.
        if "_config_args" not in self.__dict__:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError:
                bound = None  # the constructor itself reports the mistake
            if bound is not None:
                bound.apply_defaults()
                recorded = OrderedDict(
                    (name, value)
                    for name, value in list(bound.arguments.items())[1:]
                    if name not in _UNRECORDED)
                object.__setattr__(self, "_config_args", recorded)
        init(self, *args, **kwargs)

    __init__._records_config = True
    return __init__


def _is_float_dtype(value):
    try:
        return value is not None and np.dtype(value).kind == "f"
    except TypeError:
        return False


def _to_json(value, where):
    """``value`` as JSON-safe data: tuples as lists, dtypes as strings."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.generic) and value.ndim == 0 and \
            value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    if isinstance(value, (tuple, list)):
        return [_to_json(item, "%s[%d]" % (where, i))
                for i, item in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {key: _to_json(item, "%s[%r]" % (where, key))
                for key, item in value.items()}
    if isinstance(value, Module):
        return {"__module__": value.get_config()}
    raise TypeError(
        "%s is a %s, which cannot be written as JSON; give the class a "
        "get_config() of its own" % (where, type(value).__name__))


def _from_json(value):
    """Undo :func:`_to_json`: lists become tuples, modules are rebuilt."""
    if isinstance(value, list):
        return tuple(_from_json(item) for item in value)
    if isinstance(value, dict):
        if set(value) == {"__module__"}:
            return Module.from_config(value["__module__"])
        return {key: _from_json(item) for key, item in value.items()}
    return value


def _call_with(cls, args):
    """Call ``cls`` with the recorded ``args`` (a dict by parameter name)."""
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    known = {p.name for p in parameters}
    unknown = sorted(set(args) - known)
    if unknown:
        raise ValueError("%s takes no argument(s) %s"
                         % (cls.__name__, ", ".join(map(repr, unknown))))
    positional, keywords = [], {}
    by_keyword = False
    for p in parameters:
        if p.name not in args:
            by_keyword = by_keyword or p.kind in (
                p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            continue
        value = args[p.name]
        if p.kind == p.VAR_POSITIONAL:
            positional.extend(value)
        elif p.kind == p.VAR_KEYWORD:
            keywords.update(value)
        elif p.kind == p.KEYWORD_ONLY or (
                by_keyword and p.kind == p.POSITIONAL_OR_KEYWORD):
            keywords[p.name] = value
        else:
            positional.append(value)
    return cls(*positional, **keywords)


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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _register(cls)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_records_config", False):
            cls.__init__ = _recording(init)

    # -- registration -----------------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                "%s.__init__ must call super().__init__() before assigning "
                "attributes" % type(self).__name__)
        if isinstance(value, Parameter):
            table = self._parameters
        elif isinstance(value, Module):
            table = self._modules
        elif name in self._buffers and isinstance(value, np.ndarray):
            table = self._buffers
        else:
            table = None
        for other in (self._parameters, self._buffers, self._modules):
            if other is not table:
                other.pop(name, None)
        if table is not None:
            # Assigning to an existing key keeps its place, so replacing a
            # child leaves the order of the state dict (and of a
            # Sequential) unchanged.
            table[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        object.__delattr__(self, name)

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

    def named_children(self):
        """Yield ``(name, module)`` for each direct child, in order."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        """Yield each direct child module, in order."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix=""):
        """Yield ``(path, module)`` for this module and every descendant.

        This module comes first with the path ``prefix`` (``""`` by
        default), then its children depth first with dotted paths such as
        ``"encoder.0"``. A module reachable twice is yielded once.

        Examples
        --------
        >>> from cnnc.nn import Conv2d, Sequential
        >>> net = Sequential(Conv2d(1, 2, 3), Sequential(Conv2d(2, 2, 3)))
        >>> [name for name, _ in net.named_modules()]
        ['', '0', '1', '1.0']
        """
        seen = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            below = [(path + "." + name if path else name, child)
                     for name, child in module.named_children()]
            stack.extend(reversed(below))

    def modules(self):
        """Yield this module and every descendant (see named_modules)."""
        for _, module in self.named_modules():
            yield module

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

    # -- freezing, dtype, size ---------------------------------------------

    def freeze(self):
        """Stop learning: ``requires_grad = False`` on every parameter.

        Layers skip the work of a frozen parameter's gradient, and its
        ``grad`` is reset to None so that an optimiser leaves it alone.
        Transfer learning freezes a pre-trained encoder and trains only a
        new classifier (fine-tuning). Returns self.
        """
        for param in self.parameters():
            param.requires_grad = False
            param.grad = None
        return self

    def unfreeze(self):
        """Learn again: ``requires_grad = True`` everywhere; returns self."""
        for param in self.parameters():
            param.requires_grad = True
        return self

    def astype(self, dtype):
        """Convert parameters, gradients and floating buffers to ``dtype``.

        Parameters
        ----------
        dtype : float32 or float64
            float64 is what gradient checks need.

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from cnnc.nn import Conv2d
        >>> Conv2d(1, 2, 3).astype(np.float64).weight.dtype
        dtype('float64')
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError("dtype must be float32 or float64, got %s"
                            % dtype)
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                param.data = param.data.astype(dtype)
                if param.grad is not None:
                    param.grad = param.grad.astype(dtype)
            for name, buf in list(module._buffers.items()):
                if buf is not None and buf.dtype.kind == "f":
                    module.register_buffer(name, buf.astype(dtype))
            # A layer that remembers its dtype (to check inputs) and the
            # recorded constructor argument follow the conversion.
            if _is_float_dtype(module.__dict__.get("dtype")):
                object.__setattr__(module, "dtype", dtype)
            args = module.__dict__.get("_config_args")
            if args is not None and "dtype" in args:
                args["dtype"] = dtype
        return self

    def num_parameters(self, trainable_only=False):
        """The number of learnable values (each parameter counted once).

        Parameters
        ----------
        trainable_only : bool, default False
            Count only parameters with ``requires_grad``.
        """
        seen = {id(p): p for p in self.parameters()
                if p.requires_grad or not trainable_only}
        return int(sum(p.data.size for p in seen.values()))

    # -- saving -------------------------------------------------------------

    def get_config(self):
        """The architecture as JSON-safe data, enough to rebuild the module.

        Returns
        -------
        dict
            ``{"type": class name, "args": constructor arguments}`` plus,
            when the module has children, ``"children": {name: config}``.
            The arguments are recorded automatically when any Module
            subclass is constructed (``rng`` is left out: the weights come
            from the state dict); tuples become lists and dtypes strings.

        Raises
        ------
        TypeError
            When an argument cannot be written as JSON (say, an array).

        Examples
        --------
        >>> from cnnc.nn import Conv2d, Module
        >>> config = Conv2d(3, 8, kernel_size=3, padding=(1, 1)).get_config()
        >>> config["type"], config["args"]["padding"], config["args"]["dtype"]
        ('Conv2d', [1, 1], 'float32')
        >>> Module.from_config(config)
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        """
        name = type(self).__name__
        args = self.__dict__.get("_config_args", {})
        skip = type(self)._config_skip
        config = {
            "type": _type_name(type(self)),
            "args": {key: _to_json(value, "%s argument %r" % (name, key))
                     for key, value in args.items() if key not in skip},
        }
        children = {child_name: child.get_config()
                    for child_name, child in self.named_children()}
        if children:
            config["children"] = children
        return config

    # Constructor arguments left out of get_config (containers rebuild
    # their children from "children" instead).
    _config_skip = ()

    @classmethod
    def from_config(cls, config):
        """Build a new module (random weights) from :meth:`get_config` data.

        The class named by ``config["type"]`` is constructed with the
        recorded arguments; then every child whose configuration differs
        from the saved one (a classifier replaced after construction, say)
        is rebuilt from its own configuration. Only registered Module
        subclasses are ever constructed.

        Raises
        ------
        ValueError
            When the configuration is malformed or names an unknown class.
        """
        if not isinstance(config, dict) or not isinstance(
                config.get("type"), str) or not isinstance(
                config.get("args", {}), dict) or not isinstance(
                config.get("children", {}), dict):
            raise ValueError(
                "a module configuration must be a dict with a string "
                "'type', a dict 'args' and optionally a dict 'children', "
                "got %r" % (config,))
        target = module_class(config["type"])
        if not issubclass(target, cls):
            raise ValueError("configuration of a %s is not a %s"
                             % (config["type"], cls.__name__))
        module = _call_with(target, _from_json(config.get("args", {})))
        children = config.get("children", {})
        for name, child_config in children.items():
            existing = module._modules.get(name)
            try:
                same = (existing is not None
                        and existing.get_config() == child_config)
            except TypeError:
                same = False
            if not same:
                setattr(module, name, Module.from_config(child_config))
        for name in [n for n in module._modules if n not in children]:
            delattr(module, name)
        return module

    def state_dict(self):
        """Copies of every parameter and buffer, keyed as PyTorch does.

        The order is PyTorch's too: module by module, each one's
        parameters, then its buffers (``"1.weight"``, ``"1.bias"``,
        ``"1.running_mean"``, ...).
        """
        state = OrderedDict()
        self._fill_state(state, "")
        return state

    def _fill_state(self, state, prefix):
        for name, param in self._parameters.items():
            if param is not None:
                state[prefix + name] = param.data.copy()
        for name, buf in self._buffers.items():
            state[prefix + name] = np.array(buf, copy=True)
        for name, child in self.named_children():
            child._fill_state(state, prefix + name + ".")

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
