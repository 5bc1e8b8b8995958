#!/bin/sh
# Run the CLI and scenario tests (tests/cli/test_*.sh): each defines shell
# functions test_*; every function runs in a fresh temporary directory $T.
# Prints one line per failure and per skipped test, and the closing
# "cli: N passed, N failed, N skipped". A test skips by exiting with 77
# (skip in lib.sh: a tool it needs is missing); with SS_TEST_NO_SKIP=1 (set
# by .ci/run) a skipped test counts as failed. The five files that took
# longest are listed at the end (wall-clock seconds), to keep CI short.
#
# SS_TEST_JOBS=N runs the tests in N groups at once (the k-th test function
# in group k mod N; `make test` sets N from the number of CPUs): every test
# has its own directory and none waits on a clock it does not scale, so the
# groups only share the CPUs. Each group's lines are printed when it ends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${STRATSIM:?set STRATSIM to the stratsim binary}"
export STRATSIM DATA="$here/cli/data" ROOT=$(cd "$here/.." && pwd)
jobs=${SS_TEST_JOBS:-1}
case "$jobs" in ''|*[!0-9]*|0) jobs=1 ;; esac
# internal: `run_cli_tests.sh --group G TIMES` runs group G of $jobs and
# appends its times to the file TIMES (arguments, not variables, so that
# a test running the runner itself does not inherit them)
group= times=
if [ "${1:-}" = --group ]; then
    group=$2 times=$3
fi

if [ "$jobs" -gt 1 ] && [ -z "$group" ]; then
    dir=$(mktemp -d)
    g=0
    while [ "$g" -lt "$jobs" ]; do
        sh "$0" --group "$g" "$dir/times" >"$dir/out.$g" 2>&1 &
        g=$((g + 1))
    done
    wait
    pass=0 failn=0 skipn=0
    g=0
    while [ "$g" -lt "$jobs" ]; do
        grep -v '^cli: ' "$dir/out.$g"
        set -- $(sed -n 's/^cli: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$dir/out.$g")
        if [ $# = 3 ]; then
            pass=$((pass + $1)) failn=$((failn + $2)) skipn=$((skipn + $3))
        else
            echo "FAILED: group $g of the CLI tests ended without its count" >&2
            failn=$((failn + 1))
        fi
        g=$((g + 1))
    done
    echo "cli: slowest files (s): $(awk '{ t[$2] += $1 } END { for (f in t) print t[f], f }' "$dir/times" |
        sort -rn | head -5 | tr '\n' ' ')"
    echo "cli: $pass passed, $failn failed, $skipn skipped ($jobs groups)"
    rm -rf "$dir"
    [ "$failn" = 0 ]
    exit
fi

pass=0
failn=0
skipn=0
[ -n "$times" ] || times=$(mktemp)
k=0
for f in "$here"/cli/test_*.sh; do
    start=$(date +%s)
    names=$(grep -o '^test_[A-Za-z0-9_]*' "$f")
    for t in $names; do
        k=$((k + 1))
        if [ -n "$group" ] && [ $((k % jobs)) != "$group" ]; then
            continue
        fi
        T=$(mktemp -d)
        # not inside `if`: errexit would be ignored in the subshell
        (. "$here/cli/lib.sh"; . "$f"; cd "$T" || exit 1; set -e; "$t")
        rc=$?
        if [ "$rc" = 0 ]; then
            pass=$((pass + 1))
        elif [ "$rc" = 77 ] && [ "${SS_TEST_NO_SKIP:-0}" != 1 ]; then
            echo "SKIPPED: $(basename "$f"): $t" >&2
            skipn=$((skipn + 1))
        else
            [ "$rc" = 77 ] && echo "    (skipped, and SS_TEST_NO_SKIP=1 forbids skipping)" >&2
            echo "FAILED: $(basename "$f"): $t" >&2
            failn=$((failn + 1))
        fi
        rm -rf "$T"
    done
    echo "$(($(date +%s) - start)) $(basename "$f")" >>"$times"
done
if [ -z "$group" ]; then
    echo "cli: slowest files (s): $(sort -rn "$times" | head -5 | tr '\n' ' ')"
    rm -f "$times"
fi
echo "cli: $pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
