"""bench/RESULTS.md stays one page and says what bench/results.json says; the history it links exists.

No database, no benchmark run: the renderer is pure over the committed raw figures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from statistics import median

from bench.report import END, START, generated_block, render, render_summary, write_history, write_results_md

BENCH = Path(__file__).resolve().parents[2] / "bench"
RESULTS_MD = BENCH / "RESULTS.md"
MAX_LINES = 150


def _results() -> dict:
    return json.loads((BENCH / "results.json").read_text())


def test_results_md_is_one_page() -> None:
    lines = RESULTS_MD.read_text().splitlines()
    assert len(lines) <= MAX_LINES, (
        f"bench/RESULTS.md has {len(lines)} lines (max {MAX_LINES}): move detail to history/"
    )


def test_the_generated_block_is_up_to_date_with_results_json() -> None:
    block = generated_block(RESULTS_MD.read_text())
    assert block is not None, f"bench/RESULTS.md lost its {START} … {END} markers"
    assert block == render_summary(_results()), (
        "bench/RESULTS.md's generated block differs from bench/results.json: run `python -m bench.report`"
    )


def test_the_merge_placeholders_are_there() -> None:
    headings = set(re.findall(r"^## .+$", RESULTS_MD.read_text(), flags=re.M))
    assert "## Transform DAG vs bare dbt build (issue 21)" in headings
    assert "## One CPU: speed tricks A/B (issue 22)" in headings


def test_every_local_link_of_results_md_and_the_history_index_exists() -> None:
    for page in (RESULTS_MD, BENCH / "history" / "README.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links {target}, which does not exist"


def test_the_summary_follows_the_figures(tmp_path: Path) -> None:
    data = _results()
    before = render_summary(data)
    for run in data["runs"]["throughput/ours/100000"]:
        run["records_per_s"] /= 2
    after = render_summary(data)
    assert before != after
    halved = median(run["records_per_s"] for run in data["runs"]["throughput/ours/100000"])
    assert f"| ours (extract + load), records/s | {halved:,.0f} |" in after
    assert f"{halved:,.0f}" not in before
    md = tmp_path / "RESULTS.md"
    md.write_text(f"# x\n\nprose kept\n\n{START}\nstale\n{END}\n\nmore prose\n")
    write_results_md(data, md)
    assert generated_block(md.read_text()) == after
    assert "prose kept" in md.read_text() and "more prose" in md.read_text()


def test_the_full_report_goes_to_history_with_its_raw_file(tmp_path: Path) -> None:
    raw = tmp_path / "campaign.json"
    raw.write_text((BENCH / "results.json").read_text())
    md = write_history(_results(), "2026-12-04-test", raw, history=tmp_path / "history")
    assert md == tmp_path / "history" / "2026-12-04-test.md"
    assert (tmp_path / "history" / "2026-12-04-test.json").read_bytes() == raw.read_bytes()
    text = md.read_text()
    assert generated_block(text) == render(_results())
    assert (
        "### 5. DAG parse time" in text and "Where the CPU went" in text
    )  # the sections RESULTS.md leaves out
    md.write_text(text.replace("# Benchmark campaign", "# Benchmark campaign, with notes\n\nnotes kept\n\n#"))
    write_history(_results(), "2026-12-04-test", raw, history=tmp_path / "history")
    assert "notes kept" in md.read_text() and md.read_text().count(START) == 1
