/*
 * test_analysis.c - the analysis modules: output selectors and constraints
 * (select.h), tornado and Sobol sensitivity (sens.h, Sobol checked against
 * the Ishigami function's analytic indices), calibration (calibrate.h:
 * observation reader, recovery of known parameters from synthetic data,
 * standard errors under known noise) and optimisation (optimize.h: interior
 * and bound optima, constraints), and the Monte Carlo, sensitivity and sweep
 * jobs (analysis.h).  Models are built in C as in
 * test_model.c.
 */
#include "test_util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "stratsim.h"
#include "test_models.h"
#include "stratsim/calibrate.h"
#include "stratsim/optimize.h"
#include "stratsim/select.h"
#include "stratsim/sens.h"

/* The shared test model (test_models.h), t in [0, 10.0] by 0.5. */
static ss_model *mk(size_t K, size_t N)
{
    return test_model_new(K, N, 10.0);
}

/*
 * One segment, two providers; p1's lever steps from 1 to `lever` at t = 1,
 * so shares move towards p1 with time constant tau from then on.
 */
static ss_model *mk_lever(double tau, double lever)
{
    ss_model *m = mk(1, 2);
    double t[] = { 0.0, 1.0 }, v[] = { 1.0, lever };
    m->seg[0].tau = tau;
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].lever[0], SS_SCHED_STEPS, 2, t, v, "x", NULL),
                     SS_OK);
    return m;
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

/* Write text to a temporary stream for the readers. */
static FILE *text_stream(const char *text)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    rewind(f);
    return f;
}

/* Contents of a stream written by a writer under test (caller frees). */
static char *slurp(FILE *f)
{
    long n;
    char *s;
    fflush(f);
    n = ftell(f);
    assert_true(n >= 0);
    s = calloc((size_t)n + 1, 1);
    assert_non_null(s);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

#define assert_has(hay, needle) do {                                               \
        if (!strstr((hay), (needle)))                                              \
            fail_msg("'%s' does not contain '%s'", (hay), (needle));               \
    } while (0)

/* -------------------------------------------------------------- selectors */

