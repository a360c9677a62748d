"""Render a benchmark campaign's raw figures (bench/results.json) two ways:

- the summary, one table and the targets, between the generated markers of bench/RESULTS.md;
- the full report (every section, the commands, the CPU and memory breakdowns) into
  bench/history/<name>.md, one file per campaign, with the raw JSON copied beside it.

    python -m bench.report                                   # RESULTS.md's block from bench/results.json
    python -m bench.report --history-name 2026-12-04-one-cpu # and the full report into bench/history/
    python -m bench.report --results bench/history/<name>.json --history-name <name> --no-summary
    python -m bench.report --print [--full]                  # to the terminal

The prose around a generated block is kept as written. A named block (`--block <name>`) renders
another run's summary between `<!-- generated:<name>:start -->` and `<!-- generated:<name>:end -->`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path
from typing import Any

from bench.common import ROOT, median

START, END = "<!-- generated:start -->", "<!-- generated:end -->"
HISTORY = ROOT / "bench" / "history"
SYSTEMS = [
    ("ours", "this package (extract + load)"),
    ("dlt_default", "dlt rest_api, default (child tables)"),
    ("dlt_nesting0", "dlt rest_api, max_table_nesting=0"),
    ("limit_http", "limit: fetch + JSON decode"),
    ("limit_copy", "limit: bare COPY from a local file"),
]


def _runs(data: dict, key: str) -> list[dict]:
    return data.get("runs", {}).get(key, [])


def _med(runs: list[dict], field: str) -> float | None:
    values = [r[field] for r in runs if r.get(field) is not None]
    return median(values) if values else None


PARSE_MEASUREMENTS = {
    "dagbag": "DagBag fill of dags/",
    "single": "task process: its single DAG",
    "single-marginal": "the same, after the imports its task makes anyway",
}


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _sizes(data: dict, prefix: str) -> list[int]:
    sizes = set()
    for key in data.get("runs", {}):
        parts = key.split("/")
        if parts[0] == prefix and parts[-1].isdigit():
            sizes.add(int(parts[-1]))
    return sorted(sizes)


def summarize(data: dict) -> dict[str, Any]:
    s: dict[str, Any] = {"throughput": {}, "targets": []}
    for size in _sizes(data, "throughput"):
        row = {}
        for system, _ in SYSTEMS:
            runs = _runs(data, f"throughput/{system}/{size}")
            if runs:
                row[system] = {
                    "n": len(runs),
                    "rps": _med(runs, "records_per_s"),
                    "seconds": _med(runs, "seconds"),
                    "rss": _med(runs, "peak_rss_mib"),
                    "loadavg": [r.get("loadavg", [None])[0] for r in runs],
                }
        s["throughput"][size] = row
    return s


def _phase_memory(size: int, runs: list[dict]) -> str | None:
    """One row of the per-phase memory table, from the `memory` snapshots bench.ours records."""
    snapshots = [r.get("result", {}).get("memory") for r in runs]
    snapshots = [m for m in snapshots if m and "load" in m]
    if not snapshots:
        return None

    def med(phase: str, field: str) -> float | None:
        values = [m[phase][field] for m in snapshots if field in m.get(phase, {})]
        return median(values) if values else None

    return (
        f"| {size:,} | {_fmt(med('after_imports', 'VmRSS'))} ({_fmt(med('after_imports', 'RssAnon'))} + "
        f"{_fmt(med('after_imports', 'RssFile'))}) | {_fmt(med('extract', 'VmHWM'))} | "
        f"{_fmt(med('load', 'VmHWM'))} | {_fmt(med('load', 'RssAnon'))} + {_fmt(med('load', 'RssFile'))} | "
        f"{_fmt(_med(runs, 'peak_rss_mib'))} |"
    )


def _cpu_sections(cpu: dict | None) -> dict[str, dict]:
    """A run's CpuMeter readings by section: ours records one per phase, the others one for the run."""
    if not cpu:
        return {}
    return {"measured run": cpu} if "machine_cores_busy" in cpu else cpu


