# tests/cli/test_lua_module.sh - stratsim.so, the Lua C module: `require
# "stratsim"` from the system lua5.4 runs scenarios with the same results,
# summaries and CSV as the stratsim program, policies and derived metrics
# included, without a sandbox.

SO_DIR=$(dirname "$STRATSIM")

# lua5.4 with the module's directory first in package.cpath. A module built
# with AddressSanitizer needs the ASan runtime loaded first.
lua_mod() {
    pre=$(ldd "$SO_DIR/stratsim.so" 2>/dev/null | awk '/libasan/ { print $3 }')
    LUA_CPATH="$SO_DIR/?.so;;" LD_PRELOAD="${pre:-${LD_PRELOAD:-}}" \
        ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1" lua5.4 "$@"
}

have_lua() {
    command -v lua5.4 >/dev/null 2>&1 || skip "lua5.4 not installed"
    [ -f "$SO_DIR/stratsim.so" ] || fail "stratsim.so was not built next to $STRATSIM"
}

write_market() {
    cat > market.lua <<'LUA'
-- a small market with a policy and a derived metric
return stratsim.scenario {
  name = "mod",
  time = { start = 2022, stop = 2025, step = 0.25 },
  segments = { { id = "x", size = 100, growth = 0.1 }, { id = "y", size = 40 } },
  providers = {
    { id = "a", share = { x = 0.4, y = 0.2 }, reinvest = 0.3 },
    { id = "b", share = { x = 0.6, y = 0.8 }, price = stratsim.linear{{2022, 1}, {2024, 0.85}} },
  },
  policy = function(view)
    if view.t == 2023 then view:set("a", "price", { x = 0.9 }) end
  end,
  outputs = { total = function(view) return view:share("a", "x") + view:share("b", "x") end },
}
LUA
}

test_module_require_runs_a_scenario() {
    have_lua || return 0
    run lua_mod -e 'local s = require "stratsim"
      local sc = s.scenario { time = { start = 2022, stop = 2024, step = 0.5 },
        segments = { { id = "x", size = 100 } },
        providers = { { id = "a", share = { x = 0.4 }, price = s.linear{{2022, 1}, {2024, 0.8}} },
                      { id = "b", share = { x = 0.6 } } } }
      print(sc:run():value("share", "a", "x"))'
    expect_rc 0
    expect_out "0.41989222450"
    # the module table has the whole API and its docs
    run lua_mod -e 'local s = require "stratsim"
      assert(s.scenario and s.steps and s.linear and s.compare and s.sparkline and s.version)
      assert(s._docs["scenario:run"]:find("^scenario:run%(%) %-> result: "))
      assert(package.loaded.stratsim == s)
      print(s.version, s.sparkline{1, 2, 3})'
    expect_rc 0; expect_out "▁▅█"
}

test_module_matches_the_program() {
    have_lua || return 0
    write_market
    run "$STRATSIM" run market.lua; expect_rc 0
    cp "$T/stdout" cli_summary.txt
    run "$STRATSIM" run market.lua -o cli.csv; expect_rc 0
    # same summary text, same CSV bytes, from the module (writing anywhere:
    # no sandbox), with the policy and the derived metric
    run lua_mod -e "stratsim = require 'stratsim'
      local r = dofile('market.lua'):run()
      io.write(r:summary())
      assert(r:write_csv('$T/mod.csv'))
      assert(math.abs(r:value('total') - 1) < 1e-12)
      assert(r:value('gross_margin', 'a', 'x', 2023) > r:value('gross_margin', 'a', 'x', 2022.75) - 1)"
    expect_rc 0
    cmp -s "$T/stdout" cli_summary.txt || fail "module summary differs from 'stratsim run'"
    cmp -s mod.csv cli.csv || fail "module CSV differs from 'stratsim run -o'"
    expect_file mod.csv.json
}

test_module_errors_are_lua_errors() {
    have_lua || return 0
    write_market
    # a failing policy raises a Lua error the host can catch, with file, line and time
    sed 's/view:set("a", "price", { x = 0.9 })/local p = nil; p.x = 1/' market.lua > bad.lua
    run lua_mod -e "stratsim = require 'stratsim'
      local ok, e = pcall(function() return dofile('bad.lua'):run() end)
      assert(not ok)
      print(tostring(e))"
    expect_rc 0
    expect_out "bad.lua:11: attempt to index a nil value (local 'p') (in policy at t=2023)"
    # a scenario error names the file and line of the constructor
    run lua_mod -e "stratsim = require 'stratsim'
      local ok, e = pcall(stratsim.scenario, { time = { start = 2022, stop = 2021, step = 1 },
        segments = { { id = 'x', size = 1 } }, providers = { { id = 'a', share = { x = 1 } } } })
      print(tostring(e))"
    expect_rc 0
    expect_out "time.stop: must be >= time.start"
    # in a file, the error is located at the key's own line
    printf 'return stratsim.scenario {\n  time = { start = 2022, stop = 2024, step = 0.5 },\n  segments = {\n    { id = "x", size = 100,\n      tau = -1 } },\n  providers = { { id = "a", share = { x = 1 } } },\n}\n' > tau.lua
    run lua_mod -e "stratsim = require 'stratsim'; print(select(2, pcall(dofile, 'tau.lua')))"
    expect_rc 0
    expect_out "tau.lua:5: segments.x.tau: must be > 0, got -1"
}
