/*
 * param.c - parameter paths: resolve "providers.alibaba.share.public" and
 * friends to a pointer into a model, read and write through it with the
 * range of the corresponding scenario key (see stratsim/param.h).  This is
 * the only resolver of parameter paths: `--set` (src/lua/overrides.c) and
 * the analysis modules (mc, sens, calibrate, optimize) all use it.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/param.h"
#include "stratsim/suggest.h"

#define NPATH 256
#define MAXPARTS 5

static const char *const range_text[] = {
    "finite", "> 0", ">= 0", "< 1", "in (0, 1]", "in [0, 1]", "a whole number >= 1", "in (0, 1)"
};

/* A named field: byte offset into its struct and range. */
typedef struct named {
    const char *name;
    size_t off;
    int range;
} named;

static const named time_fields[] = {
    {"start", offsetof(ss_model, t0), SS_RANGE_ANY},
    {"stop", offsetof(ss_model, t1), SS_RANGE_ANY},
    {"step", offsetof(ss_model, step), SS_RANGE_GT0},
    {"epoch", offsetof(ss_model, epoch), SS_RANGE_GT0},
    {NULL, 0, 0}
};
static const named solver_fields[] = {
    {"rtol", offsetof(ss_solver, rtol), SS_RANGE_GE0},
    {"atol", offsetof(ss_solver, atol), SS_RANGE_GE0},
    {"h", offsetof(ss_solver, h), SS_RANGE_GT0},
    {"hmin", offsetof(ss_solver, hmin), SS_RANGE_GE0},
    {NULL, 0, 0}
};
static const named seg_fields[] = {
    {"size", offsetof(ss_segment, size), SS_RANGE_GT0},
    {"tau", offsetof(ss_segment, tau), SS_RANGE_GT0},
    {"beta_capability", offsetof(ss_segment, beta_capability), SS_RANGE_GE0},
    {"beta_price", offsetof(ss_segment, beta_price), SS_RANGE_GE0},
    {"beta_reliability", offsetof(ss_segment, beta_reliability), SS_RANGE_GE0},
    {"learning", offsetof(ss_segment, learning), SS_RANGE_GE0},
    {"efficiency", offsetof(ss_segment, efficiency), SS_RANGE_GT0},
    {"depreciation", offsetof(ss_segment, depreciation), SS_RANGE_GE0},
    {NULL, 0, 0}
};
static const named bass_fields[] = {
    {"p", offsetof(ss_segment, bass_p), SS_RANGE_GT0},
    {"q", offsetof(ss_segment, bass_q), SS_RANGE_GE0},
    {"potential", offsetof(ss_segment, bass_potential), SS_RANGE_GT0},
    {NULL, 0, 0}
};
static const named prov_scalars[] = {
    {"fixed_cost", offsetof(ss_provider, fixed_cost), SS_RANGE_ANY},
    {"reliability", offsetof(ss_provider, reliability), SS_RANGE_LOPEN01},
    {"recovery", offsetof(ss_provider, recovery), SS_RANGE_GT0},
    {"experience", offsetof(ss_provider, experience), SS_RANGE_GE0},
    {NULL, 0, 0}
};

/* Candidate lists for "did you mean". */
static const char *const top_names[] = {"discount_rate", "time", "solver", "segments", "providers", "events", NULL};
static const char *const time_names[] = {"start", "stop", "step", "epoch", "policy", NULL};
static const char *const solver_names[] = {"rtol", "atol", "h", "hmin", "max_steps", NULL};
static const char *const seg_names[] = {
    "size", "growth", "bass", "tau", "beta_capability", "beta_price", "beta_reliability",
    "learning", "efficiency", "depreciation", NULL
};
static const char *const bass_names[] = {"p", "q", "potential", NULL};
static const char *const prov_names[] = {
    "share", "margin", "opex", "fixed_cost", "reinvest", "allocation", "price",
    "participation", "lever", "reliability", "recovery", "capability", "brand", "experience", NULL
};

