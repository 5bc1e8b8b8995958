/*
 * cmd_plot.c - `stratsim plot`: read a CSV file that stratsim wrote (long,
 * wide or Monte Carlo results, a tornado table) or a calibration data file,
 * pick the rows the filters select, and draw a line chart, a Monte Carlo fan
 * chart, a stacked segment chart or a tornado chart with gnuplot.
 *
 * The chart kind follows from the CSV header unless --kind says otherwise.
 * This file turns the rows into series and writes a self-contained gnuplot
 * script (data as datablocks, labels as escaped strings; see plot.h); the
 * script is run by plot_gnuplot.c, which writes the figure atomically.
 * Shares, margins and reliability are shown in percent; money values carry
 * the unit given with --unit (stratsim does not know the currency).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "cli/cli_analysis.h" /* cli_split_list */
#include "core/csvread.h"
#include "cli/plot/plot.h"

static const char plot_usage[] =
    "Usage: stratsim plot FILE.csv -o FIGURE.png|svg|pdf [options]\n"
    "\n"
    "Draw a chart of a CSV file with gnuplot (which must be installed). The kind\n"
    "of chart follows from the file's header:\n"
    "  long or wide results (stratsim run/compare -o)  line: a metric over time,\n"
    "                        one line per scenario, provider and segment\n"
    "  Monte Carlo summary (stratsim mc -o)           fan: median (or mean) line\n"
    "                        and the band between the lowest and highest quantile\n"
    "  tornado table (stratsim sens -o)               tornado: output swing per\n"
    "                        parameter, largest first\n"
    "  sweep (stratsim sweep -o)                      sweep: an output against the\n"
    "                        swept value (one path: lines) or a heat map over\n"
    "                        the two swept values (two paths); the long layout\n"
    "                        gives each point's value at its last output time\n"
    "  calibration data (time,provider,segment,metric,value) observed points\n"
    "\n"
    "Options:\n";

