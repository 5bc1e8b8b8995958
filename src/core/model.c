/*
 * model.c - the scenario description: allocation with the documented defaults, deep
 * copy, events, name tables, and ss_model_resolve(), which validates every
 * input and fills in the defaults that depend on other inputs (allocation,
 * steady-state capability, equilibrium brand), and the resolved model
 * (ss_resolved) that holds the result.
 * Depends on schedule.c and error.c only.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/model.h"

#define SHARE_SUM_TOL 1e-6

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

/*
 * The per-segment arrays of a provider share one allocation, based at
 * p->allocation: four schedules, five doubles and two flags per segment.
 * One allocation instead of eleven matters because every run copies the
 * model (ss_sim_run works on a copy).
 */
static void provider_release(ss_provider *p, size_t nseg)
{
    size_t k;
    free(p->id);
    ss_schedule_clear(&p->reinvest);
    if (p->allocation) {
        for (k = 0; k < nseg; k++) {
            ss_schedule_clear(&p->allocation[k]);
            ss_schedule_clear(&p->price[k]);
            ss_schedule_clear(&p->participation[k]);
            ss_schedule_clear(&p->lever[k]);
        }
        for (k = 0; k < SS_DECISION_SLOTS(nseg); k++)
            ss_schedule_clear(&p->iv[k]);
    }
    free(p->allocation); /* the block of every per-segment array */
    memset(p, 0, sizeof *p);
}

/* Zero p and give it zeroed per-segment arrays (no defaults). */
static int provider_alloc(ss_provider *p, size_t nseg)
{
    size_t nd = SS_DECISION_SLOTS(nseg);
    size_t need = nseg * (4 * sizeof(ss_schedule) + 5 * sizeof(double) + 2)
                + nd * (sizeof(ss_schedule) + 1);
    unsigned char *blk = calloc(1, need);
    memset(p, 0, sizeof *p);
    if (!blk)
        return SS_ENOMEM;
    /* schedules, then doubles, then flags: every part stays aligned */
    p->allocation = (ss_schedule *)(void *)blk;
    p->price = p->allocation + nseg;
    p->participation = p->price + nseg;
    p->lever = p->participation + nseg;
    p->iv = p->lever + nseg;
    p->share = (double *)(void *)(p->iv + nd);
    p->margin = p->share + nseg;
    p->opex = p->margin + nseg;
    p->capability = p->opex + nseg;
    p->brand = p->capability + nseg;
    p->capability_given = (unsigned char *)(p->brand + nseg);
    p->brand_given = p->capability_given + nseg;
    p->iv_on = p->brand_given + nseg;
    return SS_OK;
}

/* The documented defaults (docs/model.md §4) of a provider whose arrays provider_alloc() just zeroed. */
static void provider_defaults(ss_provider *p, size_t nseg)
{
    size_t k;
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
}

/*
 * A model named `name` (copied; NULL fails) with zeroed segments and
 * providers, every array allocated, no defaults; NULL if out of memory.
 */
static ss_model *model_alloc(size_t nseg, size_t nprov, const char *name)
{
    ss_model *m = calloc(1, sizeof *m);
    size_t i;
    if (!m)
        return NULL;
    m->nseg = nseg;
    m->nprov = nprov;
    m->seg = calloc(nseg ? nseg : 1, sizeof *m->seg);
    m->prov = calloc(nprov ? nprov : 1, sizeof *m->prov);
    m->name = name ? strdup(name) : NULL;
    if (!m->seg || !m->prov || !m->name) {
        free(m->seg);
        free(m->prov);
        free(m->name);
        free(m);
        return NULL;
    }
    for (i = 0; i < nprov; i++) {
        if (provider_alloc(&m->prov[i], nseg) != SS_OK) {
            m->nprov = i;
            ss_model_free(m);
            return NULL;
        }
    }
    return m;
}

