/*
 * plot_chart_stacked.c - the gnuplot script of the stacked chart of
 * `stratsim plot`: one provider's metric (revenue) by segment over time as
 * stacked areas, with the total as a line on top.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

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
/* The series must be of one provider and one scenario (else: exit 2,
 * listing what the file has). */
static int stacked_one_group(const seriesset *ss)
{
    char buf[400];
    int fl, vprov = plot_varies(ss, FLD_PROV);
    size_t k, m;
    if (!vprov && !plot_varies(ss, FLD_SCEN))
        return EXIT_OK;
    fl = vprov ? FLD_PROV : FLD_SCEN;
    buf[0] = '\0';
    for (k = 0; k < ss->n; k++) {
        for (m = 0; m < k; m++)
            if (strcmp(ss->s[m].f[fl], ss->s[k].f[fl]) == 0)
                break;
        if (m == k)
            plot_cat(buf, sizeof buf, ", ", ss->s[k].f[fl]);
    }
    return cli_usage_error("plot", "a stacked chart shows one %s: choose it with --%s "
                           "(found: %s)", plot_fld_name[fl], plot_fld_name[fl], buf);
}

/* The distinct times of the series, sorted, into *out (malloc'ed); their
 * number, or 0 when out of memory. */
static size_t stacked_times(const seriesset *ss, double **out)
{
    double *times;
    size_t nt = 0, k, j, tot = 0;
    for (k = 0; k < ss->n; k++)
        tot += ss->s[k].n;
    if (!(times = malloc((tot ? tot : 1) * sizeof *times)))
        return 0;
    for (k = 0; k < ss->n; k++)
        for (j = 0; j < ss->s[k].n; j++)
            times[nt++] = ss->s[k].p[j].t;
    qsort(times, nt, sizeof *times, plot_dbl_cmp);
    for (j = k = 0; j < nt; j++)
        if (k == 0 || times[j] != times[k - 1])
            times[k++] = times[j];
    *out = times;
    return k;
}

/* Title, y label, x range and layout of the chart. */
static void stacked_head(FILE *f, const plot_opts *o, const seriesset *ss, double t0, double t1)
{
    char title[600], ylabel[300];
    const char *metric = ss->s[0].f[FLD_METRIC];
    plot_script_head(f, o, "stacked");
    snprintf(title, sizeof title, "%s by segment: %s", plot_metric_label(metric),
             ss->s[0].f[FLD_PROV]);
    if (*ss->s[0].f[FLD_SCEN]) {
        size_t n = strlen(title);
        snprintf(title + n, sizeof title - n, " (scenario %s)", ss->s[0].f[FLD_SCEN]);
    }
    plot_script_title(f, o, title);
    plot_axis_label(ylabel, sizeof ylabel, plot_metric_label(metric), plot_metric_class(metric),
                    o->unit);
    plot_gp_set_string(f, "ylabel", ylabel, NULL);
    plot_script_xrange(f, t0, t1);
    fputs("set yrange [0:*]\nset style fill solid 0.85 noborder\n"
          "set key outside right center vertical invert Left reverse samplen 2 width 1\n", f);
}

/* The datablock $stack: time, then the running sum over the segments (a
 * missing or non-finite value adds nothing). */
static void stacked_data(FILE *f, const dataset *d, const seriesset *ss, const double *times,
                         size_t nt)
{
    size_t j, k;
    fputs("$stack << EOD\n", f);
    for (j = 0; j < nt; j++) {
        double cum = 0;
        plot_gp_number(f, times[j]);
        for (k = 0; k < ss->n; k++) {
            long at = find_time(&ss->s[k], times[j]);
            double v = at >= 0 ? d->v[ss->s[k].p[at].i * d->nv + (size_t)d->imid] : 0;
            if (isfinite(v))
                cum += v * plot_metric_scale(ss->s[k].f[FLD_METRIC]);
            putc(' ', f);
            plot_gp_number(f, cum);
        }
        putc('\n', f);
    }
    fputs("EOD\n", f);
}

/* Stacked areas: one provider's metric (revenue) by segment over time. */
int plot_chart_stacked(FILE *f, const plot_opts *o, const dataset *d)
{
    seriesset ss = { 0 };
    strlist metric = { 0 };
    const char *one = NULL;
    double *times = NULL;
    size_t nt, k;
    int rc;

    if (o->metric.n > 1)
        return cli_usage_error("plot", "a stacked chart shows one metric (--metric revenue)");
    if ((rc = plot_choose_metrics(&metric, o, d, "revenue", &one)) != EXIT_OK)
        return rc;
    if ((rc = plot_select_series(&ss, o, d, &metric, 1)) != EXIT_OK)
        goto done;
    if ((rc = stacked_one_group(&ss)) != EXIT_OK)
        goto done;
    if ((nt = stacked_times(&ss, &times)) == 0) {
        rc = cli_error("out of memory");
        goto done;
    }
    stacked_head(f, o, &ss, times[0], times[nt - 1]);
    stacked_data(f, d, &ss, times, nt);
    for (k = 0; k < ss.n; k++) {
        fprintf(f, "%s$stack using 1:", k ? ", \\\n     " : "plot ");
        if (k == 0)
            fputs("(0):2", f);
        else
            fprintf(f, "%zu:%zu", k + 1, k + 2);
        fprintf(f, " with filledcurves lc rgb '%s' title ", plot_palette[k % NPALETTE]);
        plot_gp_string(f, ss.s[k].f[FLD_SEG]);
    }
    fprintf(f, ", \\\n     $stack using 1:%zu with lines lw 2 lc rgb '#333333' title 'total'\n",
            ss.n + 1);
    rc = EXIT_OK;
done:
    free(times);
    plot_seriesset_free(&ss);
    return rc;
}
