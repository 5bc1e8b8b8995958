/*
 * plot_series.c - the series of the line, fan and stacked charts of
 * `stratsim plot`: the selected records grouped by scenario, provider,
 * segment and metric and sorted by time, their colours, dash types and
 * markers, their legend texts, the default title and y-axis label, and the
 * observed points of --overlay grouped the same way.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/plot/plot_internal.h"

void plot_seriesset_free(seriesset *ss)
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
        if (strcmp(s->f[f], plot_rec_field(r, f)) != 0)
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
            s->f[f] = plot_rec_field(r, f);
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

int plot_varies(const seriesset *ss, int f)
{
    size_t k;
    for (k = 1; k < ss->n; k++)
        if (strcmp(ss->s[k].f[f], ss->s[0].f[f]) != 0)
            return 1;
    return 0;
}

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

void plot_assign_styles(seriesset *ss, styling *st)
{
    size_t k;
    int vary[4], f;
    unsigned cmask = 0;
    memset(st, 0, sizeof *st);
    st->dashf = st->markf = -1;
    for (f = 0; f < 4; f++)
        vary[f] = plot_varies(ss, f);
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

/* The legend text of series s: the parts that differ between series. */
void plot_series_label(char *buf, size_t size, const seriesset *ss, const series *s,
                         const int vary[4], int total_for_empty_segment)
{
    char parts[300] = "";
    buf[0] = '\0';
    if (vary[FLD_METRIC])
        plot_cat(parts, sizeof parts, ", ", plot_metric_label(s->f[FLD_METRIC]));
    if (vary[FLD_PROV])
        plot_cat(parts, sizeof parts, ", ", *s->f[FLD_PROV] ? s->f[FLD_PROV] : "market");
    if (vary[FLD_SEG])
        plot_cat(parts, sizeof parts, ", ", *s->f[FLD_SEG] ? s->f[FLD_SEG]
                                       : total_for_empty_segment ? "all segments" : "-");
    if (vary[FLD_SCEN])
        snprintf(buf, size, "%s%s%s", *s->f[FLD_SCEN] ? s->f[FLD_SCEN] : "(no scenario)",
                 *parts ? ": " : "", parts);
    else if (*parts)
        snprintf(buf, size, "%s", parts);
    else if (ss->n == 1 && *s->f[FLD_SCEN])
        snprintf(buf, size, "%s", s->f[FLD_SCEN]);
    else
        snprintf(buf, size, "%s", plot_metric_label(s->f[FLD_METRIC]));
}

/* The default title: metric(s), then what every series shares. */
void plot_default_title(char *buf, size_t size, const seriesset *ss, const int vary[4],
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
            plot_cat(head, sizeof head, ", ", plot_metric_label(ss->s[k].f[FLD_METRIC]));
    }
    if (ss->n && !vary[FLD_PROV] && *ss->s[0].f[FLD_PROV])
        plot_cat(tail, sizeof tail, ", ", ss->s[0].f[FLD_PROV]);
    if (ss->n && !vary[FLD_SEG] && *ss->s[0].f[FLD_SEG])
        plot_cat(tail, sizeof tail, ", ", ss->s[0].f[FLD_SEG]);
    snprintf(buf, size, "%s%s%s%s", head, *tail ? ": " : "", tail, suffix ? suffix : "");
    if (ss->n && !vary[FLD_SCEN] && *ss->s[0].f[FLD_SCEN]) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " (scenario %s)", ss->s[0].f[FLD_SCEN]);
    }
}

void plot_overlay_free(overlay *ov)
{
    plot_seriesset_free(&ov->ss);
    plot_dataset_free(ov->d);
    ov->d = NULL;
}

/* Load the overlay file and group the rows that match the plotted series. */
int plot_overlay_load(overlay *ov, const plot_opts *o, const strlist *metric)
{
    size_t i;
    int rc = plot_load(&ov->d, o->overlay);
    if (rc != EXIT_OK)
        return rc;
    if (ov->d->layout != L_DATA && ov->d->layout != L_LONG)
        return cli_error("%s: --overlay needs a calibration data file "
                         "(time,provider,segment,metric,value[,weight]), not a %s",
                         o->overlay, plot_layout_names[ov->d->layout]);
    for (i = 0; i < ov->d->n; i++) {
        rec *r = &ov->d->r[i];
        if (!plot_in_list(metric, r->metric) || !plot_in_list(&o->provider, r->prov) ||
            !plot_in_list(&o->segment, r->seg) || !isfinite(ov->d->v[i * ov->d->nv]))
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

/* Select the records of the chart into series. */
int plot_select_series(seriesset *ss, const plot_opts *o, const dataset *d,
                         const strlist *metric, int need_segment)
{
    size_t i;
    int rc;
    if ((rc = plot_check_filter(d, o->file, &o->scenario, FLD_SCEN)) ||
        (rc = plot_check_filter(d, o->file, &o->provider, FLD_PROV)) ||
        (rc = plot_check_filter(d, o->file, &o->segment, FLD_SEG)) ||
        (rc = plot_check_filter(d, o->file, metric, FLD_METRIC)))
        return rc;
    for (i = 0; i < d->n; i++) {
        const rec *r = &d->r[i];
        if (!plot_in_list(&o->scenario, r->scen) || !plot_in_list(&o->provider, r->prov) ||
            !plot_in_list(&o->segment, r->seg) || !plot_in_list(metric, r->metric) ||
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
int plot_common_class(const seriesset *ss)
{
    size_t k;
    int cls = plot_metric_class(ss->s[0].f[FLD_METRIC]);
    for (k = 1; k < ss->n; k++)
        if (plot_metric_class(ss->s[k].f[FLD_METRIC]) != cls) {
            cli_usage_error("plot", "metrics '%s' and '%s' have different units; plot them "
                            "separately", ss->s[0].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]);
            return -1;
        }
    return cls;
}

void plot_series_trange(const seriesset *ss, double *t0, double *t1)
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
void plot_series_ylabel(char *buf, size_t size, const seriesset *ss, int cls, const plot_opts *o)
{
    char head[200] = "";
    size_t k, j;
    for (k = 0; k < ss->n; k++) {
        for (j = 0; j < k; j++)
            if (strcmp(ss->s[j].f[FLD_METRIC], ss->s[k].f[FLD_METRIC]) == 0)
                break;
        if (j == k)
            plot_cat(head, sizeof head, ", ", plot_metric_label(ss->s[k].f[FLD_METRIC]));
    }
    plot_axis_label(buf, size, head, cls, o->unit);
}

/* Does the metric occur both with and without a segment (e.g. revenue)? */
int plot_mixed_segments(const seriesset *ss)
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