static const cli_opt_spec plot_specs[] = {
    { CLI_OPT_VALUE, "--output", 'o', "FIGURE",
      "the figure; the format follows the extension\n"
      "(.png, .svg, .pdf) unless --format is given" },
    { CLI_OPT_VALUE, "--kind", 0, "KIND",
      "line, fan, stacked (segment revenue of one\n"
      "provider, stacked), tornado or sweep" },
    { CLI_OPT_VALUE, "--metric", 0, "LIST", "metrics to plot (default share; stacked: revenue)" },
    { CLI_OPT_VALUE, "--provider", 0, "LIST", "providers to plot (default all)" },
    { CLI_OPT_VALUE, "--segment", 0, "LIST", "segments to plot (default all)" },
    { CLI_OPT_VALUE, "--scenario", 0, "LIST",
      "scenarios to plot (default all)\n"
      "LIST is comma-separated; the options repeat" },
    { CLI_OPT_VALUE, "--overlay", 0, "DATA.csv",
      "add observed points from a calibration data file\n"
      "(time,provider,segment,metric,value[,weight])" },
    { CLI_OPT_VALUE, "--select", 0, "OUTPUT",
      "tornado: the output to show when the table has several;\n"
      "sweep --outputs file: the output(s) to draw (heat\n"
      "map default: the first)" },
    { CLI_OPT_VALUE, "--base", 0, "VALUE",
      "tornado: the output at the base values (bars start\n"
      "there; default: a base column of the file, if any)" },
    { CLI_OPT_VALUE, "--title", 0, "TEXT", "the title (default derived from the data and filters)" },
    { CLI_OPT_VALUE, "--unit", 0, "TEXT",
      "unit of money values, e.g. 'CNY bn / year' (default\n"
      "none); shares, margins and reliability are in %" },
    { CLI_OPT_VALUE, "--size", 0, "WxH", "size in pixels (default 900x560; PDF: 100 px = 1 in)" },
    { CLI_OPT_VALUE, "--format", 0, "FMT", "png, svg or pdf, whatever the extension" },
    { CLI_OPT_VALUE, "--script", 0, "FILE.gp",
      "also save the gnuplot script (self-contained:\n"
      "gnuplot -d FILE.gp > FIGURE)" },
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static const char plot_tail[] =
    "\n"
    "Environment: STRATSIM_GNUPLOT names the gnuplot program (default: gnuplot\n"
    "on PATH). Exit status: 0 success, 1 data or gnuplot error, 2 usage error.\n";

enum { K_AUTO, K_LINE, K_FAN, K_STACKED, K_TORNADO, K_SWEEP };
enum { F_NONE, F_PNG, F_SVG, F_PDF };
enum { L_LONG, L_DATA, L_MC, L_WIDE, L_TORNADO, L_SWEEP };
enum { C_PLAIN, C_PCT, C_MONEY, C_OTHER };

static const char *const kind_names[] = { "auto", "line", "fan", "stacked", "tornado", "sweep" };
static const char *const layout_names[] = { "long results", "calibration data",
                                            "Monte Carlo summary", "wide results",
                                            "tornado table", "sweep" };

/* Tableau 10: distinct, colour-blind tolerant, readable on white. */
static const char *const palette[] = { "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
                                       "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC" };
#define NPALETTE (sizeof palette / sizeof palette[0])
#define MANY_SERIES 8 /* more: a legend beside the plot, a note suggesting filters */

/* ------------------------------------------------------------ options */

typedef struct strlist {
    const char **v;
    size_t n;
} strlist;

typedef struct plot_opts {
    const char *file, *out, *overlay, *title, *unit, *select, *script;
    strlist metric, provider, segment, scenario;
    int kind, format, width, height, has_base;
    double base;
    char **bufs; /* copies of comma-separated option values */
    size_t nbufs;
} plot_opts;

static void opts_free(plot_opts *o)
{
    size_t i;
    for (i = 0; i < o->nbufs; i++)
        free(o->bufs[i]);
    free(o->bufs);
    free(o->metric.v);
    free(o->provider.v);
    free(o->segment.v);
    free(o->scenario.v);
}

/* Split a comma-separated option value into l. 0, or an exit status. */
static int add_list(plot_opts *o, strlist *l, const char *opt, const char *val)
{
    char *copy, *p, **nb;
    size_t added = 0;
    if (!(copy = strdup(val)) || !(nb = realloc(o->bufs, (o->nbufs + 1) * sizeof *nb))) {
        free(copy);
        return cli_error("out of memory");
    }
    o->bufs = nb;
    o->bufs[o->nbufs++] = copy;
    for (p = copy; p;) {
        char *c = strchr(p, ','), *s = p, *e;
        const char **nv;
        if (c)
            *c = '\0';
        p = c ? c + 1 : NULL;
        while (*s == ' ')
            s++;
        e = s + strlen(s);
        while (e > s && e[-1] == ' ')
            *--e = '\0';
        if (!*s)
            continue;
        nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (!nv)
            return cli_error("out of memory");
        l->v = nv;
        l->v[l->n++] = s;
        added++;
    }
    if (!added)
        return cli_usage_error("plot", "%s needs a comma-separated list of names", opt);
    return 0;
}

static int in_list(const strlist *l, const char *s)
{
    size_t i;
    if (l->n == 0)
        return 1;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

static int parse_format(const char *s)
{
    if (strcasecmp(s, "png") == 0)
        return F_PNG;
    if (strcasecmp(s, "svg") == 0)
        return F_SVG;
    if (strcasecmp(s, "pdf") == 0)
        return F_PDF;
    return F_NONE;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *e;
    long a, b;
    errno = 0;
    a = strtol(s, &e, 10);
    if (e == s || (*e != 'x' && *e != 'X' && *e != ','))
        return -1;
    s = e + 1;
    b = strtol(s, &e, 10);
    if (e == s || *e || errno || a < 100 || b < 100 || a > 10000 || b > 10000)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int parse_args(plot_opts *o, int argc, char **argv)
{
    cli_opt_parser p;
    const cli_opt_spec *opt;
    const char *v;
    int st;
    o->width = 900;
    o->height = 560;
    cli_opt_parser_init(&p, plot_specs, argc, argv);
    while ((st = cli_opt_next(&p, &opt, &v)) != CLI_OPT_DONE) {
        int r = 0;
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown("plot", v, plot_specs);
        if (st == CLI_OPT_ARG) {
            if (o->file)
                return cli_usage_error("plot", "only one CSV file (got '%s' and '%s')", o->file, v);
            o->file = v;
            continue;
        }
        if (cli_opt_is(opt, "--help")) {
            fputs(plot_usage, stdout);
            cli_opt_help(stdout, plot_specs, 24);
            fputs(plot_tail, stdout);
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
        }
        if (st == CLI_OPT_MISSING)
            return cli_usage_error("plot", "%s needs a value",
                                   cli_opt_is(opt, "--output") ? "-o" : opt->name);
#define OPT(name) cli_opt_is(opt, name)
        if (OPT("--output")) {
            if (!*v)
                return cli_usage_error("plot", "-o needs a file name");
            o->out = v;
        } else if (OPT("--kind")) {
            size_t k;
            o->kind = -1;
            for (k = 1; k < sizeof kind_names / sizeof kind_names[0]; k++)
                if (strcmp(v, kind_names[k]) == 0)
                    o->kind = (int)k;
            if (o->kind < 0)
                return cli_usage_error("plot", "--kind must be line, fan, stacked, tornado or sweep "
                                       "(not '%s')", v);
        } else if (OPT("--metric")) {
            r = add_list(o, &o->metric, "--metric", v);
        } else if (OPT("--provider")) {
            r = add_list(o, &o->provider, "--provider", v);
        } else if (OPT("--segment")) {
            r = add_list(o, &o->segment, "--segment", v);
        } else if (OPT("--scenario")) {
            r = add_list(o, &o->scenario, "--scenario", v);
        } else if (OPT("--overlay")) {
            if (o->overlay)
                return cli_usage_error("plot", "only one --overlay file");
            o->overlay = v;
        } else if (OPT("--select")) {
            o->select = v;
        } else if (OPT("--base")) {
            char *e;
            o->base = strtod(v, &e);
            if (e == v || *e || !isfinite(o->base))
                return cli_usage_error("plot", "--base needs a finite number (not '%s')", v);
            o->has_base = 1;
        } else if (OPT("--title")) {
            o->title = v;
        } else if (OPT("--unit")) {
            o->unit = v;
        } else if (OPT("--size")) {
            if (parse_size(v, &o->width, &o->height) != 0)
                return cli_usage_error("plot", "--size needs WIDTHxHEIGHT in pixels, 100 to 10000 (not '%s')", v);
        } else if (OPT("--format")) {
            if ((o->format = parse_format(v)) == F_NONE)
                return cli_usage_error("plot", "--format must be png, svg or pdf (not '%s')", v);
        } else if (OPT("--script")) {
            o->script = v;
        }
#undef OPT
        if (r != 0)
            return r;
    }
    if (!o->file)
        return cli_usage_error("plot", "missing FILE.csv");
    if (!o->out)
        return cli_usage_error("plot", "missing -o FIGURE.png|svg|pdf");
    if (strcmp(o->out, "-") == 0)
        return cli_usage_error("plot", "-o needs a file name (a figure is not written to standard output)");
    if (o->format == F_NONE) {
        if (ends_with(o->out, ".png"))
            o->format = F_PNG;
        else if (ends_with(o->out, ".svg"))
            o->format = F_SVG;
        else if (ends_with(o->out, ".pdf"))
            o->format = F_PDF;
        else
            return cli_usage_error("plot", "cannot tell the format of '%s': use .png, .svg or .pdf, or --format", o->out);
    }
    if (o->overlay && (o->kind == K_STACKED || o->kind == K_TORNADO))
        return cli_usage_error("plot", "--overlay goes with line and fan charts");
    if (((o->select && o->kind != K_SWEEP) || o->has_base) && o->kind != K_AUTO && o->kind != K_TORNADO)
        return cli_usage_error("plot", "--select and --base go with tornado charts (--select also "
                               "with sweeps)");
    { /* no output may replace an input or another output */
        cli_iolist io = { 0 };
        cli_io_add(&io, o->file, "the CSV file", 0, 0);
        cli_io_add(&io, o->overlay, "the --overlay file", 0, 0);
        cli_io_add(&io, o->out, "-o", 1, 0);
        cli_io_add(&io, o->script, "--script", 1, 0);
        if (cli_io_check("plot", &io) != EXIT_OK)
            return EXIT_USAGE;
    }
    return -1;
}

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

static int metric_class(const char *m)
{
    const struct metric_info *mi = metric_find(m);
    return mi ? mi->cls : C_OTHER;
}

static const char *metric_label(const char *m)
{
    const struct metric_info *mi = metric_find(m);
    return mi ? mi->label : m;
}

static double metric_scale(const char *m)
{
    return metric_class(m) == C_PCT ? 100.0 : 1.0;
}

/* The axis label of metric m (label + unit) into buf. */
static void axis_label(char *buf, size_t size, const char *label, int cls, const char *unit)
{
    if (cls == C_PCT)
        snprintf(buf, size, "%s (%%)", label);
    else if (unit && (cls == C_MONEY || cls == C_OTHER))
        snprintf(buf, size, "%s (%s)", label, unit);
    else
        snprintf(buf, size, "%s", label);
}

/* ------------------------------------------------------------ data */

typedef struct rec {
    const char *scen, *prov, *seg, *metric;
    double t;
} rec;

typedef struct dataset {
    cli_csv *csv;
    int layout;
    rec *r;
    size_t n;
    double *v;          /* nv values per record */
    size_t nv;
    int imid;           /* value index of the central line (p50, mean or value) */
    int imean, isd;     /* value index of mean and sd, or -1 */
    size_t np;          /* quantile columns, by increasing level */
    double *plev;
    int *ip;
    char **pname;       /* their column names (borrowed) */
    char **owned;       /* wide layout: split column names */
    size_t nowned;
} dataset;

static void dataset_free(dataset *d)
{
    size_t i;
    if (!d)
        return;
    for (i = 0; i < d->nowned; i++)
        free(d->owned[i]);
    free(d->owned);
    free(d->r);
    free(d->v);
    free(d->plev);
    free(d->ip);
    free(d->pname);
    cli_csv_free(d->csv);
    free(d);
}

static int has(const cli_csv *c, const char *name) { return cli_csv_col(c, name) >= 0; }

/* "p05" -> 5, "p2.5" -> 2.5; -1 if not a quantile column name. */
static double plevel(const char *s)
{
    char *e;
    double x;
    if (s[0] != 'p' || !(s[1] >= '0' && s[1] <= '9'))
        return -1;
    x = strtod(s + 1, &e);
    if (*e || !(x >= 0 && x <= 100))
        return -1;
    return x;
}

/* Columns of a sweep written with --outputs: leading parameter paths (no
 * ':'), then selectors (with ':'); returns the number of paths, or 0. */
static size_t sweep_sel_paths(const cli_csv *c)
{
    size_t j, np = 0;
    while (np < c->ncol && !strchr(c->cols[np], ':') && strchr(c->cols[np], '.'))
        np++;
    if (np == 0 && c->ncol > 1 && strcmp(c->cols[0], "discount_rate") == 0)
        np = 1;
    if (np == 0 || np == c->ncol)
        return 0;
    for (j = np; j < c->ncol; j++)
        if (!strchr(c->cols[j], ':'))
            return 0;
    return np;
}

static int detect_layout(const cli_csv *c)
{
    if (has(c, "time") && has(c, "metric") && has(c, "value") && has(c, "scenario") &&
        cli_csv_col(c, "scenario") > 0)
        return L_SWEEP; /* PATH...,scenario,time,... */
    if (sweep_sel_paths(c) > 0)
        return L_SWEEP;
    if (has(c, "parameter") && has(c, "output") && has(c, "output_at_low") && has(c, "output_at_high"))
        return L_TORNADO;
    if (has(c, "time") && has(c, "metric") && has(c, "mean"))
        return L_MC;
    if (has(c, "time") && has(c, "metric") && has(c, "value"))
        return has(c, "scenario") ? L_LONG : L_DATA;
    if (c->ncol >= 3 && strcmp(c->cols[0], "scenario") == 0 && strcmp(c->cols[1], "time") == 0)
        return L_WIDE;
    return -1;
}

static int push_rec(dataset *d, size_t *cap, const rec *r, const double *vals)
{
    if (d->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        rec *nr = realloc(d->r, nc * sizeof *nr);
        double *nv;
        if (!nr)
            return -1;
        d->r = nr;
        nv = realloc(d->v, nc * d->nv * sizeof *nv);
        if (!nv)
            return -1;
        d->v = nv;
        *cap = nc;
    }
    d->r[d->n] = *r;
    memcpy(d->v + d->n * d->nv, vals, d->nv * sizeof *vals);
    d->n++;
    return 0;
}

static int cell_number(const cli_csv *c, size_t row, int col, double *x, int allow_empty)
{
    const char *s = cli_csv_cell(c, row, col);
    if (allow_empty && *s == '\0') {
        *x = NAN;
        return 0;
    }
    if (cli_csv_number(s, x) != 0)
        return cli_error("%s:%zu: %s: '%s' is not a number", c->name, c->line[row], c->cols[col], s);
    return 0;
}

/* Split a wide-layout column name (metric.provider.segment, metric.provider,
 * metric.segment for size and hhi, or a derived metric) into r's fields. */
static int wide_column(dataset *d, const char *name, rec *r)
{
    char *copy = strdup(name), *a, *b, **no;
    if (!copy || !(no = realloc(d->owned, (d->nowned + 1) * sizeof *no))) {
        free(copy);
        return -1;
    }
    d->owned = no;
    d->owned[d->nowned++] = copy;
    r->metric = copy;
    r->prov = r->seg = "";
    if ((a = strchr(copy, '.')) != NULL) {
        *a++ = '\0';
        if ((b = strchr(a, '.')) != NULL) {
            *b++ = '\0';
            r->prov = a;
            r->seg = b;
        } else if (strcmp(copy, "size") == 0 || strcmp(copy, "hhi") == 0) {
            r->seg = a;
        } else {
            r->prov = a;
        }
    }
    return 0;
}

/* The quantile columns of a Monte Carlo summary, sorted by level. */
static int mc_columns(dataset *d)
{
    const cli_csv *c = d->csv;
    size_t np = 0, j, k;
    d->plev = malloc(c->ncol * sizeof *d->plev);
    d->ip = malloc(c->ncol * sizeof *d->ip);
    d->pname = malloc(c->ncol * sizeof *d->pname);
    if (!d->plev || !d->ip || !d->pname)
        return cli_error("out of memory");
    for (j = 0; j < c->ncol; j++) {
        double lv = plevel(c->cols[j]);
        if (lv < 0)
            continue;
        for (k = np; k > 0 && d->plev[k - 1] > lv; k--) {
            d->plev[k] = d->plev[k - 1];
            d->ip[k] = d->ip[k - 1];
            d->pname[k] = d->pname[k - 1];
        }
        d->plev[k] = lv;
        d->ip[k] = (int)j;
        d->pname[k] = c->cols[j];
        np++;
    }
    d->np = np;
    d->nv = 2 + np; /* mean, sd, quantiles */
    d->imean = 0;
    d->isd = has(c, "sd") ? 1 : -1;
    d->imid = 0;
    for (k = 0; k < np; k++)
        if (d->plev[k] == 50)
            d->imid = (int)(2 + k);
    return EXIT_OK;
}

/* Read FILE into records; *out gets the dataset. Returns an exit status. */
static int load(dataset **out, const char *path)
{
    char msg[512];
    dataset *d = calloc(1, sizeof *d);
    cli_csv *c;
    size_t cap = 0, row, j;
    double *vals = NULL;
    rec *wcols = NULL;
    int ct, cs, cp, cg, cm, cv, cmean, csd;

    *out = NULL;
    if (!d)
        return cli_error("out of memory");
    d->imean = d->isd = -1;
    if (cli_csv_read(&d->csv, path, msg, sizeof msg) != 0) {
        free(d);
        return cli_error("%s", msg);
    }
    c = d->csv;
    d->layout = detect_layout(c);
    if (d->layout < 0) {
        cli_error("%s: not a CSV layout stratsim can plot (long or wide results, Monte Carlo "
                  "summary, tornado table, calibration data); the header starts with '%s'",
                  path, c->ncol ? c->cols[0] : "");
        goto fail;
    }
    if (d->layout == L_TORNADO || d->layout == L_SWEEP) {
        *out = d;
        return EXIT_OK;
    }
    ct = cli_csv_col(c, "time");
    cs = cli_csv_col(c, "scenario");
    cp = cli_csv_col(c, "provider");
    cg = cli_csv_col(c, "segment");
    cm = cli_csv_col(c, "metric");
    cv = cli_csv_col(c, "value");
    cmean = cli_csv_col(c, "mean");
    csd = cli_csv_col(c, "sd");
    d->nv = 1;
    if (d->layout == L_MC && mc_columns(d) != EXIT_OK)
        goto fail;
    if (d->layout == L_WIDE) {
        if (!(wcols = malloc((c->ncol - 2) * sizeof *wcols)))
            goto fail_mem;
        for (j = 2; j < c->ncol; j++)
            if (wide_column(d, c->cols[j], &wcols[j - 2]) != 0)
                goto fail_mem;
    }
    if (!(vals = malloc(d->nv * sizeof *vals)))
        goto fail_mem;

    for (row = 0; row < c->nrows; row++) {
        rec r;
        if (cell_number(c, row, ct, &r.t, 0) != 0)
            goto fail;
        r.scen = cli_csv_text(cli_csv_cell(c, row, cs));
        if (d->layout == L_WIDE) {
            for (j = 2; j < c->ncol; j++) {
                rec w = wcols[j - 2];
                w.scen = r.scen;
                w.t = r.t;
                if (cell_number(c, row, (int)j, &vals[0], 1) != 0)
                    goto fail;
                if (push_rec(d, &cap, &w, vals) != 0)
                    goto fail_mem;
            }
            continue;
        }
        r.prov = cli_csv_text(cli_csv_cell(c, row, cp));
        r.seg = cli_csv_text(cli_csv_cell(c, row, cg));
        r.metric = cli_csv_text(cli_csv_cell(c, row, cm));
        if (!*r.metric) {
            cli_error("%s:%zu: metric: empty", path, c->line[row]);
            goto fail;
        }
        if (d->layout == L_MC) {
            if (cell_number(c, row, cmean, &vals[0], 1) != 0)
                goto fail;
            vals[1] = NAN;
            if (csd >= 0 && cell_number(c, row, csd, &vals[1], 1) != 0)
                goto fail;
            for (j = 0; j < d->np; j++)
                if (cell_number(c, row, d->ip[j], &vals[2 + j], 1) != 0)
                    goto fail;
        } else if (cell_number(c, row, cv, &vals[0], 1) != 0) {
            goto fail;
        }
        if (push_rec(d, &cap, &r, vals) != 0)
            goto fail_mem;
    }
    free(vals);
    free(wcols);
    *out = d;
    return EXIT_OK;
fail_mem:
    cli_error("out of memory");
fail:
    free(vals);
    free(wcols);
    dataset_free(d);
    return EXIT_ERROR;
}

/* The record fields by number, for generic grouping and messages. */
enum { FLD_SCEN, FLD_PROV, FLD_SEG, FLD_METRIC };

static const char *rec_field(const rec *r, int f)
{
    switch (f) {
    case FLD_SCEN: return r->scen;
    case FLD_PROV: return r->prov;
    case FLD_SEG: return r->seg;
    default: return r->metric;
    }
}

/* Distinct non-empty values of field f (first-seen order), for messages. */
static void list_values(char *buf, size_t size, const dataset *d, int f)
{
    const char *seen[13];
    size_t i, nseen = 0, used = 0;
    buf[0] = '\0';
    for (i = 0; i < d->n; i++) {
        const char *s = rec_field(&d->r[i], f);
        size_t j;
        if (!*s)
            continue;
        for (j = 0; j < nseen; j++)
            if (strcmp(seen[j], s) == 0)
                break;
        if (j < nseen)
            continue;
        if (nseen == 12) {
            snprintf(buf + used, size - used, ", ...");
            return;
        }
        seen[nseen++] = s;
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "", s);
        if (used >= size)
            return;
    }
}

static const char *const fld_name[] = { "scenario", "provider", "segment", "metric" };

/* Every name of a filter must occur in the data (else: exit 1, listing them). */
static int check_filter(const dataset *d, const char *file, const strlist *l, int f)
{
    size_t i, k;
    for (k = 0; k < l->n; k++) {
        char buf[400];
        for (i = 0; i < d->n; i++)
            if (strcmp(rec_field(&d->r[i], f), l->v[k]) == 0)
                break;
        if (i < d->n)
            continue;
        list_values(buf, sizeof buf, d, f);
        return cli_error("%s: no %s '%s' (%ss: %s)", file, fld_name[f], l->v[k], fld_name[f],
                         *buf ? buf : "none");
    }
    return EXIT_OK;
}

static int has_value(const dataset *d, int f, const char *v)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        if (strcmp(rec_field(&d->r[i], f), v) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ series */

typedef struct pt {
    double t;
    size_t i; /* record index */
} pt;

typedef struct series {
    const char *f[4]; /* scenario, provider, segment, metric */
    pt *p;
    size_t n, cap;
    int color, dash, marker; /* marker 0: none */
} series;

typedef struct seriesset {
    series *s;
    size_t n, cap;
    size_t last;
} seriesset;

static void seriesset_free(seriesset *ss)
{
    size_t i;
    for (i = 0; i < ss->n; i++)
        free(ss->s[i].p);
    free(ss->s);
    memset(ss, 0, sizeof *ss);
}

static int same_key(const series *s, const rec *r)
{
    int f;
    for (f = 0; f < 4; f++)
        if (strcmp(s->f[f], rec_field(r, f)) != 0)
            return 0;
    return 1;
}

/* Add record i of d to its series (created in first-seen order). */
static int group_add(seriesset *ss, const dataset *d, size_t i)
{
    const rec *r = &d->r[i];
    series *s = NULL;
    size_t k;
    if (ss->n && same_key(&ss->s[ss->last], r))
        s = &ss->s[ss->last];
    for (k = 0; !s && k < ss->n; k++)
        if (same_key(&ss->s[k], r)) {
            s = &ss->s[k];
            ss->last = k;
        }
    if (!s) {
        int f;
        if (ss->n == ss->cap) {
            size_t nc = ss->cap ? ss->cap * 2 : 16;
            series *ns = realloc(ss->s, nc * sizeof *ns);
            if (!ns)
                return -1;
            ss->s = ns;
            ss->cap = nc;
        }
        s = &ss->s[ss->n];
        memset(s, 0, sizeof *s);
        for (f = 0; f < 4; f++)
            s->f[f] = rec_field(r, f);
        ss->last = ss->n++;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        pt *np = realloc(s->p, nc * sizeof *np);
        if (!np)
            return -1;
        s->p = np;
        s->cap = nc;
    }
    s->p[s->n].t = r->t;
    s->p[s->n].i = i;
    s->n++;
    return 0;
}

static int pt_cmp(const void *a, const void *b)
{
    const pt *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void series_sort(seriesset *ss)
{
    size_t k;
    for (k = 0; k < ss->n; k++)
        qsort(ss->s[k].p, ss->s[k].n, sizeof(pt), pt_cmp);
}

static int varies(const seriesset *ss, int f)
{
    size_t k;
    for (k = 1; k < ss->n; k++)
        if (strcmp(ss->s[k].f[f], ss->s[0].f[f]) != 0)
            return 1;
    return 0;
}

/*
 * Colours, dash types and markers.  When several fields vary between series,
 * each gets its own channel so that a value keeps its look across the chart:
 * provider and segment both varying: colour by provider, dash by segment
 * (and markers by scenario if the scenario varies too); otherwise the
 * scenario if it varies (else the segment, when the provider or the metric
 * varies too) gets the dash types and the rest the colours.  The chosen
 * fields are returned in st (-1: not used) for the legend.
 */
typedef struct styling {
    int dashf, markf;
    size_t ncolor, ndash, nmark;
} styling;

/* Index of the first series before k equal to series k in the fields of mask
 * (bit f set: compare field f), or k. */
static size_t first_equal(const seriesset *ss, size_t k, unsigned mask)
{
    size_t j;
    int f;
    for (j = 0; j < k; j++) {
        for (f = 0; f < 4; f++)
            if ((mask & (1u << f)) && strcmp(ss->s[j].f[f], ss->s[k].f[f]) != 0)
                break;
        if (f == 4)
            return j;
    }
    return k;
}

static void assign_styles(seriesset *ss, styling *st)
{
    size_t k;
    int vary[4], f;
    unsigned cmask = 0;
    memset(st, 0, sizeof *st);
    st->dashf = st->markf = -1;
    for (f = 0; f < 4; f++)
        vary[f] = varies(ss, f);
    if (vary[FLD_PROV] && vary[FLD_SEG]) {
        st->dashf = FLD_SEG;
        if (vary[FLD_SCEN])
            st->markf = FLD_SCEN;
    } else if (vary[FLD_SCEN] && (vary[FLD_PROV] || vary[FLD_SEG] || vary[FLD_METRIC])) {
        st->dashf = FLD_SCEN;
    } else if (vary[FLD_SEG] && (vary[FLD_PROV] || vary[FLD_METRIC])) {
        st->dashf = FLD_SEG;
    }
    for (f = 0; f < 4; f++)
        if (f != st->dashf && f != st->markf)
            cmask |= 1u << f;
    for (k = 0; k < ss->n; k++) {
        series *s = &ss->s[k];
        size_t j;
        s->marker = 0;
        if (st->dashf < 0) {
            s->color = (int)(k % NPALETTE);
            s->dash = 1;
            st->ncolor = k + 1;
            continue;
        }
        j = first_equal(ss, k, cmask);
        s->color = j < k ? ss->s[j].color : (int)(st->ncolor++ % NPALETTE);
        j = first_equal(ss, k, 1u << st->dashf);
        s->dash = j < k ? ss->s[j].dash : (int)(st->ndash++ % 5) + 1;
        if (st->markf >= 0) {
            j = first_equal(ss, k, 1u << st->markf);
            s->marker = j < k ? ss->s[j].marker : (int)(st->nmark++ % 6) + 1;
        }
    }
}

/* Append to a label buffer with a separator. */
static void cat(char *buf, size_t size, const char *sep, const char *s)
{
    size_t n = strlen(buf);
    if (n >= size - 1)
        return;
    snprintf(buf + n, size - n, "%s%s", n ? sep : "", s);
}

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
            cat(buf, size, ", ", text ? cli_csv_text(s) : s);
    }
}

/* The legend text of series s: the parts that differ between series. */
static void series_label(char *buf, size_t size, const seriesset *ss, const series *s,
                         const int vary[4], int total_for_empty_segment)
{
    char parts[300] = "";
    buf[0] = '\0';
    if (vary[FLD_METRIC])
        cat(parts, sizeof parts, ", ", metric_label(s->f[FLD_METRIC]));
    if (vary[FLD_PROV])
        cat(parts, sizeof parts, ", ", *s->f[FLD_PROV] ? s->f[FLD_PROV] : "market");
    if (vary[FLD_SEG])
        cat(parts, sizeof parts, ", ", *s->f[FLD_SEG] ? s->f[FLD_SEG]
                                       : total_for_empty_segment ? "all segments" : "-");
    if (vary[FLD_SCEN])
        snprintf(buf, size, "%s%s%s", *s->f[FLD_SCEN] ? s->f[FLD_SCEN] : "(no scenario)",
                 *parts ? ": " : "", parts);
    else if (*parts)
        snprintf(buf, size, "%s", parts);
    else if (ss->n == 1 && *s->f[FLD_SCEN])
        snprintf(buf, size, "%s", s->f[FLD_SCEN]);
    else
        snprintf(buf, size, "%s", metric_label(s->f[FLD_METRIC]));
}

/* The default title: metric(s), then what every series shares. */
static void default_title(char *buf, size_t size, const seriesset *ss, const int vary[4],
                          const char *suffix)
{
    char head[200] = "", tail[200] = "";
    size_t k;
    for (k = 0; k < ss->n; k++) {
        size_t j;
        for (j = 0; j < k; j++)
            if (strcmp(ss->s[j].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]) == 0)
                break;
        if (j == k)
            cat(head, sizeof head, ", ", metric_label(ss->s[k].f[FLD_METRIC]));
    }
    if (ss->n && !vary[FLD_PROV] && *ss->s[0].f[FLD_PROV])
        cat(tail, sizeof tail, ", ", ss->s[0].f[FLD_PROV]);
    if (ss->n && !vary[FLD_SEG] && *ss->s[0].f[FLD_SEG])
        cat(tail, sizeof tail, ", ", ss->s[0].f[FLD_SEG]);
    snprintf(buf, size, "%s%s%s%s", head, *tail ? ": " : "", tail, suffix ? suffix : "");
    if (ss->n && !vary[FLD_SCEN] && *ss->s[0].f[FLD_SCEN]) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " (scenario %s)", ss->s[0].f[FLD_SCEN]);
    }
}