ss_model *ss_model_new(size_t nseg, size_t nprov)
{
    ss_model *m = model_alloc(nseg, nprov, "scenario");
    size_t i;
    if (!m)
        return NULL;
    for (i = 0; i < nseg; i++)
        segment_defaults(&m->seg[i]);
    for (i = 0; i < nprov; i++)
        provider_defaults(&m->prov[i], nseg);
    m->t0 = 0.0;
    m->t1 = 1.0;
    m->step = 1.0;
    m->epoch = 0.0; /* 0: the output step */
    m->policy = 0.0;
    m->policy_given = 0;
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

/* Entries allocated for n events: powers of two from 8, so that appending
 * n events one by one copies O(n) entries (growing by one made 200,000
 * events quadratic wherever realloc moves the block); every allocation of
 * m->ev (here and in ss_model_copy) uses it. */
static size_t event_cap(size_t n)
{
    size_t c = 8;
    if (n == 0)
        return 0;
    while (c < n)
        c *= 2;
    return c;
}

int ss_model_add_event(ss_model *m, const ss_event *ev, ss_err *err)
{
    if (event_cap(m->nev + 1) != event_cap(m->nev)) {
        ss_event *nev = realloc(m->ev, event_cap(m->nev + 1) * sizeof *nev);
        if (!nev)
            return ss_err_set(err, SS_ENOMEM, "events", "out of memory");
        m->ev = nev;
    }
    if (copy_event(&m->ev[m->nev], ev, m->nseg) != SS_OK)
        return ss_err_set(err, SS_ENOMEM, "events", "out of memory");
    m->nev++;
    return SS_OK;
}

ss_model *ss_model_copy(const ss_model *m)
{
    ss_model *c = model_alloc(m->nseg, m->nprov, m->name);
    size_t i, k, K = m->nseg;
    int bad = 0;
    if (!c)
        return NULL;
    c->t0 = m->t0;
    c->t1 = m->t1;
    c->step = m->step;
    c->epoch = m->epoch;
    c->policy = m->policy;
    c->policy_given = m->policy_given;
    c->discount_rate = m->discount_rate;
    c->solver = m->solver;
    c->resolved = m->resolved;
    for (i = 0; i < m->nseg && !bad; i++) {
        c->seg[i] = m->seg[i];
        c->seg[i].id = m->seg[i].id ? strdup(m->seg[i].id) : NULL;
        bad |= (m->seg[i].id && !c->seg[i].id);
        bad |= ss_schedule_copy(&c->seg[i].growth, &m->seg[i].growth) != SS_OK;
    }
    for (i = 0; i < m->nprov && !bad; i++) {
        const ss_provider *s = &m->prov[i];
        ss_provider *d = &c->prov[i];
        d->id = s->id ? strdup(s->id) : NULL;
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
        /* the copies start from zeroed (constant 0) schedules; on failure
           ss_schedule_copy leaves a constant, which ss_model_free handles */
        bad |= ss_schedule_copy(&d->reinvest, &s->reinvest) != SS_OK;
        for (k = 0; k < K && !bad; k++) {
            bad |= ss_schedule_copy(&d->allocation[k], &s->allocation[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->price[k], &s->price[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->participation[k], &s->participation[k]) != SS_OK;
            bad |= ss_schedule_copy(&d->lever[k], &s->lever[k]) != SS_OK;
        }
        /* only the slots that are interventions: the others stay constant 0 */
        memcpy(d->iv_on, s->iv_on, SS_DECISION_SLOTS(K));
        for (k = 0; k < SS_DECISION_SLOTS(K) && !bad; k++)
            if (s->iv_on[k])
                bad |= ss_schedule_copy(&d->iv[k], &s->iv[k]) != SS_OK;
    }
    if (!bad && m->nev > 0) {
        c->ev = malloc(event_cap(m->nev) * sizeof *c->ev);
        bad |= !c->ev;
    }
    for (i = 0; i < m->nev && !bad; i++) {
        bad |= copy_event(&c->ev[i], &m->ev[i], m->nseg) != SS_OK;
        if (!bad)
            c->nev++;
    }
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

/* ------------------------------------------------------- interventions */

size_t ss_decision_slot(ss_field f, size_t k, size_t nseg)
{
    switch (f) {
    case SS_FIELD_ALLOCATION: return 1 + k;
    case SS_FIELD_PRICE: return 1 + nseg + k;
    case SS_FIELD_PARTICIPATION: return 1 + 2 * nseg + k;
    case SS_FIELD_LEVER: return 1 + 3 * nseg + k;
    case SS_FIELD_REINVEST:
    default: return 0;
    }
}

ss_field ss_decision_field(size_t j, size_t nseg, int *segment)
{
    if (j == 0 || nseg == 0) {
        *segment = -1;
        return SS_FIELD_REINVEST;
    }
    *segment = (int)((j - 1) % nseg);
    return (ss_field)(SS_FIELD_ALLOCATION + (j - 1) / nseg);
}

ss_schedule *ss_provider_decision(ss_provider *p, size_t j, size_t nseg)
{
    int k;
    switch (ss_decision_field(j, nseg, &k)) {
    case SS_FIELD_ALLOCATION: return &p->allocation[k];
    case SS_FIELD_PRICE: return &p->price[k];
    case SS_FIELD_PARTICIPATION: return &p->participation[k];
    case SS_FIELD_LEVER: return &p->lever[k];
    case SS_FIELD_REINVEST:
    default: return &p->reinvest;
    }
}

double ss_model_policy_time(const ss_model *m)
{
    return m->policy_given ? m->policy : m->t0;
}

size_t ss_model_interventions(const ss_model *m)
{
    size_t i, j, n = 0;
    for (i = 0; i < m->nprov; i++)
        for (j = 0; j < SS_DECISION_SLOTS(m->nseg); j++)
            n += m->prov[i].iv_on[j] != 0;
    return n;
}

static int same_schedule(const ss_schedule *a, const ss_schedule *b)
{
    size_t j;
    if (a->kind != b->kind)
        return 0;
    if (a->kind == SS_SCHED_CONST)
        return a->value == b->value;
    if (a->n != b->n)
        return 0;
    for (j = 0; j < a->n; j++)
        if (a->t[j] != b->t[j] || a->v[j] != b->v[j])
            return 0;
    return 1;
}

/* Move provider slot j of v onto an intervention holding v's own schedule. */
static int make_intervention(ss_provider *pv, size_t j, size_t K)
{
    ss_schedule *own = ss_provider_decision(pv, j, K);
    ss_schedule_clear(&pv->iv[j]);
    if (ss_schedule_copy(&pv->iv[j], own) != SS_OK)
        return SS_ENOMEM;
    pv->iv_on[j] = 1;
    return SS_OK;
}

int ss_model_rebase(ss_model *v, const ss_model *base, ss_err *err)
{
    size_t i, K = v->nseg;
    for (i = 0; i < v->nprov; i++) {
        ss_provider *pv = &v->prov[i];
        int bi = ss_model_provider_index(base, pv->id);
        const ss_provider *pb;
        size_t j;
        int alloc_all;
        if (bi < 0)
            continue;
        pb = &base->prov[bi];
        /* an allocation written in the variant where the base defaulted it
         * replaces the whole default from the policy time on */
        alloc_all = pv->allocation_given && !pb->allocation_given;
        for (j = 0; j < SS_DECISION_SLOTS(K); j++) {
            int k, bk = -1, vk;
            ss_field f = ss_decision_field(j, K, &vk);
            size_t bj;
            const ss_schedule *beff, *bbase;
            if (vk >= 0 && (bk = ss_model_segment_index(base, v->seg[vk].id)) < 0)
                continue;
            k = bk;
            bj = ss_decision_slot(f, k < 0 ? 0 : (size_t)k, base->nseg);
            bbase = ss_provider_decision((ss_provider *)pb, bj, base->nseg);
            beff = pb->iv_on[bj] ? &pb->iv[bj] : bbase;
            if (f == SS_FIELD_ALLOCATION && !pb->allocation_given && !pv->allocation_given)
                continue; /* both defaulted: the base's default */
            if ((f == SS_FIELD_ALLOCATION && alloc_all) ||
                !same_schedule(ss_provider_decision(pv, j, K), beff)) {
                if (make_intervention(pv, j, K) != SS_OK)
                    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            } else if (pb->iv_on[bj]) {
                ss_schedule_clear(&pv->iv[j]);
                if (ss_schedule_copy(&pv->iv[j], &pb->iv[bj]) != SS_OK)
                    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
                pv->iv_on[j] = 1;
            }
            /* the base decision input is the base's */
            {
                ss_schedule *own = ss_provider_decision(pv, j, K);
                ss_schedule_clear(own);
                if (ss_schedule_copy(own, bbase) != SS_OK)
                    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            }
        }
        pv->allocation_given = pb->allocation_given;
    }
    return SS_OK;
}

/* ---------------------------------------------------------------- resolve */

/*
 * Key paths of the inputs: "segments.<id>.<field>",
 * "providers.<id>.<field>[.<seg>]", "events[<n>].<field>[.<seg>]" or a
 * literal.  The checks take a key_path by value and format it only when they
 * fail: formatting every path up front cost more than the checks themselves.
 */
typedef enum { KP_LIT, KP_SEG, KP_PROV, KP_EVENT } kp_kind;

typedef struct key_path {
    kp_kind kind;
    const ss_model *m;
    const char *field;        /* KP_LIT: the whole path */
    size_t i;                 /* segment, provider or event index */
    long k;                   /* KP_PROV, KP_EVENT: segment index, or -1 */
} key_path;

static key_path kp_lit(const char *path)
{
    key_path kp = { KP_LIT, NULL, path, 0, -1 };
    return kp;
}

static key_path kp_seg(const ss_model *m, size_t k, const char *field)
{
    key_path kp = { KP_SEG, m, field, k, -1 };
    return kp;
}

static key_path kp_prov(const ss_model *m, size_t i, const char *field, long k)
{
    key_path kp = { KP_PROV, m, field, i, k };
    return kp;
}

/* events[e + 1].<field>, or events[e + 1].<field>.<segment k's id> if k >= 0. */
static key_path kp_event(const ss_model *m, size_t e, const char *field, long k)
{
    key_path kp = { KP_EVENT, m, field, e, k };
    return kp;
}

/* The text of kp in buf (n bytes); returns buf (or the literal). */
static const char *kp_format(char *buf, size_t n, key_path kp)
{
    const ss_model *m = kp.m;
    switch (kp.kind) {
    case KP_SEG:
        snprintf(buf, n, "segments.%s.%s", m->seg[kp.i].id ? m->seg[kp.i].id : "?", kp.field);
        return buf;
    case KP_PROV:
        if (kp.k >= 0)
            snprintf(buf, n, "providers.%s.%s.%s", m->prov[kp.i].id ? m->prov[kp.i].id : "?",
                     kp.field, m->seg[kp.k].id ? m->seg[kp.k].id : "?");
        else
            snprintf(buf, n, "providers.%s.%s", m->prov[kp.i].id ? m->prov[kp.i].id : "?", kp.field);
        return buf;
    case KP_EVENT:
        if (kp.k >= 0)
            snprintf(buf, n, "events[%zu].%s.%s", kp.i + 1, kp.field, m->seg[kp.k].id);
        else
            snprintf(buf, n, "events[%zu].%s", kp.i + 1, kp.field);
        return buf;
    case KP_LIT:
    default:
        return kp.field;
    }
}

/* The error of check_range() for x (kept out of line: checks rarely fail). */
static int range_error(ss_err *err, key_path kp, double x, const char *what)
{
    char p[256];
    if (!isfinite(x))
        return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp),
                          "must be a finite number (got %g)", x);
    return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp),
                      "must be %s (got %.17g)", what, x);
}

