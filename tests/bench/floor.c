/*
 * floor.c - the flagship scenario hand-written against gsl_odeiv2 and as a
 * fixed-step RK4 loop (the benchmark's floors, see floor.h).
 *
 * What a competent programmer would write for this one model: plain arrays
 * for the numbers, the step schedules and `set` events evaluated once per
 * integration interval (with the rivals' public price factor p^-beta when
 * the price is flat), the three linear schedules (the rivals' public price
 * cut, Alibaba's private participation and its AI lever) evaluated inside
 * the right-hand side, sqrt for the capability exponent 0.5, pow only where
 * the exponent is not special (learning curves, the price factor during the
 * price cut).  The GSL driver is allocated once and reused; each interval
 * restarts it with the step size the previous one ended with, exactly as
 * stratsim does, so both take the same steps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>
#include "floor.h"

enum { N = FLOOR_N, K = FLOOR_K, NK = FLOOR_NK, DIM = FLOOR_DIM };

#define MAXBP 256
#define TOL 1e-9

/* ------------------------------------------------------ the parameters */

static const char *const prov_ids[N] = { "alibaba", "huawei", "tencent", "others" };
static const char *const seg_ids[K] = { "public", "private", "ai" };

static int fail(char *why, size_t size, const char *msg)
{
    snprintf(why, size, "the flagship's structure changed: %s", msg);
    return -1;
}

static int get_steps(floor_steps *s, const ss_schedule *x)
{
    size_t j;
    if (x->kind == SS_SCHED_CONST) {
        s->n = 0;
        s->v[0] = x->value;
        return 0;
    }
    if (x->kind != SS_SCHED_STEPS || x->n > FLOOR_MAXKNOTS)
        return -1;
    s->n = (int)x->n;
    for (j = 0; j < x->n; j++) {
        s->t[j] = x->t[j];
        s->v[j] = x->v[j];
    }
    return 0;
}

static int get_linear(double *t, double *v, const ss_schedule *x)
{
    if (x->kind != SS_SCHED_LINEAR || x->n != 2)
        return -1;
    t[0] = x->t[0];
    t[1] = x->t[1];
    v[0] = x->v[0];
    v[1] = x->v[1];
    return 0;
}

static int is_const(const ss_schedule *x, double v)
{
    return x->kind == SS_SCHED_CONST && x->value == v;
}

/*
 * The schedule of a decision input of provider i as the run sees it: an
 * intervention (a variant's change, docs/model.md section 6.1) replaces the
 * base from the policy time on, so from the start when that is t0.
 */
static const ss_schedule *decision(const ss_model *m, int i, ss_field f, int k, const ss_schedule *base)
{
    size_t j = ss_decision_slot(f, (size_t)k, m->nseg);
    if (m->prov[i].iv_on && m->prov[i].iv_on[j] && ss_model_policy_time(m) == m->t0)
        return &m->prov[i].iv[j];
    return base;
}

