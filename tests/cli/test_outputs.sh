# tests/cli/test_outputs.sh - outputs never destroy inputs or each other,
# devices written in place are never removed, and no temporary file
# survives a fatal signal (docs/robustness.md).

# s.lua includes base.lua (the analysis fixture); p.lua is a --params file;
# d.csv calibration data.
io_files() {
    cp "$DATA/analysis.lua" base.lua
    echo 'return stratsim.include("base.lua")' > s.lua
    echo 'return { ["segments.public.tau"] = 1.5 }' > p.lua
    printf 'time,provider,segment,metric,value\n2022.5,alibaba,public,share,0.35\n2023.5,alibaba,public,share,0.33\n' > d.csv
    sums=$(cat s.lua base.lua p.lua d.csv | cksum)
}

# refused "MESSAGE" ARGS...: `stratsim ARGS` exits 2 with MESSAGE, writes
# nothing, and every input is unchanged.
refused() {
    msg=$1; shift
    before=$(ls -A | grep -vx "stdout\|stderr" | sort)
    run "$STRATSIM" "$@"
    expect_rc 2; expect_err "$msg"
    [ "$(cat s.lua base.lua p.lua d.csv | cksum)" = "$sums" ] || fail "an input was changed by: $*"
    [ "$(ls -A | grep -vx "stdout\|stderr" | sort)" = "$before" ] || fail "files appeared: $(ls -A)"
}

test_output_onto_scenario_or_include_refused() {
    io_files
    refused "run: -o s.lua would overwrite the scenario file s.lua" run s.lua -o s.lua
    refused "run: -o ./s.lua would overwrite the scenario file s.lua" run s.lua -o ./s.lua
    refused "-o base.lua would overwrite the included file base.lua" run s.lua -o base.lua
    refused "-o $PWD/base.lua would overwrite the included file base.lua" run s.lua -o "$PWD/base.lua"
    refused "-o p.lua would overwrite the --params file p.lua" run s.lua --params p.lua -o p.lua
    refused "compare: -o base.lua would overwrite" compare s.lua "$DATA/small.lua" -o base.lua
    refused "sens: -o s.lua would overwrite the scenario file s.lua" sens s.lua -o s.lua
    refused "optimize: -o base.lua would overwrite the included file base.lua" optimize s.lua -o base.lua
    refused "mc: -o p.lua would overwrite the --params file p.lua" mc s.lua --runs 4 --params p.lua -o p.lua
    refused "mc: --per-run base.lua would overwrite the included file" mc s.lua --runs 4 --per-run base.lua
    # the same file under other names: a hard link, a symbolic link
    ln s.lua hard.lua; ln -s base.lua soft.lua
    sums=$(cat s.lua base.lua p.lua d.csv | cksum)
    refused "-o hard.lua would overwrite the scenario file s.lua" run s.lua -o hard.lua
    refused "-o soft.lua would overwrite the included file base.lua" run s.lua -o soft.lua
}

