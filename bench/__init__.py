"""Benchmarks of the core, run with `make bench` (`python -m bench`); results in docs/benchmarks.md.

Performance is measured here rather than in timed tests, so the test suite stays fast and
deterministic and the figures come with the machine they were taken on.
"""
