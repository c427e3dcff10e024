#!/bin/sh
# bench-load.sh [NCF] — loading at the scale of MovieLens-20M: `ncf synth`
# data of 20M interactions (138k users, 27k items; ~520 MB, 20.1M lines),
# then, three times each (the median is reported): `ncf train --epochs 0`
# on the file (read, split leave-one-out, 99 test negatives per user, the
# model and trainer set up, no epoch), `ncf split` of it into the NCF
# format, and `ncf train --epochs 0` on that prefix. Wall seconds, CPU
# seconds (user + system, all threads: the steadier figure on a shared
# machine) and peak resident memory (GNU time). NCF_LOAD_N=2000000 picks
# another size (users and items in proportion). The data goes to a
# temporary directory (TMPDIR) and is removed.
set -e
ncf=${1:-./ncf}
n=${NCF_LOAD_N:-20000000}
gtime=/usr/bin/time
[ -x "$gtime" ] || { echo "== loading: skipped (needs GNU time: apt-get install time)"; exit 0; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
users=$((n * 138000 / 20000000)); items=$((n * 27000 / 20000000))
"$ncf" synth --out "$dir/big.tsv" --users $users --items $items --interactions $n --seed 1
bytes=$(wc -c < "$dir/big.tsv"); lines=$(wc -l < "$dir/big.tsv")
echo "== loading: $n interactions ($lines lines, $((bytes / 1000000)) MB), $users users, $items items; median of 3"
printf "%-34s %9s %9s %9s %9s\n" what wall_s MB/s cpu_s peak_MB
# run NAME CMD...: three timed runs; prints the median wall time, that run's CPU time and peak RSS
run() {
    name=$1; shift
    for k in 1 2 3; do
        "$gtime" -f "%e %M %U %S" -o "$dir/t.$k" "$@" >/dev/null 2>&1 || { echo "$name: failed: $*" >&2; exit 1; }
    done
    set -- $(cat "$dir/t.1" "$dir/t.2" "$dir/t.3" | sort -n | sed -n 2p)
    mbs=$(awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? b / s / 1e6 : 0) }')
    mb=$(awk -v k="$2" 'BEGIN { printf "%.0f", k / 1024 }')
    cpu=$(awk -v u="$3" -v s="$4" 'BEGIN { printf "%.2f", u + s }')
    printf "%-34s %9s %9s %9s %9s\n" "$name" "$1" "$mbs" "$cpu" "$mb"
    echo "{\"bench\": \"load\", \"what\": \"$name\", \"interactions\": $n, \"lines\": $lines, \"bytes\": $bytes, \"wall_seconds\": $1, \"mb_per_second\": $mbs, \"cpu_seconds\": $cpu, \"peak_rss_mb\": $mb}"
}
run "train --epochs 0 (one file)" "$ncf" train --data "$dir/big.tsv" --epochs 0 --quiet
run "split" "$ncf" split "$dir/big.tsv" --out "$dir/p"
run "train --epochs 0 (NCF prefix)" "$ncf" train --data "$dir/p" --epochs 0 --quiet
