/*
 * overrides.c - `--set PATH=VALUE`: set one numeric input of a model by its
 * parameter path (SPEC §4 paths plus time.*, solver.*, discount_rate).
 *
 * Paths: discount_rate, time.start|stop|step|epoch,
 * solver.rtol|atol|h|hmin|max_steps, segments.<id>.<field>,
 * segments.<id>.bass.p|q|potential, providers.<id>.<field> and
 * providers.<id>.<field>.<segment>. Schedules become the constant VALUE.
 * Overrides are applied to the unresolved model (after the script's own
 * checks, before ss_model_resolve), with the same ranges as the scenario
 * keys; cross-checks (share sums, potential >= size, event times inside the
 * time range) are left to ss_model_resolve. Pure C: no Lua here, so the
 * same code can serve the analysis verbs (uncertainty/calibrate paths).
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ss_lua.h"

enum { R_ANY, R_GT0, R_GE0, R_LT1, R_LOPEN01, R_CLOSED01 };

static const char *const range_text[] = {"finite", "> 0", ">= 0", "< 1", "in (0, 1]", "in [0, 1]"};

static int check(double x, int r, const char *path, ss_err *err)
{
    int ok;
    switch (r) {
    case R_GT0: ok = x > 0; break;
    case R_GE0: ok = x >= 0; break;
    case R_LT1: ok = x < 1; break;
    case R_LOPEN01: ok = x > 0 && x <= 1; break;
    case R_CLOSED01: ok = x >= 0 && x <= 1; break;
    default: ok = 1; break;
    }
    if (!isfinite(x))
        return ss_err_set(err, SS_EINVAL, path, "must be finite");
    if (!ok)
        return ss_err_set(err, SS_EINVAL, path, "must be %s, got %.15g", range_text[r], x);
    return SS_OK;
}

/* " (did you mean 'X'?)" among a NULL-terminated list. */
static const char *suggest(const char *k, const char *const *list, char *buf, size_t n)
{
    int best = 3;
    const char *pick = NULL;
    buf[0] = '\0';
    for (; *list; list++) {
        int d = ss_edit_distance(k, *list, 2);
        if (d < best) {
            best = d;
            pick = *list;
        }
    }
    if (pick)
        snprintf(buf, n, " (did you mean '%s'?)", pick);
    return buf;
}

typedef struct named {
    const char *name;
    size_t off;
    int range;
} named;

static const named time_fields[] = {
    {"start", offsetof(ss_model, t0), R_ANY},
    {"stop", offsetof(ss_model, t1), R_ANY},
    {"step", offsetof(ss_model, step), R_GT0},
    {"epoch", offsetof(ss_model, epoch), R_GT0},
    {NULL, 0, 0}
};
static const named solver_fields[] = {
    {"rtol", offsetof(ss_solver, rtol), R_GE0},
    {"atol", offsetof(ss_solver, atol), R_GE0},
    {"h", offsetof(ss_solver, h), R_GT0},
    {"hmin", offsetof(ss_solver, hmin), R_GE0},
    {NULL, 0, 0}
};
static const named seg_fields[] = {
    {"size", offsetof(ss_segment, size), R_GT0},
    {"tau", offsetof(ss_segment, tau), R_GT0},
    {"beta_capability", offsetof(ss_segment, beta_capability), R_GE0},
    {"beta_price", offsetof(ss_segment, beta_price), R_GE0},
    {"beta_reliability", offsetof(ss_segment, beta_reliability), R_GE0},
    {"learning", offsetof(ss_segment, learning), R_GE0},
    {"efficiency", offsetof(ss_segment, efficiency), R_GT0},
    {"depreciation", offsetof(ss_segment, depreciation), R_GE0},
    {NULL, 0, 0}
};
static const named bass_fields[] = {
    {"p", offsetof(ss_segment, bass_p), R_GT0},
    {"q", offsetof(ss_segment, bass_q), R_GE0},
    {"potential", offsetof(ss_segment, bass_potential), R_GT0},
    {NULL, 0, 0}
};
static const named prov_scalars[] = {
    {"fixed_cost", offsetof(ss_provider, fixed_cost), R_ANY},
    {"reliability", offsetof(ss_provider, reliability), R_LOPEN01},
    {"recovery", offsetof(ss_provider, recovery), R_GT0},
    {"experience", offsetof(ss_provider, experience), R_GE0},
    {NULL, 0, 0}
};

static const char *const top_names[] = {"discount_rate", "time", "solver", "segments", "providers", NULL};
static const char *const time_names[] = {"start", "stop", "step", "epoch", NULL};
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

