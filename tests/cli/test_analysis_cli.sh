# tests/cli/test_analysis_cli.sh - the analysis verbs (mc, sens, calibrate,
# optimize), --params, and the analysis Lua API, on the fixtures
# tests/cli/data/analysis*.lua. Kept small: the whole file runs in a few
# seconds.

A="$DATA/analysis.lua"

test_analysis_help() {
    for c in mc sens calibrate optimize; do
        run "$STRATSIM" $c --help; expect_rc 0; expect_out "Usage: stratsim $c"; expect_no_err
        run "$STRATSIM" help $c; expect_rc 0; expect_out "Usage: stratsim $c"
    done
    run "$STRATSIM" --help; expect_rc 0
    expect_out "  mc SCENARIO.lua"; expect_out "  sens SCENARIO.lua"
    expect_out "  calibrate SCENARIO.lua"; expect_out "  optimize SCENARIO.lua"
}

test_analysis_usage_errors() {
    run "$STRATSIM" mc; expect_rc 2; expect_err "missing SCENARIO.lua"; expect_err "Try 'stratsim mc --help'"
    run "$STRATSIM" mc "$A" --runs 0 -o o.csv; expect_rc 2; expect_err "--runs"
    run "$STRATSIM" mc "$A" --runs -3 -o o.csv; expect_rc 2
    run "$STRATSIM" mc "$A" --runs 10 --seed x -o o.csv; expect_rc 2; expect_err "--seed"
    run "$STRATSIM" mc "$A" --threads 0 -o o.csv; expect_rc 2; expect_err "--threads"
    run "$STRATSIM" mc "$A" --quantiles 0.5,1.5 -o o.csv; expect_rc 2; expect_err "--quantiles"
    run "$STRATSIM" mc "$A" --quantiles 0.5,0.5 -o o.csv; expect_rc 2; expect_err "distinct"
    run "$STRATSIM" mc "$A" --bogus -o o.csv; expect_rc 2; expect_err "unknown option '--bogus'"
    run "$STRATSIM" mc "$A" --per-run-metrics npv:alibaba -o o.csv; expect_rc 2; expect_err "--per-run"
    run "$STRATSIM" mc "$A" --runs 10 --per-run p.csv --per-run-metrics share:alibaba -o o.csv
    expect_rc 2; expect_err "needs a provider and a segment"
    run "$STRATSIM" mc "$A" --dist 'segments.public.growth=normal(0.2, -1)' -o o.csv
    expect_rc 2; expect_err "sd must be > 0"
    run "$STRATSIM" mc "$A" --dist 'providers.nobody.reinvest=uniform(0, 1)' -o o.csv
    expect_rc 1; expect_err "nobody"
    run "$STRATSIM" sens "$A" --method fancy; expect_rc 2; expect_err "--method"
    run "$STRATSIM" sens "$A" --outputs share:alibaba:public@1990; expect_rc 1; expect_err "1990"
    run "$STRATSIM" sens "$A" --outputs npv:alibaba@each; expect_rc 2; expect_err "@each"
    run "$STRATSIM" sens "$A" --samples 1 --method sobol; expect_rc 2
    run "$STRATSIM" calibrate "$A"; expect_rc 2; expect_err "missing --data"
    run "$STRATSIM" calibrate "$A" --data d.csv --fit 'segments.public.tau=3,1'; expect_rc 2; expect_err "--fit"
    run "$STRATSIM" optimize "$A" --starts 0; expect_rc 2; expect_err "--starts"
    run "$STRATSIM" optimize "$A" --constraint 'npv:alibaba > 3'; expect_rc 2; expect_err "constraint"
    run "$STRATSIM" optimize "$A" --control 'providers.alibaba.reinvest=0.5,0.1'; expect_rc 2
    run "$STRATSIM" optimize "$A" --objective npv:nobody; expect_rc 1; expect_err "nobody"
    run "$STRATSIM" run "$A" --params; expect_rc 2; expect_err "--params"
    # a file with two scenarios needs --scenario (except for mc, which does all)
    # (included files lie below the scenario's directory: a copy)
    cp "$A" a.lua
    printf 'local a = stratsim.include("a.lua")\nreturn { a, a:with { name = "b" } }\n' > two.lua
    run "$STRATSIM" sens two.lua; expect_rc 2; expect_err "--scenario NAME: analysis b"
    run "$STRATSIM" sens two.lua --scenario nope; expect_rc 1; expect_err "no scenario named 'nope'"
    # nothing is written after any error
    [ -z "$(ls -A | grep -v -e '^two.lua$' -e '^a.lua$' -e '^stdout$' -e '^stderr$')" ] || \
        fail "files left after usage errors: $(ls -A)"
}

