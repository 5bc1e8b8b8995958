/*
 * test_model.c - the canonical model against closed forms: schedules,
 * exponential share adjustment, capability under constant investment, Bass
 * diffusion, NPV of a constant stream, learning-curve margins, equilibrium
 * start, conservation of shares, event semantics, solver agreement, and
 * validation errors.
 */
#include "test_util.h"
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"
#include "test_models.h"

/* The shared test model (test_models.h), t in [0, 10.0] by 0.5. */
static ss_model *mk(size_t K, size_t N)
{
    return test_model_new(K, N, 10.0);
}

static ss_result *run_ok(const ss_model *m)
{
    ss_result *r = NULL;
    ss_err e = { 0 };
    int rc = ss_sim_run(&r, m, NULL, &e);
    if (rc)
        fail_msg("run failed: %s (%s)", e.msg, e.path);
    return r;
}

static void add_set(ss_model *m, double t, int prov, ss_field f, int k, double v)
{
    ss_event ev;
    double *vals = calloc(m->nseg, sizeof *vals);
    unsigned char *mask = calloc(m->nseg, 1);
    memset(&ev, 0, sizeof ev);
    ev.t = t;
    ev.kind = SS_EV_SET;
    ev.provider = prov;
    ev.segment = -1;
    ev.field = f;
    if (f == SS_FIELD_REINVEST) {
        ev.amount = v;
    } else {
        vals[k] = v;
        mask[k] = 1;
        ev.values = vals;
        ev.mask = mask;
    }
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    free(vals);
    free(mask);
}

/* ---------------------------------------------------------------- schedules */

static void test_schedule_steps(void **state)
{
    ss_schedule s = { 0 };
    double t[] = { 1.0, 2.0, 3.0 }, v[] = { 10.0, 20.0, 30.0 };
    (void)state;
    assert_int_equal(ss_schedule_set_knots(&s, SS_SCHED_STEPS, 3, t, v, "x", NULL), SS_OK);
    assert_close(ss_schedule_eval(&s, 0.0), 10.0, 0);   /* before first knot: first value */
    assert_close(ss_schedule_eval(&s, 1.0), 10.0, 0);
    assert_close(ss_schedule_eval(&s, 1.999), 10.0, 0);
    assert_close(ss_schedule_eval(&s, 2.0), 20.0, 0);   /* right-continuous */
    assert_close(ss_schedule_eval(&s, 2.5), 20.0, 0);
    assert_close(ss_schedule_eval(&s, 3.0), 30.0, 0);
    assert_close(ss_schedule_eval(&s, 99.0), 30.0, 0);  /* flat after */
    /* inside an interval starting at 2: the value in force at 2 */
    assert_close(ss_schedule_eval_in(&s, 2.0, 2.9999), 20.0, 0);
    assert_close(ss_schedule_min(&s), 10.0, 0);
    assert_close(ss_schedule_max(&s), 30.0, 0);
    ss_schedule_clear(&s);
}

static void test_schedule_linear(void **state)
{
    ss_schedule s = { 0 }, c = { 0 };
    double t[] = { 1.0, 3.0 }, v[] = { 10.0, 30.0 };
    (void)state;
    assert_int_equal(ss_schedule_set_knots(&s, SS_SCHED_LINEAR, 2, t, v, "x", NULL), SS_OK);
    assert_close(ss_schedule_eval(&s, 0.0), 10.0, 0);
    assert_close(ss_schedule_eval(&s, 2.0), 20.0, 1e-15);
    assert_close(ss_schedule_eval(&s, 2.5), 25.0, 1e-15);
    assert_close(ss_schedule_eval(&s, 5.0), 30.0, 0);
    assert_close(ss_schedule_eval_in(&s, 1.0, 1.5), 15.0, 1e-15); /* linear: evaluated at t */
    assert_int_equal(ss_schedule_copy(&c, &s), SS_OK);
    ss_schedule_clear(&s);
    assert_close(ss_schedule_eval(&c, 2.0), 20.0, 1e-15);
    ss_schedule_clear(&c);
    ss_schedule_set_const(&c, 4.0);
    assert_close(ss_schedule_eval(&c, -1e9), 4.0, 0);
}

