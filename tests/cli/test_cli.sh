# tests/cli/test_cli.sh - the command line: exit codes, help, CSV layouts,
# sidecar, --set, atomic outputs, compare, check.

test_version_and_help() {
    run "$STRATSIM" --version; expect_rc 0; expect_out "stratsim 0."
    run "$STRATSIM" --help; expect_rc 0; expect_out "Usage: stratsim COMMAND"
    for c in run check compare; do
        run "$STRATSIM" $c --help; expect_rc 0; expect_out "Usage: stratsim $c"
    done
}

test_usage_errors_exit_2() {
    run "$STRATSIM"; expect_rc 2
    run "$STRATSIM" frobnicate; expect_rc 2; expect_err "unknown command 'frobnicate'"
    run "$STRATSIM" run; expect_rc 2; expect_err "missing SCENARIO.lua"
    run "$STRATSIM" run "$DATA/small.lua" --layout diagonal; expect_rc 2; expect_err "--layout"
    run "$STRATSIM" run "$DATA/small.lua" -o; expect_rc 2
    run "$STRATSIM" run "$DATA/small.lua" --bogus; expect_rc 2; expect_err "unknown option '--bogus'"
    run "$STRATSIM" run "$DATA/small.lua" --set novalue; expect_rc 2; expect_err "PATH=VALUE"
    run "$STRATSIM" run "$DATA/small.lua" --max-memory lots; expect_rc 2
    run "$STRATSIM" check; expect_rc 2
    run "$STRATSIM" compare; expect_rc 2
}

test_run_summary() {
    run "$STRATSIM" run "$DATA/small.lua"; expect_rc 0; expect_no_err
    expect_out "Scenario: small"
    expect_out "alibaba      public"
    expect_out "37.80%"
    expect_out "NPV"
}

test_csv_long_layout() {
    run "$STRATSIM" run "$DATA/small.lua" -o out.csv; expect_rc 0
    expect_file out.csv; expect_file out.csv.json; expect_no_temp .
    [ "$(head -n 1 out.csv)" = "scenario,time,provider,segment,metric,value" ] || fail "header"
    python3 - <<'PY' || fail "long CSV content"
import csv, math
rows = list(csv.reader(open("out.csv", newline="")))
hdr, body = rows[0], rows[1:]
assert all(len(r) == 6 for r in body)
times = sorted({float(r[1]) for r in body})
assert len(times) == 10 and times[0] == 2021.75 and times[-1] == 2024.0, times
# 3 providers x 2 segments x 5 metrics + 3 x 6 + 2 x 2 per time
assert len(body) == 10 * (30 + 18 + 4), len(body)
metrics = {r[4] for r in body}
assert metrics == {"share", "target_share", "revenue", "gross_margin", "capability",
                   "gross_profit", "operating_profit", "investment", "reliability", "npv",
                   "size", "hhi"}, metrics
for t in times:
    for seg in ("public", "private"):
        s = sum(float(r[5]) for r in body if float(r[1]) == t and r[3] == seg and r[4] == "share")
        assert abs(s - 1) < 1e-12, (t, seg, s)
# per-segment rows have an empty provider, per-provider rows an empty segment
assert all(r[2] == "" for r in body if r[4] in ("size", "hhi"))
assert all(r[3] == "" for r in body if r[4] in ("npv", "reliability"))
# at least 10 significant digits, '.' decimal point
v = [r[5] for r in body if r[4] == "revenue" and r[3] == "public"][-1]
assert "," not in v and len(v.replace(".", "").replace("-", "").lstrip("0")) >= 10, v
# the outage at 2023.87 shows in reliability at 2024
r = [float(r[5]) for r in body if r[4] == "reliability" and r[2] == "alibaba"]
assert r[0] == 1.0 and r[-1] < 1.0
PY
}

