#!/bin/sh
# bench-serve.sh [NCF] — load test of `ncf serve` (make bench): a NeuMF
# (factors 8, layers 64,32,16,8) trained on ../shared/data/ncf-ml-1m-half
# (synthetic data of the same shape when absent), served on a free loopback
# port, then wrk with 2 threads and 32 connections for NCF_WRK_SECONDS (30)
# on /v1/recommend?k=10 over random known users; then `ncf recommend --all
# -k 10` timed (best of 3). Prints a table and JSON lines.
set -e
ncf=${1:-./ncf}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
data=../shared/data/ncf-ml-1m-half/ml-1m-half
prefix="" first=0 users=2999
if [ ! -f "$data.train.rating" ]; then
    data="$dir/synth.tsv"
    "$ncf" synth --out "$data" --users 2999 --items 3706 --interactions 487650
    prefix=u first=1
fi
"$ncf" train --data "$data" --model neumf --factors 8 --layers 64,32,16,8 --epochs 3 --out "$dir/neumf.ncf" --quiet >/dev/null
"$ncf" serve --model "$dir/neumf.ncf" --port 0 > "$dir/serve.out" 2>&1 &
pid=$!
port=""
for i in $(seq 1 200); do
    port=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$dir/serve.out")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { echo "bench-serve: the server did not start" >&2; cat "$dir/serve.out" >&2; exit 1; }
secs=${NCF_WRK_SECONDS:-30}
echo "== wrk -t2 -c32 -d${secs}s /v1/recommend?user=<random>&k=10 (model: 3706 items scored per request)"
wrk -t2 -c32 -d"${secs}s" --latency -s scripts/wrk-recommend.lua "http://127.0.0.1:$port" -- $users "$prefix" 10 $first \
    | grep -E 'Latency|50%|99%|Requests/sec|Non-2xx|Socket errors|"bench"'
kill -TERM $pid
wait $pid || true
best=""
for i in 1 2 3; do
    t0=$(date +%s.%N)
    "$ncf" recommend --model "$dir/neumf.ncf" --all -k 10 --out "$dir/all.tsv"
    t1=$(date +%s.%N)
    best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { t = b - a; if (best == "" || t < best) best = t; printf "%.3f", best }')
done
echo "== ncf recommend --all -k 10: $(wc -l < "$dir/all.tsv") lines, best of 3: ${best} s"
echo "{\"bench\": \"recommend_all\", \"users\": $users, \"k\": 10, \"seconds\": $best}"
