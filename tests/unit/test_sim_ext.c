/*
 * test_sim_ext.c - the core's user-state and link hooks (ss_run_opts
 * nstock/stock_init/stock_rates, nlink/links/link_eval; docs/model.md "User
 * stocks and links"), driven from C without Lua: closed forms, a linked
 * input equal to the schedule it replaces, the evaluation order, the
 * start-of-run hook (on_start), the errors, and that options without them change nothing.
 */
#include "test_util.h"
#include "stratsim.h"
#include "test_models.h"

static const char *const names1[] = { "k" };
static const char *const units1[] = { "u" };

/* dk/dt = A - B k, k(0) = K0 */
#define A 3.0
#define B 0.7
#define K0 1.0

static int init_k(ss_run *run, double *y0, void *p, ss_err *err)
{
    (void)run; (void)p; (void)err;
    assert_true(ss_run_state_only(run));
    y0[0] = K0;
    return SS_OK;
}

static int rate_k(ss_run *run, double t, double *dydt, void *p, ss_err *err)
{
    (void)t; (void)p; (void)err;
    assert_false(ss_run_state_only(run));
    dydt[0] = A - B * ss_run_stock(run, 0);
    return SS_OK;
}

static ss_run_opts stock_opts(void)
{
    ss_run_opts o = SS_RUN_OPTS_INIT;
    o.nstock = 1;
    o.stock_names = names1;
    o.stock_units = units1;
    o.stock_init = init_k;
    o.stock_rates = rate_k;
    return o;
}

