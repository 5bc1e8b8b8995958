# plot_share.gp - the market share of one provider in one segment over time,
# from a long-layout CSV written by `stratsim run|compare -o OUT.csv`
# (columns scenario,time,provider,segment,metric,value), with plain gnuplot:
# gnuplot itself picks the rows, no other tool is needed.
#
#   gnuplot -e "file='out/ai_public_first.csv'" scripts/plot_share.gp > share.png
#   gnuplot -e "file='out.csv'; provider='alibaba'; segment='public'; \
#               scenarios='baseline ai_public_first'; out='share.svg'" scripts/plot_share.gp
#
# Variables (set them with -e before the script name):
#   file       the CSV file (required)
#   provider   provider id (default 'alibaba')
#   segment    segment id (default 'public')
#   metric     metric (default 'share'; shares are shown in percent)
#   scenarios  space-separated scenario names, one line each (default: every
#              row of the file as one line, right for a single-scenario file)
#   out        output file; its extension .png, .svg or .pdf picks the format
#              (default: PNG on standard output)
# `stratsim plot FILE --metric share --provider P --segment S -o FIG.png` draws the
# same chart with automatic legends and titles; see docs/plotting.md.

if (!exists("file")) {
    print "plot_share.gp: set the input, e.g. gnuplot -e \"file='out.csv'\" scripts/plot_share.gp"
    exit status 1
}
if (!exists("provider")) provider = 'alibaba'
if (!exists("segment")) segment = 'public'
if (!exists("metric")) metric = 'share'
if (!exists("scenarios")) scenarios = ''
if (!exists("out")) out = ''

ext = strlen(out) > 4 ? out[strlen(out)-2:] : 'png'  # gnuplot substrings are 1-based
if (ext eq 'svg') {
    set terminal svg size 900,560 noenhanced font 'Sans,11' background rgb 'white'
} else {
    if (ext eq 'pdf') {
        set terminal pdfcairo size 9in,5.6in noenhanced font 'Sans,9'
    } else {
        set terminal pngcairo size 900,560 noenhanced font 'Sans,11' background rgb 'white'
    }
}
if (strlen(out) > 0) { set output out } else { set output }

set datafile separator comma
# filtered-out rows become NaN; treating NaN as missing keeps each line connected
set datafile missing NaN
scale = (metric eq 'share' || metric eq 'target_share' || metric eq 'gross_margin') ? 100 : 1

set title sprintf('%s: %s, %s', metric, provider, segment) font ',14'
set xlabel 'Year'
set ylabel (scale == 100 ? metric . ' (%)' : metric)
set key below center horizontal Left reverse spacing 1.2
set grid back lt 1 lw 1 lc rgb '#e2e2e2'
set border 3
set tics nomirror out scale 0.5
set format x '%g'
set autoscale xfix

# value of the row if it belongs to the chosen series, else NaN
pick(s) = (strcol(3) eq provider && strcol(4) eq segment && strcol(5) eq metric && \
           (s eq '' || strcol(1) eq s)) ? column(6) * scale : NaN

if (strlen(scenarios) == 0) {
    plot file skip 1 using 2:(pick('')) with lines lw 2.5 lc rgb '#4E79A7' title provider . ', ' . segment
} else {
    plot for [s in scenarios] file skip 1 using 2:(pick(s)) with lines lw 2.5 title s
}
