/*
 * sim.c - integration of the canonical model (docs/model.md) and recording of its
 * outputs.
 *
 * State vector layout (N providers, K segments):
 *   [0, NK)          s_ik   share
 *   [NK, 2NK)        C_ik   capability
 *   [2NK, 3NK)       V_ik   cumulative volume
 *   [3NK, 3NK+N)     R_i    reliability
 *   [3NK+N, 3NK+2N)  NPV_i
 *   [3NK+2N, +K)     M_k (growth segments) or A_k (Bass segments)
 *   [base_dim, +J)   user stocks k_j (ss_run_opts.nstock; none by default)
 *
 * User stocks and links (docs/model.md section 13): the caller's
 * link_eval runs first in eval_aux (apply_links writes the values into the
 * slots of the linked inputs, whose schedules ext_setup made constant), then
 * the algebra, then eval_derivs calls stock_rates for the stocks'
 * derivatives. Without them the right-hand side pays two integer tests.
 *
 * The run walks a sorted list of breakpoints (output times, event times,
 * schedule knots, decision epochs); at each it applies the events due, calls
 * the epoch callback, records the outputs, then integrates to the next one
 * with a reset gsl_odeiv2 driver (or a fixed-step Euler/RK4 loop).  Step
 * schedules hold the value in force at the start of each interval.  Output
 * times are not discontinuities but stay breakpoints on purpose: every output
 * (and every state a callback sees) is a state the solver stepped to.  On the
 * flagship, stepping across them with outputs from an interpolant would take
 * 27 steps instead of 41 (1.5x faster) but put the outputs about 20x further
 * from a tight reference, since the output grid, not the tolerance, bounds the
 * steps (docs/model.md section 9, docs/performance.md "Output times and
 * accuracy").  The reset costs no step there: a variant that steps on across
 * the outputs without it took the same 41 steps.
 *
 * Performance (see docs/performance.md).  The right-hand side never looks a
 * schedule up by binary search: classify() (after every change of
 * schedules: start, `set` events, ss_run_set) computes what depends only on
 * constant schedules (brand * participation * price^-beta * lever, 1/price,
 * the normalised allocation, reinvest, growth) and lists the inputs with a
 * step or linear schedule; before each integration interval,
 * prepare_interval() compiles only those into slots: a constant when the
 * schedule cannot change inside the interval (steps hold the value at its
 * start, linear schedules on a flat piece), else the linear piece in force,
 * evaluated with ss_schedule_eval's own formula and falling back to it
 * outside the piece, so the values are the same.  Only the few slots that
 * really vary are re-evaluated inside the right-hand side, and an input
 * past its last knot leaves the lists until the next classify().  The
 * first step from a breakpoint reuses the auxiliaries that recording the
 * outputs there has just computed.  Powers with
 * exponent 0, 1, 0.5 or 2 skip pow() (price^-beta with a general beta is
 * memoised per provider and segment), the discount factor is computed once
 * per evaluation, divisions by tau, recovery, V0, price and the sum of
 * attractiveness are multiplications by reciprocals, the finiteness check
 * of the derivatives is one pass without branches.  The right-hand side
 * allocates nothing.  All per-run arrays and the GSL driver live in an
 * ss_sim_workspace that can be reused across runs (ss_sim_run_ws);
 * ss_sim_run uses a temporary one.  Callbacks (policies, derived metrics)
 * cost nothing when absent; the accessors recompute the auxiliaries at most
 * once per breakpoint and schedule change.
 * Depends on model.c, schedule.c, result.c, sort_doubles.c and GSL.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_machine.h>
#include <gsl/gsl_odeiv2.h>
#include "stratsim/sim.h"
#include "core/sim_internal.h"
#include "core/sort_doubles.h"

#define TIME_TOL 1e-9
/* how far a share may stray outside [0, 1] by rounding */
#define SHARE_TOL 1e-9

/* ------------------------------------------------------- compiled inputs */

/* A schedule within one integration interval: a constant, or a linear piece. */
typedef struct slot {
    double v;                 /* the constant, or the value at the piece's start */
    double t0, t1, dt, dv;    /* dyn: piece [t0, t1), v(t) = v + (t - t0) / dt * dv */
    const ss_schedule *s;     /* dyn: the schedule itself, for t outside the piece */
    int dyn;
} slot;

/* How x^e is computed (x >= 0). */
enum { PW_ZERO, PW_ONE, PW_HALF, PW_TWO, PW_GEN };

static int pw_mode(double e)
{
    return e == 0.0 ? PW_ZERO : e == 1.0 ? PW_ONE : e == 0.5 ? PW_HALF : e == 2.0 ? PW_TWO : PW_GEN;
}

static inline double pw(double x, int mode, double e)
{
    switch (mode) {
    case PW_ZERO: return 1.0;
    case PW_ONE: return x;
    case PW_HALF: return sqrt(x);
    case PW_TWO: return x * x;
    default: return pow(x, e);
    }
}

/* x^-e for x > 0. */
static inline double pw_neg(double x, int mode, double e)
{
    switch (mode) {
    case PW_ZERO: return 1.0;
    case PW_ONE: return 1.0 / x;
    case PW_HALF: return 1.0 / sqrt(x);
    case PW_TWO: return 1.0 / (x * x);
    default: return pow(x, -e);
    }
}

/* Per-segment constants. */
typedef struct seg_c {
    double bC, bP, bR;        /* attractiveness exponents */
    int mC, mP, mR;           /* their pw modes */
    double inv_tau, eff, dep;
    double neg_b;             /* -learning */
    int learn;                /* learning != 0 */
    int bass;
    double bass_p, bass_q, pot;
} seg_c;

struct ss_run {
    ss_model *m;              /* resolved working copy; schedules change on `set` */
    const ss_run_opts *opts;
    size_t N, K, NK, dim;
    double t;                 /* current time (at a breakpoint in callbacks) */
    double *y;                /* state */
    /* constants of the run */
    seg_c *seg;               /* [K] */
    double *invV0;            /* [NK] 1/V_ik(t0), 0 if V_ik(t0) = 0 */
    double *om;               /* [NK] 1 - m0_ik */
    double *opex;             /* [NK] */
    double *brand;            /* [NK] */
    double *fixed, *inv_rec;  /* [N] */
    double r_disc;            /* discount rate */
    /* interval cache (prepare_interval) */
    slot *sl_w, *sl_p, *sl_x, *sl_a; /* [NK] participation, price, lever, allocation */
    slot *sl_rho;             /* [N] reinvest */
    slot *sl_g;               /* [K] growth */
    double *fac;              /* [NK] brand * w * price^-bP * x */
    double *invp;             /* [NK] 1 / price */
    double *pcache_p, *pcache_pp; /* [NK] last price and its price^-bP (pow memo) */
    double *rho, *g;          /* [N], [K] */
    size_t *dyn_att;          /* [NK] ik whose w, price or lever varies */
    size_t *dyn_alloc;        /* [N] providers whose allocation varies */
    size_t *dyn_rho;          /* [N] */
    size_t *dyn_g;            /* [K] */
    size_t ndyn_att, ndyn_alloc, ndyn_rho, ndyn_g;
    size_t *var_att, *var_alloc, *var_rho, *var_g; /* the same with a non-constant schedule */
    size_t nvar_att, nvar_alloc, nvar_rho, nvar_g;
    unsigned char *alloc_bad; /* [N] allocation constant in the interval sums to <= 0 */
    int any_alloc_bad, const_alloc_bad;
    int sched_ok;             /* classify() matches the schedules */
    double cache_ta, cache_tb;
    int cache_ok;             /* the cache matches the schedules and [cache_ta, cache_tb] */
    int fresh;                /* auxiliaries are those at t (callbacks) */
    /* auxiliaries filled by eval_model() */
    double *tgt, *rev, *margin, *alpha; /* [NK] */
    double *revi, *inv, *gp, *op;       /* [N] */
    double *M;                          /* [K] */
    /* fixed-step scratch */
    double *k1, *k2, *k3, *k4, *ytmp;
    ss_err *err;
    int failed;               /* set by eval_model when it recorded an error */
    /* user stocks and links (ss_run_opts; zero when unused) */
    size_t base_dim;          /* the model's own state; stocks follow it */
    size_t nstock, nlink;
    const ss_link *links;     /* [nlink] */
    double *linkv;            /* [nlink] latest link values */
    unsigned char *link_alloc;/* [N] provider has a linked allocation */
    const double *ay;         /* state read by the accessors inside a phase */
    double at;                /* its time */
    int phase;                /* 0: at a breakpoint; 1: links/initial stocks; 2: stock rates */
};

/* Offsets into the state vector. */
#define IX_S(r, i, k) ((i) * (r)->K + (k))
#define IX_C(r, i, k) ((r)->N * (r)->K + (i) * (r)->K + (k))
#define IX_V(r, i, k) (2 * (r)->N * (r)->K + (i) * (r)->K + (k))
#define IX_R(r, i) (3 * (r)->N * (r)->K + (i))
#define IX_NPV(r, i) (3 * (r)->N * (r)->K + (r)->N + (i))
#define IX_X(r, k) (3 * (r)->N * (r)->K + 2 * (r)->N + (k))

/* Human-readable name of state variable j, for error messages. */
static void var_name(const struct ss_run *r, size_t j, char *buf, size_t n)
{
    const ss_model *m = r->m;
    size_t NK = r->N * r->K;
    if (j < 3 * NK) {
        static const char *const what[3] = { "share", "capability", "volume" };
        size_t q = j / NK, rem = j % NK;
        snprintf(buf, n, "%s[%s,%s]", what[q], m->prov[rem / r->K].id, m->seg[rem % r->K].id);
    } else if (j < 3 * NK + r->N) {
        snprintf(buf, n, "reliability[%s]", m->prov[j - 3 * NK].id);
    } else if (j < 3 * NK + 2 * r->N) {
        snprintf(buf, n, "npv[%s]", m->prov[j - 3 * NK - r->N].id);
    } else if (j < r->base_dim) {
        size_t k = j - 3 * NK - 2 * r->N;
        snprintf(buf, n, "%s[%s]", m->seg[k].has_bass ? "adoption" : "size", m->seg[k].id);
    } else {
        snprintf(buf, n, "stock '%s'", r->opts->stock_names[j - r->base_dim]);
    }
}

