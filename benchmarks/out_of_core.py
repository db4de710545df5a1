"""Fitting from an HDF5 file larger than the memory it is allowed.

A float64 data set of 10^7 rows × 50 features (4 GB) is written to an HDF5
file twice: stored whole (h5py's default, contiguous), and in chunks of
100,000 rows (as ``chunks=`` or compression store it). One process fits each
file streamed (``fit(h5py.Dataset)``): the contiguous one is read in place
(mapped), the chunked one copied chunk by chunk into buffers. Another process
loads the data and fits it in memory. Each process reports its peak resident
memory, its time per iteration and its coefficients.

The peak is the process's own high-water mark, ``VmHWM`` of
``/proc/self/status`` (Linux). ``resource.getrusage``'s ``ru_maxrss`` is not
used: for a process started by ``subprocess`` it carries over the parent's
high-water mark (measured here: a child of a parent that once held 3 GB reports
2.96 GB, its VmHWM 0.01 GB), which made an earlier run report 3.83 GB for the
streamed fit after the iteration-cost benchmark had run in the parent.
"""

import os
import tempfile

import h5py
import numpy as np

from ._common import Result, Table, child_report, fmt

N_FEATURES = 50
FULL_ROWS = 10_000_000
QUICK_ROWS = 100_000
ITERATIONS = (2, 8)  # two fits; their difference gives the time per iteration
#: Rows per chunk of the file stored in chunks (40 MB).
CHUNK_ROWS = 100_000

_CHILD = r"""
import json, resource, sys, time
import h5py, numpy as np
from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._rows.mapping import mapped_dataset
path, mode, out = sys.argv[1:4]
k0, k1 = {k0}, {k1}
with h5py.File(path, "r") as file:
    y = file["y"][()]
    X = file["X"][()] if mode == "memory" else file["X"]
    mapped = mode != "memory" and mapped_dataset(X, X.dtype) is not None
    # A first fit imports and loads the kernel, whose cost is not an iteration's.
    GradientDescentLogisticRegression(max_iter=1).fit(X, y)
    times = {{}}
    for k in (k0, k1):
        model = GradientDescentLogisticRegression(max_iter=k, tol=0)
        start = time.perf_counter()
        model.fit(X, y)
        times[k] = time.perf_counter() - start
np.save(out, np.concatenate([model.coef_.ravel(), model.intercept_]))
def peak_rss_bytes():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{
    "peak_rss_bytes": peak_rss_bytes(),
    "seconds_per_iteration": (times[k1] - times[k0]) / (k1 - k0),
    "fit_seconds": times[k1],
    "learning_rate": model.learning_rate_,
    "mapped": mapped,
}}))
"""


def _write(path, n_rows, chunks=None):
    """The data set, the same for every ``chunks`` (h5py's ``create_dataset``)."""
    rng = np.random.RandomState(0)
    true_coef = rng.standard_normal(N_FEATURES)
    with h5py.File(path, "w") as file:
        X = file.create_dataset(
            "X", (n_rows, N_FEATURES), dtype=np.float64, chunks=chunks
        )
        y = file.create_dataset("y", (n_rows,), dtype=np.int8)
        step = 500_000
        for start in range(0, n_rows, step):
            block = rng.standard_normal((min(step, n_rows - start), N_FEATURES))
            X[start : start + len(block)] = block
            noise = rng.logistic(size=len(block))
            y[start : start + len(block)] = block @ true_coef + noise > 0


def _child(path, mode, folder):
    out = os.path.join(folder, f"{mode}.npy")
    code = _CHILD.format(k0=ITERATIONS[0], k1=ITERATIONS[1])
    report = child_report(code, path, mode, out)
    report["params"] = np.load(out)
    return report


def run(config):
    result = Result(
        name="out_of_core",
        title="Fitting a 4 GB HDF5 file streamed, against loading it",
    )
    n_rows = QUICK_ROWS if config.quick else FULL_ROWS
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        path, chunked = (os.path.join(folder, name) for name in ("big.h5", "c.h5"))
        _write(path, n_rows)
        _write(chunked, n_rows, chunks=(min(n_rows, CHUNK_ROWS), N_FEATURES))
        os.sync()  # no writing back of the files during the fits
        file_bytes = os.path.getsize(path)
        reports = {mode: _child(path, mode, folder) for mode in ("streamed", "memory")}
        reports["buffered"] = _child(chunked, "buffered", folder)
    streamed, memory = reports["streamed"], reports["memory"]
    gap = float(
        np.max(np.abs(streamed["params"] - memory["params"]))
        / np.max(np.abs(memory["params"]))
    )
    result.raw = {
        "rows": n_rows,
        "features": N_FEATURES,
        "file_bytes": file_bytes,
        "iterations": ITERATIONS[1],
        "coef_max_relative_difference": gap,
        **{
            mode: {k: v for k, v in report.items() if k != "params"}
            for mode, report in reports.items()
        },
    }
    result.tables.append(
        Table(
            title=f"{n_rows:,} rows × {N_FEATURES} float64 features, "
            f"file of {file_bytes / 1e9:.2f} GB, {ITERATIONS[1]} iterations",
            columns=["fit", "peak resident memory (GB)", "seconds per iteration"],
            rows=[
                [
                    name,
                    fmt(report["peak_rss_bytes"] / 1e9, 3),
                    fmt(report["seconds_per_iteration"], 3)
                    if report["seconds_per_iteration"] > 0
                    else "below resolution",
                ]
                for name, report in (
                    (_name("streamed", streamed), streamed),
                    (_name("buffered", reports["buffered"]), reports["buffered"]),
                    ("loaded into memory", memory),
                )
            ],  # fmt: skip
            note="Each fit runs in its own process; peak memory is that process's "
            "VmHWM (its own high-water mark; ru_maxrss would include the "
            "parent's). Streaming reads the file (from the page cache here) in "
            "64 MB chunks each iteration: a file stored whole as a mapping of each "
            "chunk, released after use; a chunked one copied into two buffers, the "
            "next read in a thread. The files are written to disk (os.sync) before "
            "the fits: writing back 8 GB would take the cores from them.",
        )
    )
    per_iteration = memory["seconds_per_iteration"]
    result.headline += [
        f"File of {file_bytes / 1e9:.2f} GB fitted streamed with a peak resident "
        f"memory of {streamed['peak_rss_bytes'] / 1e9:.2f} GB (goal < 1 GB); "
        f"loaded into memory, {memory['peak_rss_bytes'] / 1e9:.2f} GB.",
        f"Coefficients streamed vs in memory: largest relative difference {gap:.1e} "
        "(goal ≤ 1e-10).",
        "Seconds per iteration streamed / in memory: "
        + "; ".join(
            f"{_ratio(reports[mode]['seconds_per_iteration'], per_iteration)} "
            + _name(mode, reports[mode])
            for mode in ("streamed", "buffered")
        )
        + " (goal ≤ 1.5).",
    ]
    return result


def _name(mode, report):
    """How the child read the file: stored whole or in chunks, and whether it
    was mapped (read in place) or copied into buffers."""
    stored = "whole" if mode == "streamed" else "in chunks"
    read = "read in place" if report["mapped"] else "copied into buffers"
    return f"streamed, stored {stored} ({read})"


def _ratio(seconds, reference):
    """``seconds / reference``, or what it is where a time is not positive (the
    difference of two fits below the clock's resolution, as in quick mode)."""
    if seconds <= 0 or reference <= 0:
        return "below resolution"
    return f"{seconds / reference:.2f}"