int floor_params_from_model(floor_params *p, const ss_model *m, char *why, size_t size)
{
    int i, k;
    const ss_event *e;
    memset(p, 0, sizeof *p);
    if (m->nprov != N || m->nseg != K || m->nev != 3)
        return fail(why, size, "not 4 providers, 3 segments and 3 events");
    for (i = 0; i < N; i++)
        if (strcmp(m->prov[i].id, prov_ids[i]) != 0)
            return fail(why, size, "provider ids");
    for (k = 0; k < K; k++)
        if (strcmp(m->seg[k].id, seg_ids[k]) != 0)
            return fail(why, size, "segment ids");
    p->t0 = m->t0;
    p->t1 = m->t1;
    p->step = m->step;
    if (m->epoch != m->step)
        return fail(why, size, "the epoch differs from the step");
    p->discount = m->discount_rate;
    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        if ((k == 2) != (s->has_bass != 0))
            return fail(why, size, "only the ai segment is Bass");
        if (k < 2) {
            if (s->growth.kind != SS_SCHED_CONST)
                return fail(why, size, "growth is not constant");
            p->growth[k] = s->growth.value;
        } else {
            p->bass_p = s->bass_p;
            p->bass_q = s->bass_q;
            p->potential = s->bass_potential;
        }
        if (s->beta_capability != 0.5 || s->beta_reliability != 1.0 || s->efficiency != 1.0)
            return fail(why, size, "beta_capability 0.5, beta_reliability 1, efficiency 1 expected");
        p->size0[k] = s->size;
        p->tau[k] = s->tau;
        p->beta_cap[k] = s->beta_capability;
        p->beta_price[k] = s->beta_price;
        p->beta_rel[k] = s->beta_reliability;
        p->learning[k] = s->learning;
        p->efficiency[k] = s->efficiency;
        p->depreciation[k] = s->depreciation;
    }
    for (i = 0; i < N; i++) {
        const ss_provider *v = &m->prov[i];
        for (k = 0; k < K; k++) {
            p->share0[i][k] = v->share[k];
            p->margin0[i][k] = v->margin[k];
            p->opex[i][k] = v->opex[k];
            p->capability0[i][k] = v->capability[k];
            p->brand[i][k] = v->brand[k];
            const ss_schedule *price = decision(m, i, SS_FIELD_PRICE, k, &v->price[k]);
            const ss_schedule *part = decision(m, i, SS_FIELD_PARTICIPATION, k, &v->participation[k]);
            const ss_schedule *lever = decision(m, i, SS_FIELD_LEVER, k, &v->lever[k]);
            if (get_steps(&p->alloc[i][k], decision(m, i, SS_FIELD_ALLOCATION, k, &v->allocation[k])))
                return fail(why, size, "an allocation is not constant or steps");
            if (i > 0 && p->alloc[i][k].n != 0)
                return fail(why, size, "a rival's allocation is not constant");
            /* every other schedule is 1, except the three linear ones */
            if (!((i > 0 && k == 0) || is_const(price, 1.0)))
                return fail(why, size, "a price other than the rivals' public one");
            if (!((i == 0 && k == 1) || is_const(part, 1.0)))
                return fail(why, size, "a participation other than alibaba's private one");
            if (!((i == 0 && k == 2) || is_const(lever, 1.0)))
                return fail(why, size, "a lever other than alibaba's ai one");
        }
        if (get_steps(&p->reinvest[i], decision(m, i, SS_FIELD_REINVEST, 0, &v->reinvest)) || (i == 0) != (p->reinvest[i].n == 0))
            return fail(why, size, "reinvest: alibaba constant, the rivals steps expected");
        p->fixed_cost[i] = v->fixed_cost;
        p->reliability0[i] = v->reliability;
        p->recovery[i] = v->recovery;
        p->experience[i] = v->experience;
    }
#define PRICE0(i) decision(m, i, SS_FIELD_PRICE, 0, &m->prov[i].price[0])
    if (get_linear(p->price_t, p->price_v, PRICE0(1)))
        return fail(why, size, "the rivals' public price is not linear with 2 knots");
    for (i = 2; i < N; i++)
        if (get_linear(p->price_t, p->price_v, PRICE0(i)) ||
            memcmp(PRICE0(i)->t, PRICE0(1)->t, 2 * sizeof(double)) ||
            memcmp(PRICE0(i)->v, PRICE0(1)->v, 2 * sizeof(double)))
            return fail(why, size, "the rivals' public prices differ");
