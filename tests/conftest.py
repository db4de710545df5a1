"""Shared fixtures: the course's cat data, from ../shared/datasets or the env var."""

import os

# SciPy's array-API support is read when SciPy is first imported; scikit-learn
# needs it for array_api_dispatch (tests/test_namespace.py, the estimator checks).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import pytest

from sklearn_gdlogreg.datasets import DATA_HOME_ENV, load_catvnoncat

SHARED_CATVNONCAT = Path(__file__).resolve().parents[2] / "shared/datasets/catvnoncat"


@pytest.fixture(scope="session")
def catvnoncat():
    """The course's cat data, or a skip saying where it was looked for."""
    data_home = os.environ.get(DATA_HOME_ENV) or SHARED_CATVNONCAT
    try:
        return load_catvnoncat(data_home)
    except FileNotFoundError as error:
        pytest.skip(f"the course's cat data is absent: {error}")


@pytest.fixture
def fused_at_once(monkeypatch):
    """Fits with ``kernel="auto"`` use the fused kernel from their first
    evaluation, where they leave a descent's first GB to NumPy's passes."""
    from sklearn_gdlogreg._rows.fused import DeferredFusedRows

    monkeypatch.setattr(DeferredFusedRows, "numpy_bytes", 0)


def pytest_collection_modifyitems(config, items):
    """Skip the array-API tests where SciPy cannot dispatch the array API."""
    import scipy

    version = tuple(int(part) for part in scipy.__version__.split(".")[:2])
    if version >= (1, 14):
        return
    skip = pytest.mark.skip(
        reason=f"SciPy {scipy.__version__} < 1.14: scikit-learn's array_api_dispatch "
        "needs SciPy 1.14 or newer"
    )
    for item in items:
        namespace_tests = ("test_namespace.py", "test_rows_namespace.py")
        if "array_api" in item.name or item.path.name in namespace_tests:
            item.add_marker(skip)


@pytest.fixture
def first_call(monkeypatch):
    """A process where no kernel variant is ready yet (test_kernels,
    test_kernels_epoch): compiles recorded, not run."""
    from sklearn_gdlogreg import _kernels

    compiled = []
    monkeypatch.setattr(_kernels, "_ready", set())
    monkeypatch.setattr(
        _kernels, "_compile", lambda function, args: compiled.append(function)
    )
    return compiled
