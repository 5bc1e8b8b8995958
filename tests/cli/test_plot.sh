# tests/cli/test_plot.sh - `stratsim plot`: every chart kind as PNG (magic bytes)
# and SVG (well-formed XML), PDF, overlays, the saved gnuplot script, the plain
# gnuplot scripts in scripts/, usage errors (exit 2), data errors and a missing
# or failing gnuplot (exit 1, clear message, no partial figure), and labels that
# try to inject gnuplot or shell commands. Tests that need gnuplot are counted
# as skipped when it is not installed (scripts/install-deps.sh installs it).

have_gnuplot() {
    command -v gnuplot >/dev/null 2>&1 && return 0
    skip "gnuplot not installed"
}
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$1 is not a PNG"; }
is_pdf() { [ "$(head -c 5 "$1")" = "%PDF-" ] || fail "$1 is not a PDF"; }
is_svg() {
    python3 -c 'import xml.dom.minidom,sys; d=xml.dom.minidom.parse(sys.argv[1]); assert d.documentElement.tagName == "svg"' "$1" ||
        fail "$1 is not well-formed SVG"
}
long_csv() { "$STRATSIM" run "$DATA/small.lua" -o long.csv >/dev/null || fail "run -o long.csv"; }
# plot_ok ARGS...: `stratsim plot ARGS` succeeds silently
plot_ok() {
    run "$STRATSIM" plot "$@"; expect_rc 0; expect_no_err
}

test_plot_help() {
    run "$STRATSIM" plot --help; expect_rc 0; expect_out "Usage: stratsim plot"
    run "$STRATSIM" help plot; expect_rc 0; expect_out "--overlay"
    run "$STRATSIM" --help; expect_rc 0; expect_out "plot FILE.csv"
}

test_plot_usage_errors_exit_2() {
    long_csv
    run "$STRATSIM" plot; expect_rc 2; expect_err "missing FILE.csv"
    run "$STRATSIM" plot long.csv; expect_rc 2; expect_err "missing -o"
    run "$STRATSIM" plot long.csv -o; expect_rc 2
    run "$STRATSIM" plot long.csv -o fig.jpg; expect_rc 2; expect_err "use .png, .svg or .pdf"
    run "$STRATSIM" plot long.csv -o -; expect_rc 2
    run "$STRATSIM" plot long.csv -o fig.png --bogus; expect_rc 2; expect_err "unknown option '--bogus'"
    run "$STRATSIM" plot long.csv -o fig.png --kind pie; expect_rc 2; expect_err "--kind"
    run "$STRATSIM" plot long.csv -o fig.png --size 12; expect_rc 2; expect_err "--size"
    run "$STRATSIM" plot long.csv -o fig.png --format gif; expect_rc 2
    run "$STRATSIM" plot long.csv -o fig.png --metric ,; expect_rc 2
    run "$STRATSIM" plot long.csv other.csv -o fig.png; expect_rc 2; expect_err "only one CSV file"
    run "$STRATSIM" plot long.csv -o fig.png --kind fan; expect_rc 2; expect_err "fan chart cannot be drawn"
    run "$STRATSIM" plot long.csv -o fig.png --kind tornado; expect_rc 2
    run "$STRATSIM" plot long.csv -o fig.png --kind stacked; expect_rc 2; expect_err "--provider"
    run "$STRATSIM" plot long.csv -o fig.png --kind stacked --provider alibaba --overlay "$DATA/plot_observed.csv"
    expect_rc 2; expect_err "--overlay"
    run "$STRATSIM" plot long.csv -o fig.png --metric share,revenue; expect_rc 2; expect_err "different units"
    run "$STRATSIM" plot "$DATA/plot_tornado.csv" -o fig.png; expect_rc 2; expect_err "--select"
    run "$STRATSIM" plot "$DATA/plot_tornado.csv" -o fig.png --select npv:alibaba --metric share; expect_rc 2
    run "$STRATSIM" plot long.csv -o fig.png --base 1; expect_rc 2
    expect_no_file fig.png; expect_no_file fig.jpg; expect_no_temp .
}