test_mc_threads_identical() {
    for t in 1 2 4; do
        run "$STRATSIM" mc "$A" --runs 600 --seed 42 --threads $t -o mc$t.csv \
            --per-run pr$t.csv --per-run-metrics share:alibaba:public@2023,npv:alibaba
        expect_rc 0; expect_no_err
    done
    cmp mc1.csv mc2.csv && cmp mc1.csv mc4.csv || fail "Monte Carlo output depends on --threads"
    cmp pr1.csv pr2.csv && cmp pr1.csv pr4.csv || fail "per-run output depends on --threads"
    # another seed gives other numbers; the same seed the same ones
    run "$STRATSIM" mc "$A" --runs 600 --seed 43 --threads 2 -o other.csv; expect_rc 0
    ! cmp -s mc1.csv other.csv || fail "--seed had no effect"
    expect_no_temp .
}

test_mc_policy_one_state_per_worker() {
    # a policy drawing math.random and a derived metric, on 1 and 3 threads
    run "$STRATSIM" mc "$DATA/analysis_policy.lua" --runs 300 --seed 7 --threads 1 -o a.csv; expect_rc 0
    run "$STRATSIM" mc "$DATA/analysis_policy.lua" --runs 300 --seed 7 --threads 3 -o b.csv; expect_rc 0
    cmp a.csv b.csv || fail "policy Monte Carlo depends on --threads"
    python3 - <<'PY' || fail "the policy's random price cut does not vary"
import csv
rows = [r for r in csv.reader(open("a.csv")) if r[4] == "alibaba_public_price" and r[1] == "2024"]
assert len(rows) == 1 and float(rows[0][6]) > 0.01, rows   # sd of the price > 0
PY
}

test_mc_csv_columns_and_sidecar() {
    run "$STRATSIM" mc "$A" --runs 300 --seed 5 --threads 2 --quantiles 0.025,0.5,0.975 -o mc.csv
    expect_rc 0
    [ "$(head -n 1 mc.csv)" = "scenario,time,provider,segment,metric,mean,sd,p2.5,p50,p97.5" ] || \
        fail "header: $(head -n 1 mc.csv)"
    run "$STRATSIM" run "$A" -o run.csv; expect_rc 0
    python3 - <<'PY' || fail "Monte Carlo CSV content"
import csv, json
mc = list(csv.reader(open("mc.csv")))[1:]
rn = list(csv.reader(open("run.csv")))[1:]
# the same rows, in the same order, as the long layout of one run
assert [r[:5] for r in mc] == [r[:5] for r in rn]
for r in mc:
    mean, sd, lo, med, hi = map(float, r[5:])
    assert sd >= 0 and lo <= med + 1e-12 and med <= hi + 1e-12, r
    assert lo - 1e-9 <= mean <= hi + 1e-9 or sd > 0, r
# the first output time is fixed; later shares vary
first = [r for r in mc if r[1] == "2021.75" and r[4] == "share"]
assert all(float(r[6]) == 0 for r in first), first
last = [r for r in mc if r[1] == "2024" and r[4] == "npv" and r[2] == "alibaba"][0]
assert float(last[6]) > 1, last
j = json.load(open("mc.csv.json"))
m = j["mc"]
assert j["command"] == "mc" and m["runs"] == 300 and m["seed"] == 5 and m["threads"] == 2
assert m["rng"] == "xoshiro256**" and m["block"] == 1024 and m["compression"] == 200
assert m["quantiles"] == [0.025, 0.5, 0.975]
assert m["uncertainty"] == {"providers.alibaba.reinvest": "uniform(0.15, 0.35)",
                            "segments.public.growth": "normal(0.2, 0.03)",
                            "segments.public.tau": "lognormal(0.4, 0.2)"}, m["uncertainty"]
assert m["outages"] == {"alibaba": {"rate": 0.5, "severity": "uniform(0.02, 0.1)"}}
assert j["scenarios"][0]["name"] == "analysis"
PY
    # --dist adds a distribution, --no-outages drops the outages
    run "$STRATSIM" mc "$A" --runs 50 --no-outages --dist 'segments.private.growth=triangular(0, 0.08, 0.1)' -o d.csv
    expect_rc 0
    python3 - <<'PY' || fail "--dist / --no-outages not recorded"
import json
m = json.load(open("d.csv.json"))["mc"]
assert m["outages"] == {} and m["uncertainty"]["segments.private.growth"] == "triangular(0, 0.08, 0.1)"
PY
}

