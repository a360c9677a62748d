# The dbt warehouse (dbt/) and its Cosmos DAG — included by the Makefile.
.PHONY: dbt-sources dbt-manifest dbt-check dbt-build dbt-load-samples dbt-test

DBT_ARGS ?= build

dbt-sources: venv ## regenerate dbt/models/staging/_sources.yml from include/config/endpoints.yaml
	$(PY) -m game_market_pipeline.transform.sources

dbt-manifest: dbt-sources ## recompile dbt/target/manifest.json (commit it: the transform DAG renders from it)
	$(PY) -m game_market_pipeline.transform.manifest

dbt-check: venv ## fail when the sources yml or the committed manifest is out of date
	$(PY) -m game_market_pipeline.transform.sources --check
	$(PY) -m game_market_pipeline.transform.manifest --check

dbt-build: venv ## dbt build against GMP_PG_URL, else the local stack's Postgres (DBT_ARGS="run -s fact_games")
	$(PY) -m gmp_dev.run_dbt $(DBT_ARGS)

dbt-load-samples: venv ## dev only: load the recorded API payloads into raw.* of GMP_PG_URL / the local stack
	$(PY) -m tests.dbt.raw_fixture "$$($(PY) -m gmp_dev.run_dbt --print-url)"

dbt-test: venv ## the warehouse tests: dbt build on the recorded payloads, known answers, incremental, DAG
	$(PY) -m pytest -q tests/dbt tests/dags/test_transform_dag.py $(PYTEST_ARGS)