test_plot_data_errors_exit_1() {
    long_csv
    run "$STRATSIM" plot missing.csv -o fig.png; expect_rc 1; expect_err "missing.csv"
    run "$STRATSIM" plot long.csv -o fig.png --metric shares; expect_rc 1
    expect_err "no metric 'shares'"; expect_err "metrics: share, target_share"
    run "$STRATSIM" plot long.csv -o fig.png --provider alibabba; expect_rc 1; expect_err "no provider 'alibabba'"
    run "$STRATSIM" plot long.csv -o fig.png --metric npv --segment public; expect_rc 1; expect_err "no rows match"
    printf 'a,b\n1,2\n' > odd.csv
    run "$STRATSIM" plot odd.csv -o fig.png; expect_rc 1; expect_err "not a CSV layout stratsim can plot"
    printf 'scenario,time,provider,segment,metric,value\ns,2020,p,g,share,0.5\ns,x,p,g,share,0.5\n' > bad.csv
    run "$STRATSIM" plot bad.csv -o fig.png; expect_rc 1; expect_err "bad.csv:3: time: 'x' is not a number"
    printf 'scenario,time,provider,segment,metric,value\ns,2020,p,g,share\n' > short.csv
    run "$STRATSIM" plot short.csv -o fig.png; expect_rc 1; expect_err "short.csv:2: 5 fields, the header has 6"
    run "$STRATSIM" plot long.csv -o fig.png --provider alibaba --segment public --overlay "$DATA/plot_mc.csv"
    expect_rc 1; expect_err "calibration data file"
    expect_no_file fig.png; expect_no_temp .
}

test_plot_without_gnuplot() {
    long_csv
    echo previous > fig.png
    run env PATH=/nonexistent "$STRATSIM" plot long.csv -o fig.png
    expect_rc 1; expect_err "gnuplot not found; install gnuplot-nox (scripts/install-deps.sh does)"
    [ "$(cat fig.png)" = previous ] || fail "existing figure changed"
    run env PATH=/nonexistent "$STRATSIM" plot long.csv -o new.svg
    expect_rc 1; expect_no_file new.svg; expect_no_temp .
    run env STRATSIM_GNUPLOT=/nonexistent/gnuplot "$STRATSIM" plot long.csv -o new.svg
    expect_rc 1; expect_err "STRATSIM_GNUPLOT"; expect_no_file new.svg
    # the script can still be saved without gnuplot
    run env PATH=/nonexistent "$STRATSIM" plot long.csv -o new.png --script fig.gp
    expect_rc 1; expect_file fig.gp; expect_no_file new.png
}

test_plot_failing_gnuplot_leaves_no_figure() {
    long_csv
    # a stand-in gnuplot that writes half a figure, complains and fails
    printf '#!/bin/sh\nprintf "\\211PNG partial"\necho "         line 7: something went wrong" >&2\nexit 1\n' > fakegp
    chmod +x fakegp
    echo previous > fig.png
    run env STRATSIM_GNUPLOT=./fakegp "$STRATSIM" plot long.csv -o fig.png
    expect_rc 1; expect_err "gnuplot failed"; expect_err "line 7: something went wrong"
    [ "$(cat fig.png)" = previous ] || fail "figure replaced by a failed run"
    run env STRATSIM_GNUPLOT=./fakegp "$STRATSIM" plot long.csv -o other.png
    expect_rc 1; expect_no_file other.png; expect_no_temp .
    # a gnuplot that succeeds without output is an error too
    printf '#!/bin/sh\ncat >/dev/null\nexit 0\n' > emptygp; chmod +x emptygp
    run env STRATSIM_GNUPLOT=./emptygp "$STRATSIM" plot long.csv -o other.png
    expect_rc 1; expect_err "no figure"; expect_no_file other.png; expect_no_temp .
}

test_plot_line_png_svg_pdf() {
    have_gnuplot || return 0
    long_csv
    plot_ok long.csv -o share.png; expect_file share.png; is_png share.png
    plot_ok long.csv -o share.svg --provider alibaba; expect_file share.svg; is_svg share.svg
    grep -q "Market share: alibaba (scenario small)" share.svg || fail "default title"
    grep -q "Market share (%)" share.svg || fail "y label in percent"
    plot_ok long.csv -o rev.svg --metric revenue --provider alibaba --unit "CNY bn / year"
    grep -q "Revenue (CNY bn / year)" rev.svg || fail "money unit"
    plot_ok long.csv -o npv.svg --metric npv
    grep -q ">Cumulative NPV<" npv.svg || fail "no unit on money by default"
    plot_ok long.csv -o share.pdf --segment public --title "Public cloud"; is_pdf share.pdf
    plot_ok long.csv -o fig.out --format png --size 640x400; is_png fig.out
    python3 - <<'PY' || fail "PNG size"
import struct
b = open("fig.out", "rb").read(24)
assert struct.unpack(">II", b[16:24]) == (640, 400), struct.unpack(">II", b[16:24])
PY
    expect_no_temp .
}

