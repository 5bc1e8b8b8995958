# tests/cli/test_xlsx.sh - `-o FILE.xlsx`: the workbook (a zip of XML, read
# with tests/cli/xlsx_read.py) holds the numbers of the CSV the same command
# writes, in the wide layout, with charts, inputs and provenance, and it is
# written atomically like every output.

A="$DATA/analysis.lua"
XR="$ROOT/tests/cli/xlsx_read.py"

# xcheck_long FILE.xlsx FILE.csv: every value of a long-layout CSV
# (scenario,time,provider,segment,metric,value...) is in the sheet of its
# metric, on the row of its scenario and time, in the column of its
# provider/segment (and statistic); Excel keeps 16 significant digits.
xcheck_long() {
    python3 - "$XR" "$1" "$2" <<'PY' || fail "workbook $1 does not match $2"
import csv, importlib.util, math, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
wb = xr.Workbook(sys.argv[2])
rows = list(csv.reader(open(sys.argv[3])))
head, data = rows[0], rows[1:]
stats = head[5:]
mc = stats != ["value"]
sheets = {}
n = 0
for r in data:
    scen, t, prov, seg, metric = r[:5]
    if metric not in sheets:
        s = wb.rows(metric)
        cols = {c: j for j, c in enumerate(s[0])}
        index = {(x[0], x[1]): x for x in s[1:]}
        sheets[metric] = (cols, index)
        assert wb.frozen(metric) == (1, 2), (metric, wb.frozen(metric))
    cols, index = sheets[metric]
    row = index[(scen, float(t))]
    label = " ".join(x for x in (prov, seg) if x) or metric
    for k, st in enumerate(stats):
        want = float(r[5 + k])
        got = row[cols[label + (" " + st if mc else "")]]
        assert isinstance(got, float), (r, st, got)
        assert got == want or abs(got - want) <= 1e-15 * abs(want), (r, st, got, want)
        n += 1
# and nothing else: as many numbers in the metric sheets as in the CSV
total = sum(sum(isinstance(c, float) for c in x[2:]) for m in sheets for x in wb.rows(m)[1:])
assert total == n, (total, n)
PY
}

test_xlsx_run_matches_csv() {
    run "$STRATSIM" run "$DATA/small.lua" -o small.csv; expect_rc 0
    run "$STRATSIM" run "$DATA/small.lua" -o small.xlsx; expect_rc 0; expect_no_err
    expect_file small.xlsx; expect_file small.xlsx.json
    xcheck_long small.xlsx small.csv
    python3 "$XR" small.xlsx > sheets.txt
    [ "$(head -1 sheets.txt)" = share ] || fail "first sheet: $(head -1 sheets.txt)"
    for s in target_share revenue npv size hhi Inputs About; do
        grep -qx "$s" sheets.txt || fail "no sheet $s: $(cat sheets.txt)"
    done
    # small.lua has no "-- seed:"/"-- assumption:" notes: no Sources sheet
    grep -qx Sources sheets.txt && fail "a Sources sheet without notes"
    # --layout wide changes nothing in a workbook
    run "$STRATSIM" run "$DATA/small.lua" --layout wide -o wide.xlsx; expect_rc 0
    xcheck_long wide.xlsx small.csv
    expect_no_temp .
}

test_xlsx_formats_and_charts() {
    run "$STRATSIM" run "$DATA/small.lua" -o s.xlsx; expect_rc 0
    python3 - "$XR" <<'PY' || fail "formats or charts"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
wb = xr.Workbook("s.xlsx")
assert wb.num_format("share", "C2") == "0.00%", wb.num_format("share", "C2")
assert wb.num_format("npv", "C2") == "#,##0.00", wb.num_format("npv", "C2")
assert wb.num_format("share", "B2") == "0.00"
head = wb.rows("share")[0]
assert head[:4] == ["scenario", "time", "alibaba public", "alibaba private"], head
# a line chart per segment, a line per provider, on the share sheet
charts = wb.charts("share")
assert len(charts) == 2, len(charts)
for c in charts:
    assert "<c:lineChart>" in c
    assert c.count("<c:ser>") == 3, c.count("<c:ser>")
    assert "share!$B$2:$B$11" in c, c[:400]   # 10 output times
assert "Share: public" in charts[0] and "Share: private" in charts[1]
assert wb.charts("npv") == []
PY
}

