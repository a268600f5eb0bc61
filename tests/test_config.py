"""Threads, SIMD selection, environment variables and show_config."""
import io
import os
import subprocess
import sys

import pytest

import cnnc


def _run(code, **env):
    """Run ``code`` in a fresh interpreter, away from the source tree (whose
    uncompiled cnnc/ would otherwise shadow the installed package)."""
    full = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, env=full, check=True,
                         cwd=os.path.dirname(os.path.dirname(cnnc.__file__)))
    return out.stdout.strip()


def test_set_num_threads_roundtrip():
    before = cnnc.get_num_threads()
    try:
        cnnc.set_num_threads(1)
        assert cnnc.get_num_threads() == 1
        if cnnc.config()["openmp"]:
            cnnc.set_num_threads(2)
            assert cnnc.get_num_threads() == 2
    finally:
        cnnc.set_num_threads(before)


@pytest.mark.parametrize("value, error, match", [
    (0, ValueError, "n must be an int >= 1, got 0"),
    (-3, ValueError, "n must be an int >= 1, got -3"),
    (1.5, TypeError, "n must be an int >= 1, got float 1.5"),
    (True, TypeError, "got the bool True"),
    # libgomp crashes the process when asked for ~1e5 threads.
    (1025, ValueError, "n must be an int from 1 to 1024, got 1025"),
    (100000, ValueError, "n must be an int from 1 to 1024, got 100000"),
    (2**40, ValueError, "n must be an int from 1 to 1024, got 1099511627776"),
])
def test_set_num_threads_validation(value, error, match):
    with pytest.raises(error, match=match):
        cnnc.set_num_threads(value)


def test_set_simd_validation():
    with pytest.raises(ValueError, match="name must be 'auto', 'avx2\\+fma' "
                       "or 'scalar', got 'sse9'"):
        cnnc.set_simd("sse9")
    with pytest.raises(TypeError, match="name must be a str"):
        cnnc.set_simd(3)
    cnnc.set_simd("scalar")
    assert cnnc.get_simd() == "scalar"
    cnnc.set_simd("auto")


def test_environment_variables_apply_at_import():
    code = "import cnnc; print(cnnc.get_simd(), cnnc.get_num_threads())"
    simd, threads = _run(code, CNNC_SIMD="scalar",
                         CNNC_NUM_THREADS="1").split()
    assert simd == "scalar" and threads == "1"
    simd, _ = _run(code, CNNC_SIMD="nonsense").split()
    assert simd in ("scalar", "avx2+fma")
    # Far too many threads is refused with a warning, not a crash later.
    _, threads = _run(code, CNNC_NUM_THREADS="100000").split()
    assert 1 <= int(threads) <= 1024


def test_threadpoolctl_controls_the_same_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not cnnc.config()["openmp"]:
        pytest.skip("built without OpenMP")
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert cnnc.get_num_threads() == 1


def test_show_config_lists_everything():
    out = io.StringIO()
    cnnc.show_config(file=out)
    text = out.getvalue()
    for key in ("version", "compiler", "simd", "openmp", "threads"):
        assert key + ":" in text
    assert cnnc.__version__ in text


def test_command_line_demo_and_info():
    out = _run("import cnnc.__main__ as m, sys; sys.exit(m.main(['demo']))")
    assert "largest difference" in out
    assert "simd:" in _run("import cnnc.__main__ as m; m.main(['info'])")
