/*
 * plot_chart_sweep.c - the gnuplot script of the sweep charts of `stratsim
 * plot`: from a `stratsim sweep` file (written with --outputs, or the long
 * layout, whose value at each point's last output time counts), the outputs
 * against one swept value as lines, or a heat map of one output over two.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_analysis.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

/* One output of a sweep: its value at every point. */
typedef struct sw_series {
    char name[400];
    char metric[64];
    double *x1, *x2, *y;   /* [n] */
    size_t n, cap;
} sw_series;

typedef struct sw_set {
    sw_series *s;
    size_t n;
} sw_set;

static void sw_set_free(sw_set *ss)
{
    size_t k;
    for (k = 0; k < ss->n; k++) {
        free(ss->s[k].x1);
        free(ss->s[k].x2);
        free(ss->s[k].y);
    }
    free(ss->s);
}

static sw_series *sw_find(sw_set *ss, const char *name, const char *metric)
{
    size_t k;
    sw_series *ns;
    for (k = 0; k < ss->n; k++)
        if (strcmp(ss->s[k].name, name) == 0)
            return &ss->s[k];
    if (!(ns = realloc(ss->s, (ss->n + 1) * sizeof *ns)))
        return NULL;
    ss->s = ns;
    memset(&ns[ss->n], 0, sizeof *ns);
    snprintf(ns[ss->n].name, sizeof ns[ss->n].name, "%s", name);
    snprintf(ns[ss->n].metric, sizeof ns[ss->n].metric, "%s", metric);
    return &ns[ss->n++];
}

/* Set the point (x1, x2) of s to y: a new point, or (replace) the same point
 * again at a later time. */