test_mc_per_run_and_summary() {
    run "$STRATSIM" mc "$A" --runs 200 --seed 3 --threads 2 -o mc.csv --per-run pr.csv
    expect_rc 0; expect_file pr.csv.json
    python3 - <<'PY' || fail "per-run CSV"
import csv
rows = list(csv.reader(open("pr.csv")))
assert rows[0] == ["scenario", "run", "providers.alibaba.reinvest", "segments.public.growth",
                   "segments.public.tau", "npv:alibaba", "npv:rival"], rows[0]
assert len(rows) == 201 and [int(r[1]) for r in rows[1:]] == list(range(200))
reinv = [float(r[2]) for r in rows[1:]]
assert all(0.15 <= x <= 0.35 for x in reinv)
npv = [float(r[5]) for r in rows[1:]]
mc = [r for r in csv.reader(open("mc.csv")) if r[1] == "2024" and r[2] == "alibaba" and r[4] == "npv"][0]
mean = sum(npv) / len(npv)
assert abs(mean - float(mc[5])) < 1e-9 * max(1, abs(mean)), (mean, mc[5])
# the drawn reinvestment drives the NPV down (sanity of the pairing)
import statistics
mx, my = statistics.mean(reinv), mean
cov = sum((a - mx) * (b - my) for a, b in zip(reinv, npv))
assert cov < 0, cov
PY
    run "$STRATSIM" mc "$A" --runs 100 --threads 1; expect_rc 0
    expect_out "Monte Carlo: analysis"; expect_out "100 runs, seed 1"
    expect_out "p05"; expect_out "npv alibaba"
    # no TTY: no progress bar
    expect_no_err
}

test_mc_interrupt_writes_nothing() {
    "$STRATSIM" mc "$A" --runs 50000000 --threads 2 -o big.csv --per-run big_runs.csv \
        >out 2>err &
    pid=$!
    sleep 0.5
    kill -INT $pid
    t0=$(date +%s)
    if wait $pid; then RC=0; else RC=$?; fi
    t1=$(date +%s)
    [ $((t1 - t0)) -le 3 ] || fail "took $((t1 - t0)) s to stop"
    [ "$RC" = 1 ] || fail "exit status $RC after SIGINT"
    grep -q "interrupted" err || fail "no 'interrupted' message: $(cat err)"
    expect_no_file big.csv; expect_no_file big.csv.json; expect_no_file big_runs.csv
    expect_no_temp .
}

test_mc_failing_run_writes_nothing() {
    # a normal size can go negative: the run fails, the Monte Carlo with it
    run "$STRATSIM" mc "$A" --runs 400 --dist 'segments.private.size=normal(50, 40)' -o o.csv --per-run p.csv
    expect_rc 1; expect_err "run "; expect_err "segments.private.size"
    expect_no_file o.csv; expect_no_file p.csv; expect_no_temp .
}

