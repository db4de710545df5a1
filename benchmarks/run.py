"""Run the benchmarks; write results/*.json, the plots and RESULTS.md.

Usage: ``python -m benchmarks [--quick] [--only NAME ...] [--data-home DIR]``
(or ``python benchmarks/run.py``). A full run takes tens of minutes on two cores;
``--quick`` runs everything on small data in well under a minute, writing to
``benchmarks/results/quick/`` unless ``--results`` says otherwise.
"""

import argparse
import dataclasses
import datetime
import json
import os
import sys
import time

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import (  # noqa: E402
    compare_sklearn,
    course_run,
    cv_search,
    dask_cluster,
    first_fit,
    iteration_cost,
    learning_rate_search,
    minibatch,
    out_of_core,
    preconditioning,
    solvers,
    speed_to_answer,
    standardization,
)
from benchmarks._common import REPO, Config, machine  # noqa: E402

BENCHMARKS = {
    "compare_sklearn": compare_sklearn,
    "iteration_cost": iteration_cost,
    "learning_rate_search": learning_rate_search,
    "cv_search": cv_search,
    "standardization": standardization,
    "solvers": solvers,
    "preconditioning": preconditioning,
    "speed_to_answer": speed_to_answer,
    "course_run": course_run,
    "out_of_core": out_of_core,
    "dask_cluster": dask_cluster,
    "minibatch": minibatch,
    "first_fit": first_fit,
}


def main(argv=None):
    """Run the chosen benchmarks and write their results.

    Parameters
    ----------
    argv : list of str, default=None

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, one repeat")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None)
    parser.add_argument("--data-home", help="folder of the course's cat HDF5 files")
    parser.add_argument("--results", help="output folder (default benchmarks/results)")
    args = parser.parse_args(argv)
    default = os.path.join(REPO, "benchmarks", "results")
    config = Config(
        quick=args.quick,
        data_home=args.data_home,
        results=args.results
        or (os.path.join(default, "quick") if args.quick else default),
    )
    os.makedirs(config.results, exist_ok=True)
    command = "python -m benchmarks " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    context = {
        "command": command.strip(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": config.quick,
        "machine": machine(),
    }
    for name in args.only or BENCHMARKS:
        start = time.perf_counter()
        print(f"== {name}", flush=True)
        result = BENCHMARKS[name].run(config)
        seconds = time.perf_counter() - start
        for line in result.headline:
            print(f"   {line}", flush=True)
        record = {**context, "seconds": seconds, **dataclasses.asdict(result)}
        with open(os.path.join(config.results, f"{name}.json"), "w") as file:
            json.dump(record, file, indent=1, default=_json_default)
    # RESULTS.md from every benchmark's latest JSON in the folder, so that a run
    # with --only refreshes its sections and keeps the others.
    records = []
    for name in BENCHMARKS:
        path = os.path.join(config.results, f"{name}.json")
        if os.path.exists(path):
            with open(path) as file:
                records.append(json.load(file))
    report = os.path.join(config.results if config.quick else os.path.dirname(default),
                          "RESULTS.md")  # fmt: skip
    with open(report, "w") as file:
        file.write(render(records, plots_from=os.path.dirname(report),
                          results_dir=config.results))  # fmt: skip
    print(f"wrote {report}")
    return 0


def render(results, *, plots_from, results_dir):
    """RESULTS.md from the benchmarks' records (each holds its machine and command)."""
    context = results[0]
    info = context["machine"]
    blas = ", ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']}, "
        f"{b['num_threads']} threads)"
        for b in info["blas"]
    )
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    commands = sorted({f"`{r['command']}` ({r['date']})" for r in results})
    lines = [
        "# Benchmark results",
        "",
        "Made by "
        + "; ".join(commands)
        + (" (quick mode: small data, one repeat)" if context["quick"] else "")
        + f", {sum(r['seconds'] for r in results) / 60:.0f} minutes of measuring"
        + (" in one run." if len(commands) == 1 else f" over {len(commands)} runs."),
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; "
        f"BLAS: {blas}; Python {info['python']}; {versions}.",
        "",
        "Ratios measured within one run are the headline; absolute times are this "
        "machine's only. Raw numbers: `benchmarks/results/*.json`.",
        "",
        "## Headline figures",
        "",
    ]
    # Every benchmark's headline first, then the details.
    for result in results:
        lines += [f"**{result['title']}** ({result['seconds']:.0f} s)", ""]
        lines += [f"- {line}" for line in result["headline"]] + [""]
    relative = os.path.relpath(results_dir, plots_from)
    for result in results:
        lines += [f"## {result['title']}", ""]
        for table in result["tables"]:
            lines += [f"### {table['title']}", ""]
            lines.append("| " + " | ".join(table["columns"]) + " |")
            lines.append("|" + "---|" * len(table["columns"]))
            for row in table["rows"]:
                lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
            if table["note"]:
                lines += ["", table["note"]]
            lines.append("")
        for plot in result["plots"]:
            lines += [f"![{plot['title']}]({relative}/{plot['file']})", ""]
        lines += [f"_{result['name']}: {result['seconds']:.0f} s._", ""]
    return "\n".join(lines)


def _json_default(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


if __name__ == "__main__":
    sys.exit(main())
