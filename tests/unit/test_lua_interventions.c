/*
 * test_lua_interventions.c - what-if changes act (docs/model.md §6): a
 * decision input changed by --set, --params, a variant, an optimisation
 * control, a sensitivity range or a Monte Carlo draw is an intervention, i.e.
 * the scenario with a `set` event at the policy time, on the base's initial
 * state; every other input re-resolves the initial state. Results are
 * compared value by value to 1e-12 relative. Reverting interventions to
 * re-resolution (the equilibrium start absorbing the change) fails these
 * tests: the shares would not move.
 */
#include "test_util.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include "stratsim.h"
#include "lua/sl_internal.h"
#include "lua/ss_analysis.h"

static char tmpdir[64];
static int nfile;

/* Two providers, three segments, every decision input with a schedule or a
 * constant; learning and Bass so that the margins and sizes move too. */
static const char *const BASE =
    "return stratsim.scenario {\n"
    "  name = \"base\",\n"
    "  time = { start = 2022, stop = 2027, step = 0.25 POLICY },\n"
    "  discount_rate = 0.05,\n"
    "  segments = {\n"
    "    { id = \"public\", size = 100, growth = 0.2, tau = 1.5, learning = 0.1 },\n"
    "    { id = \"private\", size = 50, growth = stratsim.steps{{2022, 0.08}, {2024, 0.05}} },\n"
    "    { id = \"ai\", size = 5, bass = { p = 0.01, q = 0.4, potential = 200 }, tau = 1 },\n"
    "  },\n"
    "  providers = {\n"
    "    { id = \"a\", share = { public = 0.4, private = 0.2, ai = 0.3 },\n"
    "      margin = { public = 0.35, private = 0.1, ai = 0.2 },\n"
    "      reinvest = stratsim.linear{{2022, 0.2}, {2025, 0.3}},\n"
    "      price = { private = stratsim.steps{{2022, 1}, {2023.5, 0.9}} } },\n"
    "    { id = \"b\", share = { public = 0.6, private = 0.8, ai = 0.7 } },\n"
    "  },\n"
    "  events = { { t = 2023, kind = \"outage\", provider = \"a\", severity = 0.1 } },\n"
    "}\n";

static int setup(void **state)
{
    (void)state;
    gsl_set_error_handler_off();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ssiv-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char path[128];
    int i;
    (void)state;
    for (i = 1; i <= nfile; i++) {
        snprintf(path, sizeof path, "%s/t%d.lua", tmpdir, i);
        unlink(path);
    }
    rmdir(tmpdir);
    return 0;
}

/* BASE with the policy time (or none) and `tail` appended to the chunk:
 * the chunk's scenario is `base`; `tail` returns what is tested. */
static char *source(const char *policy, const char *tail)
{
    const char *at = strstr(BASE, " POLICY");
    size_t n = strlen(BASE) + strlen(policy) + strlen(tail) + 64;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "local base = %.*s%s%s\n%s\n", (int)(at - BASE) - (int)strlen("return "),
             BASE + strlen("return "), policy, at + strlen(" POLICY"), tail);
    return s;
}

/* Load src with the overrides; the script (caller closes). */
static ss_script *load(const char *src, const char *const *sets, size_t nsets)
{
    char path[128];
    FILE *f;
    ss_script *s = NULL;
    ss_err err = {0};
    snprintf(path, sizeof path, "%s/t%d.lua", tmpdir, ++nfile);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(src, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ss_script_open(&s, NULL, &err), SS_OK);
    if (ss_script_load(s, path, sets, nsets, &err) != SS_OK)
        fail_msg("load failed: %s", err.msg);
    return s;
}

/* Run scenario `i` of a script. */
static ss_result *run_script(ss_script *s, size_t i)
{
    ss_result *r = NULL;
    ss_err err = {0};
    if (ss_script_run(s, i, &r, &err) != SS_OK)
        fail_msg("run failed: %s", err.msg);
    return r;
}

static ss_result *run_model(const ss_model *m)
{
    ss_result *r = NULL;
    ss_err err = {0};
    if (ss_sim_run(&r, m, NULL, &err) != SS_OK)
        fail_msg("run failed: %s", err.msg);
    return r;
}