def _cpu_rows(data: dict, sizes: Any) -> list[str]:
    """Rows of the CPU table: one per system, size and section (ours: its extract and its load apart)."""
    rows = []
    for size in sizes:
        for system, label in SYSTEMS:
            by_section: dict[str, list[dict]] = {}
            for run in _runs(data, f"throughput/{system}/{size}"):
                for section, reading in _cpu_sections(run.get("cpu")).items():
                    by_section.setdefault(section, []).append(reading)
            for section, readings in by_section.items():
                med = {
                    field: median(r[field] for r in readings)
                    for field in ("seconds", "machine_cores_busy", "own_cores", "postgres_cores")
                }
                busy, own, pg = med["machine_cores_busy"], med["own_cores"], med["postgres_cores"]
                rows.append(
                    f"| {size:,} | {label} | {section} | {_fmt(med['seconds'], 1)} | {busy:.2f} | {own:.2f} | "
                    f"{pg:.2f} | {max(0.0, busy - own - pg):.2f} |"
                )
    return rows


def _measured(data: dict, prefix: str) -> bool:
    return any(key.startswith(prefix) for key in data.get("runs", {}))


Target = tuple[str, str, str]  # (what, measured, "met" | "MISSED")


def render(data: dict) -> str:
    """The full report: every section measured, the commands, the CPU and memory breakdowns, the targets."""
    out, targets = _full_report(data)
    return "\n".join(out + _targets_table(targets)) + "\n"


def _targets_table(targets: list[Target]) -> list[str]:
    out = ["### Targets\n", "| target | measured | verdict |", "|---|---|---|"]
    for name, value, verdict in targets:
        out.append(f"| {name} | {value} | {'**MISSED**' if verdict == 'MISSED' else 'met'} |")
    return out


