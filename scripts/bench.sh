#!/bin/sh
# bench.sh BUILD — runs the benchmark programs (make bench). Each prints a
# readable table and one JSON object per result.
set -e
build=${1:-build}
for b in "$build"/bench/bench_*; do
    echo "== $(basename "$b")"
    "$b"
done
