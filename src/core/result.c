/*
 * result.c - allocation of run results and the metric name tables.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/result.h"

static const char *const ps_names[SS_NPS] = {
    "share", "target_share", "revenue", "gross_margin", "capability"
};
static const char *const p_names[SS_NP] = {
    "revenue", "gross_profit", "operating_profit", "investment", "reliability", "npv"
};
static const char *const s_names[SS_NS] = { "size", "hhi" };

const char *ss_metric_ps_name(int m) { return m >= 0 && m < SS_NPS ? ps_names[m] : "?"; }
const char *ss_metric_p_name(int m) { return m >= 0 && m < SS_NP ? p_names[m] : "?"; }
const char *ss_metric_s_name(int m) { return m >= 0 && m < SS_NS ? s_names[m] : "?"; }

static int lookup(const char *const *names, int n, const char *name)
{
    int i;
    for (i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int ss_metric_ps_parse(const char *name) { return lookup(ps_names, SS_NPS, name); }
int ss_metric_p_parse(const char *name) { return lookup(p_names, SS_NP, name); }
int ss_metric_s_parse(const char *name) { return lookup(s_names, SS_NS, name); }

static char **dup_ids(char *const *ids, size_t n)
{
    char **d = calloc(n ? n : 1, sizeof *d);
    size_t i;
    if (!d)
        return NULL;
    for (i = 0; i < n; i++) {
        d[i] = strdup(ids[i] ? ids[i] : "");
        if (!d[i]) {
            while (i--)
                free(d[i]);
            free(d);
            return NULL;
        }
    }
    return d;
}

ss_result *ss_result_new(const char *scenario, size_t nt, size_t np,
                         char *const *prov_ids, size_t nk, char *const *seg_ids)
{
    ss_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->nt = nt;
    r->np = np;
    r->nk = nk;
    r->scenario = strdup(scenario ? scenario : "");
    r->prov_ids = dup_ids(prov_ids, np);
    r->seg_ids = dup_ids(seg_ids, nk);
    r->t = calloc(nt ? nt : 1, sizeof *r->t);
    r->ps = calloc(nt * SS_NPS * np * nk + 1, sizeof *r->ps);
    r->p = calloc(nt * SS_NP * np + 1, sizeof *r->p);
    r->s = calloc(nt * SS_NS * nk + 1, sizeof *r->s);
    if (!r->scenario || !r->prov_ids || !r->seg_ids || !r->t || !r->ps || !r->p || !r->s) {
        ss_result_free(r);
        return NULL;
    }
    return r;
}

void ss_result_free(ss_result *r)
{
    size_t i;
    if (!r)
        return;
    if (r->prov_ids)
        for (i = 0; i < r->np; i++)
            free(r->prov_ids[i]);
    if (r->seg_ids)
        for (i = 0; i < r->nk; i++)
            free(r->seg_ids[i]);
    if (r->extra_names)
        for (i = 0; i < r->nextra; i++)
            free(r->extra_names[i]);
    free(r->extra_names);
    if (r->extra_units)
        for (i = 0; i < r->nextra; i++)
            free(r->extra_units[i]);
    free(r->extra_units);
    free(r->extra);
    free(r->prov_ids);
    free(r->seg_ids);
    free(r->scenario);
    free(r->t);
    free(r->ps);
    free(r->p);
    free(r->s);
    free(r);
}

ss_result *ss_result_like(const ss_result *like)
{
    ss_result *r = ss_result_new(like->scenario, like->nt, like->np, like->prov_ids, like->nk,
                                 like->seg_ids);
    size_t x;
    if (!r)
        return NULL;
    memcpy(r->t, like->t, like->nt * sizeof *r->t);
    if (like->nextra > 0) {
        r->nextra = like->nextra;
        r->extra_names = calloc(like->nextra, sizeof *r->extra_names);
        r->extra = calloc(like->nt * like->nextra, sizeof *r->extra);
        if (!r->extra_names || !r->extra)
            goto fail;
        for (x = 0; x < like->nextra; x++)
            if (!(r->extra_names[x] = strdup(like->extra_names[x])))
                goto fail;
        if (like->extra_units) {
            if (!(r->extra_units = calloc(like->nextra, sizeof *r->extra_units)))
                goto fail;
            for (x = 0; x < like->nextra; x++)
                if (like->extra_units[x] && !(r->extra_units[x] = strdup(like->extra_units[x])))
                    goto fail;
        }
    }
    return r;
fail:
    ss_result_free(r);
    return NULL;
}

ss_result *ss_result_copy(const ss_result *r)
{
    ss_result *c = ss_result_like(r);
    if (!c)
        return NULL;
    memcpy(c->ps, r->ps, r->nt * SS_NPS * r->np * r->nk * sizeof *r->ps);
    memcpy(c->p, r->p, r->nt * SS_NP * r->np * sizeof *r->p);
    memcpy(c->s, r->s, r->nt * SS_NS * r->nk * sizeof *r->s);
    if (r->nextra)
        memcpy(c->extra, r->extra, r->nt * r->nextra * sizeof *c->extra);
    return c;
}

long ss_result_id_index(char *const *ids, size_t n, const char *id)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return (long)i;
    return -1;
}

long ss_result_time_index(const ss_result *r, double t)
{
    size_t i;
    for (i = 0; i < r->nt; i++)
        if (fabs(r->t[i] - t) <= 1e-9)
            return (long)i;
    return -1;
}
