#!/bin/sh
# bench-own.sh [MPI_NCF [OTHER_MPI_NCF]] — what each process of sharded
# training reads and holds (docs/distributed.md, "Reading only one's
# users"): an `ncf synth` file of INTERACTIONS interactions (default
# 2,000,000) split into the NCF format, then one epoch of GMF with
# --shards 8 on mpirun -np 1, 2 and 4, printing every process's peak
# resident memory (/usr/bin/time) and rank 0's "data (per process)" line:
# the training lines each read, its peak once the data was loaded and at
# the end. OTHER_MPI_NCF (e.g. a build of an earlier
# commit) runs the same, alternating, for comparison. Uses ./ncf for synth
# and split. Occupies both cores for a few minutes.
set -e
bin=${1:-build-mpi/ncf}
other=${2:-}
inter=${INTERACTIONS:-2000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mpirun_=mpirun
[ "$(id -u)" = 0 ] && mpirun_="mpirun --allow-run-as-root"
./ncf synth --out "$dir/s.tsv" --users 20000 --items 8000 --interactions "$inter" --seed 3 >/dev/null
./ncf split "$dir/s.tsv" --out "$dir/p" --negatives 99 --seed 1 >/dev/null 2>&1
echo "data: $(wc -l <"$dir/p.train.rating") training lines, $(du -m "$dir/p.train.rating" | cut -f1) MB; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for np in 1 2 4; do
    for b in "$bin" $other; do
        $mpirun_ --oversubscribe -np "$np" /usr/bin/time -f "rss_kb %M" "$b" train --data "$dir/p" --model gmf \
            --epochs 1 --no-eval --shards 8 --threads 1 >"$dir/out" 2>&1
        rss=$(sed -n 's/^rss_kb //p' "$dir/out" | sort -n | awk '{printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1024}')
        data=$(sed -n 's/^data (per process): //p' "$dir/out")
        echo "$b np=$np: peak RSS per process (MB): $rss; ${data:-no data line}"
    done
done
