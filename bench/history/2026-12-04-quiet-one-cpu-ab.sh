#!/bin/bash
# Issue 22's one-CPU before/after, 2026-12-04, as it ran (raw: 2026-12-04-quiet-one-cpu-ab.json).
# before = a worktree of 9c48c31 with bench/run.py given main's --cpus flag (taskset of bench.ours only);
# after = main; slice = main with the GIL-slicing hash put back in ingest/hashing.py.
# One run at a time, pinned to CPU 0 (the replay server, moto and PostgreSQL unpinned).
# Runs left out of the JSON: a 1M "after" and two 100k runs that overlapped with each other (a queued
# script did not wait); they were killed and re-run below. after-100000-1 overlapped with a
# 60-second `duplicates` scan of the tree (kept: the median of 8 is 1,430 with it, 1,431 without).
PY=/work/main/.venv/bin/python
OUT=/work/ab
declare -A TREE=([before]=/work/wt/before [after]=/work/main [slice]=/work/wt/slice)
run() {  # side n size systems
  local side=$1 n=$2 size=$3 systems=${4:-ours} dir=${TREE[$1]}
  (cd "$dir" && PYTHONPATH=$dir/include:$dir $PY -m bench.run --no-report --out "$OUT/$side-$size-$n.json" \
     --sections throughput --systems "$systems" --sizes "$size" --reps 1 --cpus 0 --database "gmp_ab_$side") \
     > "$OUT/$side-$size-$n.log" 2>&1
}
# 14:26-14:35
run before 1 100000; run after 1 100000 ours,limits; run after 2 100000
run before 2 100000; run before 3 100000; run after 3 100000
# 14:43-15:10
run slice 1 100000; run after 4 100000; run after 5 100000; run slice 2 100000
run after 6 1000000; run before 6 1000000
# 15:10-15:19
run after 7 100000; run slice 3 100000; run before 7 100000; run slice 4 100000
run after 8 100000; run before 8 100000; run after 9 100000; run slice 5 100000
