/*
 * model.c - the scenario description: allocation with SPEC defaults, deep
 * copy, events, name tables, and ss_model_resolve(), which validates every
 * input and fills in the defaults that depend on other inputs (allocation,
 * steady-state capability, equilibrium brand).
 * Depends on schedule.c and error.c only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/model.h"

#define SHARE_SUM_TOL 1e-6

static char *dup_str(const char *s)
{
    size_t n;
    char *d;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void segment_defaults(ss_segment *s)
{
    memset(s, 0, sizeof *s);
    s->size = 0.0;
    ss_schedule_set_const(&s->growth, 0.0);
    s->tau = 2.0;
    s->beta_capability = s->beta_price = s->beta_reliability = 1.0;
    s->learning = 0.0;
    s->efficiency = 1.0;
    s->depreciation = 0.2;
}

static void provider_release(ss_provider *p, size_t nseg)
{
    size_t k;
    free(p->id);
    free(p->share);
    free(p->margin);
    free(p->opex);
    ss_schedule_clear(&p->reinvest);
    if (p->allocation)
        for (k = 0; k < nseg; k++)
            ss_schedule_clear(&p->allocation[k]);
    if (p->price)
        for (k = 0; k < nseg; k++)
            ss_schedule_clear(&p->price[k]);
    if (p->participation)
        for (k = 0; k < nseg; k++)
            ss_schedule_clear(&p->participation[k]);
    if (p->lever)
        for (k = 0; k < nseg; k++)
            ss_schedule_clear(&p->lever[k]);
    free(p->allocation);
    free(p->price);
    free(p->participation);
    free(p->lever);
    free(p->capability);
    free(p->capability_given);
    free(p->brand);
    free(p->brand_given);
    memset(p, 0, sizeof *p);
}

/* Allocate the per-segment arrays of a provider and set SPEC defaults. */
static int provider_init(ss_provider *p, size_t nseg)
{
    size_t k;
    memset(p, 0, sizeof *p);
    p->share = calloc(nseg, sizeof *p->share);
    p->margin = calloc(nseg, sizeof *p->margin);
    p->opex = calloc(nseg, sizeof *p->opex);
    p->allocation = calloc(nseg, sizeof *p->allocation);
    p->price = calloc(nseg, sizeof *p->price);
    p->participation = calloc(nseg, sizeof *p->participation);
    p->lever = calloc(nseg, sizeof *p->lever);
    p->capability = calloc(nseg, sizeof *p->capability);
    p->capability_given = calloc(nseg, 1);
    p->brand = calloc(nseg, sizeof *p->brand);
    p->brand_given = calloc(nseg, 1);
    if (!p->share || !p->margin || !p->opex || !p->allocation || !p->price ||
        !p->participation || !p->lever || !p->capability || !p->capability_given ||
        !p->brand || !p->brand_given) {
        provider_release(p, nseg);
        return SS_ENOMEM;
    }
    for (k = 0; k < nseg; k++) {
        p->margin[k] = 0.3;
        ss_schedule_set_const(&p->allocation[k], 0.0);
        ss_schedule_set_const(&p->price[k], 1.0);
        ss_schedule_set_const(&p->participation[k], 1.0);
        ss_schedule_set_const(&p->lever[k], 1.0);
    }
    ss_schedule_set_const(&p->reinvest, 0.2);
    p->reliability = 1.0;
    p->recovery = 0.5;
    p->experience = 1.0;
    return SS_OK;
}

