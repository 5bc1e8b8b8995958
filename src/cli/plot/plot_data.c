/*
 * plot_data.c - the rows of `stratsim plot`: reading a CSV file that
 * stratsim wrote (long, wide or Monte Carlo results, a tornado table, a
 * sweep) or a calibration data file, recognising its layout from the
 * header, turning its rows into records with their values, and the filters
 * (--metric, --provider, --segment, --scenario) that select them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot/plot_internal.h"

const char *const plot_layout_names[] = { "long results", "calibration data",
                                          "Monte Carlo summary", "wide results",
                                          "tornado table", "sweep" };

int plot_in_list(const strlist *l, const char *s)
{
    size_t i;
    if (l->n == 0)
        return 1;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return 1;
    return 0;
}

void plot_dataset_free(dataset *d)
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

int plot_has(const cli_csv *c, const char *name) { return cli_csv_col(c, name) >= 0; }

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
size_t plot_sweep_sel_paths(const cli_csv *c)
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
    if (plot_has(c, "time") && plot_has(c, "metric") && plot_has(c, "value") && plot_has(c, "scenario") &&
        cli_csv_col(c, "scenario") > 0)
        return L_SWEEP; /* PATH...,scenario,time,... */
    if (plot_sweep_sel_paths(c) > 0)
        return L_SWEEP;
    if (plot_has(c, "parameter") && plot_has(c, "output") && plot_has(c, "output_at_low") && plot_has(c, "output_at_high"))
        return L_TORNADO;
    if (plot_has(c, "time") && plot_has(c, "metric") && plot_has(c, "mean"))
        return L_MC;
    if (plot_has(c, "time") && plot_has(c, "metric") && plot_has(c, "value"))
        return plot_has(c, "scenario") ? L_LONG : L_DATA;
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

int plot_cell_number(const cli_csv *c, size_t row, int col, double *x, int allow_empty)
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
    d->isd = plot_has(c, "sd") ? 1 : -1;
    d->imid = 0;
    for (k = 0; k < np; k++)
        if (d->plev[k] == 50)
            d->imid = (int)(2 + k);
    return EXIT_OK;
}

/* The columns of a long, data or Monte Carlo file (-1: absent). */
typedef struct load_cols {
    int ct, cs, cp, cg, cm, cv, cmean, csd;
} load_cols;

/* Row `row` of a wide file: one record per value column (wcols: their
 * metric, provider and segment). An exit status. */
static int load_wide_row(dataset *d, size_t *cap, size_t row, const rec *r, const rec *wcols,
                         double *vals)
{
    const cli_csv *c = d->csv;
    size_t j;
    for (j = 2; j < c->ncol; j++) {
        rec w = wcols[j - 2];
        w.scen = r->scen;
        w.t = r->t;
        if (plot_cell_number(c, row, (int)j, &vals[0], 1) != 0)
            return EXIT_ERROR;
        if (push_rec(d, cap, &w, vals) != 0)
            return cli_error("out of memory");
    }
    return EXIT_OK;
}

/* Row `row` of a long, data or Monte Carlo file: one record. An exit status. */
static int load_row(dataset *d, size_t *cap, size_t row, rec *r, const load_cols *lc, double *vals)
{
    const cli_csv *c = d->csv;
    size_t j;
    r->prov = cli_csv_text(cli_csv_cell(c, row, lc->cp));
    r->seg = cli_csv_text(cli_csv_cell(c, row, lc->cg));
    r->metric = cli_csv_text(cli_csv_cell(c, row, lc->cm));
    if (!*r->metric)
        return cli_error("%s:%zu: metric: empty", c->name, c->line[row]);
    if (d->layout == L_MC) {
        if (plot_cell_number(c, row, lc->cmean, &vals[0], 1) != 0)
            return EXIT_ERROR;
        vals[1] = NAN;
        if (lc->csd >= 0 && plot_cell_number(c, row, lc->csd, &vals[1], 1) != 0)
            return EXIT_ERROR;
        for (j = 0; j < d->np; j++)
            if (plot_cell_number(c, row, d->ip[j], &vals[2 + j], 1) != 0)
                return EXIT_ERROR;
    } else if (plot_cell_number(c, row, lc->cv, &vals[0], 1) != 0) {
        return EXIT_ERROR;
    }
    if (push_rec(d, cap, r, vals) != 0)
        return cli_error("out of memory");
    return EXIT_OK;
}

