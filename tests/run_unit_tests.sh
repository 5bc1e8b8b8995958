#!/bin/sh
# Run the unit-test programs named on the command line (cmocka), at most
# SS_TEST_JOBS at once (`make test` sets it from the number of CPUs; they
# only share the CPUs: each test's files are its own). A line
# "unit: PROGRAM: N s, passed|FAILED" is printed as each ends; the whole
# output of every program follows at the end, in the order given, so that
# the lines of two programs never mix (with SS_TEST_QUIET=1 only the output
# of those that failed). SS_TEST_RUNNER (e.g. "valgrind --error-exitcode=1")
# is put before each program. Fails if any program failed.
set -u
jobs=${SS_TEST_JOBS:-1}
case "$jobs" in ''|*[!0-9]*|0) jobs=1 ;; esac
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=0
for t in "$@"; do
    i=$((i + 1))
    printf '%s %s\n' "$i" "$t"
done | xargs -P "$jobs" -L 1 sh -c '
    s=$(date +%s)
    if ${SS_TEST_RUNNER:-} "$2" >"$0/$1.log" 2>&1; then r=passed; else r=FAILED; echo "$2" >>"$0/failed"; fi
    echo "unit: $2: $(($(date +%s) - s)) s, $r"' "$dir"
i=0
for t in "$@"; do
    i=$((i + 1))
    if [ "${SS_TEST_QUIET:-0}" != 1 ] || grep -qxF "$t" "$dir/failed" 2>/dev/null; then
        cat "$dir/$i.log"
    fi
done
if [ -s "$dir/failed" ]; then
    echo "unit: FAILED:" $(cat "$dir/failed") >&2
    exit 1
fi
echo "unit: $# programs passed"
