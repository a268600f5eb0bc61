"""cnnc._core: the Cython bridge to the C core in src_c/.

Each wrapper takes typed memoryviews, makes one C call with the GIL
released and turns a nonzero status into an exception. Arguments arrive
already validated by cnnc.functional; nothing here decides anything.
Per-operation wrappers live in the ``_*.pxi`` files included at the end.
"""
from libc.stdint cimport int64_t

from cnnc._ccore cimport *

ctypedef fused real:
    float
    double


class CoreError(RuntimeError):
    """A status the C core returned that validation did not foresee."""


cdef int check(int status, str operation) except -1:
    """Raise for a nonzero C status, naming the operation."""
    if status == CNNC_OK:
        return 0
    message = "%s: %s (C status %d)" % (
        operation, cnnc_status_string(status).decode(), status)
    if status == CNNC_ERR_NOMEM:
        raise MemoryError(message)
    if status in (CNNC_ERR_SHAPE, CNNC_ERR_OVERFLOW, CNNC_ERR_ARG):
        raise ValueError(message)
    raise CoreError(message)


# --------------------------------------------------------------------------
# Runtime
# --------------------------------------------------------------------------

def get_num_threads():
    return cnnc_get_num_threads()


def set_num_threads(int n):
    check(cnnc_set_num_threads(n), "set_num_threads")


def has_openmp():
    return bool(cnnc_has_openmp())


def simd_path():
    return cnnc_simd_path().decode()


def select_simd(str name):
    check(cnnc_select_simd(name.encode()), "select_simd(%r)" % name)


def compiler():
    return cnnc_compiler().decode()


include "_conv2d.pxi"
include "_warp.pxi"
include "_linear.pxi"
include "_loss.pxi"
include "_batchnorm.pxi"
include "_activation.pxi"
include "_dropout.pxi"
include "_pool2d.pxi"