/* The records of every row (results, data and Monte Carlo layouts). */
static int load_rows(dataset *d)
{
    const cli_csv *c = d->csv;
    load_cols lc;
    size_t cap = 0, row, j;
    double *vals = NULL;
    rec *wcols = NULL;
    int rc = EXIT_OK;

    lc.ct = cli_csv_col(c, "time");
    lc.cs = cli_csv_col(c, "scenario");
    lc.cp = cli_csv_col(c, "provider");
    lc.cg = cli_csv_col(c, "segment");
    lc.cm = cli_csv_col(c, "metric");
    lc.cv = cli_csv_col(c, "value");
    lc.cmean = cli_csv_col(c, "mean");
    lc.csd = cli_csv_col(c, "sd");
    d->nv = 1;
    if (d->layout == L_MC && mc_columns(d) != EXIT_OK)
        return EXIT_ERROR;
    if (d->layout == L_WIDE) {
        if (!(wcols = malloc((c->ncol - 2) * sizeof *wcols)))
            goto fail_mem;
        for (j = 2; j < c->ncol; j++)
            if (wide_column(d, c->cols[j], &wcols[j - 2]) != 0)
                goto fail_mem;
    }
    if (!(vals = malloc(d->nv * sizeof *vals)))
        goto fail_mem;
    for (row = 0; row < c->nrows && rc == EXIT_OK; row++) {
        rec r;
        if (plot_cell_number(c, row, lc.ct, &r.t, 0) != 0) {
            rc = EXIT_ERROR;
            break;
        }
        r.scen = cli_csv_text(cli_csv_cell(c, row, lc.cs));
        if (d->layout == L_WIDE)
            rc = load_wide_row(d, &cap, row, &r, wcols, vals);
        else
            rc = load_row(d, &cap, row, &r, &lc, vals);
    }
    free(vals);
    free(wcols);
    return rc;
fail_mem:
    free(vals);
    free(wcols);
    return cli_error("out of memory");
}

/* Read FILE into records; *out gets the dataset. Returns an exit status. */
int plot_load(dataset **out, const char *path)
{
    char msg[512];
    dataset *d = calloc(1, sizeof *d);
    cli_csv *c;

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
        plot_dataset_free(d);
        return EXIT_ERROR;
    }
    if (d->layout != L_TORNADO && d->layout != L_SWEEP && load_rows(d) != EXIT_OK) {
        plot_dataset_free(d);
        return EXIT_ERROR;
    }
    *out = d;
    return EXIT_OK;
}

const char *plot_rec_field(const rec *r, int f)
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
        const char *s = plot_rec_field(&d->r[i], f);
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

const char *const plot_fld_name[] = { "scenario", "provider", "segment", "metric" };

/* Every name of a filter must occur in the data (else: exit 1, listing them). */
int plot_check_filter(const dataset *d, const char *file, const strlist *l, int f)
{
    size_t i, k;
    for (k = 0; k < l->n; k++) {
        char buf[400];
        for (i = 0; i < d->n; i++)
            if (strcmp(plot_rec_field(&d->r[i], f), l->v[k]) == 0)
                break;
        if (i < d->n)
            continue;
        list_values(buf, sizeof buf, d, f);
        return cli_error("%s: no %s '%s' (%ss: %s)", file, plot_fld_name[f], l->v[k], plot_fld_name[f],
                         *buf ? buf : "none");
    }
    return EXIT_OK;
}

static int has_value(const dataset *d, int f, const char *v)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        if (strcmp(plot_rec_field(&d->r[i], f), v) == 0)
            return 1;
    return 0;
}

/* The metrics to plot: --metric, else `deflt` if present, else the only one. */
int plot_choose_metrics(strlist *out, const plot_opts *o, const dataset *d, const char *deflt,
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

int plot_dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