/* Check a scalar lies in a range; lo/hi inclusive unless the *_open flag is set. */
static int check_range(ss_err *err, key_path kp, double x, double lo, int lo_open,
                       double hi, int hi_open, const char *what)
{
    if (isfinite(x) && (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi))
        return SS_OK;
    return range_error(err, kp, x, what);
}

static int check_sched(ss_err *err, key_path kp, const ss_schedule *s, double lo,
                       int lo_open, double hi, int hi_open, const char *what)
{
    int rc;
    if (s->kind == SS_SCHED_CONST) /* min = max = the constant */
        return check_range(err, kp, s->value, lo, lo_open, hi, hi_open, what);
    rc = check_range(err, kp, ss_schedule_min(s), lo, lo_open, hi, hi_open, what);
    if (rc == SS_OK)
        rc = check_range(err, kp, ss_schedule_max(s), lo, lo_open, hi, hi_open, what);
    return rc;
}

/*
 * The grid t0 + n * step (outputs, epochs) must be strictly increasing in
 * doubles: a step below a few units in the last place of the times (e.g.
 * start = 1e308, step = 1) would repeat the same time. Four ulps keep
 * consecutive rounded grid times apart.
 */
static int check_grid_resolution(const ss_model *m, const char *what, double step, ss_err *err)
{
    double mag = fmax(fabs(m->t0), fabs(m->t1));
    double res = 4.0 * DBL_EPSILON * mag;
    if (step > res)
        return SS_OK;
    return ss_err_set(err, SS_EINVAL, what,
                      "%.17g is below the resolution of times near %.3g (doubles there are "
                      "%.3g apart, so the grid start + n * step would repeat times): use a "
                      "larger step or times of a smaller magnitude",
                      step, mag, DBL_EPSILON * mag);
}