def _full_report(data: dict) -> tuple[list[str], list[Target]]:
    out: list[str] = []
    m = data.get("machine", {})
    out.append(
        f"Machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB RAM, {m.get('cpu')}, "
        f"Python {m.get('python')}. Commands that produced these figures (newest last):\n"
    )
    for c in data.get("commands", []):
        out.append(f"- `{c['command']}` (started {c['at']}, load average {c.get('loadavg_at_start')})")
    for note in data.get("notes", []):
        out.append(f"- Note: {note}")
    out.append("")
    patches = sorted(
        {
            r.get("result", {}).get("patch") or "none"
            for k, runs in data.get("runs", {}).items()
            if "/ours/" in k
            for r in runs
            if "result" in r
        }
    )
    if patches != ["none"]:
        out.append(
            f"**Ours was run with local experiment(s) `--patch {', '.join(patches)}`** (bench/patches.py: "
            "candidate fixes applied in the child process, the package itself unchanged).\n"
        )
    s = summarize(data)
    targets: list[Target] = []

    out.append("### 1. Ingestion throughput (records/s, wall time, peak RSS: medians)\n")
    out.append(
        "| records | system | runs | records/s | wall s | peak RSS MiB | ours ÷ this (records/s) | "
        "ours ÷ this (RSS) | 1-min load avg per run |"
    )
    out.append("|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for size, row in s["throughput"].items():
        ours = row.get("ours")
        for system, label in SYSTEMS:
            r = row.get(system)
            if not r:
                continue
            speed = _ratio(ours["rps"], r["rps"]) if ours and system != "ours" else None
            mem = _ratio(ours["rss"], r["rss"]) if ours and system.startswith("dlt") else None
            out.append(
                f"| {size:,} | {label} | {r['n']} | {_fmt(r['rps'])} | {_fmt(r['seconds'], 1)} | "
                f"{_fmt(r['rss'])} | {_fmt(speed, 2)} | {_fmt(mem, 2)} | {r['loadavg']} |"
            )
        if ours and row.get("dlt_nesting0"):
            ratio = _ratio(ours["rps"], row["dlt_nesting0"]["rps"])
            targets.append(
                (
                    f"records/s ≥ 3× dlt (nesting 0) at {size:,}",
                    f"{ratio:.2f}×",
                    "met" if ratio >= 3 else "MISSED",
                )
            )
            rss = _ratio(ours["rss"], row["dlt_nesting0"]["rss"])
            targets.append(
                (
                    f"peak RSS < ¼ of dlt's (nesting 0) at {size:,}",
                    f"{rss:.2f}×",
                    "met" if rss < 0.25 else "MISSED",
                )
            )
        if ours and row.get("limit_http"):
            ratio = _ratio(ours["rps"], row["limit_http"]["rps"])
            targets.append(
                (
                    f"records/s ≥ 50 % of the HTTP bound at {size:,}",
                    f"{ratio:.0%}",
                    "met" if ratio >= 0.5 else "MISSED",
                )
            )
    out.append("")
    ours_runs = [
        (size, data["runs"][f"throughput/ours/{size}"])
        for size in s["throughput"]
        if data["runs"].get(f"throughput/ours/{size}")
    ]
    if ours_runs:
        parts = [
            f"{size:,}: extract {_fmt(_med(runs, 'extract_seconds'), 1)} s + load "
            f"{_fmt(_med(runs, 'load_seconds'), 1)} s"
            for size, runs in ours_runs
            if _med(runs, "extract_seconds") is not None
        ]
        out.append("Ours split (medians): " + "; ".join(parts) + ".\n")
    cpu_rows = _cpu_rows(data, s["throughput"])
    if cpu_rows:
        out.append(
            "Where the CPU went (medians; cores = CPU seconds per wall second over the measured section, "
            f"of the machine's {m.get('cores')}; taken by the measured process itself, `bench.common.CpuMeter`). "
            "Own = the system's process and its waited-for children (our check workers); the rest is the "
            "replay server, moto, the harness and the OS.\n"
        )
        out.append("| records | system | section | s | machine busy | own | PostgreSQL | rest |")
        out.append("|---:|---|---|---:|---:|---:|---:|---:|")
        out += cpu_rows
        out.append("")

    out.append("### 2. Memory: peak RSS of our ingestion, largest size against a tenth of it\n")
    sizes = [size for size, _ in ours_runs]
    pairs = [(small, big) for big in sizes for small in sizes if small * 10 == big]
    for small, big in pairs:
        a, b = (
            _med(data["runs"][f"throughput/ours/{small}"], "peak_rss_mib"),
            _med(data["runs"][f"throughput/ours/{big}"], "peak_rss_mib"),
        )
        ratio = b / a
        out.append(
            f"- {big:,} records: {b:.0f} MiB ({len(data['runs'][f'throughput/ours/{big}'])} runs); "
            f"{small:,}: {a:.0f} MiB ({len(data['runs'][f'throughput/ours/{small}'])} runs); ratio **{ratio:.2f}**"
        )
        targets.append(
            (f"peak RSS {big:,} ÷ {small:,} ≤ 1.5", f"{ratio:.2f}", "met" if ratio <= 1.5 else "MISSED")
        )
    out.append("")
    phase_rows = [row for size, runs in ours_runs if (row := _phase_memory(size, runs))]
    if phase_rows:
        out.append(
            "Where it is (medians, MiB): the task process alone per phase (its peak reset between the "
            "phases: `/proc/self/status` VmHWM, split into anonymous and file-backed pages at the "
            "phase's end), against the tree's peak, which adds the check workers of the extract.\n"
        )
        out.append(
            "| records | after imports (anon + file) | extract peak | load peak | load end: anon + file | "
            "tree peak |"
        )
        out.append("|---:|---:|---:|---:|---:|---:|")
        out += phase_rows
        out.append("")

    out.append("### 3. Latency: 100 ms added to every response, a client-side rate limit\n")
    setup = data.get("latency_setup")
    if setup:
        out.append(
            f"Replay latency {setup['latency_ms']:g} ms; ours at {setup['requests_per_second']:g} req/s "
            f"(burst {setup['burst']}), parallel_pages {setup['parallel_pages']}; dlt is sequential "
            f"(json_link follows `next`). Bound = 40 records/page × {setup['requests_per_second']:g} req/s "
            f"= {setup['bound_records_per_s']:g} records/s.\n"
        )
        out.append("| system | records | runs | records/s | wall s | peak RSS MiB | ÷ bound |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        ours_lat = None
        for key, runs in sorted(data["runs"].items()):
            if not key.startswith("latency/"):
                continue
            _, system, size = key.split("/")
            rps = _med(runs, "records_per_s")
            if system == "ours":
                ours_lat = rps
            out.append(
                f"| {system} | {int(size):,} | {len(runs)} | {_fmt(rps)} | {_fmt(_med(runs, 'seconds'), 1)} | "
                f"{_fmt(_med(runs, 'peak_rss_mib'))} | {_fmt(_ratio(rps, setup['bound_records_per_s']), 2)} |"
            )
            if system == "ours":
                ratio = rps / setup["bound_records_per_s"]
                targets.append(
                    (
                        f"with latency ≥ 60 % of the rate-limit bound ({int(size):,})",
                        f"{ratio:.0%}",
                        "met" if ratio >= 0.6 else "MISSED",
                    )
                )
        dlt_lat = [k for k in data["runs"] if k.startswith("latency/dlt")]
        if ours_lat and dlt_lat:
            d = _med(data["runs"][dlt_lat[0]], "records_per_s")
            out.append(f"\nOurs ÷ dlt with latency: **{ours_lat / d:.2f}×** (records/s; see sizes above).")
        out.append("")

    else:
        out.append("Not measured in these runs.\n")

    out.append("### 4. Re-run of the same logical date (nothing changed)\n")
    out.append(
        "| records | runs | first run s | API calls (first) | re-run s | API calls (re-run) | re-run ÷ first |"
    )
    out.append("|---:|---:|---:|---:|---:|---:|---:|")
    for key, runs in sorted(
        data["runs"].items(),
        key=lambda kv: (
            kv[0].rsplit("/", 1)[0],
            int(kv[0].rsplit("/", 1)[1]) if kv[0].rsplit("/", 1)[1].isdigit() else 0,
        ),
    ):
        if key.startswith("throughput/rerun/"):
            size = int(key.rsplit("/", 1)[1])
            ratio = _med(runs, "ratio")
            calls = max(r["api_calls"] for r in runs)
            out.append(
                f"| {size:,} | {len(runs)} | {_fmt(_med(runs, 'first_seconds'), 1)} | "
                f"{_fmt(_med(runs, 'first_api_calls'))} | {_fmt(_med(runs, 'seconds'), 3)} | {calls} | "
                f"{ratio:.2%} |"
            )
            targets.append(
                (
                    f"re-run: zero API calls, < 5 % of the first run ({size:,})",
                    f"{calls} calls, {ratio:.2%}",
                    "met" if calls == 0 and ratio < 0.05 else "MISSED",
                )
            )
    out.append("")

    out.append("### 5. DAG parse time (each in a fresh interpreter; medians)\n")
    if not _measured(data, "parse/"):
        out.append("Not measured in these runs.")
    else:
        out.append(
            "| config | measurement | runs | seconds | DAGs | import of airflow s (apart) | "
            "task's own imports s (apart) | process wall s |"
        )
        out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    parse_keys = [k.split("/") for k in data["runs"] if k.startswith("parse/")]
    for _, kind, label in sorted(parse_keys, key=lambda k: (list(PARSE_MEASUREMENTS).index(k[1]), k[2])):
        runs = data["runs"][f"parse/{kind}/{label}"]
        secs = _med(runs, "seconds")
        dags = runs[0]["dags"] if kind == "dagbag" else len(runs[0]["dags"])
        what = PARSE_MEASUREMENTS[kind]
        task_imports = _med(runs, "task_imports_seconds") if kind == "single-marginal" else None
        out.append(
            f"| {label} | {what} | {len(runs)} | {secs:.3f} | {dags} | "
            f"{_fmt(_med(runs, 'airflow_import_seconds'), 2)} | {_fmt(task_imports, 2)} | "
            f"{_fmt(_med(runs, 'process_wall_seconds'), 2)} |"
        )
        # The target is on the build as a task process sees it; the marginal figure is context.
        if label != "real" and kind != "single-marginal":
            limit = 3.0 if kind == "dagbag" else 0.3
            targets.append(
                (
                    f"parse ({label}, {what}) < {limit:g} s",
                    f"{secs:.3f} s",
                    "met" if secs < limit else "MISSED",
                )
            )
    out.append("")

    out.append(
        "### 6. Transform: full `dbt build` of the games gold layer vs incremental after 1 % changed\n"
    )
    if not _measured(data, "dbt/full/"):
        out.append("Not measured in these runs.")
    else:
        out.append("| games | runs | full build s | incremental s | changed rows | incremental ÷ full |")
        out.append("|---:|---:|---:|---:|---:|---:|")
    for key, runs in sorted(data["runs"].items()):
        if key.startswith("dbt/full/"):
            size = key.rsplit("/", 1)[1]
            inc = data["runs"].get(f"dbt/incremental/{size}", [])
            ratio = _med(inc, "ratio")
            out.append(
                f"| {int(size):,} | {len(runs)} | {_fmt(_med(runs, 'seconds'), 1)} | "
                f"{_fmt(_med(inc, 'seconds'), 1)} | {_fmt(_med(inc, 'changed'))} | {_fmt(ratio * 100, 1)} % |"
            )
            targets.append(
                (
                    f"incremental < 15 % of full ({int(size):,} games)",
                    f"{ratio:.1%}",
                    "met" if ratio < 0.15 else "MISSED",
                )
            )
    out.append("")
    return out, targets


SUMMARY_ROWS = [  # (label, system, field, bold): one row of the summary table per line
    ("ours (extract + load), records/s", "ours", "rps", False),
    ("dlt, fastest setting (`max_table_nesting=0`), records/s", "dlt_nesting0", "rps", False),
    ("ours ÷ dlt's fastest setting", "dlt_nesting0", "speed", True),
    ("HTTP bound (fetch + JSON decode only), records/s", "limit_http", "rps", False),
    ("ours ÷ HTTP bound", "limit_http", "share", True),
    ("database bound (bare COPY into the staging table), records/s", "limit_copy", "rps", False),
    ("dlt, default setting (child tables), records/s", "dlt_default", "rps", False),
    ("ours, peak RSS MiB", "ours", "rss", False),
    ("dlt's fastest setting, peak RSS MiB", "dlt_nesting0", "rss", False),
    ("ours ÷ dlt's fastest setting, peak RSS", "dlt_nesting0", "memory", True),
]


def _summary_cell(row: dict, system: str, field: str) -> str:
    ours, other = row.get("ours"), row.get(system)
    if not other:
        return "–"
    if field in ("rps", "rss"):
        return _fmt(other[field])
    if not ours:
        return "–"
    if field == "speed":
        return f"{_ratio(ours['rps'], other['rps']):.2f}×"
    if field == "share":
        return f"{_ratio(ours['rps'], other['rps']):.0%}"
    return f"{_ratio(ours['rss'], other['rss']):.2f}×"


def render_summary(data: dict) -> str:
    """RESULTS.md's block: when and where, one table (ours against dlt and the limits), the targets."""
    m = data.get("machine", {})
    starts = sorted(c["at"] for c in data.get("commands", []))
    when = "(no command recorded)"
    if starts:
        last = starts[-1][11:16] if starts[-1][:10] == starts[0][:10] else starts[-1][:16].replace("T", " ")
        when = f"{starts[0][:10]} (commands started {starts[0][11:16]} to {last} UTC)"
    throughput = summarize(data)["throughput"]
    runs = sorted({r["n"] for row in throughput.values() for r in row.values()})
    out = [
        f"Measured on {when}, {m.get('cores')} cores, {m.get('memory_gib')} GiB RAM ({m.get('cpu')}), "
        f"Python {m.get('python')}; medians of {'/'.join(map(str, runs)) or '–'} runs; one machine, "
        "no figure borrowed from another.\n"
    ]
    sizes = list(throughput)
    out.append("| | " + " | ".join(f"{size:,} records" for size in sizes) + " |")
    out.append("|---|" + "---:|" * len(sizes))
    for label, system, field, bold in SUMMARY_ROWS:
        if not any(system in row for row in throughput.values()):
            continue
        cells = [_summary_cell(throughput[size], system, field) for size in sizes]
        cells = [f"**{c}**" if bold and c != "–" else c for c in cells]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    _, targets = _full_report(data)
    flat = [t for t in targets if t[0].startswith("peak RSS") and "÷" in t[0]]
    for name, value, _verdict in flat:
        out.append(
            f"| memory flat: {name.removesuffix(' ≤ 1.5')} | "
            + " | ".join([""] * (len(sizes) - 1) + [f"**{value}**"])
            + " |"
        )
    out.append("")
    return "\n".join(out + _targets_table(targets)) + "\n"


def markers(block: str | None) -> tuple[str, str]:
    if block is None:
        return START, END
    if not re.fullmatch(r"[a-z0-9-]+", block):
        raise SystemExit(f"block name {block!r}: use lower-case letters, digits and '-'")
    return f"<!-- generated:{block}:start -->", f"<!-- generated:{block}:end -->"


def write_block(path: Path, body: str, block: str | None = None, title: str = "# Benchmark results") -> None:
    """Put `body` between the block's markers in `path` (appended when they are missing); the rest is kept."""
    start, end = markers(block)
    rendered = f"{start}\n{body}{end}"
    text = path.read_text() if path.exists() else f"{title}\n"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: rendered, text, flags=re.S)
    else:
        text = f"{text.rstrip()}\n\n{rendered}\n"
    path.write_text(text)


def generated_block(text: str, block: str | None = None) -> str | None:
    """What stands between the block's markers in `text` (None without them)."""
    start, end = markers(block)
    found = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), text, flags=re.S)
    return found.group(1) if found else None