static const named *find(const named *t, const char *name)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

/* Split buf at '.' into at most MAXPARTS parts; -1 if there are more. */
static int split(char *buf, char **parts)
{
    int n = 0;
    char *p = buf;
    while (n < MAXPARTS) {
        parts[n++] = p;
        p = strchr(p, '.');
        if (!p)
            break;
        *p++ = '\0';
    }
    return p ? -1 : n;
}

static int unknown(ss_err *err, const char *path, const char *what, const char *name,
                   const char *const *list)
{
    char sug[96];
    return ss_err_set(err, SS_EINVAL, path, "unknown %s '%s'%s", what, name,
                      ss_suggest(name, list, (size_t)-1, sug, sizeof sug));
}

/* "unknown provider 'x' (did you mean 'y'?)" among the model's ids. */
static int unknown_id(ss_err *err, const char *path, const ss_model *m, int providers,
                      const char *name)
{
    char sug[96];
    size_t i, n = providers ? m->nprov : m->nseg;
    int best = 3;
    sug[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *id = providers ? m->prov[i].id : m->seg[i].id;
        int d = id ? ss_edit_distance(name, id, 2) : 3;
        if (d < best) {
            best = d;
            snprintf(sug, sizeof sug, " (did you mean '%s'?)", id);
        }
    }
    return ss_err_set(err, SS_EINVAL, path, "unknown %s '%s'%s",
                      providers ? "provider" : "segment", name, sug);
}

static void target_scalar(ss_param *out, void *base, const named *f)
{
    out->scalar = (double *)(void *)((char *)base + f->off);
    out->range = f->range;
}

static int resolve_segment(ss_param *out, ss_model *m, char **c, int nc, const char *path,
                           ss_err *err)
{
    int k = ss_model_segment_index(m, c[1]);
    ss_segment *s;
    const named *f;

    if (k < 0)
        return unknown_id(err, path, m, 0, c[1]);
    s = &m->seg[k];
    if (nc < 3)
        return ss_err_set(err, SS_EINVAL, path, "expected segments.%s.<field>", c[1]);
    if (strcmp(c[2], "bass") == 0) {
        if (nc != 4)
            return ss_err_set(err, SS_EINVAL, path, "expected segments.%s.bass.p|q|potential", c[1]);
        if (!(f = find(bass_fields, c[3])))
            return unknown(err, path, "bass parameter", c[3], bass_names);
        if (!s->has_bass)
            return ss_err_set(err, SS_EINVAL, path,
                              "segment '%s' has no bass diffusion (it uses growth)", c[1]);
        target_scalar(out, s, f);
        return SS_OK;
    }
    if (nc != 3)
        return ss_err_set(err, SS_EINVAL, path, "segments.%s.%s takes no further component",
                          c[1], c[2]);
    if (strcmp(c[2], "growth") == 0) {
        if (s->has_bass)
            return ss_err_set(err, SS_EINVAL, path,
                              "segment '%s' uses bass diffusion; set segments.%s.bass.p|q|potential",
                              c[1], c[1]);
        out->sched = &s->growth;
        out->range = SS_RANGE_ANY;
        return SS_OK;
    }
    if (!(f = find(seg_fields, c[2])))
        return unknown(err, path, "segment field", c[2], seg_names);
    target_scalar(out, s, f);
    return SS_OK;
}

/*
 * Point `out` at the interventions of provider v's decision field f from
 * segment k on (count consecutive segments): a slot that is not yet an
 * intervention starts as a copy of the base schedule, so that `#N` and
 * ss_param_get see the base until the value is set (which turns it on).
 */
