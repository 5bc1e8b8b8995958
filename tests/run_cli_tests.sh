#!/bin/sh
# Run the CLI and scenario tests (tests/cli/test_*.sh): each defines shell
# functions test_*; every function runs in a fresh temporary directory $T.
# Prints one line per failure and the closing "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${STRATSIM:?set STRATSIM to the stratsim binary}"
export STRATSIM DATA="$here/cli/data" ROOT=$(cd "$here/.." && pwd)
pass=0
failn=0
for f in "$here"/cli/test_*.sh; do
    names=$(grep -o '^test_[A-Za-z0-9_]*' "$f")
    for t in $names; do
        T=$(mktemp -d)
        # not inside `if`: errexit would be ignored in the subshell
        (. "$here/cli/lib.sh"; . "$f"; cd "$T" || exit 1; set -e; "$t")
        if [ $? = 0 ]; then
            pass=$((pass + 1))
        else
            echo "FAILED: $(basename "$f"): $t" >&2
            failn=$((failn + 1))
        fi
        rm -rf "$T"
    done
done
echo "cli: $pass passed, $failn failed"
[ "$failn" = 0 ]
