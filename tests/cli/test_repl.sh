# tests/cli/test_repl.sh - `stratsim repl`: options and exit codes; scripted
# through a pipe (no TTY): expression printing, multi-line chunks, errors that
# do not end the session, the scenario as `sc`, the table printer, help(), the
# memory cap, os.exit, Ctrl-C (SIGINT) stopping a runaway command; and end to
# end through a pseudo-terminal (tests/cli/pty_drive.py, or tmux_drive.sh when
# python3 has no pty module): prompts, the `>>` continuation, Up-arrow history,
# Tab completion, a result summary, Ctrl-C, the history file. The terminal
# tests are counted as skipped only if neither python3 nor tmux is available.

# repl ARGS... <<EOF: run `stratsim repl ARGS` on the here-document (no TTY)
repl() { run "$STRATSIM" repl "$@"; }

# exact stdout
expect_stdout() { [ "$OUT" = "$1" ] || fail "stdout is not exactly: $1"; }

# ------------------------------------------------------------ no terminal

test_repl_help_and_usage() {
    run "$STRATSIM" repl --help; expect_rc 0; expect_out "Usage: stratsim repl"
    expect_out "STRATSIM_HISTORY"
    run "$STRATSIM" help repl; expect_rc 0; expect_out "Usage: stratsim repl"
    run "$STRATSIM" --help; expect_rc 0; expect_out "repl [SCENARIO.lua]"
    run "$STRATSIM" repl --bogus </dev/null; expect_rc 2; expect_err "unknown option '--bogus'"
    run "$STRATSIM" repl a.lua b.lua </dev/null; expect_rc 2; expect_err "only one scenario file"
    run "$STRATSIM" repl --set x=1 </dev/null; expect_rc 2; expect_err "sc:with"
    echo 'return {}' > fit.lua
    run "$STRATSIM" repl --params fit.lua </dev/null; expect_rc 2
    expect_err "repl: --params is not available here: derive variants with sc:with{...}"
    run "$STRATSIM" repl --max-instructions 5 </dev/null; expect_rc 2; expect_err "no instruction limit"
    run "$STRATSIM" repl --max-memory lots </dev/null; expect_rc 2
    run "$STRATSIM" repl missing.lua </dev/null; expect_rc 1; expect_err "cannot open missing.lua"
    run "$STRATSIM" repl "$DATA/bad_shares.lua" </dev/null; expect_rc 1; expect_err "bad_shares.lua:"
    # empty input: nothing printed, success
    run "$STRATSIM" repl </dev/null; expect_rc 0; expect_stdout ""; expect_no_err
}

test_repl_prints_expressions() {
    repl <<'EOF'
1+1
"text", nil, 2.5, 7 // 2, true
x = 6 * 7
x
-- a comment prints nothing

print("via print", 1)
math.maxinteger
EOF
    expect_rc 0; expect_no_err
    expect_stdout "2
text	nil	2.5	3	true
42
via print	1
9223372036854775807"
}

test_repl_output_into_full_device() {
    # what the session prints is lost: exit status 1 and a message, for a
    # script, for -e and for -v; a script that prints nothing still succeeds
    [ -w /dev/full ] || fail "/dev/full is not available"
    for how in script -e -v; do
        case $how in
            script) echo 'print(1)' | "$STRATSIM" repl >/dev/full 2>err ;;
            -e) "$STRATSIM" repl -e 'print(1)' >/dev/full 2>err ;;
            -v) "$STRATSIM" repl -v >/dev/full 2>err ;;
        esac && { fail "repl ($how) into /dev/full exited 0"; continue; }
        grep -q "^stratsim: cannot write to standard output" err || fail "repl ($how): $(cat err)"
    done
    echo 'x = 1' | "$STRATSIM" repl >/dev/full 2>err || fail "a silent script failed: $(cat err)"
}

test_repl_multiline_function() {
    repl <<'EOF'
function fib(n)
  if n < 2 then
    return n
  end
  return fib(n - 1) + fib(n - 2)
end
fib(20)
t = {
  a = 1,
  b = 2,
}
t.a + t.b
{1,
 2}
1 +
  2
s = [[two
lines]]
s
EOF
    expect_rc 0; expect_no_err
    expect_stdout "6765
3
{ 1, 2 }
3
two
lines"
}

