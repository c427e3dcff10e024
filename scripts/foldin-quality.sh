#!/bin/sh
# foldin-quality.sh [OUTDIR] — the fold-in experiment of docs/results.md on
# ../shared/data/ncf-ml-1m-half: NeuMF (defaults) and MF (64 factors,
# --reg-emb 1e-3), 20 epochs each, trained on users 0..2499 only and
# evaluated with `ncf eval --fold-in` on users 2500..2998 (their training
# interactions folded in), against the same models trained on all users
# and evaluated on the same test cases, and against the popular-items
# fallback (what recommend and serve answer a user the model does not know:
# items by training count in the 0..2499 model, ranked under eval's rule
# that a tie counts against the held-out item). Sampled protocol (the
# listed 99 negatives) and full ranking, HR@10 / NDCG@10. The files come
# from scripts/foldin-split.sh. Prints one line per figure. Needs ./ncf.
set -eu
cd "$(dirname "$0")/.."
out=${1:-foldin-out}
ml=../shared/data/ncf-ml-1m-half/ml-1m-half
[ -x ./ncf ] || { echo "foldin-quality.sh: build ./ncf first (make)" >&2; exit 1; }
sh scripts/foldin-split.sh "$out" >/dev/null
hr() { sed 's/.*"hr@10": \([0-9.]*\).*"ndcg@10": \([0-9.]*\).*/HR@10 \1  NDCG@10 \2/'; }
for m in neumf mf; do
    opts=""
    [ "$m" = mf ] && opts="--factors 64 --reg-emb 1e-3"
    # shellcheck disable=SC2086
    ./ncf train --data "$out/old" --model $m $opts --epochs 20 --json --quiet --out "$out/old-$m.ncf" >"$out/old-$m.jsonl"
    # shellcheck disable=SC2086
    ./ncf train --data "$ml" --model $m $opts --epochs 20 --json --quiet --out "$out/all-$m.ncf" >"$out/all-$m.jsonl"
    for ev in sampled full; do
        ./ncf eval --model "$out/old-$m.ncf" --data "$out/new" --fold-in --eval $ev --json >"$out/foldin-$m-$ev.json"
        ./ncf eval --model "$out/all-$m.ncf" --data "$out/new" --eval $ev --json >"$out/all-$m-$ev.json"
        echo "$m $ev: users 0..2499 + fold-in: $(hr <"$out/foldin-$m-$ev.json")" \
             "($(sed 's/.*"folded_in": \([0-9]*\).*/\1/' "$out/foldin-$m-$ev.json") folded in)"
        echo "$m $ev: trained with all users:   $(hr <"$out/all-$m-$ev.json")"
    done
done
# the popular fallback: counts from users 0..2499's training interactions
for ev in sampled full; do
    # the model's items: ids up to the largest in its training and test ratings
    n_items=$(awk -F'\t' '$2 + 1 > n { n = $2 + 1 } END { print n }' "$out/old.train.rating" "$out/old.test.rating")
    awk -F'\t' -v ev="$ev" -v n_items="$n_items" '
        FILENAME ~ /old\.train\.rating$/ { cnt[$2]++; next }
        FILENAME ~ /new\.train\.rating$/ { seen[$1 "," $2] = 1; next }
        FILENAME ~ /new\.test\.negative$/ {
            split(substr($1, 2, length($1) - 2), h, ","); u = h[1]; i = h[2]; c = cnt[i] + 0; r = 0
            if (ev == "sampled") {
                delete got
                for (k = 2; k <= NF; k++) if ($k != i && !($k in got)) { got[$k] = 1; r += (cnt[$k] + 0 >= c) }
            } else {
                for (j = 0; j < n_items; j++) if (j != i && !((u "," j) in seen)) r += (cnt[j] + 0 >= c)
            }
            n++; if (r < 10) { hit++; ndcg += log(2) / log(r + 2) }
        }
        END { printf "popular %s: the fallback for unknown users: HR@10 %.6f  NDCG@10 %.6f\n", ev, hit / n, ndcg / n }
    ' "$out/old.train.rating" "$out/new.train.rating" "$out/new.test.negative"
done