ss_model *ss_model_new(size_t nseg, size_t nprov)
{
    ss_model *m = calloc(1, sizeof *m);
    size_t i;
    if (!m)
        return NULL;
    m->nseg = nseg;
    m->nprov = nprov;
    m->seg = calloc(nseg ? nseg : 1, sizeof *m->seg);
    m->prov = calloc(nprov ? nprov : 1, sizeof *m->prov);
    m->name = dup_str("scenario");
    if (!m->seg || !m->prov || !m->name) {
        free(m->seg);
        free(m->prov);
        free(m->name);
        free(m);
        return NULL;
    }
    for (i = 0; i < nseg; i++)
        segment_defaults(&m->seg[i]);
    for (i = 0; i < nprov; i++) {
        if (provider_init(&m->prov[i], nseg) != SS_OK) {
            m->nprov = i;
            ss_model_free(m);
            return NULL;
        }
    }
    m->t0 = 0.0;
    m->t1 = 1.0;
    m->step = 1.0;
    m->epoch = 0.0; /* 0: the output step */
    m->discount_rate = 0.0;
    m->solver.method = SS_SOLVER_RK8PD;
    m->solver.rtol = 1e-8;
    m->solver.atol = 1e-10;
    m->solver.h = 1.0 / 128.0;
    m->solver.hmin = 1e-12;
    m->solver.max_steps = 1000000UL;
    return m;
}

static void event_release(ss_event *e)
{
    free(e->values);
    free(e->mask);
    e->values = NULL;
    e->mask = NULL;
}

void ss_model_free(ss_model *m)
{
    size_t i;
    if (!m)
        return;
    for (i = 0; i < m->nseg; i++) {
        free(m->seg[i].id);
        ss_schedule_clear(&m->seg[i].growth);
    }
    for (i = 0; i < m->nprov; i++)
        provider_release(&m->prov[i], m->nseg);
    for (i = 0; i < m->nev; i++)
        event_release(&m->ev[i]);
    free(m->seg);
    free(m->prov);
    free(m->ev);
    free(m->name);
    free(m);
}

static int copy_event(ss_event *dst, const ss_event *src, size_t nseg)
{
    *dst = *src;
    dst->values = NULL;
    dst->mask = NULL;
    if (src->values) {
        dst->values = malloc(nseg * sizeof *dst->values);
        if (!dst->values)
            return SS_ENOMEM;
        memcpy(dst->values, src->values, nseg * sizeof *dst->values);
    }
    if (src->mask) {
        dst->mask = malloc(nseg);
        if (!dst->mask) {
            free(dst->values);
            dst->values = NULL;
            return SS_ENOMEM;
        }
        memcpy(dst->mask, src->mask, nseg);
    }
    return SS_OK;
}

int ss_model_add_event(ss_model *m, const ss_event *ev, ss_err *err)
{
    ss_event *nev = realloc(m->ev, (m->nev + 1) * sizeof *nev);
    if (!nev)
        return ss_err_set(err, SS_ENOMEM, "events", "out of memory");
    m->ev = nev;
    if (copy_event(&m->ev[m->nev], ev, m->nseg) != SS_OK)
        return ss_err_set(err, SS_ENOMEM, "events", "out of memory");
    m->nev++;
    return SS_OK;
}