test_repl_error_then_continue() {
    repl <<'EOF'
error("boom")
1 + 2
nosuch.field
x = = 1
"still here"
EOF
    # scripted: the session goes on after each error, but the exit status says
    expect_rc 1
    expect_stdout "3
still here"
    expect_err "stdin:1: boom"
    expect_err "stack traceback:"
    expect_err "attempt to index a nil value (global 'nosuch')"
    expect_err "unexpected symbol near '='"
}

test_repl_incomplete_chunk_at_eof() {
    printf 'function f()\n  return 1\n' >in.lua
    run "$STRATSIM" repl <in.lua; expect_rc 1
    expect_err "'end' expected"; expect_err "<eof>"
}

test_repl_loads_scenario_as_sc() {
    repl "$DATA/small.lua" <<'EOF'
sc.name
#scenarios, rawequal(sc, scenarios[1])
sc
sc:with{name = "variant"}.name
sc.time.stop
EOF
    expect_rc 0; expect_no_err
    expect_stdout "small
1	true
stratsim.Scenario 'small': time 2021.75..2024.0 step 0.25; 2 segments (public, private); 3 providers (alibaba, rival, others); 3 events
variant
2024.0"
    # a file returning several scenarios: sc is the first, scenarios all of them
    cat >two.lua <<EOF
local base = dofile("$DATA/small.lua")
return { base, base:with{ name = "second" } }
EOF
    repl --unsafe two.lua <<'EOF'
sc.name, #scenarios, scenarios[2].name
EOF
    expect_rc 0; expect_stdout "small	2	second"
}

test_repl_table_printing() {
    repl <<'EOF'
{3, 2, 1, b = 1, a = {x = 1}}
{3, 2, 1, b = 1, a = {x = 1, y = {true, false}}, ["two words"] = "q\"uote\n", [1.5] = 0}
{}
t = {} t.self = t t.list = {t} return t
big = {} for i = 1, 100 do big[i] = i end return big
h = {} for i = 1, 50 do h[("k%02d"):format(i)] = i end return h
{a = {b = {c = {d = {e = {f = {g = {h = 1}}}}}}}}
{("x"):rep(300)}
setmetatable({}, {__tostring = function() return "custom object" end})
setmetatable({}, {__tostring = function() error("bad tostring") end})
{io.stdout}
EOF
    expect_rc 0; expect_no_err
    # sorted keys, nested tables, quoted and escaped strings inside tables;
    # one line when it fits in 78 columns, else one entry per line
    expect_out '{ 3, 2, 1, a = { x = 1 }, b = 1 }'
    expect_out '{
  3, 2, 1,
  [1.5] = 0,
  a = { x = 1, y = { true, false } },
  b = 1,
  ["two words"] = "q\"uote\n"
}'
    expect_out "{}"
    # cycles are marked, not followed
    expect_out "list = { <cycle: table: 0x"
    expect_out "self = <cycle: table: 0x"
    # long tables: the first 20 entries and a count of the rest
    expect_out "  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,"
    expect_out "... (80 more)"
    expect_out "  k20 = 20,"
    expect_out "... (30 more)"
    case "$OUT" in *"k21 ="*) fail "k21 shown";; esac
    # deep nesting is cut
    expect_out "{ f = {...} }"
    # long strings inside tables are cut
    expect_out 'xxx"... (300 bytes)'
    # __tostring is used, and a failing one does not break printing
    expect_out "custom object"
    expect_out "__tostring failed:"
    expect_out "{ file (0x"
}

test_repl_strings_keep_nul_bytes() {
    printf '"a\\0b"\n{"c\\0d"}\n' >in.lua
    run "$STRATSIM" repl <in.lua; expect_rc 0
    printf 'a\000b\n{ "c\\000d" }\n' >want
    cmp -s want "$T/stdout" || fail "NUL bytes: $(od -An -c "$T/stdout")"
}

test_repl_results_api() {
    repl "$DATA/small.lua" <<'EOF'
r = sc:run()
r
r:summary()
string.format("%.4f", r:value("share", "alibaba", "public"))
EOF
    expect_rc 0; expect_no_err
    expect_out "stratsim.Result 'small'"
    expect_out "Scenario: small"
    expect_out "alibaba      public"
    expect_out "0.3654"
}

