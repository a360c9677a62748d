"""Benchmarks: ingestion throughput/memory vs dlt and the machine's limits, parse time, re-run and
transform cost. `make bench` (or `python -m bench.run --help`); results in bench/RESULTS.md."""
