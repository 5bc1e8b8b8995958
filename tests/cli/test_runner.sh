# tests/cli/test_runner.sh - the test runner itself: a test that skips (a
# tool it needs is missing) is printed and counted as skipped, never as
# passed, and SS_TEST_NO_SKIP=1 (set by .ci/run) turns a skip into a failure.

# A copy of the runner with one test file of a pass, a skip and a failure.
runner_demo() {
    mkdir -p "$T/rt/cli"
    cp "$ROOT/tests/run_cli_tests.sh" "$T/rt/"
    cp "$ROOT/tests/cli/lib.sh" "$T/rt/cli/"
    sed 's/^    //' > "$T/rt/cli/test_demo.sh" <<'DEMO'
    have_tool() { command -v stratsim-no-such-tool >/dev/null 2>&1 && return 0; skip "stratsim-no-such-tool not installed"; }
    test_passes() { true; }
    test_needs_tool() { have_tool || return 0; fail "ran without the tool"; }
    test_fails() { false; }
DEMO
}

test_runner_counts_skips() {
    runner_demo
    run env -u SS_TEST_NO_SKIP -u SS_TEST_JOBS sh "$T/rt/run_cli_tests.sh"
    expect_rc 1
    expect_out "cli: 1 passed, 1 failed, 1 skipped"
    expect_err "skip: stratsim-no-such-tool not installed"
    expect_err "SKIPPED: test_demo.sh: test_needs_tool"
    expect_err "FAILED: test_demo.sh: test_fails"
    case "$ERR" in *"FAILED: test_demo.sh: test_needs_tool"*) fail "a skip counted as a failure";; esac
}

test_runner_no_skip_in_ci() {
    runner_demo
    run env -u SS_TEST_JOBS SS_TEST_NO_SKIP=1 sh "$T/rt/run_cli_tests.sh"
    expect_rc 1
    expect_out "cli: 1 passed, 2 failed, 0 skipped"
    expect_err "FAILED: test_demo.sh: test_needs_tool"
    expect_err "SS_TEST_NO_SKIP=1 forbids skipping"
}

# SS_TEST_JOBS=N: the tests in N groups at once, counted as one run (each
# group's lines follow when it ends, on standard output)
test_runner_groups() {
    runner_demo
    run env -u SS_TEST_NO_SKIP SS_TEST_JOBS=2 sh "$T/rt/run_cli_tests.sh"
    expect_rc 1
    expect_out "cli: 1 passed, 1 failed, 1 skipped (2 groups)"
    expect_out "SKIPPED: test_demo.sh: test_needs_tool"
    expect_out "FAILED: test_demo.sh: test_fails"
    expect_out "cli: slowest files (s): "
    run env SS_TEST_NO_SKIP=1 SS_TEST_JOBS=3 sh "$T/rt/run_cli_tests.sh"
    expect_rc 1
    expect_out "cli: 1 passed, 2 failed, 0 skipped (3 groups)"
}