#undef PRICE0
    if (get_linear(p->part_t, p->part_v,
                   decision(m, 0, SS_FIELD_PARTICIPATION, 1, &m->prov[0].participation[1])) ||
        get_linear(p->lever_t, p->lever_v, decision(m, 0, SS_FIELD_LEVER, 2, &m->prov[0].lever[2])))
        return fail(why, size, "alibaba's participation/lever are not linear with 2 knots");
    e = m->ev;
    if (e[0].kind != SS_EV_OUTAGE || e[0].provider != 0 || e[1].kind != SS_EV_SET ||
        e[1].provider != 0 || e[1].field != SS_FIELD_REINVEST || e[2].kind != SS_EV_SET ||
        e[2].provider != 0 || e[2].field != SS_FIELD_ALLOCATION || e[1].t != e[2].t ||
        !(e[0].t < e[1].t) || !e[2].mask[0] || !e[2].mask[1] || !e[2].mask[2])
        return fail(why, size, "the events (outage, set reinvest, set allocation of alibaba)");
    p->outage_t = e[0].t;
    p->outage_severity = e[0].amount;
    p->set_t = e[1].t;
    p->set_reinvest = e[1].amount;
    for (k = 0; k < K; k++)
        p->set_alloc[k] = e[2].values[k];
    return 0;
}

static void json_steps(FILE *f, const floor_steps *s)
{
    int j;
    fprintf(f, "{\"t\": [");
    for (j = 0; j < s->n; j++)
        fprintf(f, "%s%.17g", j ? ", " : "", s->t[j]);
    fprintf(f, "], \"v\": [");
    for (j = 0; j < (s->n ? s->n : 1); j++)
        fprintf(f, "%s%.17g", j ? ", " : "", s->v[j]);
    fprintf(f, "]}");
}

static void json_vec(FILE *f, const char *name, const double *v, int n, const char *sep)
{
    int j;
    fprintf(f, "\"%s\": [", name);
    for (j = 0; j < n; j++)
        fprintf(f, "%s%.17g", j ? ", " : "", v[j]);
    fprintf(f, "]%s\n", sep);
}

static void json_mat(FILE *f, const char *name, const double (*v)[K])
{
    int i;
    fprintf(f, "\"%s\": [", name);
    for (i = 0; i < N; i++)
        fprintf(f, "%s[%.17g, %.17g, %.17g]", i ? ", " : "", v[i][0], v[i][1], v[i][2]);
    fprintf(f, "],\n");
}

void floor_params_write_json(FILE *f, const floor_params *p)
{
    int i, k;
    fprintf(f, "{\"t0\": %.17g, \"t1\": %.17g, \"step\": %.17g, \"discount\": %.17g,\n",
            p->t0, p->t1, p->step, p->discount);
    json_vec(f, "size0", p->size0, K, ",");
    json_vec(f, "growth", p->growth, 2, ",");
    fprintf(f, "\"bass_p\": %.17g, \"bass_q\": %.17g, \"potential\": %.17g,\n", p->bass_p, p->bass_q,
            p->potential);
    json_vec(f, "tau", p->tau, K, ",");
    json_vec(f, "beta_price", p->beta_price, K, ",");
    json_vec(f, "learning", p->learning, K, ",");
    json_vec(f, "depreciation", p->depreciation, K, ",");
    json_mat(f, "share0", p->share0);
    json_mat(f, "margin0", p->margin0);
    json_mat(f, "opex", p->opex);
    json_mat(f, "capability0", p->capability0);
    json_mat(f, "brand", p->brand);
    json_vec(f, "fixed_cost", p->fixed_cost, N, ",");
    json_vec(f, "reliability0", p->reliability0, N, ",");
    json_vec(f, "recovery", p->recovery, N, ",");
    json_vec(f, "experience", p->experience, N, ",");
    fprintf(f, "\"reinvest\": [");
    for (i = 0; i < N; i++) {
        fputs(i ? ", " : "", f);
        json_steps(f, &p->reinvest[i]);
    }
    fprintf(f, "],\n\"alloc\": [");
    for (i = 0; i < N; i++) {
        fputs(i ? ", [" : "[", f);
        for (k = 0; k < K; k++) {
            fputs(k ? ", " : "", f);
            json_steps(f, &p->alloc[i][k]);
        }
        fputs("]", f);
    }
    fprintf(f, "],\n");
    json_vec(f, "price_t", p->price_t, 2, ",");
    json_vec(f, "price_v", p->price_v, 2, ",");
    json_vec(f, "part_t", p->part_t, 2, ",");
    json_vec(f, "part_v", p->part_v, 2, ",");
    json_vec(f, "lever_t", p->lever_t, 2, ",");
    json_vec(f, "lever_v", p->lever_v, 2, ",");
    fprintf(f, "\"outage_t\": %.17g, \"outage_severity\": %.17g, \"set_t\": %.17g, \"set_reinvest\": %.17g,\n",
            p->outage_t, p->outage_severity, p->set_t, p->set_reinvest);
    json_vec(f, "set_alloc", p->set_alloc, K, "}");
}

