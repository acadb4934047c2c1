"""Reproducible benchmarks: each prints what it measured, the ratio and whether it meets its bar."""
