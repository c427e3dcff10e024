#!/bin/sh
# foldin-split.sh [OUTDIR] — the fold-in experiment's files (docs/results.md,
# "Fold-in"), cut from the NCF authors' split ../shared/data/ncf-ml-1m-half:
#   OUTDIR/old.{train.rating,test.rating,test.negative}  users 0..2499: their
#       training interactions and test cases (what the fold-in models train on)
#   OUTDIR/new.{train.rating,test.rating,test.negative}  users 2500..2998:
#       their training interactions (the history folded in), test cases and
#       listed negatives (what `ncf eval --fold-in` evaluates)
# Lines are copied unchanged, in file order. Writes nothing else; each file
# goes to a temporary name first, so an interrupted run leaves no half file.
set -eu
cd "$(dirname "$0")/.."
out=${1:-foldin-out}
ml=../shared/data/ncf-ml-1m-half/ml-1m-half
for f in train.rating test.rating test.negative; do
    [ -f "$ml.$f" ] || { echo "foldin-split.sh: $ml.$f is absent" >&2; exit 1; }
done
mkdir -p "$out"
for part in old new; do
    for f in train.rating test.rating test.negative; do
        # the user is field 1, or "(user,item)" in the .negative file
        awk -v part="$part" -F'\t' '{ u = $1; if (u ~ /^\(/) { split(substr(u, 2), a, ","); u = a[1] }
             if ((part == "old") == (u + 0 < 2500)) print }' "$ml.$f" >"$out/$part.$f.tmp"
        mv "$out/$part.$f.tmp" "$out/$part.$f"
    done
done
echo "foldin-split.sh: $out/old.* (users 0..2499), $out/new.* (users 2500..2998)"
