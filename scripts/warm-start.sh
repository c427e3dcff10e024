#!/bin/sh
# warm-start.sh [OUTDIR] — the daily-retraining experiment of docs/results.md
# on ../shared/data/ncf-ml-1m-half: NeuMF (defaults) trained 10 epochs on the
# interactions and test cases of users 0..2499 only, then warm-started
# (--init) on all 2,999 users for 5 epochs, against 20 epochs from scratch
# on all users; and the warm-started model on the 499 new users alone.
# Prints each run's final JSON line. Needs ./ncf (make).
set -eu
cd "$(dirname "$0")/.."
out=${1:-warm-out}
ml=../shared/data/ncf-ml-1m-half/ml-1m-half
[ -f "$ml.train.rating" ] || { echo "warm-start.sh: $ml.train.rating is absent" >&2; exit 1; }
[ -x ./ncf ] || { echo "warm-start.sh: build ./ncf first (make)" >&2; exit 1; }
mkdir -p "$out"
for part in old new; do # old: users 0..2499, new: 2500..2998
    for f in train.rating test.rating test.negative; do
        awk -v part="$part" -F'\t' '{ u = $1; if ($1 ~ /^\(/) { split(substr($1, 2), a, ","); u = a[1] }
             if ((part == "old") == (u + 0 < 2500)) print }' "$ml.$f" >"$out/$part.$f"
    done
done
last() { tail -n 1 "$1"; }
./ncf train --data "$out/old" --epochs 10 --json --quiet --out "$out/day1.ncf" >"$out/day1.jsonl"
echo "day 1, users 0..2499, 10 epochs: $(last "$out/day1.jsonl")"
./ncf train --data "$ml" --init "$out/day1.ncf" --epochs 5 --json --quiet --out "$out/day2.ncf" >"$out/day2.jsonl"
echo "day 2, warm start on all users, 5 epochs: $(last "$out/day2.jsonl")"
./ncf eval --model "$out/day2.ncf" --data "$out/new" --json >"$out/day2-new.json"
echo "day 2 model on the new users 2500..2998: $(last "$out/day2-new.json")"
./ncf train --data "$ml" --epochs 20 --json --quiet --out "$out/scratch.ncf" >"$out/scratch.jsonl"
echo "from scratch on all users, 20 epochs: $(last "$out/scratch.jsonl")"
./ncf eval --model "$out/scratch.ncf" --data "$out/new" --json >"$out/scratch-new.json"
echo "scratch model on the new users 2500..2998: $(last "$out/scratch-new.json")"
