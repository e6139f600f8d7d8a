"""Sphinx configuration: ``sphinx-build -W -b html docs docs/_build``."""

from __future__ import annotations

import importlib

project = "parsl_nb"
author = "parsl_nb developers"
copyright = "2026, parsl_nb developers"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# The notebooks are rendered from ../notebooks (a symlink), never executed or
# downloaded here: tests/notebooks executes them.
nb_execution_mode = "off"
myst_enable_extensions = ["colon_fence", "deflist"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}

exclude_patterns = ["_build", "jupyter_execute", "notebooks/runinfo", "notebooks/data", "notebooks/out",
                    "**/.ipynb_checkpoints", "notebooks/__pycache__"]

# The engine executor needs ipyparallel and may be missing from a docs build:
# its reference page then says so instead of failing the build.
try:
    importlib.import_module("parsl_nb.executors").EngineExecutor  # noqa: B018
    ENGINES = True
except (ImportError, AttributeError):
    ENGINES = False


def _engines_placeholder(app, docname, source):
    if docname == "reference/engines" and not ENGINES:
        source[0] = ("# Engine executor\n\n`parsl_nb.executors.EngineExecutor` (Parsl's name: "
                     "`parsl_nb.HighThroughputExecutor`) could not be imported when these pages were "
                     "built, so its reference is missing here.\n")


def setup(app):
    """Sphinx hook: swap in the engine placeholder when needed."""
    app.connect("source-read", _engines_placeholder)


autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autosummary_generate = False
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False


html_theme = "furo"
html_title = "parsl_nb"
