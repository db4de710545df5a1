"""The kernels' disk cache (``_kernels._cached``): stale-proof, and never a crash."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from sklearn_gdlogreg import _kernels

PACKAGE = Path(_kernels.__file__).parent

FIT = """
import numpy as np
from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._rows import fused
fused.DeferredFusedRows.numpy_bytes = 0  # the kernel from the first evaluation
rng = np.random.default_rng(0)
X = rng.standard_normal((20_000, 10))  # 1.6 MB: the fused kernel
model = GradientDescentLogisticRegression(solver="gd", learning_rate=1.0,
                                          max_iter=3, tol=0)
print(model.fit(X, X[:, 0] > 0).loss_curve_[-1])
"""


class _Codegen:
    def magic_tuple(self):
        return ("target", "cpu", "features")


def test_the_cache_key_changes_with_vecmath_s_source(monkeypatch):
    # numba alone keys on the kernel's bytecode and checks _kernels.py only.
    cache = _kernels._block_sums._cache
    assert isinstance(cache, _kernels._KernelCache)
    key = cache._index_key((), _Codegen())
    monkeypatch.setattr(_kernels._KernelCache, "_VECMATH", "another source")
    assert cache._index_key((), _Codegen()) != key
    assert key[:-1] == cache._index_key((), _Codegen())[:-1]


def _run(code, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        cwd=cwd, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
def test_an_edit_to_vecmath_is_compiled_not_read_from_the_cache(tmp_path):
    copy = tmp_path / "sklearn_gdlogreg"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("NUMBA_CACHE_DIR", None)
    first = _run(FIT, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert list((copy / "__pycache__").glob("_kernels*.nbi"))  # cached
    # exp(x) becomes 2 exp(x): the losses change if the edit is compiled.
    vecmath = copy / "_vecmath.py"
    source = vecmath.read_text()
    edited = source.replace("def exp_nonpositive(x):\n",
                            "def exp_nonpositive(x):\n    return 2 * _exp(x)\n\n\n"
                            "@_compiled\ndef _exp(x):\n", 1)  # fmt: skip
    assert edited != source
    vecmath.write_text(edited)
    second = _run(FIT, env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert float(second.stdout) != pytest.approx(float(first.stdout), rel=1e-6)


def _unshare_works():
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return (
        subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not _unshare_works(),
    reason="needs root and unshare -m "
    "(a private mount namespace) to make the install read-only",
)
def test_a_read_only_install_and_home_fit_with_the_kernel(tmp_path):
    # Read-only bind mounts of the package and of HOME, seen by this child only.
    home = tmp_path / "home"
    home.mkdir()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    script = textwrap.dedent(f"""
        set -e
        for folder in {PACKAGE} {home}; do
            mount --bind "$folder" "$folder"
            mount -o remount,bind,ro "$folder"
        done
        touch {PACKAGE}/__pycache__/probe 2>/dev/null && exit 3
        exec "{sys.executable}" -c '{FIT}'
    """)
    env = {key: value for key, value in os.environ.items()
           if key not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}  # fmt: skip
    env.update(HOME=str(home), TMPDIR=str(temporary))
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 0
    # Compiled into the system's temporary folder, for the next process too.
    assert list((temporary / "sklearn_gdlogreg").rglob("*.nbi"))
    assert tempfile.gettempdir() != str(temporary)