/* ------------------------------------------------------------ script */

static void gp_set_string(FILE *f, const char *what, const char *s, const char *extra)
{
    fprintf(f, "set %s ", what);
    plot_gp_string(f, s);
    if (extra)
        fprintf(f, " %s", extra);
    putc('\n', f);
}

/* Script header: provenance comment, terminal, common style. */
static void script_head(FILE *f, const plot_opts *o, const char *kind)
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

static void script_title(FILE *f, const plot_opts *o, const char *deflt)
{
    gp_set_string(f, "title", o->title ? o->title : deflt, "font ',14' textcolor rgb '#111111'");
}

/* x range and year tics from the plotted times. */
static void script_xrange(FILE *f, double t0, double t1)
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

static void datablock_begin(FILE *f, const char *name, size_t k)
{
    fprintf(f, "$%s%zu << EOD\n", name, k);
}

/* Extra data for the line and fan charts: observed points to overlay. */
typedef struct overlay {
    dataset *d;
    seriesset ss;
} overlay;

static void overlay_free(overlay *ov)
{
    seriesset_free(&ov->ss);
    dataset_free(ov->d);
    ov->d = NULL;
}

/* Load the overlay file and group the rows that match the plotted series. */
static int overlay_load(overlay *ov, const plot_opts *o, const strlist *metric)
{
    size_t i;
    int rc = load(&ov->d, o->overlay);
    if (rc != EXIT_OK)
        return rc;
    if (ov->d->layout != L_DATA && ov->d->layout != L_LONG)
        return cli_error("%s: --overlay needs a calibration data file "
                         "(time,provider,segment,metric,value[,weight]), not a %s",
                         o->overlay, layout_names[ov->d->layout]);
    for (i = 0; i < ov->d->n; i++) {
        rec *r = &ov->d->r[i];
        if (!in_list(metric, r->metric) || !in_list(&o->provider, r->prov) ||
            !in_list(&o->segment, r->seg) || !isfinite(ov->d->v[i * ov->d->nv]))
            continue;
        r->scen = ""; /* observations belong to no scenario */
        if (group_add(&ov->ss, ov->d, i) != 0)
            return cli_error("out of memory");
    }
    if (ov->ss.n == 0)
        return cli_error("%s: no observation matches the plotted metric, provider and segment",
                         o->overlay);
    series_sort(&ov->ss);
    return EXIT_OK;
}

