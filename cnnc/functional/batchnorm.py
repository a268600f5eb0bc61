"""Batch normalization: validated forward and backward over the C core."""
import math
import numbers

import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, check_elements, check_same_dtype, contiguous)

__all__ = ["batch_norm", "batch_norm_backward"]


def _check_x(x, name="x"):
    """x as a float array of shape (N, C, ...) with no empty axis."""
    x = as_float_array(x, name)
    if x.ndim < 2:
        raise ValueError(
            "%s must be an array of shape (N, C), (N, C, L) or (N, C, H, W), "
            "got shape %s" % (name, x.shape))
    if 0 in x.shape:
        raise ValueError("%s must have no empty axis, got shape %s"
                         % (name, x.shape))
    check_elements(x.size, name)
    return x


def _check_channel_vector(array, name, x):
    """An optional per-channel array: shape (C,) and x's dtype."""
    if array is None:
        return None
    array = as_float_array(array, name)
    check_same_dtype(x, "x", array, name)
    if array.shape != (x.shape[1],):
        raise ValueError(
            "%s must have shape (C,) = (%d,) to match x's %d channels, got "
            "shape %s (x.shape=%s)"
            % (name, x.shape[1], x.shape[1], array.shape, x.shape))
    return array


def _check_eps(eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError("eps must be a number, got %s %r"
                        % (type(eps).__name__, eps))
    eps = float(eps)
    if not eps > 0 or math.isinf(eps):
        raise ValueError(
            "eps must be a positive finite number (it keeps the division by "
            "sqrt(var + eps) finite), got %r" % eps)
    return eps


def _check_momentum(momentum):
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError("momentum must be a number in [0, 1], got %s %r"
                        % (type(momentum).__name__, momentum))
    momentum = float(momentum)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(
            "momentum must be in [0, 1] (the weight of the new batch in the "
            "running statistics), got %r" % momentum)
    return momentum


def _as_ncl(array):
    """A C-contiguous (N, C, L) view or copy of an (N, C, ...) array."""
    array = contiguous(array)
    return array.reshape(array.shape[0], array.shape[1], -1)


def batch_norm(x, running_mean, running_var, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-5):
    """Batch normalization, per channel, as PyTorch's ``batch_norm``.

    In training (``training=True``) each channel ``c`` is normalised with
    the mean and the biased variance of its ``M = N * L`` values in this
    batch (``L = H * W`` for images), then scaled and shifted::

        mean = x[:, c].mean()      var = ((x[:, c] - mean) ** 2).mean()
        y[:, c] = (x[:, c] - mean) / sqrt(var + eps) * weight[c] + bias[c]

    and the running statistics, when given, are updated in place with the
    unbiased variance::

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var
                      + momentum * var * M / (M - 1)

    In evaluation (``training=False``) the running statistics take the place
    of the batch's, and nothing is updated.

    Parameters
    ----------
    x : ndarray of shape (N, C), (N, C, L) or (N, C, H, W)
        float32 or float64; any memory layout, read-only is fine.
    running_mean, running_var : ndarray of shape (C,) or None
        Both or neither; x's dtype. Updated in place when ``training``, so
        they must then be writable. Required when ``training`` is False.
    weight, bias : ndarray of shape (C,), optional
        The learnable scale gamma and shift beta (1 and 0 when None).
    training : bool, default False
        Normalise with the batch's statistics (and update the running
        ones) rather than with the running statistics.
    momentum : float in [0, 1], default 0.1
        Weight of this batch in the running statistics.
    eps : float > 0, default 1e-5
        Added to the variance before its square root.

    Returns
    -------
    y : ndarray of x's shape and dtype
        A new C-contiguous array.
    save_mean, save_invstd : ndarray of shape (C,), float64
        The mean and ``1 / sqrt(var + eps)`` used, for
        :func:`batch_norm_backward`.

    Raises
    ------
    TypeError
        For non-float arrays, mixed dtypes or non-numbers.
    ValueError
        For wrong shapes (naming the argument), a training batch with one
        value per channel, ``eps <= 0``, ``momentum`` outside [0, 1], or
        missing running statistics in evaluation.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import batch_norm
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)  # (N, C)
    >>> rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    >>> y, mean, invstd = batch_norm(x, rm, rv, training=True)
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> mean
    array([ 2., 20.])
    >>> rm, rv     # 0.9 * old + 0.1 * (mean, unbiased variance)
    (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
    """
    x = _check_x(x)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError("training must be a bool, got %s %r"
                        % (type(training).__name__, training))
    momentum = _check_momentum(momentum)
    eps = _check_eps(eps)
    weight = _check_channel_vector(weight, "weight", x)
    bias = _check_channel_vector(bias, "bias", x)
    running_mean = _check_channel_vector(running_mean, "running_mean", x)
    running_var = _check_channel_vector(running_var, "running_var", x)
    if (running_mean is None) != (running_var is None):
        raise ValueError(
            "running_mean and running_var must both be arrays or both be "
            "None, got running_mean=%s and running_var=%s"
            % ("None" if running_mean is None else "an array",
               "None" if running_var is None else "an array"))

    n, c = x.shape[:2]
    if training and x.size // c < 2:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input "
            "of shape %s: the batch variance of a single value is undefined "
            "(use a batch of at least 2, or training=False)" % (x.shape,))
    if not training and running_mean is None:
        raise ValueError(
            "running_mean and running_var are required when training=False "
            "(they take the batch statistics' place); pass training=True to "
            "normalise with the batch's own statistics")

    xs = _as_ncl(x)
    y = np.empty(xs.shape, dtype=x.dtype)
    save_mean = np.empty(c, dtype=np.float64)
    save_invstd = np.empty(c, dtype=np.float64)
    weight = None if weight is None else contiguous(weight)
    bias = None if bias is None else contiguous(bias)

    if not training:
        _core.batchnorm_forward_eval(
            xs, weight, bias, contiguous(running_mean),
            contiguous(running_var), y, save_mean, save_invstd, eps)
        return y.reshape(x.shape), save_mean, save_invstd

    # The running statistics are updated in place: a strided array is
    # updated through a contiguous copy written back afterwards.
    stats = [running_mean, running_var]
    for i, name in enumerate(("running_mean", "running_var")):
        if stats[i] is not None and not stats[i].flags.writeable:
            raise ValueError("%s must be writable when training=True (it is "
                             "updated in place)" % name)
        stats[i] = None if stats[i] is None else contiguous(stats[i])
    _core.batchnorm_forward_train(xs, weight, bias, stats[0], stats[1], y,
                                  save_mean, save_invstd, momentum, eps)
    for given, used in zip((running_mean, running_var), stats):
        if used is not None and used is not given:
            given[...] = used
    return y.reshape(x.shape), save_mean, save_invstd


