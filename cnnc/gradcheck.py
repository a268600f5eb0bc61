"""cnnc.gradcheck: compare ``backward`` with central differences.

A layer or model is right about its gradients when, for every parameter
value w, the analytic dL/dw left by ``backward`` matches the numerical
slope of the loss::

    dL/dw  ~  (L(w + eps) - L(w - eps)) / (2 * eps)

whose error shrinks as eps**2 for a smooth L. The comparison is only
meaningful in float64: in float32 the rounding of L (about 1e-7 of its
size) divided by 2 * eps swamps the slope. It is also unreliable where L
is not smooth: a ReLU input within a perturbation of 0, or two equal
values in one max-pooling window, where the slope jumps.

The measure is the one the tests use, ``max |a - n| / max(|a| + |n|)``
over a tensor's elements (a for analytic, n for numerical); below about
1e-6 the gradients agree.
"""
import warnings
from dataclasses import dataclass

import numpy as np

from cnnc._trace import leaf_name, trace_leaves
from cnnc.functional._validate import as_pair
from cnnc.nn.module import Module

__all__ = ["gradcheck", "GradcheckResult", "TensorCheck", "GradcheckWarning"]


class GradcheckWarning(UserWarning):
    """A gradient check that may report errors that are not bugs."""


@dataclass
class TensorCheck:
    """The comparison for one tensor (a parameter or the input).

    Attributes
    ----------
    name : str
        ``"input"`` or the parameter's name in ``named_parameters()``.
    shape : tuple of int
    checked : int
        How many of its elements were perturbed.
    rel_error : float
        ``max |a - n| / max(|a| + |n|)`` over the checked elements.
    abs_error : float
        ``max |a - n|``.
    index : tuple of int
        The element with the largest ``|a - n|``.
    analytic, numeric : float
        Its two gradients.
    passed : bool
        ``rel_error <= tol``, or ``abs_error <= atol``: a gradient that is
        zero (a convolution's bias before batch norm) is compared with
        numerical values that are only rounding noise.
    """

    name: str
    shape: tuple
    checked: int
    rel_error: float
    abs_error: float
    index: tuple
    analytic: float
    numeric: float
    passed: bool


class GradcheckResult:
    """What :func:`gradcheck` returns.

    Attributes
    ----------
    checks : list of TensorCheck
        The input first (when checked), then each parameter.
    max_error : float
        The largest ``rel_error``.
    passed : bool
        Every tensor within ``tol``.
    tol, atol : float
    loss : float
        The loss at the unperturbed point.
    warnings : list of str
        Kinks met and dtype problems (also issued as warnings).

    ``result["encoder.0.weight"]`` gives one tensor's check; ``str()`` a
    table; ``bool(result)`` is ``passed``.
    """

    def __init__(self, checks, tol, atol, loss, messages):
        self.checks = checks
        self.tol = tol
        self.atol = atol
        self.loss = loss
        self.warnings = messages
        self.max_error = max((c.rel_error for c in checks), default=0.0)
        self.passed = all(c.passed for c in checks)

    def __getitem__(self, name):
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError("no gradient was checked for %r; checked: %s"
                       % (name, ", ".join(c.name for c in self.checks)))

    def __bool__(self):
        return self.passed

    def __str__(self):
        header = ("tensor", "shape", "checked", "rel. error", "worst at",
                  "analytic", "numeric", "")
        rows = [(c.name, str(c.shape), str(c.checked), "%.2e" % c.rel_error,
                 str(c.index), "%.6g" % c.analytic, "%.6g" % c.numeric,
                 _verdict(c, self.tol)) for c in self.checks]
        widths = [max(len(r[i]) for r in rows + [header])
                  for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) if i in (0, 1, 4) else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(r, widths)))
                 .rstrip() for r in [header] + rows]
        verdict = "passed" if self.passed else "FAILED"
        lines.append("%s: largest relative error %.2e (tolerance %.0e; "
                     "absolute errors below %.1e are rounding noise)"
                     % (verdict, self.max_error, self.tol, self.atol))
        lines += ["warning: " + m for m in self.warnings]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def _verdict(check, tol):
    if not check.passed:
        return "FAIL"
    return "ok" if check.rel_error <= tol else "ok (noise)"


