/*
 * sim.c - integration of the canonical model (SPEC §1) and recording of its
 * outputs.
 *
 * State vector layout (N providers, K segments):
 *   [0, NK)          s_ik   share
 *   [NK, 2NK)        C_ik   capability
 *   [2NK, 3NK)       V_ik   cumulative volume
 *   [3NK, 3NK+N)     R_i    reliability
 *   [3NK+N, 3NK+2N)  NPV_i
 *   [3NK+2N, +K)     M_k (growth segments) or A_k (Bass segments)
 *
 * The run walks a sorted list of breakpoints (output times, event times,
 * schedule knots, decision epochs); at each it applies the events due, calls
 * the epoch callback, records the outputs, then integrates to the next one
 * with a freshly reset gsl_odeiv2 driver (or a fixed-step Euler/RK4 loop).
 * Step schedules hold the value in force at the start of each interval.
 * Depends on model.c, schedule.c, result.c and GSL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include "stratsim/sim.h"

#define TIME_TOL 1e-9

struct ss_run {
    ss_model *m;              /* resolved working copy; schedules change on `set` */
    const ss_run_opts *opts;
    size_t N, K, dim;
    double t;                 /* current time (at a breakpoint in callbacks) */
    double ta;                /* start of the current integration interval */
    double *y;                /* state */
    double *V0;               /* [NK] initial cumulative volume */
    /* auxiliaries filled by eval_model() */
    double *tgt, *rev, *margin, *alpha; /* [NK] */
    double *revi, *inv, *gp, *op;       /* [N] */
    double *M;                          /* [K] */
    /* fixed-step scratch */
    double *k1, *k2, *k3, *k4, *ytmp;
    ss_err *err;
    int failed;               /* set by eval_model when it recorded an error */
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
    } else {
        size_t k = j - 3 * NK - 2 * r->N;
        snprintf(buf, n, "%s[%s]", m->seg[k].has_bass ? "adoption" : "size", m->seg[k].id);
    }
}

/*
 * Evaluate every auxiliary quantity at time t inside the interval starting at
 * ta, and the derivatives if dydt is non-NULL. Returns GSL_SUCCESS, or
 * GSL_EBADFUNC after recording an error (GSL then stops immediately).
 */
