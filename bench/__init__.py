"""Benchmarks whose figures are reported in the README (``make bench``)."""