test_analysis_table_errors_are_located() {
    cp "$A" a.lua
    cat > bad.lua <<EOF
local base = stratsim.include("a.lua")
return base:with {
  uncertainty = {
    ["segments.public.growth"] = stratsim.normal(0.2, 0.03),
    ["providers.nobody.reinvest"] = stratsim.uniform(0, 1),
  },
}
EOF
    run "$STRATSIM" mc bad.lua --runs 10 -o o.csv; expect_rc 1
    expect_err "bad.lua:3: uncertainty[\"providers.nobody.reinvest\"]:"; expect_err "nobody"
    expect_no_file o.csv
    cat > bad2.lua <<EOF
local base = stratsim.include("a.lua")
return base:with {
  outages = { alibaba = { rate = -1, severity = 0.1 } },
  optimize = { objective = "npv:alibaba", controls = { ["providers.alibaba.reinvest"] = { lower = 1 } } },
}
EOF
    run "$STRATSIM" mc bad2.lua --runs 10; expect_rc 1; expect_err "bad2.lua:3: outages[\"alibaba\"]: rate"
    run "$STRATSIM" optimize bad2.lua; expect_rc 1; expect_err "bad2.lua:4: optimize.controls"
    run "$STRATSIM" calibrate bad2.lua --data x.csv; expect_rc 1
}

test_sens_tornado_ranking() {
    run "$STRATSIM" sens "$A" --outputs npv:alibaba,share:alibaba:public@2023.5 -o tor.csv; expect_rc 0
    expect_out "Tornado: analysis, 3 parameters, 7 runs"
    expect_out "npv:alibaba (base"
    python3 - <<'PY' || fail "tornado CSV"
import csv, json
rows = list(csv.reader(open("tor.csv")))
assert rows[0] == ["parameter", "output", "low_value", "high_value", "output_at_low",
                   "output_at_high", "swing", "rank"], rows[0]
body = rows[1:]
assert len(body) == 6
for out in ("npv:alibaba", "share:alibaba:public@2023.5"):
    r = [x for x in body if x[1] == out]
    assert [int(x[7]) for x in r] == [1, 2, 3]
    sw = [float(x[6]) for x in r]
    assert sw == sorted(sw, reverse=True), sw
# reinvestment dominates NPV and raises the share; public growth barely moves the share
npv = [x for x in body if x[1] == "npv:alibaba"]
assert npv[0][0] == "providers.alibaba.reinvest" and float(npv[0][4]) > float(npv[0][5])
share = {x[0]: x for x in body if x[1] != "npv:alibaba"}
assert float(share["providers.alibaba.reinvest"][5]) > float(share["providers.alibaba.reinvest"][4])
assert share["segments.public.growth"][7] == "3"
# low/high are the 5%/95% quantiles of uniform(0.15, 0.35)
r = share["providers.alibaba.reinvest"]
assert abs(float(r[2]) - 0.16) < 1e-12 and abs(float(r[3]) - 0.34) < 1e-12, r
s = json.load(open("tor.csv.json"))["sens"]
assert s["method"] == "tornado" and s["evaluations"] == 7 and len(s["parameters"]) == 3
PY
    # a path without a distribution varies by --range around its base value
    run "$STRATSIM" sens "$A" --vary providers.alibaba.margin.public --range 0.2 --outputs npv:alibaba -o r.csv
    expect_rc 0; expect_out "base value -+20% (no distributions)"
    python3 - <<'PY' || fail "--range"
import csv
r = list(csv.reader(open("r.csv")))[1]
assert abs(float(r[2]) - 0.28) < 1e-12 and abs(float(r[3]) - 0.42) < 1e-12, r
PY
    run "$STRATSIM" sens "$A" --vary providers.rival.fixed_cost; expect_rc 1; expect_err "base value is 0"
}

