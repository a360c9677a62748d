"""The landing contract (ingest/landing_contract.py) reads what earlier versions of the package
wrote to S3: manifests and checkpoints as the first extract wrote them (8f52686: no count check
fields) and as the last untyped one did (9c48c31), list walks and details walks alike."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError

from game_market_pipeline.ingest.landing_contract import Checkpoint, Manifest, ResumePoint

PART = {
    "part": 1,
    "key": "bronze/source=rawg/endpoint=games/ingest_date=2026-11-20/part-00001.parquet",
    "quarantine_key": None,
    "records": 40,
    "valid": 39,
    "invalid": 1,
    "file_sha256": "ab" * 32,
    "records_sha256": "cd" * 32,
}

# The manifest of a list walk as the first extract (8f52686) wrote it: no count check fields.
MANIFEST_8F52686 = {
    "schema_version": 1,
    "complete": True,
    "source": "rawg",
    "endpoint": "games",
    "ingest_date": "2026-11-20",
    "run_id": "scheduled__2026-11-20",
    "record_model": "rawg.Game",
    "primary_key": "id",
    "filters": {},
    "pages": 1,
    "records": 40,
    "valid": 39,
    "invalid": 1,
    "error_counts": {"name: Field required": 1},
    "drift_fields": {},
    "api_calls": 1,
    "resumed": False,
    "parts": [PART],
    "completed_at": "2026-11-20T03:00:01.000000+00:00",
    "extract_seconds": 0.5,
}
# ... and as the last untyped one (9c48c31) wrote it: with the API's count compared.
MANIFEST_9C48C31 = {
    **MANIFEST_8F52686,
    "expected_records": 40,
    "count_check": "ok",
    "count_tolerance": 0.01,
    "count_exact": False,
    "count_message": None,
}
DETAILS_9C48C31 = {
    **MANIFEST_8F52686,
    "endpoint": "game_details",
    "record_model": "rawg.GameDetail",
    "details": {
        "status": "budget_exhausted",
        "list_endpoint": "games",
        "backlog_before": 10,
        "planned": 5,
        "fetched": {"1": "h1"},
        "not_found": {"2": "h2"},
        "backlog_after": 8,
    },
}
CHECKPOINT_8F52686 = {
    **PART,
    "first_page": 1,
    "last_page": 1,
    "api_calls": 1,
    "filters": {},
    "next_request": {"index": 2, "url": "https://api.rawg.io/api/games?key=***&page=2", "params": {}},
    "stats": {"records": 40, "invalid": 1, "error_counts": {"name: Field required": 1}, "drift_counts": {}},
}
CHECKPOINT_DETAILS_9C48C31 = {
    **PART,
    "first_page": 1,
    "last_page": 1,
    "api_calls": 2,
    "next_target": 2,
    "fetched": {"1": "h1"},
    "not_found": {"2": "h2"},
    "stats": {"records": 1, "invalid": 0, "error_counts": {}, "drift_counts": {}},
}


@pytest.mark.parametrize("written", [MANIFEST_8F52686, MANIFEST_9C48C31, DETAILS_9C48C31])
def test_manifests_already_in_s3_stay_readable(written):
    manifest = Manifest.from_json(json.dumps(written))
    assert manifest.complete and manifest.ingest_date == date(2026, 11, 20)
    assert (manifest.records, manifest.valid, manifest.invalid) == (40, 39, 1)
    assert [p.key for p in manifest.parts] == [PART["key"]]
    assert manifest.count_check == written.get("count_check")
    # Written back, every field of the old manifest keeps its value.
    again = manifest.model_dump(mode="json")
    assert {k: again[k] for k in written if k not in ("completed_at", "details")} == {
        k: v for k, v in written.items() if k not in ("completed_at", "details")
    }


def test_a_details_manifest_keeps_its_summary():
    details = Manifest.from_json(json.dumps(DETAILS_9C48C31)).details
    assert details is not None and details.status == "budget_exhausted"
    assert (details.fetched, details.not_found, details.backlog_after) == ({"1": "h1"}, {"2": "h2"}, 8)


def test_checkpoints_already_in_s3_stay_readable():
    listing = Checkpoint.model_validate_json(json.dumps(CHECKPOINT_8F52686))
    assert listing.next_request == ResumePoint(index=2, url=CHECKPOINT_8F52686["next_request"]["url"])
    assert listing.next_request.request().index == 2 and listing.stats.invalid == 1
    assert listing.expected_records is None and listing.next_target is None
    details = Checkpoint.model_validate_json(json.dumps(CHECKPOINT_DETAILS_9C48C31))
    assert details.next_target == 2 and details.next_request is None and details.fetched == {"1": "h1"}
    assert details.landed_part().model_dump() == PART


def test_a_manifest_without_valid_counts_it_and_unknown_fields_are_ignored():
    early = {k: v for k, v in MANIFEST_8F52686.items() if k != "valid"}
    manifest = Manifest.from_json(json.dumps({**early, "written_by_a_newer_version": 1}))
    assert manifest.valid == 39


def test_a_manifest_missing_what_the_load_needs_is_refused():
    broken = {k: v for k, v in MANIFEST_9C48C31.items() if k != "records"}
    with pytest.raises(ValidationError, match="records"):
        Manifest.from_json(json.dumps(broken))
