/*
 * plot_chart_tornado.c - the gnuplot script of the tornado chart of
 * `stratsim plot`: the swing of one output of a sensitivity table per
 * parameter, largest on top, from the base output (or as output ranges when
 * the base is unknown), with the values at the bar ends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

/* buf: the distinct cells of column col in row order, ", "-separated, as
 * they stand in the file or (text) unquoted. */
static void distinct_cells(const cli_csv *c, int col, int text, char *buf, size_t size)
{
    size_t i, j;
    buf[0] = '\0';
    for (i = 0; i < c->nrows; i++) {
        const char *s = cli_csv_cell(c, i, col);
        for (j = 0; j < i; j++)
            if (strcmp(cli_csv_cell(c, j, col), s) == 0)
                break;
        if (j == i)
            plot_cat(buf, size, ", ", text ? cli_csv_text(s) : s);
    }
}

/* "share:alibaba:public@2028" -> "Market share: alibaba, public at 2028"; metric gets "share". */
static void selector_label(char *buf, size_t size, const char *sel, char *metric, size_t msize)
{
    const char *colon = strchr(sel, ':'), *at = strchr(sel, '@'), *p;
    size_t mlen = colon && (!at || colon < at) ? (size_t)(colon - sel)
                  : at                         ? (size_t)(at - sel)
                                               : strlen(sel);
    size_t n;
    if (mlen >= msize)
        mlen = msize - 1;
    memcpy(metric, sel, mlen);
    metric[mlen] = '\0';
    snprintf(buf, size, "%s", plot_metric_label(metric));
    if (colon && (!at || colon < at)) {
        n = strlen(buf);
        snprintf(buf + n, size - n, ": ");
        for (p = colon + 1; *p && p != at && (n = strlen(buf)) < size - 3; p++) {
            if (*p == ':')
                snprintf(buf + n, size - n, ", ");
            else
                snprintf(buf + n, size - n, "%c", *p);
        }
    }
    if (at) {
        n = strlen(buf);
        if (strcmp(at + 1, "end") == 0)
            snprintf(buf + n, size - n, " at the end");
        else if (strcmp(at + 1, "start") == 0)
            snprintf(buf + n, size - n, " at the start");
        else
            snprintf(buf + n, size - n, " at %s", at + 1);
    }
}

typedef struct trow {
    const char *param;
    double lo_v, hi_v, out_lo, out_hi, swing;
    size_t row;
} trow;

