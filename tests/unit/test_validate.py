"""Record validation: hashes, quarantine facts, drift."""

from __future__ import annotations

from game_market_pipeline.ingest.hashing import canonical_json, content_hash
from game_market_pipeline.ingest.validate import ValidationStats, check_record
from game_market_pipeline.records.registry import record_model


def test_valid_record_keeps_payload_and_hash():
    stats = ValidationStats()
    raw = {
        "id": 4,
        "name": "Action",
        "slug": "action",
        "games_count": 1,
        "image_background": None,
        "games": [],
    }
    checked = check_record(raw, record_model("rawg.Genre"), "id", stats)
    assert checked.valid and checked.key == "4"
    assert checked.content_hash == content_hash(raw) and checked.payload_json == canonical_json(raw)
    assert stats.records == 1 and stats.invalid == 0


def test_invalid_record_counts_errors_by_location():
    stats = ValidationStats()
    for _ in range(3):
        checked = check_record({"id": {"oops": 1}, "name": "X"}, record_model("rawg.Genre"), "id", stats)
    assert not checked.valid and checked.errors
    assert (
        stats.invalid == 3
        and stats.most_common_error.startswith("id: ")
        and "(3x)" in stats.most_common_error
    )


def test_unknown_fields_are_drift_not_errors():
    stats = ValidationStats()
    raw = {"id": 1, "name": "Action", "brand_new_field": True}
    checked = check_record(raw, record_model("rawg.Genre"), "id", stats)
    assert checked.valid and stats.drift_counts == {"brand_new_field": 1}
    assert '"brand_new_field":true' in checked.payload_json  # kept in the raw payload


def test_part_counts_sum_over_checkpoints():
    from game_market_pipeline.ingest.landing_contract import Checkpoint, merged_counts

    a = ValidationStats()
    check_record({"id": "x"}, record_model("rawg.Genre"), "id", a)
    check_record({"id": 1, "name": "Action", "new": 1}, record_model("rawg.Genre"), "id", a)
    part = {
        "part": 1,
        "key": "k",
        "records": 2,
        "valid": 1,
        "invalid": 1,
        "file_sha256": "f",
        "records_sha256": "r",
    }
    checkpoints = [Checkpoint.model_validate({**part, "stats": a.counts()}) for _ in range(2)]
    total = merged_counts(checkpoints)
    assert (total.records, total.invalid, total.drift_counts) == (4, 2, {"new": 2})
    assert total.error_counts == {"id: Input should be a valid integer": 2, "name: Field required": 2}