static int sw_put(sw_series *s, double x1, double x2, double y, int replace)
{
    if (replace && s->n > 0 && s->x1[s->n - 1] == x1 && s->x2[s->n - 1] == x2) {
        s->y[s->n - 1] = y;
        return 0;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        double *a = realloc(s->x1, nc * sizeof *a), *b, *c;
        if (!a)
            return -1;
        s->x1 = a;
        if (!(b = realloc(s->x2, nc * sizeof *b)))
            return -1;
        s->x2 = b;
        if (!(c = realloc(s->y, nc * sizeof *c)))
            return -1;
        s->y = c;
        s->cap = nc;
    }
    s->x1[s->n] = x1;
    s->x2[s->n] = x2;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

/* The distinct values of v[n], sorted, into *out (malloc'ed). */
static size_t sw_distinct(const double *v, size_t n, double **out)
{
    double *u = malloc((n ? n : 1) * sizeof *u);
    size_t i, k = 0;
    if (!u)
        return 0;
    memcpy(u, v, n * sizeof *v);
    qsort(u, n, sizeof *u, plot_dbl_cmp);
    for (i = 0; i < n; i++)
        if (k == 0 || u[i] != u[k - 1])
            u[k++] = u[i];
    *out = u;
    return k;
}

/* Cell edges around sorted distinct values: halfway between neighbours. */
static void sw_edges(const double *u, size_t n, size_t i, double *lo, double *hi)
{
    double gl = i > 0 ? (u[i] - u[i - 1]) / 2 : i + 1 < n ? (u[i + 1] - u[i]) / 2 : 0.5;
    double gh = i + 1 < n ? (u[i + 1] - u[i]) / 2 : gl;
    if (i == 0)
        gl = gh;
    if (gl == 0)
        gl = gh = fabs(u[i]) > 0 ? fabs(u[i]) * 0.05 : 0.5;
    *lo = u[i] - gl;
    *hi = u[i] + gh;
}

static int sw_cmp_x(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The long layout (PATH...,scenario,time,provider,segment,metric,value):
 * one series per metric, provider and segment that the filters leave, its
 * value at each point the one at the point's last output time. */
static int sw_read_long(sw_set *ss, const plot_opts *o, const cli_csv *c, size_t np, int cs)
{
    static const char *share[] = { "share" };
    int ct = cli_csv_col(c, "time"), cp = cli_csv_col(c, "provider"), cg = cli_csv_col(c, "segment");
    int cm = cli_csv_col(c, "metric"), cv = cli_csv_col(c, "value");
    strlist metric = { share, 1 };
    size_t row;

    if (o->select)
        return cli_usage_error("plot", "--select goes with a sweep written with --outputs; "
                               "here use --metric, --provider, --segment");
    if (o->metric.n)
        metric = o->metric;
    for (row = 0; row < c->nrows; row++) {
        const char *sc = cli_csv_text(cli_csv_cell(c, row, cs));
        const char *pv = cli_csv_text(cli_csv_cell(c, row, cp));
        const char *sg = cli_csv_text(cli_csv_cell(c, row, cg));
        const char *mt = cli_csv_text(cli_csv_cell(c, row, cm));
        double x1, x2 = 0, t, y;
        char name[400];
        sw_series *s;
        if (!plot_in_list(&metric, mt) || (o->provider.n && !plot_in_list(&o->provider, pv)) ||
            (o->segment.n && !plot_in_list(&o->segment, sg)) || (o->scenario.n && !plot_in_list(&o->scenario, sc)))
            continue;
        if (plot_cell_number(c, row, 0, &x1, 0) || (np == 2 && plot_cell_number(c, row, 1, &x2, 0)) ||
            plot_cell_number(c, row, ct, &t, 0) || plot_cell_number(c, row, cv, &y, 1))
            return EXIT_ERROR;
        snprintf(name, sizeof name, "%s%s%s%s%s", mt, *pv ? " " : "", pv, *sg ? " " : "", sg);
        if (!(s = sw_find(ss, name, mt)) || sw_put(s, x1, x2, y * plot_metric_scale(mt), 1) != 0)
            return cli_error("out of memory");
        (void)t; /* rows of a point are in time order: the last one stays */
    }
    return EXIT_OK;
}

/* Output column j of a sweep written with --outputs as a series. */
static int sw_read_column(sw_set *ss, const cli_csv *c, size_t np, size_t j)
{
    char mt[64];
    size_t row;
    sw_series *s;
    snprintf(mt, sizeof mt, "%.*s", (int)strcspn(c->cols[j], ":"), c->cols[j]);
    if (!(s = sw_find(ss, c->cols[j], mt)))
        return cli_error("out of memory");
    for (row = 0; row < c->nrows; row++) {
        double x1, x2 = 0, y;
        if (plot_cell_number(c, row, 0, &x1, 0) || (np == 2 && plot_cell_number(c, row, 1, &x2, 0)) ||
            plot_cell_number(c, row, (int)j, &y, 1))
            return EXIT_ERROR;
        if (sw_put(s, x1, x2, y * plot_metric_scale(mt), 0) != 0)
            return cli_error("out of memory");
    }
    return EXIT_OK;
}

/* A sweep written with --outputs (PATH...,SELECTOR...): the output columns
 * that --select names, else all of them, as series. */
static int sw_read_outputs(sw_set *ss, const plot_opts *o, const cli_csv *c, size_t np)
{
    char **selbuf = NULL;
    size_t j, q, nsel = 0;
    int rc = EXIT_OK;

    if (o->metric.n || o->provider.n || o->segment.n || o->scenario.n)
        return cli_usage_error("plot", "a sweep written with --outputs takes --select, not "
                               "--metric, --provider, --segment or --scenario");
    if (o->select && (cli_split_list(o->select, &selbuf, &nsel) != 0 || nsel == 0)) {
        rc = cli_usage_error("plot", "--select needs output names");
        goto done;
    }
    for (j = 0; j < nsel; j++)
        if (cli_csv_col(c, selbuf[j]) < (int)np) {
            rc = cli_usage_error("plot", "%s has no output '%s'", o->file, selbuf[j]);
            goto done;
        }
    for (j = np; j < c->ncol; j++) {
        int keep = nsel == 0;
        for (q = 0; q < nsel; q++)
            keep |= strcmp(selbuf[q], c->cols[j]) == 0;
        if (keep && (rc = sw_read_column(ss, c, np, j)) != EXIT_OK)
            goto done;
    }
done:
    ss_strings_free(selbuf, nsel);
    return rc;
}

/* The datablock $w(k+1) of series s: its points sorted by the swept value. */
static int sw_line_data(FILE *f, const sw_series *s, size_t k)
{
    double *xy = malloc((s->n ? s->n : 1) * 2 * sizeof *xy);
    size_t j;
    if (!xy)
        return cli_error("out of memory");
    for (j = 0; j < s->n; j++) {
        xy[2 * j] = s->x1[j];
        xy[2 * j + 1] = s->y[j];
    }
    qsort(xy, s->n, 2 * sizeof *xy, sw_cmp_x);
    plot_datablock_begin(f, "w", k + 1);
    for (j = 0; j < s->n; j++) {
        plot_gp_number(f, xy[2 * j]);
        putc(' ', f);
        plot_gp_number(f, xy[2 * j + 1]);
        putc('\n', f);
    }
    fputs("EOD\n", f);
    free(xy);
    return EXIT_OK;
}

/* Lines: each output against the swept value. */
static int sw_lines(FILE *f, const plot_opts *o, const cli_csv *c, const sw_set *ss, int cls)
{
    char title[600], label[300];
    size_t k;
    int rc;

    if (ss->n == 1)
        plot_axis_label(label, sizeof label, ss->s[0].name, cls, o->unit);
    else
        plot_axis_label(label, sizeof label, ss->n && cls != C_OTHER ? plot_metric_label(ss->s[0].metric) : "value",
                        cls, o->unit);
    plot_gp_set_string(f, "ylabel", label, NULL);
    snprintf(title, sizeof title, "%s by %s", ss->n == 1 ? ss->s[0].name : "Outputs", c->cols[0]);
    plot_script_title(f, o, title);
    for (k = 0; k < ss->n; k++)
        if ((rc = sw_line_data(f, &ss->s[k], k)) != EXIT_OK)
            return rc;
    for (k = 0; k < ss->n; k++) {
        fprintf(f, "%s$w%zu using 1:2 with linespoints lw 2.5 pt 7 ps 0.8 lc rgb '%s' title ",
                k ? ", \\\n     " : "plot ", k + 1, plot_palette[k % NPALETTE]);
        plot_gp_string(f, ss->s[k].name);
    }
    fputs("\n", f);
    return EXIT_OK;
}

/* The datablock $h1 of the heat map: each point with its cell (the edges
 * halfway to the neighbouring values) and value; range gets the x and y
 * range the cells cover (xmin, xmax, ymin, ymax). */
static void sw_heat_data(FILE *f, const sw_series *s, const double *u1, size_t n1,
                         const double *u2, size_t n2, double range[4])
{
    double lo1, hi1, lo2, hi2;
    size_t j, i1, i2;
    plot_datablock_begin(f, "h", 1);
    for (j = 0; j < s->n; j++) {
        for (i1 = 0; i1 < n1 && u1[i1] != s->x1[j]; i1++)
            ;
        for (i2 = 0; i2 < n2 && u2[i2] != s->x2[j]; i2++)
            ;
        sw_edges(u1, n1, i1, &lo1, &hi1);
        sw_edges(u2, n2, i2, &lo2, &hi2);
        if (j == 0 || lo1 < range[0]) range[0] = lo1;
        if (j == 0 || hi1 > range[1]) range[1] = hi1;
        if (j == 0 || lo2 < range[2]) range[2] = lo2;
        if (j == 0 || hi2 > range[3]) range[3] = hi2;
        plot_gp_number(f, s->x1[j]);
        putc(' ', f);
        plot_gp_number(f, s->x2[j]);
        fputs(" ", f);
        plot_gp_number(f, lo1);
        putc(' ', f);
        plot_gp_number(f, hi1);
        putc(' ', f);
        plot_gp_number(f, lo2);
        putc(' ', f);
        plot_gp_number(f, hi2);
        putc(' ', f);
        plot_gp_number(f, s->y[j]);
        putc('\n', f);
    }
    fputs("EOD\n", f);
}

/* Heat map of one output (the first series) over the two swept values. */
static int sw_heat_map(FILE *f, const plot_opts *o, const cli_csv *c, const sw_set *ss, int long_form)
{
    const sw_series *s = &ss->s[0];
    double *u1 = NULL, *u2 = NULL, range[4] = { 0, 0, 0, 0 };
    char title[600], label[300];
    size_t n1, n2, k;

    if (ss->n > 1 && long_form) {
        char names[600] = "";
        for (k = 0; k < ss->n && strlen(names) < 400; k++)
            plot_cat(names, sizeof names, ", ", ss->s[k].name);
        return cli_usage_error("plot", "a heat map shows one output; %s has %zu (%s): choose with "
                               "--metric, --provider and --segment", o->file, ss->n, names);
    }
    n1 = sw_distinct(s->x1, s->n, &u1);
    n2 = sw_distinct(s->x2, s->n, &u2);
    if (n1 == 0 || n2 == 0) {
        free(u1);
        free(u2);
        return cli_error("out of memory");
    }
    plot_gp_set_string(f, "ylabel", c->cols[1], NULL);
    plot_axis_label(label, sizeof label, s->name, plot_metric_class(s->metric), o->unit);
    plot_gp_set_string(f, "cblabel", label, "textcolor rgb '#333333'");
    snprintf(title, sizeof title, "%s by %s and %s", s->name, c->cols[0], c->cols[1]);
    plot_script_title(f, o, title);
    fputs("set palette defined (0 '#440154', 1 '#3B528B', 2 '#21908C', 3 '#5DC863', 4 '#FDE725')\n"
          "set grid noxtics noytics\nunset key\nset border 15\nset tics in\n", f);
    sw_heat_data(f, s, u1, n1, u2, n2, range);
    fputs("set xrange [", f);
    plot_gp_number(f, range[0]);
    putc(':', f);
    plot_gp_number(f, range[1]);
    fputs("]\nset yrange [", f);
    plot_gp_number(f, range[2]);
    putc(':', f);
    plot_gp_number(f, range[3]);
    fputs("]\nplot $h1 using 1:2:3:4:5:6:7 with boxxyerror fs solid 1.0 noborder lc palette z notitle\n", f);
    free(u1);
    free(u2);
    return EXIT_OK;
}

/* A sweep: an output against one swept path (lines) or a heat map over two. */
int plot_chart_sweep(FILE *f, const plot_opts *o, const dataset *d)
{
    const cli_csv *c = d->csv;
    sw_set ss = { 0 };
    size_t np, k;
    int cs = cli_csv_col(c, "scenario"), rc, cls = -1;
    int long_form = cs > 0 && plot_has(c, "time") && plot_has(c, "metric") && plot_has(c, "value");

    np = long_form ? (size_t)cs : plot_sweep_sel_paths(c);
    if (np < 1 || np > 2)
        return cli_usage_error("plot", "%s sweeps %zu paths: a sweep chart shows one (lines) or "
                               "two (heat map)", o->file, np);
    rc = long_form ? sw_read_long(&ss, o, c, np, cs) : sw_read_outputs(&ss, o, c, np);
    if (rc != EXIT_OK)
        goto done;
    if (ss.n == 0) {
        rc = cli_error("%s: no values match the filters (--metric default: share)", o->file);
        goto done;
    }
    for (k = 0; k < ss.n; k++) {
        int ck = plot_metric_class(ss.s[k].metric);
        cls = k == 0 ? ck : cls == ck ? cls : C_OTHER;
    }
    plot_script_head(f, o, np == 1 ? "sweep line" : "sweep heat map");
    plot_gp_set_string(f, "xlabel", c->cols[0], "textcolor rgb '#333333'");
    if (np == 1)
        rc = sw_lines(f, o, c, &ss, cls);
    else
        rc = sw_heat_map(f, o, c, &ss, long_form);
done:
    sw_set_free(&ss);
    return rc;
}
