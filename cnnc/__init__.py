"""cnnc: convolutional networks for learning.

A teaching library that follows an introductory CNN lecture: every
operation exists as a readable NumPy reference (:mod:`cnnc.reference`), a
fast C kernel behind a validated function (:mod:`cnnc.functional`) and a
layer with explicit ``forward`` and ``backward`` (:mod:`cnnc.nn`).
"""
import logging as _logging
import os as _os


def _import_core():
    """Import the compiled core, its OpenMP threads sleeping when idle.

    OpenMP's default lets idle threads spin for a while, waiting for the
    next parallel loop. On a busy machine (a laptop running a browser, a
    shared server, the docs build beside the tests) spinning threads take
    the cores the working ones need: a batch-norm tutorial took 80 s with
    spinning threads and 32 s with sleeping ones on this project's 2-core
    machine under load. libgomp reads OMP_WAIT_POLICY once, when it is
    loaded with the core, so it is set only for that moment and the
    environment is left as it was; a policy the user set is kept.
    """
    if "OMP_WAIT_POLICY" in _os.environ:
        from cnnc import _core
        return _core
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from cnnc import _core
    finally:
        del _os.environ["OMP_WAIT_POLICY"]
    return _core


_core = _import_core()

from cnnc._config import (config, get_num_threads, get_simd, set_num_threads,
                          set_simd, show_config)

__version__ = "0.1.0"

_logging.getLogger("cnnc").addHandler(_logging.NullHandler())


def _configure_from_environment():
    """Apply CNNC_SIMD and CNNC_NUM_THREADS once, at import."""
    simd = _os.environ.get("CNNC_SIMD", "auto").strip() or "auto"
    try:
        _core.select_simd(simd)
    except Exception as exc:
        _logging.getLogger("cnnc").warning(
            "CNNC_SIMD=%r ignored (%s); using the automatic choice", simd, exc)
        _core.select_simd("auto")
    threads = _os.environ.get("CNNC_NUM_THREADS", "").strip()
    if threads:
        try:
            set_num_threads(int(threads))
        except ValueError as exc:
            _logging.getLogger("cnnc").warning(
                "CNNC_NUM_THREADS=%r ignored (%s)", threads, exc)


_configure_from_environment()

from cnnc import functional, nn, reference  # noqa: E402
from cnnc import init, losses, optim  # noqa: E402
from cnnc import io, models, train, viz  # noqa: E402
from cnnc._summary import summary  # noqa: E402
from cnnc.gradcheck import gradcheck  # noqa: E402

__all__ = [
    "__version__",
    # configuration
    "config", "get_num_threads", "set_num_threads", "get_simd", "set_simd",
    "show_config",
    # inspection
    "summary", "gradcheck",
    # subpackages
    "functional", "nn", "reference", "init", "losses", "optim", "io",
    "models", "train", "viz",
]
