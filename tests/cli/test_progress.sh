# tests/cli/test_progress.sh - the progress bar of long jobs on a terminal
# (through a pseudo-terminal, tests/cli/pty_drive.py): mc, sens (tornado and
# Sobol), calibrate (total unknown), optimize (starts), and sc:montecarlo{}
# in the REPL; Ctrl-C says what was done and that nothing was written; no
# bar when stderr is not a terminal. Each job is large and interrupted once
# its bar (drawn after a second) shows, so the tests take a few seconds.

B="$ROOT/scenarios/baseline.lua"

# tty ARGS... <<EOF: `stratsim ARGS` on a pseudo-terminal following the script
tty() {
    cat > "$T/pty.script"
    STRATSIM_HISTORY= python3 "$ROOT/tests/cli/pty_drive.py" "$T/pty.script" -- "$STRATSIM" "$@" \
        > "$T/pty.out" 2>&1 || { cat "$T/pty.out" >&2; fail "pseudo-terminal session failed"; }
}

test_progress_mc_interrupted() {
    tty mc "$B" --runs 2000000 --threads 2 -o mc.csv <<'EOF'
expect baseline [
expect /2,000,000 runs ETA
sendnow \x03
expect stratsim: interrupted after
expect of 2,000,000 runs; nothing was written
exit 1
EOF
    expect_no_file mc.csv; expect_no_file mc.csv.json; expect_no_temp .
}

test_progress_sobol_interrupted() {
    tty sens "$B" --method sobol --samples 65536 --outputs npv:alibaba -o s.csv <<'EOF'
expect /458,752 runs ETA
sendnow \x03
expect of 458,752 runs; nothing was written
exit 1
EOF
    expect_no_file s.csv
}

test_progress_tornado_completes() {
    # a tornado over a fine time grid: the bar, then the table
    tty sens "$B" --set time.step=0.0002 --set solver.rtol=1e-12 --outputs npv:alibaba <<'EOF'
expect /11 runs
expect Tornado: baseline, 5 parameters, 11 runs
exit 0
EOF
}

test_progress_calibrate_unknown_total() {
    tty calibrate "$B" --data "$ROOT/scenarios/data/china_public_cloud_iaas.csv" \
        --fit 'segments.public.tau=0.2,5' --fit 'segments.public.growth=0,1' --central \
        --set time.step=0.0005 --set solver.rtol=1e-12 --max-iter 100000 -o r.csv <<'EOF'
expect runs, 1s
sendnow \x03
expect stratsim: interrupted after
expect runs; nothing was written
exit 1
EOF
    expect_no_file r.csv
}

test_progress_optimize_starts() {
    tty optimize "$DATA/analysis.lua" --starts 100000 -o o.csv <<'EOF'
expect analysis [
expect /100,000 starts ETA
sendnow \x03
expect of 100,000 starts; nothing was written
exit 1
EOF
    expect_no_file o.csv
}

test_progress_repl_montecarlo() {
    tty repl "$B" <<'EOF'
expect stratsim> 
send r = sc:montecarlo{runs = 2000000}\r
expect montecarlo baseline [
expect /2,000,000 runs ETA
sendnow \x03
expect stdin:1: montecarlo: interrupted after 
expect  of 2,000,000 runs\nstratsim> 
send r == nil\r
expect \ntrue\n
expect stratsim> 
send \x04
exit 0
EOF
}

test_progress_silent_without_terminal() {
    # the same kind of job with stderr in a file: no bar, nothing on stderr
    run "$STRATSIM" sens "$B" --set time.step=0.0005 --set solver.rtol=1e-12 --outputs npv:alibaba
    expect_rc 0; expect_out "Tornado: baseline"
    [ ! -s "$T/stderr" ] || fail "stderr not empty: $(cat -v "$T/stderr" | head -c 300)"
}