static void test_schedule_errors(void **state)
{
    ss_schedule s = { 0 };
    ss_err e = { 0 };
    double t[] = { 1.0, 1.0 }, v[] = { 1.0, 2.0 }, tn[] = { 1.0, NAN };
    (void)state;
    assert_int_equal(ss_schedule_set_knots(&s, SS_SCHED_STEPS, 2, t, v, "p", &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "strictly increasing"));
    assert_int_equal(ss_schedule_set_knots(&s, SS_SCHED_STEPS, 2, tn, v, "p", &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "finite"));
    assert_int_equal(ss_schedule_set_knots(&s, SS_SCHED_LINEAR, 0, t, v, "p", &e), SS_EINVAL);
}

/* ------------------------------------------------------------- closed forms */

/* Fixed attractiveness: s(t) = s* + (s0 - s*) exp(-t/tau). */
static void test_exponential_adjustment(void **state)
{
    ss_model *m = mk(1, 2);
    ss_result *r;
    size_t ti;
    (void)state;
    m->prov[0].share[0] = 0.6;
    m->prov[1].share[0] = 0.4;
    m->seg[0].beta_capability = 0.0; /* capability moves with revenue; switch it off */
    m->seg[0].tau = 2.0;
    add_set(m, 0.0, 0, SS_FIELD_LEVER, 0, 2.0); /* a_A = 2*0.6, a_B = 0.4 -> s* = 0.75 */
    r = run_ok(m);
    assert_int_equal(r->nt, 21);
    for (ti = 0; ti < r->nt; ti++) {
        double t = r->t[ti];
        double want = 0.75 + (0.6 - 0.75) * exp(-t / 2.0);
        assert_close(SS_RESULT_PS(r, ti, SS_PS_SHARE, 0, 0), want, 1e-9);
        assert_close(SS_RESULT_PS(r, ti, SS_PS_TARGET_SHARE, 0, 0), 0.75, 1e-12);
        assert_close(SS_RESULT_PS(r, ti, SS_PS_SHARE, 1, 0), 1.0 - want, 1e-9);
    }
    /* the worked example in docs/model.md: s_A(1) */
    assert_close(SS_RESULT_PS(r, 2, SS_PS_SHARE, 0, 0), 0.6590204010, 1e-10);
    ss_result_free(r);
    ss_model_free(m);
}

/* Capability under constant investment: C = Css + (C0 - Css) e^{-d t}. */
static void test_capability_constant_investment(void **state)
{
    ss_model *m = mk(2, 2);
    ss_result *r;
    size_t ti;
    double rev0, inv, alpha, css, C0 = 5.0, d = 0.3, e = 1.5;
    (void)state;
    m->seg[0].beta_capability = m->seg[1].beta_capability = 0.0;
    m->seg[0].depreciation = d;
    m->seg[0].efficiency = e;
    m->prov[0].capability[0] = C0;
    m->prov[0].capability_given[0] = 1;
    ss_schedule_set_const(&m->prov[0].reinvest, 0.25);
    /* provider 1: 0.5*100 + 0.5*200 = 150 revenue; default alpha = 50/150 */
    rev0 = 150.0;
    inv = 0.25 * rev0;
    alpha = 50.0 / 150.0;
    css = e * alpha * inv / d;
    r = run_ok(m);
    for (ti = 0; ti < r->nt; ti++) {
        double t = r->t[ti];
        assert_close(SS_RESULT_PS(r, ti, SS_PS_CAPABILITY, 0, 0), css + (C0 - css) * exp(-d * t), 1e-8);
        assert_close(SS_RESULT_P(r, ti, SS_P_INVESTMENT, 0), inv, 1e-9);
        /* the defaulted capability of segment 2 sits at its steady state */
        assert_close(SS_RESULT_PS(r, ti, SS_PS_CAPABILITY, 0, 1),
                     1.0 * (100.0 / 150.0) * inv / 0.2, 1e-8);
    }
    ss_result_free(r);
    ss_model_free(m);
}

/* Bass closed form started from A0 = size/potential. */
static double bass_F(double p, double q, double t)
{
    double E = exp(-(p + q) * t);
    return (1.0 - E) / (1.0 + (q / p) * E);
}

