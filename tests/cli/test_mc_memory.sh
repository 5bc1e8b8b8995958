# tests/cli/test_mc_memory.sh - the memory of `stratsim mc`: the estimate
# checked before the first run against --max-memory (default 1 GiB), and
# --outputs keeping only the selected series (docs/analysis.md, "Statistics
# and memory").

A="$DATA/analysis.lua"

# big.lua: 128 providers x 32 segments, quarterly outputs over ten years (41
# output times): 873,792 values per run, each with its own quantile sketch.
write_big() {
    cat > big.lua <<'LUA'
local NP, NK = 128, 32
local segs, provs = {}, {}
for k = 1, NK do
  segs[k] = { id = "s" .. k, size = 10 + k, growth = 0.1, tau = 1.5, beta_capability = 0.5 }
end
for i = 1, NP do
  local share, margin = {}, {}
  for k = 1, NK do share["s" .. k] = 1 / NP; margin["s" .. k] = 0.2 end
  provs[i] = { id = "p" .. i, share = share, margin = margin, reinvest = 0.2 }
end
return stratsim.scenario {
  name = "big", time = { start = 2020, stop = 2030, step = 0.25 }, discount_rate = 0.08,
  segments = segs, providers = provs,
  uncertainty = { ["segments.s1.growth"] = stratsim.normal(0.1, 0.02) },
  outages = { p1 = { rate = 1, severity = stratsim.uniform(0.02, 0.1) } },
}
LUA
}

test_mc_memory_error_before_any_run() {
    write_big
    start=$(date +%s)
    run "$STRATSIM" mc big.lua --runs 1000000 --threads 2 -o out.csv --per-run runs.csv
    took=$(( $(date +%s) - start ))
    expect_rc 1
    expect_err "scenario 'big': this Monte Carlo needs about "
    expect_err "(128 providers x 32 segments x 41 output times: 873792 of 873792 values per run kept"
    expect_err "2 worker threads"
    expect_err "the limit is 1 GiB (--max-memory); keep fewer series with --outputs (e.g. --outputs share:p1:s1@each,npv:p1) or fewer output times (time.step)"
    # the estimate: GiB, several of them (sketches of every series at every output time)
    need=$(printf '%s' "$ERR" | sed -n 's/.*needs about \([0-9.]*\) GiB.*/\1/p')
    [ -n "$need" ] || fail "no size in GiB in the message"
    awk -v n="$need" 'BEGIN { exit !(n >= 4 && n <= 16) }' || fail "estimate $need GiB out of range"
    # one run of the scenario, not a million: seconds, however loaded the machine
    [ "$took" -le 30 ] || fail "the memory error took $took s"
    # nothing written, not even a temporary file
    expect_no_file out.csv; expect_no_file out.csv.json; expect_no_file runs.csv
    expect_no_temp .
    [ "$(ls -A | grep -v -e '^big.lua$' -e '^stdout$' -e '^stderr$')" = "" ] || fail "files left: $(ls -A)"
    # --per-run holds whole runs' results of the blocks in flight: said so
    run "$STRATSIM" mc big.lua --runs 1000 --threads 2 --outputs npv:p1 --per-run runs.csv -o out.csv
    expect_rc 1; expect_err "of whole runs' results held for the per-run output"
    expect_no_file out.csv; expect_no_file runs.csv
    # without -o (the summary) the same
    run "$STRATSIM" mc big.lua --runs 100 --threads 1; expect_rc 1
    expect_err "this Monte Carlo needs about"; expect_err "1 worker thread, "
    # the limit is the option's: 512M is named as such
    run "$STRATSIM" mc big.lua --runs 100 --threads 1 --max-memory 512M; expect_rc 1
    expect_err "the limit is 512 MiB (--max-memory)"
}

