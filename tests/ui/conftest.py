"""Fixtures of the UI tests: the ingestion harness (real replay server, moto S3, Postgres) is shared."""

from tests.integration.conftest import harness  # noqa: F401 - re-exported fixture
