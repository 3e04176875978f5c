"""Verified reproducibility: re-execute a run's code in a fresh kernel and compare."""
