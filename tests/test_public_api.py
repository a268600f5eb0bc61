"""Every public name is exported consistently and documented."""
import importlib

import pytest

MODULES = ["cnnc", "cnnc.functional", "cnnc.nn", "cnnc.reference",
           "cnnc.losses", "cnnc.optim", "cnnc.init", "cnnc.data",
           "cnnc.data.transforms", "cnnc.grading", "cnnc.assignments"]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_once_and_have_docstrings(name):
    module = importlib.import_module(name)
    names = module.__all__
    assert len(names) == len(set(names)), "duplicates in __all__"
    for public in names:
        obj = getattr(module, public)
        if callable(obj) or isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), (
                "%s.%s has no docstring" % (name, public))


def test_functional_reference_and_nn_cover_the_lecture():
    import cnnc
    for op in ("conv2d", "relu", "sigmoid", "tanh", "max_pool2d",
               "avg_pool2d", "batch_norm", "dropout", "linear",
               "cross_entropy", "mse_loss", "l1_loss"):
        assert op in cnnc.functional.__all__, op
        assert op in cnnc.reference.__all__, op
    for layer in ("Conv2d", "ReLU", "MaxPool2d", "BatchNorm2d", "Dropout",
                  "Linear", "Flatten"):
        assert layer in cnnc.nn.__all__, layer
