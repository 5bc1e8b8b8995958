# tests/cli/test_lua_api.sh - the scripting API through `stratsim run`:
# derived metrics in both CSV layouts, policy errors with file, line, time
# and traceback, runaway or memory-hungry policies and derived metrics stopped
# without leaving output, scripts that return nothing and write their own
# results (and the sandbox's rule for where), and the adaptive_policy example.

write_scen() {
    # $1: file, $2: extra scenario keys
    cat > "$1" <<LUA
return stratsim.scenario {
  name = "api",
  time = { start = 2022, stop = 2024, step = 0.5 },
  segments = { { id = "x", size = 100, growth = 0.1 }, { id = "y", size = 40 } },
  providers = {
    { id = "a", share = { x = 0.4, y = 0.2 }, reinvest = 0.3 },
    { id = "b", share = { x = 0.6, y = 0.8 }, price = stratsim.linear{{2022, 1}, {2024, 0.85}} },
  },
  $2
}
LUA
}

test_derived_metrics_in_both_layouts() {
    write_scen s.lua 'outputs = { total_x = function(v) return v:share("a", "x") + v:share("b", "x") end,
              a_rev = function(v) return v:revenue("a") end },'
    run "$STRATSIM" run s.lua -o long.csv; expect_rc 0
    run "$STRATSIM" run s.lua -o wide.csv --layout wide; expect_rc 0
    run "$STRATSIM" run s.lua; expect_rc 0
    expect_out "Derived metrics"; expect_out "total_x"
    python3 - <<'PY' || fail "derived metrics in the CSV layouts"
import csv
long = list(csv.reader(open("long.csv", newline="")))[1:]
wide = list(csv.reader(open("wide.csv", newline="")))
hdr, wrows = wide[0], wide[1:]
times = sorted({float(r[1]) for r in long})
assert len(times) == 5, times
d = [r for r in long if r[4] in ("total_x", "a_rev")]
assert len(d) == 2 * 5, d
assert all(r[2] == "" and r[3] == "" for r in d)
for r in d:
    t = float(r[1])
    if r[4] == "total_x":
        assert abs(float(r[5]) - 1) < 1e-12, r
    else:
        rev = [x for x in long if float(x[1]) == t and x[2] == "a" and x[3] == "" and x[4] == "revenue"]
        assert abs(float(r[5]) - float(rev[0][5])) < 1e-9, (r, rev)
# per time: derived rows come last, in alphabetical order
per_t = [r[4] for r in long if float(r[1]) == 2023]
assert per_t[-2:] == ["a_rev", "total_x"], per_t[-3:]
# wide: one column each, the last two, same values
assert hdr[-2:] == ["a_rev", "total_x"], hdr[-3:]
for w in wrows:
    assert abs(float(w[-1]) - 1) < 1e-12
    lv = [r for r in d if float(r[1]) == float(w[1]) and r[4] == "a_rev"][0]
    assert float(w[-2]) == float(lv[5])
PY
}

test_policy_error_reported_with_time_and_traceback() {
    write_scen p.lua 'policy = function(view)
    if view.t >= 2023 then
      local plan = nil
      view:set("a", "price", plan.price)
    end
  end,'
    run "$STRATSIM" run p.lua -o out.csv; expect_rc 1
    expect_err "stratsim: p.lua:12: attempt to index a nil value (local 'plan') (in policy at t=2023)"
    expect_err "stack traceback:"
    expect_no_file out.csv; expect_no_file out.csv.json; expect_no_temp .
    # a range error names the field
    write_scen q.lua 'policy = function(view) view:set("a", "price", { x = -1 }) end,'
    run "$STRATSIM" run q.lua; expect_rc 1
    expect_err "q.lua:9: set: price.x must be > 0, got -1 (in policy at t=2022)"
    # a derived metric returning nothing names the metric and the time
    write_scen r.lua 'outputs = { gap = function(view) if view.t > 2023 then return nil end return 0 end },'
    run "$STRATSIM" run r.lua; expect_rc 1
    expect_err "r.lua:9: derived metric 'gap' returned nil at t=2023.5 (expected a finite number)"
}