/* Observed points: coloured like the model series they belong to. */
static void overlay_plot(FILE *f, const overlay *ov, const seriesset *model, int *first)
{
    size_t k, j;
    for (k = 0; k < ov->ss.n; k++) {
        const series *s = &ov->ss.s[k];
        const char *color = "#222222";
        char label[300];
        for (j = 0; j < model->n; j++)
            if (strcmp(model->s[j].f[FLD_PROV], s->f[FLD_PROV]) == 0 &&
                strcmp(model->s[j].f[FLD_SEG], s->f[FLD_SEG]) == 0 &&
                strcmp(model->s[j].f[FLD_METRIC], s->f[FLD_METRIC]) == 0) {
                color = palette[model->s[j].color];
                break;
            }
        if (ov->ss.n == 1) {
            snprintf(label, sizeof label, "observed");
        } else {
            snprintf(label, sizeof label, "observed: %s", *s->f[FLD_PROV] ? s->f[FLD_PROV] : "");
            if (*s->f[FLD_SEG])
                cat(label, sizeof label, *s->f[FLD_PROV] ? ", " : "", s->f[FLD_SEG]);
        }
        fprintf(f, "%s$obs%zu using 1:2 with points pt 7 ps 1.5 lc rgb '%s' title ",
                *first ? "plot " : ", \\\n     ", k + 1, color);
        plot_gp_string(f, label);
        fprintf(f, ", \\\n     $obs%zu using 1:2 with points pt 6 ps 1.5 lw 1.5 lc rgb '#222222' notitle",
                k + 1);
        *first = 0;
    }
}

static void overlay_data(FILE *f, const overlay *ov)
{
    size_t k, j;
    for (k = 0; k < ov->ss.n; k++) {
        const series *s = &ov->ss.s[k];
        double sc = metric_scale(s->f[FLD_METRIC]);
        datablock_begin(f, "obs", k + 1);
        for (j = 0; j < s->n; j++) {
            plot_gp_number(f, s->p[j].t);
            putc(' ', f);
            plot_gp_number(f, ov->d->v[s->p[j].i * ov->d->nv] * sc);
            putc('\n', f);
        }
        fputs("EOD\n", f);
    }
}

