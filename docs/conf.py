"""Sphinx configuration for cnnc's documentation.

The docs document the *installed* package (``pip install .`` first), so
the compiled core is importable; nothing here reaches the network.
"""
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
