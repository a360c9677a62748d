#!/bin/bash
# Issue 22's one-CPU before/after on a quiet machine: sequential, interleaved, both pinned to CPU 0.
set -x
PY=/work/main/.venv/bin/python
OUT=/work/ab
run() { # side n size systems
  local side=$1 n=$2 size=$3 systems=$4 dir
  if [ "$side" = before ]; then dir=/work/wt/before; export PYTHONPATH=/work/wt/before/include:/work/wt/before
  else dir=/work/main; unset PYTHONPATH; fi
  date -u; uptime
  (cd $dir && $PY -m bench.run --no-report --out $OUT/$side-$size-$n.json --sections throughput \
     --systems $systems --sizes $size --reps 1 --cpus 0 --database gmp_ab_$side) > $OUT/$side-$size-$n.log 2>&1
}
run before 1 100000 ours
run after 1 100000 ours,limits
run after 2 100000 ours
run before 2 100000 ours
run before 3 100000 ours
run after 3 100000 ours
run after 4 1000000 ours
run before 4 1000000 ours
date -u; uptime
#!/bin/bash
# Part 2 (part 1 disturbed by a queued script that did not wait): the GIL-slicing hash A/B at 100k,
# then the 1M pair. Sequential, pinned to CPU 0, nothing else running.
set -x
PY=/work/main/.venv/bin/python
OUT=/work/ab
run() { local side=$1 n=$2 size=$3 dir=$4
  date -u; uptime
  (cd $dir && PYTHONPATH=$dir/include:$dir $PY -m bench.run --no-report --out $OUT/$side-$size-$n.json --sections throughput \
     --systems ours --sizes $size --reps 1 --cpus 0 --database gmp_ab_$side) > $OUT/$side-$size-$n.log 2>&1
}
run slice 1 100000 /work/wt/slice
run after 4 100000 /work/main
run after 5 100000 /work/main
run slice 2 100000 /work/wt/slice
run after 6 1000000 /work/main
run before 6 1000000 /work/wt/before
date -u; uptime
#!/bin/bash
# More pairs of the GIL-slicing hash A/B (after vs after+slice) and one more before, at 100k, CPU 0.
set -x
while [ -d /proc/9855 ]; do sleep 5; done
PY=/work/main/.venv/bin/python
OUT=/work/ab
run() { local side=$1 n=$2 size=$3 dir=$4
  date -u; uptime
  (cd $dir && PYTHONPATH=$dir/include:$dir $PY -m bench.run --no-report --out $OUT/$side-$size-$n.json --sections throughput \
     --systems ours --sizes $size --reps 1 --cpus 0 --database gmp_ab_$side) > $OUT/$side-$size-$n.log 2>&1
}
run after 7 100000 /work/main
run slice 3 100000 /work/wt/slice
run before 7 100000 /work/wt/before
run slice 4 100000 /work/wt/slice
run after 8 100000 /work/main
run before 8 100000 /work/wt/before
run after 9 100000 /work/main
run slice 5 100000 /work/wt/slice
date -u; uptime