static void overlay_trange(const overlay *ov, double *t0, double *t1)
{
    size_t k;
    for (k = 0; k < ov->ss.n; k++) {
        const series *s = &ov->ss.s[k];
        if (s->n && s->p[0].t < *t0)
            *t0 = s->p[0].t;
        if (s->n && s->p[s->n - 1].t > *t1)
            *t1 = s->p[s->n - 1].t;
    }
}

/* The metrics to plot: --metric, else `deflt` if present, else the only one. */
static int choose_metrics(strlist *out, const plot_opts *o, const dataset *d, const char *deflt,
                          const char **one)
{
    char buf[400];
    size_t i;
    if (o->metric.n) {
        *out = o->metric;
        return EXIT_OK;
    }
    if (has_value(d, FLD_METRIC, deflt)) {
        *one = deflt;
    } else {
        for (i = 1; i < d->n; i++)
            if (strcmp(d->r[i].metric, d->r[0].metric) != 0)
                break;
        if (d->n == 0 || i < d->n) {
            list_values(buf, sizeof buf, d, FLD_METRIC);
            return cli_usage_error("plot", "%s has several metrics and no '%s': choose with "
                                   "--metric (metrics: %s)", o->file, deflt, buf);
        }
        *one = d->r[0].metric;
    }
    out->v = one;
    out->n = 1;
    return EXIT_OK;
}

/* Select the records of the chart into series. */
static int select_series(seriesset *ss, const plot_opts *o, const dataset *d,
                         const strlist *metric, int need_segment)
{
    size_t i;
    int rc;
    if ((rc = check_filter(d, o->file, &o->scenario, FLD_SCEN)) ||
        (rc = check_filter(d, o->file, &o->provider, FLD_PROV)) ||
        (rc = check_filter(d, o->file, &o->segment, FLD_SEG)) ||
        (rc = check_filter(d, o->file, metric, FLD_METRIC)))
        return rc;
    for (i = 0; i < d->n; i++) {
        const rec *r = &d->r[i];
        if (!in_list(&o->scenario, r->scen) || !in_list(&o->provider, r->prov) ||
            !in_list(&o->segment, r->seg) || !in_list(metric, r->metric) ||
            (need_segment && !*r->seg))
            continue;
        if (group_add(ss, d, i) != 0)
            return cli_error("out of memory");
    }
    if (ss->n == 0)
        return cli_error("%s: no rows match the selection (metric, provider, segment and "
                         "scenario filters together)", o->file);
    series_sort(ss);
    return EXIT_OK;
}

/* All series must share one unit class; returns it or -1 after an error. */
static int common_class(const seriesset *ss)
{
    size_t k;
    int cls = metric_class(ss->s[0].f[FLD_METRIC]);
    for (k = 1; k < ss->n; k++)
        if (metric_class(ss->s[k].f[FLD_METRIC]) != cls) {
            cli_usage_error("plot", "metrics '%s' and '%s' have different units; plot them "
                            "separately", ss->s[0].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]);
            return -1;
        }
    return cls;
}

static void series_trange(const seriesset *ss, double *t0, double *t1)
{
    size_t k;
    *t0 = INFINITY;
    *t1 = -INFINITY;
    for (k = 0; k < ss->n; k++) {
        const series *s = &ss->s[k];
        if (s->n && s->p[0].t < *t0)
            *t0 = s->p[0].t;
        if (s->n && s->p[s->n - 1].t > *t1)
            *t1 = s->p[s->n - 1].t;
    }
}

/* The y-axis label of a set of series. */
static void series_ylabel(char *buf, size_t size, const seriesset *ss, int cls, const plot_opts *o)
{
    char head[200] = "";
    size_t k, j;
    for (k = 0; k < ss->n; k++) {
        for (j = 0; j < k; j++)
            if (strcmp(ss->s[j].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]) == 0)
                break;
        if (j == k)
            cat(head, sizeof head, ", ", metric_label(ss->s[k].f[FLD_METRIC]));
    }
    axis_label(buf, size, head, cls, o->unit);
}

/* Does the metric occur both with and without a segment (e.g. revenue)? */
static int mixed_segments(const seriesset *ss)
{
    size_t k, j;
    for (k = 0; k < ss->n; k++)
        if (!*ss->s[k].f[FLD_SEG])
            for (j = 0; j < ss->n; j++)
                if (*ss->s[j].f[FLD_SEG] &&
                    strcmp(ss->s[j].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]) == 0)
                    return 1;
    return 0;
}

static const int marker_pt[] = { 0, 6, 4, 8, 12, 2, 1 }; /* circle, square, triangle, ... */

/* The text of field f of series s in a legend. */
static const char *field_text(const series *s, int f, int mixed)
{
    if (f == FLD_METRIC)
        return metric_label(s->f[f]);
    if (f == FLD_PROV)
        return *s->f[f] ? s->f[f] : "market";
    if (f == FLD_SEG)
        return *s->f[f] ? s->f[f] : mixed ? "all segments" : "-";
    return *s->f[f] ? s->f[f] : "(no scenario)";
}

/*
 * A legend of many series that explains the styles instead of listing every
 * series: one entry per colour (the fields it stands for), one per dash type
 * and one per marker, each group under a heading naming its field.
 */
static void factored_legend(FILE *f, const seriesset *ss, const styling *st, const int vary[4],
                            int mixed)
{
    static const char *const fname[] = { "scenario", "provider", "segment", "metric" };
    char label[400], head[200] = "";
    size_t k;
    int g, fld;
    for (fld = 0; fld < 4; fld++)
        if (vary[fld] && fld != st->dashf && fld != st->markf)
            cat(head, sizeof head, ", ", fname[fld]);
    for (g = 0; g < 3; g++) {
        int gf = g == 1 ? st->dashf : g == 2 ? st->markf : -1;
        if (g > 0 && gf < 0)
            continue;
        snprintf(label, sizeof label, "%s (%s):", g == 0 ? head : fname[gf],
                 g == 0 ? "colour" : g == 1 ? "line" : "marker");
        fputs(", \\\n     NaN with lines lw 0 lc rgb '#ffffff' title ", f);
        plot_gp_string(f, label);
        for (k = 0; k < ss->n; k++) {
            const series *s = &ss->s[k];
            size_t j;
            for (j = 0; j < k; j++)
                if ((g == 0 && ss->s[j].color == s->color) || (g == 1 && ss->s[j].dash == s->dash) ||
                    (g == 2 && ss->s[j].marker == s->marker))
                    break;
            if (j < k)
                continue;
            label[0] = '\0';
            if (g == 0) {
                for (fld = 0; fld < 4; fld++)
                    if (vary[fld] && fld != st->dashf && fld != st->markf)
                        cat(label, sizeof label, ", ", field_text(s, fld, mixed));
                fprintf(f, ", \\\n     NaN with lines lw 2.5 lc rgb '%s' dt 1 title ", palette[s->color]);
            } else if (g == 1) {
                cat(label, sizeof label, "", field_text(s, gf, mixed));
                fprintf(f, ", \\\n     NaN with lines lw 2.5 lc rgb '#555555' dt %d title ", s->dash);
            } else {
                cat(label, sizeof label, "", field_text(s, gf, mixed));
                fprintf(f, ", \\\n     NaN with linespoints lw 1 lc rgb '#555555' pt %d ps 1.2 title ",
                        marker_pt[s->marker]);
            }
            plot_gp_string(f, label);
        }
    }
}

/* Many series: say how to narrow the chart down. */
static void suggest_filters(const seriesset *ss, const int vary[4], const plot_opts *o)
{
    static const char *const opt[] = { "--scenario", "--provider", "--segment", "--metric" };
    char hint[600] = "";
    int fld;
    for (fld = 0; fld < 4; fld++) {
        char one[200];
        if (!vary[fld])
            continue;
        snprintf(one, sizeof one, "%s %s", opt[fld], ss->s[0].f[fld]);
        cat(hint, sizeof hint, ", ", one);
    }
    fprintf(stderr, "stratsim plot: note: %zu series in one chart of %s; fewer are easier to read: "
            "narrow it with %s, ...\n", ss->n, o->file, hint);
}

