"""cnnc.summary: a model's layers, shapes, sizes, costs and receptive fields.

One forward pass of a single zero image (in evaluation mode, so nothing
is learnt and batch statistics are left alone) runs through the model
while every leaf layer is watched; each becomes one row of the table.

How the numbers are counted
---------------------------
Shapes are per sample, without the batch axis: ``(C, H, W)`` for feature
maps, the lecture's H x W x N in NCHW order.

Parameters are counted per layer; the totals count each parameter once.

FLOPs are per sample (one image). Convolution and fully connected layers
count two operations per multiply-add (a multiply and an add), the usual
convention: a convolution costs ``2 * K * P * Q * (C / groups) * R * S``
and a linear layer ``2 * in_features * out_features``; bias additions are
left out. Other layers count per output element: batch normalization 2
(a scale and a shift, once folded), activations 1 (an ``exp`` counts as
one), pooling one per window element (``R * S``); adaptive pooling one per
input element; dropout, flatten and unknown layers 0.

The receptive field of a feature-map pixel is the size of the input
window it depends on; the jump is the distance, in input pixels, between
neighbouring pixels of the map. Along a chain of layers, a layer of
kernel ``k``, dilation ``d`` and stride ``s`` turns ``(r, j)`` into
``(r + d * (k - 1) * j, j * s)``, starting from ``(1, 1)`` at the input.
Layers that mix every position (flatten, linear, global pooling) have
the whole input as receptive field, shown as "all".
"""
from dataclasses import asdict, dataclass

import numpy as np

from cnnc._trace import leaf_name, trace_leaves
from cnnc.functional._validate import as_pair
from cnnc.nn.module import Module

__all__ = ["summary", "Summary", "LayerSummary"]


@dataclass
class LayerSummary:
    """One row of a :class:`Summary`: a leaf layer as the model ran it.

    Attributes
    ----------
    name : str
        The layer's dotted path in the model (``"encoder.0"``).
    type : str
        Its class name.
    input_shape, output_shape : tuple of int
        Per sample (no batch axis).
    params, trainable_params : int
    flops : int
        Per sample; see the module documentation for the counting.
    receptive_field, jump : (int, int) or None
        (height, width) in input pixels; None once every output depends
        on the whole input.
    """

    name: str
    type: str
    input_shape: tuple
    output_shape: tuple
    params: int
    trainable_params: int
    flops: int
    receptive_field: tuple
    jump: tuple


class Summary:
    """What :func:`summary` returns: rows of data and a readable table.

    Attributes
    ----------
    rows : list of LayerSummary
    input_shape, output_shape : tuple of int
        Per sample.
    total_params, trainable_params : int
        Each parameter counted once.
    total_flops : int
        Per sample.

    ``str(summary)`` is the table; :meth:`to_dicts` gives the rows as
    plain dicts (for a DataFrame, say).
    """

    def __init__(self, rows, input_shape, output_shape, total_params,
                 trainable_params):
        self.rows = rows
        self.input_shape = input_shape
        self.output_shape = output_shape
        self.total_params = total_params
        self.trainable_params = trainable_params
        self.total_flops = sum(row.flops for row in rows)

    def to_dicts(self):
        """The rows as a list of dicts."""
        return [asdict(row) for row in self.rows]

    def __str__(self):
        header = ("Layer (type)", "Output shape", "Param #", "FLOPs",
                  "RF", "Jump")
        lines = [(row.name if row.name == row.type
                  else "%s (%s)" % (row.name, row.type),
                  _shape_text(row.output_shape), "{:,}".format(row.params),
                  _flops_text(row.flops), _pair_text(row.receptive_field),
                  _pair_text(row.jump)) for row in self.rows]
        lines.insert(0, ("input", _shape_text(self.input_shape), "", "",
                         "1x1", "1x1"))
        widths = [max(len(line[i]) for line in lines + [header])
                  for i in range(len(header))]

        def fmt(cells):
            left = cells[0].ljust(widths[0]) + "  " + \
                cells[1].ljust(widths[1])
            right = "  ".join(cell.rjust(width) for cell, width
                              in zip(cells[2:], widths[2:]))
            return (left + "  " + right).rstrip()

        rule = "-" * len(fmt(header))
        text = [fmt(header), rule] + [fmt(line) for line in lines] + [rule]
        frozen = self.total_params - self.trainable_params
        text += [
            "Total params: {:,}".format(self.total_params),
            "Trainable params: {:,}".format(self.trainable_params),
            "Non-trainable params: {:,}".format(frozen),
            "FLOPs per sample: {:,} ({})".format(
                self.total_flops, _flops_text(self.total_flops)),
        ]
        return "\n".join(text)

    def __repr__(self):
        return str(self)


