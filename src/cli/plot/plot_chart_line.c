/*
 * plot_chart_line.c - the gnuplot script of the line chart of `stratsim
 * plot` (a metric over time, one line per scenario, provider and segment)
 * and of the Monte Carlo fan chart (median or mean line, quantile or sd
 * bands), with the observed points of --overlay and, for many series, a
 * legend that explains the styles.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

#define MANY_SERIES 8 /* more: a legend beside the plot, a note suggesting filters */

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
                color = plot_palette[model->s[j].color];
                break;
            }
        if (ov->ss.n == 1) {
            snprintf(label, sizeof label, "observed");
        } else {
            snprintf(label, sizeof label, "observed: %s", *s->f[FLD_PROV] ? s->f[FLD_PROV] : "");
            if (*s->f[FLD_SEG])
                plot_cat(label, sizeof label, *s->f[FLD_PROV] ? ", " : "", s->f[FLD_SEG]);
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
        double sc = plot_metric_scale(s->f[FLD_METRIC]);
        plot_datablock_begin(f, "obs", k + 1);
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
static const int marker_pt[] = { 0, 6, 4, 8, 12, 2, 1 }; /* circle, square, triangle, ... */

/* The text of field f of series s in a legend. */
static const char *field_text(const series *s, int f, int mixed)
{
    if (f == FLD_METRIC)
        return plot_metric_label(s->f[f]);
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
            plot_cat(head, sizeof head, ", ", fname[fld]);
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
                        plot_cat(label, sizeof label, ", ", field_text(s, fld, mixed));
                fprintf(f, ", \\\n     NaN with lines lw 2.5 lc rgb '%s' dt 1 title ", plot_palette[s->color]);
            } else if (g == 1) {
                plot_cat(label, sizeof label, "", field_text(s, gf, mixed));
                fprintf(f, ", \\\n     NaN with lines lw 2.5 lc rgb '#555555' dt %d title ", s->dash);
            } else {
                plot_cat(label, sizeof label, "", field_text(s, gf, mixed));
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
        plot_cat(hint, sizeof hint, ", ", one);
    }
    fprintf(stderr, "stratsim plot: note: %zu series in one chart of %s; fewer are easier to read: "
            "narrow it with %s, ...\n", ss->n, o->file, hint);
}

/* A line or fan chart being written: its series, observations and styles. */
typedef struct line_chart {
    const plot_opts *o;
    const dataset *d;
    seriesset ss;
    overlay ov;
    styling st;
    int vary[4], cls, fan, many, factored;
    /* fan: value indexes of the band (lowest and highest quantile) and of the
     * inner band (the next pair), or a mean +- 1.96 sd band; their legend
     * texts and the name of the central line */
    size_t ilo, ihi, ilo2, ihi2;
    int inner, sdband;
    char band[80], band2[80];
    const char *mid;
} line_chart;

/* The bands of a fan chart from the quantile columns, else from sd. */
static int fan_bands(line_chart *lc)
{
    const dataset *d = lc->d;
    if (d->np >= 2 && d->plev[0] < d->plev[d->np - 1]) {
        lc->ilo = 2;
        lc->ihi = 2 + d->np - 1;
        snprintf(lc->band, sizeof lc->band, "%g\xE2\x80\x93%g%% band", d->plev[0], d->plev[d->np - 1]);
        if (d->np >= 4 && d->plev[1] < d->plev[d->np - 2] && d->plev[1] > d->plev[0] &&
            d->plev[d->np - 2] < d->plev[d->np - 1]) {
            lc->inner = 1;
            lc->ilo2 = 3;
            lc->ihi2 = 2 + d->np - 2;
            snprintf(lc->band2, sizeof lc->band2, "%g\xE2\x80\x93%g%% band", d->plev[1],
                     d->plev[d->np - 2]);
        }
    } else if (d->isd >= 0) {
        lc->sdband = 1;
        snprintf(lc->band, sizeof lc->band, "mean \xC2\xB1 1.96 sd");
    } else {
        return cli_error("%s: a fan chart needs quantile columns (p05, p95, ...) or sd", lc->o->file);
    }
    lc->mid = d->imid >= 2 ? "median" : "mean";
    return EXIT_OK;
}

/* The script up to the data: header, title, y label, x range, key. */
static void line_head(FILE *f, const line_chart *lc)
{
    const plot_opts *o = lc->o;
    char title[600], ylabel[300];
    double t0, t1;

    plot_series_trange(&lc->ss, &t0, &t1);
    if (o->overlay)
        overlay_trange(&lc->ov, &t0, &t1);
    plot_script_head(f, o, lc->fan ? "fan" : "line");
    if (lc->fan) {
        char suffix[200];
        snprintf(suffix, sizeof suffix, " \xE2\x80\x93 Monte Carlo %s and %s", lc->mid, lc->band);
        plot_default_title(title, sizeof title, &lc->ss, lc->vary, suffix);
    } else {
        plot_default_title(title, sizeof title, &lc->ss, lc->vary, NULL);
    }
    plot_script_title(f, o, title);
    plot_series_ylabel(ylabel, sizeof ylabel, &lc->ss, lc->cls, o);
    plot_gp_set_string(f, "ylabel", ylabel, NULL);
    plot_script_xrange(f, t0, t1);
    if (lc->ss.n == 1 && !o->overlay && !lc->fan)
        fputs("unset key\n", f);
    if (lc->many) /* a long legend goes beside the plot, one column per screenful */
        fputs("set key outside right top vertical Left reverse samplen 3.5 spacing 1.1 width 1\n", f);
}

