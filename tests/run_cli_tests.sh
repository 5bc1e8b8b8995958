#!/bin/sh
# Run the CLI and scenario tests (tests/cli/test_*.sh): each defines shell
# functions test_*; every function runs in a fresh temporary directory $T.
# Prints one line per failure and per skipped test, and the closing
# "cli: N passed, N failed, N skipped". A test skips by exiting with 77
# (skip in lib.sh: a tool it needs is missing); with SS_TEST_NO_SKIP=1 (set
# by .ci/run) a skipped test counts as failed. The five files that took
# longest are listed at the end (wall-clock seconds), to keep CI short.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${STRATSIM:?set STRATSIM to the stratsim binary}"
export STRATSIM DATA="$here/cli/data" ROOT=$(cd "$here/.." && pwd)
pass=0
failn=0
skipn=0
times=$(mktemp)
for f in "$here"/cli/test_*.sh; do
    start=$(date +%s)
    names=$(grep -o '^test_[A-Za-z0-9_]*' "$f")
    for t in $names; do
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
echo "cli: slowest files (s): $(sort -rn "$times" | head -5 | tr '\n' ' ')"
rm -f "$times"
echo "cli: $pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
