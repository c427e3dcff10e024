#!/bin/sh
# fuzz.sh BUILD SECONDS NAME... — replays and runs the libFuzzer harnesses
# that `make fuzz-build` put in BUILD/fuzz (tests/fuzz/fuzz_NAME.c).
# Each harness first replays its committed corpus, tests/fuzz/corpus/NAME
# (seeds and every crash found so far): any failure there is a regression.
# With SECONDS > 0 it then fuzzes for SECONDS, new inputs going to
# BUILD/corpus/NAME (not committed) and crashes to BUILD/crashes/NAME-*.
# Prints one line per harness (executions, seconds, corpus size); exits 1
# when any harness failed, with its log in BUILD/fuzz/NAME.log.
set -u
build=$1
secs=$2
shift 2
status=0
for name in "$@"; do
    bin=$build/fuzz/fuzz_$name
    seeds=tests/fuzz/corpus/$name
    work=$build/corpus/$name
    log=$build/fuzz/$name.log
    mkdir -p "$work" "$build/crashes" "$seeds"
    start=$(date +%s)
    if [ "$secs" -gt 0 ]; then
        "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$build/crashes/$name-" "$work" "$seeds" >"$log" 2>&1
    else
        "$bin" -runs=0 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$build/crashes/$name-" "$seeds" >"$log" 2>&1
    fi
    rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        what=ok
    else
        what="FAILED (exit $rc; see $log)"
        status=1
        grep -m 3 -E "ERROR|SUMMARY|runtime error|abort" "$log" | sed 's/^/    /'
    fi
    printf 'fuzz %-10s %s executions in %s s, corpus %s files: %s\n' "$name" "${execs:-?}" \
        "$((end - start))" "$(ls "$seeds" | wc -l)+$(ls "$work" | wc -l)" "$what"
done
exit $status