/* The band columns of one point of a fan chart (values v, scale sc). */
static void fan_point(FILE *f, const line_chart *lc, const double *v, double sc)
{
    double lo, hi;
    if (lc->sdband) {
        lo = v[0] - 1.96 * v[1];
        hi = v[0] + 1.96 * v[1];
    } else {
        lo = v[lc->ilo];
        hi = v[lc->ihi];
    }
    putc(' ', f);
    plot_gp_number(f, lo * sc);
    putc(' ', f);
    plot_gp_number(f, hi * sc);
    if (lc->inner) {
        putc(' ', f);
        plot_gp_number(f, v[lc->ilo2] * sc);
        putc(' ', f);
        plot_gp_number(f, v[lc->ihi2] * sc);
    }
}

/* The datablocks $s1.. of the series: time, central value (, bands). */
static void line_data(FILE *f, const line_chart *lc)
{
    const dataset *d = lc->d;
    size_t k, j;
    for (k = 0; k < lc->ss.n; k++) {
        const series *s = &lc->ss.s[k];
        double sc = plot_metric_scale(s->f[FLD_METRIC]);
        plot_datablock_begin(f, "s", k + 1);
        for (j = 0; j < s->n; j++) {
            const double *v = d->v + s->p[j].i * d->nv;
            plot_gp_number(f, s->p[j].t);
            putc(' ', f);
            plot_gp_number(f, v[d->imid] * sc);
            if (lc->fan)
                fan_point(f, lc, v, sc);
            putc('\n', f);
        }
        fputs("EOD\n", f);
    }
}

/* The bands of a fan chart in the plot command (under everything else). */
static void fan_plot(FILE *f, const line_chart *lc, int *first)
{
    size_t k;
    fputs("set style fill transparent solid 0.18 noborder\n", f);
    for (k = 0; k < lc->ss.n; k++) {
        const char *c = plot_palette[lc->ss.s[k].color];
        fprintf(f, "%s$s%zu using 1:3:4 with filledcurves lc rgb '%s' ",
                *first ? "plot " : ", \\\n     ", k + 1, c);
        if (lc->ss.n == 1) {
            fputs("title ", f);
            plot_gp_string(f, lc->band);
        } else {
            fputs("notitle", f);
        }
        *first = 0;
        if (lc->inner) {
            fprintf(f, ", \\\n     $s%zu using 1:5:6 with filledcurves lc rgb '%s' "
                       "fs transparent solid 0.30 noborder ",
                    k + 1, c);
            if (lc->ss.n == 1) {
                fputs("title ", f);
                plot_gp_string(f, lc->band2);
            } else {
                fputs("notitle", f);
            }
        }
    }
}

/* The lines of the series in the plot command. */
static void line_plot(FILE *f, const line_chart *lc, int *first)
{
    const seriesset *ss = &lc->ss;
    char label[400];
    size_t k;
    for (k = 0; k < ss->n; k++) {
        const series *s = &ss->s[k];
        plot_series_label(label, sizeof label, ss, s, lc->vary, plot_mixed_segments(ss));
        if (lc->fan && ss->n == 1)
            snprintf(label, sizeof label, "%s", lc->mid);
        fprintf(f, "%s$s%zu using 1:2 with %s lw 2.5 lc rgb '%s' dt %d",
                *first ? "plot " : ", \\\n     ", k + 1,
                lc->d->layout == L_DATA ? "points pt 7 ps 1.5" : s->marker ? "linespoints" : "lines",
                plot_palette[s->color], s->dash);
        if (s->marker && lc->d->layout != L_DATA)
            fprintf(f, " pt %d ps 1.2 pi %zu", marker_pt[s->marker], s->n > 16 ? s->n / 8 : 1);
        if (lc->factored) {
            fputs(" notitle", f);
        } else {
            fputs(" title ", f);
            plot_gp_string(f, label);
        }
        *first = 0;
    }
}

/* Line chart (and fan chart when fan is set). */
int plot_chart_line(FILE *f, const plot_opts *o, const dataset *d, int fan)
{
    line_chart lc;
    strlist metric = { 0 };
    const char *one = NULL;
    int rc, first = 1, fld;

    memset(&lc, 0, sizeof lc);
    lc.o = o;
    lc.d = d;
    lc.fan = fan;
    lc.mid = "mean";
    if ((rc = plot_choose_metrics(&metric, o, d, "share", &one)) != EXIT_OK)
        return rc;
    if ((rc = plot_select_series(&lc.ss, o, d, &metric, 0)) != EXIT_OK)
        goto done;
    if ((lc.cls = plot_common_class(&lc.ss)) < 0) {
        rc = EXIT_USAGE;
        goto done;
    }
    if (o->overlay && (rc = plot_overlay_load(&lc.ov, o, &metric)) != EXIT_OK)
        goto done;
    for (fld = 0; fld < 4; fld++)
        lc.vary[fld] = plot_varies(&lc.ss, fld);
    plot_assign_styles(&lc.ss, &lc.st);
    lc.many = lc.ss.n > MANY_SERIES;
    lc.factored = lc.many && lc.st.dashf >= 0;
    if (lc.many)
        suggest_filters(&lc.ss, lc.vary, o);
    if (fan && (rc = fan_bands(&lc)) != EXIT_OK)
        goto done;

    line_head(f, &lc);
    line_data(f, &lc);
    if (o->overlay)
        overlay_data(f, &lc.ov);
    /* plot: bands first (under everything), then lines, then observations */
    if (fan)
        fan_plot(f, &lc, &first);
    line_plot(f, &lc, &first);
    if (lc.factored)
        factored_legend(f, &lc.ss, &lc.st, lc.vary, plot_mixed_segments(&lc.ss));
    if (o->overlay)
        overlay_plot(f, &lc.ov, &lc.ss, &first);
    fputs("\n", f);
    rc = EXIT_OK;
done:
    plot_overlay_free(&lc.ov);
    plot_seriesset_free(&lc.ss);
    return rc;
}