test_sens_sobol_runs() {
    run "$STRATSIM" sens "$A" --method sobol --samples 64 --bootstrap 50 --outputs npv:alibaba -o sob.csv
    expect_rc 0
    expect_out "Sobol indices: analysis, 3 parameters, N = 64, 320 runs"
    python3 - <<'PY' || fail "Sobol CSV"
import csv, json
rows = list(csv.reader(open("sob.csv")))
assert rows[0] == ["parameter", "output", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]
st = {r[0]: float(r[5]) for r in rows[1:]}
assert len(st) == 3 and max(st, key=st.get) == "providers.alibaba.reinvest", st
s = json.load(open("sob.csv.json"))["sens"]
assert s["method"] == "sobol" and s["samples"] == 64 and s["evaluations"] == 320 and s["bootstrap"] == 50
PY
    run "$STRATSIM" sens "$A" --method sobol --samples 16 --bootstrap 0 --outputs npv:alibaba -o -
    expect_rc 0; expect_out "parameter,output,S1"
}

# Sobol's runs in the batched engine (auto) and each on its own (scalar):
# the same indices within 1e-6, the engine in the sidecar; a tornado's runs
# are scalar; a bad --engine is a usage error that writes nothing.
test_sens_sobol_engines() {
    for e in auto scalar; do
        run "$STRATSIM" sens "$A" --method sobol --samples 64 --bootstrap 20 \
            --outputs npv:alibaba,share:alibaba:public --engine $e -o sob_$e.csv
        expect_rc 0
    done
    run "$STRATSIM" sens "$A" --outputs npv:alibaba -o tor.csv; expect_rc 0
    python3 - <<'PY' || fail "Sobol engines"
import csv, json
a = list(csv.reader(open("sob_auto.csv")))
b = list(csv.reader(open("sob_scalar.csv")))
assert len(a) == len(b) == 7 and a[0] == b[0]
for x, y in zip(a[1:], b[1:]):
    assert x[:2] == y[:2], (x, y)
    for u, v in zip(x[2:], y[2:]):
        assert abs(float(u) - float(v)) <= 1e-6, (x, y)
assert json.load(open("sob_auto.csv.json"))["sens"]["engine"] == "batched"
assert json.load(open("sob_scalar.csv.json"))["sens"]["engine"] == "scalar"
assert json.load(open("tor.csv.json"))["sens"]["engine"] == "scalar"
PY
    run "$STRATSIM" sens "$A" --method sobol --engine fast -o bad.csv
    expect_rc 2; expect_err "--engine needs auto or scalar"
    [ ! -e bad.csv ] && [ ! -e bad.csv.json ] || fail "a usage error wrote output"
}

# Sobol on worker threads of the batched engine: the same bytes for
# --threads 1, 2 and 3, and from Lua (sc:sensitivity{threads = 3}) the same
# as the command line's; a bad thread count is an error.
test_sens_sobol_threads() {
    for t in 1 2 3; do
        run "$STRATSIM" sens "$A" --method sobol --samples 512 --bootstrap 20 \
            --outputs npv:alibaba,share:alibaba:public --threads $t -o t$t.csv
        expect_rc 0
    done
    cmp t1.csv t2.csv && cmp t1.csv t3.csv || fail "Sobol indices depend on --threads"
    cp "$A" an.lua
    cat > ls.lua <<'EOF'
local sc = stratsim.include("an.lua")
local r = sc:sensitivity{method = "sobol", samples = 512, bootstrap = 20, threads = 3,
                         outputs = {"npv:alibaba", "share:alibaba:public"}}
assert(r.engine == "batched", r.engine)
assert(r:write_csv("lua.csv"))
local ok, err = pcall(sc.sensitivity, sc, {method = "sobol", threads = -1})
assert(not ok and tostring(err):find("threads"), tostring(err))
return sc
EOF
    run "$STRATSIM" check ls.lua; expect_rc 0
    cmp t1.csv lua.csv || fail "Lua's Sobol indices differ from the command line's"
    run "$STRATSIM" sens "$A" --method sobol --threads 0; expect_rc 2
    expect_err "--threads needs an integer in 1..1024"
}