def _shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")" if len(shape) != 1 \
        else "(%d,)" % shape[0]


def _pair_text(pair):
    return "all" if pair is None else "%dx%d" % pair


def _flops_text(flops):
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if flops >= scale:
            return "%.2f%s" % (flops / scale, suffix)
    return str(int(flops))


def summary(model, input_shape, dtype=None):
    """Per layer: output shape, parameters, FLOPs and receptive field.

    Parameters
    ----------
    model : Module
    input_shape : tuple of int
        The shape of one sample, without the batch axis: ``(C, H, W)``
        for images, ``(F,)`` for feature vectors.
    dtype : float32 or float64, optional
        Of the probe input; by default that of the model's parameters.

    Returns
    -------
    Summary
        Its ``str()`` is a table; ``rows`` holds the numbers. See the
        module documentation for how FLOPs and receptive fields are
        counted.

    Raises
    ------
    ValueError
        When a layer cannot take what the layer before it gives; the
        message names the layer by its path and shows the arithmetic.

    Examples
    --------
    The lecture's convolution, 56x56x64 -> 56x56x128:

    >>> import cnnc
    >>> from cnnc.nn import Conv2d
    >>> print(cnnc.summary(Conv2d(64, 128, 3, padding=1), (64, 56, 56)))
    Layer (type)  Output shape   Param #    FLOPs   RF  Jump
    --------------------------------------------------------
    input         (64, 56, 56)                     1x1   1x1
    Conv2d        (128, 56, 56)   73,856  462.42M  3x3   1x1
    --------------------------------------------------------
    Total params: 73,856
    Trainable params: 73,856
    Non-trainable params: 0
    FLOPs per sample: 462,422,016 (462.42M)
    """
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc Module, got %s"
                        % type(model).__name__)
    input_shape = _check_input_shape(input_shape)
    if dtype is None:
        first = next(model.parameters(), None)
        dtype = np.float32 if first is None else first.dtype
    x = np.zeros((1,) + input_shape, dtype=dtype)

    tracer = _Tracer(input_shape)
    modes = {id(m): m.training for m in model.modules()}
    model.eval()
    try:
        with trace_leaves(model, tracer.before, tracer.after):
            y = model(x)
    except (ValueError, TypeError) as exc:
        if tracer.current is None or tracer.checked:
            raise
        # A layer's own validation failed: say which layer it was.
        raise type(exc)("%s: %s" % (tracer.current, exc)) from exc
    finally:
        for module in model.modules():
            object.__setattr__(module, "training", modes[id(module)])
    output_shape = tuple(np.shape(y))[1:]
    return Summary(tracer.rows, input_shape, output_shape,
                   model.num_parameters(),
                   model.num_parameters(trainable_only=True))


def _check_input_shape(input_shape):
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list)) or not input_shape or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer))
            or s < 1 for s in input_shape):
        raise ValueError(
            "input_shape must be the shape of one sample without the batch "
            "axis, positive ints such as (3, 32, 32), got %r"
            % (input_shape,))
    return tuple(int(s) for s in input_shape)