/* Every value of a and b agrees to `rel` relative (1e-300 absolute floor). */
static void assert_same(const ss_result *a, const ss_result *b, double rel)
{
    size_t j, n;
    assert_int_equal(a->nt, b->nt);
    n = a->nt * SS_NPS * a->np * a->nk;
    for (j = 0; j < n; j++)
        assert_close(a->ps[j], b->ps[j], rel * fmax(fabs(b->ps[j]), 1e-300));
    n = a->nt * SS_NP * a->np;
    for (j = 0; j < n; j++)
        assert_close(a->p[j], b->p[j], rel * fmax(fabs(b->p[j]), 1e-300));
    n = a->nt * SS_NS * a->nk;
    for (j = 0; j < n; j++)
        assert_close(a->s[j], b->s[j], rel * fmax(fabs(b->s[j]), 1e-300));
}

/* The last share of provider i in segment k. */
static double last_share(const ss_result *r, size_t i, size_t k)
{
    return SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, i, k);
}

/* Script source: the base plus a `set` event (Lua text of the event). */
static char *with_event(const char *policy, const char *event)
{
    char tail[512];
    snprintf(tail, sizeof tail, "return base:with { events = { %s } }", event);
    return source(policy, tail);
}

/* --set PATH=VALUE on the base equals the base with the event, to 1e-12. */
static void check_set_is_event(const char *policy, const char *set, const char *event)
{
    const char *sets[1];
    char *s1 = source(policy, "return base"), *s2 = with_event(policy, event);
    ss_script *a, *b, *plain;
    ss_result *ra, *rb, *r0;
    sets[0] = set;
    a = load(s1, sets, 1);
    b = load(s2, NULL, 0);
    plain = load(s1, NULL, 0);
    ra = run_script(a, 0);
    rb = run_script(b, 0);
    r0 = run_script(plain, 0);
    assert_same(ra, rb, 1e-12);
    /* and it acts: some share differs from the scenario without it */
    {
        size_t i, k, moved = 0;
        for (i = 0; i < 2; i++)
            for (k = 0; k < 3; k++)
                moved += fabs(last_share(ra, i, k) - last_share(r0, i, k)) > 1e-6;
        if (!moved)
            fail_msg("--set %s moved no share", set);
    }
    ss_result_free(ra);
    ss_result_free(rb);
    ss_result_free(r0);
    ss_script_close(a);
    ss_script_close(b);
    ss_script_close(plain);
    free(s1);
    free(s2);
}

/* Every decision field, constant, from the start and from a later policy time. */
static void test_set_equals_event(void **state)
{
    static const struct { const char *set, *event; } cases[] = {
        { "providers.a.reinvest=0.45",
          "{ t = T, kind = \"set\", provider = \"a\", field = \"reinvest\", value = 0.45 }" },
        { "providers.a.allocation.ai=0.6",
          "{ t = T, kind = \"set\", provider = \"a\", field = \"allocation\", value = { ai = 0.6 } }" },
        { "providers.a.price.public=0.85",
          "{ t = T, kind = \"set\", provider = \"a\", field = \"price\", value = { public = 0.85 } }" },
        { "providers.b.participation.private=0.6",
          "{ t = T, kind = \"set\", provider = \"b\", field = \"participation\", value = { private = 0.6 } }" },
        { "providers.a.lever.ai=1.4",
          "{ t = T, kind = \"set\", provider = \"a\", field = \"lever\", value = { ai = 1.4 } }" },
        { "providers.b.price=0.9",
          "{ t = T, kind = \"set\", provider = \"b\", field = \"price\", value = { public = 0.9, private = 0.9, ai = 0.9 } }" },
    };
    size_t c;
    (void)state;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char ev[400];
        const char *t = strstr(cases[c].event, "t = T");
        /* from the start (default policy time) */
        snprintf(ev, sizeof ev, "%.*st = 2022%s", (int)(t - cases[c].event), cases[c].event, t + 5);
        check_set_is_event("", cases[c].set, ev);
        /* from a later policy time */
        snprintf(ev, sizeof ev, "%.*st = 2023.4%s", (int)(t - cases[c].event), cases[c].event, t + 5);
        check_set_is_event(", policy = 2023.4", cases[c].set, ev);
    }
}

/*
 * A whole schedule as an intervention (a variant) equals the base's resolved
 * initial state with the new schedule: the same model with capability and
 * brand given at the base's values and the schedule in place of the base's.
 */
