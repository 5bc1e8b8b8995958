/*
 * test_mc.c - the Monte Carlo engine and its parts: distributions (sample
 * moments against the analytic mean and variance, the quantile function
 * against the empirical CDF, truncated-normal tails, validation and the text
 * form), the t-digest sketch (rank error against exact quantiles, merging,
 * determinism), and ss_mc_run (bit-identical results for 1, 2, 3 and 4
 * threads, also with worker-dependent delays; degenerate distributions; a
 * parameter with a known effect; failing runs; callbacks; interruption; CSV
 * output).
 *
 * Statistical tolerances are stated as multiples of the standard error with
 * fixed seeds, so the tests are deterministic.  `test_mc determinism` runs
 * only the thread-determinism tests (used for the ThreadSanitizer build).
 */
#include "test_util.h"
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "stratsim.h"
#include "test_models.h"
#include "stratsim/dist.h"
#include "stratsim/mc.h"
#include "stratsim/sketch.h"
#include "core/finite.h"
#include "core/sort_doubles.h"

#define NSAMPLE 200000

/* The shared test model (test_models.h), t in [0, 5.0] by 0.5. */
static ss_model *mk(size_t K, size_t N)
{
    return test_model_new(K, N, 5.0);
}

static ss_dist D(ss_dist_kind kind, double a, double b, double c, double d)
{
    ss_dist x;
    x.kind = kind;
    x.p[0] = a;
    x.p[1] = b;
    x.p[2] = c;
    x.p[3] = d;
    return x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------ distributions */

static const struct {
    const char *label;
    ss_dist d;
} cases[] = {
    { "fixed(3)", { SS_DIST_FIXED, { 3, 0, 0, 0 } } },
    { "normal(0.2, 0.03)", { SS_DIST_NORMAL, { 0.2, 0.03, 0, 0 } } },
    { "lognormal(0, 1)", { SS_DIST_LOGNORMAL, { 0, 1, 0, 0 } } },
    { "lognormal(-1, 0.3)", { SS_DIST_LOGNORMAL, { -1, 0.3, 0, 0 } } },
    { "uniform(0.15, 0.3)", { SS_DIST_UNIFORM, { 0.15, 0.3, 0, 0 } } },
    { "triangular(1, 2, 5)", { SS_DIST_TRIANGULAR, { 1, 2, 5, 0 } } },
    { "triangular(0, 0, 1)", { SS_DIST_TRIANGULAR, { 0, 0, 1, 0 } } },
    { "beta(2, 5)", { SS_DIST_BETA, { 2, 5, 0, 1 } } },
    { "beta(0.5, 5, 10, 20)", { SS_DIST_BETA, { 0.5, 5, 10, 20 } } },
    { "truncnormal(0.2, 0.1, 0, 1)", { SS_DIST_TRUNCNORMAL, { 0.2, 0.1, 0, 1 } } },
    { "truncnormal(0, 1, 1.5, inf)", { SS_DIST_TRUNCNORMAL, { 0, 1, 1.5, INFINITY } } },
    { "truncnormal(0, 1, -inf, -2)", { SS_DIST_TRUNCNORMAL, { 0, 1, -INFINITY, -2 } } },
    { "truncnormal(5, 2, 9, 12)", { SS_DIST_TRUNCNORMAL, { 5, 2, 9, 12 } } },
    { "truncnormal(0, 1, 40, 41)", { SS_DIST_TRUNCNORMAL, { 0, 1, 40, 41 } } },
    { "truncnormal(0, 1, -inf, -60)", { SS_DIST_TRUNCNORMAL, { 0, 1, -INFINITY, -60 } } },
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Sample mean and variance within 5 standard errors of the analytic ones. */
static void test_dist_moments(void **state)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *x = malloc(NSAMPLE * sizeof *x);
    size_t c, i;
    (void)state;
    assert_non_null(x);
    gsl_rng_set(rng, 20240601);
    for (c = 0; c < NCASES; c++) {
        const ss_dist *d = &cases[c].d;
        double mean = 0, m2 = 0, m4 = 0, mu = ss_dist_mean(d), var = ss_dist_variance(d);
        double se_mean, se_var, lo = ss_dist_quantile(d, 0), hi = ss_dist_quantile(d, 1);
        assert_int_equal(ss_dist_validate(d, NULL, NULL), SS_OK);
        for (i = 0; i < NSAMPLE; i++) {
            x[i] = ss_dist_sample(d, rng);
            if (!(x[i] >= lo && x[i] <= hi))
                fail_msg("%s: draw %.17g outside the support [%g, %g]", cases[c].label, x[i], lo, hi);
            mean += x[i];
        }
        mean /= NSAMPLE;
        for (i = 0; i < NSAMPLE; i++) {
            double e = x[i] - mean;
            m2 += e * e;
            m4 += e * e * e * e;
        }
        m2 /= NSAMPLE - 1;
        m4 /= NSAMPLE;
        if (d->kind == SS_DIST_FIXED) {
            assert_true(mean == 3.0 && m2 == 0.0 && mu == 3.0 && var == 0.0);
            continue;
        }
        se_mean = sqrt(var / NSAMPLE);
        se_var = sqrt(fmax(m4 - m2 * m2, 0) / NSAMPLE);
        if (fabs(mean - mu) > 5 * se_mean)
            fail_msg("%s: sample mean %.10g, analytic %.10g, SE %.3g", cases[c].label, mean, mu, se_mean);
        if (fabs(m2 - var) > 5 * se_var)
            fail_msg("%s: sample variance %.10g, analytic %.10g, SE %.3g", cases[c].label, m2, var, se_var);
    }
    free(x);
    gsl_rng_free(rng);
}

/* The empirical CDF at F^-1(q) is q within 5 binomial standard errors. */
static void test_dist_quantile(void **state)
{
    static const double qs[] = { 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999 };
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *x = malloc(NSAMPLE * sizeof *x);
    size_t c, i, j;
    (void)state;
    gsl_rng_set(rng, 7);
    for (c = 1; c < NCASES; c++) {
        const ss_dist *d = &cases[c].d;
        double prev = -INFINITY;
        for (i = 0; i < NSAMPLE; i++)
            x[i] = ss_dist_sample(d, rng);
        qsort(x, NSAMPLE, sizeof *x, cmp_double);
        for (j = 0; j < sizeof qs / sizeof qs[0]; j++) {
            double v = ss_dist_quantile(d, qs[j]), F, se = sqrt(qs[j] * (1 - qs[j]) / NSAMPLE);
            size_t lo = 0, hi = NSAMPLE;
            if (!isfinite(v) || v < prev)
                fail_msg("%s: quantile(%g) = %g not finite or not increasing", cases[c].label, qs[j], v);
            prev = v;
            while (lo < hi) { /* count of draws <= v */
                size_t mid = (lo + hi) / 2;
                if (x[mid] <= v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            F = (double)lo / NSAMPLE;
            if (fabs(F - qs[j]) > 5 * se + 1.0 / NSAMPLE)
                fail_msg("%s: empirical CDF at quantile(%g) = %.10g is %.6g (SE %.2g)",
                         cases[c].label, qs[j], v, F, se);
        }
    }
    assert_true(isnan(ss_dist_quantile(&cases[1].d, 1.5)));
    assert_true(ss_dist_quantile(&cases[1].d, 0.0) == -INFINITY);
    assert_true(ss_dist_quantile(&cases[1].d, 1.0) == INFINITY);
    free(x);
    gsl_rng_free(rng);
}

/* Truncated normal far out in the tails and on very narrow intervals. */
static void test_truncnormal_tails(void **state)
{
    ss_dist far = D(SS_DIST_TRUNCNORMAL, 0, 1, 100, 101);     /* 100 sd out */
    ss_dist low = D(SS_DIST_TRUNCNORMAL, 10, 2, -INFINITY, -500);
    ss_dist narrow = D(SS_DIST_TRUNCNORMAL, 0, 1, 2, 2 + 1e-9);
    ss_dist wide = D(SS_DIST_TRUNCNORMAL, 3, 0.5, -INFINITY, INFINITY);
    double q, prev = -INFINITY, a = 100.0;
    (void)state;
    /* one-sided tail beyond a: mean = a + 1/a - 2/a^3 + ..., var = 1/a^2 - 6/a^4 + ... */
    assert_rel(ss_dist_mean(&far), a + 1 / a - 2 / (a * a * a), 1e-9);
    assert_rel(ss_dist_variance(&far), 1 / (a * a) - 6 / (a * a * a * a), 1e-6);
    for (q = 0.0; q <= 1.0; q += 0.0625) {
        double v = ss_dist_quantile(&far, q);
        assert_true(v >= 100 && v <= 101 && v >= prev);
        prev = v;
    }
    /* median of the exponential-like tail: a + ln 2 / a, to O(1/a^3) */
    assert_close(ss_dist_quantile(&far, 0.5), a + log(2) / a, 1e-5);
    assert_true(ss_dist_quantile(&low, 0.5) <= -500 && ss_dist_quantile(&low, 0.5) > -501);
    assert_close(ss_dist_mean(&low), 10 - 2 * (255 + 1 / 255.0), 1e-4);
    /* narrow: nearly uniform on [2, 2 + 1e-9] */
    assert_close(ss_dist_mean(&narrow), 2 + 0.5e-9, 1e-12);
    assert_rel(ss_dist_variance(&narrow), 1e-18 / 12, 1e-3);
    assert_close(ss_dist_quantile(&narrow, 0.5), 2 + 0.5e-9, 1e-11);
    /* untruncated: the normal itself */
    assert_close(ss_dist_mean(&wide), 3, 1e-14);
    assert_close(ss_dist_variance(&wide), 0.25, 1e-14);
    assert_close(ss_dist_quantile(&wide, 0.975), 3 + 0.5 * 1.959963984540054, 1e-9);
}

static void test_dist_text_and_validation(void **state)
{
    ss_dist d;
    ss_err e = { 0 };
    char buf[128];
    double p3[] = { 2, 5, 0 };
    (void)state;
    assert_int_equal(ss_dist_parse(&d, "normal(0.2, 0.03)", NULL, &e), SS_OK);
    assert_int_equal(d.kind, SS_DIST_NORMAL);
    assert_true(d.p[0] == 0.2 && d.p[1] == 0.03);
    ss_dist_format(buf, sizeof buf, &d);
    assert_string_equal(buf, "normal(0.2, 0.03)");
    assert_int_equal(ss_dist_parse(&d, " beta( 2 ,5 ) ", NULL, &e), SS_OK);
    assert_true(d.p[2] == 0 && d.p[3] == 1);
    ss_dist_format(buf, sizeof buf, &d);
    assert_string_equal(buf, "beta(2, 5)");
    assert_int_equal(ss_dist_parse(&d, "beta(0.5,5,10,20)", NULL, &e), SS_OK);
    ss_dist_format(buf, sizeof buf, &d);
    assert_string_equal(buf, "beta(0.5, 5, 10, 20)");
    assert_int_equal(ss_dist_parse(&d, "truncnormal(0.1, 0.05, 0, inf)", NULL, &e), SS_OK);
    assert_true(d.p[3] == INFINITY);
    ss_dist_format(buf, sizeof buf, &d);
    assert_string_equal(buf, "truncnormal(0.1, 0.05, 0, inf)");
    assert_int_equal(ss_dist_format(buf, 4, &d), (int)strlen("truncnormal(0.1, 0.05, 0, inf)"));
    assert_string_equal(buf, "tru");
    assert_int_equal(ss_dist_parse(&d, "triangular(1, 3, 0.2e1)", NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "mode must be <= b"));

    assert_int_equal(ss_dist_parse(&d, "normal(0, -1)", "segments.public.growth", &e), SS_EINVAL);
    assert_string_equal(e.msg, "normal(mean, sd): sd must be > 0 (use fixed(x) for a constant) (got -1)");
    assert_string_equal(e.path, "segments.public.growth");
    assert_int_equal(ss_dist_parse(&d, "uniform(2, 1)", NULL, &e), SS_EINVAL);
    assert_string_equal(e.msg, "uniform(a, b): a must be < b (got 2 and 1)");
    assert_int_equal(ss_dist_parse(&d, "gamma(1, 2)", NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown distribution"));
    assert_int_equal(ss_dist_parse(&d, "normal(1)", NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "normal takes 2 parameters, got 1"));
    assert_int_equal(ss_dist_parse(&d, "normal(1, 2", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_parse(&d, "normal(1, x)", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_parse(&d, "normal(1, 2) z", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_parse(&d, "normal(nan, 2)", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_parse(&d, "normal(inf, 2)", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_make(&d, SS_DIST_BETA, p3, 3, NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "beta takes 2 or 4 parameters, got 3"));
    assert_int_equal(ss_dist_make(&d, SS_DIST_BETA, p3, 2, NULL, &e), SS_OK);
    assert_int_equal(ss_dist_parse(&d, "beta(0, 1)", NULL, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "alpha must be > 0"));
    assert_int_equal(ss_dist_parse(&d, "truncnormal(0, 1, 3, 3)", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_parse(&d, "fixed(-inf)", NULL, &e), SS_EINVAL);
    assert_int_equal(ss_dist_kind_parse("lognormal"), SS_DIST_LOGNORMAL);
    assert_int_equal(ss_dist_kind_parse("Normal"), -1);
    assert_string_equal(ss_dist_kind_name(SS_DIST_TRUNCNORMAL), "truncnormal");
    assert_int_equal(ss_dist_nparams_min(SS_DIST_BETA), 2);
    assert_int_equal(ss_dist_nparams_max(SS_DIST_BETA), 4);
}

/* ------------------------------------------------------------------ sketch */

static const double sketch_q[] = { 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 };
#define NSQ (sizeof sketch_q / sizeof sketch_q[0])
#define SKETCH_N 100000
#define RANK_BOUND 0.005

/* |q - empirical CDF| at the estimate (0 if q lies within the estimate's rank range). */
static double rank_error(const double *sorted, size_t n, double est, double q)
{
    size_t lo = 0, hi = n, below, upto;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sorted[mid] < est)
            lo = mid + 1;
        else
            hi = mid;
    }
    below = lo;
    hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sorted[mid] <= est)
            lo = mid + 1;
        else
            hi = mid;
    }
    upto = lo;
    if (q * n < below)
        return (below - q * n) / n;
    if (q * n > upto)
        return (q * n - upto) / n;
    return 0.0;
}

static double max_rank_error(const ss_sketch *s, const double *sorted, size_t n)
{
    double worst = 0.0, est[NSQ];
    size_t j;
    assert_int_equal(ss_sketch_quantiles(s, sketch_q, NSQ, est), SS_OK);
    for (j = 0; j < NSQ; j++)
        worst = fmax(worst, rank_error(sorted, n, est[j], sketch_q[j]));
    return worst;
}

static void test_sketch_accuracy(void **state)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *x = malloc(SKETCH_N * sizeof *x);
    int which;
    (void)state;
    gsl_rng_set(rng, 99);
    for (which = 0; which < 3; which++) {
        ss_sketch *s, *a, *b;
        size_t i;
        double e1, e2;
        assert_int_equal(ss_sketch_new(&s, 0, NULL), SS_OK);
        assert_int_equal(ss_sketch_new(&a, 0, NULL), SS_OK);
        assert_int_equal(ss_sketch_new(&b, 0, NULL), SS_OK);
        for (i = 0; i < SKETCH_N; i++) {
            x[i] = which == 0 ? gsl_ran_lognormal(rng, 0, 1)
                 : which == 1 ? gsl_ran_exponential(rng, 1)
                 : gsl_ran_beta(rng, 0.5, 5);
            assert_int_equal(ss_sketch_add(s, x[i]), SS_OK);
            assert_int_equal(ss_sketch_add(i < SKETCH_N / 2 ? a : b, x[i]), SS_OK);
        }
        assert_int_equal(ss_sketch_merge(a, b), SS_OK);
        assert_true(ss_sketch_memory(s) < 16 * 1024);
        qsort(x, SKETCH_N, sizeof *x, cmp_double);
        assert_true(ss_sketch_count(s) == SKETCH_N && ss_sketch_count(a) == SKETCH_N);
        assert_true(ss_sketch_min(s) == x[0] && ss_sketch_max(s) == x[SKETCH_N - 1]);
        assert_true(ss_sketch_min(a) == x[0] && ss_sketch_max(a) == x[SKETCH_N - 1]);
        assert_true(ss_sketch_quantile(s, 0) == x[0] && ss_sketch_quantile(s, 1) == x[SKETCH_N - 1]);
        e1 = max_rank_error(s, x, SKETCH_N);
        e2 = max_rank_error(a, x, SKETCH_N);
        print_message("sketch %s: max |rank error| %.2e (single), %.2e (merged 5e4 + 5e4), %zu bytes\n",
                      which == 0 ? "lognormal(0,1)" : which == 1 ? "exponential(1)" : "beta(0.5,5)",
                      e1, e2, ss_sketch_memory(s));
        assert_true(e1 <= RANK_BOUND);
        assert_true(e2 <= RANK_BOUND);
        ss_sketch_free(s);
        ss_sketch_free(a);
        ss_sketch_free(b);
    }
    free(x);
    gsl_rng_free(rng);
}

static void test_sketch_basics(void **state)
{
    ss_sketch *s, *t;
    ss_err e = { 0 };
    double q1, q2;
    int i;
    (void)state;
    assert_int_equal(ss_sketch_new(&s, 5, &e), SS_EINVAL);
    assert_null(s);
    assert_int_equal(ss_sketch_new(&s, 0, &e), SS_OK);
    assert_true(ss_sketch_compression(s) == SS_SKETCH_COMPRESSION);
    assert_true(isnan(ss_sketch_quantile(s, 0.5)) && isnan(ss_sketch_min(s)));
    assert_int_equal(ss_sketch_add(s, NAN), SS_EINVAL);
    assert_int_equal(ss_sketch_add(s, INFINITY), SS_EINVAL);
    assert_true(ss_sketch_count(s) == 0);
    for (i = 0; i < 7; i++)
        assert_int_equal(ss_sketch_add(s, 4.25), SS_OK);
    /* a constant stays exact */
    assert_true(ss_sketch_quantile(s, 0.3) == 4.25 && ss_sketch_quantile(s, 0.999) == 4.25);
    ss_sketch_reset(s);
    for (i = 1; i <= 5; i++)
        ss_sketch_add(s, i);
    assert_true(ss_sketch_quantile(s, 0) == 1 && ss_sketch_quantile(s, 1) == 5);
    assert_true(ss_sketch_quantile(s, 0.5) == 3);
    assert_true(isnan(ss_sketch_quantile(s, -0.1)));
    /* same sequence, same answers, bit for bit; querying does not change the state */
    assert_int_equal(ss_sketch_new(&t, 0, NULL), SS_OK);
    ss_sketch_reset(s);
    for (i = 0; i < 100000; i++) {
        double x = sin(i * 0.7) * 1000 + i % 17;
        ss_sketch_add(s, x);
        ss_sketch_add(t, x);
        if (i % 9973 == 0)
            (void)ss_sketch_quantile(s, 0.3);
    }
    q1 = ss_sketch_quantile(s, 0.37);
    q2 = ss_sketch_quantile(t, 0.37);
    assert_memory_equal(&q1, &q2, sizeof q1);
    ss_sketch_compress(t);
    q2 = ss_sketch_quantile(t, 0.37);
    assert_memory_equal(&q1, &q2, sizeof q1);
    ss_sketch_free(s);
    ss_sketch_free(t);
    ss_sketch_free(NULL);
}

/* Digests of sorted batches (the Monte Carlo's blocks) and their fast merge. */
static void test_sketch_batches(void **state)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    enum { NB = 500, BATCH = 1024, NBATCH = 98 };
    double *x = malloc(BATCH * NBATCH * sizeof *x), *y = malloc(BATCH * sizeof *y);

    ss_sketch_plan *p, *pb;
    ss_sketch *a, *b, *tot;
    ss_err e = { 0 };
    size_t i, k;
    (void)state;
    gsl_rng_set(rng, 7);
    assert_int_equal(ss_sketch_plan_new(&p, 0, 0, &e), SS_EINVAL);
    assert_int_equal(ss_sketch_plan_new(&p, 5, 10, &e), SS_EINVAL);
    /* one batch small enough for the buffer: the same boundaries as adding
     * the values and compressing once, means equal up to rounding */
    assert_int_equal(ss_sketch_plan_new(&p, 0, NB, &e), SS_OK);
    assert_true(ss_sketch_plan_values(p) == NB);
    assert_int_equal(ss_sketch_new(&a, 0, NULL), SS_OK);
    assert_int_equal(ss_sketch_new(&b, 0, NULL), SS_OK);
    for (i = 0; i < NB; i++) {
        x[i] = gsl_ran_lognormal(rng, 0, 1);
        assert_int_equal(ss_sketch_add(a, x[i]), SS_OK);
    }
    ss_sketch_compress(a);
    qsort(x, NB, sizeof *x, cmp_double);
    assert_int_equal(ss_sketch_set_sorted(b, p, x), SS_OK);
    assert_true(ss_sketch_count(b) == NB && ss_sketch_min(b) == x[0] && ss_sketch_max(b) == x[NB - 1]);
    for (k = 0; k <= 1000; k++) {
        double q = k / 1000.0, qa = ss_sketch_quantile(a, q), qb = ss_sketch_quantile(b, q);
        assert_true(fabs(qa - qb) <= 1e-12 * fabs(qa));
    }
    /* from the unsorted values (bucket partition): the same centroids */
    {
        ss_sketch *c;
        double *u = malloc(NB * sizeof *u), *tmp = malloc(NB * sizeof *tmp);
        uint32_t *cnt = malloc(3 * NB * sizeof *cnt);
        int shape;
        assert_int_equal(ss_sketch_new(&c, 0, NULL), SS_OK);
        for (shape = 0; shape < 4; shape++) {
            for (i = 0; i < NB; i++) {
                double g = gsl_rng_uniform(rng);
                y[i] = shape == 0 ? gsl_ran_lognormal(rng, 0, 1)
                     : shape == 1 ? gsl_ran_lognormal(rng, 0, 4)       /* skewed: big buckets */
                     : shape == 2 ? (g < 0.5 ? 3.0 : g < 0.8 ? -0.0 : g) /* ties, signed zeros */
                     : (g < 0.5 ? -1e308 : 1e308);                   /* range overflows */
            }
            memcpy(u, y, NB * sizeof *u);
            assert_int_equal(ss_sketch_set_values(c, p, u, tmp, cnt), SS_OK);
            qsort(y, NB, sizeof *y, cmp_double);
            assert_int_equal(ss_sketch_set_sorted(b, p, y), SS_OK);
            assert_true(ss_sketch_count(c) == NB);
            assert_true(ss_sketch_min(c) == y[0] && ss_sketch_max(c) == y[NB - 1]);
            for (k = 0; k <= 1000; k++) {
                double q = k / 1000.0, qb = ss_sketch_quantile(b, q), qc = ss_sketch_quantile(c, q);
                if (!(fabs(qb - qc) <= 1e-12 * fabs(qb)))
                    fail_msg("shape %d, q %g: %.17g from the sorted values, %.17g from the buckets",
                             shape, q, qb, qc);
            }
        }
        for (i = 0; i < NB; i++)
            u[i] = 2.5;
        assert_int_equal(ss_sketch_set_values(c, p, u, tmp, cnt), SS_OK);
        assert_true(ss_sketch_quantile(c, 0.5) == 2.5 && ss_sketch_min(c) == 2.5);
        ss_sketch_free(c);
        free(u);
        free(tmp);
        free(cnt);
    }
    /* a batch of equal values stays exact; another compression is refused */
    for (i = 0; i < NB; i++)
        y[i] = 0.1;
    assert_int_equal(ss_sketch_set_sorted(b, p, y), SS_OK);
    assert_true(ss_sketch_quantile(b, 0.37) == 0.1 && ss_sketch_quantile(b, 0.999) == 0.1);
    ss_sketch_free(b);
    assert_int_equal(ss_sketch_new(&b, 100, NULL), SS_OK);
    assert_int_equal(ss_sketch_set_sorted(b, p, x), SS_EINVAL);
    ss_sketch_free(a);
    ss_sketch_free(b);
    ss_sketch_plan_free(p);

    /* ~1e5 values in sorted batches of 1024 merged one by one (linear
     * merges): the rank error bound of the value-by-value sketch holds */
    assert_int_equal(ss_sketch_plan_new(&pb, 0, BATCH, &e), SS_OK);
    assert_int_equal(ss_sketch_new(&tot, 0, NULL), SS_OK);
    assert_int_equal(ss_sketch_new(&b, 0, NULL), SS_OK);
    for (k = 0; k < NBATCH; k++) {
        for (i = 0; i < BATCH; i++)
            y[i] = x[k * BATCH + i] = gsl_ran_exponential(rng, 1);
        qsort(y, BATCH, sizeof *y, cmp_double);
        assert_int_equal(ss_sketch_set_sorted(b, pb, y), SS_OK);
        assert_int_equal(ss_sketch_merge(tot, b), SS_OK);
    }
    qsort(x, BATCH * NBATCH, sizeof *x, cmp_double);
    assert_true(ss_sketch_count(tot) == BATCH * NBATCH);
    assert_true(ss_sketch_min(tot) == x[0] && ss_sketch_max(tot) == x[BATCH * NBATCH - 1]);
    assert_true(ss_sketch_memory(tot) < 16 * 1024);
    {
        double err = max_rank_error(tot, x, BATCH * NBATCH);
        print_message("sketch of %d sorted batches of %d: max |rank error| %.2e\n", NBATCH, BATCH, err);
        assert_true(err <= RANK_BOUND);
    }
    ss_sketch_free(tot);
    ss_sketch_free(b);
    ss_sketch_plan_free(pb);
    free(x);
    free(y);
    gsl_rng_free(rng);
}

/* ss_sort_doubles against qsort, and the bucket partition's order, on the
 * shapes model outputs take, and worse. */
static void test_sort_doubles(void **state)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 100, 1000, 4096 };
    enum { NMAX = 4096, KINDS = 12 };
    double *x = malloc(NMAX * sizeof *x), *ref = malloc(NMAX * sizeof *ref);
    double *out = malloc(NMAX * sizeof *out);
    uint32_t *cnt = malloc(3 * NMAX * sizeof *cnt);
    size_t si, i;
    int kind;
    (void)state;
    gsl_rng_set(rng, 11);
    for (kind = 0; kind < KINDS; kind++)
        for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t n = sizes[si];
            ss_buckets bk;
            int r;
            for (i = 0; i < n; i++) {
                double u = gsl_rng_uniform(rng);
                switch (kind) {
                case 0: x[i] = u; break;
                case 1: x[i] = gsl_ran_gaussian(rng, 3.0) + 100; break;
                case 2: x[i] = gsl_ran_lognormal(rng, 0, 3); break;   /* most in a few buckets */
                case 3: x[i] = 4.25; break;                           /* constant */
                case 4: x[i] = u < 0.5 ? -1.0 : 2.0; break;            /* two values */
                case 5: x[i] = u < 0.9 ? 7.0 : u; break;               /* a heavy cluster */
                case 6: x[i] = (double)i; break;                       /* sorted */
                case 7: x[i] = (double)(n - i); break;                 /* reversed */
                case 8: x[i] = u < 0.3 ? -0.0 : u < 0.6 ? 0.0 : u - 0.8; break; /* signed zeros */
                case 9: x[i] = u < 0.5 ? -1e308 : 1e308 * u; break;    /* range overflows */
                case 10: x[i] = nextafter(1.0, 2.0 + (double)(i % 3)); break; /* ulps apart */
                default: x[i] = u < 0.01 ? 1e12 : u; break;            /* one far outlier */
                }
            }
            memcpy(ref, x, n * sizeof *x);
            qsort(ref, n, sizeof *ref, cmp_double);
            /* the partition: a permutation of x, each value in its bucket,
             * every value of a bucket <= every value of the next one */
            r = ss_bucket_partition(&bk, x, n, out, cnt);
            if (n > 0) {
                assert_true(bk.mn == ref[0] && bk.mx == ref[n - 1]);
                double range = ref[n - 1] - ref[0];
                assert_int_equal(r, range == 0 ? 0
                                 : !isfinite(range) || !isfinite(2.0 * (double)n / range) ? -1 : 1);
            }
            if (r == 1) {
                size_t b = 0;
                double hi = -INFINITY; /* largest value of the buckets before b */
                assert_true(bk.m == 2 * n && bk.end[bk.m - 1] == n);
                for (i = 0; i < n; i++) {
                    while (i >= bk.end[b]) {
                        size_t k;
                        for (k = b ? bk.end[b - 1] : 0; k < bk.end[b]; k++)
                            hi = fmax(hi, out[k]);
                        b++;
                    }
                    assert_true(ss_bucket_of(&bk, out[i]) == b);
                    assert_true(hi <= out[i]);
                }
                qsort(out, n, sizeof *out, cmp_double);
                for (i = 0; i < n; i++)
                    assert_true(out[i] == ref[i]);
            }
            ss_sort_doubles(x, n);
            for (i = 0; i < n; i++)
                if (!(x[i] == ref[i]))
                    fail_msg("kind %d, n %zu: x[%zu] = %.17g, want %.17g", kind, n, i, x[i], ref[i]);
        }
    free(x);
    free(ref);
    free(out);
    free(cnt);
    gsl_rng_free(rng);
}

/* ss_all_finite: every length up to 40 (the vector loop and its tail), an
 * infinity or a NaN at every position, and finite extremes that are not. */
static void test_all_finite(void **state)
{
    enum { NMAX = 40 };
    static const double special[3] = { INFINITY, -INFINITY, NAN };
    double x[NMAX];
    size_t n, i, q;
    (void)state;
    for (n = 0; n <= NMAX; n++) {
        for (i = 0; i < n; i++) /* zeros of both signs, the largest, the smallest subnormal */
            x[i] = i % 4 == 0 ? -0.0 : i % 4 == 1 ? DBL_MAX : i % 4 == 2 ? -4.9e-324 : (double)i;
        assert_true(ss_all_finite(x, n));
        for (i = 0; i < n; i++)
            for (q = 0; q < 3; q++) {
                double keep = x[i];
                x[i] = special[q];
                if (ss_all_finite(x, n))
                    fail_msg("n %zu: %g at %zu not seen", n, special[q], i);
                x[i] = keep;
            }
    }
}

/* Runs per block: a function of the values per run only. */
static void test_mc_block_runs(void **state)
{
    (void)state;
    assert_true(ss_mc_block_runs(1) == SS_MC_BLOCK);
    assert_true(ss_mc_block_runs(3060) == 1024); /* the flagship: 3,060 values per run */
    assert_true(ss_mc_block_runs(4096) == 1024); /* 4096 * 1024 * 8 = 32 MiB */
    assert_true(ss_mc_block_runs(4097) == 512);
    assert_true(ss_mc_block_runs(10000) == 256);
    assert_true(ss_mc_block_runs((size_t)1 << 30) == SS_MC_BLOCK_MIN);
}

/* --------------------------------------------------------------- the engine */

static const ss_mc_param mc_params[] = {
    { "segments.s1.growth", { SS_DIST_NORMAL, { 0.05, 0.02, 0, 0 } } },
    { "providers.p1.reinvest", { SS_DIST_UNIFORM, { 0.1, 0.3, 0, 0 } } },
};
static const ss_mc_outage mc_outages[] = {
    { "p1", 0.8, { SS_DIST_UNIFORM, { 0.02, 0.1, 0, 0 } } },
    { "p3", 0.3, { SS_DIST_BETA, { 2, 8, 0, 1 } } },
};

static ss_mc_result *mc_ok(const ss_model *m, const ss_mc_param *p, size_t np,
                           const ss_mc_outage *o, size_t no, const ss_mc_opts *opts)
{
    ss_mc_result *r = NULL;
    ss_err e = { 0 };
    int rc = ss_mc_run(&r, m, p, np, o, no, opts, &e);
    if (rc)
        fail_msg("ss_mc_run failed (%d): %s [%s]", rc, e.msg, e.path);
    assert_non_null(r);
    return r;
}

static void same_result(const ss_result *a, const ss_result *b)
{
    assert_int_equal(a->nt, b->nt);
    assert_memory_equal(a->t, b->t, a->nt * sizeof *a->t);
    assert_memory_equal(a->ps, b->ps, a->nt * SS_NPS * a->np * a->nk * sizeof *a->ps);
    assert_memory_equal(a->p, b->p, a->nt * SS_NP * a->np * sizeof *a->p);
    assert_memory_equal(a->s, b->s, a->nt * SS_NS * a->nk * sizeof *a->s);
    assert_int_equal(a->nextra, b->nextra);
    if (a->nextra)
        assert_memory_equal(a->extra, b->extra, a->nt * a->nextra * sizeof *a->extra);
}

static void same_mc(const ss_mc_result *a, const ss_mc_result *b)
{
    size_t j;
    assert_true(ss_mc_result_runs(a) == ss_mc_result_runs(b));
    same_result(ss_mc_result_mean(a), ss_mc_result_mean(b));
    same_result(ss_mc_result_sd(a), ss_mc_result_sd(b));
    same_result(ss_mc_result_min(a), ss_mc_result_min(b));
    same_result(ss_mc_result_max(a), ss_mc_result_max(b));
    assert_int_equal(ss_mc_result_nquantiles(a), ss_mc_result_nquantiles(b));
    for (j = 0; j < ss_mc_result_nquantiles(a); j++)
        same_result(ss_mc_result_quantile(a, j), ss_mc_result_quantile(b, j));
}

typedef struct order_check {
    uint64_t next;
    double sum_final_rel;  /* sum of p1's final reliability, in run order */
} order_check;

static int on_run_order(uint64_t run, const ss_result *r, void *payload, ss_err *err)
{
    order_check *oc = payload;
    (void)err;
    if (run != oc->next)
        fail_msg("on_run called for run %llu, expected %llu", (unsigned long long)run,
                 (unsigned long long)oc->next);
    oc->next++;
    oc->sum_final_rel += SS_RESULT_P(r, r->nt - 1, SS_P_RELIABILITY, 0);
    return 0;
}

/* The prepare hook draws from the run's stream: still thread-independent. */
static int prepare_lever(unsigned worker, uint64_t run, ss_model *m, gsl_rng *rng,
                         ss_run_opts *ro, void *payload, ss_err *err)
{
    (void)worker;
    (void)run;
    (void)ro;
    (void)payload;
    (void)err;
    ss_schedule_set_const(&m->prov[1].lever[0], 1.0 + 0.2 * gsl_rng_uniform(rng));
    return 0;
}

/* The same, plus a sleep that varies with the worker: completion order changes. */
static int prepare_jitter(unsigned worker, uint64_t run, ss_model *m, gsl_rng *rng,
                          ss_run_opts *ro, void *payload, ss_err *err)
{
    struct timespec ts = { 0, (long)((run * 7919u + worker * 104729u) % 400u) * 1000L };
    nanosleep(&ts, NULL);
    return prepare_lever(worker, run, m, rng, ro, payload, err);
}

static void test_mc_determinism(void **state)
{
    ss_model *m = mk(2, 3);
    ss_mc_result *r[4];
    unsigned threads[4] = { 1, 2, 4, 3 };
    order_check oc[4];
    int i;
    (void)state;
    for (i = 0; i < 4; i++) {
        ss_mc_opts o = SS_MC_OPTS_INIT;
        o.runs = 1000;
        o.seed = 42;
        o.threads = threads[i];
        o.on_run = on_run_order;
        o.prepare = i == 3 ? prepare_jitter : prepare_lever;
        memset(&oc[i], 0, sizeof oc[i]);
        o.payload = &oc[i];
        r[i] = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
        assert_true(oc[i].next == 1000);
    }
    same_mc(r[0], r[1]);
    same_mc(r[0], r[2]);
    same_mc(r[0], r[3]);
    for (i = 1; i < 4; i++)
        assert_memory_equal(&oc[0].sum_final_rel, &oc[i].sum_final_rel, sizeof(double));
    {
        /* the draws do something: outages lower p1's mean reliability, spread is positive */
        const ss_result *mean = ss_mc_result_mean(r[0]), *sd = ss_mc_result_sd(r[0]);
        size_t last = mean->nt - 1;
        assert_true(SS_RESULT_P(mean, last, SS_P_RELIABILITY, 0) < 1.0);
        assert_true(SS_RESULT_P(sd, last, SS_P_RELIABILITY, 0) > 0.0);
        assert_true(SS_RESULT_S(sd, last, SS_S_SIZE, 0) > 0.0);
        assert_true(SS_RESULT_S(sd, last, SS_S_SIZE, 1) == 0.0); /* s2 is not uncertain */
        assert_true(SS_RESULT_P(ss_mc_result_min(r[0]), last, SS_P_RELIABILITY, 0) <
                    SS_RESULT_P(ss_mc_result_quantile(r[0], 0), last, SS_P_RELIABILITY, 0));
    }
    {
        /* another seed gives other numbers */
        ss_mc_opts o = SS_MC_OPTS_INIT;
        ss_mc_result *x;
        o.runs = 1000;
        o.seed = 43;
        o.threads = 2;
        x = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
        assert_true(SS_RESULT_S(ss_mc_result_mean(x), 4, SS_S_SIZE, 0) !=
                    SS_RESULT_S(ss_mc_result_mean(r[0]), 4, SS_S_SIZE, 0));
        ss_mc_result_free(x);
    }
    for (i = 0; i < 4; i++)
        ss_mc_result_free(r[i]);
    ss_model_free(m);
}

/* Every run's values, kept by on_run: the Monte Carlo's statistics must be
 * those of these values, whatever path they took through the block buffers. */
typedef struct all_runs {
    size_t nv, n;
    double *v;   /* [runs][nv] p and s arrays of each run */
} all_runs;

static int keep_run(uint64_t run, const ss_result *r, void *payload, ss_err *err)
{
    all_runs *a = payload;
    size_t np = r->nt * SS_NP * r->np, ns = r->nt * SS_NS * r->nk;
    (void)err;
    assert_true(run == a->n && np + ns == a->nv);
    memcpy(a->v + a->n * a->nv, r->p, np * sizeof *r->p);
    memcpy(a->v + a->n * a->nv + np, r->s, ns * sizeof *r->s);
    a->n++;
    return 0;
}

/* 1,030 runs: a full block of 1,024 (whole cache lines streamed) and one of 6
 * (a partial line); mean, sd, min, max and the median against the runs. */
static void test_mc_moments_match_runs(void **state)
{
    ss_model *m = mk(2, 3);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r;
    all_runs a = { 0, 0, NULL };
    const ss_result *mean, *sd, *mn, *mx, *med;
    double *col;
    size_t j, i, np, R = 1030;
    (void)state;
    {
        ss_result *one = NULL;
        assert_int_equal(ss_sim_run(&one, m, NULL, NULL), SS_OK);
        a.nv = one->nt * SS_NP * one->np + one->nt * SS_NS * one->nk;
        ss_result_free(one);
    }
    a.v = malloc(R * a.nv * sizeof *a.v);
    col = malloc(R * sizeof *col);
    o.runs = R;
    o.seed = 77;
    o.threads = 2;
    o.on_run = keep_run;
    o.payload = &a;
    r = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
    assert_true(a.n == R);
    mean = ss_mc_result_mean(r);
    sd = ss_mc_result_sd(r);
    mn = ss_mc_result_min(r);
    mx = ss_mc_result_max(r);
    med = ss_mc_result_quantile(r, 1); /* 0.5 */
    np = mean->nt * SS_NP * mean->np;
    for (j = 0; j < a.nv; j++) {
        double s1 = 0.0, s2 = 0.0, mu, var, got_mean, got_sd, got_min, got_max, got_med, lo, hi;
        for (i = 0; i < R; i++) {
            col[i] = a.v[i * a.nv + j];
            s1 += col[i];
        }
        mu = s1 / (double)R;
        for (i = 0; i < R; i++)
            s2 += (col[i] - mu) * (col[i] - mu);
        var = s2 / (double)(R - 1);
        qsort(col, R, sizeof *col, cmp_double);
        got_mean = j < np ? mean->p[j] : mean->s[j - np];
        got_sd = j < np ? sd->p[j] : sd->s[j - np];
        got_min = j < np ? mn->p[j] : mn->s[j - np];
        got_max = j < np ? mx->p[j] : mx->s[j - np];
        got_med = j < np ? med->p[j] : med->s[j - np];
        assert_true(fabs(got_mean - mu) <= 1e-12 * fmax(1.0, fabs(mu)));
        assert_true(fabs(got_sd - sqrt(var)) <= 1e-9 * fmax(1e-3, sqrt(var)));
        assert_true(got_min == col[0] && got_max == col[R - 1]);
        /* the median estimate lies between the 48th and 52nd percentiles */
        lo = col[(size_t)(0.48 * (double)R)];
        hi = col[(size_t)(0.52 * (double)R)];
        assert_true(got_med >= lo && got_med <= hi);
    }
    free(col);
    free(a.v);
    ss_mc_result_free(r);
    ss_model_free(m);
}

/* Zero-variance draws: the Monte Carlo mean is the deterministic run, sd 0
 * (the scalar engine: bit for bit; the batched one: every run bit-identical
 * to every other, so sd 0 exactly, and within rounding of the run alone). */
static void test_mc_fixed_equals_run(void **state)
{
    ss_model *m = mk(2, 3), *d;
    ss_mc_param p[2] = {
        { "segments.s1.size", { SS_DIST_FIXED, { 150, 0, 0, 0 } } },
        { "providers.p2.reinvest", { SS_DIST_FIXED, { 0.35, 0, 0, 0 } } },
    };
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r;
    ss_result *det = NULL;
    const ss_result *mean, *sd, *q0;
    size_t n;
    (void)state;
    o.runs = 300; /* two blocks, the second partial */
    o.threads = 2;
    r = mc_ok(m, p, 2, NULL, 0, &o);
    assert_string_equal(ss_mc_result_engine(r), "batched");
    sd = ss_mc_result_sd(r);
    n = sd->nt * SS_NPS * sd->np * sd->nk;
    while (n--)
        assert_true(sd->ps[n] == 0.0);
    {
        const ss_result *mb = ss_mc_result_mean(r), *qb = ss_mc_result_quantile(r, 1);
        ss_result *alone = NULL;
        d = ss_model_copy(m);
        assert_int_equal(ss_model_set_path(d, "segments.s1.size", 150, NULL), SS_OK);
        assert_int_equal(ss_model_set_path(d, "providers.p2.reinvest", 0.35, NULL), SS_OK);
        assert_int_equal(ss_sim_run(&alone, d, NULL, NULL), SS_OK);
        n = alone->nt * SS_NPS * alone->np * alone->nk;
        while (n--) {
            double x = alone->ps[n];
            assert_true(fabs(mb->ps[n] - x) <= 1e-9 * fmax(1.0, fabs(x)));
            assert_true(qb->ps[n] == mb->ps[n]);
        }
        n = alone->nt * SS_NP * alone->np;
        while (n--)
            assert_true(fabs(mb->p[n] - alone->p[n]) <= 1e-9 * fmax(1.0, fabs(alone->p[n])));
        ss_result_free(alone);
        ss_model_free(d);
    }
    ss_mc_result_free(r);
    o.engine = SS_MC_ENGINE_SCALAR;
    r = mc_ok(m, p, 2, NULL, 0, &o);
    assert_string_equal(ss_mc_result_engine(r), "scalar");
    d = ss_model_copy(m);
    assert_int_equal(ss_model_set_path(d, "segments.s1.size", 150, NULL), SS_OK);
    assert_int_equal(ss_model_set_path(d, "providers.p2.reinvest", 0.35, NULL), SS_OK);
    assert_int_equal(ss_sim_run(&det, d, NULL, NULL), SS_OK);
    mean = ss_mc_result_mean(r);
    sd = ss_mc_result_sd(r);
    q0 = ss_mc_result_quantile(r, 1);
    same_result(mean, det);
    same_result(q0, det);
    same_result(ss_mc_result_min(r), det);
    n = det->nt * SS_NPS * det->np * det->nk;
    while (n--)
        assert_true(sd->ps[n] == 0.0);
    assert_true(ss_mc_result_runs(r) == 300 && ss_mc_result_seed(r) == 0);
    ss_result_free(det);
    ss_model_free(d);
    ss_mc_result_free(r);
    ss_model_free(m);
}

/* auto picks the scalar engine for runs of more than SS_BATCH_MAX_VALUES
 * values (64 providers x 32 segments, 13 output times: 138,944), the
 * batched one just below (11 output times: 117,568). */
static void test_mc_engine_by_size(void **state)
{
    ss_model *big = test_model_new(32, 64, 6.0), *below = test_model_new(32, 64, 5.0);
    ss_mc_param p[1] = { { "segments.s1.size", { SS_DIST_NORMAL, { 100, 10, 0, 0 } } } };
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r;
    (void)state;
    o.runs = 2;
    r = mc_ok(big, p, 1, NULL, 0, &o);
    assert_string_equal(ss_mc_result_engine(r), "scalar");
    ss_mc_result_free(r);
    r = mc_ok(below, p, 1, NULL, 0, &o);
    assert_string_equal(ss_mc_result_engine(r), "batched");
    ss_mc_result_free(r);
    ss_model_free(big);
    ss_model_free(below);
}

/* size ~ normal(100, 10), growth 0: size at every time has mean 100 and sd 10. */
static void test_mc_known_effect(void **state)
{
    ss_model *m = mk(1, 2);
    ss_mc_param p[1] = { { "segments.s1.size", { SS_DIST_NORMAL, { 100, 10, 0, 0 } } } };
    double qs[] = { 0.05, 0.5, 0.95, 0.99, 0.025 };
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r;
    const uint64_t n = 5000;
    size_t ti;
    (void)state;
    o.runs = n;
    o.seed = 2023;
    o.threads = 2;
    o.quantiles = qs;
    o.nquantiles = 5;
    r = mc_ok(m, p, 1, NULL, 0, &o);
    for (ti = 0; ti < ss_mc_result_mean(r)->nt; ti++) {
        double mean = SS_RESULT_S(ss_mc_result_mean(r), ti, SS_S_SIZE, 0);
        double sd = SS_RESULT_S(ss_mc_result_sd(r), ti, SS_S_SIZE, 0);
        double p05 = SS_RESULT_S(ss_mc_result_quantile(r, 0), ti, SS_S_SIZE, 0);
        double p50 = SS_RESULT_S(ss_mc_result_quantile(r, 1), ti, SS_S_SIZE, 0);
        double p95 = SS_RESULT_S(ss_mc_result_quantile(r, 2), ti, SS_S_SIZE, 0);
        double se_q = 10 * 2.1 / sqrt((double)n); /* SE of the 5% quantile: sqrt(q(1-q)/n)/f(x_q) */
        assert_close(mean, 100, 5 * 10 / sqrt((double)n));
        assert_rel(sd, 10.0, 0.05);
        assert_close(p05, 100 - 16.448536, 5 * se_q);
        assert_close(p50, 100, 5 * 1.2533 * 10 / sqrt((double)n));
        assert_close(p95, 100 + 16.448536, 5 * se_q);
        /* shares are unaffected by the size of a one-segment market */
        assert_close(SS_RESULT_PS(ss_mc_result_mean(r), ti, SS_PS_SHARE, 0, 0), 0.5, 1e-9);
    }
    assert_rel(ss_mc_result_quantile_level(r, 4), 0.025, 0);
    ss_mc_result_free(r);
    ss_model_free(m);
}

/* A draw outside the legal range fails the Monte Carlo, naming the lowest run. */
static void test_mc_failing_run(void **state)
{
    ss_model *m = mk(2, 2);
    ss_mc_param p[1] = { { "providers.p1.reliability", { SS_DIST_NORMAL, { 0.9, 0.05, 0, 0 } } } };
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r = NULL;
    ss_err e1 = { 0 }, e2 = { 0 };
    (void)state;
    o.runs = 2000;
    o.threads = 1;
    assert_int_equal(ss_mc_run(&r, m, p, 1, NULL, 0, &o, &e1), SS_EINVAL);
    assert_null(r);
    assert_non_null(strstr(e1.msg, "run "));
    assert_non_null(strstr(e1.path, "reliability"));
    o.threads = 3;
    assert_int_equal(ss_mc_run(&r, m, p, 1, NULL, 0, &o, &e2), SS_EINVAL);
    assert_string_equal(e1.msg, e2.msg);
    assert_string_equal(e1.path, e2.path);
    ss_model_free(m);
}

static void test_mc_validation(void **state)
{
    ss_model *m = mk(2, 2);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r = NULL;
    ss_err e = { 0 };
    ss_mc_param bad_path[1] = { { "segments.nope.size", { SS_DIST_NORMAL, { 1, 1, 0, 0 } } } };
    ss_mc_param time_path[1] = { { "time.stop", { SS_DIST_UNIFORM, { 4, 5, 0, 0 } } } };
    ss_mc_param bad_dist[1] = { { "segments.s1.size", { SS_DIST_UNIFORM, { 5, 4, 0, 0 } } } };
    ss_mc_param twice[2] = { { "segments.s1.size", { SS_DIST_FIXED, { 5, 0, 0, 0 } } },
                             { "segments.s1.size", { SS_DIST_FIXED, { 6, 0, 0, 0 } } } };
    ss_mc_outage bad_prov[1] = { { "nobody", 1, { SS_DIST_FIXED, { 0.1, 0, 0, 0 } } } };
    ss_mc_outage bad_rate[1] = { { "p1", -1, { SS_DIST_FIXED, { 0.1, 0, 0, 0 } } } };
    ss_mc_outage huge_rate[1] = { { "p1", 1e9, { SS_DIST_FIXED, { 0.1, 0, 0, 0 } } } };
    double dupq[2] = { 0.05, 0.0500000000001 }, badq[1] = { 1.5 };
    (void)state;
    o.runs = 10;
    assert_int_equal(ss_mc_run(&r, m, bad_path, 1, NULL, 0, &o, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown segment 'nope'"));
    assert_int_equal(ss_mc_run(&r, m, time_path, 1, NULL, 0, &o, &e), SS_EINVAL);
    assert_int_equal(ss_mc_run(&r, m, bad_dist, 1, NULL, 0, &o, &e), SS_EINVAL);
    assert_string_equal(e.path, "segments.s1.size");
    assert_non_null(strstr(e.msg, "a must be < b"));
    assert_int_equal(ss_mc_run(&r, m, twice, 2, NULL, 0, &o, &e), SS_EINVAL);
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, bad_prov, 1, &o, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "unknown provider 'nobody'"));
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, bad_rate, 1, &o, &e), SS_EINVAL);
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, huge_rate, 1, &o, &e), SS_EINVAL);
    o.quantiles = dupq;
    o.nquantiles = 2;
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, NULL, 0, &o, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "p05"));
    o.quantiles = badq;
    o.nquantiles = 1;
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, NULL, 0, &o, &e), SS_EINVAL);
    o.quantiles = NULL;
    o.runs = 0;
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, NULL, 0, &o, &e), SS_EINVAL);
    o.runs = 1; /* one run: sd is 0, quantiles are the value */
    r = mc_ok(m, NULL, 0, NULL, 0, &o);
    assert_true(SS_RESULT_S(ss_mc_result_sd(r), 3, SS_S_SIZE, 1) == 0.0);
    assert_true(SS_RESULT_S(ss_mc_result_quantile(r, 2), 3, SS_S_SIZE, 1) ==
                SS_RESULT_S(ss_mc_result_mean(r), 3, SS_S_SIZE, 1));
    ss_mc_result_free(r);
    m->seg[0].size = -1; /* the scenario itself is invalid */
    o.runs = 10;
    r = NULL;
    assert_int_equal(ss_mc_run(&r, m, NULL, 0, NULL, 0, &o, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "without uncertainty"));
    assert_null(r);
    ss_model_free(m);
}

