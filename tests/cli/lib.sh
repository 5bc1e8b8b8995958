# tests/cli/lib.sh - tiny assertion helpers for the shell tests.
# Each test file defines functions named test_*; run_cli_tests.sh sources this,
# runs them, and prints "N passed, N failed".
: "${STRATSIM:?set STRATSIM to the stratsim binary}"
export LC_ALL=C

# run CMD...: runs it, capturing $OUT, $ERR and $RC.
run() {
    if "$@" >"$T/stdout" 2>"$T/stderr"; then RC=0; else RC=$?; fi
    OUT=$(cat "$T/stdout")
    ERR=$(cat "$T/stderr")
}
# skip WHY: the test cannot run here (a tool is missing): the runner counts
# it as skipped, not passed (SS_TEST_NO_SKIP=1, set by .ci/run, fails it).
skip() { echo "    skip: $*" >&2; exit 77; }
fail() { echo "    FAIL: $*" >&2; echo "    stdout: $(head -c 600 "$T/stdout")" >&2; echo "    stderr: $(head -c 600 "$T/stderr")" >&2; return 1; }
expect_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }
expect_out() { case "$OUT" in *"$1"*) ;; *) fail "stdout lacks '$1'";; esac; }
expect_err() { case "$ERR" in *"$1"*) ;; *) fail "stderr lacks '$1'";; esac; }
expect_no_err() { [ -z "$ERR" ] || fail "unexpected stderr"; }
expect_file() { [ -s "$1" ] || fail "file $1 missing or empty"; }
expect_no_file() { [ ! -e "$1" ] || fail "file $1 should not exist"; }
# no temporary files left in a directory
expect_no_temp() { [ -z "$(ls -A "$1" | grep '^\.' )" ] || fail "temporary files left in $1: $(ls -A "$1")"; }