static void test_schedule_intervention(void **state)
{
    char *src = source("", "return { base, base:with { name = \"v\", providers = { a = {\n"
                           "  reinvest = stratsim.linear{{2023, 0.4}, {2026, 0.1}},\n"
                           "  lever = { public = stratsim.steps{{2022, 1.2}, {2024.3, 0.8}} } } } } }");
    ss_script *s;
    const ss_model *base, *var;
    ss_model *manual;
    ss_result *rv, *rm;
    ss_err err = {0};
    size_t i, k;
    double t[] = { 2023, 2026 }, v[] = { 0.4, 0.1 }, lt[] = { 2022, 2024.3 }, lv[] = { 1.2, 0.8 };
    (void)state;
    s = load(src, NULL, 0);
    assert_int_equal(ss_script_count(s), 2);
    base = ss_script_model(s, 0);
    var = ss_script_model(s, 1);
    assert_int_equal(ss_model_interventions(base), 0);
    assert_int_equal(ss_model_interventions(var), 2);
    /* the base, resolved; its initial state made explicit; the new schedules */
    manual = ss_model_copy(base);
    assert_non_null(manual);
    assert_int_equal(ss_model_resolve(manual, &err), SS_OK);
    for (i = 0; i < manual->nprov; i++)
        for (k = 0; k < manual->nseg; k++) {
            manual->prov[i].capability_given[k] = 1;
            manual->prov[i].brand_given[k] = 1;
        }
    for (i = 0; i < manual->nprov; i++)
        manual->prov[i].allocation_given = 1;
    assert_int_equal(ss_schedule_set_knots(&manual->prov[0].reinvest, SS_SCHED_LINEAR, 2, t, v, "r", &err), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&manual->prov[0].lever[0], SS_SCHED_STEPS, 2, lt, lv, "l", &err), SS_OK);
    rv = run_model(var);
    rm = run_model(manual);
    assert_same(rv, rm, 1e-12);
    /* and not the variant re-resolved from its own schedules: its brand at
       the start would differ (lever 1.2 absorbed), so shares differ */
    {
        ss_model *absorbed = ss_model_copy(base);
        ss_result *ra;
        assert_int_equal(ss_schedule_set_knots(&absorbed->prov[0].reinvest, SS_SCHED_LINEAR, 2, t, v, "r", &err), SS_OK);
        assert_int_equal(ss_schedule_set_knots(&absorbed->prov[0].lever[0], SS_SCHED_STEPS, 2, lt, lv, "l", &err), SS_OK);
        ra = run_model(absorbed);
        assert_true(fabs(last_share(ra, 0, 0) - last_share(rv, 0, 0)) > 1e-3);
        ss_result_free(ra);
        ss_model_free(absorbed);
    }
    ss_result_free(rv);
    ss_result_free(rm);
    ss_model_free(manual);
    ss_script_close(s);
    free(src);
}

/* A variant's decision input (`:with`) equals --set on the base; a variant of
 * a variant intervenes on top of its own base; base inputs re-resolve. */
static void test_variants(void **state)
{
    static const char *const sets[] = { "providers.a.reinvest=0.45", "providers.b.price.ai=0.8" };
    char *src = source("", "local v = base:with { providers = { a = { reinvest = 0.45 } } }\n"
                           "local w = v:with { name = \"w\", providers = { b = { price = { ai = 0.8 } } } }\n"
                           "local x = w:with { name = \"x\", segments = { public = { tau = 2.5 } } }\n"
                           "return { v:with { name = \"v\" }, w, x }");
    char *plain = source("", "return base");
    char *tau = source("", "return base:with { segments = { public = { tau = 2.5 } } }");
    ss_script *s = load(src, NULL, 0), *p1 = load(plain, sets, 1), *p2 = load(plain, sets, 2);
    ss_script *pt = load(tau, sets, 2);
    ss_result *rv = run_script(s, 0), *rw = run_script(s, 1), *rx = run_script(s, 2);
    ss_result *r1 = run_script(p1, 0), *r2 = run_script(p2, 0), *rt = run_script(pt, 0);
    (void)state;
    assert_same(rv, r1, 1e-12);
    assert_same(rw, r2, 1e-12);
    /* a base input in a variant of a variant: the start re-resolves with tau
       2.5, the two interventions still apply */
    assert_same(rx, rt, 1e-12);
    ss_result_free(rv);
    ss_result_free(rw);
    ss_result_free(rx);
    ss_result_free(r1);
    ss_result_free(r2);
    ss_result_free(rt);
    ss_script_close(s);
    ss_script_close(p1);
    ss_script_close(p2);
    ss_script_close(pt);
    free(src);
    free(plain);
    free(tau);
}

