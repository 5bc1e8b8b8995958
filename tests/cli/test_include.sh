# tests/cli/test_include.sh - stratsim.include: deriving from another file in
# the sandbox, errors located in the included file, cycles, non-.lua names.

test_include_derives_from_base() {
    run "$STRATSIM" check "$DATA/variant.lua"; expect_rc 0
    expect_out "ok: scenario 'variant'"
    # works from another working directory too (relative to the including file)
    cd /; run "$STRATSIM" run "$DATA/variant.lua" -o "$T/v.csv"; expect_rc 0
    python3 - "$T/v.csv.json" <<'PY' || fail "variant did not inherit/override"
import json, sys
sc = json.load(open(sys.argv[1]))["scenarios"][0]
a = [p for p in sc["providers"] if p["id"] == "a"][0]
# the variant's reinvestment is an intervention on the base's
assert sc["name"] == "variant" and a["reinvest"]["value"] != 0.3
assert {"path": "providers.a.reinvest", "base": a["reinvest"],
        "value": {"kind": "const", "value": 0.3}} in sc["interventions"], sc["interventions"]
assert [p["id"] for p in sc["providers"]] == ["a", "b"]
PY
}

test_include_errors() {
    cp "$DATA/include/bad_base.lua" bad_base.lua
    printf 'return stratsim.include("bad_base.lua")\n' > bad.lua
    run "$STRATSIM" check bad.lua; expect_rc 1
    expect_err "bad_base.lua:4: segments.public.tau: must be > 0"
    printf 'return stratsim.include("cycle.lua")\n' > cycle.lua
    run "$STRATSIM" check cycle.lua; expect_rc 1; expect_err "nested includes"
    printf 'return stratsim.include("/etc/passwd")\n' > p.lua
    run "$STRATSIM" check p.lua; expect_rc 1; expect_err "expected the name of a .lua scenario file"
}