static void test_closed_form(void **state)
{
    ss_model *m = test_model_new(1, 2, 5.0);
    ss_run_opts o = stock_opts();
    ss_result *r = NULL;
    ss_err e = { 0 };
    size_t ti;
    int meth;
    (void)state;
    for (meth = 0; meth < 2; meth++) {
        m->solver.method = meth ? SS_SOLVER_RK4 : SS_SOLVER_RK8PD;
        if (ss_sim_run(&r, m, &o, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(r->nextra, 1);
        assert_string_equal(r->extra_names[0], "k");
        assert_non_null(r->extra_units);
        assert_string_equal(r->extra_units[0], "u");
        for (ti = 0; ti < r->nt; ti++)
            assert_close(r->extra[ti], A / B + (K0 - A / B) * exp(-B * r->t[ti]), 1e-8);
        ss_result_free(r);
    }
    ss_model_free(m);
}

/* The lever of p1 in s1 linked to 1 + 0.1 t (from a stock k' = 0.1, k0 = 1),
 * against the same lever as a linear schedule. */
static int init_x(ss_run *run, double *y0, void *p, ss_err *err)
{
    (void)run; (void)p; (void)err;
    y0[0] = 1.0;
    return SS_OK;
}

static int rate_x(ss_run *run, double t, double *dydt, void *p, ss_err *err)
{
    int *order = p;
    (void)run; (void)t; (void)err;
    assert_int_equal(*order, 1);      /* links first, then the algebra, then rates */
    *order = 2;
    dydt[0] = 0.1;
    return SS_OK;
}

static int link_x(ss_run *run, double t, double *v, void *p, ss_err *err)
{
    int *order = p;
    (void)t; (void)err;
    assert_true(ss_run_state_only(run));
    assert_true(isnan(ss_run_p(run, SS_P_INVESTMENT, 0)));   /* no algebra yet */
    assert_close(ss_run_ps(run, SS_PS_REVENUE, 0, 0),
                 ss_run_s(run, SS_S_SIZE, 0) * ss_run_ps(run, SS_PS_SHARE, 0, 0), 1e-12);
    *order = 1;
    v[0] = ss_run_stock(run, 0);
    return SS_OK;
}

static const ss_link lever_link[] = { { SS_FIELD_LEVER, 0, 0, "providers.p1.lever.s1" } };

static void test_link_equals_schedule(void **state)
{
    ss_model *m = test_model_new(2, 2, 5.0), *ms = ss_model_copy(m);
    ss_run_opts o = SS_RUN_OPTS_INIT;
    ss_result *rl = NULL, *rs = NULL;
    ss_err e = { 0 };
    double t[] = { 0.0, 5.0 }, v[] = { 1.0, 1.5 };
    int order = 0;
    size_t ti, i;
    (void)state;
    o.nstock = 1;
    o.stock_names = names1;
    o.stock_init = init_x;
    o.stock_rates = rate_x;
    o.nlink = 1;
    o.links = lever_link;
    o.link_eval = link_x;
    o.ext_payload = &order;
    assert_non_null(ms);
    assert_int_equal(ss_schedule_set_knots(&ms->prov[0].lever[0], SS_SCHED_LINEAR, 2, t, v, "x", NULL),
                     SS_OK);
    if (ss_sim_run(&rl, m, &o, &e) || ss_sim_run(&rs, ms, NULL, &e))
        fail_msg("%s", e.msg);
    assert_null(rl->extra_units);   /* no units given */
    for (ti = 0; ti < rl->nt; ti++)
        for (i = 0; i < 2; i++) {
            assert_close(SS_RESULT_PS(rl, ti, SS_PS_SHARE, i, 0), SS_RESULT_PS(rs, ti, SS_PS_SHARE, i, 0), 1e-9);
            assert_close(SS_RESULT_P(rl, ti, SS_P_NPV, i), SS_RESULT_P(rs, ti, SS_P_NPV, i), 1e-9);
        }
    /* the lever moved the share (the test can fail) */
    assert_true(SS_RESULT_PS(rl, rl->nt - 1, SS_PS_SHARE, 0, 0) > 0.5 + 0.01);
    ss_result_free(rl);
    ss_result_free(rs);
    ss_model_free(m);
    ss_model_free(ms);
}

static int rate_fail(ss_run *run, double t, double *dydt, void *p, ss_err *err)
{
    (void)run; (void)p;
    dydt[0] = 0.0;
    if (t > 1.2)
        return ss_err_set(err, SS_EINVAL, "", "rate gave up at t=%g", t);
    return SS_OK;
}

static int rate_nan(ss_run *run, double t, double *dydt, void *p, ss_err *err)
{
    (void)run; (void)p; (void)err;
    dydt[0] = t > 2.0 ? NAN : 1.0;
    return SS_OK;
}

static int link_neg(ss_run *run, double t, double *v, void *p, ss_err *err)
{
    (void)run; (void)p; (void)err;
    v[0] = 2.0 - t;
    return SS_OK;
}

static void test_errors(void **state)
{
    ss_model *m = test_model_new(1, 2, 5.0);
    ss_run_opts o = stock_opts();
    ss_result *r = NULL;
    ss_err e = { 0 };
    ss_event ev;
    unsigned char mask = 1;
    double val = 1.2;
    (void)state;
    o.stock_rates = rate_fail;
    assert_int_equal(ss_sim_run(&r, m, &o, &e), SS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(e.msg, "rate gave up"));
    o.stock_rates = rate_nan;
    assert_int_equal(ss_sim_run(&r, m, &o, &e), SS_ENUMERIC);
    assert_non_null(strstr(e.msg, "stock 'k'"));
    /* a link out of the input's range */
    o = stock_opts();
    o.nlink = 1;
    o.links = lever_link;
    o.link_eval = link_neg;
    assert_int_equal(ss_sim_run(&r, m, &o, &e), SS_ENUMERIC);
    assert_non_null(strstr(e.msg, "providers.p1.lever.s1"));
    /* a link and a set event on the same input */
    memset(&ev, 0, sizeof ev);
    ev.t = 1.0;
    ev.kind = SS_EV_SET;
    ev.provider = 0;
    ev.field = SS_FIELD_LEVER;
    ev.values = &val;
    ev.mask = &mask;
    ev.line = 7;
    assert_int_equal(ss_model_add_event(m, &ev, &e), SS_OK);
    o.link_eval = link_x;
    assert_int_equal(ss_sim_run(&r, m, &o, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "set event"));
    assert_non_null(strstr(e.msg, "line 7"));
    ss_model_free(m);
}

/* on_start: once per run, before every other callback; its error stops the
 * run before it starts. The log records the order of the calls. */
typedef struct start_log {
    int starts, first_other;  /* first_other: which callback came first after a start (1 init, 2 link, 3 epoch, 4 output) */
    int fail;
} start_log;

static start_log *g_log;

static void saw(int what)
{
    if (g_log->first_other == 0)
        g_log->first_other = what;
}

static int st_start(ss_run *run, void *p, ss_err *err)
{
    start_log *lg = p;
    assert_non_null(ss_run_model(run));
    lg->starts++;
    lg->first_other = 0;
    return lg->fail ? ss_err_set(err, SS_EINVAL, "", "no start") : SS_OK;
}

static int st_init(ss_run *run, double *y0, void *p, ss_err *err)
{
    saw(1);
    return init_k(run, y0, p, err);
}

static int st_link(ss_run *run, double t, double *v, void *p, ss_err *err)
{
    (void)run; (void)t; (void)p; (void)err;
    saw(2);
    v[0] = 1.0;
    return SS_OK;
}

static int st_epoch(ss_run *run, double t, void *p, ss_err *err)
{
    (void)run; (void)t; (void)p; (void)err;
    saw(3);
    return SS_OK;
}

static int st_output(ss_run *run, double t, double *out, void *p, ss_err *err)
{
    (void)run; (void)t; (void)p; (void)err;
    saw(4);
    out[0] = 0.0;
    return SS_OK;
}

static void test_on_start_first(void **state)
{
    static const char *const xn[] = { "x" };
    ss_model *m = test_model_new(2, 2, 3.0);
    ss_run_opts o = SS_RUN_OPTS_INIT;
    ss_result *r = NULL;
    ss_err e = { 0 };
    start_log lg = { 0, 0, 0 };
    int variant;
    (void)state;
    g_log = &lg;
    o.on_start = st_start;
    o.start_payload = &lg;
    for (variant = 0; variant < 4; variant++) {
        /* 0: stocks and links; 1: links only; 2: a policy only; 3: derived metrics only */
        ss_run_opts v = o;
        int want = variant == 0 ? 1 : variant == 1 ? 2 : variant == 2 ? 3 : 4;
        if (variant == 0) {
            v.nstock = 1;
            v.stock_names = names1;
            v.stock_init = st_init;
            v.stock_rates = rate_k;
        }
        if (variant <= 1) {
            v.nlink = 1;
            v.links = lever_link;
            v.link_eval = st_link;
        }
        if (variant == 2)
            v.on_epoch = st_epoch;
        if (variant == 3) {
            v.on_output = st_output;
            v.nextra = 1;
            v.extra_names = xn;
        }
        lg.starts = 0;
        if (ss_sim_run(&r, m, &v, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(lg.starts, 1);
        assert_int_equal(lg.first_other, want);
        ss_result_free(r);
        r = NULL;
        lg.fail = 1;
        assert_int_equal(ss_sim_run(&r, m, &v, &e), SS_EINVAL);
        assert_null(r);
        assert_string_equal(e.msg, "no start");
        lg.fail = 0;
    }
    ss_model_free(m);
}

/* Options without stocks or links give the same numbers as no options. */
static void test_no_ext_unchanged(void **state)
{
    ss_model *m = test_model_new(2, 3, 4.0);
    ss_run_opts o = SS_RUN_OPTS_INIT;
    ss_result *a = NULL, *b = NULL;
    ss_err e = { 0 };
    (void)state;
    m->prov[0].reinvest.value = 0.4;
    if (ss_sim_run(&a, m, NULL, &e) || ss_sim_run(&b, m, &o, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(b->nextra, 0);
    assert_null(b->extra_units);
    assert_memory_equal(a->ps, b->ps, a->nt * SS_NPS * a->np * a->nk * sizeof *a->ps);
    assert_memory_equal(a->p, b->p, a->nt * SS_NP * a->np * sizeof *a->p);
    assert_false(ss_run_opts_active(&o));
    ss_result_free(a);
    ss_result_free(b);
    ss_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_form),
        cmocka_unit_test(test_link_equals_schedule),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_on_start_first),
        cmocka_unit_test(test_no_ext_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