test_repl_full_libraries_and_deterministic_random() {
    repl <<'EOF'
type(io.open), type(os.getenv), type(debug.traceback), type(require)
math.random(1, 1000000), math.random()
EOF
    expect_rc 0
    expect_out "function	function	function	function"
    first=$(sed -n 2p "$T/stdout")
    repl <<'EOF'
math.random(1, 1000000), math.random()
EOF
    [ "$OUT" = "$first" ] || fail "math.random differs between sessions: '$first' vs '$OUT'"
}

test_repl_help() {
    repl "$DATA/small.lua" <<'EOF'
help()
help("scenario:run")
help(sc)
help(stratsim.steps)
help(sc:run())
help(print)
help("no_such_thing_xyz")
help(42)
EOF
    expect_rc 0; expect_no_err
    expect_out "help(x)"
    expect_out "Ctrl-C interrupts"
    expect_out "  scenario:run() -> result"
    expect_out "  scenario:with{...} -> scenario"
    expect_out "  stratsim.steps{{t, v}, ...} -> schedule"
    expect_out "  result:summary() -> string"
    expect_out "print: Lua standard function"
    expect_out "help: no documentation for 'no_such_thing_xyz'"
    expect_out "help: 42 is a number value"
}

test_repl_help_analysis_names() {
    repl "$ROOT/scenarios/baseline.lua" <<'EOF'
help("sc:montecarlo")
help("montecarlo")
help(stratsim.normal)
mc = sc:montecarlo { runs = 20, seed = 3 }
help(mc)
help("mc.runs")
help("r.value")
help("string.format")
help("function")
function f() end
help(f)
EOF
    expect_rc 0; expect_no_err
    expect_out "  scenario:montecarlo{runs = 1000"
    expect_out "  montecarlo:stats(selector) -> {mean, sd, min, max, p05, ...}"
    expect_out "  stratsim.normal(mean, sd) -> distribution"
    expect_out "stratsim.MonteCarlo: 20 runs of 'baseline' (seed 3)"
    expect_out "  montecarlo:summary() -> string"
    expect_out "  montecarlo.runs -> integer"
    expect_out "help: no documentation for 'r.value'"
    expect_out "string.format: Lua standard library"
    expect_out "function: Lua keyword"
    expect_out "f: a Lua function of this session, defined at stdin:1"
}