/* Split path at '.' into at most 5 components (copied into buf). */
static int split(const char *path, char *buf, size_t n, char **comp)
{
    int nc = 0;
    char *p;
    if (strlen(path) >= n)
        return -1;
    memcpy(buf, path, strlen(path) + 1);
    p = buf;
    comp[nc++] = p;
    for (; *p; p++) {
        if (*p == '.') {
            *p = '\0';
            if (nc == 5)
                return -1;
            comp[nc++] = p + 1;
        }
    }
    return nc;
}

static int unknown(ss_err *err, const char *path, const char *what, const char *name,
                   const char *const *list)
{
    char sug[96];
    return ss_err_set(err, SS_EINVAL, path, "unknown %s '%s'%s", what, name,
                      list ? suggest(name, list, sug, sizeof sug) : "");
}

/* " (did you mean 'X'?)" among the model's segment or provider ids. */
static int unknown_id(ss_err *err, const char *path, const ss_model *m, int providers,
                      const char *name)
{
    char sug[96] = "";
    size_t i, n = providers ? m->nprov : m->nseg;
    int best = 3;
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

/* Give provider i an explicit allocation: the segments not yet named keep
 * the default (proportional to the provider's initial revenue). */
static void make_allocation_explicit(ss_model *m, ss_provider *v)
{
    size_t k;
    double rev = 0;
    if (v->allocation_given)
        return;
    for (k = 0; k < m->nseg; k++)
        rev += m->seg[k].size * v->share[k];
    for (k = 0; k < m->nseg; k++)
        ss_schedule_set_const(&v->allocation[k], rev > 0 ? m->seg[k].size * v->share[k] / rev
                                                         : 1.0 / (double)m->nseg);
    v->allocation_given = 1;
}

static int set_segment(ss_model *m, char **c, int nc, const char *path, double x, ss_err *err)
{
    int k = ss_model_segment_index(m, c[1]);
    ss_segment *s;
    const named *f;
    int rc;

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
            return ss_err_set(err, SS_EINVAL, path, "segment '%s' has no bass diffusion (it uses growth)", c[1]);
        if ((rc = check(x, f->range, path, err)) != SS_OK)
            return rc;
        *(double *)(void *)((char *)s + f->off) = x;
        return SS_OK;
    }
    if (nc != 3)
        return ss_err_set(err, SS_EINVAL, path, "segments.%s.%s takes no further component", c[1], c[2]);
    if (strcmp(c[2], "growth") == 0) {
        if (s->has_bass)
            return ss_err_set(err, SS_EINVAL, path,
                              "segment '%s' uses bass diffusion; set segments.%s.bass.p|q|potential",
                              c[1], c[1]);
        if ((rc = check(x, R_ANY, path, err)) != SS_OK)
            return rc;
        ss_schedule_set_const(&s->growth, x);
        return SS_OK;
    }
    if (!(f = find(seg_fields, c[2])))
        return unknown(err, path, "segment field", c[2], seg_names);
    if ((rc = check(x, f->range, path, err)) != SS_OK)
        return rc;
    *(double *)(void *)((char *)s + f->off) = x;
    return SS_OK;
}

static int set_provider(ss_model *m, char **c, int nc, const char *path, double x, ss_err *err)
{
    int i = ss_model_provider_index(m, c[1]), k = -1, rc;
    ss_provider *v;
    const named *f;
    size_t j;

    if (i < 0)
        return unknown_id(err, path, m, 1, c[1]);
    v = &m->prov[i];
    if (nc < 3 || nc > 4)
        return ss_err_set(err, SS_EINVAL, path, "expected providers.%s.<field>[.<segment>]", c[1]);
    if ((f = find(prov_scalars, c[2])) != NULL || strcmp(c[2], "reinvest") == 0) {
        if (nc != 3)
            return ss_err_set(err, SS_EINVAL, path, "providers.%s.%s takes no segment", c[1], c[2]);
        if ((rc = check(x, f ? f->range : R_GE0, path, err)) != SS_OK)
            return rc;
        if (f)
            *(double *)(void *)((char *)v + f->off) = x;
        else
            ss_schedule_set_const(&v->reinvest, x);
        return SS_OK;
    }
    if (nc == 4 && (k = ss_model_segment_index(m, c[3])) < 0)
        return unknown_id(err, path, m, 0, c[3]);
    if (strcmp(c[2], "share") == 0 || strcmp(c[2], "capability") == 0 || strcmp(c[2], "brand") == 0) {
        if (k < 0)
            return ss_err_set(err, SS_EINVAL, path, "needs a segment: providers.%s.%s.<segment>",
                              c[1], c[2]);
        if ((rc = check(x, R_GE0, path, err)) != SS_OK)
            return rc;
        if (c[2][0] == 's') {
            v->share[k] = x;
        } else if (c[2][0] == 'c') {
            v->capability[k] = x;
            v->capability_given[k] = 1;
        } else {
            v->brand[k] = x;
            v->brand_given[k] = 1;
        }
        return SS_OK;
    }
    if (strcmp(c[2], "margin") == 0 || strcmp(c[2], "opex") == 0) {
        double *a = c[2][0] == 'm' ? v->margin : v->opex;
        if ((rc = check(x, c[2][0] == 'm' ? R_LT1 : R_GE0, path, err)) != SS_OK)
            return rc;
        for (j = 0; j < m->nseg; j++)
            if (k < 0 || (size_t)k == j)
                a[j] = x;
        return SS_OK;
    }
    {
        ss_schedule *a;
        int r;
        switch (ss_field_parse(c[2])) {
        case SS_FIELD_ALLOCATION: a = v->allocation; r = R_GE0; break;
        case SS_FIELD_PRICE: a = v->price; r = R_GT0; break;
        case SS_FIELD_PARTICIPATION: a = v->participation; r = R_CLOSED01; break;
        case SS_FIELD_LEVER: a = v->lever; r = R_GT0; break;
        default: return unknown(err, path, "provider field", c[2], prov_names);
        }
        if ((rc = check(x, r, path, err)) != SS_OK)
            return rc;
        if (a == v->allocation)
            make_allocation_explicit(m, v);
        for (j = 0; j < m->nseg; j++)
            if (k < 0 || (size_t)k == j)
                ss_schedule_set_const(&a[j], x);
    }
    return SS_OK;
}

