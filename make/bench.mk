# Benchmarks (bench/) — included by the Makefile. dlt runs in its own virtualenv (.venv-bench):
# installing it into .venv would upgrade packages Airflow's pins rely on (setuptools, ...).
.PHONY: bench bench-venv bench-smoke bench-report

SIZE ?= 1000000
REPS ?= 3
BENCH_ARGS ?=
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-dlt-1.31.0

$(BENCH_STAMP):
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet "dlt[postgres]==1.31.0" psutil py-spy
	@touch $@

bench-venv: $(BENCH_STAMP) ## the dlt virtualenv the benchmark compares against (.venv-bench, not a runtime dependency)

bench: venv bench-venv ## ingestion vs dlt and the limits, latency, re-run, parse, dbt (SIZE=1000000 REPS=3 BENCH_ARGS=...)
	$(PY) -m bench.run --size $(SIZE) --reps $(REPS) $(BENCH_ARGS)

bench-smoke: venv bench-venv ## the benchmark harness at a tiny size (what tests/bench runs)
	$(PY) -m pytest -q tests/bench $(PYTEST_ARGS)

bench-report: venv ## re-render bench/RESULTS.md from bench/results.json
	$(PY) -m bench.report
