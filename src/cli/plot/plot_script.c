/*
 * plot_script.c - the parts every gnuplot script of `stratsim plot` shares:
 * the header (provenance comment, terminal for PNG, SVG or PDF, common
 * style), title, x range, datablocks, the palette, and the names, labels and
 * units of the metrics (shares, margins and reliability in percent; money
 * values in the unit given with --unit, as stratsim does not know the
 * currency).
 */
#include <stdio.h>
#include <string.h>
#include "stratsim.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

const char *const plot_palette[NPALETTE] = { "#4E79A7", "#F28E2B", "#E15759", "#76B7B2",
                                             "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
                                             "#9C755F", "#BAB0AC" };

/* ------------------------------------------------------------ metrics */

static const struct metric_info {
    const char *name, *label;
    int cls;
} metrics[] = {
    { "share", "Market share", C_PCT },
    { "target_share", "Target share", C_PCT },
    { "revenue", "Revenue", C_MONEY },
    { "gross_margin", "Gross margin", C_PCT },
    { "capability", "Capability", C_PLAIN },
    { "gross_profit", "Gross profit", C_MONEY },
    { "operating_profit", "Operating profit", C_MONEY },
    { "investment", "Investment", C_MONEY },
    { "reliability", "Reliability", C_PCT },
    { "npv", "Cumulative NPV", C_MONEY },
    { "size", "Market size", C_MONEY },
    { "hhi", "HHI (concentration)", C_PLAIN },
};

static const struct metric_info *metric_find(const char *m)
{
    size_t i;
    for (i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(metrics[i].name, m) == 0)
            return &metrics[i];
    return NULL;
}

int plot_metric_class(const char *m)
{
    const struct metric_info *mi = metric_find(m);
    return mi ? mi->cls : C_OTHER;
}

const char *plot_metric_label(const char *m)
{
    const struct metric_info *mi = metric_find(m);
    return mi ? mi->label : m;
}

double plot_metric_scale(const char *m)
{
    return plot_metric_class(m) == C_PCT ? 100.0 : 1.0;
}

/* The axis label of metric m (label + unit) into buf. */
void plot_axis_label(char *buf, size_t size, const char *label, int cls, const char *unit)
{
    if (cls == C_PCT)
        snprintf(buf, size, "%s (%%)", label);
    else if (unit && (cls == C_MONEY || cls == C_OTHER))
        snprintf(buf, size, "%s (%s)", label, unit);
    else
        snprintf(buf, size, "%s", label);
}

/* Append to a label buffer with a separator. */
void plot_cat(char *buf, size_t size, const char *sep, const char *s)
{
    size_t n = strlen(buf);
    if (n >= size - 1)
        return;
    snprintf(buf + n, size - n, "%s%s", n ? sep : "", s);
}

/* ------------------------------------------------------------ script */

void plot_gp_set_string(FILE *f, const char *what, const char *s, const char *extra)
{
    fprintf(f, "set %s ", what);
    plot_gp_string(f, s);
    if (extra)
        fprintf(f, " %s", extra);
    putc('\n', f);
}

/* Script header: provenance comment, terminal, common style. */
void plot_script_head(FILE *f, const plot_opts *o, const char *kind)
{
    static const char *const ext[] = { "", "png", "svg", "pdf" };
    fprintf(f, "# stratsim %s: %s chart of ", ss_version(), kind);
    plot_gp_comment(f, o->file);
    if (o->overlay) {
        fputs(" with observations from ", f);
        plot_gp_comment(f, o->overlay);
    }
    fprintf(f, "\n# Self-contained: the data are in the datablocks below.\n"
               "# Run: gnuplot -d THIS_FILE > FIGURE.%s\n", ext[o->format]);
    /* cairo and svg terminals take UTF-8 text as it is ("set encoding utf8" would
     * only warn under a C locale); libgd's png terminal needs to be told */
    switch (o->format) {
    case F_PNG:
        fprintf(f, "if (strstrt(GPVAL_TERMINALS, ' pngcairo ') > 0) {\n"
                   "    set terminal pngcairo size %d,%d noenhanced font 'Sans,11' "
                   "background rgb 'white'\n"
                   "} else {\n"
                   "    set encoding utf8\n"
                   "    set terminal png size %d,%d noenhanced truecolor background rgb 'white'\n"
                   "}\n",
                o->width, o->height, o->width, o->height);
        break;
    case F_SVG:
        fprintf(f, "set terminal svg size %d,%d fixed noenhanced font 'Sans,11' "
                   "background rgb 'white'\n",
                o->width, o->height);
        break;
    default:
        fprintf(f, "if (strstrt(GPVAL_TERMINALS, ' pdfcairo ') == 0) {\n"
                   "    print 'stratsim: this gnuplot has no pdfcairo terminal for PDF output "
                   "(gnuplot-nox has it)'\n"
                   "    exit status 1\n"
                   "}\n"
                   "set terminal pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,9'\n",
                o->width / 100.0, o->height / 100.0);
        break;
    }
    fputs("set output\n"
          "set border 3 lw 1 lc rgb '#555555'\n"
          "set tics nomirror out scale 0.5 textcolor rgb '#333333'\n"
          "set grid xtics ytics back lt 1 lw 1 lc rgb '#e2e2e2'\n"
          "set key below center horizontal Left reverse noopaque samplen 3.5 spacing 1.15 "
          "width 3 height 0.6 textcolor rgb '#222222'\n"
          "set format x '%g'\n"
          "set format y '%g'\n"
          "set xlabel 'Year' textcolor rgb '#333333'\n"
          "set ylabel textcolor rgb '#333333'\n",
          f);
}

void plot_script_title(FILE *f, const plot_opts *o, const char *deflt)
{
    plot_gp_set_string(f, "title", o->title ? o->title : deflt, "font ',14' textcolor rgb '#111111'");
}

/* x range and year tics from the plotted times. */
void plot_script_xrange(FILE *f, double t0, double t1)
{
    if (!(t1 > t0)) {
        t0 -= 0.5;
        t1 += 0.5;
    }
    fputs("set xrange [", f);
    plot_gp_number(f, t0);
    putc(':', f);
    plot_gp_number(f, t1);
    fputs("]\n", f);
    if (t1 - t0 >= 3 && t1 - t0 <= 30)
        fputs("set xtics 1\nset mxtics 4\n", f);
}

void plot_datablock_begin(FILE *f, const char *name, size_t k)
{
    fprintf(f, "$%s%zu << EOD\n", name, k);
}
