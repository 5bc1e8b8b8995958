# tests/cli/test_interventions.sh - what-if changes act (docs/model.md §6),
# the warnings about inputs that move nothing, the calibration's degrees of
# freedom, and behaviour checks (stratsim check --behaviour).

# --set of a decision input moves the share; the same as a set event at the start
test_set_reinvest_acts() {
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" --set providers.alibaba.reinvest=0.1 -o lo.csv; expect_rc 0
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" --set providers.alibaba.reinvest=0.5 -o hi.csv; expect_rc 0
    cat > ev.lua <<LUA
local b = stratsim.include("baseline.lua")
return b:with { events = { { t = b.time.start, kind = "set", provider = "alibaba",
                             field = "reinvest", value = 0.5 } } }
LUA
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    run "$STRATSIM" run ev.lua -o ev.csv; expect_rc 0
    python3 - <<'PY' || fail "reinvestment did not act, or differs from the set event"
import csv
def rows(f):
    return {tuple(r[1:5]): float(r[5]) for r in list(csv.reader(open(f)))[1:]}
lo, hi, ev = rows("lo.csv"), rows("hi.csv"), rows("ev.csv")
k = ("2028", "alibaba", "public", "share")
assert hi[k] > lo[k] + 0.05, (lo[k], hi[k])
assert max(abs(hi[x] - ev[x]) / max(1e-300, abs(ev[x])) for x in ev) <= 1e-12
PY
}

# the README's variant: :with{reinvest = 0.3} changes the share
test_variant_acts() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    printf 'return stratsim.include("baseline.lua"):with { name = "more", providers = { alibaba = { reinvest = 0.3 } } }\n' > v.lua
    run "$STRATSIM" compare baseline.lua v.lua; expect_rc 0
    echo "$OUT" | grep -E '^  alibaba public ' | grep -q ' pp)' || fail "no share change shown"
    echo "$OUT" | grep -E '^  alibaba public ' | grep -q '(+0.00 pp)' && fail "share change is zero"
    return 0
}

# time.policy: a later policy time; outside the time range is an error
test_policy_time() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    printf 'return stratsim.include("baseline.lua"):with { time = { policy = 2024 } }\n' > p.lua
    printf 'local b = stratsim.include("baseline.lua")\nreturn b:with { events = { { t = 2024, kind = "set", provider = "alibaba", field = "reinvest", value = 0.5 } } }\n' > e.lua
    run "$STRATSIM" run p.lua --set providers.alibaba.reinvest=0.5 -o p.csv; expect_rc 0
    run "$STRATSIM" run e.lua -o e.csv; expect_rc 0
    python3 - <<'PY' || fail "policy time 2024 differs from a set event at 2024"
import csv, json
p = [r[1:] for r in csv.reader(open("p.csv"))][1:]
e = [r[1:] for r in csv.reader(open("e.csv"))][1:]
assert len(p) == len(e)
for a, b in zip(p, e):
    assert a[:4] == b[:4]
    x, y = float(a[4]), float(b[4])
    assert abs(x - y) <= 1e-12 * max(abs(y), 1e-300), (a, b)
sc = json.load(open("p.csv.json"))["scenarios"][0]
assert sc["time"]["policy"] == 2024
assert sc["interventions"][0]["path"] == "providers.alibaba.reinvest"
PY
    printf 'return stratsim.include("baseline.lua"):with { time = { policy = 2040 } }\n' > bad.lua
    run "$STRATSIM" check bad.lua; expect_rc 1; expect_err "time.policy: must be inside [time.start, time.stop]"
}

