"""Fixtures shared by the test suite: SIMD paths, thread counts, torch."""
import numpy as np
import pytest

import cnnc

# Tolerances per dtype for comparing a fast kernel with its reference.
TOL = {
    np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
    np.dtype(np.float64): dict(rtol=1e-10, atol=1e-12),
}

# Relative error a float64 central-difference gradient check must reach.
GRADCHECK_TOL = 1e-6


def _simd_paths():
    paths = ["scalar"]
    try:
        cnnc.set_simd("avx2+fma")
        paths.append("avx2+fma")
    except ValueError:
        pass
    cnnc.set_simd("auto")
    return paths


SIMD_PATHS = _simd_paths()


@pytest.fixture(params=SIMD_PATHS)
def simd(request):
    """Run the test once per SIMD path this CPU has."""
    cnnc.set_simd(request.param)
    yield request.param
    cnnc.set_simd("auto")


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Run the test with 1 and with 2 threads."""
    before = cnnc.get_num_threads()
    cnnc.set_num_threads(request.param)
    yield request.param
    cnnc.set_num_threads(before)


@pytest.fixture
def torch():
    """PyTorch when it imports; the test is skipped otherwise."""
    return pytest.importorskip("torch")


def assert_close(actual, expected, dtype=None, **kw):
    """assert_allclose with the tolerance of ``dtype`` (or actual's).

    The absolute tolerance scales with the largest expected magnitude, so
    an element that is a near-cancelling sum of large terms is judged
    against the rounding error of those terms, not against zero.
    """
    tol = dict(TOL[np.dtype(dtype or np.asarray(actual).dtype)])
    tol.update(kw)
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 1.0
    tol["atol"] = tol["atol"] * max(1.0, scale)
    np.testing.assert_allclose(actual, expected, **tol)


def numerical_grad(f, x, eps=1e-6):
    """Central differences of the scalar function f at x (float64)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|), the gradient checks' measure."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)),
                                             1e-30))