class _Tracer:
    """Collects rows and checks each layer's input as the model runs."""

    def __init__(self, input_shape):
        self.rows = []
        # (receptive field, jump) of the current feature map.
        self.field = ((1, 1), (1, 1)) if len(input_shape) == 3 else None
        # (name, per-sample shape) of each output so far, latest last.
        self.history = [("the input", input_shape)]
        # The leaf running now, and whether its error is already ours.
        self.current = None
        self.checked = False

    def before(self, path, module, x):
        self.current = leaf_name(path, module)
        rule = _rule(module)
        if rule is not None and rule.check is not None:
            self.checked = True
            rule.check(self.current, module, tuple(np.shape(x))[1:],
                       self.history)
            self.checked = False

    def after(self, path, module, x, y):
        self.current = None
        if isinstance(y, tuple):  # max pooling with return_indices
            y = y[0]
        in_shape = tuple(np.shape(x))[1:]
        out_shape = tuple(np.shape(y))[1:]
        rule = _rule(module)
        params = sum(p.data.size for p in module.parameters())
        trainable = sum(p.data.size for p in module.parameters()
                        if p.requires_grad)
        flops = 0
        if rule is not None:
            flops = int(rule.flops(module, in_shape, out_shape))
            self.field = rule.field(module, in_shape, self.field)
        elif len(in_shape) != len(out_shape) or in_shape[1:] != out_shape[1:]:
            self.field = None  # an unknown layer that moves pixels around
        field, jump = self.field if self.field is not None else (None, None)
        self.rows.append(LayerSummary(
            path or type(module).__name__, type(module).__name__, in_shape,
            out_shape, int(params), int(trainable), flops, field, jump))
        self.history.append((leaf_name(path, module), out_shape))


# -- the rules per layer type -------------------------------------------------

class _Rule:
    def __init__(self, flops, field=None, check=None):
        self.flops = flops
        self.field = field or _same_field
        self.check = check


def _same_field(module, in_shape, field):
    return field


def _global_field(module, in_shape, field):
    return None


def _window_field(kernel, stride, dilation):
    def update(field):
        if field is None:
            return None
        (rh, rw), (jh, jw) = field
        return ((rh + dilation[0] * (kernel[0] - 1) * jh,
                 rw + dilation[1] * (kernel[1] - 1) * jw),
                (jh * stride[0], jw * stride[1]))
    return update


def _elements(shape):
    return int(np.prod(shape, dtype=np.int64))


