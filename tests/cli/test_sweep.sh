# tests/cli/test_sweep.sh - `stratsim sweep`: with --engine scalar the values
# equal `run --set` at the same point bit for bit, with the batched engine
# (the default) within 1e-7 relative, on the test scenario and every bundled
# one; both layouts and their sidecar (with the engine), byte-identical
# output for 1, 2, 3 and 7 threads, grid errors (exit 2, nothing written), a
# failing point (exit 1, named), a scenario with a policy (the scalar
# engine), Scenario:sweep agreeing with the verb, and the sweep charts of
# `stratsim plot`.

A="$DATA/analysis.lua"

test_sweep_help() {
    run "$STRATSIM" sweep --help; expect_rc 0; expect_out "Usage: stratsim sweep"
    expect_out "--grid PATH=START:STOP:N"
    run "$STRATSIM" --help; expect_rc 0; expect_out "  sweep SCENARIO.lua"
}

test_sweep_equals_run_set() {
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 \
        --grid segments.public.tau=0.5,2.5 -o sw.csv --threads 2 --engine scalar
    expect_rc 0; expect_no_err; expect_file sw.csv.json
    # three points, each against `run --set` with the value written in the file
    for p in 0 5 7; do
        python3 - "$p" > point.txt <<'PY' || fail "reading point $p"
import csv, sys
rows = list(csv.DictReader(open("sw.csv")))
pts = []
for r in rows:
    k = (r["providers.alibaba.reinvest"], r["segments.public.tau"])
    if k not in pts:
        pts.append(k)
assert len(pts) == 8, pts
print(*pts[int(sys.argv[1])])
PY
        read -r re tau < point.txt
        run "$STRATSIM" run "$A" --set "providers.alibaba.reinvest=$re" \
            --set "segments.public.tau=$tau" -o run.csv
        expect_rc 0
        python3 - "$re" "$tau" <<'PY' || fail "point $p differs from run --set"
import csv, sys
re_, tau = sys.argv[1], sys.argv[2]
sw = {}
for r in csv.DictReader(open("sw.csv")):
    if r["providers.alibaba.reinvest"] == re_ and r["segments.public.tau"] == tau:
        sw[(r["time"], r["provider"], r["segment"], r["metric"])] = float(r["value"])
run = {(r["time"], r["provider"], r["segment"], r["metric"]): float(r["value"])
       for r in csv.DictReader(open("run.csv"))}
assert sw.keys() == run.keys() and len(run) > 100, (len(sw), len(run))
for k, v in run.items():
    assert sw[k] == v, (k, sw[k], v)
PY
    done
    # START + i (STOP - START) / (N - 1), points in grid order, last --grid fastest
    python3 - <<'PY' || fail "grid order or values"
import csv, json
rows = list(csv.DictReader(open("sw.csv")))
hdr = list(rows[0].keys())
assert hdr == ["providers.alibaba.reinvest", "segments.public.tau", "scenario", "time",
               "provider", "segment", "metric", "value"], hdr
pts = []
for r in rows:
    k = (float(r["providers.alibaba.reinvest"]), float(r["segments.public.tau"]))
    if not pts or pts[-1] != k:
        pts.append(k)
want = [(0.1 + i * (0.4 - 0.1) / 3, t) for i in range(4) for t in (0.5, 2.5)]
assert pts == want, (pts, want)
j = json.load(open("sw.csv.json"))
assert j["command"] == "sweep" and j["sweep"]["points"] == 8, j["sweep"]
assert [g["path"] for g in j["sweep"]["grid"]] == ["providers.alibaba.reinvest", "segments.public.tau"]
assert j["sweep"]["grid"][0]["values"] == [w[0] for w in want[::2]]
assert "ranks" not in j
PY
}

test_sweep_outputs_layout() {
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.3:3 \
        --outputs npv:alibaba,share:alibaba:public@2023 -o o.csv; expect_rc 0
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.3:3 -o l.csv; expect_rc 0
    python3 - <<'PY' || fail "--outputs layout"
import csv, json
rows = list(csv.DictReader(open("o.csv")))
assert list(rows[0].keys()) == ["providers.alibaba.reinvest", "npv:alibaba", "share:alibaba:public@2023"]
assert len(rows) == 3
lng = list(csv.DictReader(open("l.csv")))
for r in rows:
    x = r["providers.alibaba.reinvest"]
    pts = [q for q in lng if q["providers.alibaba.reinvest"] == x]
    last = max(float(q["time"]) for q in pts)
    npv = [q for q in pts if q["metric"] == "npv" and q["provider"] == "alibaba" and float(q["time"]) == last]
    sh = [q for q in pts if q["metric"] == "share" and q["provider"] == "alibaba" and
          q["segment"] == "public" and float(q["time"]) == 2023]
    assert r["npv:alibaba"] == npv[0]["value"], (r, npv)
    assert r["share:alibaba:public@2023"] == sh[0]["value"], (r, sh)
assert float(rows[0]["npv:alibaba"]) != float(rows[2]["npv:alibaba"])
assert json.load(open("o.csv.json"))["sweep"]["outputs"] == ["npv:alibaba", "share:alibaba:public@2023"]
PY
    # without -o: a table of the outputs per point
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1,0.3 --outputs npv:alibaba
    expect_rc 0; expect_out "Sweep: analysis"; expect_out "npv:alibaba"; expect_out "0.3"
}