# mc, sens and optimize warn about an input that moves nothing
test_inert_inputs_warned() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    cat > inert.lua <<'LUA'
return stratsim.include("baseline.lua"):with {
  uncertainty = { ["providers.alibaba.recovery"] = stratsim.uniform(0.2, 2),
                  ["providers.alibaba.reinvest"] = stratsim.uniform(0.1, 0.4) },
  optimize = { objective = "npv:alibaba",
               controls = { ["providers.alibaba.recovery"] = { lower = 0.2, upper = 2 },
                            ["providers.alibaba.reinvest"] = { lower = 0.1, upper = 0.4 } } },
}
LUA
    run "$STRATSIM" mc inert.lua --runs 40 --no-outages -o mc.csv; expect_rc 0
    expect_err "warning: mc: uncertain input 'providers.alibaba.recovery' moves none of the outputs"
    echo "$ERR" | grep -q "reinvest' moves none" && fail "reinvest flagged as inert"
    run "$STRATSIM" sens inert.lua -o t.csv; expect_rc 0
    expect_err "warning: sens: 'providers.alibaba.recovery' moves none of the outputs"
    echo "$ERR" | grep -q "reinvest' moves none" && fail "reinvest flagged as inert (tornado)"
    run "$STRATSIM" sens inert.lua --method sobol --samples 64 -o s.csv; expect_rc 0
    expect_err "warning: sens: 'providers.alibaba.recovery' moves none of the outputs"
    run "$STRATSIM" optimize inert.lua --starts 1 -o o.csv; expect_rc 0
    expect_err "warning: optimize: control 'providers.alibaba.recovery' has no effect"
    echo "$ERR" | grep -q "control 'providers.alibaba.reinvest'" && fail "reinvest control flagged"
    return 0
}

# calibration: the start observation is not a degree of freedom; a parameter
# that moves no observation is not identified and gets no standard error
test_calibrate_dof_and_identification() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    run "$STRATSIM" calibrate baseline.lua --data "$ROOT/scenarios/data/china_public_cloud_iaas.csv"; expect_rc 0
    expect_out "(3 observations, 1 met by construction at the start, 1 parameter, dof 1)"
    cat > cal.lua <<'LUA'
return stratsim.include("baseline.lua"):with { calibrate = {
  ["segments.public.beta_price"] = { lower = 0.1, upper = 10, start = 1 },
  ["providers.alibaba.recovery"] = { lower = 0.2, upper = 2, start = 0.5 } } }
LUA
    run "$STRATSIM" calibrate cal.lua --data "$ROOT/scenarios/data/china_public_cloud_iaas.csv"; expect_rc 0
    expect_err "warning: calibrate: providers.alibaba.recovery is not identified"
    expect_out "(not identified: no observation depends on it)"
    expect_out "2 parameters, dof 1)"
    echo "$OUT" | grep -E '^  providers.alibaba.recovery ' | grep -q ' - ' || fail "a standard error is shown"
    return 0
}

# behaviour checks: the bundled scenarios pass theirs
test_bundled_checks_pass() {
    for s in baseline ai_public_first status_quo price_war outage_stress adaptive_policy; do
        run "$STRATSIM" check --behaviour "$ROOT/scenarios/$s.lua"; expect_rc 0
        expect_out "Behaviour checks of scenario '$s':"
        echo "$OUT" | grep -q FAIL && fail "$s: a check failed"
        echo "$OUT" | grep -Eq '^[0-9]+ of [0-9]+ checks passed$' || fail "$s: no summary"
    done
    run "$STRATSIM" check --behaviour "$ROOT/scenarios/ai_public_first.lua"; expect_rc 0
    expect_out "PASS  a more severe outage loses public share"
    expect_out "PASS  more reinvestment gains public share"
}

