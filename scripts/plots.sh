#!/bin/sh
# plots.sh NCF — training curves on the shared MovieLens split for
# docs/results.md: GMF, MLP and NeuMF with the paper's settings (factors 8,
# layers 64,32,16,8, 20 epochs, batch 256, Adam 0.001, 4 negatives, seed 1),
# each run's `ncf train --json` kept in build/plots/MODEL.jsonl, drawn with
# `python3 -m ncf.plot` into docs/img/. DATA overrides the data prefix.
set -e
ncf=${1:-./ncf}
py=${PYTHON:-/usr/bin/python3}
data=${DATA:-../shared/data/ncf-ml-1m-half/ml-1m-half}
[ -e "$data.train.rating" ] || data=/work/shared/data/ncf-ml-1m-half/ml-1m-half
if [ ! -e "$data.train.rating" ]; then
    echo "plots: $data.train.rating is absent: nothing to plot" >&2
    exit 1
fi
mkdir -p build/plots docs/img
for m in gmf mlp neumf; do
    echo "plots: training $m on $data" >&2
    "$ncf" train --data "$data" --model "$m" --factors 8 --layers 64,32,16,8 --epochs 20 --batch 256 \
        --lr 0.001 --neg 4 --seed 1 --topk 10,20 --json --quiet > "build/plots/$m.jsonl"
done
export PYTHONPATH=python${PYTHONPATH:+:$PYTHONPATH}
"$py" -m ncf.plot build/plots/gmf.jsonl build/plots/mlp.jsonl build/plots/neumf.jsonl \
    --labels GMF,MLP,NeuMF --metrics hr@10,ndcg@10 \
    --title "ml-1m-half: paper settings, seed 1 (test HR@10, NDCG@10 per epoch)" \
    -o docs/img/ml-1m-half-curves.png
"$py" -m ncf.plot build/plots/gmf.jsonl build/plots/mlp.jsonl build/plots/neumf.jsonl \
    --labels GMF,MLP,NeuMF --metrics hr@20,ndcg@20,mrr@10 \
    --title "ml-1m-half: HR@20, NDCG@20 and MRR@10 of the same runs" \
    -o docs/img/ml-1m-half-curves-at20.png