static void test_selector_parse(void **state)
{
    ss_selector s;
    ss_err e = { 0 };
    (void)state;
    assert_int_equal(ss_selector_parse(&s, "share:alibaba:public@2028", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_PS);
    assert_int_equal(s.metric, SS_PS_SHARE);
    assert_string_equal(s.provider, "alibaba");
    assert_string_equal(s.segment, "public");
    assert_int_equal(s.when, SS_SEL_AT);
    assert_close(s.t, 2028.0, 0);

    assert_int_equal(ss_selector_parse(&s, " npv:alibaba ", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_P);
    assert_int_equal(s.metric, SS_P_NPV);
    assert_int_equal(s.when, SS_SEL_LAST);
    assert_string_equal(s.text, "npv:alibaba");

    assert_int_equal(ss_selector_parse(&s, "size:public@2025.5", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_S);
    assert_int_equal(s.metric, SS_S_SIZE);
    assert_string_equal(s.segment, "public");
    assert_close(s.t, 2025.5, 0);

    assert_int_equal(ss_selector_parse(&s, "operating_profit:alibaba@each", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_P);
    assert_int_equal(s.metric, SS_P_OPERATING_PROFIT);
    assert_int_equal(s.when, SS_SEL_EACH);

    /* revenue exists per provider and per provider and segment */
    assert_int_equal(ss_selector_parse(&s, "revenue:alibaba", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_P);
    assert_int_equal(ss_selector_parse(&s, "revenue:alibaba:public@start", &e), SS_OK);
    assert_int_equal(s.kind, SS_SEL_PS);
    assert_int_equal(s.when, SS_SEL_FIRST);
    assert_int_equal(ss_selector_parse(&s, "hhi:public@end", &e), SS_OK);
    assert_int_equal(s.when, SS_SEL_LAST);
    assert_int_equal(ss_selector_parse(&s, "share:a:b@-1.5e1", &e), SS_OK);
    assert_close(s.t, -15.0, 0);

    /* errors */
    assert_int_equal(ss_selector_parse(&s, "shares:a:b", &e), SS_EINVAL);
    assert_has(e.msg, "unknown metric 'shares'");
    assert_int_equal(ss_selector_parse(&s, "share:alibaba", &e), SS_EINVAL);
    assert_has(e.msg, "needs a provider and a segment");
    assert_int_equal(ss_selector_parse(&s, "npv:a:b", &e), SS_EINVAL);
    assert_has(e.msg, "not per provider and segment");
    assert_int_equal(ss_selector_parse(&s, "size", &e), SS_EINVAL);
    assert_has(e.msg, "expected METRIC:PROVIDER:SEGMENT");
    assert_int_equal(ss_selector_parse(&s, "share:a:b@", &e), SS_EINVAL);
    assert_has(e.msg, "nothing after '@'");
    assert_int_equal(ss_selector_parse(&s, "share:a:b@2028x", &e), SS_EINVAL);
    assert_has(e.msg, "'2028x'");
    assert_int_equal(ss_selector_parse(&s, "share:a:b@nan", &e), SS_EINVAL);
    assert_int_equal(ss_selector_parse(&s, "share:a:b:c", &e), SS_EINVAL);
    assert_int_equal(ss_selector_parse(&s, "share::b", &e), SS_EINVAL);
    assert_has(e.msg, "empty id");
    assert_int_equal(ss_selector_parse(&s, "", &e), SS_EINVAL);
    assert_has(e.msg, "empty selector");
}

static void test_constraint_parse(void **state)
{
    ss_constraint c;
    ss_err e = { 0 };
    (void)state;
    assert_int_equal(ss_constraint_parse(&c, "share:alibaba:public@2028 >= 0.25", &e), SS_OK);
    assert_int_equal(c.op, SS_CMP_GE);
    assert_close(c.bound, 0.25, 0);
    assert_string_equal(c.sel.text, "share:alibaba:public@2028");
    assert_int_equal(ss_constraint_parse(&c, "operating_profit:alibaba@each<=-1e3", &e), SS_OK);
    assert_int_equal(c.op, SS_CMP_LE);
    assert_close(c.bound, -1000.0, 0);
    assert_int_equal(c.sel.when, SS_SEL_EACH);

    assert_int_equal(ss_constraint_parse(&c, "npv:a > 3", &e), SS_EINVAL);
    assert_has(e.msg, "expected 'SELECTOR >= VALUE'");
    assert_int_equal(ss_constraint_parse(&c, "npv:a >= x", &e), SS_EINVAL);
    assert_has(e.msg, "not a finite number");
    assert_int_equal(ss_constraint_parse(&c, "npv:a >= ", &e), SS_EINVAL);
    assert_int_equal(ss_constraint_parse(&c, "npvv:a >= 1", &e), SS_EINVAL);
    assert_has(e.msg, "constraint 'npvv:a >= 1': selector");
}

static void test_selector_eval(void **state)
{
    ss_model *m = mk_lever(2.0, 2.0);
    ss_result *r = run_ok(m);
    ss_selector s;
    ss_constraint c;
    ss_constraint_value cv;
    ss_err e = { 0 };
    double v, *series;
    size_t ti;
    (void)state;

    /* validation against the model */
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1@4", &e), SS_OK);
    assert_int_equal(ss_selector_validate(&s, m, &e), SS_OK);
    assert_int_equal(ss_selector_parse(&s, "share:px:s1@4", &e), SS_OK);
    assert_int_equal(ss_selector_validate(&s, m, &e), SS_EINVAL);
    assert_has(e.msg, "unknown provider 'px'");
    assert_int_equal(ss_selector_parse(&s, "size:s9", &e), SS_OK);
    assert_int_equal(ss_selector_validate(&s, m, &e), SS_EINVAL);
    assert_has(e.msg, "unknown segment 's9'");
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1@11", &e), SS_OK);
    assert_int_equal(ss_selector_validate(&s, m, &e), SS_EINVAL);
    assert_has(e.msg, "outside the simulated range");

    /* at an output time (within 1e-9) */
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1@4.0000000001", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_OK);
    assert_close(v, SS_RESULT_PS(r, 8, SS_PS_SHARE, 0, 0), 0);
    /* between outputs: linear */
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1@4.125", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_OK);
    assert_close(v, 0.75 * SS_RESULT_PS(r, 8, SS_PS_SHARE, 0, 0) + 0.25 * SS_RESULT_PS(r, 9, SS_PS_SHARE, 0, 0),
                 1e-15);
    /* last, first, per provider, per segment */
    assert_int_equal(ss_selector_parse(&s, "npv:p2", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_OK);
    assert_close(v, SS_RESULT_P(r, r->nt - 1, SS_P_NPV, 1), 0);
    assert_int_equal(ss_selector_parse(&s, "size:s1@start", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_OK);
    assert_close(v, 100.0, 0);
    /* outside the output range, and @each where one value is needed */
    assert_int_equal(ss_selector_eval_at(&v, &s, r, 10.5, &e), SS_EINVAL);
    assert_has(e.msg, "outside the output range");
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1@each", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_EINVAL);
    series = calloc(r->nt, sizeof *series);
    assert_int_equal(ss_selector_eval_series(series, &s, r, &e), SS_OK);
    for (ti = 0; ti < r->nt; ti++)
        assert_close(series[ti], SS_RESULT_PS(r, ti, SS_PS_SHARE, 0, 0), 0);
    /* an id the result lacks */
    assert_int_equal(ss_selector_parse(&s, "share:p3:s1", &e), SS_OK);
    assert_int_equal(ss_selector_eval(&v, &s, r, &e), SS_EINVAL);
    assert_has(e.msg, "no provider 'p3'");

    /* constraints: @each takes the worst time; share of p1 rises from 0.5 */
    assert_int_equal(ss_constraint_parse(&c, "share:p1:s1@each >= 0.55", &e), SS_OK);
    assert_int_equal(ss_constraint_eval(&cv, &c, r, &e), SS_OK);
    assert_close(cv.value, 0.5, 1e-12);
    assert_close(cv.violation, 0.05, 1e-12);
    assert_false(ss_constraint_holds(&cv, 1e-6));
    assert_int_equal(ss_constraint_parse(&c, "share:p1:s1@each <= 0.9", &e), SS_OK);
    assert_int_equal(ss_constraint_eval(&cv, &c, r, &e), SS_OK);
    assert_close(cv.value, series[r->nt - 1], 0);
    assert_close(cv.violation, 0.0, 0);
    assert_close(cv.sq, 0.0, 0);
    assert_true(ss_constraint_holds(&cv, 1e-6));
    free(series);
    ss_result_free(r);
    ss_model_free(m);
}

/* ---------------------------------------------------------------- tornado */

static void test_tornado(void **state)
{
    ss_model *m = mk(1, 2);
    ss_tornado *t = NULL;
    ss_err e = { 0 };
    const ss_tornado_param params[] = {
        { "segments.s1.tau", 1.0, 3.0 },          /* no effect: the start is an equilibrium */
        { "providers.p1.opex.s1", 0.0, 0.01 },     /* OP -= 0.01 * 50 */
        { "providers.p1.fixed_cost", 0.0, 2.0 },   /* OP -= 2: dominates */
    };
    const char *outputs[] = { "operating_profit:p1@10", "npv:p1" };
    const char *bad[] = { "npv:p1@each" };
    FILE *f;
    char *csv;
    (void)state;

    assert_int_equal(ss_tornado_run(&t, m, params, 3, outputs, 2, NULL, NULL, &e), SS_OK);
    /* OP = 0.3*50 - 0.2*50 = 5 at the base */
    assert_close(t->base_out[0], 5.0, 1e-9);
    assert_close(t->base_out[1], 50.0, 1e-7);
    /* output 0: fixed_cost, opex, tau */
    assert_int_equal(t->rows[0].param, 2);
    assert_int_equal(t->rows[0].rank, 1);
    assert_close(t->rows[0].swing, 2.0, 1e-9);
    assert_close(t->rows[0].out_low, 5.0, 1e-9);
    assert_close(t->rows[0].out_high, 3.0, 1e-9);
    assert_int_equal(t->rows[1].param, 1);
    assert_close(t->rows[1].swing, 0.5, 1e-9);
    assert_int_equal(t->rows[2].param, 0);
    assert_close(t->rows[2].swing, 0.0, 1e-9);
    assert_int_equal(t->rows[2].rank, 3);
    /* output 1: NPV over 10 years, discount 0 */
    assert_int_equal(t->rows[3].output, 1);
    assert_int_equal(t->rows[3].param, 2);
    assert_close(t->rows[3].swing, 20.0, 1e-7);
    assert_close(t->rows[4].swing, 5.0, 1e-7);

    f = tmpfile();
    assert_int_equal(ss_tornado_write_csv(f, t, &e), SS_OK);
    csv = slurp(f);
    assert_has(csv, "parameter,output,low_value,high_value,output_at_low,output_at_high,swing,rank\n"
                    "providers.p1.fixed_cost,operating_profit:p1@10,0,2,5");
    free(csv);
    fclose(f);
    ss_tornado_free(t);

    /* errors */
    assert_int_equal(ss_tornado_run(&t, m, params, 3, bad, 1, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "'@each'");
    {
        const ss_tornado_param bp[] = { { "providers.p1.nope", 0.0, 1.0 } };
        assert_int_equal(ss_tornado_run(&t, m, bp, 1, outputs, 1, NULL, NULL, &e), SS_EINVAL);
        assert_has(e.msg, "unknown provider field 'nope'");
    }
    {   /* a failing run names the value */
        const ss_tornado_param bp[] = { { "segments.s1.tau", -1.0, 1.0 } };
        assert_int_equal(ss_tornado_run(&t, m, bp, 1, outputs, 1, NULL, NULL, &e), SS_EINVAL);
        assert_has(e.msg, "segments.s1.tau=-1");
    }
    assert_null(t);
    ss_model_free(m);
}

/* ------------------------------------------------------------------ Sobol */

#define ISHIGAMI_A 7.0
#define ISHIGAMI_B 0.1
/* Base sample size for the Ishigami check: 2^14 rows, 5 * 2^14 evaluations. */
#define ISHIGAMI_N 16384

static int ishigami(const double *x, double *y, void *payload, ss_err *err)
{
    (void)payload;
    (void)err;
    y[0] = sin(x[0]) + ISHIGAMI_A * sin(x[1]) * sin(x[1]) +
           ISHIGAMI_B * pow(x[2], 4) * sin(x[0]);
    return SS_OK;
}

static double uniform_pi(int param, double u, void *payload)
{
    (void)param;
    (void)payload;
    return -M_PI + 2.0 * M_PI * u;
}

static void test_sobol_ishigami(void **state)
{
    ss_sobol *s = NULL;
    ss_err e = { 0 };
    ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
    double a = ISHIGAMI_A, b = ISHIGAMI_B, pi4 = pow(M_PI, 4), pi8 = pow(M_PI, 8);
    double V1 = 0.5 * pow(1.0 + b * pi4 / 5.0, 2), V2 = a * a / 8.0;
    double V13 = b * b * pi8 * (1.0 / 18.0 - 1.0 / 50.0);
    double V = V1 + V2 + V13;
    double S1[3] = { V1 / V, V2 / V, 0.0 }, ST[3] = { (V1 + V13) / V, V2 / V, V13 / V };
    size_t i;
    FILE *f;
    char *csv;
    (void)state;

    /* the published values */
    assert_close(S1[0], 0.314, 5e-4);
    assert_close(S1[1], 0.442, 5e-4);
    assert_close(ST[0], 0.558, 5e-4);
    assert_close(ST[2], 0.244, 5e-4);

    o.seed = 7;
    assert_int_equal(ss_sobol_analyze(&s, 3, 1, ISHIGAMI_N, ishigami, NULL, uniform_pi, NULL, &o, &e),
                     SS_OK);
    assert_int_equal(s->nevals, 5 * ISHIGAMI_N);
    assert_close(s->var[0], V, 0.02 * V);
    for (i = 0; i < 3; i++) {
        assert_close(SS_SOBOL_AT(s, S1, i, 0), S1[i], 0.02);
        assert_close(SS_SOBOL_AT(s, ST, i, 0), ST[i], 0.02);
        /* intervals bracket the estimate and are not degenerate */
        assert_true(SS_SOBOL_AT(s, S1_lo, i, 0) <= SS_SOBOL_AT(s, S1, i, 0));
        assert_true(SS_SOBOL_AT(s, S1_hi, i, 0) >= SS_SOBOL_AT(s, S1, i, 0));
        assert_true(SS_SOBOL_AT(s, ST_lo, i, 0) < SS_SOBOL_AT(s, ST_hi, i, 0));
        assert_true(SS_SOBOL_AT(s, ST_hi, i, 0) - SS_SOBOL_AT(s, ST_lo, i, 0) < 0.1);
    }
    f = tmpfile();
    assert_int_equal(ss_sobol_write_csv(f, s, &e), SS_OK);
    csv = slurp(f);
    assert_has(csv, "parameter,output,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi\nx1,y1,0.3");
    assert_has(csv, "\nx3,y1,");
    free(csv);
    fclose(f);
    ss_sobol_free(s);

    /* same seed, same intervals; dimension limit */
    {
        ss_sobol *s2 = NULL, *s3 = NULL;
        assert_int_equal(ss_sobol_analyze(&s2, 3, 1, 256, ishigami, NULL, uniform_pi, NULL, &o, &e), SS_OK);
        assert_int_equal(ss_sobol_analyze(&s3, 3, 1, 256, ishigami, NULL, uniform_pi, NULL, &o, &e), SS_OK);
        assert_memory_equal(s2->S1_lo, s3->S1_lo, 3 * sizeof(double));
        assert_memory_equal(s2->ST_hi, s3->ST_hi, 3 * sizeof(double));
        ss_sobol_free(s2);
        ss_sobol_free(s3);
    }
    assert_int_equal(ss_sobol_analyze(&s, 21, 1, 64, ishigami, NULL, uniform_pi, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "between 1 and 20");
}

/* U[0,2] for fixed_cost, U[0,0.01] for opex. */
static double inv_model(int param, double u, void *payload)
{
    (void)payload;
    return param == 0 ? 2.0 * u : 0.01 * u;
}

/* The model wrapper: OP = 5 - fc - 50 opex is additive, S1 = ST = variance shares. */
static void test_sobol_model(void **state)
{
    ss_model *m = mk(1, 2);
    ss_sobol *s = NULL;
    ss_err e = { 0 };
    const char *paths[] = { "providers.p1.fixed_cost", "providers.p1.opex.s1" };
    const char *outs[] = { "operating_profit:p1@10", "share:p1:s1" };
    double v0 = 4.0 / 12.0, v1 = 0.25 / 12.0;
    (void)state;
    assert_int_equal(ss_sobol_model(&s, m, paths, 2, inv_model, NULL, outs, 2, 1024, NULL, NULL, &e),
                     SS_OK);
    assert_int_equal(s->nevals, 1024 * 4);
    assert_string_equal(s->params[1], "providers.p1.opex.s1");
    assert_string_equal(s->outputs[0], "operating_profit:p1@10");
    assert_close(SS_SOBOL_AT(s, S1, 0, 0), v0 / (v0 + v1), 0.01);
    assert_close(SS_SOBOL_AT(s, ST, 1, 0), v1 / (v0 + v1), 0.01);
    /* shares do not depend on either: zero variance gives NaN indices */
    assert_true(isnan(SS_SOBOL_AT(s, S1, 0, 1)));
    ss_sobol_free(s);
    ss_model_free(m);
}

/* tau in [0.5, 2.5], the price in [0.8, 1.2], beta_reliability in [1, 4]. */
static double inv_engines(int param, double u, void *payload)
{
    (void)payload;
    return param == 0 ? 0.5 + 2.0 * u : param == 1 ? 0.8 + 0.4 * u : 1.0 + 3.0 * u;
}

/* tau in [-0.5, 0.5]: the first point of the sequence (u = 1/2) has tau = 0. */
static double inv_bad_tau(int param, double u, void *payload)
{
    (void)payload;
    return param == 0 ? u - 0.5 : 1.0;
}

/* tau = u - 0.005: not positive for u = 1/256, whose first row lies between
 * 128 and 255 (the first 2^k points of the sequence have no u below 2^-k):
 * deep in the design for N = 256 and for N = 1024 alike. */
static double inv_late_bad_tau(int param, double u, void *payload)
{
    (void)payload;
    return param == 0 ? u - 0.005 : param == 1 ? 0.8 + 0.4 * u : 1.0 + 3.0 * u;
}

/*
 * ss_sobol_model runs its evaluations in the batched engine's lanes unless
 * told otherwise; both engines give the same means and variances of the
 * outputs within 1e-7 relative and the same indices within 1e-6 (the runs
 * agree within the solver's tolerance), on a model with a learning curve,
 * an outage and a linear price cut. A point that fails is redone alone and
 * stops the analysis with the scalar engine's message.
 */
static void test_sobol_engines(void **state)
{
    ss_model *m = mk(2, 3);
    ss_sobol *s[2] = { NULL, NULL };
    ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
    ss_err e = { 0 }, e2 = { 0 };
    const char *paths[] = { "segments.s1.tau", "providers.p1.price.s1", "segments.s1.beta_reliability" };
    const char *outs[] = { "npv:p1", "share:p1:s1", "share:p2:s2@5", "gross_margin:p3:s1" };
    double t[] = { 2.0, 6.0 }, v[] = { 1.0, 0.8 };
    ss_event ev = { .t = 3.3, .kind = SS_EV_OUTAGE, .provider = 0, .segment = -1, .amount = 0.1 };
    size_t k, c;
    (void)state;
    m->seg[0].learning = 0.15;
    assert_int_equal(ss_schedule_set_knots(&m->prov[1].price[0], SS_SCHED_LINEAR, 2, t, v, "x", NULL),
                     SS_OK);
    assert_int_equal(ss_model_add_event(m, &ev, &e), SS_OK);
    o.nboot = 0;
    for (k = 0; k < 2; k++) {
        o.engine = k ? SS_SOBOL_ENGINE_SCALAR : SS_SOBOL_ENGINE_AUTO;
        assert_int_equal(ss_sobol_model(&s[k], m, paths, 3, inv_engines, NULL, outs, 4, 64, NULL, &o, &e),
                         SS_OK);
        assert_int_equal(s[k]->scalar_evals, 0);
    }
    assert_string_equal(s[0]->engine, "batched");
    assert_string_equal(s[1]->engine, "scalar");
    for (c = 0; c < 4; c++) {
        assert_close(s[0]->mean[c], s[1]->mean[c], 1e-7 * fabs(s[1]->mean[c]));
        assert_close(s[0]->var[c], s[1]->var[c], 1e-7 * fabs(s[1]->var[c]));
        assert_true(s[1]->var[c] > 0.0);
        for (k = 0; k < 3; k++) {
            assert_close(SS_SOBOL_AT(s[0], S1, k, c), SS_SOBOL_AT(s[1], S1, k, c), 1e-6);
            assert_close(SS_SOBOL_AT(s[0], ST, k, c), SS_SOBOL_AT(s[1], ST, k, c), 1e-6);
        }
    }
    /* the price dominates; tau and beta_reliability move the outputs too */
    assert_true(SS_SOBOL_AT(s[0], ST, 1, 0) > 0.9);
    assert_true(SS_SOBOL_AT(s[0], ST, 0, 2) > 0.01 && SS_SOBOL_AT(s[0], ST, 2, 3) > 0.001);
    ss_sobol_free(s[0]);
    ss_sobol_free(s[1]);
    /* the same failure, with the same message, from either engine */
    o.engine = SS_SOBOL_ENGINE_AUTO;
    assert_int_equal(ss_sobol_model(&s[0], m, paths, 1, inv_bad_tau, NULL, outs, 1, 16, NULL, &o, &e),
                     SS_EINVAL);
    o.engine = SS_SOBOL_ENGINE_SCALAR;
    assert_int_equal(ss_sobol_model(&s[1], m, paths, 1, inv_bad_tau, NULL, outs, 1, 16, NULL, &o, &e2),
                     SS_EINVAL);
    assert_null(s[0]);
    assert_null(s[1]);
    assert_string_equal(e.msg, e2.msg);
    assert_non_null(strstr(e.msg, "segments.s1.tau=0"));
    ss_model_free(m);
}

/*
 * The batched engine on worker threads: chunks of 51 rows (5 points each)
 * in a ring of slots; 1, 2 and 3 threads give the same indices bit for bit,
 * and a point that fails deep in the design (the chunks after it already
 * evaluated) stops the analysis with the message it gives alone.
 */
static void test_sobol_threads(void **state)
{
    ss_model *m = mk(2, 3);
    ss_sobol *s[3] = { NULL, NULL, NULL };
    ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
    ss_err e = { 0 }, e2 = { 0 };
    const char *paths[] = { "segments.s1.tau", "providers.p1.price.s1", "segments.s1.beta_reliability" };
    const char *outs[] = { "npv:p1", "share:p1:s1" };
    size_t n = (size_t)test_quick(1024, 256), k;
    (void)state;
    o.nboot = 0;
    for (k = 0; k < 3; k++) {
        o.threads = (unsigned)k + 1;
        assert_int_equal(ss_sobol_model(&s[k], m, paths, 3, inv_engines, NULL, outs, 2, n, NULL, &o, &e),
                         SS_OK);
        assert_string_equal(s[k]->engine, "batched");
        assert_memory_equal(s[k]->S1, s[0]->S1, 3 * 2 * sizeof *s[0]->S1);
        assert_memory_equal(s[k]->ST, s[0]->ST, 3 * 2 * sizeof *s[0]->ST);
        assert_memory_equal(s[k]->mean, s[0]->mean, 2 * sizeof *s[0]->mean);
        assert_memory_equal(s[k]->var, s[0]->var, 2 * sizeof *s[0]->var);
    }
    for (k = 0; k < 3; k++)
        ss_sobol_free(s[k]);
    o.threads = 3;
    assert_int_equal(ss_sobol_model(&s[0], m, paths, 3, inv_late_bad_tau, NULL, outs, 2, n, NULL, &o, &e),
                     SS_EINVAL);
    o.threads = 1;
    o.engine = SS_SOBOL_ENGINE_SCALAR;
    assert_int_equal(ss_sobol_model(&s[1], m, paths, 3, inv_late_bad_tau, NULL, outs, 2, n, NULL, &o, &e2),
                     SS_EINVAL);
    assert_string_equal(e.msg, e2.msg);
    assert_non_null(strstr(e.msg, "segments.s1.tau=-"));
    ss_model_free(m);
}

/* ------------------------------------------------------------ calibration */

#define TRUE_TAU 1.5
#define TRUE_LEVER 2.0

/*
 * Synthetic observations of p1's share in s1 from the model at the true
 * values, at times 0.25, 0.5, ..., 10 (off-grid times are interpolated the
 * same way when fitting), plus N(0, sd) noise, with a weight column.
 */
static char *synth_csv(double sd, unsigned long seed, size_t *nobs)
{
    ss_model *m = mk_lever(TRUE_TAU, TRUE_LEVER);
    ss_result *r = run_ok(m);
    ss_selector s;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    size_t cap = 8192, len = 0, j;
    char *buf = malloc(cap);
    assert_non_null(buf);
    gsl_rng_set(rng, seed);
    assert_int_equal(ss_selector_parse(&s, "share:p1:s1", NULL), SS_OK);
    len += (size_t)snprintf(buf + len, cap - len, "time,provider,segment,metric,value,weight\n");
    for (j = 1; j <= 40; j++) {
        double t = 0.25 * (double)j, v;
        assert_int_equal(ss_selector_eval_at(&v, &s, r, t, NULL), SS_OK);
        if (sd > 0)
            v += gsl_ran_gaussian(rng, sd);
        len += (size_t)snprintf(buf + len, cap - len, "%.17g,p1,s1,share,%.17g,1\n", t, v);
        assert_true(len < cap);
    }
    *nobs = 40;
    gsl_rng_free(rng);
    ss_result_free(r);
    ss_model_free(m);
    return buf;
}

static ss_obs_set *read_obs(const char *text, const char *name)
{
    ss_obs_set *o = NULL;
    ss_err e = { 0 };
    FILE *f = text_stream(text);
    int rc = ss_obs_read_stream(&o, f, name, &e);
    fclose(f);
    if (rc)
        fail_msg("reading observations failed: %s", e.msg);
    return o;
}

static const ss_calib_param fit_params[] = {
    { "segments.s1.tau", 0.1, 10.0, 3.0 },
    { "providers.p1.lever.s1#2", 0.5, 5.0, 1.2 },
};

static void test_calibrate_exact(void **state)
{
    size_t n;
    char *csv = synth_csv(0.0, 1, &n);
    ss_obs_set *o = read_obs(csv, "synthetic.csv");
    ss_model *m = mk_lever(3.0, 1.0);   /* the start is far from the truth */
    ss_calib_result *c = NULL;
    ss_err e = { 0 };
    char buf[128], *lua;
    FILE *f;
    (void)state;

    assert_int_equal(o->n, n);
    assert_int_equal(ss_calibrate_run(&c, m, fit_params, 2, o, NULL, NULL, &e), SS_OK);
    print_message("exact data: tau %.10f lever %.10f, %zu iterations, %zu runs, chi2 %g, %s\n",
                  c->value[0], c->value[1], c->iterations, c->nevals, c->chi2, c->status);
    assert_true(c->converged);
    assert_close(c->value[0], TRUE_TAU, 1e-4);
    assert_close(c->value[1], TRUE_LEVER, 1e-4);
    assert_true(c->rmse < 1e-6);
    assert_int_equal(c->dof, 38);
    assert_close(c->start[0], 3.0, 0);
    assert_close(c->corr[0], 1.0, 0);
    assert_close(c->corr[1], c->corr[2], 1e-12);

    /* writers */
    assert_true(ss_calibrate_set_string(buf, sizeof buf, c, 0) > 0);
    assert_has(buf, "segments.s1.tau=1.4999");
    assert_close(strtod(strchr(buf, '=') + 1, NULL), c->value[0], 0);  /* round-trip exact */
    f = tmpfile();
    assert_int_equal(ss_calibrate_write_lua(f, c, &e), SS_OK);
    lua = slurp(f);
    assert_has(lua, "return {\n  [\"segments.s1.tau\"] = 1.4999");
    assert_has(lua, "[\"providers.p1.lever.s1#2\"] = 1.9999");
    assert_has(lua, ", -- se ");
    free(lua);
    fclose(f);
    f = tmpfile();
    assert_int_equal(ss_calibrate_write_residuals(f, c, o, &e), SS_OK);
    lua = slurp(f);
    assert_has(lua, "time,provider,segment,metric,observed,weight,model,residual,weighted_residual\n"
                    "0.25,p1,s1,share,0.5,1,0.5,");
    free(lua);
    fclose(f);
    f = tmpfile();
    assert_int_equal(ss_calibrate_write_params(f, c, &e), SS_OK);
    lua = slurp(f);
    assert_has(lua, "parameter,value,se,lower,upper,start,at_bound\nsegments.s1.tau,1.4999");
    free(lua);
    fclose(f);

    ss_calibrate_free(c);
    ss_obs_free(o);
    ss_model_free(m);
    free(csv);
}

static void test_calibrate_noise(void **state)
{
    const double sd = 0.004;
    size_t n, seed;
    (void)state;
    for (seed = 1; seed <= 3; seed++) {
        char *csv = synth_csv(sd, seed, &n);
        ss_obs_set *o = read_obs(csv, "noisy.csv");
        ss_model *m = mk_lever(3.0, 1.0);
        ss_calib_result *c = NULL;
        ss_err e = { 0 };
        int rc = ss_calibrate_run(&c, m, fit_params, 2, o, NULL, NULL, &e);
        if (rc)
            fail_msg("calibration failed: %s", e.msg);
        print_message("noise sd %g seed %zu: tau %.5f +- %.5f, lever %.5f +- %.5f, RMSE %.5f, "
                      "sigma %.5f, corr %.3f, %s\n", sd, seed, c->value[0], c->se[0], c->value[1],
                      c->se[1], c->rmse, c->sigma, c->corr[1], c->status);
        assert_true(c->se[0] > 0 && c->se[1] > 0);
        assert_close(c->value[0], TRUE_TAU, 3.0 * c->se[0]);
        assert_close(c->value[1], TRUE_LEVER, 3.0 * c->se[1]);
        /* RMSE estimates the noise sd (40 points: about +-11% at 1 sd) */
        assert_close(c->rmse, sd, 0.35 * sd);
        assert_close(c->sigma * c->sigma, c->chi2 / 38.0, 1e-15);
        assert_close(c->corr[1], c->corr[2], 1e-12);
        assert_true(fabs(c->corr[1]) <= 1.0);
        ss_calibrate_free(c);
        ss_obs_free(o);
        ss_model_free(m);
        free(csv);
    }
}

/*
 * Coverage of the standard errors: over 100 noisy data sets the true values
 * should lie within 2 SE about 95% of the time (measured: 95-96% over 500),
 * and the RMSE should average sqrt((n - p) / n) sd = 0.975 sd.
 */
static void test_calibrate_coverage(void **state)
{
    const double sd = 0.01;
    const size_t reps = 100;
    size_t k, n, within[2] = { 0, 0 };
    double rmse = 0.0;
    const double truth[2] = { TRUE_TAU, TRUE_LEVER };
    (void)state;
    for (k = 0; k < reps; k++) {
        char *csv = synth_csv(sd, 1000 + k, &n);
        ss_obs_set *o = read_obs(csv, "noisy.csv");
        ss_model *m = mk_lever(3.0, 1.0);
        ss_calib_result *c = NULL;
        ss_err e = { 0 };
        size_t i;
        if (ss_calibrate_run(&c, m, fit_params, 2, o, NULL, NULL, &e))
            fail_msg("calibration failed: %s", e.msg);
        assert_true(c->converged);
        for (i = 0; i < 2; i++)
            within[i] += fabs(c->value[i] - truth[i]) <= 2.0 * c->se[i];
        rmse += c->rmse / sd;
        ss_calibrate_free(c);
        ss_obs_free(o);
        ss_model_free(m);
        free(csv);
    }
    print_message("coverage of 2 SE over %zu data sets: tau %.2f, lever %.2f; mean RMSE/sd %.3f\n",
                  reps, (double)within[0] / (double)reps, (double)within[1] / (double)reps,
                  rmse / (double)reps);
    assert_true(within[0] >= 85 && within[1] >= 85);
    assert_close(rmse / (double)reps, 0.975, 0.05);
}

/* Reader: tolerated forms and errors naming FILE:LINE:COLUMN. */
static void test_obs_reader(void **state)
{
    ss_obs_set *o = NULL;
    ss_model *m = mk(2, 2);
    ss_err e = { 0 };
    FILE *f;
    (void)state;

    /* BOM, CRLF, comments, blank lines, columns in any order, quotes, no weight */
    o = read_obs("\xEF\xBB\xBFvalue,metric,segment,provider,time,source\r\n"
                 "# IDC figures\r\n"
                 "\r\n"
                 "0.378, share ,s1,p1,2.5,\"IDC, H2 2021\"\r\n"
                 "  # indented comment\r\n"
                 "120,size,s2,,3,\r\n"
                 "7,operating_profit,,\"p2\",4,x\r\n"
                 "8,revenue,s1,p2,4,x", "idc.csv");
    assert_int_equal(o->n, 4);
    assert_close(o->obs[0].value, 0.378, 0);
    assert_close(o->obs[0].t, 2.5, 0);
    assert_close(o->obs[0].weight, 1.0, 0);
    assert_int_equal(o->obs[0].line, 4);
    assert_int_equal(o->obs[0].sel.kind, SS_SEL_PS);
    assert_int_equal(o->obs[1].sel.kind, SS_SEL_S);
    assert_string_equal(o->obs[1].sel.segment, "s2");
    assert_int_equal(o->obs[2].sel.kind, SS_SEL_P);
    assert_string_equal(o->obs[2].sel.provider, "p2");
    assert_int_equal(o->obs[3].sel.kind, SS_SEL_PS);
    assert_int_equal(o->obs[3].sel.metric, SS_PS_REVENUE);
    assert_int_equal(ss_obs_validate(o, m, &e), SS_OK);
    ss_obs_free(o);

#define EXPECT_READ_ERR(text, msg_part) do {                                       \
        f = text_stream(text);                                                     \
        assert_int_equal(ss_obs_read_stream(&o, f, "d.csv", &e), SS_EINVAL);       \
        fclose(f);                                                                 \
        assert_null(o);                                                            \
        assert_has(e.msg, msg_part);                                               \
    } while (0)

    EXPECT_READ_ERR("time,provider,segment,metric\n1,p1,s1,share\n", "d.csv:1:value: missing column 'value'");
    EXPECT_READ_ERR("time,provider,segment,metric,value,colour\n", "d.csv:1:colour: unknown column");
    EXPECT_READ_ERR("time,time,provider,segment,metric,value\n", "d.csv:1:time: duplicate column");
    EXPECT_READ_ERR("# only a comment\n", "no header line");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n", "no observations");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,s1,share,0.5\n2,p1,s1,share,0,5\n",
                    "d.csv:3: 6 fields, the header has 5");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,s1,share,0.5\n\n2,p1,s1,share,abc\n",
                    "d.csv:4:value: 'abc' is not a finite decimal number");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n2028q,p1,s1,share,1\n", "d.csv:2:time: '2028q'");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,s1,share,\n", "d.csv:2:value: empty");
    EXPECT_READ_ERR("time,provider,segment,metric,value,weight\n1,p1,s1,share,1,-2\n", "d.csv:2:weight:");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,,share,1\n",
                    "d.csv:2:segment: metric 'share' needs a segment");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,s1,npv,1\n",
                    "d.csv:2:segment: metric 'npv' is per provider");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,,size,1\n",
                    "d.csv:2:provider: metric 'size' is per segment");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,p1,s1,sharee,1\n",
                    "d.csv:2:metric: unknown metric 'sharee'");
    EXPECT_READ_ERR("time,provider,segment,metric,value\n1,\"p1,s1,share,1\n", "d.csv:2: malformed quoted");

    /* validation against a model */
    o = read_obs("time,provider,segment,metric,value\n1,p1,s1,share,0.5\n2,p9,s1,share,0.5\n", "v.csv");
    assert_int_equal(ss_obs_validate(o, m, &e), SS_EINVAL);
    assert_has(e.msg, "v.csv:3:provider: unknown provider 'p9'");
    ss_obs_free(o);
    o = read_obs("time,provider,segment,metric,value\n1,,s7,hhi,0.5\n", "v.csv");
    assert_int_equal(ss_obs_validate(o, m, &e), SS_EINVAL);
    assert_has(e.msg, "v.csv:2:segment: unknown segment 's7'");
    ss_obs_free(o);
    o = read_obs("time,provider,segment,metric,value\n10.5,,s1,hhi,0.5\n", "v.csv");
    assert_int_equal(ss_obs_validate(o, m, &e), SS_EINVAL);
    assert_has(e.msg, "v.csv:2:time: 10.5 is outside");
    ss_obs_free(o);

    /* a missing file */
    assert_int_equal(ss_obs_read(&o, "/nonexistent/obs.csv", &e), SS_EIO);
    assert_has(e.msg, "/nonexistent/obs.csv");
    ss_model_free(m);
}

static void test_calibrate_errors(void **state)
{
    ss_obs_set *o = read_obs("time,provider,segment,metric,value\n1,p1,s1,share,0.5\n", "one.csv");
    ss_model *m = mk_lever(2.0, 2.0);
    ss_calib_result *c = NULL;
    ss_err e = { 0 };
    ss_calib_param p[] = { { "segments.s1.tau", 0.1, 10.0, 20.0 }, { "segments.s1.tau", 1.0, 1.0, 1.0 } };
    (void)state;
    assert_int_equal(ss_calibrate_run(&c, m, p, 1, o, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "start 20 is outside");
    assert_int_equal(ss_calibrate_run(&c, m, &p[1], 1, o, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "lower < upper");
    assert_int_equal(ss_calibrate_run(&c, m, fit_params, 2, o, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "need at least as many observations");
    assert_null(c);
    /* start NaN: the model's value. The one observation (t = 1) comes before
       the lever acts, so tau moves nothing there: not identified, no SE, and
       it uses no degree of freedom (dof 1 - 0) */
    p[0].start = NAN;
    assert_int_equal(ss_calibrate_run(&c, m, p, 1, o, NULL, NULL, &e), SS_OK);
    assert_close(c->start[0], 2.0, 0);
    assert_false(c->identified[0]);
    assert_int_equal(c->nconstructed, 0);
    assert_int_equal(c->dof, 1);
    assert_true(isnan(c->se[0]));
    ss_calibrate_free(c);
    ss_obs_free(o);
    /* at t = 2 tau acts: identified; one observation, one parameter: dof 0, SE NaN */
    o = read_obs("time,provider,segment,metric,value\n2,p1,s1,share,0.6\n", "two.csv");
    assert_int_equal(ss_calibrate_run(&c, m, p, 1, o, NULL, NULL, &e), SS_OK);
    assert_true(c->identified[0]);
    assert_int_equal(c->dof, 0);
    assert_true(isnan(c->se[0]));
    ss_calibrate_free(c);
    ss_obs_free(o);
    /* an observation at the start equal to the initial share holds by
       construction: not a degree of freedom (3 observations, 1 parameter: dof 1) */
    o = read_obs("time,provider,segment,metric,value\n0,p1,s1,share,0.5\n2,p1,s1,share,0.6\n"
                 "3,p1,s1,share,0.62\n", "three.csv");
    assert_int_equal(ss_calibrate_run(&c, m, p, 1, o, NULL, NULL, &e), SS_OK);
    assert_int_equal(c->nconstructed, 1);
    assert_true(c->constructed[0]);
    assert_false(c->constructed[1]);
    assert_int_equal(c->dof, 1);
    assert_true(isfinite(c->se[0]) && c->se[0] > 0);
    ss_calibrate_free(c);
    ss_obs_free(o);
    ss_model_free(m);
}

/* ----------------------------------------------------------- optimisation */

typedef struct quad { double cx, cy; } quad;

/* -(x - cx)^2 - (y - cy)^2 of the controls. */
static int quad_obj(double *out, const ss_result *r, const double *x, void *payload, ss_err *err)
{
    const quad *q = payload;
    (void)r;
    (void)err;
    *out = -(x[0] - q->cx) * (x[0] - q->cx) - (x[1] - q->cy) * (x[1] - q->cy);
    return SS_OK;
}

static const ss_opt_control fc_controls[] = {
    { "providers.p1.fixed_cost", 0.0, 1.0 },
    { "providers.p2.fixed_cost", 0.0, 1.0 },
};

static void test_optimize_interior_and_bound(void **state)
{
    ss_model *m = mk(1, 2);
    ss_opt_result *r = NULL;
    ss_err e = { 0 };
    quad q = { 0.3, 0.7 };
    ss_opt_problem p = { fc_controls, 2, NULL, quad_obj, &q, 0, NULL, 0 };
    (void)state;

    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_OK);
    print_message("interior: x %.8f y %.8f obj %.3g, %zu runs, start %zu\n",
                  r->x[0], r->x[1], r->objective, r->nevals, r->best_start);
    assert_close(r->x[0], 0.3, 1e-4);
    assert_close(r->x[1], 0.7, 1e-4);
    assert_true(r->feasible);
    assert_true(r->converged);
    assert_int_equal(r->nstarts, 4);
    assert_close(r->x0[0], 0.0, 0);
    assert_close(r->objective0, -0.09 - 0.49, 1e-12);
    ss_optimize_free(r);

    /* optimum on a bound (x = 1), minimising the negated objective */
    q.cx = 1.5;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_OK);
    print_message("bound: x %.10f y %.8f\n", r->x[0], r->x[1]);
    assert_close(r->x[0], 1.0, 1e-6);
    assert_close(r->x[1], 0.7, 1e-4);
    ss_optimize_free(r);
    ss_model_free(m);
}

/* Constrained: OP of p1 is 5 - fixed_cost, so OP >= 4.8 at every time means x <= 0.2. */
static void test_optimize_constraint(void **state)
{
    ss_model *m = mk(1, 2);
    ss_opt_result *r = NULL;
    ss_err e = { 0 };
    quad q = { 0.3, 0.7 };
    const char *cons[] = { "operating_profit:p1@each >= 4.8" };
    ss_opt_problem p = { fc_controls, 2, NULL, quad_obj, &q, 0, cons, 1 };
    (void)state;

    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_OK);
    print_message("constrained: x %.8f y %.8f, OP %.10f, violation %g\n",
                  r->x[0], r->x[1], r->cons_value[0], r->cons_violation[0]);
    assert_close(r->x[0], 0.2, 1e-3);
    assert_close(r->x[1], 0.7, 1e-3);
    assert_close(r->cons_value[0], 4.8, 1e-3);
    assert_true(r->cons_holds[0]);
    assert_true(r->feasible);
    assert_true(r->cons_violation[0] <= 1e-6);
    assert_string_equal(r->cons_text[0], "operating_profit:p1@each >= 4.8");
    ss_optimize_free(r);
    ss_model_free(m);
}

/* A selector objective: p1's final share grows with its lever. */
static void test_optimize_selector(void **state)
{
    ss_model *m = mk_lever(1.0, 1.0);
    ss_opt_result *r = NULL;
    ss_err e = { 0 };
    const ss_opt_control ctl[] = { { "providers.p1.lever.s1#2", 0.5, 3.0 } };
    const char *cap[] = { "share:p1:s1@10 <= 0.6" };
    const char *floor_[] = { "share:p1:s1@10 >= 0.99" };
    ss_opt_problem p = { ctl, 1, "share:p1:s1@10", NULL, NULL, 0, NULL, 0 };
    ss_opt_opts o = SS_OPT_OPTS_INIT;
    double unconstrained;
    (void)state;

    /* unconstrained: on the upper bound */
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_OK);
    assert_close(r->x[0], 3.0, 1e-6);
    unconstrained = r->objective;
    assert_true(unconstrained > 0.7);
    ss_optimize_free(r);

    /* the cap binds: the optimum lies on the constraint boundary */
    p.constraints = cap;
    p.nconstraints = 1;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_OK);
    print_message("share cap: lever %.8f share %.10f (unconstrained %.6f), %zu runs\n",
                  r->x[0], r->objective, unconstrained, r->nevals);
    assert_true(r->feasible);
    assert_close(r->objective, 0.6, 1e-3);
    assert_close(r->cons_value[0], 0.6, 1e-3);
    assert_true(r->x[0] < 3.0);
    ss_optimize_free(r);

    /* infeasible: reported honestly, with the least infeasible point */
    p.constraints = floor_;
    o.starts = 2;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, &o, &e), SS_OK);
    assert_false(r->feasible);
    assert_false(r->cons_holds[0]);
    assert_close(r->x[0], 3.0, 1e-3);
    assert_close(r->cons_violation[0], 0.99 - r->cons_value[0], 1e-12);
    ss_optimize_free(r);

    /* minimising the same selector goes to the lower bound */
    p.constraints = NULL;
    p.nconstraints = 0;
    p.minimize = 1;
    o.seed = 42;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, &o, &e), SS_OK);
    assert_close(r->x[0], 0.5, 1e-6);
    ss_optimize_free(r);
    ss_model_free(m);
}