# a failing check exits 1 and names itself; errors in the table are located
test_failing_check() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    cat > c.lua <<'LUA'
return stratsim.include("baseline.lua"):with { checks = {
  { name = "reinvestment gains share", change = { ["providers.alibaba.reinvest"] = 0.4 },
    expect = "share:alibaba:public@2028 > base" },
  { name = "recovery time moves share", change = { ["providers.alibaba.recovery"] = 2 },
    expect = "share:alibaba:public@2028 > base" },
} }
LUA
    run "$STRATSIM" check --behaviour c.lua; expect_rc 1
    expect_out "PASS  reinvestment gains share"
    expect_out "FAIL  recovery time moves share"
    expect_out "1 of 2 checks passed"
    expect_err "behaviour check failed: recovery time moves share"
    run "$STRATSIM" check c.lua; expect_rc 0
    printf 'return stratsim.include("baseline.lua"):with { checks = { { name = "x", change = { ["providers.nobody.reinvest"] = 1 }, expect = "npv:alibaba > base" } } }\n' > bad1.lua
    run "$STRATSIM" check --behaviour bad1.lua; expect_rc 1; expect_err "bad1.lua:1: checks[1]"; expect_err "nobody"
    printf 'return stratsim.include("baseline.lua"):with { checks = { { name = "x", change = { ["providers.alibaba.reinvest"] = 1 }, expect = "npv:alibaba = base" } } }\n' > bad2.lua
    run "$STRATSIM" check --behaviour bad2.lua; expect_rc 1; expect_err "expected 'SELECTOR OP base'"
    printf 'return stratsim.include("baseline.lua"):with { checks = { { nme = "x" } } }\n' > bad3.lua
    run "$STRATSIM" check --behaviour bad3.lua; expect_rc 1; expect_err "nme"
}

# a policy that draws math.random: each check's two values are those of
# `stratsim run` and `stratsim run --set CHANGE` (every run starts with
# math.random at its default seed), whatever the order of the checks; the
# same from sc:check()
test_check_random_policy() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    for order in "0.3 0.31" "0.31 0.3"; do
        set -- $order
        cat > rp.lua <<LUA
return stratsim.include("baseline.lua"):with {
  name = "randpol",
  policy = function(view)
    local p = view:get("price", "alibaba", "public")
    view:set("alibaba", "price", { public = p * (0.99 + 0.02 * math.random()) })
  end,
  checks = {
    { name = "c$1", change = { ["providers.alibaba.reinvest"] = $1 }, expect = "share:alibaba:public@2024.5 > base" },
    { name = "c$2", change = { ["providers.alibaba.reinvest"] = $2 }, expect = "share:alibaba:public@2024.5 > base" },
  },
}
LUA
        run "$STRATSIM" check --behaviour rp.lua; expect_rc 0
        echo "$OUT" > "check_$1.txt"
        printf 'for _, c in ipairs(sc:check()) do print(c.name, string.format("%%.10g %%.10g", c.value, c.base)) end\n' > s.lua
        run sh -c "'$STRATSIM' repl rp.lua < s.lua"; expect_rc 0
        echo "$OUT" > "lua_$1.txt"
    done
    run "$STRATSIM" run rp.lua -o base.csv; expect_rc 0
    base=$(grep '^randpol,2024.5,alibaba,public,share,' base.csv | cut -d, -f6)
    for v in 0.3 0.31; do
        run "$STRATSIM" run rp.lua --set providers.alibaba.reinvest=$v -o one.csv; expect_rc 0
        one=$(grep '^randpol,2024.5,alibaba,public,share,' one.csv | cut -d, -f6)
        want=$(python3 -c "print('%.10g with the change, %.10g in the scenario' % ($one, $base))")
        wlua=$(python3 -c "print('c$v\t%.10g %.10g' % ($one, $base))")
        for f in check_0.3.txt check_0.31.txt; do
            grep -A1 "PASS  c$v\$" $f | grep -qF "$want" || fail "check c$v in $f: not '$want': $(cat $f)"
        done
        for f in lua_0.3.txt lua_0.31.txt; do
            grep -qF "$(printf "$wlua")" $f || fail "sc:check c$v in $f: not '$wlua': $(cat $f)"
        done
    done
}

