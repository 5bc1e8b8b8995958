# tests/cli/test_stocks.sh - user stocks, links and stratsim.series
# (docs/lua-api.md section 8, docs/model.md "User stocks and links"): the
# numbers against closed forms and against the schedules they replace,
# outputs (CSV, summary, sidecar, results API), the analysis verbs and
# `check`. The error cases are in the bad-input corpus (tests/bad/stock_*,
# link_*, series_*).

S="$DATA/stocks.lua"

# A two-provider market; BODY is spliced into the scenario table.
scen() { # NAME BODY
    cat <<EOF
stratsim.scenario {
  name = "$1",
  time = { start = 2022, stop = 2027, step = 0.25 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 1.5 },
               { id = "ai", size = 20, growth = 0.3, tau = 1 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.5, ai = 0.6 } } },
  $2
}
EOF
}

test_stock_closed_form() {
    # dk/dt = a - b k, k(t0) = k0: k(t) = a/b + (k0 - a/b) exp(-b (t - t0)), to 1e-8
    # with the default solver (and with fixed-step RK4, h = 1/128)
    {
        printf 'local a, b, k0 = 3, 0.7, 1\nlocal sc = %s\n' "$(scen k 'stocks = { { id = "k", init = 1, unit = "u", rate = function(v) return 3 - 0.7 * v:stock("k") end } },')"
        cat <<'EOF'
local function check(r, tol)
  local ts, ks = r:series("k")
  assert(#ts == 21, "21 output times")
  local worst = 0
  for i, t in ipairs(ts) do
    local exact = a / b + (k0 - a / b) * math.exp(-b * (t - 2022))
    worst = math.max(worst, math.abs(ks[i] - exact))
  end
  assert(worst <= tol, "max deviation " .. worst)
  return worst
end
print(string.format("rk8pd %.3g", check(sc:run(), 1e-8)))
print(string.format("rk4 %.3g", check(sc:with { solver = { method = "rk4" } }:run(), 1e-8)))
print(string.format("rkf45 %.3g", check(sc:with { solver = { method = "rkf45", rtol = 1e-10, atol = 1e-12 } }:run(), 1e-8)))
EOF
    } > k.lua
    run "$STRATSIM" run k.lua; expect_rc 0; expect_err "rk8pd"; expect_err "rk4"
}

test_stock_breakpoints_and_state() {
    # the stock restarts with the model at breakpoints (a market event halves
    # the segment, the rate reads the size), and initial values may read the
    # initial view: k0 = size(public) / 10 = 10, dk/dt = size(public) / 100 - 0.5 k
    {
        printf 'local sc = %s\n' "$(scen s 'events = { { t = 2023.3, kind = "market", segment = "public", factor = 0.5 } },
  stocks = { { id = "k", init = function(v) return v:size("public") / 10 end, unit = "u",
               rate = function(v) return v:size("public") / 100 - 0.5 * v:stock("k") end } },
  outputs = { twice = function(v) return 2 * v:stock("k") end },')"
        cat <<'EOF'
local r = sc:run()
assert(r:value("k", nil, nil, 2022) == 10, "init from the view")
-- size: 100 e^{0.1 (t - 2022)}, halved at 2023.3
local function size(t) return 100 * math.exp(0.1 * (t - 2022)) * (t >= 2023.3 and 0.5 or 1) end
-- exact solution of dk/dt = c e^{g (t - t0)} - 0.5 k on each piece
local function solve(k, t0, c, t)
  local g, d = 0.1, 0.5
  local p = c / (g + d)
  return p * math.exp(g * (t - t0)) + (k - p) * math.exp(-d * (t - t0))
end
local k1 = solve(10, 2022, 1, 2023.3)
local worst = 0
local ts, ks = r:series("k")
for i, t in ipairs(ts) do
  local e = t < 2023.3 and solve(10, 2022, 1, t) or solve(k1, 2023.3, size(2023.3) / 100, t)
  worst = math.max(worst, math.abs(ks[i] - e))
  assert(r:value("twice", nil, nil, t) == 2 * ks[i], "derived metric reads the stock")
end
assert(worst <= 1e-8, "max deviation " .. worst)
print("ok " .. worst)
EOF
    } > b.lua
    run "$STRATSIM" run b.lua; expect_rc 0; expect_err "ok"
}

test_link_lever_equals_schedule() {
    # a stock growing by 0.1/year from 1 drives a's AI lever through a link:
    # the same lever as stratsim.linear{{2022, 1}, {2027, 1.5}}
    {
        printf 'local L = %s\n' "$(scen linked 'stocks = { { id = "x", init = 1, unit = "1", rate = function(v) return 0.1 end } },
  links = { ["providers.a.lever.ai"] = function(v) return v:stock("x") end },')"
        printf 'local S = %s\n' "$(scen sched 'events = {},')"
        cat <<'EOF'
S = S:with { providers = { a = { lever = { ai = stratsim.linear { { 2022, 1 }, { 2027, 1.5 } } } } } }
local rl, rs = L:run(), S:run()
local worst = 0
for _, m in ipairs { { "share", "a", "ai" }, { "share", "b", "ai" }, { "revenue", "a", "ai" },
                     { "capability", "a", "ai" }, { "npv", "a" } } do
  local _, vl = rl:series(m[1], m[2], m[3])
  local _, vs = rs:series(m[1], m[2], m[3])
  for i = 1, #vl do worst = math.max(worst, math.abs(vl[i] - vs[i]) / math.max(1, math.abs(vs[i]))) end
end
assert(worst <= 1e-9, "link vs schedule: " .. worst)
-- the lever really moved the share
assert(rl:value("share", "a", "ai") > S:with { providers = { a = { lever = { ai = 1 } } } }:run():value("share", "a", "ai") + 0.01)
print("ok " .. worst)
EOF
    } > l.lua
    run "$STRATSIM" run l.lua; expect_rc 0; expect_err "ok"
}

test_link_growth_equals_schedule() {
    {
        printf 'local L = %s\n' "$(scen linked 'links = { ["segments.public.growth"] = function(v) return 0.1 + 0.02 * (v.t - 2022) end,
            ["providers.b.price.public"] = function(v) return 1 - 0.04 * (v.t - 2022) end },')"
        printf 'local S = %s\n' "$(scen sched 'events = {},')"
        cat <<'EOF'
S = S:with { segments = { public = { growth = stratsim.linear { { 2022, 0.1 }, { 2027, 0.2 } } } },
             providers = { b = { price = { public = stratsim.linear { { 2022, 1 }, { 2027, 0.8 } } } } } }
local rl, rs = L:run(), S:run()
local worst = 0
for _, m in ipairs { { "size", nil, "public" }, { "share", "a", "public" }, { "npv", "b" } } do
  local _, vl = rl:series(m[1], m[2], m[3])
  local _, vs = rs:series(m[1], m[2], m[3])
  for i = 1, #vl do worst = math.max(worst, math.abs(vl[i] - vs[i]) / math.max(1, math.abs(vs[i]))) end
end
assert(worst <= 1e-9, "link vs schedule: " .. worst)
print("ok " .. worst)
EOF
    } > g.lua
    run "$STRATSIM" run g.lua; expect_rc 0; expect_err "ok"
}

