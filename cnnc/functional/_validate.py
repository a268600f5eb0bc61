"""Argument checks shared by every function of cnnc.functional.

Each check raises a TypeError or ValueError whose message names the
argument, says what was expected and shows what was given.
"""
import operator

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Element counts above this could overflow the C core's int64 byte sizes.
MAX_ELEMENTS = 2 ** 59


def as_float_array(value, name):
    """``value`` as a float32 or float64 ndarray (no copy when possible)."""
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, (list, tuple, int, float, np.number)):
        array = np.asarray(value)
        if array.dtype.kind in "iub":
            array = array.astype(np.float32)
    else:
        raise TypeError("%s must be a NumPy array of float32 or float64, got %s"
                        % (name, type(value).__name__))
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(
            "%s must have dtype float32 or float64, got %s; convert it with "
            "%s.astype(np.float32)" % (name, array.dtype, name))
    return array


def check_ndim(array, name, ndim, layout):
    """Raise unless ``array`` has ``ndim`` axes laid out as ``layout``."""
    if array.ndim != ndim:
        raise ValueError("%s must be a %d-D array of shape %s, got shape %s"
                         % (name, ndim, layout, array.shape))


def check_same_dtype(reference, ref_name, array, name):
    """Raise when ``array``'s dtype differs from ``reference``'s."""
    if array.dtype != reference.dtype:
        raise TypeError(
            "%s has dtype %s but %s has dtype %s; both must be the same "
            "(convert one with .astype())"
            % (name, array.dtype, ref_name, reference.dtype))


def as_int(value, name, minimum):
    """``value`` as a Python int >= ``minimum``; bools are refused."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("%s must be an int, got the bool %r" % (name, value))
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, got %s %r"
                        % (name, type(value).__name__, value)) from None
    if number < minimum:
        raise ValueError("%s must be >= %d, got %d" % (name, minimum, number))
    return number


def as_pair(value, name, minimum):
    """An int or a pair of ints (height, width), each >= ``minimum``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("%s must be an int or a pair (height, width), "
                             "got %d values %r" % (name, len(value), value))
        return (as_int(value[0], name + "[0]", minimum),
                as_int(value[1], name + "[1]", minimum))
    number = as_int(value, name, minimum)
    return (number, number)


def contiguous(array):
    """A C-contiguous version of ``array`` (itself when already so)."""
    return np.ascontiguousarray(array)


def check_elements(count, what):
    """Raise when an array of ``count`` elements would be too large."""
    if count > MAX_ELEMENTS:
        raise ValueError("%s would have %d elements, more than the %d that "
                         "cnnc supports" % (what, count, MAX_ELEMENTS))