test_plot_line_several_scenarios_and_wide() {
    have_gnuplot || return 0
    run "$STRATSIM" compare "$DATA/small.lua" "$DATA/second.lua" -o cmp.csv; expect_rc 0
    plot_ok cmp.csv -o cmp.svg --provider alibaba,rival --segment public; is_svg cmp.svg
    grep -q "small: alibaba" cmp.svg || fail "legend names scenario and provider"
    grep -q "second: rival" cmp.svg || fail "legend names scenario and provider"
    plot_ok cmp.csv -o cmp.png --scenario second --metric hhi; is_png cmp.png
    "$STRATSIM" run "$DATA/small.lua" -o wide.csv --layout wide >/dev/null
    plot_ok wide.csv -o wide.png --provider alibaba; is_png wide.png
    plot_ok wide.csv -o wide.svg --metric size; is_svg wide.svg
}

test_plot_fan() {
    have_gnuplot || return 0
    plot_ok "$DATA/plot_mc.csv" -o fan.png --provider alibaba --segment public; is_png fan.png
    plot_ok "$DATA/plot_mc.csv" -o fan.svg --segment public; is_svg fan.svg
    grep -q "Monte Carlo median and 5–95% band" fan.svg || fail "fan title"
    plot_ok "$DATA/plot_mc.csv" -o npv.svg --metric npv --unit "CNY bn"; is_svg npv.svg
    # only mean and sd: the band is mean +- 1.96 sd
    cut -d, -f1-7 "$DATA/plot_mc.csv" > sd.csv
    plot_ok sd.csv -o sd.png --provider rival; is_png sd.png
    # a line chart of the medians
    plot_ok "$DATA/plot_mc.csv" -o med.png --kind line --segment public; is_png med.png
}

test_plot_stacked() {
    have_gnuplot || return 0
    long_csv
    plot_ok long.csv -o st.png --kind stacked --provider alibaba; is_png st.png
    plot_ok long.csv -o st.svg --kind stacked --provider rival --unit "CNY bn / year"; is_svg st.svg
    grep -q "Revenue by segment: rival" st.svg || fail "stacked title"
    grep -q ">total<" st.svg || fail "total line"
}

test_plot_tornado() {
    have_gnuplot || return 0
    plot_ok "$DATA/plot_tornado.csv" -o t.png --select share:alibaba:public@2024; is_png t.png
    plot_ok "$DATA/plot_tornado.csv" -o t.svg --select npv:alibaba --base 13.2; is_svg t.svg
    grep -q "base: 13.2" t.svg || fail "base value"
    grep -q "segments.public.growth  \[0.15, 0.25\]" t.svg || fail "parameter label"
    run "$STRATSIM" plot "$DATA/plot_tornado.csv" -o t.png --select npv:bob; expect_rc 1; expect_err "no output 'npv:bob' (outputs: "
    # one output only: no --select needed
    head -n 5 "$DATA/plot_tornado.csv" > one.csv
    plot_ok one.csv -o one.svg; is_svg one.svg
    grep -q "base value unknown" one.svg || fail "no base: said so"
}

test_plot_overlay() {
    have_gnuplot || return 0
    long_csv
    plot_ok long.csv -o ov.png --provider alibaba --segment public --overlay "$DATA/plot_observed.csv"; is_png ov.png
    plot_ok long.csv -o ov.svg --provider alibaba --segment public --overlay "$DATA/plot_observed.csv"; is_svg ov.svg
    grep -q ">observed<" ov.svg || fail "observed in the legend"
    plot_ok "$DATA/plot_mc.csv" -o fo.png --segment public --overlay "$DATA/plot_observed.csv"; is_png fo.png
    # the data file alone: points
    plot_ok "$DATA/plot_observed.csv" -o obs.png; is_png obs.png
    run "$STRATSIM" plot long.csv -o x.png --provider rival --overlay "$DATA/plot_observed.csv"
    expect_rc 1; expect_err "no observation matches"; expect_no_file x.png
}

test_plot_saved_script_runs() {
    have_gnuplot || return 0
    long_csv
    plot_ok long.csv -o a.png --provider alibaba --script a.gp; is_png a.png
    head -n 1 a.gp | grep -q "^# stratsim" || fail "script header"
    gnuplot -d a.gp > b.png || fail "saved script does not run"
    is_png b.png
}