test_series_equals_knots() {
    mkdir -p data
    printf 'year,note,growth\n2022,start,0.1\n2023.5,"a, quoted note",0.25\n2025,,0.05\n' > data/g.csv
    {
        printf 'local S = %s\n' "$(scen s 'events = {},')"
        cat <<'EOF'
local ser = stratsim.series { file = "data/g.csv", time = "year", value = "growth" }
local st = stratsim.series { file = "data/g.csv", time = "year", value = "growth", kind = "steps" }
assert(ser.kind == "linear" and st.kind == "steps" and #ser == 3)
local a = S:with { name = "series", segments = { public = { growth = ser } },
                   providers = { a = { price = { ai = st } } } }
local b = S:with { name = "knots",
  segments = { public = { growth = stratsim.linear { { 2022, 0.1 }, { 2023.5, 0.25 }, { 2025, 0.05 } } } },
  providers = { a = { price = { ai = stratsim.steps { { 2022, 0.1 }, { 2023.5, 0.25 }, { 2025, 0.05 } } } } } }
return { a, b }
EOF
    } > s.lua
    run "$STRATSIM" run s.lua -o out.csv; expect_rc 0
    # bit for bit: every value of the two scenarios is the same text
    sed -n 's/^series,//p' out.csv > a.txt
    sed -n 's/^knots,//p' out.csv > b.txt
    [ -s a.txt ] && cmp a.txt b.txt || fail "stratsim.series differs from the knots it replaces"
}

test_stock_outputs() {
    run "$STRATSIM" run "$S"; expect_rc 0
    expect_out "Stocks, derived metrics"; expect_out "gpu [EFLOPS]"
    run "$STRATSIM" run "$S" -o out.csv; expect_rc 0
    grep -q '^stocks,2021.75,,,gpu,10$' out.csv || fail "long CSV row of the stock"
    grep -q '"unit":	"EFLOPS"' out.csv.json || fail "sidecar lacks the stock's unit"
    run "$STRATSIM" run "$S" --layout wide -o wide.csv; expect_rc 0
    head -1 wide.csv | grep -q ',gpu' || fail "wide CSV lacks the gpu column"
    cp "$S" stocks.lua   # included files lie below the scenario's directory
    cat > api.lua <<EOF
local sc = stratsim.include("stocks.lua")
local r = sc:run()
local ts, vs = r:series("gpu")
assert(#ts == 10 and vs[1] == 10 and r:value("gpu") == vs[#vs])
assert(r:value("gpu", nil, nil, 2021.75) == 10)
assert(type(r:plot("gpu")) == "string")
local found = false
for _, m in ipairs(r:metrics()) do found = found or m == "gpu" end
assert(found, "metrics() lists the stock")
-- policies read stocks too
local p = sc:with { policy = function(v) if v:stock("gpu") > 15 then v:set("alibaba", "reinvest", 0.1) end end }
assert(p:run():value("investment", "alibaba") < r:value("investment", "alibaba"))
-- view:get of a linked input gives the link's value at that time and state
local seen = 0
sc:with { policy = function(v)
  local d = v:get("lever", "alibaba", "public") - math.min(1.5, v:stock("gpu") / 10)
  assert(d == 0, "view:get of a linked input is off by " .. d)
  seen = seen + 1
end }:run()
assert(seen == 10, "policy calls: " .. seen)
print("api ok")
EOF
    run "$STRATSIM" run api.lua; expect_rc 0; expect_err "api ok"
}

test_stock_check_units() {
    run "$STRATSIM" check "$S"; expect_rc 0; expect_out "1 stock, 1 link"; expect_no_err
    sed 's/ unit = "EFLOPS",//' "$S" > nounit.lua
    run "$STRATSIM" check nounit.lua; expect_rc 0
    expect_err "warning: scenario 'stocks': stock 'gpu' states no unit"
}

test_stock_analysis() {
    # Monte Carlo: byte-identical for any thread count, quantiles of the stock
    for t in 1 2 3; do
        run "$STRATSIM" mc "$S" --runs 300 --seed 9 --threads $t -o mc$t.csv; expect_rc 0
    done
    cmp mc1.csv mc2.csv && cmp mc1.csv mc3.csv || fail "Monte Carlo with stocks depends on --threads"
    grep -q '^stocks,2024,,,gpu,' mc1.csv || fail "mc output lacks the stock"
    grep -q '"unit":	"EFLOPS"' mc1.csv.json || fail "mc sidecar lacks the stock's unit"
    # sensitivity of the stock, optimisation with a constraint on it
    run "$STRATSIM" sens "$S" --outputs gpu@2024; expect_rc 0; expect_out "gpu@2024"
    # an analysis may not vary an input a link defines (it would vary nothing)
    run "$STRATSIM" mc "$S" --runs 10 --dist 'providers.alibaba.lever.public=uniform(0.9, 1.1)' -o x.csv
    expect_rc 1; expect_err "the link providers.alibaba.lever.public defines this input"; expect_no_file x.csv
    run "$STRATSIM" optimize "$S"; expect_rc 0; expect_out "gpu@2024 <= 12"; expect_out "yes"
    # calibration to observations of the stock: recovers reinvest from data
    # made with reinvest = 0.2
    run "$STRATSIM" run "$S" --set providers.alibaba.reinvest=0.2 -o truth.csv; expect_rc 0
    { echo "time,provider,segment,metric,value"; grep ',,,gpu,' truth.csv | cut -d, -f2,3,4,5,6; } > obs.csv
    run "$STRATSIM" calibrate "$S" --data obs.csv; expect_rc 0; expect_out "providers.alibaba.reinvest"
    expect_out "reinvest=0.2"
    # every analysis's sidecar lists the stock with its unit, from the command
    # line and from Lua (r:write_csv); one without stocks has no "stocks"
    run "$STRATSIM" sens "$S" --outputs gpu@2024 -o sens.csv; expect_rc 0
    run "$STRATSIM" optimize "$S" -o opt.csv; expect_rc 0
    run "$STRATSIM" calibrate "$S" --data obs.csv -o cal.csv --write fit.lua; expect_rc 0
    run "$STRATSIM" sweep "$S" --grid providers.alibaba.reinvest=0.1:0.3:3 -o sw.csv; expect_rc 0
    cp "$S" stocks.lua
    cat > lua_an.lua <<'EOF'
local sc = stratsim.include("stocks.lua")
assert(sc:sensitivity{ outputs = { "gpu@2024" } }:write_csv("lsens.csv"))
assert(sc:montecarlo{ runs = 50 }:write_csv("lmc.csv"))
assert(sc:optimize{}:write_csv("lopt.csv"))
return sc
EOF
    run "$STRATSIM" check lua_an.lua; expect_rc 0
    python3 - sens.csv opt.csv cal.csv fit.lua sw.csv lsens.csv lmc.csv lopt.csv <<'PY' || fail "a sidecar lacks the stock"
import json, sys
for f in sys.argv[1:]:
    d = json.load(open(f + ".json"))
    assert d.get("stocks") == [{"scenario": "stocks", "id": "gpu", "unit": "EFLOPS"}], (f, d.get("stocks"))
PY
    run "$STRATSIM" sens "$DATA/analysis.lua" -o plain.csv; expect_rc 0
    grep -q '"stocks"' plain.csv.json && fail "a sidecar without stocks lists some"
    return 0
}

# A sweep of a scenario with stocks and links runs the Lua on every worker
# (it crashed with more than one thread when the scenario had no policy or
# metric): the same table for any thread count, from the command line and
# from scenario:sweep, and the stock's value at a point is the one `run` gives.
test_stock_sweep_threads() {
    for t in 1 2 3; do
        run "$STRATSIM" sweep "$S" --grid providers.alibaba.reinvest=0.1:0.3:3 \
            --outputs gpu@2024,share:alibaba:public@2024 --threads $t -o sw$t.csv
        expect_rc 0
    done
    cmp sw1.csv sw2.csv && cmp sw1.csv sw3.csv || fail "a sweep with stocks depends on --threads"
    run "$STRATSIM" run "$S" --set providers.alibaba.reinvest=0.2 -o one.csv; expect_rc 0
    python3 - sw1.csv one.csv <<'PY' || fail "the sweep's stock differs from run's"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 3, rows
pt = [r for r in rows if abs(float(r["providers.alibaba.reinvest"]) - 0.2) < 1e-12][0]
one = [r for r in csv.DictReader(open(sys.argv[2]))
       if r["metric"] == "gpu" and abs(float(r["time"]) - 2024) < 1e-9][0]
assert abs(float(pt["gpu@2024"]) - float(one["value"])) <= 1e-12 * abs(float(one["value"])), (pt, one)
PY
    cp "$S" stocks.lua
    cat > lua_sweep.lua <<'EOF'
local sc = stratsim.include("stocks.lua")
local grid = { "providers.alibaba.reinvest=0.1:0.3:3" }
local one = sc:sweep{ grid = grid, outputs = { "gpu@2024" }, threads = 1 }
local two = sc:sweep{ grid = grid, outputs = { "gpu@2024" }, threads = 2 }
assert(one:csv() == two:csv(), "scenario:sweep depends on threads")
print(one:csv())
return sc
EOF
    run "$STRATSIM" run lua_sweep.lua; expect_rc 0
    # print writes to standard error; the value is the command line's
    expect_err "0.2,$(grep '^0.2,' sw1.csv | cut -d, -f2)"
}

test_stock_random_every_run() {
    # Every run of an analysis starts with math.random where the script left it,
    # also when only a stock's rate or a link calls Lua (no policy): a
    # sweep's points are the same for any --threads, each the same as a
    # fresh `stratsim run`. The draws are a tiny perturbation (1e-9), far
    # below the outputs' scale but visible in their digits; without the
    # reseed a point depends on the points the thread ran before it.
    sed -e 's/return 0.5 \* v:investment("alibaba")/return (0.5 + 1e-9 * math.random()) * v:investment("alibaba")/' \
        -e 's|v:stock("gpu") / 10)|v:stock("gpu") / 10 + 1e-9 * math.random())|' "$S" > rnd.lua
    [ "$(grep -c 'math.random' rnd.lua)" = 2 ] || fail "the fixture's edit did not apply"
    for t in 1 2 3; do
        run "$STRATSIM" sweep rnd.lua --grid providers.alibaba.reinvest=0.1:0.3:5 --threads $t -o rs$t.csv
        expect_rc 0
    done
    cmp rs1.csv rs2.csv && cmp rs1.csv rs3.csv || fail "a sweep whose stock draws math.random depends on --threads"
    for v in 0.1 0.25 0.3; do
        run "$STRATSIM" run rnd.lua --set providers.alibaba.reinvest=$v -o one.csv; expect_rc 0
        grep "^$v," rs1.csv | cut -d, -f2- > pt.csv
        tail -n +2 one.csv | cmp - pt.csv || fail "sweep point $v differs from a fresh run"
    done
    cat > rnd_lua.lua <<'EOF'
local sc = stratsim.include("rnd.lua")
local sw = sc:sweep{ grid = { "providers.alibaba.reinvest=0.1:0.3:5" }, outputs = { "gpu@2024" } }
print(sw:csv())
return sc
EOF
    run "$STRATSIM" run rnd_lua.lua; expect_rc 0
    expect_err "0.3,$(python3 -c "
import csv
r = [x for x in csv.DictReader(open('rs1.csv')) if x['providers.alibaba.reinvest'] == '0.3'
     and x['metric'] == 'gpu' and float(x['time']) == 2024]
print(r[0]['value'])")"
}

test_gpu_constraint_scenario() {
    # the bundled mechanism: the cap binds after the Oct 2023 rule (the
    # build-out gets less than it wants), and while compute is below its
    # 2021 level Alibaba's AI share trails the flagship's
    run "$STRATSIM" run "$ROOT/scenarios/gpu_constraint.lua" -o g.csv; expect_rc 0
    run "$STRATSIM" run "$ROOT/scenarios/ai_public_first.lua" -o f.csv; expect_rc 0
    python3 - <<'PY' || fail "gpu_constraint.lua does not behave as documented"
import csv
def load(f):
    return {(r[1], r[2], r[3], r[4]): float(r[5]) for r in list(csv.reader(open(f)))[1:]}
g, f = load("g.csv"), load("f.csv")
assert g[("2021.75", "", "", "gpu")] == 10
assert g[("2023.75", "", "", "gpu")] < 10                        # depreciation outpaces the small AI budget
assert g[("2023.75", "", "", "gpu_fill")] == 1                   # the cap does not bind yet
assert g[("2027", "", "", "gpu_fill")] < 0.8                     # ... and binds after the 2023 rule
assert g[("2023.75", "alibaba", "ai", "share")] < f[("2023.75", "alibaba", "ai", "share")] - 0.005
PY
    grep -q '"id":	"gpu"' g.csv.json || fail "sidecar lacks the stock"
}

test_link_every_target() {
    # a link on each kind of input, varying in time, against the same input as
    # a linear schedule (allocation moves investment between segments, so
    # capability shows it)
    {
        printf 'local L = %s\n' "$(scen linked 'links = {
    ["providers.a.reinvest"] = function(v) return 0.3 + 0.02 * (v.t - 2022) end,
    ["providers.a.allocation.ai"] = function(v) return 0.2 + 0.1 * (v.t - 2022) end,
    ["providers.a.allocation.public"] = function(v) return 0.8 end,
    ["providers.b.price.ai"] = function(v) return 1 - 0.05 * (v.t - 2022) end,
    ["providers.b.participation.public"] = function(v) return 1 - 0.1 * (v.t - 2022) end },')"
        printf 'local S = %s\n' "$(scen sched 'events = {},')"
        cat <<'EOF2'
local function lin(a, b) return stratsim.linear { { 2022, a }, { 2027, b } } end
S = S:with { providers = { a = { reinvest = lin(0.3, 0.4), allocation = { ai = lin(0.2, 0.7), public = 0.8 } },
                           b = { price = { ai = lin(1, 0.75) }, participation = { public = lin(1, 0.5) } } } }
local rl, rs = L:run(), S:run()
local worst = 0
for _, m in ipairs { { "share", "a", "ai" }, { "share", "b", "public" }, { "capability", "a", "ai" },
                     { "capability", "a", "public" }, { "investment", "a" }, { "npv", "b" } } do
  local _, vl = rl:series(m[1], m[2], m[3])
  local _, vs = rs:series(m[1], m[2], m[3])
  for i = 1, #vl do worst = math.max(worst, math.abs(vl[i] - vs[i]) / math.max(1, math.abs(vs[i]))) end
end
assert(worst <= 1e-9, "links vs schedules: " .. worst)
print("ok " .. worst)
EOF2
    } > e.lua
    run "$STRATSIM" run e.lua; expect_rc 0; expect_err "ok"
}
