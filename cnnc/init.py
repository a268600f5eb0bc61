"""Initialisers: the first step of the lecture's training recipe.

"Initialise all learnable parameters (e.g. random sampling)". Two things
matter about that first draw.

*It must be random.* If every filter of a layer starts equal, every filter
receives the same gradient and they stay equal for ever: the layer learns
one feature however many filters it has. Random values break that symmetry.
Biases carry no symmetry of their own and usually start at zero.

*Its scale must be right.* A unit of a Linear or Conv2d layer sums
``fan_in`` products ``w * x``. With independent, zero-mean weights of
variance ``Var(w)``, its output has variance ``fan_in * Var(w) * E[x^2]``.
Each layer multiplies the signal's variance by that factor, so across a deep
stack a factor a little below 1 makes activations (and gradients) vanish and
a factor a little above 1 makes them explode: the lecture's first drawback.
Xavier/Glorot and Kaiming/He initialisation choose ``Var(w)`` so that the
factor is 1 for the non-linearity that follows.

Fans are computed as PyTorch does: a Linear weight of shape ``(O, I)`` has
``fan_in = I`` and ``fan_out = O``; a Conv2d weight of shape ``(K, C, R, S)``
has ``fan_in = C * R * S`` and ``fan_out = K * R * S``.

Every function fills its argument (a :class:`cnnc.nn.Parameter` or a float
ndarray) in place and returns it. Randomness comes from ``rng``: a
:class:`numpy.random.Generator` (which advances), an int seed (the same seed
gives the same values) or None (fresh entropy). Values are drawn in float64
and then stored in the array's dtype, so a float32 and a float64 array
filled from the same seed hold the same numbers up to rounding.
"""
import math
import numbers

import numpy as np

from cnnc.nn.module import Parameter

__all__ = [
    "calculate_gain", "fan_in_and_fan_out", "uniform_", "normal_",
    "constant_", "zeros_", "ones_", "xavier_uniform_", "xavier_normal_",
    "kaiming_uniform_", "kaiming_normal_",
]

_LINEAR_NAMES = ("linear", "identity", "conv1d", "conv2d", "conv3d",
                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_NONLINEARITIES = _LINEAR_NAMES + ("sigmoid", "tanh", "relu", "leaky_relu",
                                   "selu")


# -- argument checks --------------------------------------------------------

def _target(array):
    """The ndarray to fill: ``array`` itself or a Parameter's data."""
    data = array.data if isinstance(array, Parameter) else array
    if not isinstance(data, np.ndarray):
        raise TypeError("array must be a NumPy array or a cnnc.nn.Parameter, "
                        "got %s" % type(array).__name__)
    if data.dtype.kind != "f":
        raise TypeError("array must have a floating dtype (float32 or "
                        "float64), got %s" % data.dtype)
    if not data.flags.writeable:
        raise ValueError("array is read-only; initialisers fill it in place")
    return data


def _number(value, name, minimum=None, strict=False):
    """``value`` as a finite float, optionally > or >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, numbers.Real):
        raise TypeError("%s must be a real number, got %s %r"
                        % (name, type(value).__name__, value))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("%s must be finite, got %r" % (name, number))
    if minimum is not None:
        if strict and not number > minimum:
            raise ValueError("%s must be > %g, got %r" % (name, minimum, number))
        if not strict and not number >= minimum:
            raise ValueError("%s must be >= %g, got %r"
                             % (name, minimum, number))
    return number


def _generator(rng):
    """A numpy Generator from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral)
                       and not isinstance(rng, (bool, np.bool_))):
        return np.random.default_rng(rng)
    raise TypeError("rng must be a numpy.random.Generator, an int seed or "
                    "None, got %s %r" % (type(rng).__name__, rng))


# -- gains and fans ----------------------------------------------------------