test_csv_wide_layout() {
    run "$STRATSIM" run "$DATA/small.lua" -o wide.csv --layout wide; expect_rc 0
    python3 - <<'PY' || fail "wide CSV content"
import csv
rows = list(csv.reader(open("wide.csv", newline="")))
hdr = rows[0]
assert hdr[:2] == ["scenario", "time"], hdr
assert "share.alibaba.public" in hdr and "npv.alibaba" in hdr and "size.private" in hdr, hdr
assert len(hdr) == 2 + 30 + 18 + 4, len(hdr)
assert len(rows) == 11 and all(len(r) == len(hdr) for r in rows)
PY
    run "$STRATSIM" run "$DATA/small.lua" -o long.csv; expect_rc 0
    python3 - <<'PY' || fail "wide and long layouts disagree"
import csv
long = {(r[1], r[2], r[3], r[4]): r[5] for r in list(csv.reader(open("long.csv")))[1:]}
rows = list(csv.reader(open("wide.csv")))
hdr = rows[0]
for row in rows[1:]:
    for name, v in zip(hdr[2:], row[2:]):
        parts = name.split(".")
        m = parts[0]
        if len(parts) == 3: key = (row[1], parts[1], parts[2], m)
        elif m in ("size", "hhi"): key = (row[1], "", parts[1], m)
        else: key = (row[1], parts[1], "", m)
        assert long[key] == v, (key, long[key], v)
PY
}

test_sidecar_reproduces_run() {
    cp "$DATA/small.lua" scen.lua
    run "$STRATSIM" run scen.lua -o a.csv --set providers.alibaba.reinvest=0.31 --set segments.public.tau=1.2
    expect_rc 0
    python3 - <<'PY' || fail "sidecar content"
import json, hashlib
j = json.load(open("a.csv.json"))
assert j["stratsim_version"]
assert j["scenario_file"] == "scen.lua"
assert j["scenario_sha256"] == hashlib.sha256(open("scen.lua", "rb").read()).hexdigest()
assert j["overrides"] == ["providers.alibaba.reinvest=0.31", "segments.public.tau=1.2"], j["overrides"]
sc = j["scenarios"][0]
assert sc["solver"]["method"] == "rk8pd" and sc["solver"]["rtol"] == 1e-8
seg = [s for s in sc["segments"] if s["id"] == "public"][0]
assert seg["tau"] == 1.2
ali = [p for p in sc["providers"] if p["id"] == "alibaba"][0]
# a decision input changed by --set is an intervention on the base's value
assert ali["reinvest"]["kind"] == "const" and ali["reinvest"]["value"] != 0.31, ali["reinvest"]
assert sc["time"]["policy"] == sc["time"]["start"]
iv = sc["interventions"]
assert iv == [{"path": "providers.alibaba.reinvest", "base": ali["reinvest"],
               "value": {"kind": "const", "value": 0.31}}], iv
# resolved defaults are recorded
assert "brand" in ali and "capability" in ali
open("cmd", "w").write(" ".join("--set " + o for o in j["overrides"]))
PY
    run "$STRATSIM" run scen.lua -o b.csv $(cat cmd); expect_rc 0
    cmp a.csv b.csv || fail "re-run from the sidecar differs"
}