int ss_override_set(ss_model *m, const char *path, double x, ss_err *err)
{
    char buf[256], *c[5];
    int nc = split(path, buf, sizeof buf, c), rc;
    const named *f;

    if (nc < 0)
        return ss_err_set(err, SS_EINVAL, path, "path too long or too many components");
    if (strcmp(c[0], "discount_rate") == 0) {
        if (nc != 1)
            return ss_err_set(err, SS_EINVAL, path, "discount_rate takes no further component");
        if ((rc = check(x, R_GE0, path, err)) != SS_OK)
            return rc;
        m->discount_rate = x;
        return SS_OK;
    }
    if (strcmp(c[0], "time") == 0) {
        if (nc != 2)
            return ss_err_set(err, SS_EINVAL, path, "expected time.start|stop|step|epoch");
        if (!(f = find(time_fields, c[1])))
            return unknown(err, path, "time field", c[1], time_names);
        if ((rc = check(x, f->range, path, err)) != SS_OK)
            return rc;
        *(double *)(void *)((char *)m + f->off) = x;
        return SS_OK;
    }
    if (strcmp(c[0], "solver") == 0) {
        if (nc != 2)
            return ss_err_set(err, SS_EINVAL, path, "expected solver.rtol|atol|h|hmin|max_steps");
        if (strcmp(c[1], "max_steps") == 0) {
            if (!isfinite(x) || x != floor(x) || x < 1 || x > 1e15)
                return ss_err_set(err, SS_EINVAL, path, "must be a whole number >= 1, got %.15g", x);
            m->solver.max_steps = (unsigned long)x;
            return SS_OK;
        }
        if (!(f = find(solver_fields, c[1])))
            return unknown(err, path, "solver setting", c[1], solver_names);
        if ((rc = check(x, f->range, path, err)) != SS_OK)
            return rc;
        *(double *)(void *)((char *)&m->solver + f->off) = x;
        return SS_OK;
    }
    if (strcmp(c[0], "segments") == 0 && nc >= 2)
        return set_segment(m, c, nc, path, x, err);
    if (strcmp(c[0], "providers") == 0 && nc >= 2)
        return set_provider(m, c, nc, path, x, err);
    return unknown(err, path, "parameter", c[0], top_names);
}

int ss_override_apply(ss_model *m, const char *assignment, ss_err *err)
{
    const char *eq = strchr(assignment, '=');
    char path[256], *end;
    double x;
    size_t n;
    ss_err e;
    int rc;

    if (!eq || eq == assignment)
        return ss_err_set(err, SS_EINVAL, NULL, "--set '%s': expected PATH=VALUE", assignment);
    n = (size_t)(eq - assignment);
    if (n >= sizeof path)
        return ss_err_set(err, SS_EINVAL, NULL, "--set: path too long");
    memcpy(path, assignment, n);
    path[n] = '\0';
    x = strtod(eq + 1, &end);
    if (end == eq + 1 || *end != '\0' || !isfinite(x))
        return ss_err_set(err, SS_EINVAL, path, "--set %s: value '%s' is not a finite number",
                          path, eq + 1);
    ss_err_clear(&e);
    if ((rc = ss_override_set(m, path, x, &e)) != SS_OK)
        return ss_err_set(err, rc, path, "--set %s: %s", path, e.msg);
    return SS_OK;
}
