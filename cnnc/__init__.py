"""cnnc: convolutional networks for learning.

A teaching library that follows an introductory CNN lecture: every
operation exists as a readable NumPy reference (:mod:`cnnc.reference`), a
fast C kernel behind a validated function (:mod:`cnnc.functional`) and a
layer with explicit ``forward`` and ``backward`` (:mod:`cnnc.nn`).
"""
import logging as _logging
import os as _os

from cnnc import _core
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