/* ------------------------------------------------------------ the model */

/* Constants of one integration interval (step schedules, `set` events). */
typedef struct interval {
    double rho[N];
    double alpha[N][K];       /* normalised */
    int price_ramp;           /* the rivals' public price moves inside the interval */
    double p_rival, pf_rival; /* otherwise: the price and price^-beta */
} interval;

struct floor_ws {
    floor_params p;
    int rk4;
    double h;
    double bp[MAXBP];
    int is_out[MAXBP];
    size_t nbp, nout;
    gsl_odeiv2_system sys;
    gsl_odeiv2_driver *drv;
    interval iv;
    double V0[NK];
    double y[DIM], k1[DIM], k2[DIM], k3[DIM], k4[DIM], yt[DIM];
};

/* A linear schedule with two knots (flat outside), stratsim's formula. */
static double lin(double t, const double *kt, const double *kv)
{
    if (t < kt[0])
        return kv[0];
    if (t >= kt[1])
        return kv[1];
    return kv[0] + (t - kt[0]) / (kt[1] - kt[0]) * (kv[1] - kv[0]);
}

static double steps_at(const floor_steps *s, double t)
{
    int j;
    double v = s->v[0];
    for (j = 1; j < s->n && s->t[j] <= t; j++)
        v = s->v[j];
    return v;
}

static int rhs(double t, const double y[], double f[], void *params)
{
    const struct floor_ws *w = params;
    const floor_params *P = &w->p;
    const interval *iv = &w->iv;
    const double *s = y, *C = y + NK, *V = y + 2 * NK, *R = y + 3 * NK, *X = y + 3 * NK + 2 * N;
    double M[K], a[NK], rev[NK], revi[N] = { 0 }, inv[N], op;
    double p_rival = iv->p_rival, pf_rival = iv->pf_rival;
    double w_ali_private = lin(t, P->part_t, P->part_v);
    double x_ali_ai = lin(t, P->lever_t, P->lever_v);
    double disc = exp(-P->discount * (t - P->t0));
    int i, k;

    if (iv->price_ramp) {
        p_rival = lin(t, P->price_t, P->price_v);
        pf_rival = pow(p_rival, -P->beta_price[0]);
    }
    M[0] = X[0];
    M[1] = X[1];
    M[2] = P->potential * X[2];
    for (k = 0; k < K; k++) {
        double sum = 0.0;
        for (i = 0; i < N; i++) {
            int j = i * K + k;
            double c = C[j] > 0.0 ? C[j] : 0.0;
            double v = P->brand[i][k] * sqrt(c) * R[i];
            if (k == 0 && i > 0)
                v *= pf_rival;
            if (i == 0 && k == 1)
                v *= w_ali_private;
            if (i == 0 && k == 2)
                v *= x_ali_ai;
            a[j] = v;
            sum += v;
        }
        for (i = 0; i < N; i++) {
            int j = i * K + k;
            f[j] = (a[j] / sum - s[j]) / P->tau[k];
            rev[j] = M[k] * s[j];
            revi[i] += rev[j];
        }
    }
    for (i = 0; i < N; i++) {
        double gp = 0.0, ox = 0.0;
        inv[i] = iv->rho[i] * revi[i];
        for (k = 0; k < K; k++) {
            int j = i * K + k;
            double price = (k == 0 && i > 0) ? p_rival : 1.0;
            double ratio = P->learning[k] != 0.0 ? pow(V[j] / w->V0[j], -P->learning[k]) : 1.0;
            gp += rev[j] * (1.0 - (1.0 - P->margin0[i][k]) * ratio / price);
            ox += P->opex[i][k] * rev[j];
            f[NK + j] = iv->alpha[i][k] * inv[i] - P->depreciation[k] * C[j];
            f[2 * NK + j] = rev[j] / price;
        }
        op = gp - ox - P->fixed_cost[i] - inv[i];
        f[3 * NK + i] = (1.0 - R[i]) / P->recovery[i];
        f[3 * NK + N + i] = op * disc;
    }
    f[3 * NK + 2 * N + 0] = P->growth[0] * M[0];
    f[3 * NK + 2 * N + 1] = P->growth[1] * M[1];
    f[3 * NK + 2 * N + 2] = (P->bass_p + P->bass_q * X[2]) * (1.0 - X[2]);
    return GSL_SUCCESS;
}

