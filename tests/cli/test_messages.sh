# tests/cli/test_messages.sh - the wording of everyday messages: "did you
# mean" for mistyped options and selector ids, exit status 1 for unknown ids
# in option values, whole numbers in exponent notation, the Monte Carlo
# summary in percent, no "-0.00", singular nouns, the rounded "Apply with:".

A="$DATA/analysis.lua"

test_msg_option_suggestions() {
    run "$STRATSIM" run "$DATA/small.lua" --ouput x.csv; expect_rc 2
    expect_err "unknown option '--ouput' (did you mean '--output'?)"; expect_no_file x.csv
    run "$STRATSIM" run "$DATA/small.lua" --ouput=x.csv; expect_rc 2
    expect_err "(did you mean '--output'?)"
    run "$STRATSIM" compare "$DATA/small.lua" --layuot wide; expect_rc 2
    expect_err "(did you mean '--layout'?)"
    run "$STRATSIM" check "$DATA/small.lua" --unsfe; expect_rc 2
    expect_err "(did you mean '--unsafe'?)"
    run "$STRATSIM" mc "$A" --rusn 10; expect_rc 2; expect_err "(did you mean '--runs'?)"
    run "$STRATSIM" mc "$A" --sceanrio x; expect_rc 2; expect_err "(did you mean '--scenario'?)"
    run "$STRATSIM" sens "$A" --outptus npv:alibaba; expect_rc 2
    expect_err "(did you mean '--outputs'?)"
    run "$STRATSIM" optimize "$A" --strats 2; expect_rc 2; expect_err "(did you mean '--starts'?)"
    run "$STRATSIM" calibrate "$A" --dta d.csv; expect_rc 2; expect_err "(did you mean '--data'?)"
    run "$STRATSIM" plot x.csv --metirc share; expect_rc 2; expect_err "(did you mean '--metric'?)"
    run "$STRATSIM" repl --max-memroy 64; expect_rc 2; expect_err "(did you mean '--max-memory'?)"
    # a verb with an option table suggests any of its options, --root too
    run "$STRATSIM" run "$DATA/small.lua" --roo .; expect_rc 2
    expect_err "unknown option '--roo' (did you mean '--root'?)"
    run "$STRATSIM" run "$DATA/small.lua" --max-mem=3; expect_rc 2
    expect_err "unknown option '--max-mem=3' (did you mean '--max-memory'?)"
    run "$STRATSIM" check "$DATA/small.lua" --behavour; expect_rc 2
    expect_err "unknown option '--behavour' (did you mean '--behaviour'?)"
    run "$STRATSIM" compare "$DATA/small.lua" --rot .; expect_rc 2
    expect_err "unknown option '--rot' (did you mean '--root'?)"
    # a switch takes no value
    run "$STRATSIM" run "$DATA/small.lua" --unsafe=1; expect_rc 2
    expect_err "unknown option '--unsafe=1' (did you mean '--unsafe'?)"
    # nothing close: no suggestion
    run "$STRATSIM" run "$DATA/small.lua" --frobnicate; expect_rc 2
    expect_err "unknown option '--frobnicate'"
    case "$ERR" in *"did you mean"*) fail "suggestion for --frobnicate";; esac
}