static int eval_model(struct ss_run *r, double ta, double t, const double *y, double *dydt)
{
    const ss_model *m = r->m;
    size_t N = r->N, K = r->K, i, k;

    for (i = 0; i < N; i++)
        r->revi[i] = 0.0;
    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        double x = y[IX_X(r, k)];
        double sum_a = 0.0;
        r->M[k] = s->has_bass ? s->bass_potential * x : x;
        for (i = 0; i < N; i++) {
            const ss_provider *p = &m->prov[i];
            double C = y[IX_C(r, i, k)];
            double a = p->brand[k]
                     * ss_schedule_eval_in(&p->participation[k], ta, t)
                     * pow(C > 0.0 ? C : 0.0, s->beta_capability)
                     * pow(ss_schedule_eval_in(&p->price[k], ta, t), -s->beta_price)
                     * pow(y[IX_R(r, i)], s->beta_reliability)
                     * ss_schedule_eval_in(&p->lever[k], ta, t);
            r->tgt[IX_S(r, i, k)] = a;
            sum_a += a;
        }
        for (i = 0; i < N; i++) {
            size_t j = IX_S(r, i, k);
            r->tgt[j] = sum_a > 0.0 ? r->tgt[j] / sum_a : y[j];
            r->rev[j] = r->M[k] * y[j];
            r->revi[i] += r->rev[j];
        }
    }
    for (i = 0; i < N; i++) {
        const ss_provider *p = &m->prov[i];
        double asum = 0.0, gp = 0.0, opex = 0.0;
        r->inv[i] = ss_schedule_eval_in(&p->reinvest, ta, t) * r->revi[i];
        for (k = 0; k < K; k++) {
            double a = ss_schedule_eval_in(&p->allocation[k], ta, t);
            r->alpha[IX_S(r, i, k)] = a;
            asum += a;
        }
        if (!(asum > 0.0)) {
            ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: allocation of provider '%s' is zero for every segment",
                       t, p->id);
            r->failed = 1;
            return GSL_EBADFUNC;
        }
        for (k = 0; k < K; k++) {
            size_t j = IX_S(r, i, k);
            double price = ss_schedule_eval_in(&p->price[k], ta, t);
            double b = m->seg[k].learning;
            double ratio = 1.0;
            r->alpha[j] /= asum;
            if (r->V0[j] > 0.0 && b != 0.0)
                ratio = pow(y[IX_V(r, i, k)] / r->V0[j], -b);
            r->margin[j] = 1.0 - (1.0 - p->margin[k]) * ratio / price;
            gp += r->rev[j] * r->margin[j];
            opex += p->opex[k] * r->rev[j];
        }
        r->gp[i] = gp;
        r->op[i] = gp - opex - p->fixed_cost - r->inv[i];
    }
    if (!dydt)
        return GSL_SUCCESS;

    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        for (i = 0; i < N; i++) {
            const ss_provider *p = &m->prov[i];
            size_t j = IX_S(r, i, k);
            dydt[j] = (r->tgt[j] - y[j]) / s->tau;
            dydt[IX_C(r, i, k)] = s->efficiency * r->alpha[j] * r->inv[i]
                                - s->depreciation * y[IX_C(r, i, k)];
            dydt[IX_V(r, i, k)] = r->rev[j] / ss_schedule_eval_in(&p->price[k], ta, t);
        }
        if (s->has_bass) {
            double A = y[IX_X(r, k)];
            dydt[IX_X(r, k)] = (s->bass_p + s->bass_q * A) * (1.0 - A);
        } else {
            dydt[IX_X(r, k)] = ss_schedule_eval_in(&s->growth, ta, t) * r->M[k];
        }
    }
    for (i = 0; i < N; i++) {
        dydt[IX_R(r, i)] = (1.0 - y[IX_R(r, i)]) / m->prov[i].recovery;
        dydt[IX_NPV(r, i)] = r->op[i] * exp(-m->discount_rate * (t - m->t0));
    }
    for (i = 0; i < r->dim; i++) {
        if (!isfinite(dydt[i])) {
            char name[160];
            var_name(r, i, name, sizeof name);
            ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: non-finite derivative of %s", t, name);
            r->failed = 1;
            return GSL_EBADFUNC;
        }
    }
    return GSL_SUCCESS;
}

static int rhs(double t, const double y[], double dydt[], void *params)
{
    struct ss_run *r = params;
    return eval_model(r, r->ta, t, y, dydt);
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
    return SS_OK;
}

/* ---------------------------------------------------------------- steppers */

