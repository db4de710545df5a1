"""What every benchmark shares: timing, the machine, data sets, result records."""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning

from sklearn_gdlogreg.datasets import load_catvnoncat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_CATVNONCAT = os.path.join(REPO, "..", "shared", "datasets", "catvnoncat")


@dataclass
class Config:
    """How a run is set up: quick (smoke test) or full, and where data lives."""

    quick: bool = False
    data_home: str | None = None
    results: str = os.path.join(REPO, "benchmarks", "results")

    @property
    def repeats(self):
        """Timed runs per measurement: at least 5 in a full run."""
        return 1 if self.quick else 5


@dataclass
class Table:
    """A table for RESULTS.md, kept as data in the JSON too."""

    title: str
    columns: list
    rows: list = field(default_factory=list)
    note: str = ""


@dataclass
class Result:
    """One benchmark's findings: headline lines, tables, plots and raw numbers."""

    name: str
    title: str
    headline: list = field(default_factory=list)
    tables: list = field(default_factory=list)
    plots: list = field(default_factory=list)
    raw: dict = field(default_factory=dict)


@dataclass
class Timing:
    """Seconds over repeated runs: median, min and max."""

    runs: list

    @property
    def median(self):
        return statistics.median(self.runs)

    def as_dict(self):
        return {"median": self.median, "min": min(self.runs), "max": max(self.runs)}

    def __str__(self):
        if len(self.runs) == 1:
            return f"{self.runs[0]:.3g}"
        return f"{self.median:.3g} ({min(self.runs):.3g}–{max(self.runs):.3g})"


def run_child(code, *args, path=REPO):
    """Run ``python -c code *args`` in a new process importing from ``path``.

    Parameters
    ----------
    code : str
    *args
        Its command-line arguments (as ``str``).
    path : str, default=REPO
        Its ``PYTHONPATH``.

    Returns
    -------
    str
        What it printed.

    Raises
    ------
    RuntimeError
        When it fails, with the end of its stderr.
    """
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    if done.returncode:
        raise RuntimeError(
            f"a benchmark's child process failed:\n{done.stderr[-3000:]}"
        )
    return done.stdout


def child_report(code, *args):
    """:func:`run_child`'s last printed line, a JSON report, as a dict."""
    return json.loads(run_child(code, *args).strip().splitlines()[-1])


def timed(function, repeats):
    """Run ``function()`` ``repeats`` times; its last result and the Timing."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - start)
    return result, Timing(runs)


def timed_fairly(function, repeats):
    """As :func:`timed`, for scikit-learn's solvers: the better of two thread setups.

    On two cores, scikit-learn's OpenMP-parallel loss and OpenBLAS's threads can
    oversubscribe the machine: LogisticRegression on 1,797 digits takes 0.8 s
    with the defaults and 0.05 s with one BLAS thread. The baseline is timed both
    ways and keeps its faster median, so that it is not slowed by this; this
    package's estimators (no OpenMP) are timed with the defaults only, which can
    only make the ratios less favourable to them.
    """
    result, default = timed(function, repeats)
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        _, single = timed(function, repeats)
    return result, min(default, single, key=lambda timing: timing.median)


@contextmanager
def limit_threads(limit):
    """BLAS, OpenMP and the fused kernel on ``limit`` threads (None: their
    defaults)."""
    from sklearn_gdlogreg._kernels import limit_threads as kernel_threads

    with threadpoolctl.threadpool_limits(limit), kernel_threads(limit):
        yield


@contextmanager
def quiet_convergence():
    """Unmet tolerances are reported in the tables, not as warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def machine():
    """The machine and software the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in file
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    versions = {
        name: metadata.version(name)
        for name in ("numpy", "scipy", "scikit-learn", "sklearn-gdlogreg", "h5py")
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
        ),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "blas": [
            {key: info.get(key) for key in ("internal_api", "version", "num_threads",
                                             "architecture", "threading_layer")}
            for info in threadpoolctl.threadpool_info()
        ],
        "openblas_env": {
            key: os.environ.get(key)
            for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
        },
        "versions": versions,
    }  # fmt: skip


def cat_data(config):
    """The course's cat images, or None when the files are absent."""
    for home in (config.data_home, os.environ.get("SKLEARN_GDLOGREG_DATA"),
                 SHARED_CATVNONCAT):  # fmt: skip
        if home:
            try:
                return load_catvnoncat(home)
            except FileNotFoundError:
                continue
    return None


def standardized(loader):
    """A scikit-learn data set's ``(X, y)``, X standardized."""
    from sklearn.preprocessing import StandardScaler

    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def flat_pixels(images, max_value=255.0):
    """Images as rows scaled to [0, 1], via the package's transformers."""
    from sklearn.pipeline import make_pipeline

    from sklearn_gdlogreg import ImageFlattener, PixelScaler

    return make_pipeline(ImageFlattener(), PixelScaler(max_value)).fit_transform(images)


def fmt(value, digits=4):
    """A number for a table cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, int | np.integer):
        return str(value)
    return f"{value:.{digits}g}"