static void test_optimize_errors(void **state)
{
    ss_model *m = mk(1, 2);
    ss_opt_result *r = NULL;
    ss_err e = { 0 };
    quad q = { 0.3, 0.7 };
    const ss_opt_control bad[] = { { "providers.p1.fixed_cost", 1.0, 0.0 } };
    ss_opt_problem p = { fc_controls, 2, "npv:p1", quad_obj, &q, 0, NULL, 0 };
    (void)state;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "exactly one of");
    p.fn = NULL;
    p.objective = "npv:p1@each";
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "gives a series");
    p.objective = "npv:p1";
    p.controls = bad;
    p.ncontrols = 1;
    assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_EINVAL);
    assert_has(e.msg, "lower <= upper");
    {
        const char *c[] = { "npv:p7 >= 1" };
        p.controls = fc_controls;
        p.constraints = c;
        p.nconstraints = 1;
        assert_int_equal(ss_optimize_run(&r, m, &p, NULL, NULL, &e), SS_EINVAL);
        assert_has(e.msg, "unknown provider 'p7'");
    }
    assert_null(r);
    ss_model_free(m);
}


/* ------------------------------------------------------------ progress */

typedef struct prog_log {
    size_t calls;
    uint64_t first_done, last_done, last_total;
    int monotone;          /* done never went down */
} prog_log;

