#!/bin/sh
# bench-mpi.sh [NCF] [MPI_NCF] — sharded training on ncf-ml-1m-half (NeuMF
# defaults, --shards 24, EPOCHS (2) epochs without evaluation): one process with two
# threads (NCF, the build without MPI) against two processes of one thread
# (mpirun -np 2 MPI_NCF, a build with make MPI=1), and today's order
# without --shards on two threads beside them; the three alternate, ROUNDS
# (3) times, and the medians of the per-epoch samples/s are printed with
# their ratios, with the bytes per sample each process puts into the
# reductions and the share of the training time spent in them (rank 0).
# Skipped, saying so, without the data, mpirun or the MPI build.
set -e
ncf=${1:-./ncf}
mpi=${2:-build-mpi/ncf}
data=../shared/data/ncf-ml-1m-half/ml-1m-half
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-2}
echo "== sharded training: 2 processes x 1 thread against 1 process x 2 threads (NeuMF, ncf-ml-1m-half)"
if [ ! -f "$data.train.rating" ]; then echo "skipped: $data absent"; exit 0; fi
if ! command -v mpirun >/dev/null 2>&1 || [ ! -x "$mpi" ]; then
    echo "skipped: no mpirun or no MPI build at $mpi (make MPI=1 BUILD=build-mpi TOOL=$mpi $mpi)"; exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args="--data $data --model neumf --epochs $epochs --no-eval --json"
# samples/s of each epoch of a --json run on stdout
sps() { sed -n 's/.*"samples_per_second": \([0-9.]*\).*/\1/p' "$1"; }
for r in $(seq "$rounds"); do
    "$ncf" train $args --threads 2 > "$dir/today.$r" 2>/dev/null
    "$ncf" train $args --threads 2 --shards 24 > "$dir/one.$r" 2>"$dir/one.err.$r"
    mpirun --allow-run-as-root --oversubscribe -np 2 "$mpi" train $args --threads 1 --shards 24 \
        > "$dir/two.$r" 2>"$dir/two.err.$r"
done
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
t=$(for r in $(seq "$rounds"); do sps "$dir/today.$r"; done | median)
o=$(for r in $(seq "$rounds"); do sps "$dir/one.$r"; done | median)
w=$(for r in $(seq "$rounds"); do sps "$dir/two.$r"; done | median)
comm=$(sed -n 's/^communication (rank 0): //p' "$dir/two.err.$rounds")
bps=$(echo "$comm" | sed -n 's/.* \([0-9]*\) bytes per sample.*/\1/p')
share=$(echo "$comm" | sed -n 's/.*(\([0-9]*\) % of the training time).*/\1/p')
printf "%-36s %12s\n" "run (median of $rounds x $epochs epochs)" samples/s
printf "%-36s %12.0f\n" "today's order, 1 process x 2 threads" "$t" "--shards 24, 1 process x 2 threads" "$o" \
    "--shards 24, 2 processes x 1 thread" "$w"
echo "2 x 1 / 1 x 2 (sharded): $(awk -v a="$w" -v b="$o" 'BEGIN { printf "%.2f", a / b }'); against today's order: $(awk -v a="$w" -v b="$t" 'BEGIN { printf "%.2f", a / b }')"
echo "2 processes: $comm"
echo "{\"bench\": \"mpi\", \"today_2t\": $t, \"shards_1x2\": $o, \"shards_2x1\": $w, \"bytes_per_sample\": ${bps:-0}, \"comm_share_percent\": ${share:-0}}"