test_xlsx_inputs_sources_about() {
    cp "$ROOT/scenarios/baseline.lua" base.lua
    run "$STRATSIM" run base.lua --set segments.public.growth=0.25 -o b.xlsx; expect_rc 0
    sha=$(sha256sum base.lua | cut -d' ' -f1)
    python3 - "$XR" "$sha" <<'PY' || fail "Inputs, Sources or About"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
wb = xr.Workbook("b.xlsx")
about = {r[0]: r[1] if len(r) > 1 else None for r in wb.rows("About")[1:]}
assert about["scenario_sha256"] == sys.argv[2], about
assert about["command"] == "run" and about["scenario_file"] == "base.lua", about
assert about["layout"] == "xlsx", about
assert about["overrides"] == "segments.public.growth=0.25", about
assert about["stratsim_version"], about
inputs = {(r[0], r[1]): r[2] if len(r) > 2 else None for r in wb.rows("Inputs")[1:]}
assert inputs[("baseline", "segments.public.growth")] == 0.25, inputs
assert inputs[("baseline", "discount_rate")] == 0.08
assert inputs[("baseline", "providers.alibaba.share.public")] == 0.378
src = wb.rows("Sources")
assert src[0] == ["file", "line", "kind", "note", "code"], src[0]
lines = open("base.lua").read().split("\n")
for r in src[1:]:
    assert r[2] in ("seed", "source", "assumption", "fitted"), r
    text = lines[int(r[1]) - 1]
    note = r[3] if len(r) > 3 and r[3] else ""
    assert note in text and text.lower().split("--", 1)[1].strip().startswith(r[2]), (r, text)
import re
n = sum(1 for l in lines if re.search(r"^[^-]*--\s*assumption(:|\s*$)", l, re.I))
assert n > 40, n
assert sum(1 for r in src[1:] if r[2] == "assumption") == n, n
PY
}

test_xlsx_compare() {
    run "$STRATSIM" compare "$DATA/small.lua" "$DATA/variant.lua" -o c.csv; expect_rc 0
    run "$STRATSIM" compare "$DATA/small.lua" "$DATA/variant.lua" -o c.xlsx; expect_rc 0
    xcheck_long c.xlsx c.csv
    python3 - "$XR" <<'PY' || fail "compare charts"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
wb = xr.Workbook("c.xlsx")
scen = {r[0] for r in wb.rows("share")[1:]}
assert len(scen) == 2, scen
c = wb.charts("share")[0]
assert "small: alibaba" in c, c[:600]
PY
}

test_xlsx_mc() {
    run "$STRATSIM" mc "$A" --runs 200 --seed 4 --threads 2 -o m.csv; expect_rc 0
    run "$STRATSIM" mc "$A" --runs 200 --seed 4 --threads 1 -o m.xlsx; expect_rc 0; expect_no_err
    xcheck_long m.xlsx m.csv
    python3 - "$XR" <<'PY' || fail "mc workbook"
import importlib.util, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
wb = xr.Workbook("m.xlsx")
head = wb.rows("share")[0]
assert head[2:7] == ["alibaba public mean", "alibaba public sd", "alibaba public p05",
                     "alibaba public p50", "alibaba public p95"], head
about = {r[0]: r[1] for r in wb.rows("About")[1:] if len(r) > 1}
assert about["mc.seed"] == 4 and about["mc.runs"] == 200, about
assert about["layout"] == "xlsx", about
# a fan chart per share series: stacked areas of the quantile bands
charts = wb.charts("share")
assert len(charts) == 4, len(charts)      # 2 providers x 2 segments
for c in charts:
    assert "<c:areaChart>" in c and '<c:grouping val="stacked"/>' in c, c[:500]
    assert c.count("<c:ser>") == 3        # base p05, p05-p50, p50-p95
assert "chart data" in wb.sheets and wb.hidden("chart data")
# the bands add up to the quantiles of the share sheet
data = wb.rows("chart data")
share = {r[1]: r for r in wb.rows("share")[1:]}
cols = {c: j for j, c in enumerate(head)}
assert data[0][0] == "alibaba public", data[0]
for r in data[1:10]:
    s = share[r[0]]
    assert abs(r[1] - s[cols["alibaba public p05"]]) < 1e-15
    assert abs(r[1] + r[2] - s[cols["alibaba public p50"]]) < 1e-12
    assert abs(r[1] + r[2] + r[3] - s[cols["alibaba public p95"]]) < 1e-12
PY
    # the per-run file stays CSV
    run "$STRATSIM" mc "$A" --runs 64 --per-run p.xlsx -o m2.csv; expect_rc 2
    expect_err "--per-run writes CSV"; expect_no_file m2.csv
}