test_set_changes_result() {
    run "$STRATSIM" run "$DATA/small.lua" -o base.csv; expect_rc 0
    # a decision input set from the start is an intervention: it moves shares
    run "$STRATSIM" run "$DATA/small.lua" -o rho.csv --set providers.alibaba.reinvest=0.5; expect_rc 0
    python3 - <<'PY' || fail "--set reinvest had no effect on the share"
import csv
def last(f):
    rows = [r for r in csv.reader(open(f)) if r[2] == "alibaba" and r[3] == "public" and r[4] == "share"]
    return float(rows[-1][5])
assert last("rho.csv") > last("base.csv") + 0.005, (last("rho.csv"), last("base.csv"))
PY
    # a base input re-resolves the start; beta_price amplifies the rivals' price cut
    run "$STRATSIM" run "$DATA/small.lua" -o set.csv --set segments.public.beta_price=3; expect_rc 0
    ! cmp -s base.csv set.csv || fail "--set had no effect"
    python3 - <<'PY' || fail "--set beta_price did not amplify the price cut"
import csv
def last(f):
    rows = [r for r in csv.reader(open(f)) if r[2] == "alibaba" and r[3] == "public" and r[4] == "share"]
    return float(rows[-1][5])
assert last("set.csv") < last("base.csv") - 0.005, (last("set.csv"), last("base.csv"))
PY
    run "$STRATSIM" run "$DATA/small.lua" --set providers.nobody.reinvest=1; expect_rc 1; expect_err "nobody"
    run "$STRATSIM" run "$DATA/small.lua" --set providers.alibaba.reinvest=abc; expect_rc 1
}

test_failing_run_leaves_no_output() {
    run "$STRATSIM" run "$DATA/bad_shares.lua" -o out.csv; expect_rc 1
    expect_err "bad_shares.lua:"
    expect_err "sum to 0.9"
    expect_no_file out.csv; expect_no_file out.csv.json; expect_no_temp .
    echo old > keep.csv
    run "$STRATSIM" run "$DATA/bad_shares.lua" -o keep.csv; expect_rc 1
    [ "$(cat keep.csv)" = old ] || fail "existing output was clobbered"
    run "$STRATSIM" run "$DATA/missing.lua"; expect_rc 1; expect_err "missing.lua"
}

test_unwritable_output() {
    run "$STRATSIM" run "$DATA/small.lua" -o /nonexistent-dir/out.csv; expect_rc 1
    expect_err "/nonexistent-dir/out.csv"
    if [ -e /dev/full ]; then
        "$STRATSIM" run "$DATA/small.lua" >/dev/full 2>"$T/stderr" && fail "writing to a full device succeeded"
        "$STRATSIM" run "$DATA/small.lua" -o - >/dev/full 2>"$T/stderr" && fail "CSV to a full device succeeded"
    fi
    true
}

test_csv_to_stdout() {
    run "$STRATSIM" run "$DATA/small.lua" -o -; expect_rc 0
    expect_out "scenario,time,provider,segment,metric,value"
    expect_no_file ./-.json
}

test_check() {
    run "$STRATSIM" check "$DATA/small.lua"; expect_rc 0; expect_out "ok: scenario 'small'"
    run "$STRATSIM" check "$DATA/bad_shares.lua"; expect_rc 1; expect_err "sum to"
}

test_compare() {
    run "$STRATSIM" compare "$DATA/small.lua" "$DATA/second.lua" -o cmp.csv; expect_rc 0
    expect_out "small"; expect_out "second"; expect_out " pp)"
    python3 - <<'PY' || fail "compare CSV"
import csv
rows = list(csv.reader(open("cmp.csv")))[1:]
assert {r[0] for r in rows} == {"small", "second"}
PY
}

# Sets DE to the environment of a German locale (decimal comma) in which
# stratsim really runs: the system's de_DE.UTF-8 or one generated with
# localedef into a cache directory (LOCPATH), plus an LD_PRELOAD shim that
# calls setlocale(LC_ALL, "") before main, as an embedding program or a
# library might. Fails (never skips) when no German locale can be had.
german_env() {
    locpath=
    if ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
        locpath="${TMPDIR:-/tmp}/stratsim-locale-$(id -u)"
        if [ ! -f "$locpath/de_DE.UTF-8/LC_NUMERIC" ]; then
            mkdir -p "$locpath" && rm -rf "$locpath/de.$$" &&
                localedef -i de_DE -f UTF-8 "$locpath/de.$$" >/dev/null 2>&1
            [ -f "$locpath/de.$$/LC_NUMERIC" ] ||
                fail "cannot generate a German locale (install the 'locales' package)" || return 1
            rm -rf "$locpath/de_DE.UTF-8" && mv "$locpath/de.$$" "$locpath/de_DE.UTF-8"
        fi
    fi
    ${CC:-cc} -shared -fPIC -o "$T/shim.so" "$ROOT/tests/cli/setlocale_shim.c" ||
        fail "cannot build the setlocale shim" || return 1
    DE="LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 LD_PRELOAD=$T/shim.so"
    DE="$DE ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    [ -z "$locpath" ] || DE="$DE LOCPATH=$locpath"
    # prove the locale is in effect inside the process
    env $DE SHIM_REPORT="$T/radix" "$STRATSIM" --version >/dev/null || fail "stratsim under the shim"
    [ "$(cat "$T/radix")" = "," ] || fail "the German locale is not in effect (radix '$(cat "$T/radix")')"
}

