#!/bin/sh
# demo.sh — the README's first command: generate the built-in synthetic
# dataset, train NeuMF on it, evaluate, and recommend for two users.
set -e
out=demo-out
mkdir -p "$out"
echo "== ncf synth: 2000 users, 1500 items, ~150000 interactions (power-law popularity, taste groups)"
./ncf synth --out "$out/synth.tsv"
echo "== ncf train: NeuMF (paper preset), leave-one-out split in memory, HR@10 / NDCG@10 after each epoch"
./ncf train --data "$out/synth.tsv" --model neumf --factors 8 --layers 64,32,16,8 --epochs 8 \
    --out "$out/neumf.ncf"
echo "== ncf eval: the saved model on the same split"
./ncf eval --model "$out/neumf.ncf" --data "$out/synth.tsv"
for u in u1 u2; do
    echo "== ncf recommend --user $u -k 5 (rank, item, score; never an item $u had in training)"
    ./ncf recommend --model "$out/neumf.ncf" --user "$u" -k 5
done
echo "== done: files in $out/"
