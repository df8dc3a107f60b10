"""Benchmarks and soak tests of the songid service and training loop (``python -m bench.perf``)."""
