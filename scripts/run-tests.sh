#!/bin/sh
# run-tests.sh BUILD TEST... — runs every cmocka test binary from the
# repository root, adds up passed / failed / skipped tests, prints one
# closing line "N passed, N failed, N skipped" and exits non-zero if any
# test or binary failed.
build=$1
shift
passed=0; failed=0; skipped=0; broken=0
log=$(mktemp)
for t in "$@"; do
    name=$(basename "$t")
    echo "== $name"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    if [ $rc -ne 0 ] && [ -z "$f" ]; then
        echo "!! $name exited with status $rc"
        broken=$((broken + 1))
    fi
done
rm -f "$log"
failed=$((failed + broken))
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
