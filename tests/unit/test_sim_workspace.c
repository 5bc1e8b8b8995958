/*
 * test_sim_workspace.c - the reusable simulation workspace (ss_sim_run_ws)
 * and the per-interval schedule cache of sim.c: a run in a workspace gives
 * bit-identical results to ss_sim_run whatever the workspace ran before
 * (other sizes, other solvers, failing runs); schedules that vary inside an
 * interval (linear pieces, knots merged into a breakpoint) give the values
 * ss_schedule_eval gives; exponents 0, 1, 0.5, 2 and general ones agree with
 * pow; `set` from an epoch callback equals a `set` event; the resolved
 * model (ss_resolved) runs as the model as written and no run changes it.
 */
#include "test_util.h"
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"

static char *xstrdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

/* K segments, N providers, uneven shares, schedules of every kind, events. */
static ss_model *mk(size_t K, size_t N, ss_solver_method meth)
{
    ss_model *m = ss_model_new(K, N);
    ss_event ev;
    char buf[32];
    size_t i, k;
    double lt[2] = { 1.0, 3.5 }, lv[2] = { 1.0, 0.8 };
    double st[3] = { 0.0, 2.0, 5.0 }, sv[3] = { 0.2, 0.35, 0.25 };
    double pt[2] = { 4.0, 6.0 }, pv[2] = { 1.0, 0.6 };
    assert_non_null(m);
    free(m->name);
    m->name = xstrdup("ws");
    m->t0 = 0.0;
    m->t1 = 8.0;
    m->step = 0.5;
    m->epoch = 0.5;
    m->discount_rate = 0.07;
    m->solver.method = meth;
    for (k = 0; k < K; k++) {
        ss_segment *s = &m->seg[k];
        snprintf(buf, sizeof buf, "s%zu", k + 1);
        s->id = xstrdup(buf);
        s->size = 100.0 + 10.0 * (double)k;
        ss_schedule_set_const(&s->growth, 0.1);
        s->learning = k % 2 ? 0.0 : 0.12;
        s->beta_price = k % 3 == 0 ? 2.0 : k % 3 == 1 ? 1.3 : 0.0;
        s->beta_capability = k % 2 ? 0.5 : 0.7;
        s->beta_reliability = k % 2 ? 1.0 : 2.0;
        s->tau = 1.0 + 0.5 * (double)k;
    }
    if (K > 1) {
        m->seg[K - 1].has_bass = 1;
        m->seg[K - 1].bass_p = 0.01;
        m->seg[K - 1].bass_q = 0.4;
        m->seg[K - 1].bass_potential = 500.0;
    }
    for (i = 0; i < N; i++) {
        ss_provider *p = &m->prov[i];
        snprintf(buf, sizeof buf, "p%zu", i + 1);
        p->id = xstrdup(buf);
        for (k = 0; k < K; k++) {
            double sum = 0.0;
            size_t j;
            for (j = 0; j < N; j++)
                sum += 1.0 + (double)((j + k) % 3);
            p->share[k] = (1.0 + (double)((i + k) % 3)) / sum;
            p->opex[k] = 0.05;
        }
        p->fixed_cost = 1.0;
    }
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].price[0], SS_SCHED_LINEAR, 2, lt, lv, "x", NULL), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].reinvest, SS_SCHED_STEPS, 3, st, sv, "x", NULL), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->prov[N - 1].lever[0], SS_SCHED_LINEAR, 2, pt, pv, "x", NULL), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->prov[N - 1].allocation[0], SS_SCHED_LINEAR, 2, lt, lv, "x", NULL), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->seg[0].growth, SS_SCHED_LINEAR, 2, pt, pv, "x", NULL), SS_OK);
    memset(&ev, 0, sizeof ev);
    ev.t = 2.3; ev.kind = SS_EV_OUTAGE; ev.provider = 0; ev.segment = -1; ev.amount = 0.1;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    ev.t = 3.1; ev.kind = SS_EV_MARKET; ev.provider = -1; ev.segment = 0; ev.amount = 1.2;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    ev.t = 4.2; ev.kind = SS_EV_SET; ev.provider = (int)(N - 1); ev.segment = -1;
    ev.field = SS_FIELD_REINVEST; ev.amount = 0.4;
    assert_int_equal(ss_model_add_event(m, &ev, NULL), SS_OK);
    return m;
}

static ss_result *run_ok(ss_sim_workspace *ws, const ss_model *m)
{
    ss_result *r = NULL;
    ss_err e = { 0 };
    int rc = ws ? ss_sim_run_ws(ws, &r, m, NULL, &e) : ss_sim_run(&r, m, NULL, &e);
    if (rc)
        fail_msg("run failed: %s", e.msg);
    return r;
}

