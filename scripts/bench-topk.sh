#!/bin/sh
# bench-topk.sh [NCF] [BUILD] — `ncf recommend --all -k 10` (the top-K
# engine, src/model/topk.c) on MovieLens-20M-shaped synthetic data (`ncf
# synth --users 138000 --items 27000 --interactions 20000000`) for MF with
# 64 factors and NeuMF (factors 8, layers 64,32,16,8), each model as
# `ncf train --epochs 0` writes it: wall seconds of the whole command (model
# loading and the output file included), and apart the seconds of loading
# the model and answering one user. The machine's state first
# (BUILD/bench/bench_machine). Full-ranking evaluation on Gowalla is
# bench/bench_topk.c. NCF_TOPK_SHAPE="users items interactions" picks
# another size.
set -e
ncf=${1:-./ncf}
build=${2:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
set -- ${NCF_TOPK_SHAPE:-138000 27000 20000000}
users=$1 items=$2 n=$3
[ -x "$build/bench/bench_machine" ] && "$build/bench/bench_machine"
echo "== top-K for every user: ncf recommend --all -k 10, $users users x $items items ($n interactions), all cores"
"$ncf" synth --out "$dir/s.tsv" --users "$users" --items "$items" --interactions "$n" --seed 1
now() { date +%s.%N; }
printf "%-8s %10s %10s %10s\n" model all_s load_s users
for model in mf neumf; do
    case $model in
    mf) opts="--model mf --factors 64" ;;
    neumf) opts="--model neumf --factors 8 --layers 64,32,16,8" ;;
    esac
    "$ncf" train --data "$dir/s.tsv" $opts --epochs 0 --quiet --out "$dir/m.ncf" > /dev/null 2>&1
    t0=$(now)
    "$ncf" recommend --model "$dir/m.ncf" --all -k 10 --out "$dir/top.tsv"
    t1=$(now)
    u=$(head -n 1 "$dir/top.tsv" | cut -f 1)
    "$ncf" recommend --model "$dir/m.ncf" --user "$u" -k 10 > /dev/null
    t2=$(now)
    all=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    load=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
    lines=$(wc -l < "$dir/top.tsv")
    printf "%-8s %10s %10s %10s\n" $model "$all" "$load" $((lines / 10))
    echo "{\"bench\": \"recommend_all\", \"model\": \"$model\", \"users\": $users, \"items\": $items, \"k\": 10, \"seconds\": $all, \"load_one_user_seconds\": $load}"
    rm -f "$dir/m.ncf" "$dir/top.tsv"
done