/* ------------------------------------------------------------------ slots */

/*
 * Compile schedule s for the interval [ta, tb]: the value ss_schedule_eval_in(s, ta, t)
 * takes for t in the interval, as a constant where it cannot vary.
 */
static void slot_prepare(slot *sl, const ss_schedule *s, double ta, double tb)
{
    long i;
    sl->dyn = 0;
    if (s->kind == SS_SCHED_CONST) {
        sl->v = s->value;
        return;
    }
    if (s->kind == SS_SCHED_STEPS) {
        sl->v = ss_schedule_eval(s, ta);
        return;
    }
    i = ss_schedule_last_knot(s, ta);
    if (i == (long)s->n - 1) {            /* flat after the last knot */
        sl->v = s->v[s->n - 1];
        return;
    }
    if (i < 0 && tb <= s->t[0]) {         /* flat before the first knot */
        sl->v = s->v[0];
        return;
    }
    sl->dyn = 1;
    sl->s = s;
    if (i < 0) {                          /* a knot inside the interval: always look up */
        sl->v = s->v[0];
        sl->t0 = HUGE_VAL;
        sl->t1 = -HUGE_VAL;
        sl->dt = sl->dv = 0.0;
        return;
    }
    sl->v = s->v[i];
    sl->t0 = s->t[i];
    sl->t1 = s->t[i + 1];
    sl->dt = s->t[i + 1] - s->t[i];
    sl->dv = s->v[i + 1] - s->v[i];
    if (sl->dv == 0.0 && tb <= sl->t1)     /* a flat piece */
        sl->dyn = 0;
}

/* Value of a dynamic slot at t: ss_schedule_eval's formula on the piece. */
static inline double slot_dyn(const slot *sl, double t)
{
    if (t >= sl->t0 && t < sl->t1)
        return sl->v + (t - sl->t0) / sl->dt * sl->dv;
    return ss_schedule_eval(sl->s, t);
}

static inline double slot_at(const slot *sl, double t)
{
    return sl->dyn ? slot_dyn(sl, t) : sl->v;
}

/* price^-bP with a one-entry memo per (i, k): pow only when the price changed. */
static inline double price_pow(struct ss_run *r, size_t j, const seg_c *sc, double p)
{
    if (sc->mP != PW_GEN)
        return pw_neg(p, sc->mP, sc->bP);
    if (p != r->pcache_p[j]) {
        r->pcache_p[j] = p;
        r->pcache_pp[j] = pow(p, -sc->bP);
    }
    return r->pcache_pp[j];
}

/* 1 if every x[0..n) is finite: x * 0 is 0 for finite x and NaN for Inf or NaN. */
static int all_finite(const double *x, size_t n)
{
    double z0 = 0.0, z1 = 0.0, z2 = 0.0, z3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        z0 += x[j] * 0.0;
        z1 += x[j + 1] * 0.0;
        z2 += x[j + 2] * 0.0;
        z3 += x[j + 3] * 0.0;
    }
    for (; j < n; j++)
        z0 += x[j] * 0.0;
    return (z0 + z1 + z2 + z3) == 0.0;
}

/* Provider i's allocation from its (prepared) slots: alpha, or marked bad. */
static void alloc_from_slots(struct ss_run *r, size_t i)
{
    size_t K = r->K, k, i0 = i * K;
    double asum = 0.0;
    for (k = 0; k < K; k++)
        asum += r->sl_a[i0 + k].v;
    r->alloc_bad[i] = !(asum > 0.0);
    if (r->alloc_bad[i]) {
        r->any_alloc_bad = 1;
        return;
    }
    for (k = 0; k < K; k++)
        r->alpha[i0 + k] = r->sl_a[i0 + k].v / asum;
}

/* Attractiveness factors of (i, k) = j from its (prepared, constant) slots. */
static void att_from_slots(struct ss_run *r, size_t j)
{
    double p = r->sl_p[j].v;
    r->fac[j] = r->brand[j] * r->sl_w[j].v * price_pow(r, j, &r->seg[j % r->K], p) * r->sl_x[j].v;
    r->invp[j] = 1.0 / p;
}

/*
 * After a change of schedules (start, `set` events, ss_run_set): compute
 * everything that depends only on constant schedules, and list the inputs
 * with a step or linear schedule, which prepare_interval() revisits.
 */
static void classify(struct ss_run *r)
{
    const ss_model *m = r->m;
    size_t N = r->N, K = r->K, i, k;

    r->nvar_att = r->nvar_alloc = r->nvar_rho = r->nvar_g = 0;
    r->const_alloc_bad = 0;
    r->any_alloc_bad = 0;
    for (k = 0; k < K; k++) {
        slot *g = &r->sl_g[k];
        g->dyn = 0;
        g->v = m->seg[k].has_bass ? 0.0 : m->seg[k].growth.value;
        if (!m->seg[k].has_bass && m->seg[k].growth.kind != SS_SCHED_CONST)
            r->var_g[r->nvar_g++] = k;
        r->g[k] = g->v;
    }
    for (i = 0; i < N; i++) {
        const ss_provider *p = &m->prov[i];
        int avar = 0;
        r->sl_rho[i].dyn = 0;
        r->sl_rho[i].v = p->reinvest.value;
        r->rho[i] = p->reinvest.value;
        if (p->reinvest.kind != SS_SCHED_CONST)
            r->var_rho[r->nvar_rho++] = i;
        for (k = 0; k < K; k++) {
            size_t j = IX_S(r, i, k);
            if (p->participation[k].kind != SS_SCHED_CONST || p->price[k].kind != SS_SCHED_CONST ||
                p->lever[k].kind != SS_SCHED_CONST) {
                r->var_att[r->nvar_att++] = j;
            } else {
                slot_prepare(&r->sl_w[j], &p->participation[k], 0.0, 0.0);
                slot_prepare(&r->sl_p[j], &p->price[k], 0.0, 0.0);
                slot_prepare(&r->sl_x[j], &p->lever[k], 0.0, 0.0);
                att_from_slots(r, j);
            }
            slot_prepare(&r->sl_a[j], &p->allocation[k], 0.0, 0.0);
            avar |= p->allocation[k].kind != SS_SCHED_CONST;
        }
        if (avar) {
            r->var_alloc[r->nvar_alloc++] = i;
        } else {
            alloc_from_slots(r, i);
            r->const_alloc_bad |= r->alloc_bad[i];
        }
    }
    r->sched_ok = 1;
}

/* The time from which schedule s is constant: its last knot (-inf for a constant). */
static double settle_time(const ss_schedule *s)
{
    if (s->kind == SS_SCHED_CONST)
        return -HUGE_VAL;
    return s->n > 0 ? s->t[s->n - 1] : HUGE_VAL;
}

/*
 * Compile the step and linear schedules for [ta, tb] (constants where they
 * cannot vary there, else the linear piece) and cache what is constant
 * there. O(number of non-constant schedules).  Intervals only move forward
 * between two classify() calls, so an input whose schedules are all past
 * their last knot at ta is constant from then on: it leaves the lists and
 * keeps the values computed here (as classify() does for constants).
 */
static void prepare_interval(struct ss_run *r, double ta, double tb)
{
    const ss_model *m = r->m;
    size_t K = r->K, v, w, k;

    if (!r->sched_ok)
        classify(r);
    r->ndyn_att = r->ndyn_alloc = r->ndyn_rho = r->ndyn_g = 0;
    r->any_alloc_bad = r->const_alloc_bad;
    for (v = w = 0; v < r->nvar_g; v++) {
        size_t kk = r->var_g[v];
        slot *g = &r->sl_g[kk];
        slot_prepare(g, &m->seg[kk].growth, ta, tb);
        r->g[kk] = g->v;
        if (g->dyn)
            r->dyn_g[r->ndyn_g++] = kk;
        if (!(ta >= settle_time(&m->seg[kk].growth)))
            r->var_g[w++] = kk;
    }
    r->nvar_g = w;
    for (v = w = 0; v < r->nvar_rho; v++) {
        size_t i = r->var_rho[v];
        slot_prepare(&r->sl_rho[i], &m->prov[i].reinvest, ta, tb);
        r->rho[i] = r->sl_rho[i].v;
        if (r->sl_rho[i].dyn)
            r->dyn_rho[r->ndyn_rho++] = i;
        if (!(ta >= settle_time(&m->prov[i].reinvest)))
            r->var_rho[w++] = i;
    }
    r->nvar_rho = w;
    for (v = w = 0; v < r->nvar_att; v++) {
        size_t j = r->var_att[v], i = j / K;
        const ss_provider *p = &m->prov[i];
        k = j % K;
        slot_prepare(&r->sl_w[j], &p->participation[k], ta, tb);
        slot_prepare(&r->sl_p[j], &p->price[k], ta, tb);
        slot_prepare(&r->sl_x[j], &p->lever[k], ta, tb);
        if (r->sl_w[j].dyn || r->sl_p[j].dyn || r->sl_x[j].dyn)
            r->dyn_att[r->ndyn_att++] = j;
        else
            att_from_slots(r, j);
        if (!(ta >= settle_time(&p->participation[k]) && ta >= settle_time(&p->price[k]) &&
              ta >= settle_time(&p->lever[k])))
            r->var_att[w++] = j;
    }
    r->nvar_att = w;
    for (v = w = 0; v < r->nvar_alloc; v++) {
        size_t i = r->var_alloc[v];
        const ss_provider *p = &m->prov[i];
        int adyn = 0, settled = 1;
        for (k = 0; k < K; k++) {
            slot_prepare(&r->sl_a[i * K + k], &p->allocation[k], ta, tb);
            adyn |= r->sl_a[i * K + k].dyn;
            settled &= ta >= settle_time(&p->allocation[k]);
        }
        if (adyn) {
            r->alloc_bad[i] = 0;
            r->dyn_alloc[r->ndyn_alloc++] = i;
        } else {
            alloc_from_slots(r, i);
        }
        if (settled)
            r->const_alloc_bad |= r->alloc_bad[i];
        else
            r->var_alloc[w++] = i;
    }
    r->nvar_alloc = w;
    r->cache_ta = ta;
    r->cache_tb = tb;
    r->cache_ok = 1;
}

