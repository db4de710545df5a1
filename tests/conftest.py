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
