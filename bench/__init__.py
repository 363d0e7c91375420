"""Benchmarks, run by hand: `python -m bench.NAME --help`. Never timed inside unit tests."""