/*
 * The explicit fixed-step methods diverge when a step exceeds their
 * stability limit for the fastest linear relaxation of the model: 1/tau_k
 * (shares), d_k (capability) and 1/recovery_i (reliability). Forward Euler
 * is stable for h * rate <= 2, classical RK4 for h * rate <= 2.785 (2.78
 * is used).
 */
static int check_fixed_step_stability(const ss_model *m, ss_err *err)
{
    const ss_solver *so = &m->solver;
    const char *meth;
    double lim;
    size_t k, i;
    if (so->method == SS_SOLVER_EULER) {
        meth = "euler";
        lim = 2.0;
    } else if (so->method == SS_SOLVER_RK4) {
        meth = "rk4";
        lim = 2.78;
    } else {
        return SS_OK;
    }
    for (k = 0; k < m->nseg; k++) {
        const ss_segment *s = &m->seg[k];
        if (so->h > lim * s->tau)
            return ss_err_set(err, SS_EINVAL, "solver.h",
                              "%.10g is beyond the stability limit of %s for segments.%s.tau = %.10g: "
                              "h must be <= %g * tau = %.10g (use a smaller solver.h or an "
                              "adaptive method)", so->h, meth, s->id, s->tau, lim, lim * s->tau);
        if (s->depreciation > 0 && so->h * s->depreciation > lim)
            return ss_err_set(err, SS_EINVAL, "solver.h",
                              "%.10g is beyond the stability limit of %s for segments.%s.depreciation = "
                              "%.10g: h must be <= %g / depreciation = %.10g (use a smaller solver.h "
                              "or an adaptive method)", so->h, meth, s->id, s->depreciation, lim,
                              lim / s->depreciation);
    }
    for (i = 0; i < m->nprov; i++) {
        const ss_provider *v = &m->prov[i];
        if (so->h > lim * v->recovery)
            return ss_err_set(err, SS_EINVAL, "solver.h",
                              "%.10g is beyond the stability limit of %s for providers.%s.recovery = "
                              "%.10g: h must be <= %g * recovery = %.10g (use a smaller solver.h or "
                              "an adaptive method)", so->h, meth, v->id, v->recovery, lim,
                              lim * v->recovery);
    }
    return SS_OK;
}

