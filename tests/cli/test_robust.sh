# tests/cli/test_robust.sh - robustness of the command line
# (docs/robustness.md): extreme but legal parameters, 10,000 providers,
# output integrity (unwritable targets, full disks, devices and links as
# targets, kill -9 while writing, Ctrl-C during a long Monte Carlo) and
# determinism across processes and environment variables.

# big.lua: $1 providers with equal shares in two segments.
big_scenario() {
    cat > big.lua <<EOF
local n = $1
local providers = {}
for i = 1, n do
  providers[i] = { id = "p" .. i, share = { public = 1 / n, private = 1 / n } }
end
return stratsim.scenario {
  name = "big",
  time = { start = 2022, stop = 2030, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "private", size = 50 } },
  providers = providers,
  events = { { t = 2025, kind = "outage", provider = "p1", severity = 0.3 } },
}
EOF
}

# extreme.lua: one segment with the fields $1, a price cut, an outage.
extreme_scenario() {
    cat > extreme.lua <<EOF
return stratsim.scenario {
  name = "extreme",
  time = { start = 2022, stop = $2, step = 0.25 },
  solver = { ${3:-} },
  segments = { { id = "public", size = 100, $1 } },
  providers = {
    { id = "a", share = { public = 0.6 }, reinvest = 0.3,
      price = { public = stratsim.steps { { 2022, 1 }, { 2023, 0.8 } } } },
    { id = "b", share = { public = 0.4 } },
  },
  events = { { t = 2024, kind = "outage", provider = "a", severity = 0.5 } },
}
EOF
}

# timed LIMIT_S CMD...: run CMD, record exit status in RC, wall time in
# SECS and peak RSS (MiB) in RSS_MB; stdout/stderr go to $T/stdout, stderr.
timed() {
    read -r RC SECS RSS_MB <<EOF
$(python3 - "$@" <<'PY'
import resource, subprocess, sys, time
limit = float(sys.argv[1])
t = time.monotonic()
try:
    r = subprocess.run(sys.argv[2:], stdout=open("stdout", "w"), stderr=open("stderr", "w"),
                       timeout=limit).returncode
except subprocess.TimeoutExpired:
    r = 124
print(r, round(time.monotonic() - t, 2), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
PY
)
EOF
    ERR=$(cat stderr)
}

# A sanitizer build is several times slower and bigger.
slow() { case "$STRATSIM" in *asan*|*tsan*) echo 6;; *) echo 1;; esac; }

# 10,000 providers generated in Lua: runs to the end in bounded time and
# memory (docs/robustness.md boundary values).
test_many_providers() {
    big_scenario 10000
    timed $((120 * $(slow))) "$STRATSIM" run big.lua
    [ "$RC" = 0 ] || fail "10,000 providers: exit $RC"
    [ "$RSS_MB" -lt $((700 * $(slow))) ] || fail "10,000 providers: peak RSS $RSS_MB MiB"
    echo "    10,000 providers: $SECS s, $RSS_MB MiB" >&2
    grep -q "p10000" stdout || fail "summary lacks the last provider"
}

# tau = 1e-6 (stiff), beta = 50, growth = 5/yr over 30 years: solved
# correctly; growth beyond what a double holds and a step limit that is too
# small: a clear error, quickly, and no output file.
test_extreme_parameters() {
    extreme_scenario "tau = 1e-6" 2026
    timed $((120 * $(slow))) "$STRATSIM" run extreme.lua -o tau.csv
    [ "$RC" = 0 ] || fail "tau = 1e-6: exit $RC"
    extreme_scenario "beta_price = 50, beta_capability = 50, beta_reliability = 50" 2052
    timed $((60 * $(slow))) "$STRATSIM" run extreme.lua -o beta.csv
    [ "$RC" = 0 ] || fail "beta = 50: exit $RC"
    extreme_scenario "growth = 5" 2052
    timed $((60 * $(slow))) "$STRATSIM" run extreme.lua -o growth.csv
    [ "$RC" = 0 ] || fail "growth = 5: exit $RC"
    python3 - <<'PY' || fail "extreme parameters: wrong results"
import csv, math
def rows(f):
    return list(csv.reader(open(f)))[1:]
# tau = 1e-6: the share follows its target at once, except at the output
# times of the jumps themselves (price cut 2023, outage 2024), which show the
# state the instant after the jump
r = rows("tau.csv")
share = {(x[1], x[2]): float(x[5]) for x in r if x[4] == "share"}
target = {(x[1], x[2]): float(x[5]) for x in r if x[4] == "target_share"}
assert len(share) > 10
for k in share:
    if float(k[0]) in (2023.0, 2024.0):
        continue
    assert abs(share[k] - target[k]) < 1e-6, (k, share[k], target[k])
# beta = 50: everything finite, shares in [0, 1] summing to 1, the start in
# equilibrium, and the 20% price cut in 2023 (0.8^-50 = 7e4 times more
# attractive) moving the share towards a at the pace tau = 2 allows
r = rows("beta.csv")
assert all(math.isfinite(float(x[5])) for x in r)
by_t = {}
for x in r:
    if x[4] == "share":
        by_t.setdefault(x[1], []).append(float(x[5]))
for t, v in by_t.items():
    assert all(-1e-9 <= s <= 1 + 1e-9 for s in v) and abs(sum(v) - 1) < 1e-9, (t, v)
a = {x[1]: float(x[5]) for x in r if x[4] == "share" and x[2] == "a"}
assert abs(a["2022.75"] - 0.6) < 1e-6 and a["2023.75"] > 0.7, (a["2022.75"], a["2023.75"])
# growth = 5/yr for 30 years: size = 100 e^150
size = [float(x[5]) for x in rows("growth.csv") if x[4] == "size"][-1]
assert abs(size / (100 * math.exp(150)) - 1) < 1e-6, size
PY
    # e^(50 * 30) overflows a double: a clear error naming the time (a
    # non-finite variable, or the step limit on the way there), quickly
    extreme_scenario "growth = 50" 2052
    timed $((30 * $(slow))) "$STRATSIM" run extreme.lua -o over.csv
    [ "$RC" = 1 ] || fail "growth = 50: exit $RC"
    case "$ERR" in *"t="*"non-finite"*|*"t="*"solver.max_steps"*) ;; *) fail "growth = 50: message '$ERR'";; esac
    expect_no_file over.csv; expect_no_temp .
    # a stiff scenario with a step limit: stops at once with the limit named
    extreme_scenario "tau = 1e-6" 2052 "max_steps = 1000"
    timed $((10 * $(slow))) "$STRATSIM" run extreme.lua -o steps.csv
    [ "$RC" = 1 ] || fail "max_steps = 1000: exit $RC"
    expect_err "solver.max_steps = 1000"
    expect_no_file steps.csv; expect_no_temp .
}