static void prog_rec(uint64_t done, uint64_t total, void *payload)
{
    prog_log *l = payload;
    if (l->calls == 0)
        l->first_done = done;
    else if (done < l->last_done)
        l->monotone = 0;
    l->calls++;
    l->last_done = done;
    l->last_total = total;
}

/* Every analysis reports its progress: runs (tornado, Sobol, calibration:
 * total unknown) or starts (optimisation), from 0 to the whole. */
static void test_progress_reports(void **state)
{
    ss_model *m = mk(1, 2);
    ss_err e = { 0 };
    prog_log l;
    ss_progress pg;
    char buf[32];
    (void)state;

    assert_string_equal(ss_fmt_count(buf, sizeof buf, 0), "0");
    assert_string_equal(ss_fmt_count(buf, sizeof buf, 999), "999");
    assert_string_equal(ss_fmt_count(buf, sizeof buf, 7168), "7,168");
    assert_string_equal(ss_fmt_count(buf, sizeof buf, 200000), "200,000");
    assert_string_equal(ss_fmt_count(buf, sizeof buf, 1234567890123ULL), "1,234,567,890,123");

    {   /* tornado: 1 + 2 x 2 runs, one report per run and one before */
        ss_tornado *t = NULL;
        ss_tornado_param params[] = {
            { "segments.s1.tau", 1.0, 3.0 }, { "providers.p1.fixed_cost", 0.0, 2.0 },
        };
        const char *outputs[] = { "npv:p1" };
        memset(&l, 0, sizeof l);
        l.monotone = 1;
        pg.fn = prog_rec;
        pg.payload = &l;
        assert_int_equal(ss_tornado_run(&t, m, params, 2, outputs, 1, NULL, &pg, &e), SS_OK);
        assert_int_equal(l.calls, 6);
        assert_int_equal(l.first_done, 0);
        assert_int_equal(l.last_done, 5);
        assert_int_equal(l.last_total, 5);
        assert_true(l.monotone);
        ss_tornado_free(t);
    }
    {   /* Sobol: per sample row of d + 2 evaluations */
        ss_sobol *s = NULL;
        ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
        const char *paths[] = { "providers.p1.fixed_cost", "providers.p1.opex.s1" };
        const char *outs[] = { "npv:p1" };
        memset(&l, 0, sizeof l);
        l.monotone = 1;
        o.progress.fn = prog_rec;
        o.progress.payload = &l;
        o.nboot = 0;
        assert_int_equal(ss_sobol_model(&s, m, paths, 2, inv_model, NULL, outs, 1, 16, NULL, &o, &e),
                         SS_OK);
        assert_int_equal(l.calls, 17);
        assert_int_equal(l.last_done, s->nevals);
        assert_int_equal(l.last_total, 16 * 4);
        assert_true(l.monotone);
        ss_sobol_free(s);
    }
    {   /* optimisation: starts */
        ss_opt_result *r = NULL;
        ss_opt_opts o = SS_OPT_OPTS_INIT;
        quad q = { 0.3, 0.7 };
        ss_opt_problem p = { fc_controls, 2, NULL, quad_obj, &q, 0, NULL, 0 };
        memset(&l, 0, sizeof l);
        l.monotone = 1;
        o.starts = 3;
        o.progress.fn = prog_rec;
        o.progress.payload = &l;
        assert_int_equal(ss_optimize_run(&r, m, &p, NULL, &o, &e), SS_OK);
        assert_int_equal(l.calls, 4);
        assert_int_equal(l.first_done, 0);
        assert_int_equal(l.last_done, 3);
        assert_int_equal(l.last_total, 3);
        ss_optimize_free(r);
    }
    ss_model_free(m);
    {   /* calibration: model runs, total unknown */
        size_t n;
        char *csv = synth_csv(0.0, 1, &n);
        ss_obs_set *o = read_obs(csv, "synthetic.csv");
        ss_model *ml = mk_lever(3.0, 1.0);
        ss_calib_result *c = NULL;
        ss_calib_opts co = SS_CALIB_OPTS_INIT;
        memset(&l, 0, sizeof l);
        l.monotone = 1;
        co.progress.fn = prog_rec;
        co.progress.payload = &l;
        assert_int_equal(ss_calibrate_run(&c, ml, fit_params, 2, o, NULL, &co, &e), SS_OK);
        assert_int_equal(l.calls, c->nevals);
        assert_int_equal(l.last_done, c->nevals);
        assert_int_equal(l.last_total, 0);
        assert_true(l.monotone);
        ss_calibrate_free(c);
        ss_obs_free(o);
        ss_model_free(ml);
        free(csv);
    }
}