static int validate_time(ss_model *m, ss_err *err)
{
    ss_solver *so = &m->solver;
    int rc;
    if ((rc = check_range(err, kp_lit("time.start"), m->t0, -HUGE_VAL, 0, HUGE_VAL, 0, "finite")))
        return rc;
    if ((rc = check_range(err, kp_lit("time.stop"), m->t1, m->t0, 0, HUGE_VAL, 0, ">= time.start")))
        return rc;
    if ((rc = check_range(err, kp_lit("time.step"), m->step, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((m->t1 - m->t0) / m->step > 1e7)
        return ss_err_set(err, SS_EINVAL, "time.step",
                          "too many output times ((stop - start) / step = %.3g > 1e7)",
                          (m->t1 - m->t0) / m->step);
    if ((rc = check_grid_resolution(m, "time.step", m->step, err)))
        return rc;
    if (m->epoch == 0.0)
        m->epoch = m->step;
    if ((rc = check_range(err, kp_lit("time.epoch"), m->epoch, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((m->t1 - m->t0) / m->epoch > 1e7)
        return ss_err_set(err, SS_EINVAL, "time.epoch",
                          "too many decision epochs ((stop - start) / epoch > 1e7)");
    if ((rc = check_grid_resolution(m, "time.epoch", m->epoch, err)))
        return rc;
    if ((rc = check_range(err, kp_lit("discount_rate"), m->discount_rate, -HUGE_VAL, 0, HUGE_VAL, 0, "finite")))
        return rc;
    if ((unsigned)so->method >= SS_NSOLVERS)
        return ss_err_set(err, SS_EINVAL, "solver.method", "unknown solver method");
    if ((rc = check_range(err, kp_lit("solver.rtol"), so->rtol, 0.0, 0, 1.0, 0, "in [0, 1]")))
        return rc;
    if ((rc = check_range(err, kp_lit("solver.atol"), so->atol, 0.0, 0, HUGE_VAL, 0, ">= 0")))
        return rc;
    if (so->rtol == 0.0 && so->atol == 0.0)
        return ss_err_set(err, SS_EINVAL, "solver.rtol", "rtol and atol cannot both be 0");
    if ((rc = check_range(err, kp_lit("solver.h"), so->h, 0.0, 1, HUGE_VAL, 0, "> 0")))
        return rc;
    if ((rc = check_range(err, kp_lit("solver.hmin"), so->hmin, 0.0, 0, HUGE_VAL, 0, ">= 0")))
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
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_seg(m, k, "id")),
                                  "duplicate segment id '%s'", s->id);
        if ((rc = check_range(err, kp_seg(m, k, "size"), s->size, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_sched(err, kp_seg(m, k, "growth"), &s->growth, -HUGE_VAL, 1, HUGE_VAL, 1, "finite")))
            return rc;
        if (s->has_bass) {
            if ((rc = check_range(err, kp_seg(m, k, "bass.p"), s->bass_p, 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if ((rc = check_range(err, kp_seg(m, k, "bass.q"), s->bass_q, 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_range(err, kp_seg(m, k, "bass.potential"), s->bass_potential, s->size, 0, HUGE_VAL, 1, ">= size")))
                return rc;
        }
        if ((rc = check_range(err, kp_seg(m, k, "tau"), s->tau, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "beta_capability"), s->beta_capability, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "beta_price"), s->beta_price, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "beta_reliability"), s->beta_reliability, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "learning"), s->learning, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "efficiency"), s->efficiency, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, kp_seg(m, k, "depreciation"), s->depreciation, 0, 0, HUGE_VAL, 1, ">= 0")))
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
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "id", -1)),
                                  "duplicate provider id '%s'", v->id);
        for (k = 0; k < m->nseg; k++) {
            if ((rc = check_range(err, kp_prov(m, i, "share", (long)k), v->share[k], 0, 0, 1, 0, "in [0, 1]")))
                return rc;
            if ((rc = check_range(err, kp_prov(m, i, "margin", (long)k), v->margin[k], -HUGE_VAL, 1, 1, 1, "< 1")))
                return rc;
            if ((rc = check_range(err, kp_prov(m, i, "opex", (long)k), v->opex[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_sched(err, kp_prov(m, i, "allocation", (long)k), &v->allocation[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if ((rc = check_sched(err, kp_prov(m, i, "price", (long)k), &v->price[k], 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if ((rc = check_sched(err, kp_prov(m, i, "participation", (long)k), &v->participation[k], 0, 0, 1, 0, "in [0, 1]")))
                return rc;
            if ((rc = check_sched(err, kp_prov(m, i, "lever", (long)k), &v->lever[k], 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            if (v->capability_given[k] &&
                (rc = check_range(err, kp_prov(m, i, "capability", (long)k), v->capability[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
            if (v->brand_given[k] &&
                (rc = check_range(err, kp_prov(m, i, "brand", (long)k), v->brand[k], 0, 0, HUGE_VAL, 1, ">= 0")))
                return rc;
        }
        if ((rc = check_range(err, kp_prov(m, i, "fixed_cost", -1), v->fixed_cost, -HUGE_VAL, 1, HUGE_VAL, 1, "finite")))
            return rc;
        if ((rc = check_sched(err, kp_prov(m, i, "reinvest", -1), &v->reinvest, 0, 0, HUGE_VAL, 1, ">= 0")))
            return rc;
        if ((rc = check_range(err, kp_prov(m, i, "reliability", -1), v->reliability, 0, 1, 1, 0, "in (0, 1]")))
            return rc;
        if ((rc = check_range(err, kp_prov(m, i, "recovery", -1), v->recovery, 0, 1, HUGE_VAL, 1, "> 0")))
            return rc;
        if ((rc = check_range(err, kp_prov(m, i, "experience", -1), v->experience, 0, 0, HUGE_VAL, 1, ">= 0")))
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

/* The interventions: the ranges of the inputs they replace, and a policy
 * time inside the time range. */
static int validate_interventions(ss_model *m, ss_err *err)
{
    size_t i, j, K = m->nseg;
    int rc;
    if (m->policy_given &&
        (rc = check_range(err, kp_lit("time.policy"), m->policy, m->t0, 0, m->t1, 0,
                          "inside [time.start, time.stop]")))
        return rc;
    for (i = 0; i < m->nprov; i++) {
        const ss_provider *v = &m->prov[i];
        for (j = 0; j < SS_DECISION_SLOTS(K); j++) {
            int k;
            ss_field f;
            if (!v->iv_on[j])
                continue;
            f = ss_decision_field(j, K, &k);
            switch (f) {
            case SS_FIELD_PRICE:
            case SS_FIELD_LEVER:
                rc = check_sched(err, kp_prov(m, i, ss_field_name(f), k), &v->iv[j], 0, 1, HUGE_VAL, 1, "> 0");
                break;
            case SS_FIELD_PARTICIPATION:
                rc = check_sched(err, kp_prov(m, i, ss_field_name(f), k), &v->iv[j], 0, 0, 1, 0, "in [0, 1]");
                break;
            default:
                rc = check_sched(err, kp_prov(m, i, ss_field_name(f), k), &v->iv[j], 0, 0, HUGE_VAL, 1, ">= 0");
                break;
            }
            if (rc)
                return rc;
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
        if (!isfinite(ev->t))
            return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "t", -1)),
                              "must be a finite number");
        if (ev->t < m->t0 - 1e-9 || ev->t > m->t1 + 1e-9)
            return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "t", -1)),
                              "event time %.10g is outside the time range [%.10g, %.10g]",
                              ev->t, m->t0, m->t1);
        switch (ev->kind) {
        case SS_EV_OUTAGE:
            if (ev->provider < 0 || (size_t)ev->provider >= m->nprov)
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "provider", -1)),
                                  "unknown provider");
            if ((rc = check_range(err, kp_event(m, e, "severity", -1), ev->amount, 0, 1, 1, 1, "in (0, 1)")))
                return rc;
            break;
        case SS_EV_MARKET:
            if (ev->segment < 0 || (size_t)ev->segment >= m->nseg)
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "segment", -1)),
                                  "unknown segment");
            if ((rc = check_range(err, kp_event(m, e, "factor", -1), ev->amount, 0, 1, HUGE_VAL, 1, "> 0")))
                return rc;
            break;
        case SS_EV_SET:
            if (ev->provider < 0 || (size_t)ev->provider >= m->nprov)
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "provider", -1)),
                                  "unknown provider");
            if (ev->field == SS_FIELD_REINVEST) {
                if ((rc = check_range(err, kp_event(m, e, "value", -1), ev->amount, 0, 0, HUGE_VAL, 1, ">= 0")))
                    return rc;
                break;
            }
            if ((unsigned)ev->field >= SS_NFIELDS)
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "field", -1)),
                                  "unknown field");
            if (!ev->values || !ev->mask)
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "value", -1)),
                                  "a table keyed by segment id is required");
            for (k = 0; k < m->nseg; k++) {
                key_path kp = kp_event(m, e, "value", (long)k);
                if (!ev->mask[k])
                    continue;
                switch (ev->field) {
                case SS_FIELD_ALLOCATION:
                    rc = check_range(err, kp, ev->values[k], 0, 0, HUGE_VAL, 1, ">= 0");
                    break;
                case SS_FIELD_PARTICIPATION:
                    rc = check_range(err, kp, ev->values[k], 0, 0, 1, 0, "in [0, 1]");
                    break;
                default:
                    rc = check_range(err, kp, ev->values[k], 0, 1, HUGE_VAL, 1, "> 0");
                    break;
                }
                if (rc)
                    return rc;
            }
            break;
        default:
            return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_event(m, e, "kind", -1)),
                              "unknown event kind");
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
    if (!(alloc_sum(v, m->nseg, m->t0) > 0.0))
        return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "allocation", -1)),
                          "allocation is zero for every segment at t=%.10g", m->t0);
    for (k = 0; k < m->nseg; k++) {
        const ss_schedule *s = &v->allocation[k];
        for (j = 0; s->kind != SS_SCHED_CONST && j < s->n; j++)
            if (!(alloc_sum(v, m->nseg, s->t[j]) > 0.0))
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "allocation", -1)),
                                  "allocation is zero for every segment at t=%.10g", s->t[j]);
    }
    return SS_OK;
}