/* One interval with a fixed-step method: n equal sub-steps of at most h. */
static int integrate_fixed(struct ss_run *r, double ta, double tb)
{
    double len = tb - ta, h;
    unsigned long n = (unsigned long)ceil(len / r->m->solver.h - 1e-9), s;
    size_t j, dim = r->dim;
    int rk4 = r->m->solver.method == SS_SOLVER_RK4;

    if (n < 1)
        n = 1;
    if (n > r->m->solver.max_steps)
        return ss_err_set(r->err, SS_ELIMIT, "", "t=%.10g: %lu fixed steps exceed solver.max_steps = %lu",
                          ta, n, r->m->solver.max_steps);
    h = len / (double)n;
    for (s = 0; s < n; s++) {
        double t = ta + (double)s * h;
        if (eval_model(r, ta, t, r->y, r->k1) != GSL_SUCCESS)
            return r->err->code;
        if (!rk4) {
            for (j = 0; j < dim; j++)
                r->y[j] += h * r->k1[j];
            continue;
        }
        for (j = 0; j < dim; j++)
            r->ytmp[j] = r->y[j] + 0.5 * h * r->k1[j];
        if (eval_model(r, ta, t + 0.5 * h, r->ytmp, r->k2) != GSL_SUCCESS)
            return r->err->code;
        for (j = 0; j < dim; j++)
            r->ytmp[j] = r->y[j] + 0.5 * h * r->k2[j];
        if (eval_model(r, ta, t + 0.5 * h, r->ytmp, r->k3) != GSL_SUCCESS)
            return r->err->code;
        for (j = 0; j < dim; j++)
            r->ytmp[j] = r->y[j] + h * r->k3[j];
        if (eval_model(r, ta, t + h, r->ytmp, r->k4) != GSL_SUCCESS)
            return r->err->code;
        for (j = 0; j < dim; j++)
            r->y[j] += h / 6.0 * (r->k1[j] + 2.0 * r->k2[j] + 2.0 * r->k3[j] + r->k4[j]);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct { double *v; size_t n, cap; } dvec;

static int dvec_push(dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        double *nv = realloc(d->v, cap * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return SS_OK;
}

/* Knots of a schedule strictly inside (t0, t1). */
static int push_knots(dvec *d, const ss_schedule *s, double t0, double t1)
{
    size_t j;
    if (s->kind == SS_SCHED_CONST)
        return SS_OK;
    for (j = 0; j < s->n; j++)
        if (s->t[j] > t0 && s->t[j] < t1 && dvec_push(d, s->t[j]))
            return SS_ENOMEM;
    return SS_OK;
}

/* The output grid start + n*step, stop included. */
static int output_times(dvec *d, const ss_model *m)
{
    size_t n;
    for (n = 0;; n++) {
        double t = m->t0 + (double)n * m->step;
        if (t >= m->t1 - TIME_TOL)
            break;
        if (dvec_push(d, t))
            return SS_ENOMEM;
    }
    return dvec_push(d, m->t1);
}

static int epoch_times(dvec *d, const ss_model *m)
{
    size_t n;
    for (n = 0;; n++) {
        double t = m->t0 + (double)n * m->epoch;
        if (t > m->t1 + TIME_TOL)
            break;
        if (dvec_push(d, t))
            return SS_ENOMEM;
    }
    return SS_OK;
}

static int build_breakpoints(dvec *bp, const ss_model *m, const dvec *outs, const dvec *epochs)
{
    size_t i, k, j, w;
    int rc = SS_OK;
    for (j = 0; j < outs->n && !rc; j++)
        rc = dvec_push(bp, outs->v[j]);
    for (j = 0; j < epochs->n && !rc; j++)
        rc = dvec_push(bp, epochs->v[j]);
    for (j = 0; j < m->nev && !rc; j++)
        rc = dvec_push(bp, m->ev[j].t);
    for (k = 0; k < m->nseg && !rc; k++)
        rc = push_knots(bp, &m->seg[k].growth, m->t0, m->t1);
    for (i = 0; i < m->nprov && !rc; i++) {
        const ss_provider *p = &m->prov[i];
        rc = push_knots(bp, &p->reinvest, m->t0, m->t1);
        for (k = 0; k < m->nseg && !rc; k++) {
            rc = push_knots(bp, &p->allocation[k], m->t0, m->t1);
            if (!rc) rc = push_knots(bp, &p->price[k], m->t0, m->t1);
            if (!rc) rc = push_knots(bp, &p->participation[k], m->t0, m->t1);
            if (!rc) rc = push_knots(bp, &p->lever[k], m->t0, m->t1);
        }
    }
    if (rc)
        return rc;
    qsort(bp->v, bp->n, sizeof *bp->v, cmp_double);
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

static void apply_event(struct ss_run *r, const ss_event *ev)
{
    size_t k;
    switch (ev->kind) {
    case SS_EV_OUTAGE:
        r->y[IX_R(r, (size_t)ev->provider)] *= 1.0 - ev->amount;
        break;
    case SS_EV_MARKET:
        r->y[IX_X(r, (size_t)ev->segment)] *= ev->amount;
        break;
    case SS_EV_SET:
        if (ev->field == SS_FIELD_REINVEST) {
            set_schedule_field(&r->m->prov[ev->provider], ev->field, 0, ev->amount);
        } else {
            for (k = 0; k < r->K; k++)
                if (ev->mask[k])
                    set_schedule_field(&r->m->prov[ev->provider], ev->field, k, ev->values[k]);
        }
        break;
    }
}

/* Order events by time, ties in declaration order (stable insertion sort). */
static void order_events(const ss_event *ev, size_t n, size_t *idx)
{
    size_t i, j;
    for (i = 0; i < n; i++)
        idx[i] = i;
    for (i = 1; i < n; i++) {
        size_t x = idx[i];
        for (j = i; j > 0 && (ev[idx[j - 1]].t > ev[x].t); j--)
            idx[j] = idx[j - 1];
        idx[j] = x;
    }
}

/* ----------------------------------------------------------------- record */

static int record(struct ss_run *r, ss_result *res, size_t ti, double tnom)
{
    size_t N = r->N, K = r->K, i, k;
    r->ta = r->t;
    if (eval_model(r, r->t, r->t, r->y, NULL) != GSL_SUCCESS)
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
    if (r->opts && r->opts->on_output && res->nextra > 0) {
        int rc = r->opts->on_output(r, r->t, &res->extra[ti * res->nextra], r->opts->payload, r->err);
        if (rc)
            return rc;
        for (k = 0; k < res->nextra; k++)
            if (!isfinite(res->extra[ti * res->nextra + k]))
                return ss_err_set(r->err, SS_ENUMERIC, "", "t=%.10g: derived metric '%s' is not finite",
                                  tnom, res->extra_names[k]);
    }
    return SS_OK;
}

/* --------------------------------------------------------------------- run */

static void run_free(struct ss_run *r)
{
    ss_model_free(r->m);
    free(r->y);
    free(r->V0);
    free(r->tgt);
    free(r->rev);
    free(r->margin);
    free(r->alpha);
    free(r->revi);
    free(r->inv);
    free(r->gp);
    free(r->op);
    free(r->M);
    free(r->k1);
    free(r->k2);
    free(r->k3);
    free(r->k4);
    free(r->ytmp);
}

static int run_alloc(struct ss_run *r)
{
    size_t NK = r->N * r->K + 1, dim = r->dim + 1;
    r->y = calloc(dim, sizeof *r->y);
    r->V0 = calloc(NK, sizeof(double));
    r->tgt = calloc(NK, sizeof(double));
    r->rev = calloc(NK, sizeof(double));
    r->margin = calloc(NK, sizeof(double));
    r->alpha = calloc(NK, sizeof(double));
    r->revi = calloc(r->N + 1, sizeof(double));
    r->inv = calloc(r->N + 1, sizeof(double));
    r->gp = calloc(r->N + 1, sizeof(double));
    r->op = calloc(r->N + 1, sizeof(double));
    r->M = calloc(r->K + 1, sizeof(double));
    r->k1 = calloc(dim, sizeof(double));
    r->k2 = calloc(dim, sizeof(double));
    r->k3 = calloc(dim, sizeof(double));
    r->k4 = calloc(dim, sizeof(double));
    r->ytmp = calloc(dim, sizeof(double));
    return (r->y && r->V0 && r->tgt && r->rev && r->margin && r->alpha && r->revi && r->inv &&
            r->gp && r->op && r->M && r->k1 && r->k2 && r->k3 && r->k4 && r->ytmp)
               ? SS_OK : SS_ENOMEM;
}

static void init_state(struct ss_run *r)
{
    const ss_model *m = r->m;
    size_t i, k;
    for (k = 0; k < r->K; k++) {
        const ss_segment *s = &m->seg[k];
        r->y[IX_X(r, k)] = s->has_bass ? s->size / s->bass_potential : s->size;
    }
    for (i = 0; i < r->N; i++) {
        const ss_provider *p = &m->prov[i];
        for (k = 0; k < r->K; k++) {
            double rev = m->seg[k].size * p->share[k];
            r->y[IX_S(r, i, k)] = p->share[k];
            r->y[IX_C(r, i, k)] = p->capability[k];
            r->y[IX_V(r, i, k)] = r->V0[IX_S(r, i, k)] = p->experience * rev;
        }
        r->y[IX_R(r, i)] = p->reliability;
        r->y[IX_NPV(r, i)] = 0.0;
    }
}

static int near(double a, double b)
{
    return fabs(a - b) <= TIME_TOL;
}

int ss_sim_run(ss_result **out, const ss_model *model, const ss_run_opts *opts, ss_err *err)
{
    struct ss_run r;
    ss_err local;
    ss_result *res = NULL;
    dvec outs = { 0 }, epochs = { 0 }, bp = { 0 };
    size_t *evi = NULL, ne = 0, oi = 0, ei = 0, pi = 0, b;
    gsl_odeiv2_driver *drv = NULL;
    gsl_odeiv2_system sys;
    double hint;
    int rc;
    char **pid = NULL, **sid = NULL;

    *out = NULL;
    if (!err) {
        ss_err_clear(&local);
        err = &local;
    }
    memset(&r, 0, sizeof r);
    r.err = err;
    r.opts = opts;
    r.m = ss_model_copy(model);
    if (!r.m)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = ss_model_resolve(r.m, err)))
        goto done;
    r.N = r.m->nprov;
    r.K = r.m->nseg;
    r.dim = 3 * r.N * r.K + 2 * r.N + r.K;
    if ((rc = run_alloc(&r)))
        goto nomem;
    init_state(&r);

    if (output_times(&outs, r.m) || epoch_times(&epochs, r.m) ||
        build_breakpoints(&bp, r.m, &outs, &epochs))
        goto nomem;
    evi = malloc((r.m->nev + 1) * sizeof *evi);
    pid = malloc((r.N + 1) * sizeof *pid);
    sid = malloc((r.K + 1) * sizeof *sid);
    if (!evi || !pid || !sid)
        goto nomem;
    order_events(r.m->ev, r.m->nev, evi);
    ne = r.m->nev;
    for (b = 0; b < r.N; b++)
        pid[b] = r.m->prov[b].id;
    for (b = 0; b < r.K; b++)
        sid[b] = r.m->seg[b].id;
    res = ss_result_new(r.m->name, outs.n, r.N, pid, r.K, sid);
    if (!res)
        goto nomem;
    if (opts && opts->nextra > 0) {
        res->nextra = opts->nextra;
        res->extra_names = calloc(opts->nextra, sizeof *res->extra_names);
        res->extra = calloc(outs.n * opts->nextra, sizeof *res->extra);
        if (!res->extra_names || !res->extra)
            goto nomem;
        for (b = 0; b < opts->nextra; b++) {
            size_t len = strlen(opts->extra_names[b]) + 1;
            res->extra_names[b] = malloc(len);
            if (!res->extra_names[b])
                goto nomem;
            memcpy(res->extra_names[b], opts->extra_names[b], len);
        }
    }

    if (r.m->solver.method != SS_SOLVER_EULER && r.m->solver.method != SS_SOLVER_RK4) {
        sys.function = rhs;
        sys.jacobian = NULL;
        sys.dimension = r.dim;
        sys.params = &r;
        drv = gsl_odeiv2_driver_alloc_y_new(&sys, gsl_stepper(r.m->solver.method), r.m->solver.h,
                                            r.m->solver.atol, r.m->solver.rtol);
        if (!drv)
            goto nomem;
        gsl_odeiv2_driver_set_nmax(drv, r.m->solver.max_steps);
        gsl_odeiv2_driver_set_hmin(drv, r.m->solver.hmin);
    }
    hint = r.m->solver.h;

    for (b = 0; b < bp.n; b++) {
        double tb = bp.v[b];
        r.t = tb;
        if (opts && opts->interrupt && *opts->interrupt) {
            rc = ss_err_set(err, SS_EINTR, "", "interrupted at t=%.10g", tb);
            goto done;
        }
        while (ei < ne && r.m->ev[evi[ei]].t <= tb + TIME_TOL)
            apply_event(&r, &r.m->ev[evi[ei++]]);
        if ((rc = check_state(&r, tb)))
            goto done;
        /* an epoch merged into this breakpoint (within TIME_TOL) fires here */
        while (pi < epochs.n && epochs.v[pi] <= tb + TIME_TOL) {
            if (near(epochs.v[pi], tb) && opts && opts->on_epoch &&
                (rc = opts->on_epoch(&r, tb, opts->payload, err)))
                goto done;
            pi++;
        }
        while (oi < outs.n && outs.v[oi] <= tb + TIME_TOL) {
            if ((rc = record(&r, res, oi, outs.v[oi])))
                goto done;
            oi++;
        }
        if (b + 1 < bp.n) {
            double tn = bp.v[b + 1];
            r.ta = tb;
            rc = drv ? integrate_adaptive(&r, drv, tb, tn, &hint) : integrate_fixed(&r, tb, tn);
            if (rc)
                goto done;
            if ((rc = check_state(&r, tn)))
                goto done;
        }
    }
    rc = SS_OK;
    goto done;
nomem:
    rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
done:
    if (drv)
        gsl_odeiv2_driver_free(drv);
    free(epochs.v);
    free(outs.v);
    free(bp.v);
    free(evi);
    free(pid);
    free(sid);
    run_free(&r);
    if (rc) {
        ss_result_free(res);
        return rc;
    }
    *out = res;
    return SS_OK;
}

/* ------------------------------------------------------- callback access */

const ss_model *ss_run_model(const ss_run *run) { return run->m; }
double ss_run_time(const ss_run *run) { return run->t; }

/* Refresh the auxiliaries at the current time (schedules right-continuous). */
static void refresh(ss_run *run)
{
    run->ta = run->t;
    eval_model(run, run->t, run->t, run->y, NULL);
}

double ss_run_ps(const ss_run *run, ss_metric_ps m, int i, int k)
{
    ss_run *r = (ss_run *)run;
    size_t j = IX_S(r, (size_t)i, (size_t)k);
    refresh(r);
    switch (m) {
    case SS_PS_SHARE: return r->y[j];
    case SS_PS_TARGET_SHARE: return r->tgt[j];
    case SS_PS_REVENUE: return r->rev[j];
    case SS_PS_GROSS_MARGIN: return r->margin[j];
    case SS_PS_CAPABILITY: return r->y[IX_C(r, (size_t)i, (size_t)k)];
    default: return NAN;
    }
}

double ss_run_p(const ss_run *run, ss_metric_p m, int i)
{
    ss_run *r = (ss_run *)run;
    refresh(r);
    switch (m) {
    case SS_P_REVENUE: return r->revi[i];
    case SS_P_GROSS_PROFIT: return r->gp[i];
    case SS_P_OPERATING_PROFIT: return r->op[i];
    case SS_P_INVESTMENT: return r->inv[i];
    case SS_P_RELIABILITY: return r->y[IX_R(r, (size_t)i)];
    case SS_P_NPV: return r->y[IX_NPV(r, (size_t)i)];
    default: return NAN;
    }
}

double ss_run_s(const ss_run *run, ss_metric_s m, int k)
{
    ss_run *r = (ss_run *)run;
    size_t i;
    double h = 0.0;
    refresh(r);
    if (m == SS_S_SIZE)
        return r->M[k];
    for (i = 0; i < r->N; i++)
        h += r->y[IX_S(r, i, (size_t)k)] * r->y[IX_S(r, i, (size_t)k)];
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
    set_schedule_field(&run->m->prov[provider], field, (size_t)(k < 0 ? 0 : k), value);
    return SS_OK;
}