# Every run of `run`, sweep, sens and check starts from the math.random
# state the script left when it had loaded (here: its own seed and one
# draw at load time), so a sweep point or a sensitivity run is the run
# `stratsim run --set` does, and two identical scenarios of one file give
# the same numbers
test_runs_start_where_the_script_left() {
    cp "$ROOT/scenarios/baseline.lua" baseline.lua
    cat > ld.lua <<'LUA'
local base = stratsim.include("baseline.lua")
math.randomseed(7)
local jitter = math.random()   -- drawn while the script loads
local function pol(view)
  local p = view:get("price", "alibaba", "public")
  view:set("alibaba", "price", { public = p * (0.99 + 0.02 * math.random()) })
end
return { base:with { name = "A", policy = pol }, base:with { name = "B", policy = pol } }
LUA
    sel='2024.5,alibaba,public,share,'
    run "$STRATSIM" run ld.lua -o r.csv; expect_rc 0
    a=$(grep "^A,$sel" r.csv | cut -d, -f6); b=$(grep "^B,$sel" r.csv | cut -d, -f6)
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "identical scenarios of one file differ: '$a' '$b'"
    run "$STRATSIM" run ld.lua --set providers.alibaba.reinvest=0.3 -o one.csv; expect_rc 0
    one=$(grep "^A,$sel" one.csv | cut -d, -f6)
    [ "$one" != "$a" ] || fail "the change did not act"
    run "$STRATSIM" sweep ld.lua --scenario A --grid providers.alibaba.reinvest=0.2,0.3 \
        --outputs share:alibaba:public@2024.5 -o sw.csv; expect_rc 0
    grep -qx "0.3,$one" sw.csv || fail "sweep point 0.3: $(cat sw.csv), not $one"
    # the script's own seed acts (runs do not restart from a fixed seed)
    sed 's/math.randomseed(7)/math.randomseed(8)/' ld.lua > ld8.lua
    run "$STRATSIM" sweep ld8.lua --scenario A --grid providers.alibaba.reinvest=0.3 \
        --outputs share:alibaba:public@2024.5 -o sw8.csv; expect_rc 0
    run "$STRATSIM" run ld8.lua --set providers.alibaba.reinvest=0.3 -o one8.csv; expect_rc 0
    one8=$(grep "^A,$sel" one8.csv | cut -d, -f6)
    [ "$one8" != "$one" ] || fail "math.randomseed(8) at load gave the numbers of 7"
    grep -qx "0.3,$one8" sw8.csv || fail "sweep point 0.3 with seed 8: $(cat sw8.csv), not $one8"
    run "$STRATSIM" sens ld.lua --scenario A --vary providers.alibaba.reinvest \
        --outputs share:alibaba:public@2024.5 -o s.csv; expect_rc 0
    python3 - s.csv <<'PY' > lowhigh.txt || fail "sens CSV: $(cat s.csv)"
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[0]
print(r["low_value"], r["output_at_low"], r["high_value"], r["output_at_high"])
PY
    read lo at_lo hi at_hi < lowhigh.txt
    for pair in "$lo $at_lo" "$hi $at_hi"; do
        set -- $pair
        run "$STRATSIM" run ld.lua --set providers.alibaba.reinvest=$1 -o p.csv; expect_rc 0
        python3 -c "import sys; a, b = float('$2'), float('$(grep "^A,$sel" p.csv | cut -d, -f6)'); sys.exit(a != b)" \
            || fail "sens at reinvest=$1 gave $2, run --set $(grep "^A,$sel" p.csv | cut -d, -f6)"
    done
}

# sc:check() in Lua
test_lua_check() {
    printf 'r = sc:check()\nprint(r.passed, r.failed, r[1].name, r[1].pass, r[1].value > r[1].base)\n' > s.lua
    run sh -c "'$STRATSIM' repl '$ROOT/scenarios/baseline.lua' < s.lua"
    expect_rc 0
    expect_out "5	0	more reinvestment gains public share	true	true"
}