static void test_bass(void **state)
{
    ss_model *m = mk(1, 1);
    ss_result *r;
    size_t ti;
    double p = 0.03, q = 0.38, pot = 1000.0, A0, E0, tstar;
    (void)state;
    m->seg[0].has_bass = 1;
    m->seg[0].bass_p = p;
    m->seg[0].bass_q = q;
    m->seg[0].bass_potential = pot;
    m->seg[0].size = 50.0;
    m->t1 = 30.0;
    A0 = 50.0 / pot;
    E0 = (1.0 - A0) / (1.0 + A0 * q / p);
    tstar = -log(E0) / (p + q);
    r = run_ok(m);
    for (ti = 0; ti < r->nt; ti++)
        assert_rel(SS_RESULT_S(r, ti, SS_S_SIZE, 0), pot * bass_F(p, q, r->t[ti] + tstar), 1e-8);
    assert_close(SS_RESULT_S(r, 0, SS_S_SIZE, 0), 50.0, 1e-12);
    ss_result_free(r);
    ss_model_free(m);
}

/* Constant operating profit: NPV(t) = OP (1 - e^{-rt}) / r. */
static void test_npv_constant_stream(void **state)
{
    ss_model *m = mk(2, 2);
    ss_result *r;
    size_t ti;
    double rr = 0.08, op;
    (void)state;
    m->discount_rate = rr;
    m->prov[0].margin[0] = 0.4;
    m->prov[0].margin[1] = 0.1;
    m->prov[0].opex[0] = 0.05;
    m->prov[0].fixed_cost = 3.0;
    /* revenue 50 + 100; GP = 20 + 10; opex 2.5; fixed 3; investment 0.2*150 */
    op = 30.0 - 2.5 - 3.0 - 30.0;
    r = run_ok(m);
    for (ti = 0; ti < r->nt; ti++) {
        double t = r->t[ti];
        assert_close(SS_RESULT_P(r, ti, SS_P_OPERATING_PROFIT, 0), op, 1e-9);
        assert_close(SS_RESULT_P(r, ti, SS_P_NPV, 0), op * (1.0 - exp(-rr * t)) / rr, 1e-8);
    }
    ss_result_free(r);
    ss_model_free(m);
}

/* Learning curve: constant revenue R, V = E R + R t, m = 1 - (1-m0)((E+t)/E)^-b. */
static void test_learning_margin(void **state)
{
    ss_model *m = mk(1, 2);
    ss_result *r;
    size_t ti;
    double b = 0.3, E = 2.0, m0 = 0.25;
    (void)state;
    m->seg[0].learning = b;
    m->prov[0].experience = E;
    m->prov[0].margin[0] = m0;
    r = run_ok(m);
    for (ti = 0; ti < r->nt; ti++) {
        double t = r->t[ti];
        assert_close(SS_RESULT_PS(r, ti, SS_PS_GROSS_MARGIN, 0, 0),
                     1.0 - (1.0 - m0) * pow((E + t) / E, -b), 1e-9);
        /* learning is a segment property: p2 learns too, from experience 1 */
        assert_close(SS_RESULT_PS(r, ti, SS_PS_GROSS_MARGIN, 1, 0),
                     1.0 - 0.7 * pow(1.0 + t, -b), 1e-9);
    }
    ss_result_free(r);
    ss_model_free(m);
}

/* An undisturbed scenario stays at its initial shares (equilibrium start). */
static void test_equilibrium_start(void **state)
{
    ss_model *m = mk(3, 4);
    ss_result *r;
    size_t ti, i, k;
    double sh[4][3] = { { 0.378, 0.2, 0.1 }, { 0.3, 0.3, 0.5 }, { 0.2, 0.1, 0.25 }, { 0.122, 0.4, 0.15 } };
    (void)state;
    for (i = 0; i < 4; i++)
        for (k = 0; k < 3; k++)
            m->prov[i].share[k] = sh[i][k];
    for (k = 0; k < 3; k++) {
        ss_schedule_set_const(&m->seg[k].growth, 0.12); /* uniform growth keeps ratios */
        m->seg[k].learning = 0.1 * (double)k;
        m->seg[k].tau = 1.0 + (double)k;
    }
    ss_schedule_set_const(&m->prov[1].reinvest, 0.35);
    m->prov[2].experience = 3.0;
    m->prov[3].margin[1] = -0.2;
    m->t1 = 20.0;
    r = run_ok(m);
    for (ti = 0; ti < r->nt; ti++)
        for (i = 0; i < 4; i++)
            for (k = 0; k < 3; k++)
                assert_close(SS_RESULT_PS(r, ti, SS_PS_SHARE, i, k), sh[i][k], 1e-10);
    ss_result_free(r);
    ss_model_free(m);
}