/* The text a writer produces (malloc'ed). */
static char *written(ss_an_writer w, const void *payload)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ss_err e = {0};
    assert_non_null(f);
    assert_int_equal(w(f, payload, &e), SS_OK);
    assert_int_equal(fclose(f), 0);
    return text;
}

static int write_tornado(FILE *f, const void *payload, ss_err *err)
{
    return ss_tornado_write_csv(f, payload, err);
}

/* A model of test_model_new named `name`. */
static ss_model *mk_named(const char *name)
{
    ss_model *m = mk(1, 2);
    free(m->name);
    m->name = strdup(name);
    assert_non_null(m->name);
    return m;
}

/* Reads one per-run row: scenario, run, two drawn values, two NPVs. */
static void per_run_row(const char *line, uint64_t *run, double *x)
{
    char name[32];
    unsigned long long r;
    assert_int_equal(sscanf(line, "%31[^,],%llu,%lf,%lf,%lf,%lf", name, &r, &x[0], &x[1], &x[2], &x[3]),
                     6);
    assert_string_equal(name, "one");
    *run = r;
}

/* The Monte Carlo job: per-run rows (the drawn values are the run's, and its
 * NPVs those of the same run done alone), one CSV header for two
 * scenarios, the sidecar settings, its errors and its worker count. */