# The analysis verbs take their options from tables too: a mistyped option
# of the verb's own, or a common one, gets "did you mean" (exit status 2).
test_msg_analysis_option_tables() {
    run "$STRATSIM" sweep "$A" --gird segments.public.tau=1,2; expect_rc 2
    expect_err "sweep: unknown option '--gird' (did you mean '--grid'?)"
    expect_err "Try 'stratsim sweep --help'."
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=1,2 --thread=2; expect_rc 2
    expect_err "unknown option '--thread=2' (did you mean '--threads'?)"
    run "$STRATSIM" sweep "$A" --grid segments.public.tau=1,2 --rot .; expect_rc 2
    expect_err "(did you mean '--root'?)"
    run "$STRATSIM" sens "$A" --bootstrp 10; expect_rc 2
    expect_err "sens: unknown option '--bootstrp' (did you mean '--bootstrap'?)"
    run "$STRATSIM" sens "$A" --metod=sobol; expect_rc 2
    expect_err "unknown option '--metod=sobol' (did you mean '--method'?)"
    run "$STRATSIM" calibrate "$A" --data d.csv --centrl; expect_rc 2
    expect_err "calibrate: unknown option '--centrl' (did you mean '--central'?)"
    run "$STRATSIM" calibrate "$A" --data d.csv --max-itr 5; expect_rc 2
    expect_err "(did you mean '--max-iter'?)"
    run "$STRATSIM" optimize "$A" --minimse; expect_rc 2
    expect_err "optimize: unknown option '--minimse' (did you mean '--minimise'?)"
    run "$STRATSIM" optimize "$A" --no-constraint; expect_rc 2
    expect_err "(did you mean '--no-constraints'?)"
    run "$STRATSIM" mc "$A" --rnus 5; expect_rc 2
    expect_err "mc: unknown option '--rnus' (did you mean '--runs'?)"
    run "$STRATSIM" mc "$A" --per-run-metric npv:alibaba; expect_rc 2
    expect_err "(did you mean '--per-run-metrics'?)"
    run "$STRATSIM" mc "$A" --no-outage; expect_rc 2
    expect_err "(did you mean '--no-outages'?)"
}

# The options every analysis verb shares, listed in its help or named in a
# line of it, are parsed from its table with the usual messages.
test_msg_analysis_common_options() {
    for v in mc sens calibrate optimize sweep; do
        run "$STRATSIM" $v "$A" --root /nonexistent; expect_rc 2
        expect_err "stratsim: $v: --root /nonexistent: not a directory"
        run "$STRATSIM" $v "$A" --set x; expect_rc 2; expect_err "$v: --set 'x': expected PATH=VALUE"
        run "$STRATSIM" $v "$A" --max-instructions=0; expect_rc 2
        expect_err "--max-instructions needs a positive integer"
        run "$STRATSIM" $v "$A" --scenario; expect_rc 2; expect_err "--scenario needs a scenario name"
        run "$STRATSIM" $v "$A" -o ''; expect_rc 2; expect_err "-o needs a file name"
        run "$STRATSIM" $v "$A" "$A"; expect_rc 2; expect_err "only one scenario file"
        run "$STRATSIM" $v "$A" --unsafe=1; expect_rc 2; expect_err "(did you mean '--unsafe'?)"
        run "$STRATSIM" $v --help; expect_rc 0; expect_out "  -h, --help                show this help"
    done
    run "$STRATSIM" sens "$A" --max-memory 0; expect_rc 2
    expect_err "--max-memory needs a size in MiB (1..1048576)"
    run "$STRATSIM" mc "$A" --max-memory 0; expect_rc 2
    expect_err "--max-memory needs a size such as 512M"
    # the British spellings parse too (the run stops at the unknown option)
    run "$STRATSIM" optimize "$A" --minimise --maximise --frobnicate; expect_rc 2
    expect_err "unknown option '--frobnicate'"
}

test_msg_selector_ids() {
    # an unknown id in an option value: a suggestion, exit 1 like --set
    run "$STRATSIM" run "$A" --set segments.publc.growth=0.1; expect_rc 1
    run "$STRATSIM" sens "$A" --outputs share:alibaba:publc; expect_rc 1
    expect_err "unknown segment 'publc' (did you mean 'public'?)"
    run "$STRATSIM" sens "$A" --outputs npv:aliaba; expect_rc 1
    expect_err "unknown provider 'aliaba' (did you mean 'alibaba'?)"
    run "$STRATSIM" sens "$A" --outputs shar:alibaba:public; expect_rc 2
    expect_err "unknown metric 'shar' (did you mean 'share'?)"
    run "$STRATSIM" optimize "$A" --constraint 'share:alibab:public >= 0.3'; expect_rc 1
    expect_err "(did you mean 'alibaba'?)"
    run "$STRATSIM" mc "$A" --runs 64 --per-run p.csv --per-run-metrics npv:rivl -o o.csv
    expect_rc 1; expect_err "(did you mean 'rival'?)"; expect_no_file o.csv; expect_no_file p.csv
}

