/*
 * param.c - parameter paths: resolve "providers.alibaba.share.public" and
 * friends to a pointer into a model, read and write through it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/param.h"

#define NPATH 256

/* Split path into at most 5 dot-separated parts (copies into buf). */
static int split(char *buf, char **parts, int max)
{
    int n = 0;
    char *p = buf;
    while (n < max) {
        parts[n++] = p;
        p = strchr(p, '.');
        if (!p)
            break;
        *p++ = '\0';
    }
    return p ? -1 : n;
}

int ss_param_lookup(ss_param *out, ss_model *m, const char *path, ss_err *err)
{
    char buf[NPATH], *parts[5], *hash;
    int n;
    long knot = -1;

    memset(out, 0, sizeof *out);
    out->knot = -1;
    out->alloc_provider = -1;
    out->model = m;
    if (!path || strlen(path) >= NPATH)
        return ss_err_set(err, SS_EINVAL, "", "parameter path too long");
    strcpy(buf, path);
    hash = strchr(buf, '#');
    if (hash) {
        char *end;
        *hash = '\0';
        knot = strtol(hash + 1, &end, 10);
        if (*end || knot < 1)
            return ss_err_set(err, SS_EINVAL, path, "'%s': knot index after '#' must be an integer >= 1", path);
        knot -= 1;
    }
    n = split(buf, parts, 5);
    if (n < 0)
        return ss_err_set(err, SS_EINVAL, path, "'%s': too many components", path);

    if (n == 1 && strcmp(parts[0], "discount_rate") == 0) {
        out->scalar = &m->discount_rate;
    } else if (n == 2 && strcmp(parts[0], "time") == 0) {
        if (strcmp(parts[1], "start") == 0) out->scalar = &m->t0;
        else if (strcmp(parts[1], "stop") == 0) out->scalar = &m->t1;
        else if (strcmp(parts[1], "step") == 0) out->scalar = &m->step;
        else if (strcmp(parts[1], "epoch") == 0) out->scalar = &m->epoch;
        else return ss_err_set(err, SS_EINVAL, path, "'%s': unknown time field '%s'", path, parts[1]);
    } else if (n == 2 && strcmp(parts[0], "solver") == 0) {
        if (strcmp(parts[1], "rtol") == 0) out->scalar = &m->solver.rtol;
        else if (strcmp(parts[1], "atol") == 0) out->scalar = &m->solver.atol;
        else if (strcmp(parts[1], "h") == 0) out->scalar = &m->solver.h;
        else if (strcmp(parts[1], "hmin") == 0) out->scalar = &m->solver.hmin;
        else return ss_err_set(err, SS_EINVAL, path, "'%s': unknown solver field '%s'", path, parts[1]);
    } else if (n >= 3 && strcmp(parts[0], "segments") == 0) {
        int k = ss_model_segment_index(m, parts[1]);
        ss_segment *s;
        const char *f = parts[2];
        if (k < 0)
            return ss_err_set(err, SS_EINVAL, path, "'%s': unknown segment '%s'", path, parts[1]);
        s = &m->seg[k];
        if (n == 4 && strcmp(f, "bass") == 0) {
            if (strcmp(parts[3], "p") == 0) out->scalar = &s->bass_p;
            else if (strcmp(parts[3], "q") == 0) out->scalar = &s->bass_q;
            else if (strcmp(parts[3], "potential") == 0) out->scalar = &s->bass_potential;
            else return ss_err_set(err, SS_EINVAL, path, "'%s': unknown bass field '%s'", path, parts[3]);
            if (!s->has_bass)
                return ss_err_set(err, SS_EINVAL, path, "'%s': segment '%s' has no bass diffusion", path, s->id);
        } else if (n != 3) {
            return ss_err_set(err, SS_EINVAL, path, "'%s': segment fields take no further component", path);
        } else if (strcmp(f, "size") == 0) out->scalar = &s->size;
        else if (strcmp(f, "growth") == 0) out->sched = &s->growth;
        else if (strcmp(f, "tau") == 0) out->scalar = &s->tau;
        else if (strcmp(f, "beta_capability") == 0) out->scalar = &s->beta_capability;
        else if (strcmp(f, "beta_price") == 0) out->scalar = &s->beta_price;
        else if (strcmp(f, "beta_reliability") == 0) out->scalar = &s->beta_reliability;
        else if (strcmp(f, "learning") == 0) out->scalar = &s->learning;
        else if (strcmp(f, "efficiency") == 0) out->scalar = &s->efficiency;
        else if (strcmp(f, "depreciation") == 0) out->scalar = &s->depreciation;
        else return ss_err_set(err, SS_EINVAL, path, "'%s': unknown segment field '%s'", path, f);
    } else if (n >= 3 && strcmp(parts[0], "providers") == 0) {
        int i = ss_model_provider_index(m, parts[1]), k = -1;
        ss_provider *p;
        const char *f = parts[2];
        if (i < 0)
            return ss_err_set(err, SS_EINVAL, path, "'%s': unknown provider '%s'", path, parts[1]);
        p = &m->prov[i];
        if (n == 3) {
            if (strcmp(f, "fixed_cost") == 0) out->scalar = &p->fixed_cost;
            else if (strcmp(f, "reinvest") == 0) out->sched = &p->reinvest;
            else if (strcmp(f, "reliability") == 0) out->scalar = &p->reliability;
            else if (strcmp(f, "recovery") == 0) out->scalar = &p->recovery;
            else if (strcmp(f, "experience") == 0) out->scalar = &p->experience;
            else return ss_err_set(err, SS_EINVAL, path,
                                   "'%s': unknown provider field '%s' (per-segment fields need .<segment>)",
                                   path, f);
        } else if (n == 4) {
            k = ss_model_segment_index(m, parts[3]);
            if (k < 0)
                return ss_err_set(err, SS_EINVAL, path, "'%s': unknown segment '%s'", path, parts[3]);
            if (strcmp(f, "share") == 0) out->scalar = &p->share[k];
            else if (strcmp(f, "margin") == 0) out->scalar = &p->margin[k];
            else if (strcmp(f, "opex") == 0) out->scalar = &p->opex[k];
            else if (strcmp(f, "allocation") == 0) { out->sched = &p->allocation[k]; out->alloc_provider = i; }
            else if (strcmp(f, "price") == 0) out->sched = &p->price[k];
            else if (strcmp(f, "participation") == 0) out->sched = &p->participation[k];
            else if (strcmp(f, "lever") == 0) out->sched = &p->lever[k];
            else if (strcmp(f, "capability") == 0) { out->scalar = &p->capability[k]; out->given = &p->capability_given[k]; }
            else if (strcmp(f, "brand") == 0) { out->scalar = &p->brand[k]; out->given = &p->brand_given[k]; }
            else return ss_err_set(err, SS_EINVAL, path, "'%s': unknown per-segment provider field '%s'", path, f);
        } else {
            return ss_err_set(err, SS_EINVAL, path, "'%s': too many components", path);
        }
    } else {
        return ss_err_set(err, SS_EINVAL, path,
                          "'%s': unknown parameter path (expected segments.<id>.<field>, "
                          "providers.<id>.<field>[.<segment>], discount_rate, time.* or solver.*)", path);
    }
    if (knot >= 0) {
        if (!out->sched)
            return ss_err_set(err, SS_EINVAL, path, "'%s': '#N' applies to schedule fields only", path);
        if (out->sched->kind == SS_SCHED_CONST || (size_t)knot >= out->sched->n)
            return ss_err_set(err, SS_EINVAL, path, "'%s': the schedule has no knot %ld", path, knot + 1);
        out->knot = knot;
    }
    return SS_OK;
}

