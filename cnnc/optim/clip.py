"""Gradient clipping: the lecture's fix for exploding gradients.

Backpropagation multiplies a gradient by one factor per layer; in a deep
stack those products can grow exponentially, so that one step throws the
weights far away or overflows them to inf and NaN. Clipping "sets bounds on
the gradients" between ``backward`` and ``optimizer.step()``::

    loss_fn.backward(...); model.backward(...)
    clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""
import logging
import math

import numpy as np

from cnnc.nn.module import Module, Parameter
from cnnc.optim.optimizer import _check_number

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

_log = logging.getLogger("cnnc")

# Added to the norm before dividing, as PyTorch does, so that a zero
# gradient never divides by zero.
_NORM_EPS = 1e-6


def _gradients(parameters):
    """The non-None gradients of a Parameter or an iterable of them."""
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    elif isinstance(parameters, (Module, np.ndarray)):
        raise TypeError("parameters must be a Parameter or an iterable of "
                        "Parameters, got a %s; pass model.parameters()"
                        % type(parameters).__name__)
    grads = []
    for i, param in enumerate(parameters):
        if not isinstance(param, Parameter):
            raise TypeError("parameters[%d] must be a cnnc.nn.Parameter, got "
                            "%s" % (i, type(param).__name__))
        if param.grad is not None:
            grads.append(param.grad)
    return grads


def clip_grad_norm_(parameters, max_norm, norm_type=2.0,
                    error_if_nonfinite=False):
    """Scale all gradients down together so that their norm is at most
    ``max_norm``.

    The gradients of all parameters are treated as one long vector ``g``.
    When its norm exceeds ``max_norm`` every gradient is multiplied by
    ``max_norm / (||g|| + 1e-6)``: the step keeps its direction but its
    length is bounded, so an exploding gradient can no longer throw the
    weights away. Gradients whose norm is already small are left as they
    are. Computed as ``torch.nn.utils.clip_grad_norm_``.

    Parameters
    ----------
    parameters : Parameter or iterable of Parameter
        Parameters whose ``grad`` is None are ignored.
    max_norm : float
        >= 0, or ``float("inf")`` to measure the norm without clipping.
    norm_type : float, default 2
        The p of the p-norm, > 0, or ``float("inf")`` for the largest
        absolute value.
    error_if_nonfinite : bool, default False
        Raise instead of clipping when the norm is inf or NaN (the
        gradients have overflowed; scaling them would turn them all into
        NaN).

    Returns
    -------
    float
        The norm of the gradients before clipping (0 when there are
        none); plotted over training, it shows gradients exploding.

    Raises
    ------
    ValueError
        For a negative or NaN ``max_norm`` or a ``norm_type`` <= 0.
    RuntimeError
        For a non-finite norm with ``error_if_nonfinite``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import clip_grad_norm_
    >>> a, b = Parameter(np.zeros(1)), Parameter(np.zeros(1))
    >>> a.grad, b.grad = np.array([3.0]), np.array([4.0])
    >>> clip_grad_norm_([a, b], max_norm=1.0)
    5.0
    >>> np.round([a.grad[0], b.grad[0]], 6)
    array([0.6, 0.8])
    """
    # inf is allowed, as in PyTorch: it measures the norm and clips nothing.
    if not (isinstance(max_norm, float) and max_norm == math.inf):
        max_norm = _check_number({"max_norm": max_norm}, "max_norm", "")
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError("norm_type must be a number or 'inf', got %r"
                        % (norm_type,)) from None
    if not p > 0:
        raise ValueError("norm_type must be > 0 (or inf), got %r"
                         % (norm_type,))
    grads = _gradients(parameters)
    if not grads:
        return 0.0

    # The norm of the concatenated gradients: the p-norm of the per-array
    # p-norms.
    if math.isinf(p):
        norms = [float(np.max(np.abs(g))) if g.size else 0.0 for g in grads]
        total = max(norms)
    else:
        norms = [float(np.linalg.norm(g.reshape(-1), ord=p)) for g in grads]
        total = float(np.linalg.norm(np.array(norms), ord=p))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            "the total %g-norm of the gradients is %r, so it cannot be "
            "clipped: the gradients have exploded (try a smaller lr, or "
            "pass error_if_nonfinite=False to scale them anyway)"
            % (p, total))

    # Scale down only. A non-finite norm turns the gradients into NaN, as
    # in PyTorch; say so once here rather than through NumPy's warnings.
    coefficient = max_norm / (total + _NORM_EPS)
    if not math.isfinite(total):
        _log.warning("clip_grad_norm_: the gradients' %g-norm is %r; scaling "
                     "makes them NaN", p, total)
    if not coefficient >= 1.0:
        with np.errstate(invalid="ignore"):
            for g in grads:
                g *= coefficient
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into ``[-clip_value, clip_value]``.

    The bluntest bound on an exploding gradient: each element is limited
    on its own, which can change the gradient's direction (unlike
    :func:`clip_grad_norm_`). Computed as
    ``torch.nn.utils.clip_grad_value_``.

    Parameters
    ----------
    parameters : Parameter or iterable of Parameter
        Parameters whose ``grad`` is None are ignored.
    clip_value : float
        >= 0.

    Raises
    ------
    ValueError
        For a negative or non-finite ``clip_value``.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import clip_grad_value_
    >>> w = Parameter(np.zeros(3))
    >>> w.grad = np.array([-5.0, 0.5, 2.0])
    >>> clip_grad_value_(w, 1.0)
    >>> w.grad
    array([-1. ,  0.5,  1. ])
    """
    clip_value = _check_number({"clip_value": clip_value}, "clip_value", "")
    for g in _gradients(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
