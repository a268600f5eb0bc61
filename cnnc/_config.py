"""Threads, SIMD path and build facts of the compiled core."""
import operator
import platform
import sys

import numpy as np

from cnnc import _core

__all__ = ["get_num_threads", "set_num_threads", "get_simd", "set_simd",
           "config", "show_config"]

# The most threads set_num_threads accepts. NOTE: libgomp does not fail
# cleanly when asked for far more threads than the machine can start: on a
# Linux box with 2 cores, 60000 threads ended the process ("Thread creation
# failed") and 100000 crashed it inside GOMP_parallel. 1024 is more than
# any CPU cnnc targets has, and far below where that happens.
MAX_THREADS = 1024


def get_num_threads():
    """Number of threads the C kernels use.

    It is OpenMP's thread count, so ``OMP_NUM_THREADS``,
    ``CNNC_NUM_THREADS``, :func:`set_num_threads` and threadpoolctl's
    ``threadpool_limits(n, user_api="openmp")`` all change it. Without
    OpenMP it is always 1.

    Returns
    -------
    int

    Examples
    --------
    >>> import cnnc
    >>> cnnc.get_num_threads() >= 1
    True
    """
    return _core.get_num_threads()


def set_num_threads(n):
    """Set the number of threads the C kernels use.

    Results do not depend on the thread count beyond rounding.

    Parameters
    ----------
    n : int
        From 1 to 1024. Without OpenMP every value leaves the core serial.

    Raises
    ------
    TypeError
        If ``n`` is not an integer.
    ValueError
        If ``n`` is smaller than 1 or larger than 1024.

    Examples
    --------
    >>> import cnnc
    >>> before = cnnc.get_num_threads()
    >>> cnnc.set_num_threads(1)
    >>> cnnc.get_num_threads()
    1
    >>> cnnc.set_num_threads(before)
    """
    if isinstance(n, bool):
        raise TypeError("n must be an int >= 1, got the bool %r" % n)
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError("n must be an int >= 1, got %s %r"
                        % (type(n).__name__, n)) from None
    if n < 1:
        raise ValueError("n must be an int >= 1, got %d" % n)
    if n > MAX_THREADS:
        raise ValueError("n must be an int from 1 to %d, got %d"
                         % (MAX_THREADS, n))
    _core.set_num_threads(n)


def get_simd():
    """Name of the SIMD path the kernels use: ``"avx2+fma"`` or ``"scalar"``.

    Examples
    --------
    >>> import cnnc
    >>> cnnc.get_simd() in ("avx2+fma", "scalar")
    True
    """
    return _core.simd_path()


def set_simd(name):
    """Choose the SIMD path: ``"auto"``, ``"avx2+fma"`` or ``"scalar"``.

    The choice is made automatically at import (or by the ``CNNC_SIMD``
    environment variable); this function exists so that both paths can be
    compared and tested in one process.

    Parameters
    ----------
    name : str

    Raises
    ------
    ValueError
        If the name is unknown or this CPU lacks the instructions.

    Examples
    --------
    >>> import cnnc
    >>> cnnc.set_simd("scalar"); cnnc.get_simd()
    'scalar'
    >>> cnnc.set_simd("auto")
    """
    if not isinstance(name, str):
        raise TypeError("name must be a str, got %s" % type(name).__name__)
    if name not in ("auto", "avx2+fma", "avx2", "scalar"):
        raise ValueError("name must be 'auto', 'avx2+fma' or 'scalar', got %r"
                         % name)
    try:
        _core.select_simd(name)
    except _core.CoreError:
        raise ValueError("SIMD path %r is not supported by this CPU or build"
                         % name) from None


def config():
    """The build and runtime configuration as a dict.

    Returns
    -------
    dict
        Keys ``version``, ``python``, ``numpy``, ``machine``, ``compiler``,
        ``simd``, ``openmp`` and ``threads``.
    """
    from cnnc import __version__

    return {
        "version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "compiler": _core.compiler(),
        "simd": _core.simd_path(),
        "openmp": _core.has_openmp(),
        "threads": _core.get_num_threads(),
    }


def show_config(file=None):
    """Print the version, compiler, SIMD path, OpenMP and thread count.

    Parameters
    ----------
    file : file-like, optional
        Where to write; standard output by default.
    """
    out = sys.stdout if file is None else file
    for key, value in config().items():
        print("%-9s %s" % (key + ":", value), file=out)