typedef struct stopper {
    volatile int *flag;
    uint64_t calls, last_done;
} stopper;

static void progress_stop(uint64_t done, uint64_t total, void *payload)
{
    stopper *s = payload;
    (void)total;
    s->calls++;
    s->last_done = done;
    __atomic_store_n(s->flag, 1, __ATOMIC_RELAXED);
}

static void test_mc_interrupt(void **state)
{
    ss_model *m = mk(2, 3);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r = NULL;
    ss_err e = { 0 };
    volatile int flag = 1;
    stopper st = { &flag, 0, 0 };
    (void)state;
    o.runs = 100000;
    o.threads = 2;
    o.interrupt = &flag;
    assert_int_equal(ss_mc_run(&r, m, mc_params, 2, mc_outages, 2, &o, &e), SS_EINTR);
    assert_null(r);
    flag = 0;
    o.progress = progress_stop; /* interrupt after the first merged block */
    o.payload = &st;
    assert_int_equal(ss_mc_run(&r, m, mc_params, 2, mc_outages, 2, &o, &e), SS_EINTR);
    assert_null(r);
    {
        /* the small test model has few values per run: full blocks */
        char want[64];
        assert_true(ss_mc_block_runs(1000) == SS_MC_BLOCK);
        assert_true(st.calls == 1 && st.last_done == SS_MC_BLOCK);
        snprintf(want, sizeof want, "interrupted after %d of 100000 runs", SS_MC_BLOCK);
        assert_non_null(strstr(e.msg, want));
    }
    ss_model_free(m);
}

