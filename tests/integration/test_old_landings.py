"""A landing written before the typed contract (its manifest as the first extract wrote it: no
count check fields, no `valid`, a field this version does not know) still loads."""

from __future__ import annotations

import json

OLD_ONLY = ("expected_records", "count_check", "count_tolerance", "count_exact", "count_message", "valid")


def test_a_manifest_in_the_first_format_is_loaded(harness):
    endpoint = harness.endpoint("rawg", "genres")
    result = harness.extract(endpoint)
    key = result.manifest_uri.split("/", 3)[3]
    written = harness.manifest(result)
    old = {k: v for k, v in written.items() if k not in OLD_ONLY}
    old["from_a_future_version"] = {"ignored": True}
    harness.s3.put_object(Bucket=harness.bucket, Key=key, Body=json.dumps(old).encode())

    loaded = harness.load(endpoint, result)
    assert loaded.status == "loaded" and loaded.copied == written["records"] == result.records > 0
    assert loaded.count_check is None
    rows = harness.query('SELECT count(*) FROM raw."rawg__genres"')
    assert rows == [(written["records"],)]
    assert harness.query("SELECT status, records FROM ops.ingest_runs") == [("loaded", written["records"])]