static void test_mc_job(void **state)
{
    ss_model *m = mk_named("one"), *m2 = mk_named("two");
    ss_analysis *a = ss_analysis_new();
    ss_dist g = { SS_DIST_NORMAL, { 0.05, 0.02, 0, 0 } }, r = { SS_DIST_UNIFORM, { 0.1, 0.3, 0, 0 } };
    ss_mc_job j, two, bad;
    ss_selector each;
    ss_err e = {0};
    char *rows = NULL, *csv, *line, *json, *one_csv;
    size_t len = 0, nrows = 0;
    FILE *f = open_memstream(&rows, &len);
    (void)state;
    assert_non_null(a);
    assert_non_null(f);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.growth", &g, &e), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "providers.p1.reinvest", &r, &e), SS_OK);

    ss_mc_job_init(&j);
    assert_true(j.o.runs == 1000 && j.o.seed == 1);
    j.o.threads = 4;
    assert_int_equal(ss_mc_job_workers(&j), 4);      /* 16 blocks of 64 runs */
    j.o.runs = 130;
    assert_int_equal(ss_mc_job_workers(&j), 3);      /* 3 blocks */
    j.o.threads = 2;
    j.per_run = f;
    assert_int_equal(ss_mc_job_run(&j, m, a, NULL, &e), SS_OK);
    assert_int_equal(fclose(f), 0);
    /* a second scenario cannot share the per-run rows */
    assert_int_equal(ss_mc_job_run(&j, m2, a, NULL, &e), SS_EINVAL);
    assert_int_equal(j.n, 1);

    line = strtok(rows, "\n");
    assert_string_equal(line, "scenario,run,providers.p1.reinvest,segments.s1.growth,npv:p1,npv:p2");
    while ((line = strtok(NULL, "\n"))) {
        uint64_t run;
        double x[4];
        per_run_row(line, &run, x);
        assert_true(run == nrows);
        assert_true(x[0] >= 0.1 && x[0] <= 0.3);
        if (run == 0 || run == 77) { /* the run done alone */
            ss_model *c = ss_model_copy(m);
            ss_result *res = NULL;
            assert_int_equal(ss_model_set_path(c, "providers.p1.reinvest", x[0], &e), SS_OK);
            assert_int_equal(ss_model_set_path(c, "segments.s1.growth", x[1], &e), SS_OK);
            assert_int_equal(ss_sim_run(&res, c, NULL, &e), SS_OK);
            assert_close(SS_RESULT_P(res, res->nt - 1, SS_P_NPV, 0), x[2], 1e-7 * fabs(x[2]));
            assert_close(SS_RESULT_P(res, res->nt - 1, SS_P_NPV, 1), x[3], 1e-7 * fabs(x[3]));
            ss_result_free(res);
            ss_model_free(c);
        }
        nrows++;
    }
    assert_int_equal(nrows, 130);
    one_csv = written(ss_mc_job_write_csv, &j);

    /* two scenarios: one header, then each scenario's rows as alone */
    ss_mc_job_init(&two);
    two.o.runs = 130;
    assert_int_equal(ss_mc_job_run(&two, m, a, NULL, &e), SS_OK);
    assert_int_equal(ss_mc_job_run(&two, m2, a, NULL, &e), SS_OK);
    csv = written(ss_mc_job_write_csv, &two);
    assert_int_equal(strncmp(csv, one_csv, strlen(one_csv)), 0); /* same runs, any thread count */
    assert_null(strstr(csv + strlen(one_csv), "scenario,time"));
    assert_non_null(strstr(csv + strlen(one_csv), "\ntwo,"));
    json = ss_mc_job_json(&two);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"scenarios\""));
    assert_non_null(strstr(json, "\"two\""));
    free(json);
    json = ss_mc_job_json(&j);
    assert_non_null(json);
    assert_null(strstr(json, "\"scenarios\""));
    free(json);

    /* a per-run output must give one value */
    ss_mc_job_init(&bad);
    bad.o.runs = 64;
    bad.per_run = stderr;
    assert_int_equal(ss_selector_parse(&each, "npv:p1@each", &e), SS_OK);
    bad.per_run_sel = &each;
    bad.nper_run = 1;
    assert_int_equal(ss_mc_job_run(&bad, m, a, NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "@each gives a series"));

    ss_mc_job_free(&bad);
    ss_mc_job_free(&two);
    ss_mc_job_free(&j);
    free(csv);
    free(one_csv);
    free(rows);
    ss_analysis_free(a);
    ss_model_free(m);
    ss_model_free(m2);
}