# A data file read by stratsim.series is an input too.
test_output_onto_series_file_refused() {
    mkdir data
    cp "$ROOT"/scenarios/*.lua .
    cp "$ROOT/scenarios/data/gpu_supply_cap.csv" data/
    sum=$(cksum < data/gpu_supply_cap.csv)
    run "$STRATSIM" run gpu_constraint.lua -o data/gpu_supply_cap.csv
    expect_rc 2
    expect_err "-o data/gpu_supply_cap.csv would overwrite the series file data/gpu_supply_cap.csv"
    run "$STRATSIM" mc gpu_constraint.lua --runs 4 -o ./data/../data/gpu_supply_cap.csv
    expect_rc 2; expect_err "would overwrite the series file data/gpu_supply_cap.csv"
    [ "$(cksum < data/gpu_supply_cap.csv)" = "$sum" ] || fail "the series file was changed"
    expect_no_temp data
}

test_calibrate_outputs_onto_inputs_refused() {
    io_files
    refused "calibrate: -o d.csv would overwrite the --data file d.csv" calibrate s.lua --data d.csv -o d.csv
    refused "calibrate: -o ./d.csv would overwrite the --data file d.csv" calibrate s.lua --data d.csv -o ./d.csv
    refused "--write s.lua would overwrite the scenario file s.lua" calibrate s.lua --data d.csv --write s.lua
    refused "--write base.lua would overwrite the included file base.lua" calibrate s.lua --data d.csv --write base.lua
    refused "--write p.lua would overwrite the --params file p.lua" calibrate s.lua --params p.lua --data d.csv --write p.lua
    # an output's sidecar onto the data: -o d writes d.json
    cp d.csv d.json; sums=$(cat s.lua base.lua p.lua d.csv | cksum); dj=$(cksum < d.json)
    refused "the sidecar d.json of -o d would overwrite the --data file d.json" calibrate s.lua --data d.json -o d
    [ "$(cksum < d.json)" = "$dj" ] || fail "the data file was changed"
}

test_outputs_onto_each_other_refused() {
    io_files
    refused "mc: -o ./pr.csv and --per-run pr.csv are the same file" mc s.lua --runs 4 --per-run pr.csv -o ./pr.csv
    refused "the sidecar pr.csv.json of -o pr.csv and --per-run pr.csv.json are the same file" \
        mc s.lua --runs 4 --per-run pr.csv.json -o pr.csv
    refused "-o fit.json and the sidecar fit.json of --write fit are the same file" \
        calibrate s.lua --data d.csv --write fit -o fit.json
    mkdir sub
    refused "-o sub/../r.csv and --write r.csv are the same file" \
        calibrate s.lua --data d.csv --write r.csv -o sub/../r.csv
    # a dangling link is where the output would be created
    ln -s new.csv link.csv
    sums=$(cat s.lua base.lua p.lua d.csv | cksum)
    refused "-o link.csv and --per-run new.csv are the same file" mc s.lua --runs 4 -o link.csv --per-run new.csv
}

test_plot_outputs_onto_inputs_refused() {
    io_files
    cp "$DATA/plot_observed.csv" obs.csv
    "$STRATSIM" run s.lua -o r.csv >/dev/null || fail "run"
    sums=$(cat s.lua base.lua p.lua d.csv r.csv | cksum)
    run "$STRATSIM" plot r.csv -o fig.svg --script r.csv
    expect_rc 2; expect_err "--script r.csv would overwrite the CSV file r.csv"
    run "$STRATSIM" plot r.csv --metric share --provider alibaba --segment public -o obs.csv --format svg --overlay obs.csv
    expect_rc 2; expect_err "-o obs.csv would overwrite the --overlay file obs.csv"
    [ "$(cat s.lua base.lua p.lua d.csv r.csv | cksum)" = "$sums" ] || fail "an input was changed"
}

# Standard output and devices are written in place and not compared; distinct
# names in the same directory are fine.
test_outputs_that_do_not_clash_allowed() {
    io_files
    run "$STRATSIM" run s.lua -o /dev/null; expect_rc 0
    run "$STRATSIM" run s.lua --params p.lua -o -; expect_rc 0; expect_out "scenario,time"
    run "$STRATSIM" calibrate s.lua --data d.csv -o d --write fit.lua; expect_rc 0
    expect_file d; expect_file d.json; expect_file fit.lua; expect_file fit.lua.json
    [ "$(cat s.lua base.lua p.lua d.csv | cksum)" = "$sums" ] || fail "an input was changed"
}

# After a later output fails, mc and calibrate remove what they wrote (all
# outputs or none), but never a device or FIFO written in place: here a link
# to /dev/null and a FIFO (the second output fails: its sidecar's name is a
# directory).
test_device_output_kept_after_later_failure() {
    io_files
    ln -s /dev/null sink
    mkdir fit.lua.json pr.csv.json
    run "$STRATSIM" calibrate s.lua --data d.csv -o sink --write fit.lua
    expect_rc 1; expect_err "fit.lua.json"
    [ -L sink ] || fail "calibrate removed the -o link to a device"
    run "$STRATSIM" mc s.lua --runs 8 -o sink --per-run pr.csv
    expect_rc 1; expect_err "pr.csv.json"
    [ -L sink ] || fail "mc removed the -o link to a device"
    expect_no_file pr.csv
    mkfifo fifo
    cat fifo > fromfifo &
    run "$STRATSIM" mc s.lua --runs 8 -o fifo --per-run pr.csv
    wait
    expect_rc 1
    [ -p fifo ] || fail "mc removed the FIFO it wrote"
    expect_file fromfifo
    # a regular -o is removed with its sidecar (all outputs or none)
    run "$STRATSIM" mc s.lua --runs 8 -o mc.csv --per-run pr.csv
    expect_rc 1; expect_no_file mc.csv; expect_no_file mc.csv.json; expect_no_temp .
}

# catch_write SIGNAL TEMP_PREFIX CMD...: start CMD, wait until its temporary
# file .TEMP_PREFIX.XXXXXX exists (it is writing), send SIGNAL, wait for the
# end; RC is the exit status (128 + signal number when the signal ended it).
catch_write() {
    RC=$(python3 - "$@" <<'PY'
import os, signal, subprocess, sys, time
sig, prefix, cmd = getattr(signal, sys.argv[1]), "." + sys.argv[2] + ".", sys.argv[3:]
# the signal's default action in the child, as from a terminal: a shell
# starts background jobs with SIGINT ignored, and stratsim keeps a signal
# ignored at its start ignored
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open("stderr", "w"),
                     preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
t = time.monotonic()
while p.poll() is None and time.monotonic() - t < 120:
    if any(f.startswith(prefix) for f in os.listdir(".")):
        p.send_signal(sig)
        break
    time.sleep(0.002)
else:
    p.kill(); p.wait()
    print("nocatch"); sys.exit(0)
r = p.wait()
print(128 - r if r < 0 else r)
PY
)
    ERR=$(cat stderr)
}

test_signal_while_writing_leaves_no_temporary() {
    cat > big.lua <<'EOF'
local n = 1000
local providers = {}
for i = 1, n do
  providers[i] = { id = "p" .. i, share = { public = 1 / n, private = 1 / n } }
end
return stratsim.scenario {
  name = "big",
  time = { start = 2022, stop = 2032, step = 0.1 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "private", size = 50 } },
  providers = providers,
}
EOF
    for sig in SIGINT SIGTERM SIGHUP; do
        echo old > out.csv
        catch_write $sig out.csv "$STRATSIM" run big.lua -o out.csv
        [ "$RC" != nocatch ] || fail "$sig: the write ended before it could be interrupted"
        num=$(python3 -c "import signal; print(int(signal.$sig))")
        [ "$RC" = $((128 + num)) ] || fail "$sig: exit $RC, expected death by the signal"
        expect_no_temp .
        [ "$(cat out.csv)" = old ] || fail "$sig: the old output was damaged"
        expect_no_file out.csv.json
    done
    # mc holds the --per-run file open during the runs
    catch_write SIGTERM pr.csv "$STRATSIM" mc "$DATA/analysis.lua" --runs 100000000 --threads 2 \
        --per-run pr.csv -o mc.csv
    [ "$RC" = 143 ] || fail "mc: exit $RC after SIGTERM"
    expect_no_temp .; expect_no_file pr.csv; expect_no_file mc.csv
}

# A second Ctrl-C during mc (the first asks it to stop gracefully) ends the
# process at once, still without a temporary file.
test_second_sigint_leaves_no_temporary() {
    "$STRATSIM" mc "$DATA/analysis_policy.lua" --runs 100000000 --threads 1 --per-run pr.csv \
        -o mc.csv >stdout 2>stderr &
    pid=$!
    python3 - $pid <<'PY' || fail "mc did not end after two SIGINTs"
import os, signal, sys, time
pid = int(sys.argv[1]); t = time.monotonic()
while not any(f.startswith(".pr.csv.") for f in os.listdir(".")):
    if time.monotonic() - t > 60: sys.exit(1)
    time.sleep(0.01)
os.kill(pid, signal.SIGINT)
try:
    os.kill(pid, signal.SIGINT)
except ProcessLookupError:
    pass  # on a loaded machine the first one may already have ended it (also fine)
PY
    if wait $pid; then RC=0; else RC=$?; fi
    case "$RC" in 1|130) ;; *) fail "mc after two SIGINTs: exit $RC";; esac
    expect_no_temp .; expect_no_file pr.csv; expect_no_file mc.csv
}
