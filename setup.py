"""Build of cnnc's compiled core.

One extension, ``cnnc._core``, compiles the Cython bridge together with
every C file of ``src_c/``. OpenMP is used when the compiler can build and
link a small OpenMP file; otherwise the core builds serially (with
``-fopenmp-simd`` where the compiler takes it). Environment switches:

``CNNC_NO_OPENMP=1``
    build without OpenMP even when it is available.
``CNNC_NATIVE=1``
    add ``-march=native`` (a local opt-in: the result may not run on an
    older CPU; the default build dispatches SIMD at run time instead).
``CNNC_DEBUG=1``
    no optimisation, debug symbols, and Cython bounds checks turned on.
"""
import os
import sys
import tempfile
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SRC_C = sorted(glob(os.path.join("src_c", "*.c")))
HEADERS = sorted(glob(os.path.join("src_c", "*.h")))

OPENMP_PROBE = r"""
#include <omp.h>
int cnnc_probe(void) { int n = 0;
#pragma omp parallel reduction(+:n)
  n += 1;
  return n + omp_get_max_threads(); }
"""


def _flag_env(name):
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


def _try_compile(compiler, code, extra_compile, extra_link):
    """Compile and link ``code`` as a shared object; True when it works.

    Linking a shared object, not an executable, is what the real build does
    and it honours LDFLAGS (sanitizer builds included).
    """
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            objects = compiler.compile(
                [src], output_dir=tmp, extra_postargs=extra_compile
            )
            compiler.link_shared_object(
                objects, os.path.join(tmp, "probe.so"), extra_postargs=extra_link
            )
        except Exception:  # any compiler or linker failure means "no"
            return False
    return True


class BuildExt(build_ext):
    """build_ext that finds OpenMP and sets per-compiler flags."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            base = ["/O2"]
            omp_options = [(["/openmp"], [])]
        else:
            base = ["-std=gnu11", "-O3", "-Wall", "-Wextra",
                    "-Wno-unused-function", "-fno-strict-aliasing"]
            if _flag_env("CNNC_DEBUG"):
                base = ["-std=gnu11", "-O0", "-g", "-Wall", "-Wextra"]
            if _flag_env("CNNC_NATIVE"):
                base.append("-march=native")
            omp_options = [
                (["-fopenmp"], ["-fopenmp"]),
                (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
            ]

        compile_omp, link_omp, have_omp = [], [], False
        if not _flag_env("CNNC_NO_OPENMP"):
            for cflags, lflags in omp_options:
                if _try_compile(self.compiler, OPENMP_PROBE, cflags, lflags):
                    compile_omp, link_omp, have_omp = cflags, lflags, True
                    break
        if not have_omp and ctype != "msvc":
            if _try_compile(self.compiler, "int f(void){return 0;}",
                            ["-fopenmp-simd"], []):
                compile_omp = ["-fopenmp-simd"]
        self.announce("cnnc: OpenMP " + ("on" if have_omp else "off"), level=2)

        for ext in self.extensions:
            ext.extra_compile_args = base + compile_omp
            ext.extra_link_args = link_omp
        super().build_extensions()


def _extensions():
    from Cython.Build import cythonize

    directives = {
        "language_level": 3,
        "boundscheck": _flag_env("CNNC_DEBUG"),
        "wraparound": False,
        "cdivision": True,
        "initializedcheck": _flag_env("CNNC_DEBUG"),
    }
    core = Extension(
        "cnnc._core",
        sources=[os.path.join("cnnc", "_core.pyx")] + SRC_C,
        include_dirs=["src_c"],
        depends=HEADERS + glob(os.path.join("cnnc", "*.pxi"))
        + glob(os.path.join("cnnc", "*.pxd")),
    )
    return cythonize([core], compiler_directives=directives)


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
