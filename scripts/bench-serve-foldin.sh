#!/bin/sh
# bench-serve-foldin.sh [NCF] — load test of fold-in in `ncf serve` (make
# bench): the NeuMF of bench-serve.sh (factors 8, layers 64,32,16,8, 3
# epochs on ../shared/data/ncf-ml-1m-half, synthetic data of the same shape
# when absent) served on a free loopback port, then wrk with 2 threads and
# 32 connections for NCF_WRK_SECONDS (30) posting {"history": [50 items],
# "k": 10} to /v1/recommend: each request folds in a user the model does
# not know and ranks the 3,706 items for them. Prints wrk's latency lines
# and a JSON line.
set -e
ncf=${1:-./ncf}
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
data=../shared/data/ncf-ml-1m-half/ml-1m-half
prefix="" first=0 items=3706
if [ ! -f "$data.train.rating" ]; then
    data="$dir/synth.tsv"
    "$ncf" synth --out "$data" --users 2999 --items 3706 --interactions 487650
    prefix=i first=1
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
[ -n "$port" ] || { echo "bench-serve-foldin: the server did not start" >&2; cat "$dir/serve.out" >&2; exit 1; }
secs=${NCF_WRK_SECONDS:-30}
echo "== wrk -t2 -c32 -d${secs}s POST /v1/recommend {\"history\": [50 items], \"k\": 10} (fold-in, 3706 items ranked)"
wrk -t2 -c32 -d"${secs}s" --latency -s scripts/wrk-foldin.lua "http://127.0.0.1:$port" -- $items "$prefix" 10 $first 50 \
    | grep -E 'Latency|50%|99%|Requests/sec|Non-2xx|Socket errors|"bench"'
kill -TERM $pid
wait $pid || true
pid=""