/* The sensitivity job: its defaults, its default outputs, parameters from
 * the +-range rule, and a tornado equal to the core's on the same inputs. */
static void test_sens_job(void **state)
{
    ss_model *m = mk_lever(2.0, 1.5);
    ss_analysis *a = ss_analysis_new();
    const char *vary[] = { "segments.s1.tau" };
    ss_sens_job j = SS_SENS_JOB_INIT;
    ss_tornado_param tp;
    ss_tornado *t = NULL;
    ss_err e = {0};
    char *json, *csv, *ref;
    (void)state;
    assert_non_null(a);
    assert_true(j.range == 0.1 && j.qlow == 0.05 && j.qhigh == 0.95);
    assert_int_equal(j.samples, 256);
    assert_int_equal(j.so.nboot, 200);
    assert_int_equal(j.so.seed, 1);
    assert_int_equal(ss_sens_job_default_outputs(&j, m, &e), SS_OK);
    assert_int_equal(j.nout, 2);
    assert_string_equal(j.outputs[0], "npv:p1");
    assert_string_equal(j.outputs[1], "share:p1:s1");
    j.vary = vary;
    j.nvary = 1;
    assert_int_equal(ss_sens_job_params(&j, a, m, &e), SS_OK);
    assert_int_equal(j.nparams, 1);
    assert_true(j.params[0].from_range);
    assert_close(j.params[0].low, 1.8, 1e-12);
    assert_close(j.params[0].high, 2.2, 1e-12);
    assert_int_equal(ss_sens_job_run(&j, m, NULL, (ss_progress)SS_PROGRESS_NONE, NULL, &e), SS_OK);
    assert_non_null(j.tornado);
    assert_null(j.indices);
    tp.path = vary[0];
    tp.low = 1.8;
    tp.high = 2.2;
    assert_int_equal(ss_tornado_run(&t, m, &tp, 1, j.outputs, j.nout, NULL, NULL, &e), SS_OK);
    csv = written(ss_sens_job_write_csv, &j);
    ref = written(write_tornado, t);
    assert_string_equal(csv, ref);
    assert_true(j.tornado->rows[0].swing > 0);
    assert_false(ss_sens_job_inert(&j, 0));
    json = ss_sens_job_json(&j);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"tornado\""));
    assert_non_null(strstr(json, "\"evaluations\":3"));
    free(json);
    free(csv);
    free(ref);
    ss_tornado_free(t);
    ss_sens_job_free(&j);
    assert_null(j.tornado);
    ss_analysis_free(a);
    ss_model_free(m);
}