ss_model *ss_model_copy(const ss_model *m)
{
    ss_model *c = ss_model_new(m->nseg, m->nprov);
    size_t i, k, K = m->nseg;
    int bad = 0;
    if (!c)
        return NULL;
    free(c->name);
    c->name = dup_str(m->name);
    bad |= !c->name;
    c->t0 = m->t0;
    c->t1 = m->t1;
    c->step = m->step;
    c->epoch = m->epoch;
    c->discount_rate = m->discount_rate;
    c->solver = m->solver;
    c->resolved = m->resolved;
    for (i = 0; i < m->nseg && !bad; i++) {
        ss_schedule g = c->seg[i].growth;
        ss_schedule_clear(&g);
        c->seg[i] = m->seg[i];
        c->seg[i].id = dup_str(m->seg[i].id);
        bad |= (m->seg[i].id && !c->seg[i].id);
        bad |= ss_schedule_copy(&c->seg[i].growth, &m->seg[i].growth) != SS_OK;
    }
    for (i = 0; i < m->nprov && !bad; i++) {
        const ss_provider *s = &m->prov[i];
        ss_provider *d = &c->prov[i];
        d->id = dup_str(s->id);
        bad |= (s->id && !d->id);
        memcpy(d->share, s->share, K * sizeof *d->share);
        memcpy(d->margin, s->margin, K * sizeof *d->margin);
        memcpy(d->opex, s->opex, K * sizeof *d->opex);
        memcpy(d->capability, s->capability, K * sizeof *d->capability);
        memcpy(d->capability_given, s->capability_given, K);
        memcpy(d->brand, s->brand, K * sizeof *d->brand);
        memcpy(d->brand_given, s->brand_given, K);
        d->fixed_cost = s->fixed_cost;
        d->allocation_given = s->allocation_given;
        d->reliability = s->reliability;
        d->recovery = s->recovery;
        d->experience = s->experience;
        ss_schedule_clear(&d->reinvest);
        bad |= ss_schedule_copy(&d->reinvest, &s->reinvest) != SS_OK;
        for (k = 0; k < K && !bad; k++) {
            ss_schedule_clear(&d->allocation[k]);
            ss_schedule_clear(&d->price[k]);
            ss_schedule_clear(&d->participation[k]);
            ss_schedule_clear(&d->lever[k]);
            bad |= ss_schedule_copy(&d->allocation[k], &s->allocation[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->price[k], &s->price[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->participation[k], &s->participation[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->lever[k], &s->lever[k]) != SS_OK;
        }
    }
    for (i = 0; i < m->nev && !bad; i++)
        bad |= ss_model_add_event(c, &m->ev[i], NULL) != SS_OK;
    if (bad) {
        ss_model_free(c);
        return NULL;
    }
    return c;
}

int ss_model_segment_index(const ss_model *m, const char *id)
{
    size_t k;
    for (k = 0; k < m->nseg; k++)
        if (m->seg[k].id && id && strcmp(m->seg[k].id, id) == 0)
            return (int)k;
    return -1;
}

int ss_model_provider_index(const ss_model *m, const char *id)
{
    size_t i;
    for (i = 0; i < m->nprov; i++)
        if (m->prov[i].id && id && strcmp(m->prov[i].id, id) == 0)
            return (int)i;
    return -1;
}

static const char *const field_names[SS_NFIELDS] = {
    "reinvest", "allocation", "price", "participation", "lever"
};
static const char *const solver_names[SS_NSOLVERS] = {
    "rk8pd", "rkf45", "rkck", "rk2", "msadams", "euler", "rk4"
};

const char *ss_field_name(ss_field f)
{
    return (unsigned)f < SS_NFIELDS ? field_names[f] : "?";
}

int ss_field_parse(const char *name)
{
    int i;
    for (i = 0; i < SS_NFIELDS; i++)
        if (name && strcmp(name, field_names[i]) == 0)
            return i;
    return -1;
}

const char *ss_solver_name(ss_solver_method m)
{
    return (unsigned)m < SS_NSOLVERS ? solver_names[m] : "?";
}

int ss_solver_parse(const char *name)
{
    int i;
    for (i = 0; i < SS_NSOLVERS; i++)
        if (name && strcmp(name, solver_names[i]) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- resolve */

/* Key path helpers: "segments.<id>.<field>" and "providers.<id>.<field>[.<seg>]". */
static const char *seg_path(char *buf, size_t n, const ss_model *m, size_t k, const char *field)
{
    snprintf(buf, n, "segments.%s.%s", m->seg[k].id ? m->seg[k].id : "?", field);
    return buf;
}

static const char *prov_path(char *buf, size_t n, const ss_model *m, size_t i,
                             const char *field, long k)
{
    if (k >= 0)
        snprintf(buf, n, "providers.%s.%s.%s", m->prov[i].id ? m->prov[i].id : "?", field,
                 m->seg[k].id ? m->seg[k].id : "?");
    else
        snprintf(buf, n, "providers.%s.%s", m->prov[i].id ? m->prov[i].id : "?", field);
    return buf;
}

/* Check a scalar lies in a range; lo/hi inclusive unless the *_open flag is set. */
static int check_range(ss_err *err, const char *path, double x, double lo, int lo_open,
                       double hi, int hi_open, const char *what)
{
    if (!isfinite(x))
        return ss_err_set(err, SS_EINVAL, path, "must be a finite number (got %g)", x);
    if ((lo_open ? !(x > lo) : !(x >= lo)) || (hi_open ? !(x < hi) : !(x <= hi)))
        return ss_err_set(err, SS_EINVAL, path, "must be %s (got %.17g)", what, x);
    return SS_OK;
}

static int check_sched(ss_err *err, const char *path, const ss_schedule *s, double lo,
                       int lo_open, double hi, int hi_open, const char *what)
{
    int rc = check_range(err, path, ss_schedule_min(s), lo, lo_open, hi, hi_open, what);
    if (rc == SS_OK)
        rc = check_range(err, path, ss_schedule_max(s), lo, lo_open, hi, hi_open, what);
    return rc;
}

static int validate_time(ss_model *m, ss_err *err)
{
    ss_solver *so = &m->solver;
    int rc;
    if ((rc = check_range(err, "time.start", m->t0, -HUGE_VAL, 0, HUGE_VAL, 0, "finite")))
        return rc;
    if ((rc = check_range(err, "time.stop", m->t1, m->t0, 0, HUGE_VAL, 0, ">= time.start")))
        return rc;
    if ((rc = check_range(err, "time.step", m->step, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((m->t1 - m->t0) / m->step > 1e7)
        return ss_err_set(err, SS_EINVAL, "time.step",
                          "too many output times ((stop - start) / step = %.3g > 1e7)",
                          (m->t1 - m->t0) / m->step);
    if (m->epoch == 0.0)
        m->epoch = m->step;
    if ((rc = check_range(err, "time.epoch", m->epoch, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((m->t1 - m->t0) / m->epoch > 1e7)
        return ss_err_set(err, SS_EINVAL, "time.epoch",
                          "too many decision epochs ((stop - start) / epoch > 1e7)");
    if ((rc = check_range(err, "discount_rate", m->discount_rate, -HUGE_VAL, 0, HUGE_VAL, 0, "finite")))
        return rc;
    if ((unsigned)so->method >= SS_NSOLVERS)
        return ss_err_set(err, SS_EINVAL, "solver.method", "unknown solver method");
    if ((rc = check_range(err, "solver.rtol", so->rtol, 0.0, 0, 1.0, 0, "in [0, 1]")))
        return rc;
    if ((rc = check_range(err, "solver.atol", so->atol, 0.0, 0, HUGE_VAL, 0, ">= 0")))
        return rc;
    if (so->rtol == 0.0 && so->atol == 0.0)
        return ss_err_set(err, SS_EINVAL, "solver.rtol", "rtol and atol cannot both be 0");
    if ((rc = check_range(err, "solver.h", so->h, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((rc = check_range(err, "solver.hmin", so->hmin, 0.0, 0, HUGE_VAL, 0, ">= 0")))
        return rc;
    if (so->max_steps < 1)
        return ss_err_set(err, SS_EINVAL, "solver.max_steps", "must be >= 1");
    return SS_OK;
}

static int validate_segments(ss_model *m, ss_err *err)
{
    char p[256];
    size_t k, j;
    int rc;
    if (m->nseg == 0)
        return ss_err_set(err, SS_EINVAL, "segments", "at least one segment is required");
    for (k = 0; k < m->nseg; k++) {
        ss_segment *s = &m->seg[k];
        if (!s->id || !*s->id) {
            snprintf(p, sizeof p, "segments[%zu].id", k + 1);
            return ss_err_set(err, SS_EINVAL, p, "a segment needs an id");
        }
        for (j = 0; j < k; j++)
            if (strcmp(m->seg[j].id, s->id) == 0)
                return ss_err_set(err, SS_EINVAL, seg_path(p, sizeof p, m, k, "id"),
                                  "duplicate segment id '%s'", s->id);
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "size"), s->size, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_sched(err, seg_path(p, sizeof p, m, k, "growth"), &s->growth, -HUGE_VAL, 1, HUGE_VAL, 1, "finite")))
            return rc;
        if (s->has_bass) {
            if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "bass.p"), s->bass_p, 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "bass.q"), s->bass_q, 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "bass.potential"), s->bass_potential, s->size, 0, HUGE_VAL, 1, ">= size")))
                return rc;
        }
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "tau"), s->tau, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "beta_capability"), s->beta_capability, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "beta_price"), s->beta_price, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "beta_reliability"), s->beta_reliability, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "learning"), s->learning, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "efficiency"), s->efficiency, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, seg_path(p, sizeof p, m, k, "depreciation"), s->depreciation, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
    }
    return SS_OK;
}