test_plot_labels_cannot_inject() {
    have_gnuplot || return 0
    {
        echo 'scenario,time,provider,segment,metric,value'
        for t in 2020 2021; do
            echo "\"it's \`touch pwned1\`\",$t,\"@GPVAL_PWD \`touch pwned2\`\",\"a\"\"b\",share,0.5"
            echo "s2,$t,\"x');system('touch pwned3')#\",pub,share,0.5"
        done
    } > evil.csv
    plot_ok evil.csv -o evil.svg --title "\`touch pwned4\` it's"; is_svg evil.svg
    plot_ok evil.csv -o "we'ird \`touch pwned5\`.png"; is_png "we'ird \`touch pwned5\`.png"
    for n in 1 2 3 4 5; do expect_no_file pwned$n; done
    grep -q "it's \`touch pwned1\`" evil.svg || fail "label text kept literally"
}

test_plot_plain_gnuplot_scripts() {
    have_gnuplot || return 0
    long_csv
    gnuplot -e "file='long.csv'" "$ROOT/scripts/plot_share.gp" > share.png 2>err.txt || fail "plot_share.gp: $(cat err.txt)"
    is_png share.png
    run "$STRATSIM" compare "$DATA/small.lua" "$DATA/second.lua" -o cmp.csv
    gnuplot -e "file='cmp.csv'; scenarios='small second'; out='cmp.svg'" "$ROOT/scripts/plot_share.gp" || fail "plot_share.gp svg"
    is_svg cmp.svg
    gnuplot -e "file='$DATA/plot_mc.csv'" "$ROOT/scripts/plot_fan.gp" > fan.png 2>err.txt || fail "plot_fan.gp: $(cat err.txt)"
    is_png fan.png
    gnuplot -e "file='$DATA/plot_mc.csv'; lo='p25'; hi='p75'; out='fan.svg'" "$ROOT/scripts/plot_fan.gp" || fail "plot_fan.gp svg"
    is_svg fan.svg
}

# Many series (a whole compare file: 2 scenarios x 4 providers x 3 segments):
# colour by provider, dash by segment, markers by scenario; a legend beside
# the plot that explains the styles (11 entries, not 24); a note suggesting
# filters. Eight series or fewer: one legend entry per series, no note.
test_plot_many_series_styles() {
    have_gnuplot || return 0
    "$STRATSIM" compare "$ROOT/scenarios/baseline.lua" "$ROOT/scenarios/ai_public_first.lua" \
        -o cmp.csv >/dev/null || fail "compare -o"
    run "$STRATSIM" plot cmp.csv -o many.png --script many.gp; expect_rc 0; is_png many.png
    expect_err "note: 24 series in one chart of cmp.csv"
    expect_err "--scenario baseline, --provider alibaba, --segment public"
    grep -q "set key outside right" many.gp || fail "legend not beside the plot"
    [ "$(grep -c 'using 1:2 .* notitle' many.gp)" = 24 ] || fail "series should have no legend entry each"
    for e in "'provider (colour):'" "'segment (line):'" "'scenario (marker):'" "'alibaba'" "'others'" \
             "'public'" "'ai'" "'baseline'" "'ai_public_first'"; do
        grep -q "title $e" many.gp || fail "legend lacks $e"
    done
    # the same provider has one colour, the same segment one dash type, in every series
    [ "$(grep -o "using 1:2 with linespoints lw 2.5 lc rgb '#[0-9A-F]*'" many.gp | sort -u | wc -l)" = 4 ] ||
        fail "expected 4 colours (one per provider)"
    [ "$(grep -o "using 1:2 with linespoints lw 2.5 lc rgb '#[0-9A-F]*' dt [0-9]" many.gp | sed 's/.* dt //' | sort -u | wc -l)" = 3 ] ||
        fail "expected 3 dash types (one per segment)"
    # 8 series or fewer: plain legend, no note
    run "$STRATSIM" plot cmp.csv -o few.png --script few.gp --provider alibaba,huawei --scenario baseline
    expect_rc 0; expect_no_err
    grep -q "set key outside right" few.gp && fail "short legend should stay below"
    grep -q "title 'alibaba, public'" few.gp || fail "per-series legend expected"
}

test_plot_tornado_title_names_output() {
    have_gnuplot || return 0
    plot_ok "$DATA/plot_tornado.csv" -o t.png --select npv:alibaba --script t.gp
    grep -q "set title 'Tornado of npv:alibaba (4 parameters)'" t.gp || fail "title does not name the output"
}
