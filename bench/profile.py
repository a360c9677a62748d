"""Profile our ingestion with py-spy (sampling, all threads, native-free Python stacks) and print
the top functions by own samples and by inclusive samples (package functions).

    python -m bench.profile --records 20000 [--patch NAME] [--out bench/out/profile.txt]
    python -m bench.profile --records 20000 --subprocesses     # the check workers' stacks too
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import tempfile
from pathlib import Path

from bench.common import BENCH_VENV, ROOT, Moto, Replay, ensure_database, ours_command, reset_schemas

PY_SPY = BENCH_VENV / "bin" / "py-spy"


def summarize(raw: Path, top: int = 25) -> str:
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        # "func (file:line)" -> "func (file)": one entry per function, whatever line was running.
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        if frames and frames[0].startswith("process") or frames and frames[0].startswith("thread"):
            frames = [f for f in frames if not f.startswith(("process", "thread"))]
        total += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    lines = [
        f"{total} samples (all threads; py-spy leaves out idle threads, so this is where CPU went)",
        "",
        "own samples (top):",
    ]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive samples, package functions (top):"]
    ours = [(f, n) for f, n in inclusive.most_common() if "game_market_pipeline" in f][:top]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in ours]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--patch", default="")
    parser.add_argument("--rate", type=int, default=50, help="samples per second")
    parser.add_argument("--subprocesses", action="store_true", help="sample child processes too")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "profile.txt")
    parser.add_argument("--raw-out", type=Path, default=None, help="keep py-spy's raw stacks here")
    args = parser.parse_args(argv)
    pg_url = ensure_database(args.pg_admin_url, "gmp_bench")
    reset_schemas(pg_url, "raw", "ops")
    replay, moto = Replay(args.records), Moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "stacks.txt"
            cmd = [
                str(PY_SPY),
                "record",
                "--format",
                "raw",
                "--rate",
                str(args.rate),
                "--output",
                str(raw),
                *(["--subprocesses"] if args.subprocesses else []),
                "--",
                *ours_command(replay, moto.url, pg_url, args.records),
                "--patch",
                args.patch,
            ]
            subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            if args.raw_out:
                args.raw_out.parent.mkdir(parents=True, exist_ok=True)
                args.raw_out.write_bytes(raw.read_bytes())
            text = (
                f"py-spy, {args.records} records, patch={args.patch or 'none'}, subprocesses={args.subprocesses}\n"
                + summarize(raw)
            )
    finally:
        replay.stop()
        moto.stop()
        reset_schemas(pg_url, "raw", "ops")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