test_msg_counts_in_exponent_notation() {
    run "$STRATSIM" mc "$A" --runs 1e2 --seed 5 -o a.csv; expect_rc 0
    run "$STRATSIM" mc "$A" --runs 100 --seed 5 -o b.csv; expect_rc 0
    cmp -s a.csv b.csv || fail "--runs 1e2 differs from --runs 100"
    run "$STRATSIM" mc "$A" --runs 1.28e2 --seed 1e0; expect_rc 0; expect_out "128 runs, seed 1;"
    run "$STRATSIM" mc "$A" --runs 1.5; expect_rc 2; expect_err "--runs"
    run "$STRATSIM" mc "$A" --runs 1e300; expect_rc 2; expect_err "--runs"
    run "$STRATSIM" mc "$A" --runs 0x10; expect_rc 2; expect_err "--runs"
    run "$STRATSIM" sens "$A" --method sobol --samples 3.2e1 --bootstrap 0 --outputs npv:alibaba
    expect_rc 0; expect_out "N = 32"
}

test_msg_mc_summary() {
    run "$STRATSIM" mc "$A" --runs 200 --seed 3; expect_rc 0; expect_no_err
    summary=$OUT
    # shares in percent with two decimals, like `run`; the rest as numbers
    line=$(printf '%s\n' "$OUT" | grep '^share alibaba public ')
    printf '%s\n' "$line" | grep -Eq '^share alibaba public( +[0-9]+\.[0-9][0-9]%){5}$' ||
        fail "share row not in percent: $line"
    run "$STRATSIM" mc "$A" --runs 200 --seed 3 -o mc.csv; expect_rc 0
    mean=$(awk -F, '$3=="alibaba" && $4=="public" && $5=="share" && $2=="2024" {print $6}' mc.csv)
    [ -n "$mean" ] || fail "no mean in mc.csv"
    want=$(awk -v m="$mean" 'BEGIN {printf "%.2f%%", 100 * m}')
    printf '%s\n' "$line" | grep -q " $want " || fail "mean $mean shown as $line, expected $want"
    line=$(printf '%s\n' "$summary" | grep '^npv alibaba ')
    [ -n "$line" ] || fail "no npv row"
    printf '%s\n' "$line" | grep -q '%' && fail "npv in percent: $line"
    # 1 run
    run "$STRATSIM" mc "$A" --runs 1; expect_rc 0; expect_out "1 run, seed 1;"
}

test_msg_mc_without_uncertainty() {
    run "$STRATSIM" mc "$DATA/small.lua" --runs 70 -o o.csv; expect_rc 0; expect_file o.csv
    expect_err "scenario 'small' has no uncertainty and no outages, so every run is the same"
    run "$STRATSIM" mc "$A" --runs 70 --no-outages -o o.csv; expect_rc 0; expect_no_err
    cat > noout.lua <<'LUA'
return stratsim.scenario {
  name = "noout", time = { start = 2021, stop = 2023, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
  outages = { a = { rate = 1, severity = 0.1 } },
}
LUA
    run "$STRATSIM" mc noout.lua --runs 70 -o o.csv; expect_rc 0; expect_no_err
    run "$STRATSIM" mc noout.lua --runs 70 --no-outages -o o.csv; expect_rc 0
    expect_err "has no uncertainty (outages ignored: --no-outages)"
}

test_msg_no_negative_zero() {
    # a tiny change: differences that round to zero print as +0.00, never -0.00
    sed 's/reinvest = 0.25,/reinvest = 0.2500001,/' "$DATA/small.lua" > tiny.lua
    sed -i 's/name = "small"/name = "tiny"/' tiny.lua
    run "$STRATSIM" compare "$DATA/small.lua" tiny.lua; expect_rc 0
    expect_out "(+0.00 pp)"
    case "$OUT" in *"-0.00"*) fail "a -0.00 in: $OUT";; esac
    run "$STRATSIM" compare tiny.lua "$DATA/small.lua"; expect_rc 0
    case "$OUT" in *"-0.00"*) fail "a -0.00 in: $OUT";; esac
    # a Sobol index estimated slightly below zero (-3.5e-05, see the CSV) prints as 0.0000
    set -- sens "$A" --method sobol --samples 64 --bootstrap 0 \
        --vary segments.private.growth,providers.alibaba.reinvest
    run "$STRATSIM" "$@" -o s.csv; expect_rc 0
    grep -q '^segments.private.growth,share:alibaba:public,-3\.' s.csv || fail "fixture moved: $(cat s.csv)"
    run "$STRATSIM" "$@"; expect_rc 0
    case "$OUT" in *"-0.0000"*) fail "a -0.0000 in: $OUT";; esac
    expect_out "segments.private.growth       0.0000"
}