/* Derived metric through the run-option template: twice p1's share in s1. */
static int out_double_share(ss_run *run, double t, double *out, void *payload, ss_err *err)
{
    (void)t;
    (void)payload;
    (void)err;
    out[0] = 2.0 * ss_run_ps(run, SS_PS_SHARE, 0, 0);
    return 0;
}

/* A derived metric that is NaN once p1's reinvestment is high. */
static int out_nan_if_high(ss_run *run, double t, double *out, void *payload, ss_err *err)
{
    (void)t;
    (void)payload;
    (void)err;
    out[0] = ss_schedule_eval(&ss_run_model(run)->prov[0].reinvest, 0) > 0.29 ? NAN : 1.0;
    return 0;
}

static void test_mc_run_opts(void **state)
{
    static const char *const names[1] = { "double_share" };
    ss_model *m = mk(2, 3);
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r, *r2 = NULL;
    const ss_result *mean;
    ss_err e = { 0 };
    size_t ti;
    (void)state;
    ro.on_output = out_double_share;
    ro.nextra = 1;
    ro.extra_names = names;
    o.runs = 600;
    o.threads = 2;
    o.run_opts = &ro;
    r = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
    mean = ss_mc_result_mean(r);
    assert_int_equal(mean->nextra, 1);
    assert_string_equal(mean->extra_names[0], "double_share");
    for (ti = 0; ti < mean->nt; ti++) {
        /* scaling by 2 is exact, so the statistics scale exactly too */
        assert_true(mean->extra[ti] == 2.0 * SS_RESULT_PS(mean, ti, SS_PS_SHARE, 0, 0));
        assert_true(ss_mc_result_sd(r)->extra[ti] ==
                    2.0 * SS_RESULT_PS(ss_mc_result_sd(r), ti, SS_PS_SHARE, 0, 0));
    }
    ro.on_output = out_nan_if_high;
    assert_int_equal(ss_mc_run(&r2, m, mc_params, 2, mc_outages, 2, &o, &e), SS_ENUMERIC);
    assert_null(r2);
    assert_non_null(strstr(e.msg, "derived metric 'double_share' is not finite"));
    assert_true(strncmp(e.msg, "run ", 4) == 0);
    ss_mc_result_free(r);
    ss_model_free(m);
}