def gradcheck(model, x, target=None, loss=None, eps=1e-6, tol=1e-6,
              atol=None, check_input=True, max_elements=None, kink_tol=None,
              seed=0):
    """Check ``model.backward`` against central differences of a loss.

    Parameters
    ----------
    model : Module
        A layer or a whole model; convert it with ``astype(np.float64)``
        first (float32 gives a warning and meaningless errors). It is left
        as it was found: weights, gradients, running statistics and random
        states are restored.
    x : ndarray
        The input batch (float64 to go with a float64 model).
    target, loss : optional
        A loss object with ``loss(output, target)`` returning a number and
        ``loss.backward()`` returning dL/doutput (as :mod:`cnnc.losses`).
        Without them the loss is ``sum(output * R)`` for a fixed random
        tensor R (from ``seed``), which checks every output element.
    eps : float, default 1e-6
        The perturbation.
    tol : float, default 1e-6
        A tensor passes when its relative error is at most this ...
    atol : float, optional
        ... or when every ``|a - n|`` is at most this, the level of
        rounding noise in a numerical gradient. By default ``1000 * 2.2e-16
        * max(|L|, 1) / eps``: a thousand rounding errors of the loss L,
        divided by the step. It matters only where the gradient is about
        zero.
    check_input : bool, default True
        Also check dL/dx, the gradient ``backward`` returns.
    max_elements : int, optional
        Perturb at most this many elements per tensor, drawn at random
        (two forward passes each); all by default.
    kink_tol : float, optional
        How close to a kink an input must be for a warning; default
        ``10 * eps``, since moving a weight by eps can move a downstream
        value by a few eps.
    seed : int, default 0
        For R and for choosing elements.

    Returns
    -------
    GradcheckResult

    Warns
    -----
    GradcheckWarning
        When run in float32, when a ReLU or LeakyReLU input lies within
        ``kink_tol`` of 0, or when a max-pooling window holds two values
        within ``kink_tol`` of each other (a tie).

    Notes
    -----
    Frozen parameters (``requires_grad=False``) are not checked. Random
    layers such as dropout draw the same mask in every pass, because the
    random generators found on the modules are rewound before each one.

    Examples
    --------
    >>> import numpy as np
    >>> import cnnc
    >>> from cnnc.nn import Conv2d
    >>> conv = Conv2d(2, 3, 3, padding=1, rng=0, dtype=np.float64)
    >>> x = np.random.default_rng(1).normal(size=(2, 2, 5, 5))
    >>> result = cnnc.gradcheck(conv, x)
    >>> result.passed, [c.name for c in result.checks]
    (True, ['input', 'weight', 'bias'])
    >>> bool(result.max_error < 1e-8)
    True
    """
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc Module, got %s"
                        % type(model).__name__)
    if (loss is None) != (target is None):
        raise ValueError("give both target and loss, or neither (the default "
                         "loss is sum(output * R) for a fixed random R)")
    eps = _positive(eps, "eps")
    tol = _positive(tol, "tol")
    if atol is not None:
        atol = _positive(atol, "atol")
    kink_tol = 10 * eps if kink_tol is None else _positive(kink_tol,
                                                           "kink_tol")
    if max_elements is not None and (
            isinstance(max_elements, bool) or
            not isinstance(max_elements, (int, np.integer)) or
            max_elements < 1):
        raise ValueError("max_elements must be a positive int or None, got "
                         "%r" % (max_elements,))
    x = np.array(x, copy=True)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)

    messages = []
    params = [(name, p) for name, p in model.named_parameters()
              if p.requires_grad]
    if x.dtype != np.float64 or any(p.dtype != np.float64 for _, p in params):
        messages.append(
            "gradcheck is running in float32, where rounding errors swamp "
            "the comparison; use model.astype(np.float64) and a float64 x")

    saved = _Saved(model)
    try:
        rng = np.random.default_rng(seed)
        run = _Runner(model, x, target, loss, rng)
        kinks = _KinkFinder(kink_tol)
        model.zero_grad()
        with trace_leaves(model, kinks.before, kinks.after):
            loss_value = run.forward()
        if atol is None:
            atol = 1000 * np.finfo(np.float64).eps * max(abs(loss_value),
                                                           1.0) / eps
        dx = model.backward(run.grad_out)
        messages += kinks.messages
        for message in messages:
            warnings.warn(message, GradcheckWarning, stacklevel=2)

        tensors = []
        if check_input:
            if dx is None or np.shape(dx) != x.shape:
                raise ValueError("backward returned %s, not a gradient of "
                                 "the input's shape %s"
                                 % (None if dx is None else np.shape(dx),
                                    x.shape))
            tensors.append(("input", x, np.asarray(dx)))
        for name, p in params:
            grad = p.grad if p.grad is not None else np.zeros_like(p.data)
            tensors.append((name, p.data, np.array(grad, copy=True)))

        checks = [_check_tensor(name, array, analytic, run, eps, tol, atol,
                                max_elements, rng)
                  for name, array, analytic in tensors]
    finally:
        saved.restore()
    return GradcheckResult(checks, tol, atol, loss_value, messages)