# Every output file (CSV and JSON sidecar) of run (long and wide), compare,
# mc, sens, calibrate and optimize is byte-identical in the C locale and in
# a German locale forced with setlocale (docs/robustness.md); --set values and
# data files use '.' in both.
test_locale_independent_output() {
    german_env
    n=0
    for f in "$ROOT"/scenarios/*.lua "$DATA/small.lua" "$DATA/second.lua"; do
        layouts=long
        [ "$f" != "$DATA/small.lua" ] || layouts="long wide"
        for layout in $layouts; do
            "$STRATSIM" run "$f" -o "c$n.csv" --layout $layout --set segments.public.tau=1.25 \
                2>"$T/stderr" || fail "run $f (C locale)"
            env $DE "$STRATSIM" run "$f" -o "d$n.csv" --layout $layout --set segments.public.tau=1.25 \
                2>"$T/stderr" || fail "run $f (German locale)"
            n=$((n + 1))
        done
    done
    A="$DATA/analysis.lua"
    for loc in c d; do
        if [ $loc = c ]; then E=; else E=$DE; fi
        env $E "$STRATSIM" compare "$DATA/small.lua" "$DATA/second.lua" -o "${loc}cmp.csv" >/dev/null || fail "compare ($loc)"
        env $E "$STRATSIM" mc "$A" --runs 40 --seed 7 --threads 2 -o "${loc}mc.csv" >/dev/null || fail "mc ($loc)"
        env $E "$STRATSIM" sens "$A" -o "${loc}sens.csv" >/dev/null || fail "sens ($loc)"
        env $E "$STRATSIM" calibrate "$ROOT/scenarios/baseline.lua" \
            --data "$ROOT/scenarios/data/china_public_cloud_iaas.csv" \
            --write "${loc}fit.lua" -o "${loc}cal.csv" >/dev/null || fail "calibrate ($loc)"
        env $E "$STRATSIM" optimize "$A" --starts 2 -o "${loc}opt.csv" >/dev/null || fail "optimize ($loc)"
    done
    for c in c*.csv c*.json cfit.lua; do
        d="d${c#c}"
        [ -s "$c" ] || fail "missing output $c"
        cmp "$c" "$d" || fail "$c and $d differ: output depends on the locale"
    done
}

# A device or FIFO target (here a pipe through /dev/stdout), and a stream of
# the process whatever it is redirected to, is written in place and gets no
# sidecar next to it.
test_special_target_no_sidecar() {
    "$STRATSIM" run "$DATA/small.lua" -o /dev/stdout 2>"$T/stderr" | head -n 1 > first.txt
    [ "$(cat first.txt)" = "scenario,time,provider,segment,metric,value" ] || fail "no CSV on the pipe"
    [ ! -e /dev/stdout.json ] || fail "a sidecar was written next to /dev/stdout"
    # redirected to a regular file, /dev/stdout is still standard output:
    # written through the redirection (as -o - is), appended with >>, no sidecar
    "$STRATSIM" run "$DATA/small.lua" -o /dev/stdout > redirected.csv 2>"$T/stderr" \
        || fail "-o /dev/stdout > FILE failed: $(cat "$T/stderr")"
    "$STRATSIM" run "$DATA/small.lua" -o - > dash.csv
    cmp redirected.csv dash.csv || fail "-o /dev/stdout > FILE differs from -o -"
    echo first > appended.csv
    "$STRATSIM" run "$DATA/small.lua" -o /dev/stdout >> appended.csv 2>"$T/stderr" || fail ">> failed"
    [ "$(head -n 1 appended.csv)" = first ] || fail ">> replaced the file instead of appending"
    [ "$(sed -n 2p appended.csv)" = "scenario,time,provider,segment,metric,value" ] || fail "nothing appended"
    [ ! -e /dev/stdout.json ] || fail "a sidecar was written next to a redirected /dev/stdout"
    mkfifo fifo
    (cat fifo > fromfifo.csv &) ; "$STRATSIM" run "$DATA/small.lua" -o fifo 2>"$T/stderr" || fail "writing to a FIFO failed"
    sleep 0.2
    [ "$(head -n 1 fromfifo.csv)" = "scenario,time,provider,segment,metric,value" ] || fail "no CSV through the FIFO"
    expect_no_file fifo.json
}

# README's set-up section names exactly the packages scripts/install-deps.sh installs.
test_readme_lists_the_installed_packages() {
    pkgs=$(sed -n 's/^PKGS="\(.*\)"$/\1/p' "$ROOT/scripts/install-deps.sh" | tr ' ' '\n' | sort)
    [ -n "$pkgs" ] || fail "no PKGS in install-deps.sh"
    listed=$(awk '/^## Set-up/ { s = 1 } /^## A worked/ { s = 0 } s' "$ROOT/README.md" | tr '\n' ' ' |
        sed -n 's/.*otherwise prints the exact command: *`\([^`]*\)`.*/\1/p' | tr ' ' '\n' | grep . | sort)
    [ "$pkgs" = "$listed" ] || fail "README lists: $(echo $listed); install-deps.sh: $(echo $pkgs)"
}