def calculate_gain(nonlinearity, param=None):
    """The factor by which to scale a weight's standard deviation.

    A non-linearity changes the second moment of what passes through it.
    The gain undoes that change, so that the layer after it again sees a
    signal of the variance the initialisers aim for. The values are
    PyTorch's:

    ================= =========================================
    nonlinearity      gain
    ================= =========================================
    linear, conv*     1
    sigmoid           1
    tanh              5/3
    relu              sqrt(2)
    leaky_relu        sqrt(2 / (1 + negative_slope^2))
    selu              3/4
    ================= =========================================

    ReLU keeps the positive half of a symmetric input and zeroes the other
    half, which halves its second moment; the gain sqrt(2) doubles the
    weights' variance to compensate. Leaky ReLU keeps a fraction
    ``negative_slope`` of the negative half, so it loses less.

    Parameters
    ----------
    nonlinearity : str
        One of the names in the table.
    param : float, optional
        The negative slope of ``"leaky_relu"`` (default 0.01); ignored
        otherwise.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For an unknown name or a slope that is not a number.

    Examples
    --------
    >>> from cnnc import init
    >>> init.calculate_gain("relu")
    1.4142135623730951
    >>> round(init.calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _LINEAR_NAMES or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (bool, np.bool_)) or not isinstance(
                param, numbers.Real):
            raise ValueError("param (the negative slope of leaky_relu) must "
                             "be a number, got %r" % (param,))
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError("nonlinearity must be one of %s, got %r"
                     % (", ".join(_NONLINEARITIES), nonlinearity))


def fan_in_and_fan_out(array):
    """Number of inputs and outputs each weight connects, as PyTorch counts.

    Parameters
    ----------
    array : ndarray, Parameter or tuple of int
        A weight or its shape: ``(O, I)`` for Linear, ``(K, C, R, S)`` for
        Conv2d (any number of trailing kernel axes).

    Returns
    -------
    fan_in, fan_out : int
        ``I`` and ``O`` for Linear; ``C * R * S`` and ``K * R * S`` for
        Conv2d.

    Raises
    ------
    ValueError
        When the weight has fewer than 2 axes.

    Examples
    --------
    >>> from cnnc import init
    >>> init.fan_in_and_fan_out((64, 32, 3, 3))
    (288, 576)
    """
    if isinstance(array, Parameter):
        shape = array.data.shape
    elif isinstance(array, np.ndarray):
        shape = array.shape
    else:
        shape = tuple(array)
    if len(shape) < 2:
        raise ValueError(
            "array must have at least 2 axes to have a fan-in and a fan-out "
            "(a Linear weight (O, I) or a Conv2d weight (K, C, R, S)), got "
            "shape %s" % (tuple(shape),))
    receptive_field = 1
    for size in shape[2:]:
        receptive_field *= int(size)
    return int(shape[1]) * receptive_field, int(shape[0]) * receptive_field


def _fan(array, mode):
    fan_in, fan_out = fan_in_and_fan_out(array)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError("mode must be 'fan_in' or 'fan_out', got %r" % (mode,))


# -- plain fills ---------------------------------------------------------------

def uniform_(array, a=0.0, b=1.0, rng=None):
    """Fill with values drawn uniformly from ``[a, b)``.

    Parameters
    ----------
    array : ndarray or Parameter
        Filled in place.
    a, b : float
        The bounds, ``a <= b``. U(-c, c) has variance ``c^2 / 3``.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.uniform_(np.empty((2, 3)), -0.5, 0.5, rng=0)
    >>> bool(np.all((w >= -0.5) & (w <= 0.5)))
    True
    """
    data = _target(array)
    low, high = _number(a, "a"), _number(b, "b")
    if low > high:
        raise ValueError("a must be <= b, got a=%r and b=%r" % (low, high))
    data[...] = _generator(rng).uniform(low, high, size=data.shape)
    return array


def normal_(array, mean=0.0, std=1.0, rng=None):
    """Fill with values drawn from the normal distribution N(mean, std^2).

    Parameters
    ----------
    array : ndarray or Parameter
        Filled in place.
    mean : float, default 0
    std : float, default 1
        Must be >= 0.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.normal_(np.empty(100_000), 0.0, 0.1, rng=0)
    >>> round(float(w.std()), 2)
    0.1
    """
    data = _target(array)
    mean = _number(mean, "mean")
    std = _number(std, "std", minimum=0.0)
    data[...] = _generator(rng).normal(mean, std, size=data.shape)
    return array


def constant_(array, val):
    """Fill with the constant ``val`` (no randomness).

    Fine for biases and batch norm's scale and shift; for weights it leaves
    every unit of a layer identical, which training cannot undo.

    Parameters
    ----------
    array : ndarray or Parameter
        Filled in place.
    val : float

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> init.constant_(np.empty(3), 0.5)
    array([0.5, 0.5, 0.5])
    """
    data = _target(array)
    data[...] = _number(val, "val")
    return array


def zeros_(array):
    """Fill with zeros: the usual start for biases.

    Parameters
    ----------
    array : ndarray or Parameter
        Filled in place.

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> init.zeros_(np.ones(2, np.float32))
    array([0., 0.], dtype=float32)
    """
    _target(array)[...] = 0
    return array


def ones_(array):
    """Fill with ones: the usual start for batch norm's scale gamma.

    Parameters
    ----------
    array : ndarray or Parameter
        Filled in place.

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> init.ones_(np.zeros(2))
    array([1., 1.])
    """
    _target(array)[...] = 1
    return array


# -- scaled random fills ------------------------------------------------------

def xavier_uniform_(array, gain=1.0, rng=None):
    """Glorot and Bengio's (2010) initialisation, uniform version.

    Forward, a unit's output keeps its input's variance when
    ``fan_in * Var(w) = 1``; backward, the gradient keeps its variance when
    ``fan_out * Var(w) = 1``. Both hold only when the fans are equal, so
    Xavier takes the compromise ``Var(w) = 2 / (fan_in + fan_out)``, times
    ``gain^2`` for the non-linearity. It suits layers followed by tanh,
    sigmoid or nothing. U(-c, c) has variance ``c^2 / 3``, hence::

        std = gain * sqrt(2 / (fan_in + fan_out))
        w ~ U(-sqrt(3) * std, sqrt(3) * std)

    Parameters
    ----------
    array : ndarray or Parameter, at least 2-D
        Filled in place.
    gain : float, default 1
        See :func:`calculate_gain`.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.xavier_uniform_(np.empty((10, 20)), rng=0)
    >>> bound = np.sqrt(6 / (10 + 20))
    >>> bool(np.abs(w).max() <= bound)
    True
    """
    data = _target(array)
    gain = _number(gain, "gain", minimum=0.0)
    fan_in, fan_out = fan_in_and_fan_out(data)
    if data.size == 0:
        return array
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    data[...] = _generator(rng).uniform(-bound, bound, size=data.shape)
    return array


def xavier_normal_(array, gain=1.0, rng=None):
    """Glorot and Bengio's (2010) initialisation, normal version.

    The same variance as :func:`xavier_uniform_`,
    ``Var(w) = gain^2 * 2 / (fan_in + fan_out)``, the compromise between
    keeping the activations' variance steady forward (``fan_in``) and the
    gradients' variance steady backward (``fan_out``)::

        w ~ N(0, std^2),  std = gain * sqrt(2 / (fan_in + fan_out))

    Parameters
    ----------
    array : ndarray or Parameter, at least 2-D
        Filled in place.
    gain : float, default 1
        See :func:`calculate_gain`.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.xavier_normal_(np.empty((500, 500)), rng=0)
    >>> round(float(w.std() / np.sqrt(2 / 1000)), 2)
    1.0
    """
    data = _target(array)
    gain = _number(gain, "gain", minimum=0.0)
    fan_in, fan_out = fan_in_and_fan_out(data)
    if data.size == 0:
        return array
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    data[...] = _generator(rng).normal(0.0, std, size=data.shape)
    return array


def _kaiming_std(data, a, mode, nonlinearity):
    fan = _fan(data, mode)
    gain = calculate_gain(nonlinearity, a)
    return gain / math.sqrt(fan) if fan > 0 else 0.0


def kaiming_uniform_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                     rng=None):
    """He et al.'s (2015) initialisation, uniform version.

    After a ReLU only the positive half of a zero-mean signal survives, so
    the next layer's input has ``E[x^2] = Var(pre-activation) / 2``. For
    the pre-activations to keep their variance from layer to layer, each
    layer needs ``fan_in * Var(w) / 2 = 1``: ``Var(w) = 2 / fan_in``, twice
    Xavier's value for equal fans. In general ``std = gain / sqrt(fan)``
    with the gain of :func:`calculate_gain`; ``mode="fan_out"`` keeps the
    gradients' variance steady in the backward pass instead::

        w ~ U(-sqrt(3) * std, sqrt(3) * std)

    Parameters
    ----------
    array : ndarray or Parameter, at least 2-D
        Filled in place.
    a : float, default 0
        Negative slope of the leaky ReLU that follows (0 for ReLU).
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
        Recommended "relu" or "leaky_relu" (PyTorch's default); see
        :func:`calculate_gain`.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.kaiming_uniform_(np.empty((16, 3, 3, 3)), nonlinearity="relu",
    ...                           rng=0)
    >>> bool(np.abs(w).max() <= np.sqrt(6 / 27))
    True
    """
    data = _target(array)
    a = _number(a, "a")
    std = _kaiming_std(data, a, mode, nonlinearity)
    if data.size == 0:
        return array
    bound = math.sqrt(3.0) * std
    data[...] = _generator(rng).uniform(-bound, bound, size=data.shape)
    return array


def kaiming_normal_(array, a=0.0, mode="fan_in", nonlinearity="leaky_relu",
                    rng=None):
    """He et al.'s (2015) initialisation, normal version.

    The variance of :func:`kaiming_uniform_`: ``std = gain / sqrt(fan)``,
    which for ReLU (gain sqrt(2)) makes up for the half of the signal that
    ReLU zeroes, so activations neither shrink nor grow through a deep
    ReLU network::

        w ~ N(0, std^2)

    Parameters
    ----------
    array : ndarray or Parameter, at least 2-D
        Filled in place.
    a : float, default 0
        Negative slope of the leaky ReLU that follows (0 for ReLU).
    mode : {"fan_in", "fan_out"}, default "fan_in"
    nonlinearity : str, default "leaky_relu"
    rng : numpy.random.Generator, int or None

    Returns
    -------
    array : the argument, filled.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc import init
    >>> w = init.kaiming_normal_(np.empty((256, 128, 3, 3)), mode="fan_out",
    ...                          nonlinearity="relu", rng=0)
    >>> round(float(w.std() * np.sqrt(256 * 9 / 2)), 2)
    1.0
    """
    data = _target(array)
    a = _number(a, "a")
    std = _kaiming_std(data, a, mode, nonlinearity)
    if data.size == 0:
        return array
    data[...] = _generator(rng).normal(0.0, std, size=data.shape)
    return array
