"""The user guide's pages whose Python blocks make one script run as written.

The blocks of such a page run in order, as one script in a fresh process,
checked as README's are (``test_readme.RUNNER``): an expression whose line
ends in a comment that is a Python expression must have that repr. A
ConvergenceWarning or a RuntimeWarning fails the run, as in the tests.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_readme import RUNNER

USER_GUIDE = Path(__file__).resolve().parents[1] / "docs/user_guide"
#: The pages whose blocks run on their own (others show fragments).
RUNNABLE_PAGES = ["minibatch.rst"]

#: Warnings that fail a page's script, before its first block.
STRICT = (
    "import warnings\n"
    "from sklearn.exceptions import ConvergenceWarning\n"
    "warnings.simplefilter('error', ConvergenceWarning)\n"
    "warnings.simplefilter('error', RuntimeWarning)\n"
)


def python_blocks(text):
    """The bodies of a page's ``.. code-block:: python`` directives, dedented."""
    blocks = []
    for match in re.finditer(r"^( *)\.\. code-block:: python\n", text, re.M):
        indent = len(match.group(1))
        lines = []
        for line in text[match.end() :].splitlines():
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            lines.append(line)
        blocks.append(textwrap.dedent("\n".join(lines)).strip("\n") + "\n")
    return blocks


def test_the_block_reader_reads_bodies_up_to_the_next_paragraph():
    page = (
        "Text\n\n.. code-block:: python\n\n   x = 1\n\n   y = x  # 1\n"
        "After.\n\n   .. code-block:: python\n\n      z = 2\n"
    )
    assert python_blocks(page) == ["x = 1\n\ny = x  # 1\n", "z = 2\n"]


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_page_blocks_run_in_order_and_show_what_they_say(page, tmp_path):
    blocks = python_blocks((USER_GUIDE / page).read_text())
    assert len(blocks) >= 3
    (tmp_path / "page.py").write_text(STRICT + "\n".join(blocks))
    (tmp_path / "runner.py").write_text(RUNNER)
    result = subprocess.run(
        [sys.executable, "runner.py", "page.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
