# tests/cli/test_scenarios.sh - every bundled scenario passes `check` and runs.

test_bundled_scenarios_check_and_run() {
    n=0
    for f in "$ROOT"/scenarios/*.lua; do
        run "$STRATSIM" check "$f"; expect_rc 0
        run "$STRATSIM" run "$f" -o "out$n.csv"; expect_rc 0
        expect_file "out$n.csv"
        n=$((n + 1))
    done
    [ "$n" -ge 2 ] || fail "expected at least two bundled scenarios"
}

# ai_public_first.lua restates the baseline before deriving from it: until the
# first change (the outage at 2023.863) both must give identical outputs.
test_flagship_base_equals_baseline() {
    run "$STRATSIM" run "$ROOT/scenarios/baseline.lua" -o b.csv; expect_rc 0
    run "$STRATSIM" run "$ROOT/scenarios/ai_public_first.lua" -o f.csv; expect_rc 0
    python3 - <<'PY' || fail "baseline.lua and the base of ai_public_first.lua differ"
import csv
def load(f):
    return {(r[1], r[2], r[3], r[4]): float(r[5]) for r in list(csv.reader(open(f)))[1:]}
b, f = load("b.csv"), load("f.csv")
keys = [k for k in b if float(k[0]) < 2023.86]
assert len(keys) > 500, len(keys)
for k in keys:
    assert abs(b[k] - f[k]) <= 1e-12 * max(1.0, abs(b[k])), (k, b[k], f[k])
# and the flagship really differs afterwards
assert abs(b[("2030", "alibaba", "ai", "share")] - f[("2030", "alibaba", "ai", "share")]) > 0.05
PY
}