# Every name Tab completion offers gets help: the REPL's own completion
# function (found in the registry) is asked for the candidates of globals,
# keywords and the fields and methods of every kind of stratsim object, and
# help() is called on each of them.
test_repl_help_covers_completion() {
    cd "$ROOT"
    repl scenarios/baseline.lua <<'EOF'
sup = nil
for _, v in pairs(debug.getregistry()) do if type(v) == "table" and rawget(v, "complete") and rawget(v, "help") then sup = v end end
_ = assert(sup, "no completion support table")
r = sc:run()
mc = sc:montecarlo { runs = 10 }
tor = sc:sensitivity { outputs = { "npv:alibaba" } }
sob = sc:sensitivity { method = "sobol", outputs = { "npv:alibaba" }, samples = 8, bootstrap = 5 }
cal = sc:calibrate { data = "scenarios/data/china_public_cloud_iaas.csv" }
opt = sc:optimize { objective = "npv:alibaba", controls = { ["providers.alibaba.reinvest"] = { 0.1, 0.4 } }, starts = 1, max_iter = 5 }
d = stratsim.normal(0, 1)
sch = stratsim.steps { { 2022, 1 } }
words = { "", "_", "stratsim.", "stratsim._", "sc.", "sc:", "r.", "r:", "mc.", "mc:", "tor.", "tor:", "sob.", "sob:", "cal.", "cal:", "opt.", "opt:", "d.", "d:", "sch.", "string.", "math.", "table.", "io.", "os." }
real_print = print
checked, bad = 0, {}
function check(name)
  local text = {}
  print = function(...) text[#text + 1] = table.concat({ ... }, " ") end
  local ok, err = pcall(sup.help, name)
  print = real_print
  local s = table.concat(text, "\n")
  checked = checked + 1
  if not ok or s == "" or s:find("no documentation") or s:find("help() lists the API", 1, true) then
    bad[#bad + 1] = name .. " -> " .. (ok and s or tostring(err))
  end
end
for _, w in ipairs(words) do for _, c in ipairs(sup.complete(w)) do check((c:gsub("%($", ""))) end end
print("checked", checked > 150, #bad)
for _, b in ipairs(bad) do print("UNDOCUMENTED", b) end
EOF
    expect_rc 0; expect_no_err
    expect_stdout "checked	true	0"
}

test_repl_options_e_l_i_v() {
    repl -e '6 * 7' -e 'print("two")' </dev/null
    expect_rc 0; expect_no_err; expect_stdout "42
two"
    # -e runs after the file is loaded; stdin is not read without -i
    run sh -c 'echo "1 + 1" | "$STRATSIM" repl "$DATA/small.lua" -e "sc.name"'
    expect_rc 0; expect_stdout "small"
    # -i: the session follows (here stdin, read as a script)
    run sh -c 'echo "1 + 1" | "$STRATSIM" repl "$DATA/small.lua" -e "sc.name" -i'
    expect_rc 0; expect_stdout "small
2"
    # an error stops at once: exit 1, later arguments not run
    repl -e 'error("boom")' -e 'print("not reached")' </dev/null
    expect_rc 1; expect_err "(command line):1: boom"; expect_stdout ""
    repl -e '1 +' </dev/null
    expect_rc 1; expect_err "(command line):1: unexpected symbol near <eof>"
    # -l NAME and -l g=NAME: require into a global
    printf 'return { answer = 42 }\n' > mymod.lua
    repl -l mymod -e 'mymod.answer' -l m=mymod -e 'm.answer, m == mymod' </dev/null
    expect_rc 0; expect_no_err; expect_stdout "42
42	true"
    repl -l no_such_module_xyz </dev/null
    expect_rc 1; expect_err "module 'no_such_module_xyz' not found"
    # -l alone keeps the session (like lua)
    run sh -c 'echo "mymod.answer + 1" | "$STRATSIM" repl -l mymod'
    expect_rc 0; expect_stdout "43"
    repl -v </dev/null
    expect_rc 0; expect_out "stratsim "; expect_out "(Lua 5.4"
    repl -e </dev/null; expect_rc 2; expect_err "-e needs an argument"
    repl -l </dev/null; expect_rc 2; expect_err "-l needs an argument"
    repl -- "$DATA/small.lua" </dev/null; expect_rc 0
}

# summary() and tostring of the analysis results: the tables of the CLI verbs,
# with the numbers of the result's own fields
test_repl_analysis_summaries() {
    cd "$ROOT"
    repl scenarios/baseline.lua <<'EOF'
function has(s, x) if not s:find(x, 1, true) then error(("missing %q in:\n%s"):format(x, s), 2) end end
mc = sc:montecarlo { runs = 50, seed = 7 }
s = mc:summary()
has(s, "Monte Carlo: baseline, 50 runs, seed 7; values at t = 2030")
has(s, "mean")
has(s, "p95")
has(s, ("share alibaba public"))
has(s, ("%.2f%%"):format(100 * mc:mean("share:alibaba:public")))
has(s, ("%.6g"):format(mc:quantile("npv:alibaba", 0.95)))
t = sc:sensitivity { outputs = { "npv:alibaba" } }
s = t:summary()
has(s, "Tornado: 5 parameters x 1 output, 11 runs")
has(s, ("npv:alibaba (base %.8g)"):format(t.base["npv:alibaba"]))
has(s, t.rows[1].parameter)
has(s, ("%.6g"):format(t.rows[1].swing))
has(tostring(t), ("npv:alibaba swings most with %s (%.6g)"):format(t.rows[1].parameter, t.rows[1].swing))
sob = sc:sensitivity { method = "sobol", outputs = { "npv:alibaba" }, samples = 16, bootstrap = 5 }
has(sob:summary(), "Sobol indices: 5 parameters x 1 output, N = 16, 112 runs")
has(sob:summary(), ("%.4f"):format(sob.rows[1].ST))
c = sc:calibrate { data = "scenarios/data/china_public_cloud_iaas.csv" }
s = c:summary()
has(s, "Calibration: 3 observations, 1 parameter")
has(s, ("%.10g"):format(c.values["segments.public.beta_price"]))
has(s, "status: " .. c.status)
o = sc:optimize { objective = "npv:alibaba", controls = { ["providers.alibaba.reinvest"] = { 0.1, 0.4 } }, starts = 2 }
s = o:summary()
has(s, "Optimisation: npv:alibaba over 1 control, 2 starts")
has(s, ("%.10g"):format(o.objective))
has(s, "no constraints; the best start")
print("ok")
EOF
    expect_rc 0; expect_no_err; expect_stdout "ok"
}

test_repl_help_without_docs() {
    # help() degrades gracefully when stratsim._docs is missing
    repl <<'EOF'
stratsim._docs = nil
help()
help("scenario:run")
EOF
    expect_rc 0; expect_no_err
    expect_out "help(x)"
    expect_out "not available in this build"
    expect_out "stratsim.scenario()"
    expect_out "no documentation for 'scenario:run'"
}

test_repl_memory_cap_then_continue() {
    repl --max-memory 16 <<'EOF'
t = {} for i = 1, 1e8 do t[i] = ("x"):rep(64) .. i end
t = nil collectgarbage()
"alive", 1 + 1
EOF
    expect_rc 1
    expect_err "not enough memory"
    expect_out "alive	2"
}

test_repl_os_exit_and_print_override() {
    repl <<'EOF'
print = function(...) io.write("<", select("#", ...), ">\n") end
1, 2, 3
os.exit(3)
"not reached"
EOF
    expect_rc 3
    expect_stdout "<3>"
}

test_repl_sigint_interrupts_command() {
    # no terminal: SIGINT while a command runs -> "interrupted!", input goes on
    mkfifo in.fifo
    "$STRATSIM" repl <in.fifo >out.txt 2>err.txt &
    pid=$!
    exec 3>in.fifo
    printf '%s\n' 'io.stderr:write("run" .. "ning\n") while true do end' >&3
    n=0
    until grep -q running err.txt 2>/dev/null; do
        n=$((n + 1))
        if [ $n -gt 200 ]; then
            kill -9 $pid; exec 3>&-; fail "the command did not start"; return 1
        fi
        sleep 0.05
    done
    kill -INT $pid
    printf '%s\n' '"after", 6 * 7' >&3
    exec 3>&-
    rc=0; wait $pid || rc=$?
    [ "$rc" = 1 ] || fail "exit status $rc"
    grep -q "interrupted!" err.txt || fail "no 'interrupted!': $(cat err.txt)"
    [ "$(cat out.txt)" = "after	42" ] || fail "stdout: $(cat out.txt)"
}

# ------------------------------------------------------- pseudo-terminal

# Which driver: tests/cli/pty_drive.py (python3 with the pty module) or
# tests/cli/tmux_drive.sh; PTY_DRIVER=python3|tmux forces one.
pty_driver() {
    case "${PTY_DRIVER:-}" in
    python3) echo python3; return ;;
    tmux) echo tmux; return ;;
    esac
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import pty, termios' 2>/dev/null; then
        echo python3
    elif command -v tmux >/dev/null 2>&1; then
        echo tmux
    fi
}

have_pty() {
    if ! "$STRATSIM" repl --help | grep -q "^Line editing: libedit"; then
        skip "stratsim built without line editing (REPL=none)"
    fi
    [ -n "$(pty_driver)" ] && return 0
    skip "neither python3 (with the pty module) nor tmux is available"
}

# pty ARGS... <<EOF: `stratsim ARGS` on a terminal following the script
# (send/expect/exit lines, see pty_drive.py). HOME is $T; the history file is
# $T/hist, or with HIST=default the default ~/.stratsim_history, or with
# HIST=none none (STRATSIM_HISTORY empty).
pty() {
    cat >"$T/pty.script"
    export HOME="$T"
    case "${HIST:-}" in
    default) unset STRATSIM_HISTORY ;;
    none) export STRATSIM_HISTORY= ;;
    *) export STRATSIM_HISTORY="$T/hist" ;;
    esac
    if [ "$(pty_driver)" = tmux ]; then
        sh "$ROOT/tests/cli/tmux_drive.sh" "$T/pty.script" -- "$STRATSIM" "$@"
    else
        python3 "$ROOT/tests/cli/pty_drive.py" "$T/pty.script" -- "$STRATSIM" "$@"
    fi
}