static void assert_same(const ss_result *a, const ss_result *b)
{
    assert_int_equal(a->nt, b->nt);
    assert_int_equal(a->np, b->np);
    assert_int_equal(a->nk, b->nk);
    assert_memory_equal(a->t, b->t, a->nt * sizeof(double));
    assert_memory_equal(a->ps, b->ps, a->nt * SS_NPS * a->np * a->nk * sizeof(double));
    assert_memory_equal(a->p, b->p, a->nt * SS_NP * a->np * sizeof(double));
    assert_memory_equal(a->s, b->s, a->nt * SS_NS * a->nk * sizeof(double));
}

/* Reuse across sizes, solvers and a failing run gives identical results. */
static void test_reuse_identical(void **state)
{
    static const ss_solver_method meths[] = { SS_SOLVER_RK8PD, SS_SOLVER_RKF45, SS_SOLVER_MSADAMS,
                                              SS_SOLVER_RK4, SS_SOLVER_EULER };
    ss_sim_workspace *ws = ss_sim_workspace_new();
    ss_model *big = mk(5, 7, SS_SOLVER_RK8PD), *bad = mk(1, 2, SS_SOLVER_RK8PD);
    ss_result *junk;
    ss_err e = { 0 };
    size_t j;
    (void)state;
    assert_non_null(ws);
    ss_schedule_set_const(&bad->seg[0].growth, 800.0); /* blows up: non-finite */
    for (j = 0; j < sizeof meths / sizeof *meths; j++) {
        ss_model *m = mk(3, 4, meths[j]);
        ss_result *ref = run_ok(NULL, m), *a, *b, *c;
        a = run_ok(ws, m);
        assert_same(a, ref);
        junk = run_ok(ws, big);                       /* a larger model */
        ss_result_free(junk);
        b = run_ok(ws, m);
        assert_same(b, ref);
        assert_int_equal(ss_sim_run_ws(ws, &junk, bad, NULL, &e), SS_ENUMERIC); /* a failing run */
        assert_null(junk);
        c = run_ok(ws, m);
        assert_same(c, ref);
        ss_result_free(ref);
        ss_result_free(a);
        ss_result_free(b);
        ss_result_free(c);
        ss_model_free(m);
    }
    ss_model_free(big);
    ss_model_free(bad);
    ss_sim_workspace_free(ws);
    ss_sim_workspace_free(NULL);
}

/* The resolved model: made once, its runs (with and without a workspace,
 * several times) equal runs of the model as written, a run's `set` event
 * does not reach it, and an invalid model gives no resolved one. */
static void test_resolved_model(void **state)
{
    ss_model *m = mk(3, 4, SS_SOLVER_RK8PD), *bad = mk(1, 2, SS_SOLVER_RK8PD);
    ss_resolved *rm = NULL;
    const ss_model *rmm;
    ss_sim_workspace *ws = ss_sim_workspace_new();
    ss_result *ref = run_ok(NULL, m), *a = NULL, *b = NULL;
    ss_err e = { 0 };
    int i;
    (void)state;
    assert_non_null(ws);
    assert_int_equal(ss_resolved_new(&rm, m, &e), SS_OK);
    rmm = ss_resolved_model(rm);
    assert_int_equal(m->resolved, 0);                  /* the model as written is untouched */
    assert_int_equal(rmm->resolved, 1);
    assert_false(m->prov[1].capability_given[0]);
    assert_true(rmm->prov[1].capability[0] > 0.0);     /* the steady-state default */
    for (i = 0; i < 2; i++) {
        assert_int_equal(ss_sim_run_resolved(NULL, &a, rm, NULL, &e), SS_OK);
        assert_int_equal(ss_sim_run_resolved(ws, &b, rm, NULL, &e), SS_OK);
        assert_same(a, ref);
        assert_same(b, ref);
        ss_result_free(a);
        ss_result_free(b);
    }
    /* the set event at 4.2 (reinvest 0.4) changed the runs' copies only */
    assert_true(ss_schedule_eval(&rmm->prov[3].reinvest, 6.0) == ss_schedule_eval(&m->prov[3].reinvest, 6.0));
    assert_true(ss_schedule_eval(&rmm->prov[3].reinvest, 6.0) != 0.4);

    ss_resolved_free(rm);
    bad->prov[0].share[0] = 0.9; /* shares no longer sum to 1 */
    assert_int_equal(ss_resolved_new(&rm, bad, &e), SS_EINVAL);
    assert_null(rm);
    assert_non_null(strstr(e.msg, "sum"));
    assert_int_equal(ss_resolved_adopt(&rm, NULL, &e), SS_ENOMEM);
    ss_resolved_free(NULL);
    ss_result_free(ref);
    ss_model_free(m);
    ss_model_free(bad);
    ss_sim_workspace_free(ws);
}