def write_results_md(data: dict, path: Path, block: str | None = None) -> None:
    """The summary (one table, the targets) into RESULTS.md's generated block."""
    write_block(path, render_summary(data), block)


def write_history(data: dict, name: str, results: Path | None = None, history: Path = HISTORY) -> Path:
    """The full report into `history/<name>.md` (its prose kept), the raw file copied to `<name>.json`."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise SystemExit(f"history name {name!r}: use letters, digits, '.', '_' and '-'")
    history.mkdir(parents=True, exist_ok=True)
    raw = history / f"{name}.json"
    if results is not None and results.resolve() != raw.resolve():
        shutil.copyfile(results, raw)
    md = history / f"{name}.md"
    title = f"# Benchmark campaign {name}\n\nRaw figures: [`{raw.name}`]({raw.name}). Summary: ../RESULTS.md."
    write_block(md, render(data), title=title)
    return md


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--md", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--block", default=None, help="a named second block (another run) instead of the main one"
    )
    parser.add_argument(
        "--history-name",
        default=None,
        help="also write the full report to bench/history/<name>.md (raw copied to <name>.json)",
    )
    parser.add_argument("--no-summary", action="store_true", help="leave RESULTS.md as it is")
    parser.add_argument("--print", action="store_true", help="print the summary instead of writing files")
    parser.add_argument("--full", action="store_true", help="with --print: the full report")
    args = parser.parse_args(argv)
    data = json.loads(args.results.read_text())
    if args.print:
        print(render(data) if args.full else render_summary(data))
        return 0
    if not args.no_summary:
        write_results_md(data, args.md, args.block)
    if args.history_name:
        print(f"full report: {write_history(data, args.history_name, args.results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