/* The sweep job keeps the same points in memory and as streamed rows. */
static void test_sweep_job(void **state)
{
    ss_model *m = mk_lever(2.0, 1.5);
    ss_sweep_axis ax;
    const char *outs[] = { "share:p1:s1@10" };
    ss_sweep_job mem = SS_SWEEP_JOB_INIT, rows = SS_SWEEP_JOB_INIT, lng = SS_SWEEP_JOB_INIT;
    ss_err e = {0};
    char *a, *b, *c;
    (void)state;
    assert_int_equal(ss_sweep_axis_parse(&ax, "segments.s1.tau=1:3:3", &e), SS_OK);
    mem.axes = rows.axes = lng.axes = &ax;
    mem.naxes = rows.naxes = lng.naxes = 1;
    mem.outputs = rows.outputs = outs;
    mem.nout = rows.nout = 1;
    mem.in_memory = 1;
    assert_int_equal(ss_sweep_job_alloc(&mem, &e), SS_OK);
    assert_int_equal(ss_sweep_job_alloc(&rows, &e), SS_OK);
    assert_int_equal(ss_sweep_job_alloc(&lng, &e), SS_OK);
    assert_int_equal(mem.npoints, 3);
    assert_int_equal(ss_sweep_job_run(&mem, m, &e), SS_OK);
    assert_int_equal(ss_sweep_job_run(&rows, m, &e), SS_OK);
    assert_int_equal(ss_sweep_job_run(&lng, m, &e), SS_OK);
    assert_close(mem.x[0], 1.0, 0);
    assert_close(mem.x[2], 3.0, 0);
    /* a faster adjustment (smaller tau) moves p1's share further by t = 10 */
    assert_true(mem.y[0] > mem.y[1] && mem.y[1] > mem.y[2] && mem.y[2] > 0.5);
    a = written(ss_sweep_job_write_csv, &mem);
    b = written(ss_sweep_job_write_csv, &rows);
    c = written(ss_sweep_job_write_csv, &lng);
    assert_string_equal(a, b);
    assert_int_equal(strncmp(a, "segments.s1.tau,share:p1:s1@10\n1,", 33), 0);
    assert_int_equal(strncmp(c, "segments.s1.tau,scenario,time,", 30), 0);
    free(a);
    free(b);
    free(c);
    ss_sweep_job_free(&mem);
    ss_sweep_job_free(&rows);
    ss_sweep_job_free(&lng);
    ss_sweep_axis_free(&ax);
    ss_model_free(m);
}

/* ------------------------------------------------- docs/analysis.md output */

/* First lines of a stream's text (the tornado CSV: the header and the row
 * of rank 1). */
static void print_head(FILE *f, int lines)
{
    char *text = slurp(f), *p = text;
    while (lines-- > 0 && (p = strchr(p, '\n')) != NULL)
        p++;
    fwrite(text, 1, p ? (size_t)(p - text) : strlen(text), stdout);
    free(text);
}

/* A Sobol index as docs/analysis.md's table shows it (a minus sign). */
static void print_index(double v, int digits)
{
    char b[32];
    snprintf(b, sizeof b, "%.*f", digits, v);
    printf(" %s%s |", b[0] == '-' ? "\xe2\x88\x92" : "", b + (b[0] == '-'));
}

/*
 * `test_analysis doc WHAT` prints what docs/analysis.md shows of these
 * synthetic examples, so the page is checked by `make doctest`: "tornado"
 * (the CSV of test_tornado's first rows), "ishigami" (the accuracy table of
 * the Sobol section) and "calibration" (the override file of the exact fit of
 * test_calibrate_exact). Exit status 2 for an unknown WHAT.
 */
static int doc_output(const char *what)
{
    ss_err e = { 0 };
    FILE *f;
    if (strcmp(what, "tornado") == 0) {
        ss_model *m = mk(1, 2);
        ss_tornado *t = NULL;
        const ss_tornado_param params[] = {
            { "segments.s1.tau", 1.0, 3.0 },
            { "providers.p1.opex.s1", 0.0, 0.01 },
            { "providers.p1.fixed_cost", 0.0, 2.0 },
        };
        const char *outputs[] = { "operating_profit:p1@10", "npv:p1" };
        if (ss_tornado_run(&t, m, params, 3, outputs, 2, NULL, NULL, &e) != SS_OK ||
            !(f = tmpfile()) || ss_tornado_write_csv(f, t, &e) != SS_OK)
            return fprintf(stderr, "tornado: %s\n", e.msg), 1;
        print_head(f, 2);
        fclose(f);
        ss_tornado_free(t);
        ss_model_free(m);
        return 0;
    }
    if (strcmp(what, "ishigami") == 0) {
        static const size_t ns[] = { 256, 1024, 2048, ISHIGAMI_N };
        ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
        size_t k, i;
        o.seed = 7;
        printf("| N | S1 | S2 | S3 | ST1 | ST2 | ST3 |\n|---|---|---|---|---|---|---|\n");
        for (k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            ss_sobol *s = NULL;
            int digits = ns[k] >= ISHIGAMI_N ? 4 : 3;
            if (ss_sobol_analyze(&s, 3, 1, ns[k], ishigami, NULL, uniform_pi, NULL, &o, &e) != SS_OK)
                return fprintf(stderr, "ishigami: %s\n", e.msg), 1;
            printf("| %zu |", ns[k]);
            for (i = 0; i < 3; i++)
                print_index(SS_SOBOL_AT(s, S1, i, 0), digits);
            for (i = 0; i < 3; i++)
                print_index(SS_SOBOL_AT(s, ST, i, 0), digits);
            printf("\n");
            ss_sobol_free(s);
        }
        return 0;
    }
    if (strcmp(what, "calibration") == 0) {
        size_t n;
        char *csv = synth_csv(0.0, 1, &n);
        ss_obs_set *o = read_obs(csv, "synthetic.csv");
        ss_model *m = mk_lever(3.0, 1.0);
        ss_calib_result *c = NULL;
        if (ss_calibrate_run(&c, m, fit_params, 2, o, NULL, NULL, &e) != SS_OK ||
            !(f = tmpfile()) || ss_calibrate_write_lua(f, c, &e) != SS_OK)
            return fprintf(stderr, "calibration: %s\n", e.msg), 1;
        print_head(f, 1000);
        fclose(f);
        ss_calibrate_free(c);
        ss_model_free(m);
        ss_obs_free(o);
        free(csv);
        return 0;
    }
    fprintf(stderr, "test_analysis doc: tornado, ishigami or calibration\n");
    return 2;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_parse),
        cmocka_unit_test(test_constraint_parse),
        cmocka_unit_test(test_selector_eval),
        cmocka_unit_test(test_tornado),
        cmocka_unit_test(test_sobol_ishigami),
        cmocka_unit_test(test_sobol_model),
        cmocka_unit_test(test_sobol_engines),
        cmocka_unit_test(test_sobol_threads),
        cmocka_unit_test(test_calibrate_exact),
        cmocka_unit_test(test_calibrate_noise),
        cmocka_unit_test(test_calibrate_coverage),
        cmocka_unit_test(test_obs_reader),
        cmocka_unit_test(test_calibrate_errors),
        cmocka_unit_test(test_optimize_interior_and_bound),
        cmocka_unit_test(test_optimize_constraint),
        cmocka_unit_test(test_optimize_selector),
        cmocka_unit_test(test_optimize_errors),
        cmocka_unit_test(test_progress_reports),
        cmocka_unit_test(test_mc_job),
        cmocka_unit_test(test_sens_job),
        cmocka_unit_test(test_sweep_job),
    };
    ss_global_init();
    if (argc == 3 && strcmp(argv[1], "doc") == 0)
        return doc_output(argv[2]);
    return cmocka_run_group_tests_name("analysis", tests, NULL, NULL);
}