/* A base input re-resolves the start: the scenario starts in equilibrium
 * (target share = share at t0); an intervention does not (it acts). */
static void test_base_inputs_re_resolve(void **state)
{
    static const char *const base_set[] = { "segments.public.beta_capability=2" };
    static const char *const iv_set[] = { "providers.a.reinvest=0.5" };
    char *src = source("", "return base");
    ss_script *b = load(src, base_set, 1), *i = load(src, iv_set, 1);
    ss_result *rb = run_script(b, 0), *ri = run_script(i, 0);
    (void)state;
    assert_rel(SS_RESULT_PS(rb, 0, SS_PS_TARGET_SHARE, 0, 0), SS_RESULT_PS(rb, 0, SS_PS_SHARE, 0, 0), 1e-12);
    assert_int_equal(ss_model_interventions(ss_script_model(b, 0)), 0);
    /* with more reinvestment, capability grows at once: the target moves at t0 */
    assert_true(SS_RESULT_PS(ri, 1, SS_PS_TARGET_SHARE, 0, 0) > SS_RESULT_PS(ri, 1, SS_PS_SHARE, 0, 0) + 1e-6);
    ss_result_free(rb);
    ss_result_free(ri);
    ss_script_close(b);
    ss_script_close(i);
    free(src);
}

/* --params FILE applies its values like --set: decision inputs intervene. */
static void test_params_file(void **state)
{
    char path[128], **sets = NULL;
    size_t n = 0, j;
    FILE *f;
    ss_err err = {0};
    char *src = source("", "return base");
    ss_script *s, *e;
    ss_result *rs, *re;
    char *evsrc = with_event("", "{ t = 2022, kind = \"set\", provider = \"a\", field = \"reinvest\", value = 0.45 }");
    (void)state;
    snprintf(path, sizeof path, "%s/t%d.lua", tmpdir, ++nfile);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("return { [\"providers.a.reinvest\"] = 0.45 }\n", f);
    fclose(f);
    assert_int_equal(ss_params_read(path, &sets, &n, &err), SS_OK);
    s = load(src, (const char *const *)sets, n);
    e = load(evsrc, NULL, 0);
    rs = run_script(s, 0);
    re = run_script(e, 0);
    assert_same(rs, re, 1e-12);
    for (j = 0; j < n; j++)
        free(sets[j]);
    free(sets);
    ss_result_free(rs);
    ss_result_free(re);
    ss_script_close(s);
    ss_script_close(e);
    free(src);
    free(evsrc);
}

/* Analyses: an optimisation control, a tornado range and a Monte Carlo draw
 * of a decision input are interventions too. */