test_calibrate_recovers_tau() {
    # synthetic data from the model at tau = 1.5; the fit starts at 3
    run "$STRATSIM" run "$A" --set segments.public.tau=1.5 -o truth.csv; expect_rc 0
    { head -n 1 truth.csv; awk -F, '$3 == "alibaba" && $5 == "share"' truth.csv; } > data.csv
    run "$STRATSIM" calibrate "$A" --data data.csv --set segments.public.tau=0.7 --write fit.lua -o resid.csv
    expect_rc 0
    expect_out "segments.public.tau"; expect_out "converged"; expect_out "RMSE"
    expect_out "--set segments.public.tau=1.49999"
    python3 - <<'PY' || fail "calibration did not recover tau"
import csv, json, re
txt = open("fit.lua").read()
v = float(re.search(r'\["segments.public.tau"\] = ([0-9.e+-]+)', txt).group(1))
assert abs(v - 1.5) < 1e-4, v
res = list(csv.reader(open("resid.csv")))
assert res[0] == ["time", "provider", "segment", "metric", "observed", "weight", "model",
                  "residual", "weighted_residual"]
assert len(res) == 21 and max(abs(float(r[7])) for r in res[1:]) < 1e-6
c = json.load(open("resid.csv.json"))["calibrate"]
assert c["data"] == "data.csv" and c["converged"] and abs(c["parameters"]["segments.public.tau"]["value"] - 1.5) < 1e-4
PY
    # the fit file applies with --params (run, check, and the analysis verbs)
    run "$STRATSIM" run "$A" --set segments.public.tau=0.7 --params fit.lua -o refit.csv; expect_rc 0
    python3 - <<'PY' || fail "--params did not apply the fit"
import csv, json
a = [r for r in csv.reader(open("truth.csv"))][1:]
b = [r for r in csv.reader(open("refit.csv"))][1:]
assert max(abs(float(x[5]) - float(y[5])) / max(1, abs(float(x[5]))) for x, y in zip(a, b)) < 1e-5
ov = json.load(open("refit.csv.json"))["overrides"]
assert ov[0] == "segments.public.tau=0.7" and ov[1].startswith("segments.public.tau=1.4999"), ov
PY
    run "$STRATSIM" check "$A" --params fit.lua; expect_rc 0
    run "$STRATSIM" run "$A" --params nofile.lua; expect_rc 1; expect_err "nofile.lua"
    echo 'return { ["segments.public.tau"] = "fast" }' > badfit.lua
    run "$STRATSIM" run "$A" --params badfit.lua; expect_rc 1; expect_err "expected a finite number"
    echo 'return { ["segments.nope.tau"] = 2 }' > badfit2.lua
    run "$STRATSIM" run "$A" --params badfit2.lua; expect_rc 1; expect_err "nope"
}

test_calibrate_bad_data() {
    printf 'time,provider,segment,metric,value\n2022,alibaba,public,share,abc\n' > bad.csv
    run "$STRATSIM" calibrate "$A" --data bad.csv -o r.csv; expect_rc 1; expect_err "bad.csv:2:value:"
    run "$STRATSIM" calibrate "$A" --data missing.csv -o r.csv; expect_rc 1; expect_err "missing.csv"
    printf 'time,provider,segment,metric,value\n2022,nobody,public,share,0.3\n' > bad2.csv
    run "$STRATSIM" calibrate "$A" --data bad2.csv -o r.csv; expect_rc 1; expect_err "nobody"
    expect_no_file r.csv; expect_no_temp .
}