test_sweep_threads_identical() {
    # the batched engine: chunks of 10, 5, 4 and 2 points, the same bytes
    for t in 1 2 3 7; do
        run "$STRATSIM" sweep "$A" --grid segments.public.growth=0.1:0.3:20 \
            --grid providers.alibaba.reinvest=0.2,0.3 --threads $t -o t$t.csv; expect_rc 0
    done
    for t in 2 3 7; do
        cmp t1.csv t$t.csv || fail "sweep output depends on --threads ($t)"
        cmp t1.csv.json t$t.csv.json || fail "sweep sidecar depends on --threads ($t)"
    done
    grep -q '"engine":[[:space:]]*"batched"' t1.csv.json || fail "not the batched engine: $(cat t1.csv.json)"
    # a policy (Lua in every run): one Lua state per thread, same bytes
    for t in 1 3; do
        run "$STRATSIM" sweep "$DATA/analysis_policy.lua" --grid providers.alibaba.reinvest=0.1:0.4:4 \
            --threads $t -o p$t.csv; expect_rc 0
    done
    cmp p1.csv p3.csv || fail "sweep with a policy depends on --threads"
    grep -q '"engine":[[:space:]]*"scalar"' p1.csv.json || fail "a policy ran batched: $(cat p1.csv.json)"
}