double ss_param_get(const ss_param *p, const ss_model *m)
{
    if (p->scalar)
        return *p->scalar;
    if (p->knot >= 0)
        return p->sched->v[p->knot];
    return ss_schedule_eval(p->sched, m->t0);
}

int ss_param_set(const ss_param *p, double v, ss_err *err)
{
    if (!isfinite(v))
        return ss_err_set(err, SS_EINVAL, "", "parameter value must be finite (got %g)", v);
    if (p->alloc_provider >= 0 && !p->model->prov[p->alloc_provider].allocation_given) {
        /* make the defaulted allocation explicit before changing one segment */
        ss_model *m = p->model;
        ss_provider *pr = &m->prov[p->alloc_provider];
        double rev = 0.0;
        size_t k;
        for (k = 0; k < m->nseg; k++)
            rev += m->seg[k].size * pr->share[k];
        for (k = 0; k < m->nseg; k++)
            ss_schedule_set_const(&pr->allocation[k],
                                  rev > 0 ? m->seg[k].size * pr->share[k] / rev : 1.0 / (double)m->nseg);
        pr->allocation_given = 1;
    }
    if (p->scalar)
        *p->scalar = v;
    else if (p->knot >= 0)
        p->sched->v[p->knot] = v;
    else
        ss_schedule_set_const(p->sched, v);
    if (p->given)
        *p->given = 1;
    return SS_OK;
}

int ss_model_set_path(ss_model *m, const char *path, double v, ss_err *err)
{
    ss_param p;
    int rc = ss_param_lookup(&p, m, path, err);
    if (rc)
        return rc;
    return ss_param_set(&p, v, err);
}
