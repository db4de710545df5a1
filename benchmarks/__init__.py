"""Benchmarks of sklearn-gdlogreg: run with ``python -m benchmarks`` (``--quick``)."""