test_xlsx_sens_tables() {
    run "$STRATSIM" sens "$A" -o t.csv; expect_rc 0
    run "$STRATSIM" sens "$A" -o t.xlsx; expect_rc 0
    run "$STRATSIM" sens "$A" --method sobol --samples 32 --bootstrap 20 -o s.csv; expect_rc 0
    run "$STRATSIM" sens "$A" --method sobol --samples 32 --bootstrap 20 -o s.xlsx; expect_rc 0
    run "$STRATSIM" optimize "$A" --starts 1 -o o.csv; expect_rc 0
    run "$STRATSIM" optimize "$A" --starts 1 -o o.xlsx; expect_rc 0
    python3 - "$XR" <<'PY' || fail "sens and optimize workbooks"
import csv, importlib.util, sys
spec = importlib.util.spec_from_file_location("xr", sys.argv[1])
xr = importlib.util.module_from_spec(spec); spec.loader.exec_module(xr)
for book, sheet, csvf in (("t.xlsx", "tornado", "t.csv"), ("s.xlsx", "sobol", "s.csv"),
                          ("o.xlsx", "optimize", "o.csv")):
    wb = xr.Workbook(book)
    assert wb.sheets[0] == sheet, wb.sheets
    got = wb.rows(sheet)
    want = list(csv.reader(open(csvf)))
    assert got[0] == want[0], (got[0], want[0])
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got[1:], want[1:]):
        g = g + [None] * (len(w) - len(g))
        for a, b in zip(g, w):
            if a is None:
                assert b == "", (a, b)
                continue
            if isinstance(a, float):
                assert a == float(b) or abs(a - float(b)) <= 1e-15 * abs(float(b)), (a, b)
            else:
                assert a == b, (a, b)
    assert wb.frozen(sheet) == (1, 0)
PY
}

# Sheet names: at most 31 characters (Excel's limit), unique without regard
# to case; a metric name cut to 27 characters that clashes gets "~2", "~3".
test_xlsx_long_metric_names() {
    cat > long.lua <<'EOF'
return stratsim.scenario {
  name = "long",
  time = { start = 2022, stop = 2024, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } }, { id = "b", share = { public = 0.4 } } },
  outputs = {
    revenue_of_provider_a_in_public_cloud = function(v) return v:revenue("a") end,
    revenue_of_provider_a_in_public_cloud_scaled = function(v) return 2 * v:revenue("a") end,
    Revenue_Of_Provider_A_In_Public_Cloud_x = function(v) return 3 * v:revenue("a") end,
  },
}
EOF
    run "$STRATSIM" run long.lua -o long.xlsx; expect_rc 0; expect_no_err
    python3 "$XR" long.xlsx > sheets.txt
    python3 - sheets.txt <<'PY' || fail "sheet names: $(cat sheets.txt)"
import sys
names = open(sys.argv[1]).read().split("\n")[:-1]
assert all(len(n) <= 31 for n in names), names
assert len({n.lower() for n in names}) == len(names), names
cut = "revenue_of_provider_a_in_pu"
assert sum(n.lower().startswith(cut) for n in names) == 3, names
assert cut + "~2" in [n.lower() for n in names] and cut + "~3" in [n.lower() for n in names], names
PY
}

test_xlsx_atomic() {
    # a failing run leaves an existing workbook as it was, and no temporary files
    run "$STRATSIM" run "$DATA/small.lua" -o keep.xlsx; expect_rc 0
    cp keep.xlsx before.xlsx
    run "$STRATSIM" run "$DATA/bad_shares.lua" -o keep.xlsx; expect_rc 1
    cmp -s keep.xlsx before.xlsx || fail "keep.xlsx changed by a failing run"
    expect_no_temp .
    # an unwritable directory: an error naming the file, nothing left
    mkdir ro && chmod 555 ro
    if [ "$(id -u)" != 0 ]; then
        run "$STRATSIM" run "$DATA/small.lua" -o ro/x.xlsx; expect_rc 1; expect_err "ro/x.xlsx"
        [ -z "$(ls -A ro)" ] || fail "files left in ro: $(ls -A ro)"
    fi
    # a directory in the way
    mkdir d.xlsx
    run "$STRATSIM" run "$DATA/small.lua" -o d.xlsx; expect_rc 1; expect_err "d.xlsx"
    expect_no_temp .
    chmod 755 ro
}
