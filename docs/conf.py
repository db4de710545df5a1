"""Sphinx configuration: the pydata theme, numpydoc and sphinx-gallery.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (README). The
gallery's examples run while the docs build; those on the course's cat images
need the data (``SKLEARN_GDLOGREG_DATA``, or ``../shared/datasets`` beside the
clone, as the tests find it) and are left out, saying so, without it.

The site needs no network, to build or to read: MathJax is copied into it
(``sphinx-mathjax-offline``), and scikit-learn's names link to scikit-learn's
pages by their addresses, with no inventory to download.
"""

import importlib.util
import os
import re
import warnings
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst.directives.images import Figure
from docutils.statemachine import StringList

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
    "sphinx-mathjax-offline",  # MathJax 3 from the package, not from a CDN
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
html_static_path = ["_static"]
html_css_files = ["custom.css"]


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
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    # No pages of run times: they load their table's scripts from the network.
    "write_computation_times": False,
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


#: scikit-learn's page of a public name (a class, a function).
_SKLEARN_PAGE = "https://scikit-learn.org/stable/modules/generated/{}.html"
#: scikit-learn's page of a module.
_SKLEARN_MODULE_PAGE = "https://scikit-learn.org/stable/api/{}.html"


def _link_to_sklearn(app, env, node, contnode):
    """A cross-reference to ``sklearn.*`` links to scikit-learn's page of it."""
    target = "".join(node.get("reftarget", "").split())  # a wrapped reference
    if node.get("refdomain") != "py" or not target.startswith("sklearn."):
        return None
    parts = target.split(".")
    if _is_module(target):
        uri = _SKLEARN_MODULE_PAGE.format(target)
    elif len(parts) > 3 and parts[-2][:1].isupper():  # a method or attribute
        uri = _SKLEARN_PAGE.format(".".join(parts[:-1])) + f"#{target}"
    else:
        uri = _SKLEARN_PAGE.format(target)
    reference = nodes.reference("", "", internal=False, refuri=uri, reftitle=target)
    reference += contnode
    return reference


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a name inside a module, not a module
        return False


class LandingFigure(Figure):
    """The landing page's figure: the course's cost curve, as the gallery drew
    it during this build (without the cat images, the learning-rate sweep's).
    """

    #: The image with the cats and the one without, each with its caption.
    IMAGES = (
        (
            "auto_examples/images/sphx_glr_plot_course_cat_run_001.png",
            "The course's cat classifier, trained here: its cost at each of the "
            "2,000 plain gradient-descent steps (:doc:`the gallery's example "
            "</auto_examples/plot_course_cat_run>`, run as this site was built).",
        ),
        (
            "auto_examples/images/sphx_glr_plot_learning_rate_sweep_001.png",
            "The cost at each gradient-descent step on breast_cancer, for fixed "
            'learning rates and ``learning_rate="auto"`` (:doc:`the gallery\'s '
            "example </auto_examples/plot_learning_rate_sweep>`, run as this "
            "site was built).",
        ),
    )
    required_arguments = 0
    has_content = False

    def run(self):
        image, caption = self.IMAGES[0 if _cats else 1]
        self.arguments = [f"/{image}"]
        self.content = StringList([caption], source="conf.py")
        return super().run()


def setup(app):
    app.connect("autodoc-process-docstring", _sklearn_roles_as_text)
    app.connect("missing-reference", _link_to_sklearn)
    app.add_directive("landing-figure", LandingFigure)
