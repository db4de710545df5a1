"""README's Python blocks run on their own, as pasted, and print what they say.

Each block runs as a script in a fresh process (in a temporary folder holding
the files it reads). A top-level expression whose line ends in a comment that
is itself a Python expression (``x.shape  # (5, 1, 8)``) must have that repr,
and a ``print(...)`` line's comment must be what it prints; other comments are
prose. The ``text`` block of the command's session is checked the same way:
its ``train`` and ``compare`` runs must print the lines shown, but for times.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

#: Runs a block statement by statement, checking the claims of its comments.
RUNNER = textwrap.dedent(
    '''
    import ast, contextlib, io, sys, tokenize


    def claim(node, comments):
        """The expression a statement's last line claims, or None for prose."""
        comment = comments.get(node.end_lineno)
        if comment is None:
            return None
        if isinstance(node.value, ast.Call) and getattr(
            node.value.func, "id", None
        ) == "print":
            return comment
        try:
            ast.parse(comment, mode="eval")
        except SyntaxError:
            return None
        return comment


    def same(a, b):
        return " ".join(a.split()) == " ".join(b.split())


    def main(path):
        source = open(path).read()
        comments = {
            token.start[0]: token.string[1:].strip()
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.COMMENT
        }
        namespace = {"__name__": "__main__"}
        failures = []
        for node in ast.parse(source).body:
            expected = claim(node, comments) if isinstance(node, ast.Expr) else None
            if expected is None:
                exec(compile(ast.Module([node], []), path, "exec"), namespace)
                continue
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                value = eval(compile(ast.Expression(node.value), path, "eval"),
                             namespace)
            shown = printed.getvalue() if value is None else repr(value)
            sys.stdout.write(printed.getvalue())
            if not same(shown, expected):
                code = ast.get_source_segment(source, node)
                failures.append(f"{code}\\n  README says: {expected}\\n"
                                f"  it gives:    {' '.join(shown.split())}")
        if failures:
            sys.exit("\\n".join(failures))


    # Worker processes (Dask's) import this file again: run only once.
    if __name__ == "__main__":
        main(sys.argv[1])
    '''
)


def python_blocks():
    """README's ```python blocks, as (first line number, code)."""
    text = README.read_text()
    return [
        (text[: match.start()].count("\n") + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```", text, re.M | re.S)
    ]


def _block_params():
    params = []
    for line, code in python_blocks():
        marks = []
        if "LocalCluster" in code or "catvnoncat" in code:
            marks.append(pytest.mark.slow)  # a cluster; the course's 2,000 steps
        params.append(pytest.param(code, id=f"line{line}", marks=marks))
    return params


def _run(code, folder):
    (folder / "block.py").write_text(code)
    (folder / "runner.py").write_text(RUNNER)
    return subprocess.run(
        [sys.executable, "runner.py", "block.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _data_home():
    from conftest import SHARED_CATVNONCAT

    from sklearn_gdlogreg.datasets import DATA_HOME_ENV

    home = Path(os.environ.get(DATA_HOME_ENV) or SHARED_CATVNONCAT)
    if not (home / "train_catvnoncat.h5").is_file():
        pytest.skip(f"the course's cat data is absent (looked in {home})")
    return home


def _prepare(code, folder):
    """Make the files a block reads, in ``folder``; the code to run."""
    if '"big.h5"' in code:
        import h5py
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=2000, n_features=10, random_state=0)
        with h5py.File(folder / "big.h5", "w") as file:
            file["X"], file["y"] = X, y
    if "import torch" in code:
        pytest.importorskip("torch", reason="PyTorch is not installed")
    if "path/to/catvnoncat" in code:
        code = code.replace("path/to/catvnoncat", str(_data_home()))
    return code


@pytest.mark.parametrize("code", _block_params())
def test_python_block_runs_as_pasted_and_prints_what_it_says(code, tmp_path):
    result = _run(_prepare(code, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_checker_catches_a_wrong_claim_and_a_wrong_print(tmp_path):
    code = "x = 2\nx + 1  # 4\nprint(x)  # 3\nx  # an expression: 2 is prose here\n"
    result = _run(code, tmp_path)
    assert result.returncode != 0
    assert "README says: 4" in result.stderr and "README says: 3" in result.stderr
    assert "prose" not in result.stderr


def _session_commands():
    """The ``$ gdlogreg ...`` commands of README's text blocks and their output."""
    text = README.read_text()
    sessions = re.findall(r"^```text\n(.*?)^```", text, re.M | re.S)
    commands = []
    for session in sessions:
        for chunk in re.split(r"^\$ ", session, flags=re.M)[1:]:
            command, _, output = chunk.replace("\\\n", " ").partition("\n")
            commands.append((command.split(), output.splitlines()))
    return commands


#: Output lines that differ from run to run: times, and the shortened warning.
_VARYING = re.compile(r"fit time|\[\.\.\.\]")


@pytest.mark.parametrize(
    "command, output",
    [
        pytest.param(c, o, id=c[1], marks=[pytest.mark.slow] if "--tol" in c else [])
        for c, o in _session_commands()
        if c[1] in ("train", "compare")
    ],
)
def test_command_session_prints_what_readme_shows(command, output, tmp_path, capsys):
    from sklearn_gdlogreg.cli import main

    (tmp_path / "catvnoncat").symlink_to(_data_home())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(command[1:]) == 0
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr()
    # stdout and stderr (warnings) were interleaved on README's terminal.
    ran = _comparable((printed.out + printed.err).splitlines())
    shown = _comparable(output)
    if command[1] == "compare":
        # The last column is SciPy's L-BFGS-B, which changes between SciPy
        # releases (iterations 93 with SciPy 1.16, 87 with 1.10) and BLAS
        # builds: ours must match to the digit, lbfgs's to its optimum's
        # precision; its test log-loss moves more (1.1636 to 1.1697 seen), as
        # the unpenalised directions of the cats barely change J, and so one
        # of the 50 test images may change sides (0.72 with SciPy 1.17, 0.70
        # with 1.10).
        ran, lbfgs_ran = _last_column(ran)
        shown, lbfgs_shown = _last_column(shown)
        assert lbfgs_ran.keys() == lbfgs_shown.keys()
        tolerances = {"test log-loss": {"rel": 2e-2}, "test accuracy": {"abs": 0.021}}
        for row, value in lbfgs_shown.items():
            if row != "iterations":
                tolerance = tolerances.get(row, {"rel": 5e-3})
                assert lbfgs_ran[row] == pytest.approx(value, **tolerance), row
        # Ours: to the digit with README's NumPy; other releases round the
        # sums apart (NumPy 2.5 on Python 3.13: 159 iterations for 160, J
        # 0.062786 for 0.062784), within a thousandth and two iterations.
        ran, ours_ran = _last_column(ran)
        shown, ours_shown = _last_column(shown)
        assert ours_ran.keys() == ours_shown.keys()
        for row, value in ours_shown.items():
            tolerance = {"abs": 2} if row == "iterations" else {"rel": 1e-3}
            assert ours_ran[row] == pytest.approx(value, **tolerance), row
    assert ran == shown


def _comparable(lines):
    """Lines without those that vary, whitespace-normalised, sorted."""
    return sorted(
        " ".join(line.split())
        for line in lines
        if line.strip() and not _VARYING.search(line)
    )


def _last_column(lines):
    """Table rows without their last number, and those numbers by row."""
    rows, last = [], {}
    for line in lines:
        head, _, tail = line.rpartition(" ")
        try:
            last[head.rsplit(" ", 1)[0]] = float(tail)
        except ValueError:
            rows.append(line)
        else:
            rows.append(head)
    return rows, last


def test_readme_has_blocks_to_check():
    assert len(python_blocks()) >= 6
    assert {c[1] for c, _ in _session_commands()} >= {"train", "compare", "predict"}


def test_python_and_oldest_versions_claimed_are_what_ci_installs():
    import tomllib

    from packaging.version import Version

    root = README.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    python = project["project"]["requires-python"]
    assert python == ">=3.11"  # scikit-learn 1.9's floor
    assert project["tool"]["ruff"]["target-version"] == "py311"
    assert "with Python 3.11 or newer" in " ".join(README.read_text().split())
    floors = {
        name: version
        for name, version in (
            re.fullmatch(r"([\w-]+)>=([\d.]+)", requirement).groups()
            for requirement in project["project"]["dependencies"]
        )
    }
    ci = (root / ".ci/run").read_text()
    oldest = ci[ci.index("pip install --quiet '.[test]' \\") :].split("\n", 2)[1]
    pins = dict(re.findall(r"'([\w-]+)==([\d.]+)'", oldest))
    assert pins == {
        "numpy": "1.24.1",
        "scipy": "1.10.0",
        "scikit-learn": "1.9.0",
        "skops": "0.11.0",
    }
    for name, version in pins.items():  # each pin is the claimed floor
        assert Version(version) == Version(floors[name]), name