static int target_intervention(ss_param *out, ss_model *m, ss_provider *v, ss_field f,
                               size_t k, size_t count, const char *path, ss_err *err)
{
    size_t j0 = ss_decision_slot(f, k, m->nseg), j;
    for (j = j0; j < j0 + count; j++) {
        if (v->iv_on[j])
            continue;
        ss_schedule_clear(&v->iv[j]);
        if (ss_schedule_copy(&v->iv[j], ss_provider_decision(v, j, m->nseg)) != SS_OK)
            return ss_err_set(err, SS_ENOMEM, path, "out of memory");
    }
    out->sched = &v->iv[j0];
    out->given = &v->iv_on[j0];
    out->alloc_provider = -1;
    return SS_OK;
}

static int resolve_provider(ss_param *out, ss_model *m, char **c, int nc, const char *path,
                            unsigned flags, ss_err *err)
{
    int i = ss_model_provider_index(m, c[1]), k = -1;
    ss_provider *v;
    const named *f;
    const char *name;

    if (i < 0)
        return unknown_id(err, path, m, 1, c[1]);
    v = &m->prov[i];
    if (nc < 3 || nc > 4)
        return ss_err_set(err, SS_EINVAL, path, "expected providers.%s.<field>[.<segment>]", c[1]);
    name = c[2];
    if ((f = find(prov_scalars, name)) != NULL || strcmp(name, "reinvest") == 0) {
        if (nc != 3)
            return ss_err_set(err, SS_EINVAL, path, "providers.%s.%s takes no segment", c[1], name);
        if (f) {
            target_scalar(out, v, f);
        } else {
            out->sched = &v->reinvest;
            out->range = SS_RANGE_GE0;
            if (!(flags & SS_PARAM_BASE))
                return target_intervention(out, m, v, SS_FIELD_REINVEST, 0, 1, path, err);
        }
        return SS_OK;
    }
    if (nc == 4 && (k = ss_model_segment_index(m, c[3])) < 0)
        return unknown_id(err, path, m, 0, c[3]);
    if (strcmp(name, "share") == 0 || strcmp(name, "capability") == 0 || strcmp(name, "brand") == 0) {
        if (k < 0)
            return ss_err_set(err, SS_EINVAL, path, "needs a segment: providers.%s.%s.<segment>",
                              c[1], name);
        out->range = SS_RANGE_GE0;
        if (name[0] == 's') {
            out->scalar = &v->share[k];
        } else if (name[0] == 'c') {
            out->scalar = &v->capability[k];
            out->given = &v->capability_given[k];
        } else {
            out->scalar = &v->brand[k];
            out->given = &v->brand_given[k];
        }
        return SS_OK;
    }
    if (strcmp(name, "margin") == 0 || strcmp(name, "opex") == 0) {
        out->scalar = name[0] == 'm' ? v->margin : v->opex;
        out->range = name[0] == 'm' ? SS_RANGE_LT1 : SS_RANGE_GE0;
    } else {
        switch (ss_field_parse(name)) {
        case SS_FIELD_ALLOCATION:
            out->sched = v->allocation;
            out->range = SS_RANGE_GE0;
            out->alloc_provider = i;
            break;
        case SS_FIELD_PRICE: out->sched = v->price; out->range = SS_RANGE_GT0; break;
        case SS_FIELD_PARTICIPATION: out->sched = v->participation; out->range = SS_RANGE_CLOSED01; break;
        case SS_FIELD_LEVER: out->sched = v->lever; out->range = SS_RANGE_GT0; break;
        default: return unknown(err, path, "provider field", name, prov_names);
        }
    }
    if (k >= 0) {
        if (out->scalar)
            out->scalar += k;
        else
            out->sched += k;
    } else if (flags & SS_PARAM_ALL_SEGMENTS) {
        out->count = m->nseg;
    } else {
        out->alloc_provider = -1;
        out->scalar = NULL;
        out->sched = NULL;
        out->alloc_provider = -1;
        return ss_err_set(err, SS_EINVAL, path, "needs a segment: providers.%s.%s.<segment>",
                          c[1], name);
    }
    if (out->sched && !(flags & SS_PARAM_BASE))
        return target_intervention(out, m, v, (ss_field)ss_field_parse(name), k < 0 ? 0 : (size_t)k,
                                   out->count, path, err);
    return SS_OK;
}