test_msg_plurals() {
    cat > one.lua <<'LUA'
return stratsim.scenario {
  name = "one", time = { start = 2021, stop = 2023, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
  events = { { t = 2022, kind = "outage", provider = "a", severity = 0.1 } },
}
LUA
    run "$STRATSIM" check one.lua; expect_rc 0
    expect_out "scenario 'one': 1 segment, 1 provider, 1 event,"
    run "$STRATSIM" check "$DATA/small.lua"; expect_rc 0
    expect_out "2 segments, 3 providers, 3 events"
    printf 'time,provider,segment,metric,value\n2023,alibaba,public,share,0.36\n' > d.csv
    run "$STRATSIM" calibrate "$A" --data d.csv --write fit.lua; expect_rc 0
    expect_out "(1 observation, 1 parameter, dof 0)"
    grep -q "1 parameter, 1 observation, dof 0" fit.lua || fail "fit.lua header: $(head -2 fit.lua)"
}

test_msg_apply_with_rounded() {
    run "$STRATSIM" optimize "$A" --starts 2; expect_rc 0
    line=$(printf '%s\n' "$OUT" | grep '^Apply with:')
    [ -n "$line" ] || fail "no Apply with: line"
    # every value as the table shows it (10 significant digits)
    for v in $(printf '%s\n' "$line" | grep -o '=[^ ]*' | cut -c2-); do
        printf '%s\n' "$OUT" | grep -Eq "^  [^ ]+ +$v " || fail "value $v of '$line' not in the table"
        digits=$(printf '%s' "$v" | tr -cd 0-9 | sed 's/^0*//')
        [ ${#digits} -le 10 ] || fail "value $v has more than 10 digits"
    done
    # and it reproduces the run
    path=$(printf '%s\n' "$line" | grep -o -- '--set [^ ]*' | head -1 | cut -c7-)
    run "$STRATSIM" run "$A" --set "$path"; expect_rc 0
}

# a parameter path that stops at "segments" or "providers" gets its form and
# an example, not "did you mean" the same word; an article fits its noun
test_msg_parameter_path_forms() {
    run "$STRATSIM" run "$A" --set segments=1; expect_rc 1
    expect_err "'segments' alone is not a parameter: name one as segments.<id>.<field>, e.g. segments."
    case "$ERR" in *"did you mean"*) fail "a suggestion of the word itself";; esac
    run "$STRATSIM" run "$A" --set providers=1; expect_rc 1
    expect_err "'providers' alone is not a parameter: name one as providers.<id>.<field>[.<segment>], e.g. providers."
    run "$STRATSIM" run "$A" --set segmnts.x.growth=1; expect_rc 1
    expect_err "unknown parameter 'segmnts' (did you mean 'segments'?)"
    run "$STRATSIM" mc "$A" --runs 10 --dist 'time.stop=uniform(2029,2030)' -o x.csv; expect_rc 1
    expect_err "an uncertain parameter cannot be a time.* path"
    run "$STRATSIM" optimize "$A" --control 'time.stop=2029,2030' -o x.csv; expect_rc 1
    case "$ERR" in *": a control cannot be a time.* path"*) ;; *) fail "the control's article: $ERR";; esac
}
