"""Check workers (ingest/check_pool.py): real worker processes, the same results as the in-process
checks, a dead worker taken over in-process, and how many workers a walk gets."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal

import pytest

from game_market_pipeline.ingest import check_pool
from game_market_pipeline.ingest.check_pool import PageCheckPool, usable_cpus, worker_count
from game_market_pipeline.ingest.validate import ValidationStats, check_record
from game_market_pipeline.records.registry import record_model
from gmp_dev.replay.synthetic import SyntheticGames


def _page(start: int, count: int = 40, broken_id_at: int | None = None) -> tuple[bytes, list[dict]]:
    games = list(SyntheticGames(start + count).iter_games(start, start + count))
    if broken_id_at is not None:
        games[broken_id_at]["id"] = {"not": "an id"}
    return json.dumps({"count": 1000, "results": games}, ensure_ascii=False).encode(), games


def _in_process(games: list[dict]) -> tuple[list[tuple], ValidationStats]:
    stats = ValidationStats()
    checked = [check_record(g, record_model("rawg.Game"), "id", stats) for g in games]
    return [(c.key, c.content_hash, c.payload, c.errors) for c in checked], stats


@pytest.fixture(scope="module")
def pool():
    with PageCheckPool(1, "rawg.Game", "id", "results") as started:
        yield started


def test_a_worker_checks_a_page_exactly_as_the_task_process_does(pool):
    content, games = _page(0, broken_id_at=7)
    in_workers = pool.pages_in_workers
    checked = pool.check(content, "rawg.games page 1")
    assert pool.pages_in_workers == in_workers + 1  # a worker, not this process, checked it
    expected_rows, expected_stats = _in_process(games)
    assert [(c.key, c.content_hash, c.payload, c.errors) for c in checked.records] == expected_rows
    assert checked.stats["records"] == 40 and checked.stats["invalid"] == expected_stats.invalid == 1
    assert checked.stats["error_counts"] == dict(expected_stats.error_counts)
    assert not pool.broken


def test_a_body_that_is_not_json_comes_back_as_none(pool):
    content, _ = _page(40)
    assert pool.check(content[: len(content) // 2], "rawg.games page 2") is None
    assert pool.check(b"\xff\xfe not utf-8", "rawg.games page 3") is None


def test_a_page_without_the_record_list_names_the_page(pool):
    from game_market_pipeline.exceptions import ApiResponseError

    with pytest.raises(ApiResponseError, match="rawg.games page 4: response has no 'results'"):
        pool.check(b'{"count": 3}', "rawg.games page 4")


def test_a_killed_worker_is_taken_over_in_process(caplog):
    content, games = _page(80)
    others = {p.pid for p in multiprocessing.active_children()}  # e.g. the module fixture's worker
    with PageCheckPool(1, "rawg.Game", "id", "results") as pool:
        assert pool.check(content, "rawg.games page 1") is not None  # the worker is up
        workers = [p for p in multiprocessing.active_children() if p.pid not in others]
        assert len(workers) == 1
        for worker in workers:
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(10)
        with caplog.at_level(logging.WARNING, logger=check_pool.__name__):
            checked = pool.check(content, "rawg.games page 2")
        assert pool.broken and "checking the remaining pages in-process" in caplog.text
        assert [(c.key, c.content_hash, c.payload, c.errors) for c in checked.records] == _in_process(games)[
            0
        ]


def test_worker_count_follows_the_setting_then_the_free_cpus(monkeypatch):
    assert worker_count(3, planned_pages=1) == 3  # the endpoint's own setting wins
    assert worker_count(0, planned_pages=10_000) == 0
    assert worker_count(None, planned_pages=check_pool.MIN_PAGES_FOR_WORKERS - 1) == 0
    monkeypatch.setattr(check_pool, "usable_cpus", lambda: 1)
    assert worker_count(None, planned_pages=500) == 0  # no free core: checks stay in-process
    monkeypatch.setattr(check_pool, "usable_cpus", lambda: 2)
    assert worker_count(None, planned_pages=500) == 2
    monkeypatch.setattr(check_pool, "usable_cpus", lambda: 32)
    assert worker_count(None, planned_pages=500) == check_pool.MAX_AUTO_WORKERS


def test_usable_cpus_honours_a_cgroup_quota(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(tmp_path) == affinity
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU: still one
    assert usable_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text(f"{(affinity + 4) * 100000} 100000\n")  # above the mask
    assert usable_cpus(tmp_path) == affinity
    assert usable_cpus(tmp_path / "missing") == affinity


def test_a_worker_imports_neither_the_http_client_nor_arrow():
    # What a spawned worker imports is what it costs in memory (each worker is its own interpreter):
    # requests and tenacity were ~9 MiB of each worker's RSS before record_selector moved out.
    import subprocess
    import sys

    code = (
        "import sys, game_market_pipeline.ingest.check_pool; "
        "print(sorted(m for m in ('requests', 'tenacity', 'pyarrow', 'boto3', 'airflow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_workers_exit_when_the_task_process_is_killed_without_closing_them(tmp_path):
    # SIGKILL (e.g. the OOM killer) runs no cleanup: the workers must notice
    # on their own. Before they watched their parent, they idled forever, re-parented to PID 1.
    import subprocess
    import sys
    import time

    content, _ = _page(120)
    code = (
        "import multiprocessing, os, signal, sys\n"
        "from game_market_pipeline.ingest.check_pool import PageCheckPool\n"
        "if __name__ == '__main__':\n"
        "    pool = PageCheckPool(2, 'rawg.Game', 'id', 'results')\n"
        "    content = sys.stdin.buffer.read()\n"
        "    assert pool.check(content, 'rawg.games page 1') is not None\n"
        "    print(*(p.pid for p in multiprocessing.active_children()), flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # Output to files, not pipes: a surviving worker holds them open, and a pipe would never end.
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        done = subprocess.run([sys.executable, "-c", code], input=content, stdout=stdout, stderr=stderr, timeout=120)
    assert done.returncode == -signal.SIGKILL, err.read_text()[-2000:]
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) >= 1
    deadline = time.monotonic() + 10 * check_pool.PARENT_POLL_SECONDS
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"check workers {left} outlived their killed task process"