int ss_model_resolve(ss_model *m, ss_err *err)
{
    size_t i, k, K = m->nseg;
    char p[256];
    int rc;

    if ((rc = validate_time(m, err)) || (rc = validate_segments(m, err)) ||
        (rc = validate_providers(m, err)) || (rc = validate_interventions(m, err)) ||
        (rc = validate_events(m, err)) || (rc = check_fixed_step_stability(m, err)))
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
                    return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "capability", (long)k)),
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
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "brand", (long)k)),
                                  "attractiveness of provider '%s' in segment '%s' is not finite at the start",
                                  v->id, s->id);
            if (!v->brand_given[k]) {
                v->brand[k] = v->share[k] > 0 && rest > 0 ? v->share[k] / rest : 0.0;
                if (!isfinite(v->brand[k]))
                    return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "brand", (long)k)),
                                      "equilibrium brand of provider '%s' in segment '%s' overflows",
                                      v->id, s->id);
            }
            if (v->share[k] > 0 && !(v->brand[k] * rest > 0))
                return ss_err_set(err, SS_EINVAL, kp_format(p, sizeof p, kp_prov(m, i, "share", (long)k)),
                                  "provider '%s' has share %g in segment '%s' but zero attractiveness "
                                  "(capability, participation, lever or brand is 0)",
                                  v->id, v->share[k], s->id);
        }
    }
    m->resolved = 1;
    return SS_OK;
}

/* ------------------------------------------------------ the resolved model */

struct ss_resolved {
    ss_model *m;              /* resolved, never changed */
};

int ss_resolved_adopt(ss_resolved **out, ss_model *m, ss_err *err)
{
    ss_resolved *r;
    int rc;
    *out = NULL;
    if (!m)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = ss_model_resolve(m, err)) != SS_OK) {
        ss_model_free(m);
        return rc;
    }
    if (!(r = malloc(sizeof *r))) {
        ss_model_free(m);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    r->m = m;
    *out = r;
    return SS_OK;
}

int ss_resolved_new(ss_resolved **out, const ss_model *m, ss_err *err)
{
    return ss_resolved_adopt(out, ss_model_copy(m), err);
}

const ss_model *ss_resolved_model(const ss_resolved *r)
{
    return r->m;
}

void ss_resolved_free(ss_resolved *r)
{
    if (!r)
        return;
    ss_model_free(r->m);
    free(r);
}