static int validate_providers(ss_model *m, ss_err *err)
{
    char p[256];
    size_t i, j, k;
    int rc;
    if (m->nprov == 0)
        return ss_err_set(err, SS_EINVAL, "providers", "at least one provider is required");
    for (i = 0; i < m->nprov; i++) {
        ss_provider *v = &m->prov[i];
        if (!v->id || !*v->id) {
            snprintf(p, sizeof p, "providers[%zu].id", i + 1);
            return ss_err_set(err, SS_EINVAL, p, "a provider needs an id");
        }
        for (j = 0; j < i; j++)
            if (strcmp(m->prov[j].id, v->id) == 0)
                return ss_err_set(err, SS_EINVAL, prov_path(p, sizeof p, m, i, "id", -1),
                                  "duplicate provider id '%s'", v->id);
        for (k = 0; k < m->nseg; k++) {
            if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "share", (long)k), v->share[k], 0, 0, 1, 0, "in [0, 1]")))
                return rc;
            if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "margin", (long)k), v->margin[k], -HUGE_VAL, 1, 1, 1, "< 1")))
                return rc;
            if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "opex", (long)k), v->opex[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_sched(err, prov_path(p, sizeof p, m, i, "allocation", (long)k), &v->allocation[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_sched(err, prov_path(p, sizeof p, m, i, "price", (long)k), &v->price[k], 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if ((rc = check_sched(err, prov_path(p, sizeof p, m, i, "participation", (long)k), &v->participation[k], 0, 0, 1, 0, "in [0, 1]")))
                return rc;
            if ((rc = check_sched(err, prov_path(p, sizeof p, m, i, "lever", (long)k), &v->lever[k], 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if (v->capability_given[k] &&
                (rc = check_range(err, prov_path(p, sizeof p, m, i, "capability", (long)k), v->capability[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if (v->brand_given[k] &&
                (rc = check_range(err, prov_path(p, sizeof p, m, i, "brand", (long)k), v->brand[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
        }
        if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "fixed_cost", -1), v->fixed_cost, -HUGE_VAL, 1, HUGE_VAL, 1, "finite")))
            return rc;
        if ((rc = check_sched(err, prov_path(p, sizeof p, m, i, "reinvest", -1), &v->reinvest, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "reliability", -1), v->reliability, 0, 1, 1, 0, "in (0, 1]")))
            return rc;
        if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "recovery", -1), v->recovery, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, prov_path(p, sizeof p, m, i, "experience", -1), v->experience, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
    }
    for (k = 0; k < m->nseg; k++) {
        double sum = 0.0;
        for (i = 0; i < m->nprov; i++)
            sum += m->prov[i].share[k];
        if (fabs(sum - 1.0) > SHARE_SUM_TOL) {
            snprintf(p, sizeof p, "providers.share.%s", m->seg[k].id);
            return ss_err_set(err, SS_EINVAL, p,
                              "shares of segment '%s' sum to %.10g, expected 1 (within 1e-6)",
                              m->seg[k].id, sum);
        }
    }
    return SS_OK;
}

static int validate_events(ss_model *m, ss_err *err)
{
    char p[256];
    size_t e, k;
    int rc;
    for (e = 0; e < m->nev; e++) {
        const ss_event *ev = &m->ev[e];
        snprintf(p, sizeof p, "events[%zu].t", e + 1);
        if (!isfinite(ev->t))
            return ss_err_set(err, SS_EINVAL, p, "must be a finite number");
        if (ev->t < m->t0 - 1e-9 || ev->t > m->t1 + 1e-9)
            return ss_err_set(err, SS_EINVAL, p, "event time %.10g is outside the time range [%.10g, %.10g]",
                              ev->t, m->t0, m->t1);
        switch (ev->kind) {
        case SS_EV_OUTAGE:
            snprintf(p, sizeof p, "events[%zu].provider", e + 1);
            if (ev->provider < 0 || (size_t)ev->provider >= m->nprov)
                return ss_err_set(err, SS_EINVAL, p, "unknown provider");
            snprintf(p, sizeof p, "events[%zu].severity", e + 1);
            if ((rc = check_range(err, p, ev->amount, 0, 1, 1, 1, "in (0, 1)")))
                return rc;
            break;
        case SS_EV_MARKET:
            snprintf(p, sizeof p, "events[%zu].segment", e + 1);
            if (ev->segment < 0 || (size_t)ev->segment >= m->nseg)
                return ss_err_set(err, SS_EINVAL, p, "unknown segment");
            snprintf(p, sizeof p, "events[%zu].factor", e + 1);
            if ((rc = check_range(err, p, ev->amount, 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            break;
        case SS_EV_SET:
            snprintf(p, sizeof p, "events[%zu].provider", e + 1);
            if (ev->provider < 0 || (size_t)ev->provider >= m->nprov)
                return ss_err_set(err, SS_EINVAL, p, "unknown provider");
            snprintf(p, sizeof p, "events[%zu].value", e + 1);
            if (ev->field == SS_FIELD_REINVEST) {
                if ((rc = check_range(err, p, ev->amount, 0, 0, HUGE_VAL, 1, ">= 0")))
                    return rc;
                break;
            }
            if ((unsigned)ev->field >= SS_NFIELDS) {
                snprintf(p, sizeof p, "events[%zu].field", e + 1);
                return ss_err_set(err, SS_EINVAL, p, "unknown field");
            }
            if (!ev->values || !ev->mask)
                return ss_err_set(err, SS_EINVAL, p, "a table keyed by segment id is required");
            for (k = 0; k < m->nseg; k++) {
                if (!ev->mask[k])
                    continue;
                snprintf(p, sizeof p, "events[%zu].value.%s", e + 1, m->seg[k].id);
                switch (ev->field) {
                case SS_FIELD_ALLOCATION:
                    rc = check_range(err, p, ev->values[k], 0, 0, HUGE_VAL, 1, ">= 0");
                    break;
                case SS_FIELD_PARTICIPATION:
                    rc = check_range(err, p, ev->values[k], 0, 0, 1, 0, "in [0, 1]");
                    break;
                default:
                    rc = check_range(err, p, ev->values[k], 0, 1, HUGE_VAL, 1, "> 0");
                    break;
                }
                if (rc)
                    return rc;
            }
            break;
        default:
            snprintf(p, sizeof p, "events[%zu].kind", e + 1);
            return ss_err_set(err, SS_EINVAL, p, "unknown event kind");
        }
    }
    return SS_OK;
}

/* Sum over k of provider i's raw allocation at time t. */
static double alloc_sum(const ss_provider *v, size_t K, double t)
{
    double s = 0.0;
    size_t k;
    for (k = 0; k < K; k++)
        s += ss_schedule_eval(&v->allocation[k], t);
    return s;
}

/* An explicitly given allocation must not sum to zero at t0 or at any knot. */
static int check_alloc_nonzero(const ss_model *m, size_t i, ss_err *err)
{
    const ss_provider *v = &m->prov[i];
    char p[256];
    size_t k, j;
    prov_path(p, sizeof p, m, i, "allocation", -1);
    if (!(alloc_sum(v, m->nseg, m->t0) > 0.0))
        return ss_err_set(err, SS_EINVAL, p, "allocation is zero for every segment at t=%.10g", m->t0);
    for (k = 0; k < m->nseg; k++) {
        const ss_schedule *s = &v->allocation[k];
        for (j = 0; s->kind != SS_SCHED_CONST && j < s->n; j++)
            if (!(alloc_sum(v, m->nseg, s->t[j]) > 0.0))
                return ss_err_set(err, SS_EINVAL, p, "allocation is zero for every segment at t=%.10g", s->t[j]);
    }
    return SS_OK;
}

int ss_model_resolve(ss_model *m, ss_err *err)
{
    size_t i, k, K = m->nseg;
    char p[256];
    int rc;

    if ((rc = validate_time(m, err)) || (rc = validate_segments(m, err)) ||
        (rc = validate_providers(m, err)) || (rc = validate_events(m, err)))
        return rc;

    for (i = 0; i < m->nprov; i++) {
        ss_provider *v = &m->prov[i];
        double rev = 0.0, inv;
        for (k = 0; k < K; k++)
            rev += m->seg[k].size * v->share[k];
        /* default allocation: the provider's initial revenue fractions */
        if (!v->allocation_given) {
            for (k = 0; k < K; k++)
                ss_schedule_set_const(&v->allocation[k],
                                      rev > 0 ? m->seg[k].size * v->share[k] / rev : 1.0 / (double)K);
        } else if ((rc = check_alloc_nonzero(m, i, err))) {
            return rc;
        }
        inv = ss_schedule_eval(&v->reinvest, m->t0) * rev;
        {
            double asum = alloc_sum(v, K, m->t0);
            for (k = 0; k < K; k++) {
                const ss_segment *s = &m->seg[k];
                double alpha = ss_schedule_eval(&v->allocation[k], m->t0) / asum;
                if (v->capability_given[k])
                    continue;
                if (s->depreciation == 0.0)
                    return ss_err_set(err, SS_EINVAL, prov_path(p, sizeof p, m, i, "capability", (long)k),
                                      "capability must be given when segments.%s.depreciation is 0", s->id);
                v->capability[k] = s->efficiency * alpha * inv / s->depreciation;
            }
        }
    }
    /* brand: equilibrium default a_ik(t0) = s_ik(t0) */
    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        for (i = 0; i < m->nprov; i++) {
            ss_provider *v = &m->prov[i];
            double rest = ss_schedule_eval(&v->participation[k], m->t0)
                        * pow(v->capability[k], s->beta_capability)
                        * pow(ss_schedule_eval(&v->price[k], m->t0), -s->beta_price)
                        * pow(v->reliability, s->beta_reliability)
                        * ss_schedule_eval(&v->lever[k], m->t0);
            if (!isfinite(rest))
                return ss_err_set(err, SS_EINVAL, prov_path(p, sizeof p, m, i, "brand", (long)k),
                                  "attractiveness of provider '%s' in segment '%s' is not finite at the start",
                                  v->id, s->id);
            if (!v->brand_given[k]) {
                v->brand[k] = v->share[k] > 0 && rest > 0 ? v->share[k] / rest : 0.0;
                if (!isfinite(v->brand[k]))
                    return ss_err_set(err, SS_EINVAL, prov_path(p, sizeof p, m, i, "brand", (long)k),
                                      "equilibrium brand of provider '%s' in segment '%s' overflows",
                                      v->id, s->id);
            }
            if (v->share[k] > 0 && !(v->brand[k] * rest > 0))
                return ss_err_set(err, SS_EINVAL, prov_path(p, sizeof p, m, i, "share", (long)k),
                                  "provider '%s' has share %g in segment '%s' but zero attractiveness "
                                  "(capability, participation, lever or brand is 0)",
                                  v->id, v->share[k], s->id);
        }
    }
    m->resolved = 1;
    return SS_OK;
}