def _positive(value, name):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError("%s must be a number, got %r" % (name, value))
    if not value > 0 or not np.isfinite(value):
        raise ValueError("%s must be positive and finite, got %r"
                         % (name, value))
    return value


class _Runner:
    """Forward passes that give the loss, with the random state rewound."""

    def __init__(self, model, x, target, loss, rng):
        self.model, self.x, self.target, self.loss = model, x, target, loss
        self.generators = [g for module in model.modules()
                           for g in vars(module).values()
                           if isinstance(g, np.random.Generator)]
        self.states = [g.bit_generator.state for g in self.generators]
        self.rng = rng
        self.weights = None
        self.grad_out = None

    def forward(self):
        """The loss now (and, the first time, dL/doutput)."""
        for generator, state in zip(self.generators, self.states):
            generator.bit_generator.state = state
        y = self.model(self.x)
        if self.loss is not None:
            value = float(self.loss(y, self.target))
            if self.grad_out is None:
                self.grad_out = self.loss.backward()
            return value
        if self.weights is None:
            self.weights = self.rng.standard_normal(np.shape(y))
            self.grad_out = self.weights.astype(np.asarray(y).dtype)
        return float(np.sum(np.asarray(y, np.float64) * self.weights))


def _check_tensor(name, array, analytic, run, eps, tol, atol, max_elements,
                  rng):
    """Central differences over (some of) the elements of ``array``."""
    count = array.size
    if max_elements is not None and count > max_elements:
        chosen = np.sort(rng.choice(count, size=max_elements, replace=False))
    else:
        chosen = np.arange(count)
    numeric = np.zeros(len(chosen))
    for i, flat in enumerate(chosen):
        index = np.unravel_index(flat, array.shape)
        old = array[index]
        array[index] = old + eps
        plus = run.forward()
        array[index] = old - eps
        minus = run.forward()
        array[index] = old
        numeric[i] = (plus - minus) / (2 * eps)
    picked = np.asarray(analytic, np.float64).reshape(-1)[chosen]
    diff = np.abs(picked - numeric)
    scale = np.max(np.abs(picked) + np.abs(numeric)) if count else 0.0
    worst_diff = float(np.max(diff)) if count else 0.0
    error = worst_diff / max(float(scale), 1e-30)
    worst = int(np.argmax(diff)) if count else 0
    index = tuple(int(i) for i in np.unravel_index(chosen[worst],
                                                   array.shape)) \
        if count else ()
    return TensorCheck(name, tuple(array.shape), len(chosen), error,
                       worst_diff, index,
                       float(picked[worst]) if count else 0.0,
                       float(numeric[worst]) if count else 0.0,
                       error <= tol or worst_diff <= atol)