# scripts/gen-lua-docs.sh turns docs/lua-api.md's one-line reference into the
# C table of stratsim._docs: C escapes, continuation lines, and refusals.
test_gen_lua_docs_reference() {
    gen() { run sh "$ROOT/scripts/gen-lua-docs.sh" "$1"; }
    printf '%s\n' 'text' '<!-- _docs begin -->' '#### group' '- `a.b` a.b() -> x: one "q" \ two' \
        '  continued' '' '- `c:d` c:d() -> y: three' '<!-- _docs end -->' > ok.md
    gen ok.md; expect_rc 0
    expect_out '{"a.b",'
    expect_out '"a.b() -> x: one \"q\" \\ two continued"},'
    expect_out '"c:d() -> y: three"},'
    printf '%s\n' '<!-- _docs begin -->' '- `a` x' '- `a` y' '<!-- _docs end -->' > dup.md
    gen dup.md; expect_rc 1; expect_err "dup.md:3: \`a\` is listed twice"
    printf '%s\n' '<!-- _docs begin -->' '- `a` x' 'stray' '<!-- _docs end -->' > stray.md
    gen stray.md; expect_rc 1; expect_err "stray.md:3: not an entry of the one-line reference: stray"
    printf '%s\n' 'nothing' > none.md
    gen none.md; expect_rc 1; expect_err "no <!-- _docs begin -->"
    # the real reference: every entry compiles into the table, as many as the list has
    gen "$ROOT/docs/lua-api.md"; expect_rc 0
    n=$(awk '/^<!-- _docs begin -->/ { s = 1 } /^<!-- _docs end -->/ { s = 0 } s && /^- `/' "$ROOT/docs/lua-api.md" | wc -l)
    [ "$(printf '%s\n' "$OUT" | grep -c '^    {"')" = "$n" ] || fail "not every entry generated"
}
