#!/bin/sh
# reproduce.sh — the runs behind docs/results.md's issue-4 tables, on the
# shared data. Usage: scripts/reproduce.sh pretrain|gowalla|ml1m [OUTDIR]
#   pretrain  GMF 64 and MLP 256,128,64 on ncf-ml-1m-half, 10 epochs each,
#             then NeuMF 64 / 256,128,64 from them with SGD (2 epochs)
#   gowalla   MF, NeuMF, and NeuMF pre-trained from that MF and an MLP, on
#             Gowalla (train = train.txt + valid.txt, test = test.txt), full
#             ranking over all items, Recall@20 and NDCG@20
#   ml1m      MF beside NeuMF on ncf-ml-1m-half (sampled protocol)
#   table     GMF, MLP, NeuMF and MF with their defaults on every shared
#             dataset that has a training set, sampled protocol, as a
#             markdown table (docs/results.md)
# Prints each run's final JSON line and its wall time. Needs ./ncf (make).
set -eu
cd "$(dirname "$0")/.."
what=${1:-}
out=${2:-reproduce-out}
data=../shared/data
ncf=./ncf
[ -x "$ncf" ] || { echo "reproduce.sh: build ./ncf first (make)" >&2; exit 1; }
mkdir -p "$out"

run() { # NAME ARGS...: runs ncf train --json, keeps the log, prints the summary
    name=$1
    shift
    t0=$(date +%s.%N)
    "$ncf" train "$@" --json --quiet >"$out/$name.jsonl" 2>"$out/$name.err"
    t1=$(date +%s.%N)
    printf '%s: %.1f s: %s\n' "$name" "$(awk "BEGIN { print $t1 - $t0 }")" "$(tail -n 1 "$out/$name.jsonl")"
}

case "$what" in
pretrain)
    ml=$data/ncf-ml-1m-half/ml-1m-half
    [ -f "$ml.train.rating" ] || { echo "reproduce.sh: $ml.train.rating is absent" >&2; exit 1; }
    run gmf64 --data "$ml" --model gmf --factors 64 --epochs 10 --out "$out/g64.ncf"
    run mlp256 --data "$ml" --model mlp --layers 256,128,64 --epochs 10 --out "$out/m256.ncf"
    run neumf-pretrained --data "$ml" --model neumf --factors 64 --layers 256,128,64 \
        --pretrain-gmf "$out/g64.ncf" --pretrain-mlp "$out/m256.ncf" --optimizer sgd --lr 0.0001 --epochs 2
    ;;
gowalla)
    gw=$data/gowalla
    [ -f "$gw/train.txt" ] || { echo "reproduce.sh: $gw/train.txt is absent" >&2; exit 1; }
    cat "$gw/train.txt" "$gw/valid.txt" >"$out/gowalla-trainvalid.txt"
    g="--data $out/gowalla-trainvalid.txt --test $gw/test.txt --eval full --topk 20"
    # shellcheck disable=SC2086
    run gowalla-mf $g --model mf --factors 64 --loss bce --neg 8 --batch 1024 --lr 0.001 --reg-emb 1e-3 \
        --epochs 10 --eval-every 5 --out "$out/gowalla-mf.ncf"
    # shellcheck disable=SC2086
    run gowalla-neumf $g --model neumf --factors 64 --layers 64,32,16,8 --loss bce --neg 4 --batch 1024 \
        --lr 0.001 --reg-emb 1e-3 --rows lazy --epochs 10 --eval-every 10 --out "$out/gowalla-neumf.ncf"
    # NeuMF pre-trained from the MF above (as a GMF part of 64 + 2 factors) and an MLP
    # shellcheck disable=SC2086
    run gowalla-mlp $g --model mlp --layers 64,32,16,8 --loss bce --neg 8 --batch 1024 --lr 0.001 \
        --reg-emb 1e-3 --rows lazy --epochs 10 --eval-every 10 --out "$out/gowalla-mlp.ncf"
    # shellcheck disable=SC2086
    run gowalla-neumf-pretrained $g --model neumf --factors 66 --layers 64,32,16,8 --loss bce --neg 8 \
        --batch 1024 --pretrain-gmf "$out/gowalla-mf.ncf" --pretrain-mlp "$out/gowalla-mlp.ncf" \
        --optimizer sgd --lr 0.0001 --epochs 2 --out "$out/gowalla-neumf-pretrained.ncf"
    t0=$(date +%s.%N)
    "$ncf" eval --model "$out/gowalla-mf.ncf" --data "$out/gowalla-trainvalid.txt" --test "$gw/test.txt" \
        --eval full --topk 20 --json
    t1=$(date +%s.%N)
    printf 'one full-ranking evaluation of MF: %.1f s\n' "$(awk "BEGIN { print $t1 - $t0 }")"
    ;;
ml1m)
    ml=$data/ncf-ml-1m-half/ml-1m-half
    [ -f "$ml.train.rating" ] || { echo "reproduce.sh: $ml.train.rating is absent" >&2; exit 1; }
    run ml1m-mf --data "$ml" --model mf --factors 64 --reg-emb 1e-3 --epochs 20
    run ml1m-neumf --data "$ml" --model neumf --factors 8 --layers 64,32,16,8 --epochs 20
    ;;
table)
    echo "| data | model | best HR@10 | best NDCG@10 | epoch | final HR@10 / NDCG@10 | train s/epoch |"
    echo "|---|---|---|---|---|---|---|"
    for d in ncf-ml-1m-half/ml-1m-half ml-1m-users1-2999/ratings.dat ml-100k/u.data ml-latest-small/ratings.csv \
        lastfm-hetrec2011-2k/user_artists.dat; do
        path=$data/$d
        [ -e "$path" ] || [ -e "$path.train.rating" ] || { echo "| $d | absent, skipped | | | | | |"; continue; }
        for m in gmf mlp neumf mf; do
            case $m in
            mf) extra="--factors 64 --reg-emb 1e-3" ;;
            *) extra="" ;;
            esac
            # shellcheck disable=SC2086
            "$ncf" train --data "$path" --model $m $extra --json --quiet >"$out/table.jsonl" 2>/dev/null
            awk -v d="$d" -v m="$m" '
                function num(k,   i) { i = index($0, "\"" k "\": "); return substr($0, i + length(k) + 4) + 0 }
                /"train_seconds"/ { ts += num("train_seconds"); n++ }
                /"best_epoch"/ { printf "| %s | %s | %.4f | %.4f | %d | %.4f / %.4f | %.2f |\n", d, m, num("best_hr"),
                                  num("best_ndcg"), num("best_epoch"), num("final_hr"), num("final_ndcg"), ts / n }' \
                "$out/table.jsonl"
        done
    done
    ;;
*)
    echo "usage: scripts/reproduce.sh pretrain|gowalla|ml1m|table [OUTDIR]" >&2
    exit 2
    ;;
esac
