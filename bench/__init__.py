"""Benchmarks: search/list latency at 10k and 1M numbers, and purchase contention.

Run `python -m bench.search` and `python -m bench.contention`; see bench/README.md.
"""