/*
 * Copy path into buf (NPATH bytes), take a '#N' suffix off it (*knot: N - 1,
 * or -1 without one) and split the rest at '.' into c (*nc parts).
 */
static int parse_path(char *buf, char **c, int *nc, long *knot, const char *path, ss_err *err)
{
    char *hash;

    *knot = -1;
    if (!path || strlen(path) >= NPATH)
        return ss_err_set(err, SS_EINVAL, "", "parameter path too long (at most %d bytes)", NPATH - 1);
    strcpy(buf, path);
    hash = strchr(buf, '#');
    if (hash) {
        char *end;
        *hash = '\0';
        *knot = strtol(hash + 1, &end, 10);
        if (hash[1] < '0' || hash[1] > '9' || *end || *knot < 1)
            return ss_err_set(err, SS_EINVAL, path, "knot index after '#' must be an integer >= 1");
        *knot -= 1;
    }
    *nc = split(buf, c);
    if (*nc < 0)
        return ss_err_set(err, SS_EINVAL, path, "too many components");
    return SS_OK;
}

/* time.start|stop|step|epoch|policy */
static int resolve_time(ss_param *out, ss_model *m, char **c, int nc, const char *path, ss_err *err)
{
    const named *f;

    if (nc != 2)
        return ss_err_set(err, SS_EINVAL, path, "expected time.start|stop|step|epoch|policy");
    if (strcmp(c[1], "policy") == 0) {
        out->scalar = &m->policy;
        out->given = &m->policy_given;
        out->range = SS_RANGE_ANY;
        return SS_OK;
    }
    if (!(f = find(time_fields, c[1])))
        return unknown(err, path, "time field", c[1], time_names);
    target_scalar(out, m, f);
    return SS_OK;
}

/* solver.rtol|atol|h|hmin|max_steps */
static int resolve_solver(ss_param *out, ss_model *m, char **c, int nc, const char *path, ss_err *err)
{
    const named *f;

    if (nc != 2)
        return ss_err_set(err, SS_EINVAL, path, "expected solver.rtol|atol|h|hmin|max_steps");
    if (strcmp(c[1], "max_steps") == 0) {
        out->whole = &m->solver.max_steps;
        out->range = SS_RANGE_WHOLE;
        return SS_OK;
    }
    if (!(f = find(solver_fields, c[1])))
        return unknown(err, path, "solver setting", c[1], solver_names);
    target_scalar(out, &m->solver, f);
    return SS_OK;
}

/* events.N.severity (outage) and events.N.factor (market), N from 1 */
static int resolve_event(ss_param *out, ss_model *m, char **c, int nc, const char *path, ss_err *err)
{
    char *end;
    long e = nc == 3 ? strtol(c[1], &end, 10) : 0;
    ss_event *ev;

    if (nc != 3 || c[1][0] < '0' || c[1][0] > '9' || *end || e < 1)
        return ss_err_set(err, SS_EINVAL, path, "expected events.N.severity or events.N.factor "
                          "(N: the event's position, from 1)");
    if ((size_t)e > m->nev)
        return ss_err_set(err, SS_EINVAL, path, "there is no event %ld (the scenario has %zu)",
                          e, m->nev);
    ev = &m->ev[e - 1];
    if (ev->kind == SS_EV_OUTAGE && strcmp(c[2], "severity") == 0) {
        out->scalar = &ev->amount;
        out->range = SS_RANGE_OPEN01;
    } else if (ev->kind == SS_EV_MARKET && strcmp(c[2], "factor") == 0) {
        out->scalar = &ev->amount;
        out->range = SS_RANGE_GT0;
    } else {
        return ss_err_set(err, SS_EINVAL, path, "event %ld is a%s %s event: its number is "
                          "events.%ld.%s", e, ev->kind == SS_EV_OUTAGE ? "n" : "",
                          ev->kind == SS_EV_OUTAGE ? "outage" : ev->kind == SS_EV_MARKET
                          ? "market" : "set", e,
                          ev->kind == SS_EV_OUTAGE ? "severity" : ev->kind == SS_EV_MARKET
                          ? "factor" : "(none: set events are changed by their field's path)");
    }
    return SS_OK;
}

