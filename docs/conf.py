"""Sphinx configuration: the pydata theme, numpydoc and sphinx-gallery.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (README). The
gallery's examples run while the docs build; those on the course's cat images
need the data (``SKLEARN_GDLOGREG_DATA``, or ``../shared/datasets`` beside the
clone, as the tests find it) and are left out, saying so, without it.
"""

import os
import re
import warnings
from pathlib import Path

import sklearn_gdlogreg
from sklearn_gdlogreg.datasets import DATA_HOME_ENV, catvnoncat_home

project = "sklearn-gdlogreg"
author = "the sklearn-gdlogreg developers"
copyright = f"2026, {author}"
version = release = sklearn_gdlogreg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "examples"]
templates_path = ["_templates"]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# numpydoc lists the methods itself; autosummary would list them twice.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-gdlogreg {version}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []


def _cat_data_home():
    """Where the course's cat files are, or None."""
    beside = Path(__file__).resolve().parents[2] / "shared/datasets/catvnoncat"
    for folder in (None, beside):  # None: the environment variable's
        try:
            return str(catvnoncat_home(folder))
        except FileNotFoundError:
            pass
    return None


_cats = _cat_data_home()
if _cats is None:
    print(
        f"The cat examples are left out: set {DATA_HOME_ENV} to the folder "
        "holding train_catvnoncat.h5 and test_catvnoncat.h5 to build them."
    )
else:
    os.environ[DATA_HOME_ENV] = _cats

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py" if _cats else r"__init__\.py|_cat",
    "doc_module": ("sklearn_gdlogreg",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_gdlogreg": None},
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
}

# Examples run with warnings shown, never as errors: a ConvergenceWarning an
# example demonstrates is part of its output.
warnings.filterwarnings("default")


#: scikit-learn's cross-references (``:ref:`text <label>```, ``:term:`word```)
#: point into scikit-learn's own documentation.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^>]*>)?`")


def _sklearn_roles_as_text(app, what, name, obj, options, lines):
    """Methods inherited from scikit-learn keep their words, not their links."""
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] == "sklearn":
        lines[:] = [_SKLEARN_ROLE.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _sklearn_roles_as_text)
