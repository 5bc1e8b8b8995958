# plot_fan.gp - a Monte Carlo fan chart with plain gnuplot: the median line and
# the band between two quantiles of one provider/segment/metric, from the CSV
# written by `stratsim mc -o MC.csv` (columns
# scenario,time,provider,segment,metric,mean,sd,<quantile columns such as
# p05,p50,p95>). gnuplot finds the quantile columns by name.
#
#   gnuplot -e "file='out/mc.csv'" scripts/plot_fan.gp > fan.png
#   gnuplot -e "file='mc.csv'; provider='alibaba'; segment='public'; \
#               lo='p10'; hi='p90'; out='fan.svg'" scripts/plot_fan.gp
#
# Variables (set them with -e before the script name):
#   file       the CSV file (required)
#   provider   provider id (default 'alibaba'); '' for per-segment metrics
#   segment    segment id (default 'public'); '' for per-provider metrics
#   metric     metric (default 'share'; shares are shown in percent)
#   scenario   scenario name (default: any; right for a one-scenario file)
#   lo, mid, hi  the columns of the band and of the line (default p05, p50,
#              p95; mid='mean' draws the mean)
#   out        output file; .png, .svg or .pdf (default: PNG on standard output)
# `stratsim plot MC.csv --provider P --segment S -o FIG.png` draws it with automatic
# labels and an inner band when the file has more quantiles; see docs/plotting.md.

if (!exists("file")) {
    print "plot_fan.gp: set the input, e.g. gnuplot -e \"file='mc.csv'\" scripts/plot_fan.gp"
    exit status 1
}
if (!exists("provider")) provider = 'alibaba'
if (!exists("segment")) segment = 'public'
if (!exists("metric")) metric = 'share'
if (!exists("scenario")) scenario = ''
if (!exists("lo")) lo = 'p05'
if (!exists("mid")) mid = 'p50'
if (!exists("hi")) hi = 'p95'
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
set datafile columnheaders          # column('p05') finds a column by its header name
set datafile missing NaN            # rows of other series become NaN and are skipped
scale = (metric eq 'share' || metric eq 'target_share' || metric eq 'gross_margin') ? 100 : 1
keep(dummy) = strcol(3) eq provider && strcol(4) eq segment && strcol(5) eq metric && \
         (scenario eq '' || strcol(1) eq scenario)
val(name) = keep(0) ? column(name) * scale : NaN

set title sprintf('%s: %s, %s (Monte Carlo %s and %s-%s band)', metric, provider, segment, mid, lo, hi) font ',14'
set xlabel 'Year'
set ylabel (scale == 100 ? metric . ' (%)' : metric)
set key below center horizontal Left reverse spacing 1.2
set grid back lt 1 lw 1 lc rgb '#e2e2e2'
set border 3
set tics nomirror out scale 0.5
set format x '%g'
set autoscale xfix
set style fill transparent solid 0.25 noborder

plot file using 2:(val(lo)):(val(hi)) with filledcurves lc rgb '#4E79A7' title lo . '-' . hi, \
     file using 2:(val(mid)) with lines lw 2.5 lc rgb '#4E79A7' title mid