/* "unknown parameter 'x'" with a "did you mean" among the first components,
 * or else the forms a path takes. */
static int unknown_top(ss_err *err, const char *path, const char *name)
{
    char sug[160];

    if (!*ss_suggest(name, top_names, (size_t)-1, sug, sizeof sug))
        snprintf(sug, sizeof sug, " (expected segments.<id>.<field>, providers.<id>.<field>"
                 "[.<segment>], discount_rate, time.* or solver.*)");
    return ss_err_set(err, SS_EINVAL, path, "unknown parameter '%s'%s", name, sug);
}

/* Point out at knot `knot` (from 0; -1: none) of its schedule: only the
 * schedule of one segment has knots, and it must have that one. */
static int target_knot(ss_param *out, long knot, const char *path, ss_err *err)
{
    if (knot < 0)
        return SS_OK;
    if (!out->sched || out->count != 1)
        return ss_err_set(err, SS_EINVAL, path, "'#N' applies to the schedule of one segment only");
    if (out->sched->kind == SS_SCHED_CONST || (size_t)knot >= out->sched->n)
        return ss_err_set(err, SS_EINVAL, path, "the schedule has no knot %ld", knot + 1);
    out->knot = knot;
    return SS_OK;
}

int ss_param_resolve(ss_param *out, ss_model *m, const char *path, unsigned flags, ss_err *err)
{
    char buf[NPATH], *c[MAXPARTS];
    long knot;
    int nc = 0, rc;

    memset(out, 0, sizeof *out);
    out->knot = -1;
    out->alloc_provider = -1;
    out->model = m;
    out->count = 1;
    if ((rc = parse_path(buf, c, &nc, &knot, path, err)) != SS_OK)
        return rc;
    if (strcmp(c[0], "discount_rate") == 0) {
        if (nc != 1)
            return ss_err_set(err, SS_EINVAL, path, "discount_rate takes no further component");
        out->scalar = &m->discount_rate;
        out->range = SS_RANGE_GE0;
    } else if (strcmp(c[0], "time") == 0) {
        rc = resolve_time(out, m, c, nc, path, err);
    } else if (strcmp(c[0], "solver") == 0) {
        rc = resolve_solver(out, m, c, nc, path, err);
    } else if (strcmp(c[0], "segments") == 0 && nc >= 2) {
        rc = resolve_segment(out, m, c, nc, path, err);
    } else if (strcmp(c[0], "events") == 0) {
        rc = resolve_event(out, m, c, nc, path, err);
    } else if (strcmp(c[0], "providers") == 0 && nc >= 2) {
        rc = resolve_provider(out, m, c, nc, path, flags, err);
    } else if (strcmp(c[0], "segments") == 0 || strcmp(c[0], "providers") == 0) {
        /* "segments" alone: the form, and an example with the model's first id */
        int prov = c[0][0] == 'p';
        const char *id = prov ? (m->nprov ? m->prov[0].id : NULL) : (m->nseg ? m->seg[0].id : NULL);
        char eg[96] = "";
        if (id)
            snprintf(eg, sizeof eg, ", e.g. %s.%s.%s", c[0], id, prov ? "reinvest" : "growth");
        rc = ss_err_set(err, SS_EINVAL, path, "'%s' alone is not a parameter: name one as %s%s",
                        c[0], prov ? "providers.<id>.<field>[.<segment>]" : "segments.<id>.<field>", eg);
    } else {
        rc = unknown_top(err, path, c[0]);
    }
    if (rc != SS_OK)
        return rc;
    return target_knot(out, knot, path, err);
}