# A policy or derived metric that loops forever or eats memory is stopped in
# bounded time with a clear message, and leaves no output behind.
test_runaway_callbacks_stopped() {
    write_scen loop.lua 'policy = function(view) if view.t >= 2023 then while true do end end end,'
    start=$(date +%s)
    run "$STRATSIM" run loop.lua --max-instructions 20000000 -o out.csv; expect_rc 1
    expect_err "loop.lua:9: instruction limit exceeded (20000000 instructions) (in policy at t=2023)"
    expect_no_file out.csv; expect_no_temp .
    write_scen spin.lua 'outputs = { spin = function(view) while true do pcall(function() while true do end end) end end },'
    run "$STRATSIM" run spin.lua --max-instructions 20000000 -o out.csv; expect_rc 1
    expect_err "instruction limit exceeded (20000000 instructions) (in derived metric 'spin' at t=2022)"
    expect_no_file out.csv; expect_no_temp .
    write_scen bomb.lua 'policy = function(view) local t = {} while true do t[#t + 1] = ("x"):rep(1e5) .. #t end end,'
    run "$STRATSIM" run bomb.lua --max-memory 16 -o out.csv; expect_rc 1
    expect_err "scenario exceeded 16 MiB of memory (in policy at t=2022)"
    expect_no_file out.csv; expect_no_temp .
    write_scen hog.lua 'outputs = { hog = function(view) local s = "x" while true do s = s .. s end end },'
    run "$STRATSIM" run hog.lua --max-memory 16; expect_rc 1
    expect_err "scenario exceeded 16 MiB of memory (in derived metric 'hog' at t=2022)"
    [ $(( $(date +%s) - start )) -le 60 ] || fail "stopping the runaway scripts took too long"
    # the default budget stops a policy that loops forever too (2e9 instructions)
}

test_script_doing_its_own_work() {
    write_scen s.lua ''
    { printf 'local base = '; sed 's/^return //' s.lua; cat <<'LUA'
local r = base:run()
assert(r:write_csv("sub/../cheaper.csv") == nil)
LUA
    } > own.lua
    # '..' is refused in the sandbox
    run "$STRATSIM" run own.lua; expect_rc 1
    expect_err "sandboxed scripts may write only to relative paths without '..'"
    { printf 'local base = '; sed 's/^return //' s.lua; cat <<'LUA'
local cheaper = base:with { name = "cheaper", providers = { a = { price = 0.9 } } }
local r1, r2 = base:run(), cheaper:run()
assert(r1:write_csv("base.csv"))
assert(r2:write_csv("cheaper.csv", { layout = "wide" }))
print(stratsim.compare{ r1, r2 })
print(r2:plot("share", "a", "x"))
LUA
    } > own.lua
    run "$STRATSIM" run own.lua; expect_rc 0
    [ -z "$OUT" ] || fail "a script returning nothing prints no summary"
    expect_err "At the last output time"
    expect_err "share (cheaper)"
    expect_file base.csv; expect_file base.csv.json; expect_file cheaper.csv; expect_no_temp .
    [ "$(head -n 1 cheaper.csv | cut -c1-13)" = "scenario,time" ] || fail "wide header"
    run "$STRATSIM" check own.lua; expect_rc 0
    expect_out "own.lua: ok: the script returned no scenario"
    # with -o there is nothing to write
    run "$STRATSIM" run own.lua -o x.csv; expect_rc 1
    expect_err "the script returned no scenario, so there is nothing to write to x.csv"
    expect_no_file x.csv
    # absolute paths: refused in the sandbox, allowed with --unsafe
    { printf 'local base = '; sed 's/^return //' s.lua
      printf 'assert(base:run():write_csv("%s/abs.csv"))\n' "$T"; } > abs.lua
    run "$STRATSIM" run abs.lua; expect_rc 1
    expect_err "run with --unsafe to lift this"
    expect_no_file abs.csv
    run "$STRATSIM" run abs.lua --unsafe; expect_rc 0
    expect_file abs.csv
}

# adaptive_policy.lua is the baseline until its policy fires, then differs;
# the policy fires once.
test_adaptive_policy_example() {
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o b.csv; expect_rc 0
    run "$STRATSIM" run "$ROOT/scenarios/adaptive_policy.lua" -o a.csv; expect_rc 0
    python3 - <<'PY' || fail "adaptive_policy.lua"
import csv
def load(f):
    return {(float(r[1]), r[2], r[3], r[4]): float(r[5]) for r in list(csv.reader(open(f)))[1:]}
b, a = load("b.csv"), load("a.csv")
price = sorted((k[0], v) for k, v in a.items() if k[3] == "alibaba_public_price")
fired = [t for t, v in price if v < 1]
assert fired and all(v == 0.95 for t, v in price if t >= fired[0]), price
t_fire = fired[0]
# it fired at the first quarter where the share had fallen below 28%
assert a[(t_fire, "alibaba", "public", "share")] < 0.28
assert all(a[(t, "alibaba", "public", "share")] >= 0.28 for t, v in price if t < t_fire)
for k, v in b.items():
    if k[0] < t_fire:
        assert abs(a[k] - v) <= 1e-12 * max(1, abs(v)), (k, a[k], v)
assert a[(2030.0, "alibaba", "public", "share")] > b[(2030.0, "alibaba", "public", "share")] + 0.02
ts = [k for k in a if k[3] == "alibaba_total_share"]
assert len(ts) == len(price) and all(0 < a[k] < 1 for k in ts)
PY
}