test_mc_memory_outputs_fit() {
    write_big
    # a few series fit easily; the sidecar records the selection and the estimate
    run "$STRATSIM" mc big.lua --runs 64 --threads 2 --max-memory 256M \
        --outputs share:p1:s1@each,npv:p7 -o sel.csv
    expect_rc 0
    [ "$(wc -l < sel.csv)" = 43 ] || fail "rows: $(wc -l < sel.csv), expected header + 41 + 1"
    python3 - <<'PY' || fail "sidecar"
import json
mc = json.load(open("sel.csv.json"))["mc"]
assert mc["outputs"] == ["share:p1:s1@each", "npv:p7"], mc["outputs"]
assert mc["max_memory"] == 256 << 20, mc["max_memory"]
m = mc["memory"]
assert m["values_per_run"] == 873792 and m["values_kept"] == 42, m
assert 0 < m["estimate"] <= 256 << 20, m
assert m["per_run_results"] == 0, m
assert m["estimate"] == m["statistics"] + m["per_run_results"] + m["workers"] + m["results"], m
PY
}

test_mc_outputs_rows_identical() {
    run "$STRATSIM" mc "$A" --runs 1500 --seed 3 --threads 2 -o full.csv; expect_rc 0
    for t in 1 3; do
        run "$STRATSIM" mc "$A" --runs 1500 --seed 3 --threads $t -o sel$t.csv \
            --outputs 'share:alibaba:public@each,npv:rival' --outputs size:public@2023
        expect_rc 0; expect_no_err
    done
    cmp sel1.csv sel3.csv || fail "the selection depends on --threads"
    [ "$(head -n 1 sel1.csv)" = "$(head -n 1 full.csv)" ] || fail "header differs"
    # exactly the selected rows, each byte-identical to the full run's row
    nt=$(grep -c '^analysis,[^,]*,alibaba,public,share,' full.csv)
    [ "$nt" -gt 2 ] || fail "fixture has $nt output times"
    [ "$(wc -l < sel1.csv)" = $((1 + nt + 2)) ] || fail "rows: $(wc -l < sel1.csv)"
    tail -n +2 sel1.csv > kept.csv
    grep -Fxf kept.csv full.csv > common.csv
    cmp kept.csv common.csv || fail "kept rows differ from the full run's"
    [ "$(grep -c ',alibaba,public,share,' kept.csv)" = "$nt" ] || fail "share series incomplete"
    [ "$(grep -c ',rival,,npv,' kept.csv)" = 1 ] || fail "npv:rival"
    [ "$(grep -c '^analysis,2023,,public,size,' kept.csv)" = 1 ] || fail "size:public@2023"
    # the summary lists the selected outputs
    run "$STRATSIM" mc "$A" --runs 200 --threads 2 --outputs npv:rival,share:alibaba:public@each
    expect_rc 0; expect_out "npv:rival"; expect_out "share:alibaba:public@each"
}

test_mc_outputs_bad() {
    run "$STRATSIM" mc "$A" --runs 10 --outputs sahre:alibaba:public -o o.csv
    expect_rc 2; expect_err "--outputs: selector 'sahre:alibaba:public': unknown metric 'sahre' (did you mean 'share'?)"
    run "$STRATSIM" mc "$A" --runs 10 --outputs share:alibab:public -o o.csv
    expect_rc 1; expect_err "unknown provider 'alibab' (did you mean 'alibaba'?)"
    run "$STRATSIM" mc "$A" --runs 10 --outputs 'share:alibaba:public@2023.1' -o o.csv
    expect_rc 1; expect_err "2023.1 is not an output time"
    run "$STRATSIM" mc "$A" --runs 10 --outputs 'gpux@end' -o o.csv
    expect_rc 1; expect_err "unknown metric 'gpux'"
    run "$STRATSIM" mc "$A" --runs 10 --outputs '' -o o.csv
    expect_rc 2; expect_err "--outputs needs selectors"
    run "$STRATSIM" mc "$A" --runs 10 --outputs; expect_rc 2
    run "$STRATSIM" mc "$A" --runs 10 --ouputs npv:rival; expect_rc 2
    expect_err "did you mean '--outputs'?"
    expect_no_file o.csv; expect_no_temp .
}