static void test_mc_csv(void **state)
{
    ss_model *m = mk(2, 2);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r;
    FILE *f = tmpfile();
    char line[512], name[32];
    size_t rows = 0, nt;
    (void)state;
    assert_non_null(f);
    o.runs = 50;
    r = mc_ok(m, mc_params, 2, mc_outages, 1, &o);
    nt = ss_mc_result_mean(r)->nt;
    assert_int_equal(ss_mc_write_csv(f, r, NULL), SS_OK);
    rewind(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "scenario,time,provider,segment,metric,mean,sd,p05,p50,p95\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "scenario,0,p1,s1,share,0.5,0,0.5,0.5,0.5\n");
    rows = 2;
    while (fgets(line, sizeof line, f))
        rows++;
    assert_int_equal(rows, 1 + nt * (SS_NPS * 2 * 2 + SS_NP * 2 + SS_NS * 2));
    fclose(f);
    ss_mc_quantile_name(name, sizeof name, 0.05);
    assert_string_equal(name, "p05");
    ss_mc_quantile_name(name, sizeof name, 0.5);
    assert_string_equal(name, "p50");
    ss_mc_quantile_name(name, sizeof name, 0.99);
    assert_string_equal(name, "p99");
    ss_mc_quantile_name(name, sizeof name, 0.025);
    assert_string_equal(name, "p2.5");
    ss_mc_quantile_name(name, sizeof name, 0.07);
    assert_string_equal(name, "p07");
    ss_mc_quantile_name(name, sizeof name, 1.0);
    assert_string_equal(name, "p100");
    f = fopen("/dev/full", "w");
    if (f) {
        ss_err e = { 0 };
        assert_int_equal(ss_mc_write_csv(f, r, &e), SS_EIO);
        fclose(f);
    }
    ss_mc_result_free(r);
    ss_model_free(m);
}

/* Every value of a and b at the flat positions where kept is 1: the same bits;
 * elsewhere a (the selection) is NaN. */
static void same_where_kept(const ss_result *a, const ss_result *b, const ss_result *kept,
                            size_t *nkept)
{
    const double *pa[4] = { a->ps, a->p, a->s, a->extra }, *pb[4] = { b->ps, b->p, b->s, b->extra };
    const double *pk[4] = { kept->ps, kept->p, kept->s, kept->extra };
    size_t n[4] = { a->nt * SS_NPS * a->np * a->nk, a->nt * SS_NP * a->np, a->nt * SS_NS * a->nk,
                    a->nt * a->nextra }, j;
    int x;
    for (x = 0; x < 4; x++)
        for (j = 0; j < n[x]; j++) {
            if (pk[x][j] == 1.0) {
                assert_memory_equal(&pa[x][j], &pb[x][j], sizeof(double));
                ++*nkept;
            } else {
                assert_true(pk[x][j] == 0.0);
                assert_true(isnan(pa[x][j]));
            }
        }
}

static void test_mc_outputs(void **state)
{
    ss_model *m = mk(3, 4);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *all, *sel;
    ss_selector s[4];
    ss_err err = { 0 };
    size_t nkept = 0, j;
    (void)state;
    o.runs = 1500; /* two blocks */
    o.seed = 9;
    o.threads = 2;
    all = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
    assert_true(ss_mc_result_all_kept(all));
    assert_int_equal(ss_selector_parse(&s[0], "share:p1:s1@each", &err), SS_OK);
    assert_int_equal(ss_selector_parse(&s[1], "npv:p2", &err), SS_OK);
    assert_int_equal(ss_selector_parse(&s[2], "size:s3@1.5", &err), SS_OK);
    assert_int_equal(ss_selector_parse(&s[3], "npv:p2@end", &err), SS_OK); /* the same value again */
    o.outputs = s;
    o.noutputs = 4;
    o.threads = 3;
    sel = mc_ok(m, mc_params, 2, mc_outages, 2, &o);
    assert_false(ss_mc_result_all_kept(sel));
    same_where_kept(ss_mc_result_mean(sel), ss_mc_result_mean(all), ss_mc_result_kept(sel), &nkept);
    /* 11 output times of the share, the last NPV, one size */
    assert_int_equal(nkept, 11 + 1 + 1);
    same_where_kept(ss_mc_result_sd(sel), ss_mc_result_sd(all), ss_mc_result_kept(sel), &nkept);
    same_where_kept(ss_mc_result_min(sel), ss_mc_result_min(all), ss_mc_result_kept(sel), &nkept);
    same_where_kept(ss_mc_result_max(sel), ss_mc_result_max(all), ss_mc_result_kept(sel), &nkept);
    for (j = 0; j < ss_mc_result_nquantiles(sel); j++)
        same_where_kept(ss_mc_result_quantile(sel, j), ss_mc_result_quantile(all, j),
                        ss_mc_result_kept(sel), &nkept);
    assert_int_equal(nkept, 13 * (4 + 3));
    assert_int_equal(ss_mc_result_memory(sel)->nv, 13);
    assert_int_equal(ss_mc_result_memory(sel)->nv_all, ss_mc_result_memory(all)->nv_all);
    assert_true(ss_mc_result_memory(sel)->total < ss_mc_result_memory(all)->total);
    ss_mc_result_free(sel);

    /* a time between output times, an unknown id or metric: errors before any run */
    assert_int_equal(ss_selector_parse(&s[0], "size:s3@1.25", &err), SS_OK);
    o.noutputs = 1;
    sel = NULL;
    assert_int_equal(ss_mc_run(&sel, m, mc_params, 2, NULL, 0, &o, &err), SS_EINVAL);
    assert_null(sel);
    assert_non_null(strstr(err.msg, "1.25 is not an output time"));
    assert_string_equal(err.path, "outputs");
    assert_int_equal(ss_selector_parse(&s[0], "npv:p9", &err), SS_OK);
    assert_int_equal(ss_mc_run(&sel, m, mc_params, 2, NULL, 0, &o, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "unknown provider 'p9'"));
    assert_int_equal(ss_selector_parse(&s[0], "gpux@end", &err), SS_OK);
    assert_int_equal(ss_mc_run(&sel, m, mc_params, 2, NULL, 0, &o, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "unknown metric 'gpux'"));
    ss_mc_result_free(all);
    ss_model_free(m);
}

static int count_runs(uint64_t run, const ss_result *r, void *payload, ss_err *err)
{
    (void)run;
    (void)r;
    (void)err;
    ++*(uint64_t *)payload;
    return SS_OK;
}

static void test_mc_memory_limit(void **state)
{
    ss_model *m = mk(3, 4);
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *r = NULL;
    ss_selector s;
    ss_err err = { 0 };
    uint64_t need, runs = 0;
    (void)state;
    o.runs = 3000;
    o.threads = 2;
    o.on_run = count_runs;
    o.payload = &runs;
    /* the default limit (1 GiB) holds this small model: record its estimate */
    r = mc_ok(m, mc_params, 2, NULL, 0, &o);
    need = ss_mc_result_memory(r)->total;
    assert_true(need > 0 && need < ((uint64_t)64 << 20));
    assert_int_equal(ss_mc_result_memory(r)->threads, 2);
    ss_mc_result_free(r);
    r = NULL;
    runs = 0;
    /* just below it: no run starts, SS_ENOMEM, a message with the numbers and remedies */
    o.max_memory = need - 1;
    assert_int_equal(ss_mc_run(&r, m, mc_params, 2, NULL, 0, &o, &err), SS_ENOMEM);
    assert_null(r);
    assert_true(runs == 0);
    assert_string_equal(err.path, "max_memory");
    assert_non_null(strstr(err.msg, "this Monte Carlo needs about"));
    assert_non_null(strstr(err.msg, "4 providers x 3 segments x 11 output times"));
    assert_non_null(strstr(err.msg, "keep fewer series with outputs (e.g. outputs = "
                           "{\"share:p1:s1@each\", \"npv:p1\"})"));
    assert_non_null(strstr(err.msg, "time.step"));
    /* the command line's names */
    o.name_outputs = "--outputs";
    o.name_max_memory = "--max-memory";
    assert_int_equal(ss_mc_run(&r, m, mc_params, 2, NULL, 0, &o, &err), SS_ENOMEM);
    assert_non_null(strstr(err.msg, "(--max-memory); keep fewer series with --outputs (e.g. "
                           "--outputs share:p1:s1@each,npv:p1)"));
    /* keeping one series fits */
    assert_int_equal(ss_selector_parse(&s, "npv:p2@each", &err), SS_OK);
    o.outputs = &s;
    o.noutputs = 1;
    r = mc_ok(m, mc_params, 2, NULL, 0, &o);
    assert_true(ss_mc_result_memory(r)->total <= need - 1);
    assert_true(runs == 3000);
    ss_mc_result_free(r);
    /* 0: no limit */
    o.outputs = NULL;
    o.noutputs = 0;
    o.max_memory = 0;
    r = mc_ok(m, mc_params, 2, NULL, 0, &o);
    ss_mc_result_free(r);
    ss_model_free(m);
}

static void test_mc_bytes(void **state)
{
    uint64_t b = 0;
    char buf[32];
    (void)state;
    assert_int_equal(ss_mc_parse_bytes("512M", 1, &b), 0);
    assert_true(b == (uint64_t)512 << 20);
    assert_int_equal(ss_mc_parse_bytes("2G", 1, &b), 0);
    assert_true(b == (uint64_t)2 << 30);
    assert_int_equal(ss_mc_parse_bytes("1.5GiB", 1, &b), 0);
    assert_true(b == (uint64_t)3 << 29);
    assert_int_equal(ss_mc_parse_bytes("64 kb", 1, &b), 0);
    assert_true(b == (uint64_t)64 << 10);
    assert_int_equal(ss_mc_parse_bytes("100B", 1, &b), 0);
    assert_true(b == 100);
    assert_int_equal(ss_mc_parse_bytes("1T", 1, &b), 0);
    assert_true(b == (uint64_t)1 << 40);
    assert_int_equal(ss_mc_parse_bytes("256", (uint64_t)1 << 20, &b), 0);
    assert_true(b == (uint64_t)256 << 20);
    assert_int_equal(ss_mc_parse_bytes("1e3", 1, &b), 0);
    assert_true(b == 1000);
    assert_int_equal(ss_mc_parse_bytes("", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("G", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("2X", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("2GG", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("-1G", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("0", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("nan", 1, &b), -1);
    assert_int_equal(ss_mc_parse_bytes("2048P", 1, &b), -1);
    ss_mc_format_bytes(buf, sizeof buf, (uint64_t)1 << 30);
    assert_string_equal(buf, "1 GiB");
    ss_mc_format_bytes(buf, sizeof buf, (uint64_t)4509715661ULL);
    assert_string_equal(buf, "4.2 GiB");
    ss_mc_format_bytes(buf, sizeof buf, (uint64_t)3 << 29);
    assert_string_equal(buf, "1.5 GiB");
    ss_mc_format_bytes(buf, sizeof buf, (uint64_t)981 << 20);
    assert_string_equal(buf, "981 MiB");
    ss_mc_format_bytes(buf, sizeof buf, 100);
    assert_string_equal(buf, "100 bytes");
}

static void test_mc_rng(void **state)
{
    gsl_rng *a = gsl_rng_alloc(ss_mc_rng_type()), *b = gsl_rng_alloc(ss_mc_rng_type());
    uint64_t *h = malloc(100000 * sizeof *h);
    size_t i;
    (void)state;
    assert_string_equal(gsl_rng_name(a), "xoshiro256**");
    assert_string_equal(ss_mc_rng_name(), "xoshiro256**");
    ss_mc_rng_seed(a, 7, 12345);
    ss_mc_rng_seed(b, 7, 12345);
    for (i = 0; i < 1000; i++) {
        double x = gsl_rng_uniform(a);
        assert_true(x >= 0 && x < 1 && x == gsl_rng_uniform(b));
        assert_true(gsl_rng_get(a) == gsl_rng_get(b));
    }
    ss_mc_rng_seed(b, 7, 12346);
    assert_true(gsl_rng_get(a) != gsl_rng_get(b));
    /* distinct run seeds for one master seed */
    for (i = 0; i < 100000; i++)
        h[i] = ss_mc_run_seed(0, i);
    qsort(h, 100000, sizeof *h, cmp_u64);
    for (i = 1; i < 100000; i++)
        assert_true(h[i] != h[i - 1]);
    free(h);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test(test_dist_moments),
        cmocka_unit_test(test_dist_quantile),
        cmocka_unit_test(test_truncnormal_tails),
        cmocka_unit_test(test_dist_text_and_validation),
        cmocka_unit_test(test_sketch_accuracy),
        cmocka_unit_test(test_sketch_basics),
        cmocka_unit_test(test_sketch_batches),
        cmocka_unit_test(test_sort_doubles),
        cmocka_unit_test(test_all_finite),
        cmocka_unit_test(test_mc_block_runs),
        cmocka_unit_test(test_mc_rng),
        cmocka_unit_test(test_mc_determinism),
        cmocka_unit_test(test_mc_fixed_equals_run),
        cmocka_unit_test(test_mc_engine_by_size),
        cmocka_unit_test(test_mc_moments_match_runs),
        cmocka_unit_test(test_mc_known_effect),
        cmocka_unit_test(test_mc_failing_run),
        cmocka_unit_test(test_mc_validation),
        cmocka_unit_test(test_mc_interrupt),
        cmocka_unit_test(test_mc_run_opts),
        cmocka_unit_test(test_mc_csv),
        cmocka_unit_test(test_mc_outputs),
        cmocka_unit_test(test_mc_memory_limit),
        cmocka_unit_test(test_mc_bytes),
    };
    const struct CMUnitTest threads_only[] = {
        cmocka_unit_test(test_mc_determinism),
        cmocka_unit_test(test_mc_failing_run),
        cmocka_unit_test(test_mc_interrupt),
        cmocka_unit_test(test_mc_run_opts),
    };
    ss_global_init();
    if (argc > 1 && strcmp(argv[1], "determinism") == 0)
        return cmocka_run_group_tests_name("mc threads", threads_only, NULL, NULL);
    return cmocka_run_group_tests_name("mc", all, NULL, NULL);
}