# The batched engine (default) against every point run alone (--engine
# scalar, which equals `run --set`): every value of the long layout within
# 1e-7 relative (to the larger of the two values and a thousandth of the
# series' largest magnitude over the sweep: a share near zero is compared
# at its series' scale), on the test scenario and on every bundled one.
test_sweep_engines_agree() {
    set -- "$A" "$ROOT"/scenarios/*.lua
    for f in "$@"; do
        b=$(basename "$f" .lua)
        for e in auto scalar; do
            run "$STRATSIM" sweep "$f" --grid segments.public.tau=0.6,1.9 \
                --grid providers.alibaba.reinvest=0.12:0.33:3 --engine $e -o "${b}_$e.csv"
            expect_rc 0 || return 1
        done
        python3 - "$b" <<'PY' || fail "$b: the engines differ"
import csv, json, sys
b = sys.argv[1]
key = lambda r: tuple(r[:-1])  # the two grid values, scenario, time, provider, segment, metric
a = {key(r): float(r[-1]) for r in list(csv.reader(open(b + "_auto.csv")))[1:]}
s = {key(r): float(r[-1]) for r in list(csv.reader(open(b + "_scalar.csv")))[1:]}
assert a.keys() == s.keys() and len(a) > 1000, (len(a), len(s))
engine = json.load(open(b + "_auto.csv.json"))["sweep"]["engine"]
assert json.load(open(b + "_scalar.csv.json"))["sweep"]["engine"] == "scalar"
series = lambda k: k[2:3] + k[4:]
scale = {}
for k, v in s.items():
    scale[series(k)] = max(scale.get(series(k), 0.0), abs(v))
worst = 0.0
for k, v in s.items():
    d = abs(a[k] - v) / max(abs(a[k]), abs(v), 1e-3 * scale[series(k)], 1e-9)
    worst = max(worst, d)
if engine == "scalar":  # Lua in its runs: the same runs
    assert worst == 0.0, (b, worst)
else:
    assert engine == "batched" and worst <= 1e-7, (b, engine, worst)
print(b, engine, "worst", worst)
PY
    done
    grep -q '"engine":[[:space:]]*"batched"' analysis_auto.csv.json &&
        grep -q '"engine":[[:space:]]*"batched"' ai_public_first_auto.csv.json || fail "not batched"
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=0.6 --engine fast -o bad.csv
    expect_rc 2; expect_err "--engine needs auto or scalar"
    expect_no_file bad.csv
}

test_sweep_grid_errors_exit_2() {
    run "$STRATSIM" sweep "$A" -o x.csv; expect_rc 2; expect_err "missing --grid"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4 -o x.csv
    expect_rc 2; expect_err "bad range '0.1:0.4': expected START:STOP:N"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:0 -o x.csv
    expect_rc 2; expect_err "N must be at least 1"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.4:x:3 -o x.csv
    expect_rc 2; expect_err "START and STOP must be finite numbers"
    run "$STRATSIM" sweep "$A" --grid providers.alibab.reinvest=0.1:0.4:3 -o x.csv
    expect_rc 2; expect_err "unknown provider 'alibab' (did you mean 'alibaba'?)"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1 \
        --grid providers.alibaba.reinvest=0.2:0.3:2 -o x.csv
    expect_rc 2; expect_err "'providers.alibaba.reinvest' is swept twice"
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=1,-1 -o x.csv
    expect_rc 2; expect_err "segments.public.tau' = -1: must be > 0"
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=1 --outputs npv:nobody -o x.csv
    expect_rc 2; expect_err "nobody"
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=1 --threads 0 -o x.csv
    expect_rc 2; expect_err "--threads"
    [ -z "$(ls -A | grep -v -e '^stdout$' -e '^stderr$')" ] || fail "files left: $(ls -A)"
}

test_sweep_linked_input_refused() {
    # an input a link defines cannot be swept (its schedule is not used)
    run "$STRATSIM" sweep "$ROOT/scenarios/gpu_constraint.lua" --grid providers.alibaba.lever.ai=1,2 -o x.csv
    expect_rc 1; expect_err "the link providers.alibaba.lever.ai defines this input"
    expect_no_file x.csv
}

test_sweep_failing_point_exit_1() {
    # a share sum != 1 at point 2: exit 1, the point named, nothing written
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.share.public=0.378,0.378,0.5,0.378 \
        --threads 2 -o x.csv
    expect_rc 1; expect_err "point 2 (providers.alibaba.share.public=0.5): "
    expect_err "shares of segment 'public'"
    expect_no_file x.csv; expect_no_file x.csv.json
}

test_sweep_lua_agrees() {
    cp "$A" base.lua   # includes are read below the scenario's directory (the include root)
    cat > ls.lua <<EOF2
local sc = stratsim.include("base.lua")
local r = sc:sweep { grid = { "providers.alibaba.reinvest=0.1:0.3:3",
                              { path = "segments.public.tau", values = { 0.5, 2.5 } } },
                     outputs = { "npv:alibaba" }, threads = 2 }
assert(r.points == 6 and #r.rows == 6 and r.paths[2] == "segments.public.tau")
assert(r.engine == "batched", r.engine)
assert(r.rows[6]["segments.public.tau"] == 2.5 and r.rows[6]["npv:alibaba"] ~= r.rows[1]["npv:alibaba"])
assert(r:write_csv("lua_sw.csv"))
local ok, msg = pcall(sc.sweep, sc, { grid = { "providers.alibaba.reinvest=0.1:0.3:0" } })
assert(not ok and msg:find("N must be at least 1"), msg)
return sc
EOF2
    run "$STRATSIM" run ls.lua; expect_rc 0
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.3:3 \
        --grid segments.public.tau=0.5,2.5 --outputs npv:alibaba -o cli_sw.csv; expect_rc 0
    cmp lua_sw.csv cli_sw.csv || fail "Lua and CLI sweeps differ"
}

test_sweep_plot() {
    command -v gnuplot >/dev/null 2>&1 || { fail "gnuplot is needed (scripts/install-deps.sh)"; return 1; }
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 -o one.csv; expect_rc 0
    run "$STRATSIM" plot one.csv --provider alibaba --segment public -o one.png --script one.gp
    expect_rc 0; expect_file one.png
    grep -q 'with linespoints' one.gp || fail "a sweep of one path is drawn as lines"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 \
        --grid segments.public.tau=0.5:2.5:3 --outputs npv:alibaba,share:alibaba:public -o two.csv
    expect_rc 0
    run "$STRATSIM" plot two.csv --select share:alibaba:public -o two.svg --script two.gp
    expect_rc 0; expect_file two.svg
    grep -q 'boxxyerror' two.gp || fail "a sweep of two paths is drawn as a heat map"
    # 12 cells, each at its point, coloured by the share in percent
    [ "$(sed -n '/^\$h1 << EOD/,/^EOD/p' two.gp | grep -c '^[0-9]')" = 12 ] || fail "heat map cells"
    run "$STRATSIM" sweep "$A" --grid providers.alibaba.reinvest=0.1:0.4:4 \
        --grid segments.public.tau=0.5:2.5:3 -o twol.csv; expect_rc 0
    run "$STRATSIM" plot twol.csv -o x.png; expect_rc 2; expect_err "a heat map shows one output"
    run "$STRATSIM" plot twol.csv --metric npv --provider alibaba -o twol.png; expect_rc 0
}