class _Saved:
    """Gradients and buffers to put back after the check."""

    def __init__(self, model):
        self.model = model
        self.grads = [(p, None if p.grad is None else p.grad.copy())
                      for p in model.parameters()]
        self.buffers = [(module, name, np.array(buf, copy=True))
                        for module in model.modules()
                        for name, buf in module._buffers.items()
                        if buf is not None]
        self.generators = [(g, g.bit_generator.state)
                           for module in model.modules()
                           for g in vars(module).values()
                           if isinstance(g, np.random.Generator)]

    def restore(self):
        for param, grad in self.grads:
            param.grad = grad
        for module, name, value in self.buffers:
            module._buffers[name][...] = value
        for generator, state in self.generators:
            generator.bit_generator.state = state


class _KinkFinder:
    """Inputs of ReLU-like layers near 0 and ties in max-pool windows."""

    def __init__(self, tol):
        self.tol = tol
        self.messages = []
        self.relu_output = None

    def after(self, path, module, x, y):
        # Zeros that a ReLU made stay zero under small perturbations (its
        # inputs near 0 are reported by themselves), so ties between them
        # in a max-pooling right after it do no harm.
        self.relu_output = y if "ReLU" in _cnnc_names(module) else None

    def before(self, path, module, x):
        names = _cnnc_names(module)
        after_relu = x is self.relu_output
        x = np.asarray(x)
        if names & {"ReLU", "LeakyReLU"}:
            near = int(np.count_nonzero(np.abs(x) <= self.tol))
            if near:
                self.messages.append(
                    "%s: %d input(s) within %.1e of the kink at 0, where "
                    "the numerical gradient is unreliable"
                    % (leaf_name(path, module), near, self.tol))
        elif "MaxPool2d" in names and x.ndim == 4:
            ties = _max_pool_ties(x, module, self.tol, after_relu)
            if ties:
                self.messages.append(
                    "%s: %d window(s) whose two largest values are within "
                    "%.1e (a tie), where the numerical gradient is "
                    "unreliable" % (leaf_name(path, module), ties, self.tol))


def _cnnc_names(module):
    """Names of the cnnc.nn classes that ``module`` is an instance of."""
    return {cls.__name__ for cls in type(module).__mro__
            if cls.__module__.startswith("cnnc.nn.")}


def _max_pool_ties(x, module, tol, skip_zeros=False):
    """How many max-pool windows have their top two values within tol
    (not counting ties of exact zeros when ``skip_zeros``)."""
    kernel = as_pair(module.kernel_size, "kernel_size", 1)
    stride = as_pair(module.stride, "stride", 1)
    padding = as_pair(module.padding, "padding", 0)
    dilation = as_pair(getattr(module, "dilation", 1), "dilation", 1)
    extra = [s - 1 if getattr(module, "ceil_mode", False) else 0
             for s in stride]
    padded = np.pad(np.asarray(x, np.float64),
                    ((0, 0), (0, 0), (padding[0], padding[0] + extra[0]),
                     (padding[1], padding[1] + extra[1])),
                    constant_values=-np.inf)
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if padded.shape[2] < span[0] or padded.shape[3] < span[1]:
        return 0
    windows = np.lib.stride_tricks.sliding_window_view(
        padded, span, axis=(2, 3))
    windows = windows[:, :, ::stride[0], ::stride[1],
                      ::dilation[0], ::dilation[1]]
    flat = windows.reshape(windows.shape[:4] + (-1,))
    if flat.shape[-1] < 2:
        return 0
    top = np.sort(flat, axis=-1)[..., -2:]
    tied = np.isfinite(top[..., 0]) & (top[..., 1] - top[..., 0] <= tol)
    if skip_zeros:
        tied &= top[..., 1] != 0
    return int(np.count_nonzero(tied))
