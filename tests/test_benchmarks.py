"""The benchmarks' quick mode, as a smoke test so that they cannot rot.

Nothing here asserts a time: the benchmarks measure, the tests only check that
they run and write complete, well-formed results.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Each benchmark runs in quick mode: minutes in all (``pytest -m slow``; CI
# runs them). One xdist worker takes every test here, so that the quick run
# (a module fixture) is made once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("benchmarks")]

REPO = Path(__file__).resolve().parents[1]
NAMES = [
    "compare_sklearn",
    "iteration_cost",
    "learning_rate_search",
    "standardization",
    "solvers",
    "preconditioning",
    "speed_to_answer",
    "cv_search",
    "minibatch",
    "first_fit",
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("benchmarks")
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--results", str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return results, run


def test_every_benchmark_writes_json_with_machine_and_command(quick_run):
    results, _ = quick_run
    for name in NAMES:
        record = json.loads((results / f"{name}.json").read_text())
        assert record["name"] == name and record["quick"] is True
        assert record["command"].startswith("python -m benchmarks --quick")
        assert record["machine"]["cores"] >= 1 and record["machine"]["blas"]
        assert record["headline"] and record["tables"]
        for table in record["tables"]:
            assert all(len(row) == len(table["columns"]) for row in table["rows"])


def test_results_markdown_has_the_headlines_first_and_no_unmeasured_ratio(quick_run):
    results, _ = quick_run
    text = (results / "RESULTS.md").read_text()
    headlines = text.index("## Headline figures")
    assert all(headlines < text.index(f"## {title}") for title in _titles(results))
    # A difference of two timings below the noise is "below resolution" (or
    # "–" in a table), never a negative or infinite ratio.
    assert not re.search(r"-\d+(\.\d+)?×|inf×|nan×", text)


def _titles(results):
    return [
        json.loads((results / f"{name}.json").read_text())["title"] for name in NAMES
    ]


def test_results_markdown_links_plots_that_exist(quick_run):
    results, _ = quick_run
    text = (results / "RESULTS.md").read_text()
    for name in NAMES:
        title = json.loads((results / f"{name}.json").read_text())["title"]
        assert f"## {title}" in text
    links = [
        line.split("](")[1].rstrip(")")
        for line in text.splitlines()
        if line.startswith("![")
    ]
    assert len(links) >= 3
    for link in links:
        assert (results / link).is_file(), link


def test_comparison_numbers_are_consistent(quick_run):
    results, _ = quick_run
    record = json.loads((results / "compare_sklearn.json").read_text())
    for data, entry in record["raw"].items():
        if data == "synthetic_fit_seconds":
            continue
        lbfgs = entry["methods"]["lbfgs"]
        assert lbfgs["time_ratio_to_lbfgs"] == 1.0
        for method in entry["methods"].values():
            assert 0 <= method["test_accuracy"] <= 1
            if method["objective_gap"] is not None:
                # J* is lbfgs at tol 1e-10: nothing may beat it by more than rounding.
                assert method["objective_gap"] > -1e-8


def test_script_entry_point_shows_help():
    run = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "--quick" in run.stdout
