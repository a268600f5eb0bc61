"""Every example in a docstring runs and prints what it shows."""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import cnnc


def _modules():
    names = ["cnnc"]
    for info in pkgutil.walk_packages(cnnc.__path__, "cnnc."):
        # The assignments' starters and tests are student files, not API.
        if not info.name.startswith("cnnc.assignments."):
            names.append(info.name)
    return sorted(names)


# Modules whose examples need an optional extra.
NEEDS = {"cnnc.viz": "matplotlib"}


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    module = importlib.import_module(name)
    previous = cnnc.get_num_threads(), cnnc.get_simd()
    with np.printoptions(legacy=False):
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            verbose=False, report=True)
    cnnc.set_num_threads(previous[0])
    cnnc.set_simd(previous[1])
    assert result.failed == 0, "%d of %d examples failed in %s" % (
        result.failed, result.attempted, name)
