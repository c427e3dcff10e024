#!/bin/sh
# bench-scale.sh [NCF] — NeuMF (paper preset, factors 8, layers 64,32,16,8,
# batch 256) for one epoch on `ncf synth` data of 1M, 4M and 16M
# interactions, users and items growing as in MovieLens-20M (138k users and
# 27k items at 20M): seconds per epoch, samples/s, cost per interaction and
# peak resident memory. Then, when Debian's python3-torch is installed, one
# epoch of the PyTorch reference (../shared/reference/ref_ncf.py) on
# ncf-ml-1m-half beside ncf's, and their ratio. NCF_SCALE="1000000 4000000"
# picks the sizes.
set -e
ncf=${1:-./ncf}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sizes=${NCF_SCALE:-"1000000 4000000 16000000"}
echo "== scaling: NeuMF, one epoch on synthetic data (MovieLens-20M proportions), all cores"
printf "%-12s %8s %7s %12s %9s %14s %9s\n" interactions users items samples/s epoch_s ns/interaction peak_MB
base=""
for n in $sizes; do
    users=$((n * 138000 / 20000000)); items=$((n * 27000 / 20000000))
    "$ncf" synth --out "$dir/s.tsv" --users $users --items $items --interactions $n --seed 1
    "$ncf" train --data "$dir/s.tsv" --model neumf --factors 8 --layers 64,32,16,8 --epochs 1 --no-eval --json \
        --quiet > "$dir/out.json" 2>/dev/null
    sps=$(sed -n 's/.*"samples_per_second": \([0-9.]*\).*/\1/p' "$dir/out.json" | head -1)
    secs=$(sed -n 's/.*"train_seconds": \([0-9.]*\).*/\1/p' "$dir/out.json" | head -1)
    rss=$(sed -n 's/.*"peak_rss_mb": \([0-9.]*\).*/\1/p' "$dir/out.json")
    per=$(awk -v s="$secs" -v n="$n" 'BEGIN { printf "%.1f", 1e9 * s / n }')
    [ -z "$base" ] && base=$per
    ratio=$(awk -v p="$per" -v b="$base" 'BEGIN { printf "%.2f", p / b }')
    printf "%-12s %8s %7s %12s %9s %14s %9s\n" $n $users $items $sps $secs "$per (x$ratio)" $rss
    echo "{\"bench\": \"scale\", \"interactions\": $n, \"users\": $users, \"items\": $items, \"samples_per_second\": $sps, \"epoch_seconds\": $secs, \"ns_per_interaction\": $per, \"cost_vs_smallest\": $ratio, \"peak_rss_mb\": $rss}"
    rm -f "$dir/s.tsv"
done
ref=../shared/reference/ref_ncf.py
data=../shared/data/ncf-ml-1m-half/ml-1m-half
if [ -f "$ref" ] && [ -f "$data.train.rating" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "== PyTorch reference vs ncf: NeuMF, one epoch on ncf-ml-1m-half, 2 threads"
    r=$(/usr/bin/python3 "$ref" "$data" --model neumf --epochs 1 --threads 2 | sed -n 's/.*"samples_per_s": \([0-9.]*\).*/\1/p')
    o=$("$ncf" train --data "$data" --model neumf --epochs 1 --threads 2 --json --quiet 2>/dev/null | sed -n 's/.*"samples_per_second": \([0-9.]*\).*/\1/p' | head -1)
    echo "pytorch $r samples/s, ncf $o samples/s: ncf is $(awk -v a="$o" -v b="$r" 'BEGIN { printf "%.1f", a / b }')x"
    echo "{\"bench\": \"reference\", \"pytorch_samples_per_second\": $r, \"ncf_samples_per_second\": $o}"
else
    echo "== PyTorch reference: skipped (needs Debian's python3-torch and ../shared)"
fi
