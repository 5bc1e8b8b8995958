# tests/cli/test_limits.sh - data sizes and work that used to be quadratic or
# unbounded end fast, or with a clear message naming the limit
# (docs/robustness.md "Limits").

cal_scenario() {
    cat > cal.lua <<'EOF2'
return stratsim.scenario {
  name = "cal",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  calibrate = { ["segments.public.tau"] = { lower = 0.1, upper = 10, start = 2 } },
}
EOF2
}

# within SECONDS CMD...: run CMD with a time limit (RC 124 when it ran out)
within() {
    secs=$1; shift
    if timeout -k 5 "$secs" "$@" >"$T/stdout" 2>"$T/stderr"; then RC=0; else RC=$?; fi
    OUT=$(cat "$T/stdout"); ERR=$(cat "$T/stderr")
    [ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "did not finish within $secs s: $*"
}

test_calibration_data_limits() {
    cal_scenario
    # one row more than SS_OBS_MAX = 100000
    python3 -c '
import sys
with open("many.csv", "w") as f:
    f.write("time,provider,segment,metric,value\n")
    for i in range(100001):
        f.write("2023,a,public,share,0.5\n")'
    within 30 "$STRATSIM" calibrate cal.lua --data many.csv -o r.csv
    expect_rc 1; expect_err "many.csv:100002: more than 100000 observations (the limit of a calibration data set)"
    expect_no_file r.csv
    # exactly the limit is accepted by the reader (the fit itself runs)
    head -n 100001 many.csv > limit.csv
    within 120 "$STRATSIM" calibrate cal.lua --data limit.csv --max-iter 2
    expect_rc 0; expect_out "100000 observations"
    # a file above 64 MiB is refused before it is read (sparse: no disk used)
    cp limit.csv huge.csv && truncate -s 65M huge.csv
    within 10 "$STRATSIM" calibrate cal.lua --data huge.csv
    expect_rc 1; expect_err "huge.csv: 68157440 bytes, more than 64 MiB (the limit of a calibration data file)"
    # a line above 64 KiB
    python3 -c '
with open("long.csv", "w") as f:
    f.write("time,provider,segment,metric,value,note\n2023,a,public,share,0.5," + "x" * 70000 + "\n")'
    within 10 "$STRATSIM" calibrate cal.lua --data long.csv
    expect_rc 1; expect_err "long.csv:2: line longer than 65536 bytes"
}

# cpu_within CPU_SECONDS CMD...: run CMD (wall-clock limit 600 s, the
# machine may be loaded) and fail if it used more CPU time than CPU_SECONDS.
cpu_within() {
    read -r RC CPU <<EOF3
$(python3 - "$@" <<'PY'
import resource, subprocess, sys
try:
    r = subprocess.run(sys.argv[2:], stdout=open("stdout", "w"), stderr=open("stderr", "w"),
                       timeout=600).returncode
except subprocess.TimeoutExpired:
    r = 124
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r, round(u.ru_utime + u.ru_stime, 2))
PY
)
EOF3
    OUT=$(cat stdout); ERR=$(cat stderr)
    echo "    $CPU s CPU: $*" >&2
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$CPU" "$1" ||
        fail "used $CPU s of CPU time, more than $1 s: $*"
}

# 200,000 events (declared out of time order) took 20 s of CPU per run with
# an insertion sort repeated by every Monte Carlo run (and appending them one
# by one was quadratic where realloc moves blocks, as under ASan); now a
# merge sort and a geometrically grown array: about 2 s for the 8 runs, 5 s
# under ASan.
test_many_events_fast() {
    cat > ev.lua <<'EOF2'
local ev = {}
for i = 1, 200000 do
  ev[i] = { t = 2030 - (i % 1000) * 0.008, kind = "market", segment = "public", factor = 1.000001 }
end
return stratsim.scenario {
  name = "many_events",
  time = { start = 2022, stop = 2030, step = 1 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
  uncertainty = { ["segments.public.growth"] = stratsim.normal(0.1, 0.01) },
  events = ev,
  outages = { a = { rate = 2, severity = 0.1 } },
}
EOF2
    cpu_within 40 "$STRATSIM" mc ev.lua --runs 8 --threads 1 -o mc.csv
    expect_rc 0; expect_file mc.csv
    # the events act: 200 per time at 1000 times, factor 1.000001 each
    cpu_within 20 "$STRATSIM" run ev.lua -o r.csv
    expect_rc 0
    python3 - <<'PY' || fail "the 200,000 events did not all apply"
import csv, math
rows = [r for r in csv.DictReader(open("r.csv")) if r["metric"] == "size"]
last = float(rows[-1]["value"])
want = 100 * math.exp(0.1 * 8) * 1.000001 ** 200000
assert abs(last / want - 1) < 1e-6, (last, want)
PY
}

# The start so large that a step is below the spacing of doubles hung with
# unbounded memory; a tiny fixed step was silently one step per interval.
test_time_grid_and_step_counts_checked() {
    for t in "start = 1e308, stop = 1e308, step = 1" "start = 1e16, stop = 1e16 + 1e6, step = 1" \
             "start = 1e300, stop = 1e300, step = 1e280, epoch = 1"; do
        cat > g.lua <<EOF2
return stratsim.scenario {
  name = "g", time = { $t },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
EOF2
        within 10 "$STRATSIM" run g.lua -o g.csv
        expect_rc 1; expect_err "g.lua:2: time."; expect_err "is below the resolution of times"
        expect_no_file g.csv
    done
    for h in 1e-300 5e-324 1e-200; do
        cat > h.lua <<EOF2
return stratsim.scenario {
  name = "h", time = { start = 0, stop = 1, step = 0.5 },
  solver = { method = "euler", h = $h },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
EOF2
        within 10 "$STRATSIM" run h.lua -o h.csv
        expect_rc 1; expect_err "fixed steps of solver.h"; expect_err "exceed solver.max_steps = 1000000"
        expect_no_file h.csv
    done
}