/* prepare_interval(r, ta, tb) unless the cache holds that interval already
   (a new one makes the auxiliaries stale). */
static void prepare_cached(struct ss_run *r, double ta, double tb)
{
    if (r->cache_ok && r->cache_ta == ta && r->cache_tb == tb)
        return;
    prepare_interval(r, ta, tb);
    r->fresh = 0;
}

/* ----------------------------------------------------------- the model */

static int alloc_zero(struct ss_run *r, double t, size_t i)
{
    ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: allocation of provider '%s' is zero for every segment",
               t, r->m->prov[i].id);
    r->failed = 1;
    return GSL_EBADFUNC;
}

/* A callback of a user stock or link failed (message in r->err). */
static int ext_failed(struct ss_run *r, int rc)
{
    if (r->err->code == SS_OK)
        ss_err_set(r->err, rc, "", "user stock or link callback failed");
    r->failed = 1;
    return GSL_EBADFUNC;
}

/*
 * Links: evaluate every linked input at (t, y) and put the values where the
 * equations read them (the slots of constant schedules: classify() made the
 * linked schedules constant, so no interval cache overrides them; inputs
 * with a varying schedule in the same attractiveness factor or allocation
 * are recomputed after this by eval_aux's own loops).
 */
static int apply_links(struct ss_run *r, double t, const double *y)
{
    size_t l, i, K = r->K;
    int rc;
    r->phase = 1;
    r->ay = y;
    r->at = t;
    rc = r->opts->link_eval(r, t, r->linkv, r->opts->ext_payload, r->err);
    r->phase = 0;
    if (rc)
        return ext_failed(r, rc);
    for (l = 0; l < r->nlink; l++) {
        const ss_link *lk = &r->links[l];
        double v = r->linkv[l];
        size_t k = (size_t)(lk->segment < 0 ? 0 : lk->segment), j = (size_t)lk->provider * K + k;
        int bad = !isfinite(v);
        switch (lk->field) {
        case SS_LINK_GROWTH: r->sl_g[k].v = r->g[k] = v; break;
        case SS_FIELD_REINVEST: bad |= v < 0; r->sl_rho[lk->provider].v = r->rho[lk->provider] = v; break;
        case SS_FIELD_ALLOCATION: bad |= v < 0; r->sl_a[j].v = v; break;
        case SS_FIELD_PRICE: bad |= !(v > 0); r->sl_p[j].v = v; break;
        case SS_FIELD_PARTICIPATION: bad |= !(v >= 0 && v <= 1); r->sl_w[j].v = v; break;
        default: bad |= !(v > 0); r->sl_x[j].v = v; break;
        }
        if (bad) {
            ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: link %s gave %g, out of the input's range",
                       t, lk->name ? lk->name : "?", v);
            r->failed = 1;
            return GSL_EBADFUNC;
        }
        if (lk->field == SS_FIELD_PRICE || lk->field == SS_FIELD_PARTICIPATION ||
            lk->field == SS_FIELD_LEVER)
            att_from_slots(r, j);
    }
    for (i = 0; i < r->N; i++)
        if (r->link_alloc[i])
            alloc_from_slots(r, i);
    return GSL_SUCCESS;
}

/*
 * Evaluate every auxiliary quantity at time t inside the prepared interval.
 * Returns GSL_SUCCESS, or GSL_EBADFUNC after recording an error.
 */
static int eval_aux(struct ss_run *r, double t, const double *y)
{
    size_t N = r->N, K = r->K, NK = r->NK, i, k, d;
    const double *yC = y + NK, *yV = y + 2 * NK, *yR = y + 3 * NK, *yX = y + 3 * NK + 2 * N;

    if (r->nlink && apply_links(r, t, y) != GSL_SUCCESS)
        return GSL_EBADFUNC;
    /* schedules that vary inside the interval */
    for (d = 0; d < r->ndyn_att; d++) {
        size_t j = r->dyn_att[d];
        const seg_c *sc = &r->seg[j % K];
        double p = slot_at(&r->sl_p[j], t);
        r->fac[j] = r->brand[j] * slot_at(&r->sl_w[j], t) * price_pow(r, j, sc, p)
                  * slot_at(&r->sl_x[j], t);
        r->invp[j] = 1.0 / p;
    }
    for (d = 0; d < r->ndyn_rho; d++)
        r->rho[r->dyn_rho[d]] = slot_dyn(&r->sl_rho[r->dyn_rho[d]], t);
    for (d = 0; d < r->ndyn_g; d++)
        r->g[r->dyn_g[d]] = slot_dyn(&r->sl_g[r->dyn_g[d]], t);
    if (r->ndyn_alloc > 0 || r->any_alloc_bad) {
        size_t bad = N;           /* the first provider whose allocation sums to 0 */
        for (d = 0; d < r->ndyn_alloc; d++) {
            size_t i0 = r->dyn_alloc[d] * K;
            double asum = 0.0;
            for (k = 0; k < K; k++) {
                double a = slot_at(&r->sl_a[i0 + k], t);
                r->alpha[i0 + k] = a;
                asum += a;
            }
            if (!(asum > 0.0)) {
                if (r->dyn_alloc[d] < bad)
                    bad = r->dyn_alloc[d];
                continue;
            }
            for (k = 0; k < K; k++)
                r->alpha[i0 + k] /= asum;
        }
        for (i = 0; i < bad && r->any_alloc_bad; i++)
            if (r->alloc_bad[i])
                bad = i;
        if (bad < N)
            return alloc_zero(r, t, bad);
    }

    /* attractiveness, target shares, revenue */
    for (i = 0; i < N; i++)
        r->revi[i] = 0.0;
    for (k = 0; k < K; k++) {
        const seg_c *sc = &r->seg[k];
        double x = yX[k], sum_a = 0.0, Mk;
        Mk = r->M[k] = sc->bass ? sc->pot * x : x;
        for (i = 0, d = k; i < N; i++, d += K) {
            double C = yC[d];
            double a = r->fac[d] * pw(C > 0.0 ? C : 0.0, sc->mC, sc->bC) * pw(yR[i], sc->mR, sc->bR);
            r->tgt[d] = a;
            sum_a += a;
        }
        if (sum_a > 0.0) {
            double inv_sum = 1.0 / sum_a;
            for (i = 0, d = k; i < N; i++, d += K)
                r->tgt[d] *= inv_sum;
        } else {
            for (i = 0, d = k; i < N; i++, d += K)
                r->tgt[d] = y[d];
        }
        for (i = 0, d = k; i < N; i++, d += K) {
            double rv = Mk * y[d];
            r->rev[d] = rv;
            r->revi[i] += rv;
        }
    }
    /* investment, margins, profits */
    for (i = 0; i < N; i++) {
        double gp = 0.0, opex = 0.0, inv = r->rho[i] * r->revi[i];
        size_t j0 = i * K;
        r->inv[i] = inv;
        for (k = 0; k < K; k++) {
            size_t j = j0 + k;
            const seg_c *sc = &r->seg[k];
            double ratio = 1.0, mg;
            if (sc->learn && r->invV0[j] > 0.0)
                ratio = pow(yV[j] * r->invV0[j], sc->neg_b);
            mg = r->margin[j] = 1.0 - r->om[j] * ratio * r->invp[j];
            gp += r->rev[j] * mg;
            opex += r->opex[j] * r->rev[j];
        }
        r->gp[i] = gp;
        r->op[i] = gp - opex - r->fixed[i] - inv;
    }
    return GSL_SUCCESS;
}

/*
 * The derivatives at (t, y) from the auxiliaries eval_aux() left for them.
 * Returns GSL_SUCCESS, or GSL_EBADFUNC after recording an error.
 */
static int eval_derivs(struct ss_run *r, double t, const double *y, double *dydt)
{
    size_t N = r->N, K = r->K, NK = r->NK, i, k, d;
    const double *yC = y + NK, *yR = y + 3 * NK, *yX = y + 3 * NK + 2 * N;

    {
        double *fS = dydt, *fC = dydt + NK, *fV = dydt + 2 * NK, *fR = dydt + 3 * NK;
        double *fN = fR + N, *fX = fN + N;
        double disc = r->r_disc == 0.0 ? 1.0 : exp(-r->r_disc * (t - r->m->t0));
        for (i = 0, d = 0; i < N; i++) {
            double inv = r->inv[i];
            for (k = 0; k < K; k++, d++) {
                const seg_c *sc = &r->seg[k];
                fS[d] = (r->tgt[d] - y[d]) * sc->inv_tau;
                fC[d] = sc->eff * r->alpha[d] * inv - sc->dep * yC[d];
                fV[d] = r->rev[d] * r->invp[d];
            }
            fR[i] = (1.0 - yR[i]) * r->inv_rec[i];
            fN[i] = r->op[i] * disc;
        }
        for (k = 0; k < K; k++) {
            const seg_c *sc = &r->seg[k];
            if (sc->bass) {
                double A = yX[k];
                fX[k] = (sc->bass_p + sc->bass_q * A) * (1.0 - A);
            } else {
                fX[k] = r->g[k] * r->M[k];
            }
        }
    }
    if (r->nstock) {
        int rc;
        r->phase = 2;
        r->ay = y;
        r->at = t;
        rc = r->opts->stock_rates(r, t, dydt + r->base_dim, r->opts->ext_payload, r->err);
        r->phase = 0;
        if (rc)
            return ext_failed(r, rc);
    }
    if (!all_finite(dydt, r->dim)) {
        for (i = 0; i < r->dim; i++) {
            if (!isfinite(dydt[i])) {
                char name[160];
                var_name(r, i, name, sizeof name);
                ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: non-finite derivative of %s", t, name);
                r->failed = 1;
                return GSL_EBADFUNC;
            }
        }
    }
    return GSL_SUCCESS;
}