test_mc_max_memory_parse() {
    for bad in 2X -1G 0 G 1.5.2G 2GG 4096P; do
        run "$STRATSIM" mc "$A" --runs 10 --max-memory "$bad" -o o.csv
        expect_rc 2; expect_err "--max-memory needs a size such as 512M, 2G or 1.5GiB"
    done
    run "$STRATSIM" mc "$A" --runs 10 --max-memory; expect_rc 2
    expect_no_file o.csv
    # units, and a number alone in MiB (as the script budget always was)
    for good in 2G 1.5GiB 300M 300; do
        run "$STRATSIM" mc "$A" --runs 10 --max-memory "$good" -o "o$good.csv"; expect_rc 0
    done
    python3 -c 'import json; assert json.load(open("o300.csv.json"))["mc"]["max_memory"] == 300 << 20' \
        || fail "300 is not 300 MiB"
    python3 -c 'import json; assert json.load(open("o2G.csv.json"))["mc"]["max_memory"] == 2 << 30' \
        || fail "2G is not 2 GiB"
    cmp o2G.csv o300.csv || fail "the limit changed the numbers"
    # too small for this fixture: the error, nothing written
    run "$STRATSIM" mc "$A" --runs 10 --max-memory 10K -o small.csv; expect_rc 1
    expect_err "the limit is 10 KiB (--max-memory)"; expect_no_file small.csv
}

test_mc_lua_outputs() {
    cat > lua.lua <<'LUA'

local all = sc:montecarlo { runs = 600, seed = 4 }
local r = sc:montecarlo { runs = 600, seed = 4, outputs = { "npv:rival", "share:alibaba:public@each" },
                          max_memory = "64M" }
assert(r:mean("npv:rival") == all:mean("npv:rival"))
assert(r:quantile("share:alibaba:public@2023", 0.95) == all:quantile("share:alibaba:public@2023", 0.95))
local ok, msg = pcall(r.mean, r, "npv:alibaba")
assert(not ok and tostring(msg):find("'npv:alibaba' was not kept by this Monte Carlo", 1, true), tostring(msg))
ok, msg = pcall(sc.montecarlo, sc, { runs = 10, max_memory = "10K" })
assert(not ok and tostring(msg):find("the limit is 10 KiB (max_memory); keep fewer series with outputs", 1, true), tostring(msg))
ok, msg = pcall(sc.montecarlo, sc, { runs = 10, max_memory = "lots" })
assert(not ok and tostring(msg):find("max_memory: expected a size", 1, true), tostring(msg))
-- 0 is no limit (a number of MiB otherwise); other types are refused
local free = sc:montecarlo { runs = 600, seed = 4, max_memory = 0 }
assert(free:mean("npv:rival") == all:mean("npv:rival"))
assert(sc:montecarlo { runs = 10, max_memory = 64 }:mean("npv:rival") ~= nil)
ok, msg = pcall(sc.montecarlo, sc, { runs = 10, max_memory = 0.001 })
assert(not ok and tostring(msg):find("the limit is 1.02 KiB (max_memory)", 1, true), tostring(msg))
ok, msg = pcall(sc.montecarlo, sc, { runs = 10, max_memory = true })
assert(not ok and tostring(msg):find("max_memory: expected a size", 1, true), tostring(msg))
ok, msg = pcall(sc.montecarlo, sc, { runs = 10, outputs = { "sahre:alibaba:public" } })
assert(not ok and tostring(msg):find("did you mean 'share'", 1, true), tostring(msg))
local text = r:summary()
assert(text:find("npv rival", 1, true) and not text:find("npv alibaba", 1, true), text)
assert(not text:find("nan", 1, true), text)
print("ok")
LUA
    run "$STRATSIM" repl "$A" -e 'dofile("lua.lua")'
    expect_rc 0; expect_out "ok"
}