static int trow_cmp(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    if (x->swing != y->swing)
        return x->swing > y->swing ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static void fmt_short(char *buf, size_t size, double x)
{
    snprintf(buf, size, "%.4g", x);
}

/* A tornado chart being written: the rows of its output, largest swing
 * first, and the base output if known. */
typedef struct tornado {
    const plot_opts *o;
    const cli_csv *c;
    const char *sel; /* the output, as it stands in the file */
    trow *rows;
    size_t n;
    int has_base;
    double base, sc; /* sc: the scale of the output's metric */
} tornado;

/* The output to draw: --select, else the only one of the table. */
static int tornado_output(tornado *t, int cout)
{
    const cli_csv *c = t->c;
    char buf[400];
    t->sel = t->o->select;
    if (!t->sel) {
        const char *first = cli_csv_cell(c, 0, cout);
        distinct_cells(c, cout, 0, buf, sizeof buf);
        if (strcmp(buf, first) != 0)
            return cli_usage_error("plot", "%s has several outputs: choose one with --select "
                                   "(outputs: %s)", t->o->file, buf);
        t->sel = first;
    }
    return EXIT_OK;
}

/* The rows of the output (t->rows has room for every row), and the base
 * from the file's base column when --base is not given. */
static int tornado_rows(tornado *t, int cout)
{
    static const char *const base_cols[] = { "output_at_base", "base_output", "base" };
    const cli_csv *c = t->c;
    int cpar = cli_csv_col(c, "parameter"), clo = cli_csv_col(c, "low_value"),
        chi = cli_csv_col(c, "high_value"), col = cli_csv_col(c, "output_at_low"),
        coh = cli_csv_col(c, "output_at_high"), cbase = -1;
    size_t i, k;

    for (k = 0; k < sizeof base_cols / sizeof base_cols[0] && cbase < 0; k++)
        cbase = cli_csv_col(c, base_cols[k]);
    for (i = 0; i < c->nrows; i++) {
        trow *r = &t->rows[t->n];
        if (strcmp(cli_csv_text(cli_csv_cell(c, i, cout)), cli_csv_text(t->sel)) != 0)
            continue;
        r->param = cli_csv_text(cli_csv_cell(c, i, cpar));
        r->row = i;
        r->lo_v = r->hi_v = NAN;
        if ((clo >= 0 && plot_cell_number(c, i, clo, &r->lo_v, 1) != 0) ||
            (chi >= 0 && plot_cell_number(c, i, chi, &r->hi_v, 1) != 0) ||
            plot_cell_number(c, i, col, &r->out_lo, 0) != 0 ||
            plot_cell_number(c, i, coh, &r->out_hi, 0) != 0)
            return EXIT_ERROR;
        if (!t->has_base && cbase >= 0 && plot_cell_number(c, i, cbase, &t->base, 1) == 0 &&
            isfinite(t->base))
            t->has_base = 1;
        r->swing = fabs(r->out_hi - r->out_lo);
        if (!isfinite(r->swing))
            return cli_error("%s:%zu: the outputs are not finite", t->o->file, c->line[i]);
        t->n++;
    }
    return EXIT_OK;
}

/* Title, axis label, one y tic per parameter (its name and range), the
 * layout and the base line. */
static void tornado_axes(FILE *f, const tornado *t, const char *xlabel, const char *metric)
{
    char title[500], buf[400], a[40], b[40];
    size_t i, n = t->n;

    snprintf(title, sizeof title, "Tornado of %s (%zu parameter%s)", cli_csv_text(t->sel), n,
             n == 1 ? "" : "s");
    plot_axis_label(buf, sizeof buf, xlabel, plot_metric_class(metric), t->o->unit);
    if (!t->has_base) /* said under the axis: the title has no room left for it */
        plot_cat(buf, sizeof buf, "; ", "base value unknown");
    plot_script_head(f, t->o, "tornado");
    plot_script_title(f, t->o, title);
    plot_gp_set_string(f, "xlabel", buf, NULL);
    fputs("unset ylabel\nset border 1 lw 1 lc rgb '#555555'\n"
          "set grid xtics noytics\nset ytics scale 0 nomirror (", f);
    for (i = 0; i < n; i++) {
        char lab[300];
        if (isfinite(t->rows[i].lo_v) && isfinite(t->rows[i].hi_v)) {
            fmt_short(a, sizeof a, t->rows[i].lo_v);
            fmt_short(b, sizeof b, t->rows[i].hi_v);
            snprintf(lab, sizeof lab, "%s  [%s, %s]", t->rows[i].param, a, b);
        } else {
            snprintf(lab, sizeof lab, "%s", t->rows[i].param);
        }
        if (i)
            fputs(", ", f);
        plot_gp_string(f, lab);
        fprintf(f, " %zu", n - i);
    }
    fprintf(f, ")\nset yrange [0.4:%zu.6]\n", n);
    fputs("set offsets graph 0.12, graph 0.12, 0, 0\nset style fill solid 0.9 noborder\n"
          "set key below center horizontal Left reverse noopaque nobox samplen 1.5 "
          "spacing 1.1 width 0\n", f);
    if (t->has_base) {
        fputs("set arrow 1 from ", f);
        plot_gp_number(f, t->base * t->sc);
        fputs(", graph 0 to ", f);
        plot_gp_number(f, t->base * t->sc);
        fputs(", graph 1 nohead lc rgb '#333333' lw 1.5 front\n", f);
    }
}

/* The bars $low and $high (x y xlow xhigh ylow yhigh): from the base to the
 * output, or without a base the range bar from the low to the high output. */
static void tornado_bars(FILE *f, const tornado *t)
{
    double sc = t->sc, base = t->base;
    size_t i, k, n = t->n;
    for (k = 0; k < 2; k++) {
        fprintf(f, "$%s << EOD\n", k ? "high" : "low");
        for (i = 0; i < n; i++) {
            const trow *r = &t->rows[i];
            double y = (double)(n - i), v = (k ? r->out_hi : r->out_lo) * sc;
            double from = t->has_base ? base * sc : v;
            double x0 = from < v ? from : v, x1 = from < v ? v : from;
            if (!t->has_base) {
                x0 = fmin(r->out_lo, r->out_hi) * sc;
                x1 = fmax(r->out_lo, r->out_hi) * sc;
            }
            plot_gp_number(f, v);
            fprintf(f, " %zu ", n - i);
            plot_gp_number(f, x0);
            putc(' ', f);
            plot_gp_number(f, x1);
            fprintf(f, " %g %g\n", y - 0.32, y + 0.32);
        }
        fputs("EOD\n", f);
    }
}

/* Value labels at the bar ends ($lab_l, $lab_r): the smaller value left of
 * its end, the larger right. */
static void tornado_labels(FILE *f, const tornado *t)
{
    double sc = t->sc, base = t->base;
    char a[40];
    size_t i, k, n = t->n;
    for (k = 0; k < 2; k++) {
        fprintf(f, "$%s << EOD\n", k ? "lab_r" : "lab_l");
        for (i = 0; i < n; i++) {
            double lo = t->rows[i].out_lo * sc, hi = t->rows[i].out_hi * sc;
            double v = k ? fmax(lo, hi) : fmin(lo, hi);
            double x = v;
            if (t->has_base)
                x = k ? fmax(v, base * sc) : fmin(v, base * sc);
            if (lo == hi && k)
                continue;
            fmt_short(a, sizeof a, v);
            plot_gp_number(f, x);
            fprintf(f, " %zu \"%s\"\n", n - i, a);
        }
        fputs("EOD\n", f);
    }
}

/* The plot command: bars from the base (or ranges with their end points),
 * then the value labels. */
static void tornado_plot(FILE *f, const tornado *t)
{
    if (t->has_base) {
        char basetxt[40], buf[400];
        fmt_short(basetxt, sizeof basetxt, t->base * t->sc);
        fputs("plot $low using 1:2:3:4:5:6 with boxxyerror lc rgb '#4E79A7' "
              "title 'parameter low', \\\n"
              "     $high using 1:2:3:4:5:6 with boxxyerror lc rgb '#F28E2B' "
              "title 'parameter high', \\\n"
              "     NaN with lines lw 1.5 lc rgb '#333333' title ", f);
        snprintf(buf, sizeof buf, "base: %s", basetxt);
        plot_gp_string(f, buf);
    } else {
        fputs("plot $low using 1:2:3:4:5:6 with boxxyerror lc rgb '#D5D5D5' "
              "title 'output range', \\\n"
              "     $low using 1:2 with points pt 7 ps 1.6 lc rgb '#4E79A7' "
              "title 'parameter low', \\\n"
              "     $high using 1:2 with points pt 7 ps 1.6 lc rgb '#F28E2B' "
              "title 'parameter high'", f);
    }
    fputs(", \\\n     $lab_l using 1:2:3 with labels right offset -0.8,0 font ',9' "
          "textcolor rgb '#333333' notitle, \\\n"
          "     $lab_r using 1:2:3 with labels left offset 0.8,0 font ',9' "
          "textcolor rgb '#333333' notitle\n", f);
}

/* Tornado chart of one output of a sensitivity table. */
int plot_chart_tornado(FILE *f, const plot_opts *o, const dataset *d)
{
    const cli_csv *c = d->csv;
    int cout = cli_csv_col(c, "output"), rc;
    char metric[64], xlabel[400], buf[400];
    tornado t;

    memset(&t, 0, sizeof t);
    t.o = o;
    t.c = c;
    t.has_base = o->has_base;
    t.base = o->base;
    if (c->nrows == 0)
        return cli_error("%s: the tornado table has no rows", o->file);
    if ((rc = tornado_output(&t, cout)) != EXIT_OK)
        return rc;
    if (!(t.rows = malloc(c->nrows * sizeof *t.rows)))
        return cli_error("out of memory");
    if ((rc = tornado_rows(&t, cout)) != EXIT_OK)
        goto done;
    if (t.n == 0) {
        distinct_cells(c, cout, 1, buf, sizeof buf);
        rc = cli_error("%s: no output '%s' (outputs: %s)", o->file, t.sel, buf);
        goto done;
    }
    qsort(t.rows, t.n, sizeof *t.rows, trow_cmp);

    selector_label(xlabel, sizeof xlabel, cli_csv_text(t.sel), metric, sizeof metric);
    t.sc = plot_metric_scale(metric);
    tornado_axes(f, &t, xlabel, metric);
    tornado_bars(f, &t);
    tornado_labels(f, &t);
    tornado_plot(f, &t);
    rc = EXIT_OK;
done:
    free(t.rows);
    return rc;
}