def _conv_flops(module, in_shape, out_shape):
    r, s = module.kernel_size
    return 2 * _elements(out_shape) * (module.in_channels // module.groups) \
        * r * s


def _conv_field(module, in_shape, field):
    return _window_field(module.kernel_size, module.stride,
                         module.dilation)(field)


def _pool_params(module):
    kernel = as_pair(module.kernel_size, "kernel_size", 1)
    stride = as_pair(module.stride, "stride", 1)
    padding = as_pair(module.padding, "padding", 0)
    dilation = as_pair(getattr(module, "dilation", 1), "dilation", 1)
    return kernel, stride, padding, dilation


def _pool_flops(module, in_shape, out_shape):
    kernel = as_pair(module.kernel_size, "kernel_size", 1)
    return _elements(out_shape) * kernel[0] * kernel[1]


def _pool_field(module, in_shape, field):
    kernel, stride, _, dilation = _pool_params(module)
    return _window_field(kernel, stride, dilation)(field)


def _adaptive_field(module, in_shape, field):
    if field is None or len(in_shape) != 3:
        return None
    size = module.output_size
    pair = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    out = tuple(h if p is None else int(p) for p, h in zip(pair, in_shape[1:]))
    if out == (1, 1) or any(h % p for h, p in zip(in_shape[1:], out)):
        return None  # global pooling, or windows of unequal sizes
    kernel = tuple(h // p for h, p in zip(in_shape[1:], out))
    return _window_field(kernel, kernel, (1, 1))(field)


def _product_text(history, features):
    """' = 32 x 7 x 7 (the output of encoder.7 (MaxPool2d))' if one fits."""
    for name, shape in reversed(history):
        if len(shape) > 1 and _elements(shape) == features:
            return " = %s (the output of %s)" % (
                " x ".join(str(s) for s in shape), name)
    return ""


def _check_conv(name, module, shape, history):
    if len(shape) != 3:
        raise ValueError(
            "%s expects feature maps (N, C, H, W) but receives shape %s"
            % (name, _batch_shape(shape)))
    if shape[0] != module.in_channels:
        raise ValueError(
            "%s expects %d input channels but receives %d (input shape "
            "(N, %s))" % (name, module.in_channels, shape[0],
                          ", ".join(map(str, shape))))
    _check_window(name, shape, module.kernel_size, module.stride,
                  module.padding, module.dilation)


def _check_pool(name, module, shape, history):
    if len(shape) != 3:
        raise ValueError(
            "%s expects feature maps (N, C, H, W) but receives shape %s"
            % (name, _batch_shape(shape)))
    kernel, stride, padding, dilation = _pool_params(module)
    _check_window(name, shape, kernel, stride, padding, dilation)


def _check_window(name, shape, kernel, stride, padding, dilation):
    for axis, label in ((0, "height"), (1, "width")):
        size = shape[1 + axis]
        k, s, p, d = kernel[axis], stride[axis], padding[axis], dilation[axis]
        span = size + 2 * p - d * (k - 1) - 1
        if span < 0:
            raise ValueError(
                "%s cannot fit its %dx%d window in a %dx%d input: output "
                "%s = (%s + 2*padding - dilation*(kernel-1) - 1) // stride "
                "+ 1 = (%d + %d - %d - 1) // %d + 1 = %d"
                % (name, kernel[0], kernel[1], shape[1], shape[2], label,
                   label, size, 2 * p, d * (k - 1), s, span // s + 1))


def _check_linear(name, module, shape, history):
    if len(shape) != 1:
        raise ValueError(
            "%s expects input (N, %d) but receives shape %s: flatten it "
            "first (%s = %d features)"
            % (name, module.in_features, _batch_shape(shape),
               " x ".join(map(str, shape)), _elements(shape)))
    if shape[0] != module.in_features:
        raise ValueError(
            "%s expects %d input features but receives %d%s"
            % (name, module.in_features, shape[0],
               _product_text(history, shape[0])))


def _check_batchnorm(name, module, shape, history):
    if shape and shape[0] != module.num_features:
        raise ValueError(
            "%s expects %d channels (num_features) but receives %d (input "
            "shape %s)" % (name, module.num_features, shape[0],
                           _batch_shape(shape)))


def _batch_shape(shape):
    return "(N, %s)" % ", ".join(map(str, shape))


def _per_element(count):
    return lambda module, in_shape, out_shape: count * _elements(out_shape)


def _zero(module, in_shape, out_shape):
    return 0


_RULES = {
    "Conv2d": _Rule(_conv_flops, _conv_field, _check_conv),
    "Linear": _Rule(lambda m, i, o: 2 * m.in_features * m.out_features
                    * _elements(i[:-1]), _global_field, _check_linear),
    "MaxPool2d": _Rule(_pool_flops, _pool_field, _check_pool),
    "AvgPool2d": _Rule(_pool_flops, _pool_field, _check_pool),
    "AdaptiveAvgPool2d": _Rule(lambda m, i, o: _elements(i),
                               _adaptive_field),
    "_BatchNorm": _Rule(_per_element(2), check=_check_batchnorm),
    "_Activation": _Rule(_per_element(1)),
    "_DropoutBase": _Rule(_zero),
    "Flatten": _Rule(_zero, _global_field),
}


def _rule(module):
    """The rule of the nearest cnnc class among the module's bases."""
    for cls in type(module).__mro__:
        if cls.__name__ in _RULES and cls.__module__.startswith("cnnc.nn."):
            return _RULES[cls.__name__]
    return None
