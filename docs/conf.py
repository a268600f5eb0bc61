"""Sphinx configuration for cnnc's documentation.

The docs document the *installed* package (``pip install .`` first), so
the compiled core is importable; nothing here reaches the network.
"""
import importlib
import os

import cnnc

project = "cnnc"
author = "the cnnc developers"
copyright = "2026, the cnnc developers"
release = cnnc.__version__
version = cnnc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
]

# Tutorials: every script in tutorials/ is executed on each build; an error
# in one fails the build. Figures come from the code, never from files.
sphinx_gallery_conf = {
    "examples_dirs": "../tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r".*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "first_notebook_cell": None,
}

plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

intersphinx_mapping = {}
templates_path = []
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

html_theme = "pydata_sphinx_theme"
html_title = "cnnc"
html_static_path = []
html_theme_options = {"navigation_with_keys": False}


# The API reference lists every public name (each module's __all__), so a
# name added to the library appears here without anyone editing a page.
API_SECTIONS = [
    ("Configuration", "cnnc", ["get_num_threads", "set_num_threads",
                               "get_simd", "set_simd", "config",
                               "show_config"]),
    ("Functions with validation", "cnnc.functional", None),
    ("Layers", "cnnc.nn", None),
    ("NumPy references", "cnnc.reference", None),
    ("Losses", "cnnc.losses", None),
    ("Optimisers, schedulers, clipping", "cnnc.optim", None),
    ("Initialisation", "cnnc.init", None),
    ("Models", "cnnc.models", None),
    ("Inspection", "cnnc", ["summary", "gradcheck"]),
    ("Saving and loading", "cnnc.io", None),
    ("Training", "cnnc.train", None),
    ("Visualisation", "cnnc.viz", None),
    ("Data", "cnnc.data", None),
    ("Augmentation", "cnnc.data.transforms", None),
    ("Grading", "cnnc.grading", None),
]


def _write_api_page(path):
    lines = ["API reference", "=============", "",
             "Every public name of cnnc, module by module.", ""]
    for title, module_name, names in API_SECTIONS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        names = [n for n in (names or getattr(module, "__all__", []))
                 if hasattr(module, n)
                 and not isinstance(getattr(module, n), type(os))]
        if not names:
            continue
        lines += [title, "-" * len(title), "",
                  ".. currentmodule:: " + module_name, "",
                  ".. autosummary::", "   :toctree: generated", ""]
        lines += ["   " + n for n in names] + [""]
    text = "\n".join(lines)
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)


_write_api_page(os.path.join(os.path.dirname(__file__), "api.rst"))