def batch_norm_backward(grad_out, x, save_mean, save_invstd, weight=None,
                        training=True, *, needs_input_grad=True,
                        needs_weight_grad=True, needs_bias_grad=True):
    """Gradients of a loss through :func:`batch_norm`.

    With ``dy = grad_out``, ``xhat = (x - mean) * invstd`` and ``M = N * L``
    values per channel::

        dbias[c] = sum of dy[:, c]        dweight[c] = sum of dy * xhat

    When the forward normalised with the batch's own statistics
    (``training=True``) the mean and variance depend on x too, and::

        dx = weight * invstd / M * (M * dy - dbias - xhat * dweight)

    With running statistics (``training=False``) they are constants and
    ``dx = weight * invstd * dy``. Every sum is taken in one fused pass per
    channel.

    Parameters
    ----------
    grad_out : ndarray of x's shape
        dL/dy.
    x : ndarray of shape (N, C), (N, C, L) or (N, C, H, W)
        The forward's input.
    save_mean, save_invstd : ndarray of shape (C,)
        As returned by :func:`batch_norm`.
    weight : ndarray of shape (C,), optional
        The forward's weight (gamma); 1 when None.
    training : bool, default True
        The value the forward was called with.
    needs_input_grad, needs_weight_grad, needs_bias_grad : bool
        Skip (return None for) a gradient that is not needed.

    Returns
    -------
    dx : ndarray of x's shape, or None
    dweight, dbias : ndarray of shape (C,), or None

    Raises
    ------
    TypeError
        For non-float arrays or mixed dtypes.
    ValueError
        For shapes that do not match x.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import batch_norm, batch_norm_backward

    A gradient that pushes every value of a channel up alike is absorbed
    by the batch mean: it reaches the bias, not x.

    >>> x = np.array([[1.0], [2.0], [6.0]])                # (N, C) = (3, 1)
    >>> y, mean, invstd = batch_norm(x, None, None, training=True)
    >>> dx, dweight, dbias = batch_norm_backward(np.ones_like(x), x, mean,
    ...                                          invstd)
    >>> bool(np.abs(dx).max() < 1e-12), dbias
    (True, array([3.]))
    """
    x = _check_x(x)
    grad_out = _check_x(grad_out, "grad_out")
    check_same_dtype(x, "x", grad_out, "grad_out")
    if grad_out.shape != x.shape:
        raise ValueError("grad_out must have x's shape %s, got %s"
                         % (x.shape, grad_out.shape))
    weight = _check_channel_vector(weight, "weight", x)
    stats = []
    for name, value in (("save_mean", save_mean),
                        ("save_invstd", save_invstd)):
        value = as_float_array(value, name)
        if value.shape != (x.shape[1],):
            raise ValueError(
                "%s must have shape (C,) = (%d,) to match x's %d channels, "
                "got shape %s" % (name, x.shape[1], x.shape[1], value.shape))
        stats.append(np.ascontiguousarray(value, dtype=np.float64))

    c = x.shape[1]
    xs, dys = _as_ncl(x), _as_ncl(grad_out)
    dx = np.empty(xs.shape, x.dtype) if needs_input_grad else None
    dweight = np.empty(c, x.dtype) if needs_weight_grad else None
    dbias = np.empty(c, x.dtype) if needs_bias_grad else None
    if dx is None and dweight is None and dbias is None:
        return None, None, None
    _core.batchnorm_backward(
        dys, xs, None if weight is None else contiguous(weight), stats[0],
        stats[1], bool(training), dx, dweight, dbias)
    return (None if dx is None else dx.reshape(x.shape)), dweight, dbias