test_optimize_known_optima() {
    # the public share grows with reinvestment: without the constraint the
    # upper bound is the optimum
    run "$STRATSIM" optimize "$A" --no-constraints --starts 2 -o opt.csv; expect_rc 0
    expect_out "maximise share:alibaba:public@2024"; expect_out "no constraints"
    python3 - <<'PY' || fail "bound optimum"
import csv
rows = {r[0] + ":" + r[1]: r for r in csv.reader(open("opt.csv"))}
x = float(rows["control:providers.alibaba.reinvest"][2])
assert abs(x - 0.4) < 1e-6, x
PY
    # minimise investment with a share floor reached at reinvest = 0.3
    run "$STRATSIM" run "$A" --set providers.alibaba.reinvest=0.3 -o at03.csv; expect_rc 0
    floor=$(awk -F, '$2 == "2024" && $3 == "alibaba" && $4 == "public" && $5 == "share" { print $6 }' at03.csv)
    run "$STRATSIM" optimize "$A" --objective investment:alibaba@2024 --minimize --no-constraints \
        --constraint "share:alibaba:public@2024 >= $floor" --constraint "npv:alibaba >= -1000" -o opt2.csv
    expect_rc 0; expect_out "minimise investment:alibaba@2024"; expect_out "yes"
    python3 - <<'PY' || fail "constrained optimum"
import csv, json
rows = [r for r in csv.reader(open("opt2.csv"))]
assert rows[0] == ["kind", "name", "value", "initial", "lower", "upper", "violation", "holds"]
ctl = [r for r in rows if r[0] == "control"][0]
assert abs(float(ctl[2]) - 0.3) < 1e-3, ctl
cons = [r for r in rows if r[0] == "constraint"]
assert len(cons) == 2 and all(r[7] == "1" for r in cons) and float(cons[0][6]) <= 1e-6, cons
j = json.load(open("opt2.csv.json"))["optimize"]
assert j["minimize"] and j["feasible"] and len(j["constraints"]) == 2
PY
    # an infeasible problem is reported, not an error
    run "$STRATSIM" optimize "$A" --starts 1 --constraint "share:alibaba:public@2024 >= 0.9"; expect_rc 0
    expect_out "INFEASIBLE"; expect_out "NO"
    # a Lua function as objective
    run "$STRATSIM" optimize "$DATA/analysis_policy.lua" --starts 2; expect_rc 0
    expect_out "the objective function"
}

test_analysis_lua_api() {
    run "$STRATSIM" run "$DATA/analysis_lua.lua"; expect_rc 0; expect_err "analysis_lua: ok"
}

test_lua_and_cli_agree() {
    # the same Monte Carlo from Lua (policy: one state, one thread) and from
    # the command line (one state per worker) gives the same bytes
    cp "$DATA/analysis_policy.lua" "$DATA/analysis.lua" .
    cat > lmc.lua <<EOF2
local sc = stratsim.include("analysis_policy.lua")
local r = sc:montecarlo { runs = 300, seed = 7, threads = 4 }
assert(r.threads == 1 and r.engine == "scalar", r.engine)  -- a policy: Lua in every run
assert(r:write_csv("lua_mc.csv"))
local plain = stratsim.include("analysis.lua")
assert(plain:montecarlo { runs = 40, seed = 7 }.engine == "batched")
local t = sc:sensitivity { outputs = { "npv:alibaba" } }
assert(t:write_csv("lua_tornado.csv"))
return sc
EOF2
    run "$STRATSIM" run lmc.lua; expect_rc 0
    expect_file lua_mc.csv.json
    run "$STRATSIM" mc "$DATA/analysis_policy.lua" --runs 300 --seed 7 --threads 3 -o cli_mc.csv; expect_rc 0
    cmp lua_mc.csv cli_mc.csv || fail "Lua and CLI Monte Carlo differ"
    run "$STRATSIM" sens "$DATA/analysis_policy.lua" --outputs npv:alibaba -o cli_tornado.csv; expect_rc 0
    cmp lua_tornado.csv cli_tornado.csv || fail "Lua and CLI tornado differ"
    python3 - <<'PY' || fail "Lua sidecar"
import json
j = json.load(open("lua_mc.csv.json"))
assert j["command"] == "lua:montecarlo" and j["mc"]["seed"] == 7 and j["mc"]["runs"] == 300
assert j["scenario_file"].endswith("analysis_policy.lua"), j["scenario_file"]
PY
}