# An output path that cannot be created: exit 1, the path in the message, no
# file. (Root ignores directory permissions, so /proc and a file used as a
# directory stand in for them; a read-only directory is tried when not root.)
test_output_unwritable() {
    run "$STRATSIM" run "$DATA/small.lua" -o /proc/stratsim-test.csv; expect_rc 1
    expect_err "/proc/stratsim-test.csv"
    echo x > plain
    run "$STRATSIM" run "$DATA/small.lua" -o plain/out.csv; expect_rc 1
    expect_err "plain/out.csv"; expect_err "Not a directory"
    mkdir adir
    run "$STRATSIM" run "$DATA/small.lua" -o adir; expect_rc 1; expect_err "Is a directory"
    if [ "$(id -u)" != 0 ]; then
        mkdir ro && chmod 555 ro
        run "$STRATSIM" run "$DATA/small.lua" -o ro/out.csv; expect_rc 1
        expect_err "Permission denied"; expect_no_file ro/out.csv
        chmod 755 ro
    fi
    expect_no_temp .
}

# A full disk: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored so write()
# fails with EFBIG) and, where mounting is allowed, a 256 KiB tmpfs (ENOSPC).
# Exit 1, a clear error, the old file untouched, no temporary file.
test_output_full_disk() {
    big_scenario 200
    echo old > out.csv
    if (trap '' XFSZ; ulimit -f 64; exec "$STRATSIM" run big.lua -o out.csv) >stdout 2>stderr
    then RC=0; else RC=$?; fi
    ERR=$(cat stderr)
    expect_rc 1; expect_err "File too large"
    [ "$(cat out.csv)" = old ] || fail "the old output was damaged"
    expect_no_file out.csv.json; expect_no_temp .
    mkdir mnt
    if mount -t tmpfs -o size=256k tmpfs mnt 2>/dev/null; then
        echo old > mnt/out.csv
        run "$STRATSIM" run big.lua -o mnt/out.csv
        st=$RC; err=$ERR; left=$(ls -A mnt); kept=$(cat mnt/out.csv)
        umount mnt
        RC=$st; ERR=$err
        expect_rc 1; expect_err "No space left on device"
        [ "$kept" = old ] || fail "the old output on the full disk was damaged"
        [ "$left" = out.csv ] || fail "files left on the full disk: $left"
    else
        echo "    (tmpfs not mountable here: ENOSPC tested through RLIMIT_FSIZE only)" >&2
    fi
}

# Devices, FIFOs and symbolic links as -o targets are written through, never
# replaced: renaming a temporary file over /dev/full would, as root, swap the
# device for a regular file.
test_output_special_targets() {
    mkfifo fifo
    cat fifo > fromfifo &
    run "$STRATSIM" run "$DATA/small.lua" -o fifo; expect_rc 0
    wait
    [ -p fifo ] || fail "the FIFO was replaced"
    [ "$(head -n 1 fromfifo)" = "scenario,time,provider,segment,metric,value" ] || fail "nothing came through the FIFO"
    ln -s target.csv link.csv
    run "$STRATSIM" run "$DATA/small.lua" -o link.csv; expect_rc 0
    [ -L link.csv ] || fail "the symbolic link was replaced"
    expect_file target.csv
    if [ "$(id -u)" = 0 ] && mknod full c 1 7 2>/dev/null; then
        run "$STRATSIM" run "$DATA/small.lua" -o full; expect_rc 1
        expect_err "No space left on device"
        [ -c full ] || fail "the device node was replaced by a file"
        expect_no_file full.json
    fi
    expect_no_temp .
}