/* A disturbed scenario: shares sum to 1 at every output to 1e-12. */
static ss_model *disturbed(void)
{
    ss_model *m = mk(2, 3);
    ss_event ev;
    double t[] = { 2.0, 4.0 }, v[] = { 0.9, 0.8 };
    m->prov[0].share[0] = 0.5; m->prov[1].share[0] = 0.3; m->prov[2].share[0] = 0.2;
    m->prov[0].share[1] = 0.1; m->prov[1].share[1] = 0.6; m->prov[2].share[1] = 0.3;
    ss_schedule_set_const(&m->seg[0].growth, 0.2);
    ss_schedule_set_const(&m->seg[1].growth, 0.05);
    m->seg[0].learning = 0.15;
    assert_int_equal(ss_schedule_set_knots(&m->prov[1].price[0], SS_SCHED_STEPS, 2, t, v, "x", NULL), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->prov[2].reinvest, SS_SCHED_LINEAR, 2, t, v, "x", NULL), SS_OK);
    memset(&ev, 0, sizeof ev);
    ev.t = 3.3; ev.kind = SS_EV_OUTAGE; ev.provider = 0; ev.segment = -1; ev.amount = 0.2;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    ev.t = 5.0; ev.kind = SS_EV_MARKET; ev.provider = -1; ev.segment = 1; ev.amount = 1.5;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    add_set(m, 6.0, 2, SS_FIELD_ALLOCATION, 0, 3.0);
    m->discount_rate = 0.1;
    return m;
}

static void test_shares_sum_to_one(void **state)
{
    ss_model *m = disturbed();
    ss_result *r = run_ok(m);
    size_t ti, i, k;
    int moved = 0;
    (void)state;
    for (ti = 0; ti < r->nt; ti++)
        for (k = 0; k < 2; k++) {
            double s = 0.0, st = 0.0;
            for (i = 0; i < 3; i++) {
                s += SS_RESULT_PS(r, ti, SS_PS_SHARE, i, k);
                st += SS_RESULT_PS(r, ti, SS_PS_TARGET_SHARE, i, k);
            }
            assert_close(s, 1.0, 1e-12);
            assert_close(st, 1.0, 1e-12);
            if (fabs(SS_RESULT_PS(r, ti, SS_PS_SHARE, 0, 0) - 0.5) > 1e-3)
                moved = 1;
        }
    assert_true(moved); /* the disturbances really moved shares */
    ss_result_free(r);
    ss_model_free(m);
}

/* Fixed-step RK4 and the adaptive solver agree to 1e-6 on a full scenario. */
static void test_rk4_matches_adaptive(void **state)
{
    ss_model *m = disturbed();
    ss_result *a, *b;
    size_t j, n;
    (void)state;
    a = run_ok(m);
    m->solver.method = SS_SOLVER_RK4;
    m->solver.h = 1.0 / 64.0;
    b = run_ok(m);
    n = a->nt * SS_NPS * a->np * a->nk;
    for (j = 0; j < n; j++)
        assert_close(b->ps[j], a->ps[j], 1e-6 * fmax(1.0, fabs(a->ps[j])));
    for (j = 0; j < a->nt * SS_NP * a->np; j++)
        assert_close(b->p[j], a->p[j], 1e-6 * fmax(1.0, fabs(a->p[j])));
    for (j = 0; j < a->nt * SS_NS * a->nk; j++)
        assert_close(b->s[j], a->s[j], 1e-6 * fmax(1.0, fabs(a->s[j])));
    /* Euler is first order: it must differ visibly at this step size */
    ss_result_free(b);
    m->solver.method = SS_SOLVER_EULER;
    b = run_ok(m);
    assert_true(fabs(SS_RESULT_P(b, b->nt - 1, SS_P_NPV, 0) - SS_RESULT_P(a, a->nt - 1, SS_P_NPV, 0)) > 1e-6);
    ss_result_free(a);
    ss_result_free(b);
    ss_model_free(m);
}

