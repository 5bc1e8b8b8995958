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
/* Stacked areas: one provider's metric (revenue) by segment over time. */
int plot_chart_stacked(FILE *f, const plot_opts *o, const dataset *d)
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
    if ((rc = plot_choose_metrics(&metric, o, d, "revenue", &one)) != EXIT_OK)
        return rc;
    if ((rc = plot_select_series(&ss, o, d, &metric, 1)) != EXIT_OK)
        goto done;
    for (fld = 0; fld < 4; fld++)
        vary[fld] = plot_varies(&ss, fld);
    if (vary[FLD_PROV] || vary[FLD_SCEN]) {
        int fl = vary[FLD_PROV] ? FLD_PROV : FLD_SCEN;
        buf[0] = '\0';
        for (k = 0; k < ss.n; k++) {
            size_t m;
            for (m = 0; m < k; m++)
                if (strcmp(ss.s[m].f[fl], ss.s[k].f[fl]) == 0)
                    break;
            if (m == k)
                plot_cat(buf, sizeof buf, ", ", ss.s[k].f[fl]);
        }
        rc = cli_usage_error("plot", "a stacked chart shows one %s: choose it with --%s "
                             "(found: %s)", plot_fld_name[fl], plot_fld_name[fl], buf);
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
    qsort(times, nt, sizeof *times, plot_dbl_cmp);
    for (j = k = 0; j < nt; j++)
        if (k == 0 || times[j] != times[k - 1])
            times[k++] = times[j];
    nt = k;
    t0 = times[0];
    t1 = times[nt - 1];

    plot_script_head(f, o, "stacked");
    snprintf(title, sizeof title, "%s by segment: %s", plot_metric_label(ss.s[0].f[FLD_METRIC]),
             ss.s[0].f[FLD_PROV]);
    if (*ss.s[0].f[FLD_SCEN]) {
        size_t n = strlen(title);
        snprintf(title + n, sizeof title - n, " (scenario %s)", ss.s[0].f[FLD_SCEN]);
    }
    plot_script_title(f, o, title);
    plot_axis_label(ylabel, sizeof ylabel, plot_metric_label(ss.s[0].f[FLD_METRIC]),
               plot_metric_class(ss.s[0].f[FLD_METRIC]), o->unit);
    plot_gp_set_string(f, "ylabel", ylabel, NULL);
    plot_script_xrange(f, t0, t1);
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
                cum += v * plot_metric_scale(ss.s[k].f[FLD_METRIC]);
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
