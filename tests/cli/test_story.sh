# tests/cli/test_story.sh - the seed storyline: the calibrated baseline
# reproduces IDC's three share figures, the calibration itself, and the
# flagship's key outputs pinned against regressions.

DATA_IDC="$ROOT/scenarios/data/china_public_cloud_iaas.csv"

# The baseline as committed reproduces the three IDC points within 0.5 pp;
# without the fitted parameter (its default, 1) it does not.
test_baseline_reproduces_idc_points() {
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o b.csv; expect_rc 0
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o nofit.csv --set segments.public.beta_price=1
    expect_rc 0
    python3 - "$DATA_IDC" <<'PY' || fail "IDC points not reproduced"
import csv, sys
obs = [r for r in csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#"))][1:]
def share(f, t):
    for r in csv.reader(open(f)):
        if r[2:5] == ["alibaba", "public", "share"] and abs(float(r[1]) - t) < 1e-9:
            return float(r[5])
    raise KeyError(t)
worst = max(abs(share("b.csv", float(o[0])) - float(o[4])) for o in obs)
assert worst <= 0.005, worst
worst_nofit = max(abs(share("nofit.csv", float(o[0])) - float(o[4])) for o in obs)
assert worst_nofit > 0.005, worst_nofit
print("worst miss %.4f pp, without the fit %.4f pp" % (100 * worst, 100 * worst_nofit))
PY
}

# Running the calibration finds the value written in baseline.lua.
test_calibration_reproduces_fitted_value() {
    run "$STRATSIM" calibrate "$ROOT/scenarios/baseline.lua" --data "$DATA_IDC" --write fit.lua
    expect_rc 0
    expect_out "segments.public.beta_price"
    python3 - "$ROOT/scenarios/baseline.lua" <<'PY' || fail "fitted value differs from baseline.lua"
import re, sys
fit = float(re.search(r'beta_price"\]\s*=\s*([0-9.eE+-]+)', open("fit.lua").read()).group(1))
src = open(sys.argv[1]).read()
committed = float(re.search(r'beta_price = ([0-9.]+),', src).group(1))
assert abs(fit - committed) < 1e-6, (fit, committed)
PY
}

# Key outputs of the flagship, pinned (tolerance 1e-6 relative: well above
# the solver tolerance, far below any modelling change).
test_flagship_regression() {
    run "$STRATSIM" run "$ROOT/scenarios/ai_public_first.lua" -o f.csv; expect_rc 0
    python3 - <<'PY' || fail "flagship outputs changed"
import csv
v = {(r[1], r[2], r[3], r[4]): float(r[5]) for r in list(csv.reader(open("f.csv")))[1:]}
pinned = {
    ("2030", "alibaba", "public", "share"): 0.2881547051450297,
    ("2030", "alibaba", "private", "share"): 0.04729344995195954,
    ("2030", "alibaba", "ai", "share"): 0.444119412138341,
    ("2030", "alibaba", "", "revenue"): 415.3234579426536,
    ("2030", "alibaba", "", "operating_profit"): 47.19233504681354,
    ("2030", "alibaba", "", "npv"): 65.15533294953349,
    ("2030", "", "public", "size"): 1145.5355619796069,
}
for k, want in pinned.items():
    assert abs(v[k] - want) <= 1e-6 * abs(want), (k, v[k], want)
PY
}

# Every strategy scenario says which numbers come from the seed.
test_scenarios_cite_their_sources() {
    for f in "$ROOT"/scenarios/*.lua; do
        grep -qi "seed" "$f" || fail "$(basename "$f") does not say what comes from the seed"
    done
}

# `make tour` (scripts/tour.sh): every step prints something; the Monte Carlo
# step, whose command only writes a file, shows Alibaba's quantiles from it.
test_tour_every_step_prints() {
    cd "$ROOT"
    run env STRATSIM="$STRATSIM" OUT="$T/tour" RUNS=40 sh scripts/tour.sh
    expect_rc 0
    expect_out "== 3. Monte Carlo of the flagship under recurring outages (40 runs)"
    expect_out "Alibaba at 2030 (40 runs)"
    printf '%s\n' "$OUT" | awk '/^== 3\./ { s = 1; next } /^== / { s = 0 } s && /share public +[0-9.]+% +[0-9.]+% +[0-9.]+%/ { ok = 1 } END { exit !ok }' ||
        fail "the Monte Carlo step shows no share quantiles"
    # no step is empty: each heading is followed by at least one line
    printf '%s\n' "$OUT" | awk '/^== / { if (h && n == 0) { print h; bad = 1 } h = $0; n = 0; next } NF { n++ } END { exit bad }' ||
        fail "a step printed nothing"
    expect_file "$T/tour/outage_mc.csv"
}