/* Events: an output at an event time shows the state after it. */
static void test_event_semantics(void **state)
{
    ss_model *m = mk(1, 2);
    ss_result *r;
    ss_event ev;
    long ti;
    (void)state;
    memset(&ev, 0, sizeof ev);
    ev.t = 2.0; ev.kind = SS_EV_OUTAGE; ev.provider = 0; ev.segment = -1; ev.amount = 0.25;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    ev.t = 2.0; ev.kind = SS_EV_OUTAGE; ev.amount = 0.5; /* tie: applied after the first */
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    ev.t = 3.0; ev.kind = SS_EV_MARKET; ev.provider = -1; ev.segment = 0; ev.amount = 2.0;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    r = run_ok(m);
    ti = ss_result_time_index(r, 2.0);
    assert_true(ti > 0);
    assert_close(SS_RESULT_P(r, ti, SS_P_RELIABILITY, 0), 0.375, 1e-12);
    assert_close(SS_RESULT_P(r, ti - 1, SS_P_RELIABILITY, 0), 1.0, 1e-12);
    /* recovery: R = 1 - 0.625 e^{-(t-2)/0.5} */
    assert_close(SS_RESULT_P(r, ti + 1, SS_P_RELIABILITY, 0), 1.0 - 0.625 * exp(-1.0), 1e-9);
    ti = ss_result_time_index(r, 3.0);
    assert_close(SS_RESULT_S(r, ti, SS_S_SIZE, 0), 200.0, 1e-9);
    assert_close(SS_RESULT_S(r, ti - 1, SS_S_SIZE, 0), 100.0, 1e-9);
    ss_result_free(r);
    ss_model_free(m);
}

/*
 * Outputs far denser than the solver's own steps: every output must be as
 * accurate as the state the solver steps to, to 1e-9 against the closed
 * forms. The error control alone would take steps of a year or more here, so
 * outputs read off an interpolant between such steps fail these checks: a
 * cubic Hermite one errs by about 1e-4 at mid-step, and SciPy's solve_ivp
 * with t_eval at the same tolerances (rtol 1e-8, atol 1e-10) misses the
 * first check by 1.4e-9 (RK45) and 3.9e-9 (DOP853, 7th-order interpolant)
 * and the Bass one by 5.7e-8 and 2.6e-8 relative. The output at an event
 * time shows the state after it, the one before it the state before.
 */
static void test_dense_outputs_closed_form(void **state)
{
    ss_model *m = mk(1, 2), *b = mk(1, 1);
    ss_result *r, *rs;
    ss_event ev;
    size_t ti;
    long te;
    double p = 0.03, q = 0.38, pot = 1000.0, A0, E0, tstar;
    (void)state;
    m->prov[0].share[0] = 0.6;
    m->prov[1].share[0] = 0.4;
    m->seg[0].beta_capability = 0.0;
    m->seg[0].beta_reliability = 0.0; /* the outage leaves the shares alone */
    m->seg[0].tau = 2.0;
    m->step = 1.0 / 64.0;             /* 641 outputs over 10 years */
    add_set(m, 0.0, 0, SS_FIELD_LEVER, 0, 2.0); /* s* = 0.75 */
    memset(&ev, 0, sizeof ev);
    ev.t = 2.0; ev.kind = SS_EV_OUTAGE; ev.provider = 0; ev.segment = -1; ev.amount = 0.25;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    r = run_ok(m);
    assert_int_equal(r->nt, 641);
    te = ss_result_time_index(r, 2.0);
    assert_true(te > 0);
    for (ti = 0; ti < r->nt; ti++) {
        double t = r->t[ti];
        double want = 0.75 + (0.6 - 0.75) * exp(-t / 2.0);
        double rel = (long)ti < te ? 1.0 : 1.0 - 0.25 * exp(-(t - 2.0) / 0.5);
        assert_close(SS_RESULT_PS(r, ti, SS_PS_SHARE, 0, 0), want, 1e-9);
        assert_close(SS_RESULT_PS(r, ti, SS_PS_SHARE, 1, 0), 1.0 - want, 1e-9);
        assert_close(SS_RESULT_P(r, ti, SS_P_RELIABILITY, 0), rel, 1e-9);
    }
    assert_close(SS_RESULT_P(r, te, SS_P_RELIABILITY, 0), 0.75, 1e-12);
    assert_close(SS_RESULT_P(r, te - 1, SS_P_RELIABILITY, 0), 1.0, 1e-12);
    /* the same model with a single output time: the state at stop agrees */
    m->step = 10.0;
    rs = run_ok(m);
    assert_int_equal(rs->nt, 2);
    assert_close(SS_RESULT_PS(rs, 1, SS_PS_SHARE, 0, 0), SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, 0, 0),
                 1e-9);
    ss_result_free(rs);
    ss_result_free(r);

    /* Bass diffusion over 30 years, outputs every 1/16 year */
    b->seg[0].has_bass = 1;
    b->seg[0].bass_p = p;
    b->seg[0].bass_q = q;
    b->seg[0].bass_potential = pot;
    b->seg[0].size = 50.0;
    b->t1 = 30.0;
    b->step = 1.0 / 16.0;
    A0 = 50.0 / pot;
    E0 = (1.0 - A0) / (1.0 + A0 * q / p);
    tstar = -log(E0) / (p + q);
    r = run_ok(b);
    assert_int_equal(r->nt, 481);
    for (ti = 0; ti < r->nt; ti++)
        assert_rel(SS_RESULT_S(r, ti, SS_S_SIZE, 0), pot * bass_F(p, q, r->t[ti] + tstar), 1e-9);
    ss_result_free(r);
    ss_model_free(m);
    ss_model_free(b);
}