/* Step schedules and `set` events in force on the interval [ta, ...). */
static void set_interval(floor_ws *w, double ta, int set_done)
{
    const floor_params *P = &w->p;
    interval *iv = &w->iv;
    int i, k;
    for (i = 0; i < N; i++) {
        double raw[K], sum = 0.0;
        iv->rho[i] = (i == 0 && set_done) ? P->set_reinvest : steps_at(&P->reinvest[i], ta);
        for (k = 0; k < K; k++) {
            raw[k] = (i == 0 && set_done) ? P->set_alloc[k] : steps_at(&P->alloc[i][k], ta);
            sum += raw[k];
        }
        for (k = 0; k < K; k++)
            iv->alpha[i][k] = raw[k] / sum;
    }
    iv->price_ramp = ta >= P->price_t[0] && ta < P->price_t[1];
    iv->p_rival = lin(ta, P->price_t, P->price_v);
    iv->pf_rival = pow(iv->p_rival, -P->beta_price[0]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void add_knots(double *t, size_t *n, const double *kt, int nk, double t0, double t1)
{
    int j;
    for (j = 0; j < nk; j++)
        if (kt[j] > t0 && kt[j] < t1 && *n < MAXBP)
            t[(*n)++] = kt[j];
}

floor_ws *floor_new(const floor_params *p, int rk4, double h)
{
    floor_ws *w = calloc(1, sizeof *w);
    double t[2 * MAXBP];
    size_t n = 0, j, m;
    int i, k;
    if (!w)
        return NULL;
    w->p = *p;
    w->rk4 = rk4;
    w->h = h;
    /* breakpoints: output times, event times, knots (as stratsim) */
    for (j = 0; n < MAXBP - 40; j++) {
        double x = p->t0 + (double)j * p->step;
        if (x >= p->t1 - TOL)
            break;
        t[n++] = x;
    }
    t[n++] = p->t1;
    w->nout = n;
    t[n++] = p->outage_t;
    t[n++] = p->set_t;
    for (i = 0; i < N; i++) {
        add_knots(t, &n, p->reinvest[i].t, p->reinvest[i].n, p->t0, p->t1);
        for (k = 0; k < K; k++)
            add_knots(t, &n, p->alloc[i][k].t, p->alloc[i][k].n, p->t0, p->t1);
    }
    add_knots(t, &n, p->price_t, 2, p->t0, p->t1);
    add_knots(t, &n, p->part_t, 2, p->t0, p->t1);
    add_knots(t, &n, p->lever_t, 2, p->t0, p->t1);
    qsort(t, n, sizeof *t, cmp_double);
    for (j = 0, m = 0; j < n && m < MAXBP; j++)
        if (m == 0 || t[j] > w->bp[m - 1] + TOL)
            w->bp[m++] = t[j];
    w->nbp = m;
    for (j = 0; j < m; j++) {
        double q = (w->bp[j] - p->t0) / p->step;
        w->is_out[j] = fabs(q - floor(q + 0.5)) < 1e-6 || w->bp[j] == p->t1;
    }
    if (!rk4) {
        w->sys.function = rhs;
        w->sys.jacobian = NULL;
        w->sys.dimension = DIM;
        w->sys.params = w;
        w->drv = gsl_odeiv2_driver_alloc_y_new(&w->sys, gsl_odeiv2_step_rk8pd, h, 1e-10, 1e-8);
        if (!w->drv) {
            free(w);
            return NULL;
        }
        gsl_odeiv2_driver_set_nmax(w->drv, 1000000);
        gsl_odeiv2_driver_set_hmin(w->drv, 1e-12);
    }
    return w;
}

void floor_free(floor_ws *w)
{
    if (!w)
        return;
    if (w->drv)
        gsl_odeiv2_driver_free(w->drv);
    free(w);
}

size_t floor_nout(const floor_ws *w)
{
    return w->nout;
}

static void rk4_interval(floor_ws *w, double ta, double tb)
{
    double len = tb - ta, h;
    unsigned long n = (unsigned long)ceil(len / w->h - 1e-9), s;
    int j;
    if (n < 1)
        n = 1;
    h = len / (double)n;
    for (s = 0; s < n; s++) {
        double t = ta + (double)s * h;
        rhs(t, w->y, w->k1, w);
        for (j = 0; j < DIM; j++)
            w->yt[j] = w->y[j] + 0.5 * h * w->k1[j];
        rhs(t + 0.5 * h, w->yt, w->k2, w);
        for (j = 0; j < DIM; j++)
            w->yt[j] = w->y[j] + 0.5 * h * w->k2[j];
        rhs(t + 0.5 * h, w->yt, w->k3, w);
        for (j = 0; j < DIM; j++)
            w->yt[j] = w->y[j] + h * w->k3[j];
        rhs(t + h, w->yt, w->k4, w);
        for (j = 0; j < DIM; j++)
            w->y[j] += h / 6.0 * (w->k1[j] + 2.0 * w->k2[j] + 2.0 * w->k3[j] + w->k4[j]);
    }
}

int floor_run(floor_ws *w, double *out)
{
    const floor_params *P = &w->p;
    double *y = w->y, hint = w->h;
    int set_done = 0, outage_done = 0, i, k;
    size_t b, o = 0;

    y[3 * NK + 2 * N + 0] = P->size0[0];
    y[3 * NK + 2 * N + 1] = P->size0[1];
    y[3 * NK + 2 * N + 2] = P->size0[2] / P->potential;
    for (i = 0; i < N; i++) {
        for (k = 0; k < K; k++) {
            int j = i * K + k;
            y[j] = P->share0[i][k];
            y[NK + j] = P->capability0[i][k];
            y[2 * NK + j] = w->V0[j] = P->experience[i] * P->size0[k] * P->share0[i][k];
        }
        y[3 * NK + i] = P->reliability0[i];
        y[3 * NK + N + i] = 0.0;
    }
    for (b = 0; b < w->nbp; b++) {
        double ta = w->bp[b];
        if (!outage_done && P->outage_t <= ta + TOL) {
            y[3 * NK + 0] *= 1.0 - P->outage_severity;
            outage_done = 1;
        }
        if (!set_done && P->set_t <= ta + TOL)
            set_done = 1;
        if (w->is_out[b] && o < w->nout)
            memcpy(out + DIM * o++, y, sizeof(double) * DIM);
        if (b + 1 == w->nbp)
            break;
        set_interval(w, ta, set_done);
        if (w->rk4) {
            rk4_interval(w, ta, w->bp[b + 1]);
        } else {
            double t = ta, tb = w->bp[b + 1];
            gsl_odeiv2_driver_reset_hstart(w->drv, hint < tb - ta ? hint : tb - ta);
            if (gsl_odeiv2_driver_apply(w->drv, &t, tb, y) != GSL_SUCCESS)
                return -1;
            if (w->drv->h > 0.0)
                hint = w->drv->h;
        }
    }
    return o == w->nout ? 0 : -1;
}