test_repl_tty_session() {
    have_pty || return 0
    pty repl "$DATA/small.lua" <<'EOF'
expect sc = scenario 'small'
expect stratsim> 
# an expression
send 1+1\r
expect \n2\n
expect stratsim> 
# a multi-line function: the continuation prompt
send function sq(x)\r
expect >> 
send   return x * x\r
expect >> 
send end\r
expect stratsim> 
send sq(12)\r
expect 144
expect stratsim> 
# history: Up recalls the previous line
send 40 + 2\r
expect 42
expect stratsim> 
send \x1b[A
expect 40 + 2
send \r
expect 42
expect stratsim> 
# completion of a method
send sc:w\t
expect sc:with(
send {name = "v" .. 2}).name\r
expect \nv2\n
expect stratsim> 
# a result summary
send sc:run():summary()\r
expect Scenario: small
expect NPV (cumulative)
expect stratsim> 
send \x04
exit 0
EOF
    expect_file hist
    grep -q '^40\\040+\\0402$' hist || fail "history file: $(cat hist)"
    grep -q 'function\\040sq(x)\\012' hist || fail "multi-line chunk not in history: $(cat hist)"
}

test_repl_tty_completion() {
    have_pty || return 0
    pty repl "$DATA/small.lua" <<'EOF'
expect stratsim> 
# a global
send stra\t
expect tsim
send .vers\t
expect ion
send \r
expect \n0.
expect stratsim> 
# a field of a userdata and a library function
send sc.na\t
expect sc.name
send \r
expect \nsmall\n
expect stratsim> 
send string.for\t
expect mat(
send "%05d", 42)\r
expect 00042
expect stratsim> 
# methods of a result object (its metatable's __index table)
send r = sc:run()\r
expect stratsim> 
send r:summ\t
expect ary(
send ):sub(1, 15)\r
expect Scenario: small
expect stratsim> 
# methods that a scenario's __index function serves from its method table
send sc:monte\t
expect carlo(
send \x15
# Tab twice lists the candidates
send sc:\t\t
expect sc:calibrate(
expect sc:sweep(
send \x15\x04
exit 0
EOF
}

test_repl_tty_ctrl_c() {
    have_pty || return 0
    pty repl "$DATA/small.lua" <<'EOF'
expect stratsim> 
send io.write("run" .. "ning\\n") while true do end\r
expect running
sendnow \x03
expect interrupted!
expect stratsim> 
send 2 + 3\r
expect \n5\n
expect stratsim> 
# a pcall inside the command does not swallow the interruption
send io.write("loop" .. "ing\\n") while true do pcall(function() while true do end end) end\r
expect looping
sendnow \x03
expect interrupted!
expect stratsim> 
send "still " .. "alive"\r
expect still alive
expect stratsim> 
# a long simulation (in C) stops at once: scenario:run() polls the Ctrl-C flag
send s2 = sc:with{time = {step = 0.001}, solver = {method = "rk4", h = 1e-7}}\r
expect stratsim> 
send io.write("sim" .. "ulating\\n") r2 = s2:run()\r
expect simulating
sendnow \x03
expect interrupted
expect stratsim> 
send r2 == nil\r
expect \ntrue\n
expect stratsim> 
# Ctrl-C at the prompt ends the session, as in lua (the default action)
send \x03
exit SIGINT
EOF
    grep -q 'still' hist || fail "history lost: $(cat hist)"
}

# Ctrl-C during an analysis: the analysis's own message, counted as on the
# command line ("stdin:1: montecarlo: interrupted after 7,168 of 200,000
# runs"), once, with no "interrupted!" and no traceback, then the prompt with
# the session intact. First without Lua in the runs, then with a scenario
# whose policy (Lua) runs in every run, where Ctrl-C lands in the policy.
test_repl_tty_ctrl_c_analyses() {
    have_pty || return 0
    if [ "$(pty_driver)" != python3 ]; then
        echo "    skip: counting the messages needs tests/cli/pty_drive.py (python3 with pty)" >&2
        return 0
    fi
    export PTY_TIMEOUT="${PTY_TIMEOUT:-30}" PTY_LOG="$T/pty.log"
    pty repl "$ROOT/scenarios/baseline.lua" <<EOF
expect stratsim> 
send keep = 6 * 7\r
expect stratsim> 
send r = sc:montecarlo{runs = 2000000}\r
expect /2,000,000 runs ETA
sendnow \x03
expect stdin:1: montecarlo: interrupted after 
expect  of 2,000,000 runs\nstratsim> 
send r = sc:sensitivity{method = "sobol", samples = 65536, outputs = {"npv:alibaba"}}\r
expect /458,752 runs ETA
sendnow \x03
expect stdin:1: sensitivity: interrupted after 
expect  of 458,752 runs\nstratsim> 
send r = sc:with{time = {step = 0.0005}, solver = {rtol = 1e-12}}:calibrate{data = "$ROOT/scenarios/data/china_public_cloud_iaas.csv", params = {["segments.public.tau"] = {lower = 0.2, upper = 5}, ["segments.public.growth"] = {lower = 0, upper = 1}}, max_iter = 100000}\r
expect runs, 1s
sendnow \x03
expect stdin:1: calibrate: interrupted after 
expect  runs\nstratsim> 
send r = sc:sweep{grid = {"providers.alibaba.reinvest=0.1:0.4:100000"}, outputs = {"npv:alibaba"}}\r
expect /100,000 points ETA
sendnow \x03
expect stdin:1: sweep: interrupted after 
expect  of 100,000 points\nstratsim> 
send keep, r == nil\r
expect \n42\ttrue\n
expect stratsim> 
send \x04
exit 0
EOF
    n=$(grep -c 'interrupted after' pty.log)
    [ "$n" = 4 ] || fail "$n 'interrupted after' lines, expected 4: $(cat pty.log)"
    ! grep -q 'interrupted!\|traceback' pty.log || fail "Lua's interruption shown: $(cat pty.log)"
    pty repl "$DATA/analysis_policy.lua" <<'EOF'
expect stratsim> 
send r = sc:montecarlo{runs = 2000000}\r
expect /2,000,000 runs ETA
sendnow \x03
expect stdin:1: montecarlo: interrupted after 
expect  of 2,000,000 runs\nstratsim> 
send r = sc:optimize{starts = 100000}\r
expect /100,000 starts ETA
sendnow \x03
expect stdin:1: optimize: interrupted after 
expect  of 100,000 starts\nstratsim> 
send r == nil\r
expect \ntrue\n
expect stratsim> 
send \x04
exit 0
EOF
    n=$(grep -c 'interrupted after' pty.log)
    [ "$n" = 2 ] || fail "$n 'interrupted after' lines, expected 2: $(cat pty.log)"
    ! grep -q 'interrupted!\|traceback' pty.log || fail "Lua's interruption shown: $(cat pty.log)"
}

test_repl_tty_history_persists() {
    have_pty || return 0
    HIST=default
    pty repl <<'EOF'
expect stratsim> 
send "from" .. " session 1"\r
expect from session 1
expect stratsim> 
send \x04
exit 0
EOF
    # default file: ~/.stratsim_history (HOME is $T here)
    expect_file .stratsim_history
    HIST=default
    pty repl <<'EOF'
expect stratsim> 
send \x1b[A\r
expect from session 1
expect stratsim> 
send \x04
exit 0
EOF
    # STRATSIM_HISTORY names another file
    HIST=
    pty repl <<'EOF'
expect stratsim> 
send 6 * 7\r
expect 42
send \x04
exit 0
EOF
    grep -q '^6\\040\*\\0407$' hist || fail "STRATSIM_HISTORY file: $(cat hist 2>/dev/null)"
    [ "$(stat -c %a hist)" = 600 ] || fail "history file mode $(stat -c %a hist)"
    # STRATSIM_HISTORY empty: no history file at all
    rm -f hist .stratsim_history
    HIST=none
    pty repl <<'EOF'
expect stratsim> 
send 1\r
expect stratsim> 
send \x04
exit 0
EOF
    [ -z "$(ls -A | grep -i hist)" ] || fail "history written: $(ls -A)"
}

# -e then -i on a terminal: the output of -e, then the banner and the prompt;
# Ctrl-L clears the screen (ANSI sequence, whatever TERM says) and redraws
# the prompt with the line being typed.
test_repl_tty_e_then_i_and_ctrl_l() {
    have_pty || return 0
    if [ "$(pty_driver)" != python3 ]; then
        echo "    skip: the Ctrl-L check needs tests/cli/pty_drive.py (python3 with pty)" >&2
        return 0
    fi
    TERM=dumb pty repl "$DATA/small.lua" -e 'x = 20 + 1' -e 'x * 2' -i <<'EOF'
expect 42
expect sc = scenario 'small'
expect stratsim> 
send x + 1
sendnow \x0c
expectraw \x1b[H\x1b[2Jstratsim> x + 1
send \r
expect \n22\n
expect stratsim> 
send \x04
exit 0
EOF
}