/* 1 if a and b are the same double, bit for bit (0.0 and -0.0 differ). */
static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/*
 * Evaluate every auxiliary quantity at time t inside the prepared interval,
 * and the derivatives if dydt is non-NULL. Returns GSL_SUCCESS, or
 * GSL_EBADFUNC after recording an error (GSL then stops immediately).
 *
 * The first step from a breakpoint with an output starts where record()
 * has just computed the auxiliaries (refresh_at: r->fresh, at r->t from the
 * state r->y itself): only the derivatives are left to compute then.  The
 * shortcut is taken once (the caller is about to move y), and any other
 * evaluation overwrites the auxiliaries, so both clear r->fresh.
 */
static int eval_model(struct ss_run *r, double t, const double *y, double *dydt)
{
    int st;
    if (dydt && r->fresh && y == r->y && same_double(t, r->t)) {
        r->fresh = 0;
        return eval_derivs(r, t, y, dydt);
    }
    r->fresh = 0;
    st = eval_aux(r, t, y);
    if (st != GSL_SUCCESS || !dydt)
        return st;
    return eval_derivs(r, t, y, dydt);
}

static int rhs(double t, const double y[], double dydt[], void *params)
{
    return eval_model(params, t, y, dydt);
}

/* Check that every state variable is finite after an interval. */
static int check_state(struct ss_run *r, double t)
{
    size_t j;
    for (j = 0; j < r->dim; j++) {
        if (!isfinite(r->y[j])) {
            char name[160];
            var_name(r, j, name, sizeof name);
            return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: %s became non-finite", t, name);
        }
    }
    /* shares stay in [0, 1] and sizes non-negative in the exact solution;
     * beyond rounding, the numerical one has gone wrong (a fixed step too
     * large for the dynamics, a loose tolerance) */
    for (j = 0; j < r->NK; j++) {
        if (r->y[j] < -SHARE_TOL || r->y[j] > 1.0 + SHARE_TOL) {
            char name[160];
            var_name(r, j, name, sizeof name);
            return ss_err_set(r->err, SS_ENUMERIC, "",
                              "t=%.10g: %s = %.10g is outside [0, 1]: the integration is inaccurate "
                              "(reduce solver.h or the tolerances)", t, name, r->y[j]);
        }
    }
    for (j = IX_X(r, 0); j < IX_X(r, r->K); j++) {
        if (r->y[j] < 0.0) {
            char name[160];
            var_name(r, j, name, sizeof name);
            return ss_err_set(r->err, SS_ENUMERIC, "",
                              "t=%.10g: %s = %.10g is negative: the integration is inaccurate "
                              "(reduce solver.h or the tolerances)", t, name, r->y[j]);
        }
    }
    return SS_OK;
}

/* ---------------------------------------------------------------- steppers */

/*
 * The vector operations of the fixed-step methods, element by element with
 * the same arithmetic as the plain loops, two elements at a time so that the
 * compiler pairs them into SSE2 instructions (which round exactly as the
 * scalar ones); the arrays never overlap.
 */
static void vec_sum_scaled(double *restrict out, const double *restrict y, double a,
                           const double *restrict k, size_t n)
{
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
        out[j] = y[j] + a * k[j];
        out[j + 1] = y[j + 1] + a * k[j + 1];
    }
    for (; j < n; j++)
        out[j] = y[j] + a * k[j];
}

static void vec_add_scaled(double *restrict y, double a, const double *restrict k, size_t n)
{
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
        y[j] += a * k[j];
        y[j + 1] += a * k[j + 1];
    }
    for (; j < n; j++)
        y[j] += a * k[j];
}

static void rk4_update(double *restrict y, double h6, const double *restrict k1,
                       const double *restrict k2, const double *restrict k3,
                       const double *restrict k4, size_t n)
{
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
        y[j] += h6 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
        y[j + 1] += h6 * (k1[j + 1] + 2.0 * k2[j + 1] + 2.0 * k3[j + 1] + k4[j + 1]);
    }
    for (; j < n; j++)
        y[j] += h6 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
}

/* One interval with a fixed-step method: n equal sub-steps of at most h. */
static int integrate_fixed(struct ss_run *r, double ta, double tb)
{
    double len = tb - ta, h, h2, h6;
    /* the step count in double first: a tiny h gives a count no integer holds */
    double nd = ceil(len / r->m->solver.h - 1e-9);
    unsigned long n, s;
    size_t dim = r->dim;
    int rk4 = r->m->solver.method == SS_SOLVER_RK4;
    double *y = r->y, *k1 = r->k1, *k2 = r->k2, *k3 = r->k3, *k4 = r->k4, *yt = r->ytmp;

    if (!(nd <= (double)r->m->solver.max_steps) || nd >= 1e18)
        return ss_err_set(r->err, SS_ELIMIT, "", "t=%.10g: %.6g fixed steps of solver.h = %.10g "
                          "exceed solver.max_steps = %lu", ta, nd, r->m->solver.h,
                          r->m->solver.max_steps);
    n = nd < 1.0 ? 1 : (unsigned long)nd;
    h = len / (double)n;
    h2 = 0.5 * h;
    h6 = h / 6.0;
    for (s = 0; s < n; s++) {
        double t = ta + (double)s * h;
        if (eval_model(r, t, y, k1) != GSL_SUCCESS)
            return r->err->code;
        if (!rk4) {
            vec_add_scaled(y, h, k1, dim);
            continue;
        }
        vec_sum_scaled(yt, y, h2, k1, dim);
        if (eval_model(r, t + h2, yt, k2) != GSL_SUCCESS)
            return r->err->code;
        vec_sum_scaled(yt, y, h2, k2, dim);
        if (eval_model(r, t + h2, yt, k3) != GSL_SUCCESS)
            return r->err->code;
        vec_sum_scaled(yt, y, h, k3, dim);
        if (eval_model(r, t + h, yt, k4) != GSL_SUCCESS)
            return r->err->code;
        rk4_update(y, h6, k1, k2, k3, k4, dim);
    }
    return SS_OK;
}

static const gsl_odeiv2_step_type *gsl_stepper(ss_solver_method m)
{
    switch (m) {
    case SS_SOLVER_RKF45: return gsl_odeiv2_step_rkf45;
    case SS_SOLVER_RKCK: return gsl_odeiv2_step_rkck;
    case SS_SOLVER_RK2: return gsl_odeiv2_step_rk2;
    case SS_SOLVER_MSADAMS: return gsl_odeiv2_step_msadams;
    case SS_SOLVER_RK8PD:
    default: return gsl_odeiv2_step_rk8pd;
    }
}

/* One interval with the adaptive GSL driver (reset: a discontinuity may lie at ta). */
static int integrate_adaptive(struct ss_run *r, gsl_odeiv2_driver *d, double ta, double tb,
                              double *hint)
{
    double t = ta;
    double h0 = *hint < tb - ta ? *hint : tb - ta;
    int st;

    gsl_odeiv2_driver_reset_hstart(d, h0);
    st = gsl_odeiv2_driver_apply(d, &t, tb, r->y);
    if (st == GSL_SUCCESS) {
        if (d->h > 0.0)
            *hint = d->h;
        return SS_OK;
    }
    if (r->failed)
        return r->err->code;
    if (st == GSL_EMAXITER)
        return ss_err_set(r->err, SS_ELIMIT, "",
                          "t=%.10g: integration needed more than solver.max_steps = %lu steps "
                          "between t=%.10g and t=%.10g", t, r->m->solver.max_steps, ta, tb);
    return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: integration step failed (%s)", t,
                      gsl_strerror(st));
}

/* ------------------------------------------------------------ breakpoints */

int ss_dvec_grow(ss_dvec *d)
{
    size_t cap = d->cap ? 2 * d->cap : 64;
    double *nv = realloc(d->v, cap * sizeof *nv);
    if (!nv)
        return SS_ENOMEM;
    d->v = nv;
    d->cap = cap;
    return SS_OK;
}

/* Knots of a schedule strictly inside (t0, t1). */
static int push_knots(ss_dvec *d, const ss_schedule *s, double t0, double t1)
{
    size_t j;
    if (s->kind == SS_SCHED_CONST)
        return SS_OK;
    for (j = 0; j < s->n; j++)
        if (s->t[j] > t0 && s->t[j] < t1 && ss_dvec_push(d, s->t[j]))
            return SS_ENOMEM;
    return SS_OK;
}

/*
 * The number of grid times t0 + n*step (n = 0, 1, ...) below `bound`
 * (at or below it if `incl`), counted on integers: an estimate from the
 * quotient, corrected by the few steps rounding can shift it (the grid
 * times are non-decreasing in n). ss_model_resolve() has checked that the
 * count is at most 1e7 and the step above the resolution of the times;
 * anything else is refused here rather than looped over.
 */
static int grid_count(size_t *out, double t0, double step, double bound, int incl)
{
    double q = (bound - t0) / step;
    size_t n, k;
#define GRID_IN(n) (incl ? t0 + (double)(n) * step <= bound : t0 + (double)(n) * step < bound)
    if (!(q < 2e7))
        return SS_EINVAL;
    n = q > 0 ? (size_t)ceil(q) : 0;
    for (k = 0; n > 0 && !GRID_IN(n - 1); k++, n--)
        if (k > 16)
            return SS_EINVAL;
    for (k = 0; GRID_IN(n); k++, n++)
        if (k > 16)
            return SS_EINVAL;
#undef GRID_IN
    *out = n;
    return SS_OK;
}

/* The output grid start + n*step, stop included. */
int ss_sim_output_times(ss_dvec *d, const ss_model *m, ss_err *err)
{
    size_t n, cnt;
    if (grid_count(&cnt, m->t0, m->step, m->t1 - TIME_TOL, 0))
        return ss_err_set(err, SS_EINVAL, "time.step", "the output grid cannot be formed");
    for (n = 0; n < cnt; n++)
        if (ss_dvec_push(d, m->t0 + (double)n * m->step))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return ss_dvec_push(d, m->t1) ? ss_err_set(err, SS_ENOMEM, "", "out of memory") : SS_OK;
}