/* Price, participation, lever and growth: what the outputs show at each time
 * is what the schedules give there (right-continuous steps, linear pieces). */
static void test_schedule_values(void **state)
{
    ss_model *m = mk(2, 3, SS_SOLVER_RK8PD);
    ss_result *r;
    double t[3] = { 1.0, 2.0 + 4e-10, 6.0 }, v[3] = { 1.0, 0.5, 0.9 };
    size_t ti;
    (void)state;
    /* a step knot within the breakpoint tolerance of an output time */
    assert_int_equal(ss_schedule_set_knots(&m->prov[1].price[1], SS_SCHED_LINEAR, 3, t, v, "x", NULL), SS_OK);
    r = run_ok(NULL, m);
    for (ti = 0; ti < r->nt; ti++) {
        double tt = r->t[ti];
        /* gross margin = 1 - (1 - m0) * ratio / price; provider 2 in segment 2 has no learning */
        double price = ss_schedule_eval(&m->prov[1].price[1], tt);
        double expect = 1.0 - (1.0 - 0.3) / price;
        assert_close(SS_RESULT_PS(r, ti, SS_PS_GROSS_MARGIN, 1, 1), expect, 1e-14);
    }
    ss_result_free(r);
    ss_model_free(m);
}

/* A set from the epoch callback at t equals a set event at t. */
static int set_at_3(ss_run *run, double t, void *payload, ss_err *err)
{
    (void)payload;
    if (fabs(t - 3.0) < 1e-12) {
        double before = ss_run_p(run, SS_P_INVESTMENT, 1);
        int rc = ss_run_set(run, 1, SS_FIELD_REINVEST, -1, 0.5, err);
        if (rc)
            return rc;
        /* the accessors see the change at once */
        if (!(ss_run_p(run, SS_P_INVESTMENT, 1) > before))
            return ss_err_set(err, SS_EINVAL, "", "investment did not change");
        rc = ss_run_set(run, 1, SS_FIELD_PRICE, 1, 0.9, err);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_callback_set_equals_event(void **state)
{
    ss_model *a = mk(2, 3, SS_SOLVER_RK8PD), *b = mk(2, 3, SS_SOLVER_RK8PD);
    ss_run_opts o = SS_RUN_OPTS_INIT;
    ss_result *ra = NULL, *rb;
    ss_err e = { 0 };
    ss_event ev;
    double vals[2] = { 0.0, 0.9 };
    unsigned char mask[2] = { 0, 1 };
    size_t j, n;
    (void)state;
    o.on_epoch = set_at_3;
    assert_int_equal(ss_sim_run(&ra, a, &o, &e), SS_OK);
    memset(&ev, 0, sizeof ev);
    ev.t = 3.0; ev.kind = SS_EV_SET; ev.provider = 1; ev.segment = -1;
    ev.field = SS_FIELD_REINVEST; ev.amount = 0.5;
    assert_int_equal(ss_model_add_event(b, &ev, NULL), SS_OK);
    ev.field = SS_FIELD_PRICE; ev.values = vals; ev.mask = mask;
    assert_int_equal(ss_model_add_event(b, &ev, NULL), SS_OK);
    rb = run_ok(NULL, b);
    n = ra->nt * SS_NPS * ra->np * ra->nk;
    for (j = 0; j < n; j++)
        assert_close(ra->ps[j], rb->ps[j], 1e-9 * fmax(1.0, fabs(rb->ps[j])));
    n = ra->nt * SS_NP * ra->np;
    for (j = 0; j < n; j++)
        assert_close(ra->p[j], rb->p[j], 1e-9 * fmax(1.0, fabs(rb->p[j])));
    ss_result_free(ra);
    ss_result_free(rb);
    ss_model_free(a);
    ss_model_free(b);
}

/* Interrupt flag: a set flag stops the run with SS_EINTR. */
static void test_interrupt(void **state)
{
    ss_model *m = mk(2, 2, SS_SOLVER_RK4);
    ss_run_opts o = SS_RUN_OPTS_INIT;
    ss_result *r = NULL;
    ss_err e = { 0 };
    int flag = 1;
    (void)state;
    o.interrupt = &flag;
    assert_int_equal(ss_sim_run(&r, m, &o, &e), SS_EINTR);
    assert_null(r);
    ss_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_identical),
        cmocka_unit_test(test_resolved_model),
        cmocka_unit_test(test_schedule_values),
        cmocka_unit_test(test_callback_set_equals_event),
        cmocka_unit_test(test_interrupt),
    };
    ss_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