# kill -9 at random moments while a large output is written: the target is
# always the old file or the complete new one (docs/robustness.md). KILL_RUNS
# runs (default 80), each killed at a uniform random time within 1.2 times
# the duration of an uninterrupted run.
test_kill9_while_writing() {
    big_scenario 300
    python3 - "$STRATSIM" "${KILL_RUNS:-80}" <<'PY' || fail "kill -9 while writing"
import glob, os, random, signal, subprocess, sys, time
exe, runs = sys.argv[1], int(sys.argv[2])
t = time.monotonic()
subprocess.run([exe, "run", "big.lua", "-o", "ref.csv"], check=True, stderr=subprocess.DEVNULL)
dur = time.monotonic() - t
ref = open("ref.csv", "rb").read()
random.seed(1)
outcomes = {"old": 0, "new": 0}
for i in range(runs):
    open("out.csv", "w").write("old\n")
    p = subprocess.Popen([exe, "run", "big.lua", "-o", "out.csv"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0, 1.2 * dur))
    p.send_signal(signal.SIGKILL)
    p.wait()
    got = open("out.csv", "rb").read()
    if got == b"old\n":
        outcomes["old"] += 1
    elif got == ref:
        outcomes["new"] += 1
    else:
        sys.exit("kill %d: out.csv is neither the old nor the complete new file (%d bytes)" % (i, len(got)))
    for f in glob.glob(".out.csv.*"):  # a killed writer cannot clean up
        os.unlink(f)
print("    kill -9 during %d runs of %.2f s: %r" % (runs, dur, outcomes), file=sys.stderr)
PY
}

# Ctrl-C during a long Monte Carlo: stops promptly with "interrupted", exit
# status 1 or 130, and no output file.
test_sigint_monte_carlo() {
    "$STRATSIM" mc "$DATA/analysis.lua" --runs 100000000 --seed 1 --threads 2 \
        -o mc.csv >stdout 2>stderr &
    pid=$!
    sleep 2
    kill -INT $pid
    python3 - $pid <<'PY' || fail "mc did not stop within 15 s of SIGINT"
import os, sys, time
pid, t = int(sys.argv[1]), time.monotonic()
while time.monotonic() - t < 15:
    try:
        os.kill(pid, 0)
        # the shell may reap it between the two calls: gone is stopped too
        if open("/proc/%d/stat" % pid).read().split()[2] == "Z":
            sys.exit(0)
    except (ProcessLookupError, FileNotFoundError):
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
    if wait $pid; then RC=0; else RC=$?; fi
    ERR=$(cat stderr)
    case "$RC" in 1|130) ;; *) fail "mc after SIGINT: exit $RC";; esac
    expect_err "interrupted"
    expect_no_file mc.csv; expect_no_file mc.csv.json; expect_no_temp .
}

# The same scenario in two processes gives identical bytes, whatever
# GSL_RNG_SEED / GSL_RNG_TYPE say (docs/robustness.md); so does mc for 1, 2
# and 7 threads (D1).
test_deterministic_across_processes() {
    "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o a.csv 2>/dev/null || fail "run a"
    GSL_RNG_SEED=12345 GSL_RNG_TYPE=ranlux "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o b.csv \
        2>/dev/null || fail "run b"
    cmp a.csv b.csv || fail "run output differs between processes"
    for t in 1 2 7; do
        GSL_RNG_SEED=$t "$STRATSIM" mc "$DATA/analysis.lua" --runs 60 --seed 5 --threads $t \
            -o "mc$t.csv" >/dev/null 2>&1 || fail "mc --threads $t"
    done
    cmp mc1.csv mc2.csv && cmp mc1.csv mc7.csv || fail "mc output depends on the thread count"
}

# Calibration data with a UTF-8 BOM and CRLF line ends reads like plain data.
test_calibration_data_variants() {
    d="$ROOT/scenarios/data/china_public_cloud_iaas.csv"
    "$STRATSIM" calibrate "$ROOT/scenarios/baseline.lua" --data "$d" -o plain.csv >/dev/null 2>&1 ||
        fail "calibrate (plain data)"
    { printf '\357\273\277'; sed 's/$/\r/' "$d"; } > crlf.csv
    "$STRATSIM" calibrate "$ROOT/scenarios/baseline.lua" --data crlf.csv -o bom.csv >/dev/null 2>&1 ||
        fail "calibrate (BOM + CRLF data)"
    cmp plain.csv bom.csv || fail "BOM/CRLF data gave a different fit"
}