int ss_sim_epoch_times(ss_dvec *d, const ss_model *m, ss_err *err)
{
    size_t n, cnt;
    if (grid_count(&cnt, m->t0, m->epoch, m->t1 + TIME_TOL, 1))
        return ss_err_set(err, SS_EINVAL, "time.epoch", "the epoch grid cannot be formed");
    for (n = 0; n < cnt; n++)
        if (ss_dvec_push(d, m->t0 + (double)n * m->epoch))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return SS_OK;
}

/*
 * The sorted union of the output times, the epochs (both already sorted),
 * the event times and the schedule knots, with times closer than TIME_TOL
 * merged into the earliest.
 */
int ss_sim_breakpoints(ss_dvec *bp, ss_dvec *extra, const ss_model *m, const ss_dvec *outs,
                       const ss_dvec *epochs)
{
    size_t i, k, j, a = 0, b = 0, c = 0, w;
    int rc = SS_OK;
    bp->n = extra->n = 0;
    for (j = 0; j < m->nev && !rc; j++)
        rc = ss_dvec_push(extra, m->ev[j].t);
    for (k = 0; k < m->nseg && !rc; k++)
        rc = push_knots(extra, &m->seg[k].growth, m->t0, m->t1);
    for (i = 0; i < m->nprov && !rc; i++) {
        const ss_provider *p = &m->prov[i];
        rc = push_knots(extra, &p->reinvest, m->t0, m->t1);
        for (k = 0; k < m->nseg && !rc; k++) {
            rc = push_knots(extra, &p->allocation[k], m->t0, m->t1);
            if (!rc) rc = push_knots(extra, &p->price[k], m->t0, m->t1);
            if (!rc) rc = push_knots(extra, &p->participation[k], m->t0, m->t1);
            if (!rc) rc = push_knots(extra, &p->lever[k], m->t0, m->t1);
        }
    }
    if (!rc && ss_model_interventions(m) > 0) {
        /* the policy time, and the knots of the new schedules after it */
        double tp = ss_model_policy_time(m);
        rc = ss_dvec_push(extra, tp);
        for (i = 0; i < m->nprov && !rc; i++)
            for (j = 0; j < SS_DECISION_SLOTS(m->nseg) && !rc; j++)
                if (m->prov[i].iv_on[j])
                    rc = push_knots(extra, &m->prov[i].iv[j], tp, m->t1);
    }
    if (rc)
        return rc;
    ss_sort_doubles(extra->v, extra->n); /* finite: the model is resolved */
    /* three-way merge of sorted lists */
    while (a < outs->n || b < epochs->n || c < extra->n) {
        double x = HUGE_VAL;
        int src = 0;
        if (a < outs->n) { x = outs->v[a]; src = 1; }
        if (b < epochs->n && epochs->v[b] < x) { x = epochs->v[b]; src = 2; }
        if (c < extra->n && extra->v[c] < x) { x = extra->v[c]; src = 3; }
        if (src == 1) a++;
        else if (src == 2) b++;
        else c++;
        if (ss_dvec_push(bp, x))
            return SS_ENOMEM;
    }
    /* merge times closer than TIME_TOL; keep the earliest representative */
    for (j = 0, w = 0; j < bp->n; j++)
        if (w == 0 || bp->v[j] > bp->v[w - 1] + TIME_TOL)
            bp->v[w++] = bp->v[j];
    bp->n = w;
    return SS_OK;
}

/* ------------------------------------------------------------------ events */

static void set_schedule_field(ss_provider *p, ss_field f, size_t k, double v)
{
    switch (f) {
    case SS_FIELD_REINVEST: ss_schedule_set_const(&p->reinvest, v); break;
    case SS_FIELD_ALLOCATION: ss_schedule_set_const(&p->allocation[k], v); break;
    case SS_FIELD_PRICE: ss_schedule_set_const(&p->price[k], v); break;
    case SS_FIELD_PARTICIPATION: ss_schedule_set_const(&p->participation[k], v); break;
    case SS_FIELD_LEVER: ss_schedule_set_const(&p->lever[k], v); break;
    default: break;
    }
}

void ss_sim_apply_set(ss_model *m, const ss_event *ev)
{
    size_t k;
    if (ev->field == SS_FIELD_REINVEST) {
        set_schedule_field(&m->prov[ev->provider], ev->field, 0, ev->amount);
    } else {
        for (k = 0; k < m->nseg; k++)
            if (ev->mask[k])
                set_schedule_field(&m->prov[ev->provider], ev->field, k, ev->values[k]);
    }
}

static void apply_event(struct ss_run *r, const ss_event *ev)
{
    switch (ev->kind) {
    case SS_EV_OUTAGE:
        r->y[IX_R(r, (size_t)ev->provider)] *= 1.0 - ev->amount;
        break;
    case SS_EV_MARKET:
        r->y[IX_X(r, (size_t)ev->segment)] *= ev->amount;
        break;
    case SS_EV_SET:
        ss_sim_apply_set(r->m, ev);
        r->cache_ok = r->sched_ok = 0;
        break;
    }
    r->fresh = 0;
}

/*
 * The interventions, at the policy time after the events declared for that
 * time: every decision schedule with one is replaced by it from now on, as a
 * `set` event would replace it (docs/model.md §6).
 */
int ss_sim_apply_interventions(ss_model *m)
{
    size_t i, j, K = m->nseg;
    for (i = 0; i < m->nprov; i++) {
        ss_provider *p = &m->prov[i];
        for (j = 0; j < SS_DECISION_SLOTS(K); j++) {
            ss_schedule *dst;
            if (!p->iv_on[j])
                continue;
            dst = ss_provider_decision(p, j, K);
            ss_schedule_clear(dst);
            if (ss_schedule_copy(dst, &p->iv[j]) != SS_OK)
                return SS_ENOMEM;
        }
    }
    return SS_OK;
}

static int apply_interventions(struct ss_run *r)
{
    if (ss_sim_apply_interventions(r->m) != SS_OK)
        return ss_err_set(r->err, SS_ENOMEM, "", "out of memory");
    r->cache_ok = r->sched_ok = 0;
    r->fresh = 0;
    return SS_OK;
}

/*
 * Order events by time, ties in declaration order: a bottom-up merge sort of
 * the indices (stable; tmp has n entries), linear when the events are
 * already in time order, as declared events usually are, and O(n log n)
 * at worst (Monte Carlo appends each run's outages to the declared list).
 */
void ss_sim_order_events(const ss_event *ev, size_t n, size_t *idx, size_t *tmp)
{
    size_t i, width;
    int sorted = 1;
    for (i = 0; i < n; i++) {
        idx[i] = i;
        if (i > 0 && ev[i].t < ev[i - 1].t)
            sorted = 0;
    }
    if (sorted)
        return;
    for (width = 1; width < n; width *= 2) {
        size_t lo;
        for (lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n, a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                tmp[o++] = ev[idx[b]].t < ev[idx[a]].t ? idx[b++] : idx[a++];
            while (a < mid)
                tmp[o++] = idx[a++];
            while (b < hi)
                tmp[o++] = idx[b++];
        }
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

/* ----------------------------------------------------------------- record */

/* Make the auxiliaries those at the current time (schedules right-continuous). */
static int refresh_at(struct ss_run *r)
{
    if (r->fresh)
        return GSL_SUCCESS;
    if (!r->cache_ok || r->cache_ta != r->t)
        prepare_interval(r, r->t, r->t);
    if (eval_model(r, r->t, r->y, NULL) != GSL_SUCCESS)
        return GSL_EBADFUNC;
    r->fresh = 1;
    return GSL_SUCCESS;
}

static int record(struct ss_run *r, ss_result *res, size_t ti, double tnom)
{
    size_t N = r->N, K = r->K, i, k;
    if (refresh_at(r) != GSL_SUCCESS)
        return r->err->code;
    res->t[ti] = tnom;
    for (k = 0; k < K; k++) {
        double hhi = 0.0;
        for (i = 0; i < N; i++) {
            size_t j = IX_S(r, i, k);
            double s = r->y[j];
            SS_RESULT_PS(res, ti, SS_PS_SHARE, i, k) = s;
            SS_RESULT_PS(res, ti, SS_PS_TARGET_SHARE, i, k) = r->tgt[j];
            SS_RESULT_PS(res, ti, SS_PS_REVENUE, i, k) = r->rev[j];
            SS_RESULT_PS(res, ti, SS_PS_GROSS_MARGIN, i, k) = r->margin[j];
            SS_RESULT_PS(res, ti, SS_PS_CAPABILITY, i, k) = r->y[IX_C(r, i, k)];
            hhi += s * s;
        }
        SS_RESULT_S(res, ti, SS_S_SIZE, k) = r->M[k];
        SS_RESULT_S(res, ti, SS_S_HHI, k) = hhi;
    }
    for (i = 0; i < N; i++) {
        SS_RESULT_P(res, ti, SS_P_REVENUE, i) = r->revi[i];
        SS_RESULT_P(res, ti, SS_P_GROSS_PROFIT, i) = r->gp[i];
        SS_RESULT_P(res, ti, SS_P_OPERATING_PROFIT, i) = r->op[i];
        SS_RESULT_P(res, ti, SS_P_INVESTMENT, i) = r->inv[i];
        SS_RESULT_P(res, ti, SS_P_RELIABILITY, i) = r->y[IX_R(r, i)];
        SS_RESULT_P(res, ti, SS_P_NPV, i) = r->y[IX_NPV(r, i)];
    }
    {
        size_t n = K * N * SS_NPS, j;
        const double *base = &SS_RESULT_PS(res, ti, 0, 0, 0);
        for (j = 0; j < n; j++)
            if (!isfinite(base[j]))
                return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: output %s is not finite", tnom,
                                  ss_metric_ps_name((int)(j / (N * K))));
    }
    for (i = 0; i < N; i++)
        if (!isfinite(r->op[i]) || !isfinite(r->gp[i]))
            return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: profit of provider '%s' is not finite",
                              tnom, r->m->prov[i].id);
    for (k = 0; k < r->nstock; k++)
        res->extra[ti * res->nextra + k] = r->y[r->base_dim + k];
    if (r->opts && r->opts->on_output && res->nextra > r->nstock) {
        int rc = r->opts->on_output(r, r->t, &res->extra[ti * res->nextra + r->nstock],
                                    r->opts->payload, r->err);
        if (rc)
            return rc;
        for (k = 0; k < res->nextra; k++)
            if (!isfinite(res->extra[ti * res->nextra + k]))
                return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: derived metric '%s' is not finite",
                                  tnom, res->extra_names[k]);
    }
    return SS_OK;
}