static void test_analyses(void **state)
{
    char *src = source("", "return base");
    char *ev_hi = with_event("", "{ t = 2022, kind = \"set\", provider = \"a\", field = \"reinvest\", value = 0.5 }");
    char *ev_lo = with_event("", "{ t = 2022, kind = \"set\", provider = \"a\", field = \"reinvest\", value = 0.1 }");
    ss_script *s = load(src, NULL, 0), *hi = load(ev_hi, NULL, 0), *lo = load(ev_lo, NULL, 0);
    const ss_model *m = ss_script_model(s, 0);
    ss_result *rhi = run_script(hi, 0), *rlo = run_script(lo, 0);
    ss_err err = {0};
    (void)state;
    {   /* optimize: more reinvestment gains share, so the optimum is the upper bound */
        ss_opt_control c = { "providers.a.reinvest", 0.1, 0.5 };
        ss_opt_problem prob;
        ss_opt_opts oo = SS_OPT_OPTS_INIT;
        ss_opt_result *r = NULL;
        memset(&prob, 0, sizeof prob);
        prob.controls = &c;
        prob.ncontrols = 1;
        prob.objective = "share:a:public@2027";
        oo.starts = 1;
        assert_int_equal(ss_optimize_run(&r, m, &prob, NULL, &oo, &err), SS_OK);
        assert_close(r->x[0], 0.5, 1e-6);
        assert_rel(r->objective, last_share(rhi, 0, 0), 1e-12);
        ss_optimize_free(r);
    }
    {   /* tornado: the output at each end equals the run with the event */
        ss_tornado_param p = { "providers.a.reinvest", 0.1, 0.5 };
        const char *outs[] = { "share:a:public@2027" };
        ss_tornado *t = NULL;
        assert_int_equal(ss_tornado_run(&t, m, &p, 1, outs, 1, NULL, NULL, &err), SS_OK);
        assert_rel(t->rows[0].out_low, last_share(rlo, 0, 0), 1e-12);
        assert_rel(t->rows[0].out_high, last_share(rhi, 0, 0), 1e-12);
        assert_true(t->rows[0].swing > 0.01);
        assert_int_equal(ss_tornado_inert(t, 0), 0);
        ss_tornado_free(t);
    }
    {   /* Monte Carlo: a drawn reinvestment spreads the share (it was 1e-13) */
        ss_mc_param mp;
        ss_mc_opts o = SS_MC_OPTS_INIT;
        ss_mc_result *r = NULL;
        const ss_result *sd;
        mp.path = "providers.a.reinvest";
        assert_int_equal(ss_dist_parse(&mp.dist, "uniform(0.1, 0.5)", mp.path, &err), SS_OK);
        o.runs = 64;
        o.threads = 1;
        assert_int_equal(ss_mc_run(&r, m, &mp, 1, NULL, 0, &o, &err), SS_OK);
        sd = ss_mc_result_sd(r);
        assert_true(SS_RESULT_PS(sd, sd->nt - 1, SS_PS_SHARE, 0, 0) > 0.005);
        ss_mc_result_free(r);
    }
    {   /* the effect probe sees it; a recovery time with full reliability and
           no outage would not, but this scenario has an outage: it acts */
        double ch = 0.0;
        assert_int_equal(ss_effect_probe(m, "providers.a.reinvest", 0.1, 0.5, NULL, &ch, &err), SS_OK);
        assert_true(ch > 0.01);
        assert_int_equal(ss_effect_probe(m, "providers.b.recovery", 0.2, 2, NULL, &ch, &err), SS_OK);
        assert_true(ch <= SS_EFFECT_TOL);
    }
    ss_result_free(rhi);
    ss_result_free(rlo);
    ss_script_close(s);
    ss_script_close(hi);
    ss_script_close(lo);
    free(src);
    free(ev_hi);
    free(ev_lo);
}

/* Behaviour checks: a change that acts passes, one that moves nothing fails. */
static void test_checks(void **state)
{
    static const char *const p1[] = { "providers.a.reinvest" }, *const p2[] = { "providers.b.recovery" };
    static const double v1[] = { 0.5 }, v2[] = { 2.0 };
    char *src = source("", "return base");
    ss_script *s = load(src, NULL, 0);
    ss_check c[3] = {
        { "reinvestment gains share", p1, v1, 1, "share:a:public@2027 > base" },
        { "recovery of the rival", p2, v2, 1, "share:a:public@2027 > base" },
        { "absolute bound", p1, v1, 1, "share:a:public@2027 >= 0.01" },
    };
    ss_check_outcome o[3];
    ss_expect e;
    ss_err err = {0};
    (void)state;
    assert_int_equal(ss_checks_run(o, ss_script_model(s, 0), c, 3, NULL, &err), SS_OK);
    assert_true(o[0].pass);
    assert_true(o[0].value > o[0].base + 0.01);
    assert_false(o[1].pass);
    assert_rel(o[1].value, o[1].base, 1e-12);
    assert_true(o[2].pass);
    assert_close(o[2].rhs, 0.01, 0);
    /* parsing */
    assert_int_equal(ss_expect_parse(&e, "npv:a <= base", &err), SS_OK);
    assert_int_equal(e.op, SS_EXPECT_LE);
    assert_true(e.vs_base);
    assert_int_equal(ss_expect_parse(&e, "npv:a < 3.5", &err), SS_OK);
    assert_int_equal(e.op, SS_EXPECT_LT);
    assert_close(e.value, 3.5, 0);
    assert_int_equal(ss_expect_parse(&e, "npv:a == base", &err), SS_EINVAL);
    assert_int_equal(ss_expect_parse(&e, "npv:a > bas", &err), SS_EINVAL);
    assert_int_equal(ss_expect_parse(&e, "npv:a@each > base", &err), SS_EINVAL);
    assert_int_equal(ss_expect_parse(&e, "npv:a >< base", &err), SS_EINVAL);
    ss_script_close(s);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_equals_event),
        cmocka_unit_test(test_schedule_intervention),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_base_inputs_re_resolve),
        cmocka_unit_test(test_params_file),
        cmocka_unit_test(test_analyses),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