/* Line chart (and fan chart when fan is set). */
static int chart_line(FILE *f, const plot_opts *o, const dataset *d, int fan)
{
    seriesset ss = { 0 };
    overlay ov = { 0 };
    strlist metric = { 0 };
    const char *one = NULL;
    int vary[4], cls, rc, first = 1, fld, many, factored;
    styling st;
    size_t k, j, ilo = 0, ihi = 0, ilo2 = 0, ihi2 = 0;
    int inner = 0, sdband = 0;
    char title[600], ylabel[300], label[400], band[80] = "", band2[80] = "";
    double t0, t1;
    const char *mid = "mean";

    if ((rc = choose_metrics(&metric, o, d, "share", &one)) != EXIT_OK)
        return rc;
    if ((rc = select_series(&ss, o, d, &metric, 0)) != EXIT_OK)
        goto done;
    if ((cls = common_class(&ss)) < 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    if (o->overlay && (rc = overlay_load(&ov, o, &metric)) != EXIT_OK)
        goto done;
    for (fld = 0; fld < 4; fld++)
        vary[fld] = varies(&ss, fld);
    assign_styles(&ss, &st);
    many = ss.n > MANY_SERIES;
    factored = many && st.dashf >= 0;
    if (many)
        suggest_filters(&ss, vary, o);

    if (fan) {
        /* the band: lowest and highest quantile; inner band: the next pair */
        if (d->np >= 2 && d->plev[0] < d->plev[d->np - 1]) {
            ilo = 2;
            ihi = 2 + d->np - 1;
            snprintf(band, sizeof band, "%g\xE2\x80\x93%g%% band", d->plev[0], d->plev[d->np - 1]);
            if (d->np >= 4 && d->plev[1] < d->plev[d->np - 2] && d->plev[1] > d->plev[0] &&
                d->plev[d->np - 2] < d->plev[d->np - 1]) {
                inner = 1;
                ilo2 = 3;
                ihi2 = 2 + d->np - 2;
                snprintf(band2, sizeof band2, "%g\xE2\x80\x93%g%% band", d->plev[1],
                         d->plev[d->np - 2]);
            }
        } else if (d->isd >= 0) {
            sdband = 1;
            snprintf(band, sizeof band, "mean \xC2\xB1 1.96 sd");
        } else {
            rc = cli_error("%s: a fan chart needs quantile columns (p05, p95, ...) or sd", o->file);
            goto done;
        }
        mid = d->imid >= 2 ? "median" : "mean";
    }

    series_trange(&ss, &t0, &t1);
    if (o->overlay)
        overlay_trange(&ov, &t0, &t1);
    script_head(f, o, fan ? "fan" : "line");
    if (fan) {
        char suffix[200];
        snprintf(suffix, sizeof suffix, " \xE2\x80\x93 Monte Carlo %s and %s", mid, band);
        default_title(title, sizeof title, &ss, vary, suffix);
    } else {
        default_title(title, sizeof title, &ss, vary, NULL);
    }
    script_title(f, o, title);
    series_ylabel(ylabel, sizeof ylabel, &ss, cls, o);
    gp_set_string(f, "ylabel", ylabel, NULL);
    script_xrange(f, t0, t1);
    if (ss.n == 1 && !o->overlay && !fan)
        fputs("unset key\n", f);
    if (many) /* a long legend goes beside the plot, one column per screenful */
        fputs("set key outside right top vertical Left reverse samplen 3.5 spacing 1.1 width 1\n", f);

    /* data */
    for (k = 0; k < ss.n; k++) {
        const series *s = &ss.s[k];
        double sc = metric_scale(s->f[FLD_METRIC]);
        datablock_begin(f, "s", k + 1);
        for (j = 0; j < s->n; j++) {
            const double *v = d->v + s->p[j].i * d->nv;
            plot_gp_number(f, s->p[j].t);
            putc(' ', f);
            plot_gp_number(f, v[d->imid] * sc);
            if (fan) {
                double lo, hi;
                if (sdband) {
                    lo = v[0] - 1.96 * v[1];
                    hi = v[0] + 1.96 * v[1];
                } else {
                    lo = v[ilo];
                    hi = v[ihi];
                }
                putc(' ', f);
                plot_gp_number(f, lo * sc);
                putc(' ', f);
                plot_gp_number(f, hi * sc);
                if (inner) {
                    putc(' ', f);
                    plot_gp_number(f, v[ilo2] * sc);
                    putc(' ', f);
                    plot_gp_number(f, v[ihi2] * sc);
                }
            }
            putc('\n', f);
        }
        fputs("EOD\n", f);
    }
    if (o->overlay)
        overlay_data(f, &ov);

    /* plot: bands first (under everything), then lines, then observations */
    if (fan) {
        fputs("set style fill transparent solid 0.18 noborder\n", f);
        for (k = 0; k < ss.n; k++) {
            const char *c = palette[ss.s[k].color];
            fprintf(f, "%s$s%zu using 1:3:4 with filledcurves lc rgb '%s' ",
                    first ? "plot " : ", \\\n     ", k + 1, c);
            if (ss.n == 1) {
                fputs("title ", f);
                plot_gp_string(f, band);
            } else {
                fputs("notitle", f);
            }
            first = 0;
            if (inner) {
                fprintf(f, ", \\\n     $s%zu using 1:5:6 with filledcurves lc rgb '%s' "
                           "fs transparent solid 0.30 noborder ",
                        k + 1, c);
                if (ss.n == 1) {
                    fputs("title ", f);
                    plot_gp_string(f, band2);
                } else {
                    fputs("notitle", f);
                }
            }
        }
    }
    for (k = 0; k < ss.n; k++) {
        const series *s = &ss.s[k];
        series_label(label, sizeof label, &ss, s, vary, mixed_segments(&ss));
        if (fan && ss.n == 1)
            snprintf(label, sizeof label, "%s", mid);
        fprintf(f, "%s$s%zu using 1:2 with %s lw 2.5 lc rgb '%s' dt %d",
                first ? "plot " : ", \\\n     ", k + 1,
                d->layout == L_DATA ? "points pt 7 ps 1.5" : s->marker ? "linespoints" : "lines",
                palette[s->color], s->dash);
        if (s->marker && d->layout != L_DATA)
            fprintf(f, " pt %d ps 1.2 pi %zu", marker_pt[s->marker], s->n > 16 ? s->n / 8 : 1);
        if (factored) {
            fputs(" notitle", f);
        } else {
            fputs(" title ", f);
            plot_gp_string(f, label);
        }
        first = 0;
    }
    if (factored)
        factored_legend(f, &ss, &st, vary, mixed_segments(&ss));
    if (o->overlay)
        overlay_plot(f, &ov, &ss, &first);
    fputs("\n", f);
    rc = EXIT_OK;
done:
    overlay_free(&ov);
    seriesset_free(&ss);
    return rc;
}

/* Binary search of time t in a sorted series; -1 if absent. */
static long find_time(const series *s, double t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->p[m].t < t)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < s->n && s->p[lo].t == t ? (long)lo : -1;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Stacked areas: one provider's metric (revenue) by segment over time. */
static int chart_stacked(FILE *f, const plot_opts *o, const dataset *d)
{
    seriesset ss = { 0 };
    strlist metric = { 0 };
    const char *one = NULL;
    double *times = NULL, t0, t1;
    size_t nt = 0, k, j, tot = 0;
    int rc, vary[4], fld;
    char title[600], ylabel[300], buf[400];

    if (o->metric.n > 1)
        return cli_usage_error("plot", "a stacked chart shows one metric (--metric revenue)");
    if ((rc = choose_metrics(&metric, o, d, "revenue", &one)) != EXIT_OK)
        return rc;
    if ((rc = select_series(&ss, o, d, &metric, 1)) != EXIT_OK)
        goto done;
    for (fld = 0; fld < 4; fld++)
        vary[fld] = varies(&ss, fld);
    if (vary[FLD_PROV] || vary[FLD_SCEN]) {
        int fl = vary[FLD_PROV] ? FLD_PROV : FLD_SCEN;
        buf[0] = '\0';
        for (k = 0; k < ss.n; k++) {
            size_t m;
            for (m = 0; m < k; m++)
                if (strcmp(ss.s[m].f[fl], ss.s[k].f[fl]) == 0)
                    break;
            if (m == k)
                cat(buf, sizeof buf, ", ", ss.s[k].f[fl]);
        }
        rc = cli_usage_error("plot", "a stacked chart shows one %s: choose it with --%s "
                             "(found: %s)", fld_name[fl], fld_name[fl], buf);
        goto done;
    }
    for (k = 0; k < ss.n; k++)
        tot += ss.s[k].n;
    if (!(times = malloc((tot ? tot : 1) * sizeof *times))) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (k = 0; k < ss.n; k++)
        for (j = 0; j < ss.s[k].n; j++)
            times[nt++] = ss.s[k].p[j].t;
    qsort(times, nt, sizeof *times, dbl_cmp);
    for (j = k = 0; j < nt; j++)
        if (k == 0 || times[j] != times[k - 1])
            times[k++] = times[j];
    nt = k;
    t0 = times[0];
    t1 = times[nt - 1];

    script_head(f, o, "stacked");
    snprintf(title, sizeof title, "%s by segment: %s", metric_label(ss.s[0].f[FLD_METRIC]),
             ss.s[0].f[FLD_PROV]);
    if (*ss.s[0].f[FLD_SCEN]) {
        size_t n = strlen(title);
        snprintf(title + n, sizeof title - n, " (scenario %s)", ss.s[0].f[FLD_SCEN]);
    }
    script_title(f, o, title);
    axis_label(ylabel, sizeof ylabel, metric_label(ss.s[0].f[FLD_METRIC]),
               metric_class(ss.s[0].f[FLD_METRIC]), o->unit);
    gp_set_string(f, "ylabel", ylabel, NULL);
    script_xrange(f, t0, t1);
    fputs("set yrange [0:*]\nset style fill solid 0.85 noborder\n"
          "set key outside right center vertical invert Left reverse samplen 2 width 1\n", f);
    fputs("$stack << EOD\n", f);
    for (j = 0; j < nt; j++) {
        double cum = 0;
        plot_gp_number(f, times[j]);
        for (k = 0; k < ss.n; k++) {
            long at = find_time(&ss.s[k], times[j]);
            double v = at >= 0 ? d->v[ss.s[k].p[at].i * d->nv + (size_t)d->imid] : 0;
            if (isfinite(v))
                cum += v * metric_scale(ss.s[k].f[FLD_METRIC]);
            putc(' ', f);
            plot_gp_number(f, cum);
        }
        putc('\n', f);
    }
    fputs("EOD\n", f);
    for (k = 0; k < ss.n; k++) {
        fprintf(f, "%s$stack using 1:", k ? ", \\\n     " : "plot ");
        if (k == 0)
            fputs("(0):2", f);
        else
            fprintf(f, "%zu:%zu", k + 1, k + 2);
        fprintf(f, " with filledcurves lc rgb '%s' title ", palette[k % NPALETTE]);
        plot_gp_string(f, ss.s[k].f[FLD_SEG]);
    }
    fprintf(f, ", \\\n     $stack using 1:%zu with lines lw 2 lc rgb '#333333' title 'total'\n",
            ss.n + 1);
    rc = EXIT_OK;
done:
    free(times);
    seriesset_free(&ss);
    return rc;
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
    snprintf(buf, size, "%s", metric_label(metric));
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

/* Tornado chart of one output of a sensitivity table. */
static int chart_tornado(FILE *f, const plot_opts *o, const dataset *d)
{
    const cli_csv *c = d->csv;
    int cpar = cli_csv_col(c, "parameter"), cout = cli_csv_col(c, "output"),
        clo = cli_csv_col(c, "low_value"), chi = cli_csv_col(c, "high_value"),
        col = cli_csv_col(c, "output_at_low"), coh = cli_csv_col(c, "output_at_high"), cbase = -1;
    const char *sel = o->select;
    static const char *const base_cols[] = { "output_at_base", "base_output", "base" };
    trow *rows = NULL;
    size_t n = 0, i, k;
    int rc = EXIT_ERROR, has_base = o->has_base;
    double base = o->base, sc;
    char metric[64], xlabel[400], title[500], buf[400], a[40], b[40], basetxt[40] = "";

    if (c->nrows == 0)
        return cli_error("%s: the tornado table has no rows", o->file);
    for (k = 0; k < sizeof base_cols / sizeof base_cols[0] && cbase < 0; k++)
        cbase = cli_csv_col(c, base_cols[k]);
    /* which output */
    if (!sel) {
        const char *first = cli_csv_cell(c, 0, cout);
        distinct_cells(c, cout, 0, buf, sizeof buf);
        if (strcmp(buf, first) != 0)
            return cli_usage_error("plot", "%s has several outputs: choose one with --select "
                                   "(outputs: %s)", o->file, buf);
        sel = first;
    }
    if (!(rows = malloc(c->nrows * sizeof *rows)))
        return cli_error("out of memory");
    for (i = 0; i < c->nrows; i++) {
        trow *t = &rows[n];
        if (strcmp(cli_csv_text(cli_csv_cell(c, i, cout)), cli_csv_text(sel)) != 0)
            continue;
        t->param = cli_csv_text(cli_csv_cell(c, i, cpar));
        t->row = i;
        t->lo_v = t->hi_v = NAN;
        if ((clo >= 0 && cell_number(c, i, clo, &t->lo_v, 1) != 0) ||
            (chi >= 0 && cell_number(c, i, chi, &t->hi_v, 1) != 0) ||
            cell_number(c, i, col, &t->out_lo, 0) != 0 ||
            cell_number(c, i, coh, &t->out_hi, 0) != 0)
            goto done;
        if (!has_base && cbase >= 0 && cell_number(c, i, cbase, &base, 1) == 0 && isfinite(base))
            has_base = 1;
        t->swing = fabs(t->out_hi - t->out_lo);
        if (!isfinite(t->swing)) {
            rc = cli_error("%s:%zu: the outputs are not finite", o->file, c->line[i]);
            goto done;
        }
        n++;
    }
    if (n == 0) {
        distinct_cells(c, cout, 1, buf, sizeof buf);
        rc = cli_error("%s: no output '%s' (outputs: %s)", o->file, sel, buf);
        goto done;
    }
    qsort(rows, n, sizeof *rows, trow_cmp);

    selector_label(xlabel, sizeof xlabel, cli_csv_text(sel), metric, sizeof metric);
    sc = metric_scale(metric);
    snprintf(title, sizeof title, "Tornado of %s (%zu parameter%s)", cli_csv_text(sel), n,
             n == 1 ? "" : "s");
    axis_label(buf, sizeof buf, xlabel, metric_class(metric), o->unit);
    if (!has_base) /* said under the axis: the title has no room left for it */
        cat(buf, sizeof buf, "; ", "base value unknown");

    script_head(f, o, "tornado");
    script_title(f, o, title);
    gp_set_string(f, "xlabel", buf, NULL);
    fputs("unset ylabel\nset border 1 lw 1 lc rgb '#555555'\n"
          "set grid xtics noytics\nset ytics scale 0 nomirror (", f);
    for (i = 0; i < n; i++) {
        char lab[300];
        if (isfinite(rows[i].lo_v) && isfinite(rows[i].hi_v)) {
            fmt_short(a, sizeof a, rows[i].lo_v);
            fmt_short(b, sizeof b, rows[i].hi_v);
            snprintf(lab, sizeof lab, "%s  [%s, %s]", rows[i].param, a, b);
        } else {
            snprintf(lab, sizeof lab, "%s", rows[i].param);
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
    if (has_base) {
        fmt_short(basetxt, sizeof basetxt, base * sc);
        fputs("set arrow 1 from ", f);
        plot_gp_number(f, base * sc);
        fputs(", graph 0 to ", f);
        plot_gp_number(f, base * sc);
        fputs(", graph 1 nohead lc rgb '#333333' lw 1.5 front\n", f);
    }
    /* bars: x y xlow xhigh ylow yhigh */
    for (k = 0; k < 2; k++) {
        fprintf(f, "$%s << EOD\n", k ? "high" : "low");
        for (i = 0; i < n; i++) {
            double y = (double)(n - i), v = (k ? rows[i].out_hi : rows[i].out_lo) * sc;
            double from = has_base ? base * sc : v;
            double x0 = from < v ? from : v, x1 = from < v ? v : from;
            if (!has_base) {
                /* without a base: the range bar, from low to high output */
                x0 = fmin(rows[i].out_lo, rows[i].out_hi) * sc;
                x1 = fmax(rows[i].out_lo, rows[i].out_hi) * sc;
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
    /* value labels at the bar ends: the smaller value left of its end, the larger right */
    for (k = 0; k < 2; k++) {
        fprintf(f, "$%s << EOD\n", k ? "lab_r" : "lab_l");
        for (i = 0; i < n; i++) {
            double lo = rows[i].out_lo * sc, hi = rows[i].out_hi * sc;
            double v = k ? fmax(lo, hi) : fmin(lo, hi);
            double x = v;
            if (has_base)
                x = k ? fmax(v, base * sc) : fmin(v, base * sc);
            if (lo == hi && k)
                continue;
            fmt_short(a, sizeof a, v);
            plot_gp_number(f, x);
            fprintf(f, " %zu \"%s\"\n", n - i, a);
        }
        fputs("EOD\n", f);
    }
    if (has_base) {
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
    rc = EXIT_OK;
done:
    free(rows);
    return rc;
}

/* ------------------------------------------------------------ command */

/* ------------------------------------------------------------ sweeps */

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
    qsort(u, n, sizeof *u, dbl_cmp);
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

/* A sweep: an output against one swept path (lines) or a heat map over two. */
static int chart_sweep(FILE *f, const plot_opts *o, const dataset *d)
{
    const cli_csv *c = d->csv;
    sw_set ss = { 0 };
    strlist metric = { 0 };
    char title[600], label[300], **selbuf = NULL;
    size_t np, k, row, j, nsel = 0;
    int cs = cli_csv_col(c, "scenario"), rc = EXIT_OK, cls = -1;
    int long_form = cs > 0 && has(c, "time") && has(c, "metric") && has(c, "value");

    np = long_form ? (size_t)cs : sweep_sel_paths(c);
    if (np < 1 || np > 2)
        return cli_usage_error("plot", "%s sweeps %zu paths: a sweep chart shows one (lines) or "
                               "two (heat map)", o->file, np);
    if (long_form) {
        int ct = cli_csv_col(c, "time"), cp = cli_csv_col(c, "provider"), cg = cli_csv_col(c, "segment");
        int cm = cli_csv_col(c, "metric"), cv = cli_csv_col(c, "value");
        if (o->select)
            return cli_usage_error("plot", "--select goes with a sweep written with --outputs; "
                                   "here use --metric, --provider, --segment");
        if (o->metric.n)
            metric = o->metric;
        else {
            static const char *share[] = { "share" };
            metric.v = share;
            metric.n = 1;
        }
        for (row = 0; row < c->nrows; row++) {
            const char *sc = cli_csv_text(cli_csv_cell(c, row, cs));
            const char *pv = cli_csv_text(cli_csv_cell(c, row, cp));
            const char *sg = cli_csv_text(cli_csv_cell(c, row, cg));
            const char *mt = cli_csv_text(cli_csv_cell(c, row, cm));
            double x1, x2 = 0, t, y;
            char name[400];
            sw_series *s;
            if (!in_list(&metric, mt) || (o->provider.n && !in_list(&o->provider, pv)) ||
                (o->segment.n && !in_list(&o->segment, sg)) || (o->scenario.n && !in_list(&o->scenario, sc)))
                continue;
            if (cell_number(c, row, 0, &x1, 0) || (np == 2 && cell_number(c, row, 1, &x2, 0)) ||
                cell_number(c, row, ct, &t, 0) || cell_number(c, row, cv, &y, 1)) {
                rc = EXIT_ERROR;
                goto done;
            }
            snprintf(name, sizeof name, "%s%s%s%s%s", mt, *pv ? " " : "", pv, *sg ? " " : "", sg);
            if (!(s = sw_find(&ss, name, mt)) || sw_put(s, x1, x2, y * metric_scale(mt), 1) != 0) {
                rc = cli_error("out of memory");
                goto done;
            }
            (void)t; /* rows of a point are in time order: the last one stays */
        }
    } else {
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
            char mt[64];
            size_t q;
            int keep = nsel == 0;
            sw_series *s;
            for (q = 0; q < nsel; q++)
                keep |= strcmp(selbuf[q], c->cols[j]) == 0;
            if (!keep)
                continue;
            snprintf(mt, sizeof mt, "%.*s", (int)strcspn(c->cols[j], ":"), c->cols[j]);
            if (!(s = sw_find(&ss, c->cols[j], mt))) {
                rc = cli_error("out of memory");
                goto done;
            }
            for (row = 0; row < c->nrows; row++) {
                double x1, x2 = 0, y;
                if (cell_number(c, row, 0, &x1, 0) || (np == 2 && cell_number(c, row, 1, &x2, 0)) ||
                    cell_number(c, row, (int)j, &y, 1)) {
                    rc = EXIT_ERROR;
                    goto done;
                }
                if (sw_put(s, x1, x2, y * metric_scale(mt), 0) != 0) {
                    rc = cli_error("out of memory");
                    goto done;
                }
            }
        }
    }
    if (ss.n == 0) {
        rc = cli_error("%s: no values match the filters (--metric default: share)", o->file);
        goto done;
    }
    for (k = 0; k < ss.n; k++) {
        int ck = metric_class(ss.s[k].metric);
        cls = k == 0 ? ck : cls == ck ? cls : C_OTHER;
    }

    script_head(f, o, np == 1 ? "sweep line" : "sweep heat map");
    gp_set_string(f, "xlabel", c->cols[0], "textcolor rgb '#333333'");
    if (np == 1) {
        /* lines: each output against the swept value */
        if (ss.n == 1)
            axis_label(label, sizeof label, ss.s[0].name, cls, o->unit);
        else
            axis_label(label, sizeof label, ss.n && cls != C_OTHER ? metric_label(ss.s[0].metric) : "value",
                       cls, o->unit);
        gp_set_string(f, "ylabel", label, NULL);
        snprintf(title, sizeof title, "%s by %s", ss.n == 1 ? ss.s[0].name : "Outputs", c->cols[0]);
        script_title(f, o, title);
        for (k = 0; k < ss.n; k++) {
            sw_series *s = &ss.s[k];
            double *xy = malloc((s->n ? s->n : 1) * 2 * sizeof *xy);
            if (!xy) {
                rc = cli_error("out of memory");
                goto done;
            }
            for (j = 0; j < s->n; j++) {
                xy[2 * j] = s->x1[j];
                xy[2 * j + 1] = s->y[j];
            }
            qsort(xy, s->n, 2 * sizeof *xy, sw_cmp_x);
            datablock_begin(f, "w", k + 1);
            for (j = 0; j < s->n; j++) {
                plot_gp_number(f, xy[2 * j]);
                putc(' ', f);
                plot_gp_number(f, xy[2 * j + 1]);
                putc('\n', f);
            }
            fputs("EOD\n", f);
            free(xy);
        }
        for (k = 0; k < ss.n; k++) {
            fprintf(f, "%s$w%zu using 1:2 with linespoints lw 2.5 pt 7 ps 0.8 lc rgb '%s' title ",
                    k ? ", \\\n     " : "plot ", k + 1, palette[k % NPALETTE]);
            plot_gp_string(f, ss.s[k].name);
        }
        fputs("\n", f);
    } else {
        /* heat map of one output over the two swept values */
        sw_series *s = &ss.s[0];
        double *u1 = NULL, *u2 = NULL, lo1, hi1, lo2, hi2, xmin = 0, xmax = 0, ymin = 0, ymax = 0;
        size_t n1, n2, i1, i2;
        if (ss.n > 1 && long_form) {
            char names[600] = "";
            for (k = 0; k < ss.n && strlen(names) < 400; k++)
                cat(names, sizeof names, ", ", ss.s[k].name);
            rc = cli_usage_error("plot", "a heat map shows one output; %s has %zu (%s): choose with "
                                 "--metric, --provider and --segment", o->file, ss.n, names);
            goto done;
        }
        n1 = sw_distinct(s->x1, s->n, &u1);
        n2 = sw_distinct(s->x2, s->n, &u2);
        if (n1 == 0 || n2 == 0) {
            free(u1);
            free(u2);
            rc = cli_error("out of memory");
            goto done;
        }
        gp_set_string(f, "ylabel", c->cols[1], NULL);
        axis_label(label, sizeof label, s->name, metric_class(s->metric), o->unit);
        gp_set_string(f, "cblabel", label, "textcolor rgb '#333333'");
        snprintf(title, sizeof title, "%s by %s and %s", s->name, c->cols[0], c->cols[1]);
        script_title(f, o, title);
        fputs("set palette defined (0 '#440154', 1 '#3B528B', 2 '#21908C', 3 '#5DC863', 4 '#FDE725')\n"
              "set grid noxtics noytics\nunset key\nset border 15\nset tics in\n", f);
        datablock_begin(f, "h", 1);
        for (j = 0; j < s->n; j++) {
            for (i1 = 0; i1 < n1 && u1[i1] != s->x1[j]; i1++)
                ;
            for (i2 = 0; i2 < n2 && u2[i2] != s->x2[j]; i2++)
                ;
            sw_edges(u1, n1, i1, &lo1, &hi1);
            sw_edges(u2, n2, i2, &lo2, &hi2);
            if (j == 0 || lo1 < xmin) xmin = lo1;
            if (j == 0 || hi1 > xmax) xmax = hi1;
            if (j == 0 || lo2 < ymin) ymin = lo2;
            if (j == 0 || hi2 > ymax) ymax = hi2;
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
        fputs("set xrange [", f);
        plot_gp_number(f, xmin);
        putc(':', f);
        plot_gp_number(f, xmax);
        fputs("]\nset yrange [", f);
        plot_gp_number(f, ymin);
        putc(':', f);
        plot_gp_number(f, ymax);
        fputs("]\nplot $h1 using 1:2:3:4:5:6:7 with boxxyerror fs solid 1.0 noborder lc palette z notitle\n", f);
        free(u1);
        free(u2);
    }
done:
    ss_strings_free(selbuf, nsel);
    sw_set_free(&ss);
    return rc;
}

/* Write the script to path atomically. */
static int save_script(const char *path, const char *script, size_t len)
{
    ss_outfile *out = NULL;
    ss_err err = { 0 };
    if (ss_outfile_open(&out, path, &err) != SS_OK)
        return cli_error("%s", err.msg);
    if (fwrite(script, 1, len, ss_outfile_stream(out)) != len) {
        ss_outfile_abort(out);
        return cli_error("%s: write error", path);
    }
    if (ss_outfile_commit(out, &err) != SS_OK)
        return cli_error("%s", err.msg);
    return EXIT_OK;
}

int cmd_plot(int argc, char **argv)
{
    plot_opts o;
    dataset *d = NULL;
    char *script = NULL, *gnuplot = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int rc, kind;

    memset(&o, 0, sizeof o);
    if ((rc = parse_args(&o, argc, argv)) >= 0)
        goto done;
    if ((rc = load(&d, o.file)) != EXIT_OK)
        goto done;

    kind = o.kind;
    if (kind == K_AUTO)
        kind = d->layout == L_TORNADO ? K_TORNADO : d->layout == L_MC ? K_FAN :
               d->layout == L_SWEEP ? K_SWEEP : K_LINE;
    if ((kind == K_TORNADO) != (d->layout == L_TORNADO) || (kind == K_FAN && d->layout != L_MC) ||
        (kind == K_SWEEP) != (d->layout == L_SWEEP)) {
        rc = cli_usage_error("plot", "a %s chart cannot be drawn from %s: it is a %s file",
                             kind_names[kind], o.file, layout_names[d->layout]);
        goto done;
    }
    if (kind == K_TORNADO && (o.metric.n || o.provider.n || o.segment.n || o.scenario.n)) {
        rc = cli_usage_error("plot", "a tornado chart takes --select, not --metric, --provider, "
                             "--segment or --scenario");
        goto done;
    }
    if ((kind != K_TORNADO && o.has_base) || (kind != K_TORNADO && kind != K_SWEEP && o.select)) {
        rc = cli_usage_error("plot", "--select and --base go with tornado charts");
        goto done;
    }
    if (kind == K_SWEEP && o.overlay) {
        rc = cli_usage_error("plot", "--overlay goes with line and fan charts");
        goto done;
    }
    if (o.overlay && kind != K_LINE && kind != K_FAN) {
        rc = cli_usage_error("plot", "--overlay goes with line and fan charts");
        goto done;
    }

    if (!(f = open_memstream(&script, &len))) {
        rc = cli_error("out of memory");
        goto done;
    }
    switch (kind) {
    case K_FAN: rc = chart_line(f, &o, d, 1); break;
    case K_STACKED: rc = chart_stacked(f, &o, d); break;
    case K_TORNADO: rc = chart_tornado(f, &o, d); break;
    case K_SWEEP: rc = chart_sweep(f, &o, d); break;
    default: rc = chart_line(f, &o, d, 0); break;
    }
    if (fclose(f) != 0 && rc == EXIT_OK)
        rc = cli_error("out of memory");
    f = NULL;
    if (rc != EXIT_OK)
        goto done;
    if (o.script && (rc = save_script(o.script, script, len)) != EXIT_OK)
        goto done;
    if (!(gnuplot = plot_find_gnuplot())) {
        rc = EXIT_ERROR;
        goto done;
    }
    rc = plot_run_gnuplot(gnuplot, script, len, o.out);
done:
    if (f)
        fclose(f);
    free(script);
    free(gnuplot);
    dataset_free(d);
    opts_free(&o);
    return rc;
}