/* -------------------------------------------------------------- workspace */

struct ss_sim_workspace {
    void *blk;                /* every per-run array, carved by ws_layout() */
    size_t blk_size;
    ss_dvec outs, epochs, extra, bp;
    gsl_odeiv2_system sys;    /* the driver keeps a pointer to it */
    gsl_odeiv2_driver *drv;
    ss_solver_method drv_method;
    size_t drv_dim;
    double drv_atol, drv_rtol;
};

ss_sim_workspace *ss_sim_workspace_new(void)
{
    return calloc(1, sizeof(ss_sim_workspace));
}

void ss_sim_workspace_free(ss_sim_workspace *ws)
{
    if (!ws)
        return;
    if (ws->drv)
        gsl_odeiv2_driver_free(ws->drv);
    free(ws->blk);
    free(ws->outs.v);
    free(ws->epochs.v);
    free(ws->extra.v);
    free(ws->bp.v);
    free(ws);
}

#define WS_ALIGN 16

/* Carve `n` items of `size` bytes at *off (only computing offsets if base is NULL). */
static void *carve(unsigned char *base, size_t *off, size_t n, size_t size)
{
    void *p = base ? base + *off : NULL;
    *off += (n * size + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN;
    return p;
}

/* Lay the per-run arrays out in base (NULL: just the size); returns the size. */
static size_t ws_layout(struct ss_run *r, unsigned char *base, size_t **evi, char ***pid, char ***sid,
                        size_t nev)
{
    size_t off = 0, N = r->N + 1, K = r->K + 1, NK = r->N * r->K + 1, dim = r->dim + 1;
    const size_t D = sizeof(double);
    r->y = carve(base, &off, dim, D);
    r->k1 = carve(base, &off, dim, D);
    r->k2 = carve(base, &off, dim, D);
    r->k3 = carve(base, &off, dim, D);
    r->k4 = carve(base, &off, dim, D);
    r->ytmp = carve(base, &off, dim, D);
    r->seg = carve(base, &off, K, sizeof(seg_c));
    r->invV0 = carve(base, &off, NK, D);
    r->om = carve(base, &off, NK, D);
    r->opex = carve(base, &off, NK, D);
    r->brand = carve(base, &off, NK, D);
    r->fixed = carve(base, &off, N, D);
    r->inv_rec = carve(base, &off, N, D);
    r->sl_w = carve(base, &off, NK, sizeof(slot));
    r->sl_p = carve(base, &off, NK, sizeof(slot));
    r->sl_x = carve(base, &off, NK, sizeof(slot));
    r->sl_a = carve(base, &off, NK, sizeof(slot));
    r->sl_rho = carve(base, &off, N, sizeof(slot));
    r->sl_g = carve(base, &off, K, sizeof(slot));
    r->fac = carve(base, &off, NK, D);
    r->invp = carve(base, &off, NK, D);
    r->pcache_p = carve(base, &off, NK, D);
    r->pcache_pp = carve(base, &off, NK, D);
    r->rho = carve(base, &off, N, D);
    r->g = carve(base, &off, K, D);
    r->dyn_att = carve(base, &off, NK, sizeof(size_t));
    r->dyn_alloc = carve(base, &off, N, sizeof(size_t));
    r->dyn_rho = carve(base, &off, N, sizeof(size_t));
    r->dyn_g = carve(base, &off, K, sizeof(size_t));
    r->var_att = carve(base, &off, NK, sizeof(size_t));
    r->var_alloc = carve(base, &off, N, sizeof(size_t));
    r->var_rho = carve(base, &off, N, sizeof(size_t));
    r->var_g = carve(base, &off, K, sizeof(size_t));
    r->alloc_bad = carve(base, &off, N, 1);
    r->tgt = carve(base, &off, NK, D);
    r->rev = carve(base, &off, NK, D);
    r->margin = carve(base, &off, NK, D);
    r->alpha = carve(base, &off, NK, D);
    r->revi = carve(base, &off, N, D);
    r->inv = carve(base, &off, N, D);
    r->gp = carve(base, &off, N, D);
    r->op = carve(base, &off, N, D);
    r->M = carve(base, &off, K, D);
    r->linkv = carve(base, &off, r->nlink + 1, D);
    r->link_alloc = carve(base, &off, N, 1);
    *evi = carve(base, &off, 2 * (nev + 1), sizeof(size_t)); /* order + merge scratch */
    *pid = carve(base, &off, N, sizeof(char *));
    *sid = carve(base, &off, K, sizeof(char *));
    return off;
}

/* Make ws hold the arrays of run r (sizes set) and point r's arrays into it. */
static int ws_arrays(ss_sim_workspace *ws, struct ss_run *r, size_t **evi, char ***pid, char ***sid,
                     size_t nev)
{
    size_t need = ws_layout(r, NULL, evi, pid, sid, nev);
    if (need > ws->blk_size) {
        void *nb = NULL;
        size_t cap = need + need / 2;
        if (cap % WS_ALIGN)
            cap += WS_ALIGN - cap % WS_ALIGN;
        free(ws->blk);
        ws->blk = NULL;
        ws->blk_size = 0;
        if (posix_memalign(&nb, 64, cap) != 0)
            return SS_ENOMEM;
        ws->blk = nb;
        ws->blk_size = cap;
    }
    ws_layout(r, ws->blk, evi, pid, sid, nev);
    memset(ws->blk, 0, need);
    return SS_OK;
}

/* The adaptive driver for this run: reused if method, size and tolerances match. */
static gsl_odeiv2_driver *ws_driver(ss_sim_workspace *ws, struct ss_run *r)
{
    const ss_solver *sv = &r->m->solver;
    ws->sys.function = rhs;
    ws->sys.jacobian = NULL;
    ws->sys.dimension = r->dim;
    ws->sys.params = r;
    if (ws->drv && (ws->drv_method != sv->method || ws->drv_dim != r->dim ||
                    ws->drv_atol != sv->atol || ws->drv_rtol != sv->rtol)) {
        gsl_odeiv2_driver_free(ws->drv);
        ws->drv = NULL;
    }
    if (!ws->drv) {
        ws->drv = gsl_odeiv2_driver_alloc_y_new(&ws->sys, gsl_stepper(sv->method), sv->h,
                                                sv->atol, sv->rtol);
        if (!ws->drv)
            return NULL;
        ws->drv_method = sv->method;
        ws->drv_dim = r->dim;
        ws->drv_atol = sv->atol;
        ws->drv_rtol = sv->rtol;
    }
    /* the settings of a freshly allocated driver */
    gsl_odeiv2_driver_reset(ws->drv);
    ws->drv->h = sv->h;
    ws->drv->hmin = 0.0;
    ws->drv->hmax = GSL_DBL_MAX;
    ws->drv->n = 0;
    gsl_odeiv2_driver_set_nmax(ws->drv, sv->max_steps);
    gsl_odeiv2_driver_set_hmin(ws->drv, sv->hmin);
    return ws->drv;
}

/* --------------------------------------------------------------------- run */

/* Constants of the run and the initial state. */
static void init_run(struct ss_run *r)
{
    const ss_model *m = r->m;
    size_t i, k;
    r->r_disc = m->discount_rate;
    for (k = 0; k < r->K; k++) {
        const ss_segment *s = &m->seg[k];
        seg_c *c = &r->seg[k];
        c->bC = s->beta_capability;
        c->bP = s->beta_price;
        c->bR = s->beta_reliability;
        c->mC = pw_mode(c->bC);
        c->mP = pw_mode(c->bP);
        c->mR = pw_mode(c->bR);
        c->inv_tau = 1.0 / s->tau;
        c->eff = s->efficiency;
        c->dep = s->depreciation;
        c->learn = s->learning != 0.0;
        c->neg_b = -s->learning;
        c->bass = s->has_bass;
        c->bass_p = s->bass_p;
        c->bass_q = s->bass_q;
        c->pot = s->bass_potential;
        r->y[IX_X(r, k)] = s->has_bass ? s->size / s->bass_potential : s->size;
    }
    for (i = 0; i < r->N; i++) {
        const ss_provider *p = &m->prov[i];
        for (k = 0; k < r->K; k++) {
            size_t j = IX_S(r, i, k);
            double rev = m->seg[k].size * p->share[k];
            double V0 = p->experience * rev;
            r->y[j] = p->share[k];
            r->y[IX_C(r, i, k)] = p->capability[k];
            r->y[IX_V(r, i, k)] = V0;
            r->invV0[j] = V0 > 0.0 ? 1.0 / V0 : 0.0;
            r->om[j] = 1.0 - p->margin[k];
            r->opex[j] = p->opex[k];
            r->brand[j] = p->brand[k];
            r->pcache_p[j] = NAN; /* never equal: the first lookup computes pow */
        }
        r->y[IX_R(r, i)] = p->reliability;
        r->y[IX_NPV(r, i)] = 0.0;
        r->fixed[i] = p->fixed_cost;
        r->inv_rec[i] = 1.0 / p->recovery;
    }
}

static int near(double a, double b)
{
    return fabs(a - b) <= TIME_TOL;
}

static int interrupted(const ss_run_opts *opts)
{
    return opts && opts->interrupt && __atomic_load_n(opts->interrupt, __ATOMIC_RELAXED);
}

int ss_run_opts_check_path(const ss_run_opts *o, const char *path, ss_err *err)
{
    size_t l, n = path ? strlen(path) : 0;
    for (l = 0; o && path && l < o->nlink; l++) {
        const char *nm = o->links[l].name;
        if (nm && (strcmp(nm, path) == 0 || (strncmp(nm, path, n) == 0 && nm[n] == '.')))
            return ss_err_set(err, SS_EINVAL, path, "%s: the link %s defines this input (its schedule "
                              "is not used), so varying it would change nothing", path, nm);
    }
    return SS_OK;
}

/* The schedule a link replaces. */
static ss_schedule *linked_schedule(ss_model *m, const ss_link *l)
{
    ss_provider *p;
    if (l->field == SS_LINK_GROWTH)
        return &m->seg[l->segment].growth;
    p = &m->prov[l->provider];
    switch (l->field) {
    case SS_FIELD_REINVEST: return &p->reinvest;
    case SS_FIELD_ALLOCATION: return &p->allocation[l->segment];
    case SS_FIELD_PRICE: return &p->price[l->segment];
    case SS_FIELD_PARTICIPATION: return &p->participation[l->segment];
    default: return &p->lever[l->segment];
    }
}

/*
 * User stocks and links of a run: check them against the (resolved) model
 * and make every linked schedule the constant it has at t0 (the link
 * replaces it: no knots, no interval slots; apply_links() overrides the
 * value at every evaluation).
 */
static int ext_setup(struct ss_run *r, const ss_run_opts *o, ss_err *err)
{
    ss_model *m = r->m;
    size_t l, q, e;
    if (o->nstock && (!o->stock_init || !o->stock_rates || !o->stock_names))
        return ss_err_set(err, SS_EINVAL, "", "user stocks need stock_init, stock_rates and names");
    if (o->nlink && (!o->link_eval || !o->links))
        return ss_err_set(err, SS_EINVAL, "", "links need link_eval and their targets");
    for (l = 0; l < o->nlink; l++) {
        const ss_link *lk = &o->links[l];
        const char *nm = lk->name ? lk->name : "?";
        ss_schedule *s;
        int seg_ok = lk->segment >= 0 && (size_t)lk->segment < r->K;
        if (lk->field < 0 || lk->field > SS_LINK_GROWTH)
            return ss_err_set(err, SS_EINVAL, "", "link %s: unknown input", nm);
        if (lk->field == SS_LINK_GROWTH) {
            if (!seg_ok)
                return ss_err_set(err, SS_EINVAL, "", "link %s: unknown segment", nm);
            if (m->seg[lk->segment].has_bass)
                return ss_err_set(err, SS_EINVAL, "", "link %s: segment '%s' follows Bass diffusion "
                                  "and has no growth input", nm, m->seg[lk->segment].id);
        } else if (lk->provider < 0 || (size_t)lk->provider >= r->N ||
                   (lk->field != SS_FIELD_REINVEST && !seg_ok)) {
            return ss_err_set(err, SS_EINVAL, "", "link %s: unknown provider or segment", nm);
        }
        for (q = 0; q < l; q++)
            if (o->links[q].field == lk->field && o->links[q].provider == lk->provider &&
                (lk->field == SS_FIELD_REINVEST || o->links[q].segment == lk->segment) &&
                (lk->field != SS_LINK_GROWTH || o->links[q].segment == lk->segment))
                return ss_err_set(err, SS_EINVAL, "", "link %s: input linked twice", nm);
        for (e = 0; e < m->nev; e++) {
            const ss_event *ev = &m->ev[e];
            if (lk->field != SS_LINK_GROWTH && ev->kind == SS_EV_SET && (int)ev->field == lk->field &&
                ev->provider == lk->provider &&
                (lk->field == SS_FIELD_REINVEST || (ev->mask && ev->mask[lk->segment])))
                return ss_err_set(err, SS_EINVAL, "", "link %s and the set event at t=%.10g%s%.0d "
                                  "both set the same input (use one or the other)", nm, ev->t,
                                  ev->line ? " on line " : "", ev->line);
        }
        if (lk->field != SS_LINK_GROWTH &&
            m->prov[lk->provider].iv_on[ss_decision_slot((ss_field)lk->field,
                                                          (size_t)(lk->segment < 0 ? 0 : lk->segment),
                                                          r->K)])
            return ss_err_set(err, SS_EINVAL, nm, "link %s and an intervention (a variant's, --set's or "
                              "an analysis' change of this input) both set it (use one or the other)", nm);
        s = linked_schedule(m, lk);
        ss_schedule_set_const(s, ss_schedule_eval(s, m->t0));
    }
    r->nstock = o->nstock;
    r->nlink = o->nlink;
    r->links = o->links;
    return SS_OK;
}

/* The run's dimensions, its user stocks and links, its arrays in the
 * workspace and its initial state (stocks included). */
static int run_setup(ss_sim_workspace *ws, struct ss_run *r, const ss_run_opts *opts,
                     size_t **evi, char ***pid, char ***sid, ss_err *err)
{
    size_t b;
    int rc;
    r->N = r->m->nprov;
    r->K = r->m->nseg;
    r->NK = r->N * r->K;
    r->dim = r->base_dim = 3 * r->N * r->K + 2 * r->N + r->K;
    if (opts && opts->on_start && (rc = opts->on_start(r, opts->start_payload, err)))
        return rc;
    if (opts && (opts->nstock || opts->nlink)) {
        if ((rc = ext_setup(r, opts, err)))
            return rc;
        r->dim += r->nstock;
    }
    if (ws_arrays(ws, r, evi, pid, sid, r->m->nev))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    init_run(r);
    if (!r->nstock && !r->nlink)
        return SS_OK;
    for (b = 0; b < r->nlink; b++)
        if (r->links[b].field == SS_FIELD_ALLOCATION)
            r->link_alloc[r->links[b].provider] = 1;
    if (!r->nstock)
        return SS_OK;
    r->phase = 1;
    r->ay = r->y;
    r->at = r->m->t0;
    rc = opts->stock_init(r, r->y + r->base_dim, opts->ext_payload, err);
    r->phase = 0;
    return rc;
}

/* The run's result at the workspace's output times, with the names (and
 * units) of its stocks and derived metrics; NULL: out of memory. */
static ss_result *run_result(const ss_sim_workspace *ws, const struct ss_run *r,
                             const ss_run_opts *opts, char **pid, char **sid)
{
    size_t b, nx = opts ? opts->nextra + r->nstock : 0;
    ss_result *res;
    for (b = 0; b < r->N; b++)
        pid[b] = r->m->prov[b].id;
    for (b = 0; b < r->K; b++)
        sid[b] = r->m->seg[b].id;
    if (!(res = ss_result_new(r->m->name, ws->outs.n, r->N, pid, r->K, sid)) || nx == 0)
        return res;
    res->nextra = nx;
    res->extra_names = calloc(nx, sizeof *res->extra_names);
    res->extra = calloc(ws->outs.n * nx, sizeof *res->extra);
    if (!res->extra_names || !res->extra)
        goto nomem;
    for (b = 0; b < nx; b++) {
        const char *nm = b < r->nstock ? opts->stock_names[b] : opts->extra_names[b - r->nstock];
        if (!(res->extra_names[b] = strdup(nm)))
            goto nomem;
    }
    if (r->nstock && opts->stock_units) {
        if (!(res->extra_units = calloc(nx, sizeof *res->extra_units)))
            goto nomem;
        for (b = 0; b < r->nstock; b++)   /* "": a stock without a unit */
            if (!(res->extra_units[b] = strdup(opts->stock_units[b] ? opts->stock_units[b] : "")))
                goto nomem;
    }
    return res;
nomem:
    ss_result_free(res);
    return NULL;
}

/* The run from breakpoint to breakpoint: at each, the events due, the
 * interventions at the policy time, the state check, the epochs, the
 * outputs; between them, the integration (drv: adaptive; NULL: fixed step). */
static int run_breakpoints(ss_sim_workspace *ws, struct ss_run *r, const ss_run_opts *opts,
                           gsl_odeiv2_driver *drv, ss_result *res, const size_t *evi, ss_err *err)
{
    size_t ne = r->m->nev, oi = 0, ei = 0, ei0, pi = 0, b, niv = ss_model_interventions(r->m);
    double hint = r->m->solver.h, tp = ss_model_policy_time(r->m);
    int rc;
    for (b = 0; b < ws->bp.n; b++) {
        double tb = ws->bp.v[b], tn = b + 1 < ws->bp.n ? ws->bp.v[b + 1] : tb;
        r->t = tb;
        r->fresh = 0;
        if (interrupted(opts))
            return ss_err_set(err, SS_EINTR, "", "interrupted at t=%.10g", tb);
        ei0 = ei;
        while (ei < ne && r->m->ev[evi[ei]].t <= tb + TIME_TOL)
            apply_event(r, &r->m->ev[evi[ei++]]);
        if (niv && tp <= tb + TIME_TOL) {
            if ((rc = apply_interventions(r)))
                return rc;
            niv = 0;
        }
        /* after the first breakpoint, the state was checked at the end of
           the interval that led here; only an event can have changed it */
        if ((b == 0 || ei != ei0) && (rc = check_state(r, tb)))
            return rc;
        /* an epoch merged into this breakpoint (within TIME_TOL) fires here */
        while (pi < ws->epochs.n && ws->epochs.v[pi] <= tb + TIME_TOL) {
            if (near(ws->epochs.v[pi], tb) && opts && opts->on_epoch &&
                (rc = opts->on_epoch(r, tb, opts->payload, err)))
                return rc;
            pi++;
        }
        prepare_cached(r, tb, tn);
        while (ws->outs.n > oi && ws->outs.v[oi] <= tb + TIME_TOL) {
            if ((rc = record(r, res, oi, ws->outs.v[oi])))
                return rc;
            oi++;
        }
        if (b + 1 < ws->bp.n) {
            prepare_cached(r, tb, tn); /* again if an on_output callback changed a schedule */
            rc = drv ? integrate_adaptive(r, drv, tb, tn, &hint) : integrate_fixed(r, tb, tn);
            if (rc || (rc = check_state(r, tn)))
                return rc;
        }
    }
    return SS_OK;
}

/* Run model `model` (taken: freed here in every case), resolving it first
 * if `resolve`. */
static int run_model(ss_sim_workspace *ws, ss_result **out, ss_model *model, int resolve,
                     const ss_run_opts *opts, ss_err *err)
{
    struct ss_run r;
    ss_err local;
    ss_result *res = NULL;
    size_t *evi = NULL;
    gsl_odeiv2_driver *drv = NULL;
    int rc;
    char **pid = NULL, **sid = NULL;

    *out = NULL;
    if (!err) {
        ss_err_clear(&local);
        err = &local;
    }
    memset(&r, 0, sizeof r);
    r.m = model;
    if (!ws) {
        ss_model_free(model);
        return ss_err_set(err, SS_EINVAL, "", "no workspace");
    }
    if (!r.m)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    r.err = err;
    r.opts = opts;
    ws->outs.n = ws->epochs.n = ws->extra.n = ws->bp.n = 0;
    if ((resolve && (rc = ss_model_resolve(r.m, err))) ||
        (rc = run_setup(ws, &r, opts, &evi, &pid, &sid, err)) ||
        (rc = ss_sim_output_times(&ws->outs, r.m, err)) ||
        (rc = ss_sim_epoch_times(&ws->epochs, r.m, err)))
        goto done;
    if (ss_sim_breakpoints(&ws->bp, &ws->extra, r.m, &ws->outs, &ws->epochs))
        goto nomem;
    ss_sim_order_events(r.m->ev, r.m->nev, evi, evi + r.m->nev + 1);
    if (!(res = run_result(ws, &r, opts, pid, sid)))
        goto nomem;
    if (r.m->solver.method != SS_SOLVER_EULER && r.m->solver.method != SS_SOLVER_RK4 &&
        !(drv = ws_driver(ws, &r)))
        goto nomem;
    rc = run_breakpoints(ws, &r, opts, drv, res, evi, err);
    goto done;
nomem:
    rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
done:
    if (drv)
        ws->sys.params = NULL;
    ss_model_free(r.m);
    if (rc) {
        ss_result_free(res);
        return rc;
    }
    *out = res;
    return SS_OK;
}

int ss_sim_run_ws(ss_sim_workspace *ws, ss_result **out, const ss_model *model,
                  const ss_run_opts *opts, ss_err *err)
{
    return run_model(ws, out, ss_model_copy(model), 1, opts, err);
}

int ss_sim_run_own(ss_sim_workspace *ws, ss_result **out, ss_model *model,
                   const ss_run_opts *opts, ss_err *err)
{
    return run_model(ws, out, model, 1, opts, err);
}

int ss_sim_run_resolved(ss_sim_workspace *ws, ss_result **out, const ss_resolved *rm,
                        const ss_run_opts *opts, ss_err *err)
{
    ss_sim_workspace *tmp = NULL;
    int rc;
    if (!ws && !(ws = tmp = ss_sim_workspace_new())) {
        *out = NULL;
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    rc = run_model(ws, out, ss_model_copy(ss_resolved_model(rm)), 0, opts, err);
    ss_sim_workspace_free(tmp);
    return rc;
}

int ss_sim_run(ss_result **out, const ss_model *model, const ss_run_opts *opts, ss_err *err)
{
    ss_sim_workspace *ws = ss_sim_workspace_new();
    int rc;
    if (!ws) {
        *out = NULL;
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    rc = ss_sim_run_ws(ws, out, model, opts, err);
    ss_sim_workspace_free(ws);
    return rc;
}

/* ------------------------------------------------------- callback access */

const ss_model *ss_run_model(const ss_run *run) { return run->m; }
double ss_run_time(const ss_run *run) { return run->phase ? run->at : run->t; }

/* Refresh the auxiliaries at the current time (schedules right-continuous);
 * inside a phase (links, stock rates) the stage's own values are read. */
static void refresh(ss_run *run)
{
    if (!run->phase)
        refresh_at(run);
}

/* The state the accessors read. */
static const double *acc_y(const ss_run *r)
{
    return r->phase ? r->ay : r->y;
}

/* Size of segment k from the state (before the algebra has run). */
static double state_size(const ss_run *r, size_t k)
{
    double x = acc_y(r)[IX_X(r, k)];
    return r->seg[k].bass ? r->seg[k].pot * x : x;
}

int ss_run_state_only(const ss_run *run) { return run->phase == 1; }

double ss_run_stock(const ss_run *run, size_t j)
{
    return j < run->nstock ? acc_y(run)[run->base_dim + j] : NAN;
}

int ss_run_stock_index(const ss_run *run, const char *id)
{
    size_t j;
    for (j = 0; j < run->nstock; j++)
        if (strcmp(run->opts->stock_names[j], id) == 0)
            return (int)j;
    return -1;
}

int ss_run_link_index(const ss_run *run, int field, int provider, int segment)
{
    size_t l;
    for (l = 0; l < run->nlink; l++) {
        const ss_link *lk = &run->links[l];
        if (lk->field == field && (field == SS_LINK_GROWTH || lk->provider == provider) &&
            (field == SS_FIELD_REINVEST || lk->segment == segment))
            return (int)l;
    }
    return -1;
}

double ss_run_link_value(const ss_run *run, size_t j)
{
    refresh((ss_run *)run);   /* at a breakpoint: the links at its time and state */
    return j < run->nlink ? run->linkv[j] : NAN;
}

/* Accessors while only the state is known (links, initial stocks). */
static double state_ps(const ss_run *r, ss_metric_ps m, size_t i, size_t k)
{
    const double *y = acc_y(r);
    switch (m) {
    case SS_PS_SHARE: return y[IX_S(r, i, k)];
    case SS_PS_CAPABILITY: return y[IX_C(r, i, k)];
    case SS_PS_REVENUE: return state_size(r, k) * y[IX_S(r, i, k)];
    default: return NAN;
    }
}

double ss_run_ps(const ss_run *run, ss_metric_ps m, int i, int k)
{
    ss_run *r = (ss_run *)run;
    size_t j = IX_S(r, (size_t)i, (size_t)k);
    if (r->phase == 1)
        return state_ps(r, m, (size_t)i, (size_t)k);
    refresh(r);
    switch (m) {
    case SS_PS_SHARE: return acc_y(r)[j];
    case SS_PS_TARGET_SHARE: return r->tgt[j];
    case SS_PS_REVENUE: return r->rev[j];
    case SS_PS_GROSS_MARGIN: return r->margin[j];
    case SS_PS_CAPABILITY: return acc_y(r)[IX_C(r, (size_t)i, (size_t)k)];
    default: return NAN;
    }
}

double ss_run_p(const ss_run *run, ss_metric_p m, int i)
{
    ss_run *r = (ss_run *)run;
    if (r->phase == 1) {
        size_t k;
        double s = 0.0;
        switch (m) {
        case SS_P_REVENUE:
            for (k = 0; k < r->K; k++)
                s += state_ps(r, SS_PS_REVENUE, (size_t)i, k);
            return s;
        case SS_P_RELIABILITY: return acc_y(r)[IX_R(r, (size_t)i)];
        case SS_P_NPV: return acc_y(r)[IX_NPV(r, (size_t)i)];
        default: return NAN;
        }
    }
    refresh(r);
    switch (m) {
    case SS_P_REVENUE: return r->revi[i];
    case SS_P_GROSS_PROFIT: return r->gp[i];
    case SS_P_OPERATING_PROFIT: return r->op[i];
    case SS_P_INVESTMENT: return r->inv[i];
    case SS_P_RELIABILITY: return acc_y(r)[IX_R(r, (size_t)i)];
    case SS_P_NPV: return acc_y(r)[IX_NPV(r, (size_t)i)];
    default: return NAN;
    }
}

double ss_run_s(const ss_run *run, ss_metric_s m, int k)
{
    ss_run *r = (ss_run *)run;
    size_t i;
    double h = 0.0;
    const double *y = acc_y(r);
    if (r->phase == 1 && m == SS_S_SIZE)
        return state_size(r, (size_t)k);
    refresh(r);
    if (m == SS_S_SIZE)
        return r->M[k];
    for (i = 0; i < r->N; i++)
        h += y[IX_S(r, i, (size_t)k)] * y[IX_S(r, i, (size_t)k)];
    return h;
}

int ss_run_set(ss_run *run, int provider, ss_field field, int k, double value, ss_err *err)
{
    if (provider < 0 || (size_t)provider >= run->N)
        return ss_err_set(err, SS_EINVAL, "", "unknown provider index %d", provider);
    if (field != SS_FIELD_REINVEST && (k < 0 || (size_t)k >= run->K))
        return ss_err_set(err, SS_EINVAL, "", "unknown segment index %d", k);
    if (!isfinite(value))
        return ss_err_set(err, SS_EINVAL, "", "%s must be finite", ss_field_name(field));
    switch (field) {
    case SS_FIELD_REINVEST:
    case SS_FIELD_ALLOCATION:
        if (value < 0)
            return ss_err_set(err, SS_EINVAL, "", "%s must be >= 0 (got %g)", ss_field_name(field), value);
        break;
    case SS_FIELD_PARTICIPATION:
        if (value < 0 || value > 1)
            return ss_err_set(err, SS_EINVAL, "", "participation must be in [0, 1] (got %g)", value);
        break;
    case SS_FIELD_PRICE:
    case SS_FIELD_LEVER:
        if (!(value > 0))
            return ss_err_set(err, SS_EINVAL, "", "%s must be > 0 (got %g)", ss_field_name(field), value);
        break;
    default:
        return ss_err_set(err, SS_EINVAL, "", "unknown field");
    }
    if (run->nlink && ss_run_link_index(run, (int)field, provider, k) >= 0)
        return ss_err_set(err, SS_EINVAL, "", "%s is defined by the link %s",
                          ss_field_name(field),
                          run->links[ss_run_link_index(run, (int)field, provider, k)].name);
    if (run->phase)
        return ss_err_set(err, SS_EINVAL, "", "schedules cannot change inside the equations");
    set_schedule_field(&run->m->prov[provider], field, (size_t)(k < 0 ? 0 : k), value);
    run->cache_ok = run->sched_ok = 0;
    run->fresh = 0;
    return SS_OK;
}
