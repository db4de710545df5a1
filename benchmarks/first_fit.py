"""The first fit's whole process, in a fresh install, against LogisticRegression.

A new user's first script: import, standardize 40,000 × 30 (about 10 MB, so
that the compiled kernel is used), fit with the defaults, predict. Each run is
a new Python process, timed from start to exit:

- "fresh install": the package copied to a new folder without
  ``__pycache__``, so that the kernel is compiled in that process (as on the
  first fit after ``pip install``);
- "second process": the same copy again, its compiled kernel now cached;
- ``LogisticRegression()`` in the same script.

Medians over ``repeats`` runs, the three kinds interleaved.
"""

import os
import shutil
import statistics
import tempfile
import time

from ._common import REPO, Result, Table, fmt, run_child

ROWS = 40_000
QUICK_ROWS = 4_000
_SCRIPT = """
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
{import_line}
rng = np.random.RandomState(0)
X = rng.standard_normal(({rows}, 30)) * rng.uniform(0.1, 10, 30)
y = (X[:, 0] + rng.logistic(size={rows}) > 0).astype(int)
model = make_pipeline(StandardScaler(), {estimator}).fit(X, y)
assert model.score(X, y) > 0.6
"""
_OURS = (
    "from sklearn_gdlogreg import GradientDescentLogisticRegression",
    "GradientDescentLogisticRegression()",
)
_LBFGS = ("from sklearn.linear_model import LogisticRegression", "LogisticRegression()")


def _process_seconds(code, path):
    start = time.perf_counter()
    run_child(code, path=path)
    return time.perf_counter() - start


def _fresh_copy(folder):
    """The package copied into ``folder`` without compiled caches."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(
        os.path.join(REPO, "sklearn_gdlogreg"),
        os.path.join(folder, "sklearn_gdlogreg"),
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return folder


def run(config):
    result = Result(
        name="first_fit",
        title="The first fit's whole process in a fresh install",
    )
    rows = QUICK_ROWS if config.quick else ROWS
    ours = _SCRIPT.format(rows=rows, import_line=_OURS[0], estimator=_OURS[1])
    lbfgs = _SCRIPT.format(rows=rows, import_line=_LBFGS[0], estimator=_LBFGS[1])
    seconds = {"fresh install": [], "second process": [], "LogisticRegression()": []}
    with tempfile.TemporaryDirectory() as base:
        folder = os.path.join(base, "site")
        for _ in range(config.repeats):
            _fresh_copy(folder)
            seconds["fresh install"].append(_process_seconds(ours, folder))
            seconds["second process"].append(_process_seconds(ours, folder))
            seconds["LogisticRegression()"].append(_process_seconds(lbfgs, folder))
    medians = {kind: statistics.median(runs) for kind, runs in seconds.items()}
    lbfgs_seconds = medians["LogisticRegression()"]
    result.raw = {"rows": rows, "seconds": seconds}
    result.tables.append(
        Table(
            title=f"A new process that standardizes {rows:,} × 30 and fits it "
            "with the defaults: seconds from start to exit",
            columns=["process", "seconds (median)", "/ LogisticRegression()'s"],
            rows=[
                [kind, fmt(value, 3), fmt(value / lbfgs_seconds, 3)]
                for kind, value in medians.items()
            ],
            note="Fresh install: the package copied without __pycache__, so the "
            "kernel compiles in that process; second process: the same copy, "
            "the kernel cached. Default threads.",
        )
    )
    result.headline.append(
        f"The first fit's whole process in a fresh install takes "
        f"{medians['fresh install'] / lbfgs_seconds:.2f}× LogisticRegression()'s "
        f"(goal ≤ 2; {medians['fresh install']:.2f} s against "
        f"{lbfgs_seconds:.2f} s); a later process "
        f"{medians['second process'] / lbfgs_seconds:.2f}×."
    )
    return result