/* A `set` event and a step schedule with a knot at the same time agree. */
static void test_set_equals_steps(void **state)
{
    ss_model *a = mk(2, 2), *b = mk(2, 2);
    ss_result *ra, *rb;
    double t[] = { 0.0, 1.25 }, v[] = { 1.0, 0.8 };
    size_t j;
    (void)state;
    add_set(a, 1.25, 0, SS_FIELD_PRICE, 1, 0.8);
    assert_int_equal(ss_schedule_set_knots(&b->prov[0].price[1], SS_SCHED_STEPS, 2, t, v, "x", NULL), SS_OK);
    ra = run_ok(a);
    rb = run_ok(b);
    for (j = 0; j < ra->nt * SS_NPS * ra->np * ra->nk; j++)
        assert_close(ra->ps[j], rb->ps[j], 1e-12 * fmax(1.0, fabs(ra->ps[j])));
    assert_true(SS_RESULT_PS(ra, ra->nt - 1, SS_PS_SHARE, 0, 1) > 0.5 + 1e-3); /* price cut moved share */
    ss_result_free(ra);
    ss_result_free(rb);
    ss_model_free(a);
    ss_model_free(b);
}

/* Output grid: stop is included even when not a multiple of step. */
static void test_output_grid(void **state)
{
    ss_model *m = mk(1, 1);
    ss_result *r;
    (void)state;
    m->t0 = 2021.75;
    m->t1 = 2023.0;
    m->step = 0.3;
    r = run_ok(m);
    assert_int_equal(r->nt, 6);
    assert_close(r->t[4], 2021.75 + 4 * 0.3, 0);
    assert_close(r->t[5], 2023.0, 0);
    ss_result_free(r);
    m->t1 = m->t0;
    r = run_ok(m);
    assert_int_equal(r->nt, 1);
    ss_result_free(r);
    ss_model_free(m);
}

/* ------------------------------------------------------------------- errors */

static void expect_err(ss_model *m, int code, const char *path, const char *frag)
{
    ss_result *r = NULL;
    ss_err e = { 0 };
    int rc = ss_sim_run(&r, m, NULL, &e);
    assert_int_equal(rc, code);
    assert_null(r);
    if (path)
        assert_string_equal(e.path, path);
    if (!strstr(e.msg, frag))
        fail_msg("message '%s' lacks '%s'", e.msg, frag);
}

static void test_validation_errors(void **state)
{
    ss_model *m;
    (void)state;
    m = mk(2, 2);
    m->prov[0].share[1] = 0.45;
    expect_err(m, SS_EINVAL, "providers.share.s2", "sum to 0.95");
    ss_model_free(m);

    m = mk(1, 2);
    m->prov[1].margin[0] = 1.0;
    expect_err(m, SS_EINVAL, "providers.p2.margin.s1", "< 1");
    ss_model_free(m);

    m = mk(1, 2);
    m->seg[0].depreciation = 0.0;
    expect_err(m, SS_EINVAL, "providers.p1.capability.s1", "depreciation is 0");
    ss_model_free(m);

    m = mk(1, 2);
    ss_schedule_set_const(&m->prov[0].participation[0], 0.0);
    expect_err(m, SS_EINVAL, "providers.p1.share.s1", "zero attractiveness");
    ss_model_free(m);

    m = mk(1, 2);
    m->seg[0].tau = 0.0;
    expect_err(m, SS_EINVAL, "segments.s1.tau", "> 0");
    ss_model_free(m);

    m = mk(1, 2);
    add_set(m, 11.0, 0, SS_FIELD_REINVEST, 0, 0.3);
    expect_err(m, SS_EINVAL, "events[1].t", "outside the time range");
    ss_model_free(m);

    m = mk(1, 1);
    m->prov[0].allocation_given = 1; /* all zero */
    expect_err(m, SS_EINVAL, "providers.p1.allocation", "zero for every segment");
    ss_model_free(m);
}