int ss_param_lookup(ss_param *out, ss_model *m, const char *path, ss_err *err)
{
    return ss_param_lookup_flags(out, m, path, 0, err);
}

int ss_param_lookup_flags(ss_param *out, ss_model *m, const char *path, unsigned flags, ss_err *err)
{
    ss_err e;
    int rc;
    ss_err_clear(&e);
    rc = ss_param_resolve(out, m, path, flags, &e);
    if (rc != SS_OK)
        return ss_err_set(err, rc, e.path, "'%s': %s", path ? path : "", e.msg);
    return SS_OK;
}

double ss_param_get(const ss_param *p, const ss_model *m)
{
    if (p->whole)
        return (double)*p->whole;
    if (p->scalar == &m->policy && !m->policy_given)
        return m->t0;
    if (p->scalar)
        return *p->scalar;
    if (p->knot >= 0)
        return p->sched->v[p->knot];
    return ss_schedule_eval(p->sched, m->t0);
}

int ss_param_check(const ss_param *p, double v, ss_err *err)
{
    int ok;
    if (!isfinite(v))
        return ss_err_set(err, SS_EINVAL, "", "must be finite, got %g", v);
    switch (p->range) {
    case SS_RANGE_GT0: ok = v > 0; break;
    case SS_RANGE_GE0: ok = v >= 0; break;
    case SS_RANGE_LT1: ok = v < 1; break;
    case SS_RANGE_LOPEN01: ok = v > 0 && v <= 1; break;
    case SS_RANGE_CLOSED01: ok = v >= 0 && v <= 1; break;
    case SS_RANGE_WHOLE: ok = v == floor(v) && v >= 1 && v <= 1e15; break;
    case SS_RANGE_OPEN01: ok = v > 0 && v < 1; break;
    default: ok = 1; break;
    }
    if (!ok) {
        int r = p->range >= 0 && p->range <= SS_RANGE_OPEN01 ? p->range : 0;
        return ss_err_set(err, SS_EINVAL, "", "must be %s, got %.15g", range_text[r], v);
    }
    return SS_OK;
}

int ss_param_set(const ss_param *p, double v, ss_err *err)
{
    size_t j;
    int rc;
    if ((rc = ss_param_check(p, v, err)) != SS_OK)
        return rc;
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
    if (p->whole) {
        *p->whole = (unsigned long)v;
    } else if (p->knot >= 0) {
        p->sched->v[p->knot] = v;
    } else {
        for (j = 0; j < p->count; j++) {
            if (p->scalar)
                p->scalar[j] = v;
            else
                ss_schedule_set_const(&p->sched[j], v);
        }
    }
    if (p->given)
        for (j = 0; j < p->count; j++)
            p->given[j] = 1;
    return SS_OK;
}

int ss_model_set_path(ss_model *m, const char *path, double v, ss_err *err)
{
    ss_param p;
    ss_err e;
    int rc = ss_param_lookup(&p, m, path, err);
    if (rc)
        return rc;
    ss_err_clear(&e);
    if ((rc = ss_param_set(&p, v, &e)) != SS_OK)
        return ss_err_set(err, rc, path, "'%s': %s", path, e.msg);
    return SS_OK;
}

int ss_model_set_base_path(ss_model *m, const char *path, double v, ss_err *err)
{
    ss_param p;
    ss_err e;
    int rc;
    if ((rc = ss_param_lookup_flags(&p, m, path, SS_PARAM_BASE, err)) != SS_OK)
        return rc;
    ss_err_clear(&e);
    if ((rc = ss_param_set(&p, v, &e)) != SS_OK)
        return ss_err_set(err, rc, path, "'%s': %s", path, e.msg);
    return SS_OK;
}
