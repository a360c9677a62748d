"""bench.run's Recorder: one results file across invocations. A key measured again replaces its
older runs, unless the invocation continues the campaign (--append) — the mistake that cost the
first repetition of a 1M run its full entries once (bench/RESULTS.md, the late run)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import Recorder


def _seconds(path: Path, key: str) -> list[float]:
    return [run["seconds"] for run in json.loads(path.read_text())["runs"][key]]


def test_a_new_invocation_replaces_a_key_it_measures_again_and_keeps_the_others(tmp_path):
    out = tmp_path / "results.json"
    first = Recorder(out, ["--reps", "3"])
    first.add("throughput/ours/1000", {"seconds": 1.0})
    first.add("throughput/ours/1000", {"seconds": 2.0})
    first.add("throughput/limit_http/1000", {"seconds": 0.5})
    second = Recorder(out, ["--systems", "ours"])
    second.add("throughput/ours/1000", {"seconds": 3.0})
    second.add("throughput/ours/1000", {"seconds": 4.0})
    assert _seconds(out, "throughput/ours/1000") == [3.0, 4.0]
    assert _seconds(out, "throughput/limit_http/1000") == [0.5]
    assert len(json.loads(out.read_text())["commands"]) == 2


def test_append_continues_the_campaign(tmp_path):
    out = tmp_path / "results.json"
    Recorder(out, ["--reps", "1"]).add("throughput/ours/1000", {"seconds": 1.0})
    rest = Recorder(out, ["--reps", "2", "--append"], append=True)
    rest.add("throughput/ours/1000", {"seconds": 2.0})
    rest.add("throughput/ours/1000", {"seconds": 3.0})
    rest.add("throughput/limit_copy/1000", {"seconds": 9.0})  # a key the file did not have yet
    assert _seconds(out, "throughput/ours/1000") == [1.0, 2.0, 3.0]
    assert _seconds(out, "throughput/limit_copy/1000") == [9.0]