/* Exponential blow-up is caught and named, never written as inf. */
static void test_nonfinite_caught(void **state)
{
    ss_model *m = mk(1, 1);
    (void)state;
    ss_schedule_set_const(&m->seg[0].growth, 800.0);
    expect_err(m, SS_ENUMERIC, NULL, "non-finite");
    ss_model_free(m);

    m = mk(1, 2);
    m->solver.max_steps = 3;
    m->seg[0].tau = 1e-6; /* stiff: needs many steps */
    add_set(m, 0.0, 0, SS_FIELD_REINVEST, 0, 0.9);
    ss_schedule_set_const(&m->seg[0].growth, 0.5);
    expect_err(m, SS_ELIMIT, NULL, "max_steps");
    ss_model_free(m);
}

/* The resolved model: steady-state capability and equilibrium brand. */
static void test_resolve_defaults(void **state)
{
    ss_model *m = mk(2, 2);
    ss_err e = { 0 };
    (void)state;
    m->prov[0].share[0] = 0.7;
    m->prov[1].share[0] = 0.3;
    assert_int_equal(ss_model_resolve(m, &e), SS_OK);
    /* p1: revenue 70 + 100 = 170; alpha = 70/170; I = 0.2*170 = 34; C = alpha*I/0.2 */
    assert_close(ss_schedule_eval(&m->prov[0].allocation[0], 0), 70.0 / 170.0, 1e-15);
    assert_close(m->prov[0].capability[0], (70.0 / 170.0) * 34.0 / 0.2, 1e-12);
    assert_close(m->prov[0].brand[0] * m->prov[0].capability[0], 0.7, 1e-12);
    assert_close(m->epoch, m->step, 0);
    ss_model_free(m);
}

/* Parameter paths resolve to the right field; errors name the path. */
static void test_param_paths(void **state)
{
    ss_model *m = mk(2, 2);
    ss_err e = { 0 };
    ss_param p;
    double t[] = { 1.0, 2.0 }, v[] = { 0.1, 0.3 };
    (void)state;
    assert_int_equal(ss_model_set_path(m, "segments.s2.tau", 3.5, &e), SS_OK);
    assert_close(m->seg[1].tau, 3.5, 0);
    assert_int_equal(ss_model_set_path(m, "providers.p1.share.s2", 0.25, &e), SS_OK);
    assert_close(m->prov[0].share[1], 0.25, 0);
    assert_int_equal(ss_model_set_path(m, "providers.p2.reinvest", 0.4, &e), SS_OK);
    /* a decision input: an intervention, the base stays (docs/model.md §6) */
    assert_close(ss_schedule_eval(&m->prov[1].reinvest, 5.0), 0.2, 0);
    assert_true(m->prov[1].iv_on[0]);
    assert_close(ss_schedule_eval(&m->prov[1].iv[0], 5.0), 0.4, 0);
    assert_int_equal(ss_model_set_base_path(m, "providers.p2.reinvest", 0.3, &e), SS_OK);
    assert_close(ss_schedule_eval(&m->prov[1].reinvest, 5.0), 0.3, 0);
    assert_close(ss_schedule_eval(&m->prov[1].iv[0], 5.0), 0.4, 0);
    assert_int_equal(ss_model_set_path(m, "providers.p2.capability.s1", 7.0, &e), SS_OK);
    assert_true(m->prov[1].capability_given[0]);
    assert_int_equal(ss_model_set_path(m, "discount_rate", 0.05, &e), SS_OK);
    assert_int_equal(ss_model_set_path(m, "time.stop", 4.0, &e), SS_OK);
    assert_close(m->t1, 4.0, 0);
    /* allocation of one segment as an intervention: the base keeps its default */
    assert_int_equal(ss_model_set_path(m, "providers.p1.allocation.s1", 2.0, &e), SS_OK);
    assert_false(m->prov[0].allocation_given);
    assert_close(ss_schedule_eval(&m->prov[0].iv[ss_decision_slot(SS_FIELD_ALLOCATION, 0, 2)], 0), 2.0, 0);
    /* in the base: the default becomes explicit first */
    assert_int_equal(ss_model_set_base_path(m, "providers.p1.allocation.s1", 2.0, &e), SS_OK);
    assert_true(m->prov[0].allocation_given);
    /* p1 revenue: 0.5*100 + 0.25*200 (share changed above) */
    assert_close(ss_schedule_eval(&m->prov[0].allocation[1], 0), 50.0 / 100.0, 1e-15);
    /* knots */
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].price[0], SS_SCHED_STEPS, 2, t, v, "x", NULL), SS_OK);
    assert_int_equal(ss_param_lookup(&p, m, "providers.p1.price.s1#2", &e), SS_OK);
    assert_close(ss_param_get(&p, m), 0.3, 0);
    assert_int_equal(ss_param_set(&p, 0.9, &e), SS_OK);
    /* the intervention is the base schedule with knot 2 changed */
    assert_close(ss_schedule_eval(&m->prov[0].price[0], 2.5), 0.3, 0);
    assert_close(ss_schedule_eval(&m->prov[0].iv[ss_decision_slot(SS_FIELD_PRICE, 0, 2)], 0.5), 0.1, 0);
    assert_close(ss_schedule_eval(&m->prov[0].iv[ss_decision_slot(SS_FIELD_PRICE, 0, 2)], 2.5), 0.9, 0);
    /* errors */
    assert_int_equal(ss_param_lookup(&p, m, "providers.nobody.reinvest", &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown provider 'nobody'"));
    assert_int_equal(ss_param_lookup(&p, m, "segments.s1.colour", &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown segment field 'colour'"));
    assert_int_equal(ss_param_lookup(&p, m, "providers.p1.share.s9", &e), SS_EINVAL);
    assert_int_equal(ss_param_lookup(&p, m, "providers.p1.price.s1#3", &e), SS_EINVAL);
    assert_int_equal(ss_param_lookup(&p, m, "segments.s1.bass.p", &e), SS_EINVAL);
    assert_int_equal(ss_param_lookup(&p, m, "providers.p1.reinvest", &e), SS_OK);
    assert_int_equal(ss_param_set(&p, NAN, &e), SS_EINVAL);
    ss_model_free(m);
}

/* The error record: ss_err_at records where a message is located, a new
 * ss_err_set or ss_err_clear forgets it. */
static void test_err_location(void **state)
{
    ss_err e;
    (void)state;
    ss_err_clear(&e);
    assert_int_equal(ss_err_set(&e, SS_EINVAL, "a.b", "s.lua:7: a.b: bad"), SS_EINVAL);
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
    ss_err_at(&e, "s.lua", 7);
    assert_string_equal(e.file, "s.lua");
    assert_int_equal(e.line, 7);
    assert_string_equal(e.msg, "s.lua:7: a.b: bad");
    assert_string_equal(e.path, "a.b");
    ss_err_at(&e, "", 9); /* no file: no line either */
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
    ss_err_at(&e, "s.lua", 3);
    ss_err_set(&e, SS_EIO, NULL, "cannot open x");
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
    ss_err_at(&e, "s.lua", 3);
    ss_err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.file, "");
    assert_int_equal(e.line, 0);
    ss_err_at(NULL, "x", 1); /* tolerated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_location),
        cmocka_unit_test(test_schedule_steps),
        cmocka_unit_test(test_schedule_linear),
        cmocka_unit_test(test_schedule_errors),
        cmocka_unit_test(test_exponential_adjustment),
        cmocka_unit_test(test_capability_constant_investment),
        cmocka_unit_test(test_bass),
        cmocka_unit_test(test_npv_constant_stream),
        cmocka_unit_test(test_learning_margin),
        cmocka_unit_test(test_equilibrium_start),
        cmocka_unit_test(test_shares_sum_to_one),
        cmocka_unit_test(test_rk4_matches_adaptive),
        cmocka_unit_test(test_event_semantics),
        cmocka_unit_test(test_dense_outputs_closed_form),
        cmocka_unit_test(test_set_equals_steps),
        cmocka_unit_test(test_output_grid),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_nonfinite_caught),
        cmocka_unit_test(test_resolve_defaults),
        cmocka_unit_test(test_param_paths),
    };
    ss_global_init();
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
