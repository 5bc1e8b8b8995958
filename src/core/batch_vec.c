/*
 * batch_vec.c - exp, log and pow over arrays for the batched engine
 * (core/batch.h): SLEEF's 1-ulp vector exp and log (no -ffast-math
 * anywhere), and x^e as exp(e log x) with them (half the time of SLEEF's
 * pow; within (|e ln x| + 2) ulps of it, test_batch checks), 8 doubles at
 * a time with AVX-512F, 4 with AVX2, 2 with SSE2, chosen once from the CPU
 * (__builtin_cpu_supports).  The tail of an array goes through the same
 * vector function in a padded buffer, so every element is computed by the
 * same function wherever it sits.  SLEEF's functions of one accuracy give
 * the same bits for 2, 4 and 8 doubles, so the results do not depend on the
 * CPU (test_batch checks it).  Without
 * SLEEF (make SLEEF=none) libm's exp, log and pow are called element by
 * element.  Also what the engine can run (ss_batch_supports,
 * ss_batch_plain_opts), the size of a run's result (ss_batch_values) and
 * the choice of engine `auto` (ss_batch_suits).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/batch.h"
#include "core/sim_internal.h"

#ifdef SS_HAVE_SLEEF
#include <immintrin.h>
#ifdef __clang__
/* clang 14 passes 256- and 512-bit vectors to SLEEF's AVX2 and AVX-512F
 * functions wrongly when the file is not compiled for those targets (at -O0
 * always, at -O2 in a padded tail), and has no `#pragma GCC target`: a clang
 * build, such as the fuzzers', uses the 2-double functions, whose results
 * are the same bits */
#include <sleef.h>
#else
/* sleef.h declares the AVX2 and AVX-512 functions only for such targets */
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#include <sleef.h>
#pragma GCC pop_options
#define SS_VEC_WIDE 1
#endif

typedef void (*vfn1)(double *, const double *, size_t);
typedef void (*vfn2)(double *, const double *, const double *, size_t);

#define PAD(W, CALL1)                                   \
    if (j < n) {                                        \
        double in[W], o[W];                             \
        size_t q;                                       \
        for (q = 0; q < W; q++)                         \
            in[q] = j + q < n ? x[j + q] : 1.0;         \
        CALL1;                                          \
        memcpy(out + j, o, (n - j) * sizeof *o);        \
    }

/* ---- SSE2: 2 lanes */
static void log2w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 2 <= n; j += 2)
        _mm_storeu_pd(out + j, Sleef_logd2_u10(_mm_loadu_pd(x + j)));
    PAD(2, _mm_storeu_pd(o, Sleef_logd2_u10(_mm_loadu_pd(in))))
}
static void exp2w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 2 <= n; j += 2)
        _mm_storeu_pd(out + j, Sleef_expd2_u10(_mm_loadu_pd(x + j)));
    PAD(2, _mm_storeu_pd(o, Sleef_expd2_u10(_mm_loadu_pd(in))))
}

/* x^e as exp(e log x) for x >= 0 (+0 included), 1 where e is 0 (as pow);
 * an x with its sign bit set (x < 0, -0) takes libm's pow instead, so that
 * every x gets pow's answer up to rounding.  The tail goes through the same
 * vector function in a padded buffer (as PAD). */
#define POW_FIX(W)                                                              \
    for (q = 0; q < W; q++)                                                     \
        if (signbit(xs[q]))                                                     \
            os[q] = pow(xs[q], es[q]);
#define POW_BODY(W, VEC, LOAD, STORE, POWV, SIGNS)                              \
    size_t j = 0, q;                                                            \
    double xs[W], es[W], os[W];                                                 \
    for (; j + W <= n; j += W) {                                                \
        VEC xv = LOAD(x + j), ev = LOAD(e + j), r = POWV(xv, ev);               \
        if (SIGNS(xv)) {                                                        \
            STORE(xs, xv);                                                      \
            STORE(es, ev);                                                      \
            STORE(os, r);                                                       \
            POW_FIX(W)                                                          \
            r = LOAD(os);                                                       \
        }                                                                       \
        STORE(out + j, r);                                                      \
    }                                                                           \
    if (j < n) {                                                                \
        for (q = 0; q < W; q++) {                                               \
            xs[q] = j + q < n ? x[j + q] : 1.0;                                 \
            es[q] = j + q < n ? e[j + q] : 1.0;                                 \
        }                                                                       \
        STORE(os, POWV(LOAD(xs), LOAD(es)));                                    \
        POW_FIX(W)                                                              \
        memcpy(out + j, os, (n - j) * sizeof *os);                              \
    }

static inline __m128d powv2(__m128d x, __m128d e)
{
    __m128d r = Sleef_expd2_u10(_mm_mul_pd(e, Sleef_logd2_u10(x)));
    __m128d z = _mm_cmpeq_pd(e, _mm_setzero_pd());
    return _mm_or_pd(_mm_andnot_pd(z, r), _mm_and_pd(z, _mm_set1_pd(1.0)));
}
static void pow2w(double *out, const double *x, const double *e, size_t n)
{
    POW_BODY(2, __m128d, _mm_loadu_pd, _mm_storeu_pd, powv2, _mm_movemask_pd)
}

#ifdef SS_VEC_WIDE
/* ---- AVX2: 4 lanes */
__attribute__((target("avx2,fma"))) static void log4w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(out + j, Sleef_logd4_u10avx2(_mm256_loadu_pd(x + j)));
    PAD(4, _mm256_storeu_pd(o, Sleef_logd4_u10avx2(_mm256_loadu_pd(in))))
}
__attribute__((target("avx2,fma"))) static void exp4w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(out + j, Sleef_expd4_u10avx2(_mm256_loadu_pd(x + j)));
    PAD(4, _mm256_storeu_pd(o, Sleef_expd4_u10avx2(_mm256_loadu_pd(in))))
}
__attribute__((target("avx2,fma"))) static inline __m256d powv4(__m256d x, __m256d e)
{
    __m256d r = Sleef_expd4_u10avx2(_mm256_mul_pd(e, Sleef_logd4_u10avx2(x)));
    return _mm256_blendv_pd(r, _mm256_set1_pd(1.0), _mm256_cmp_pd(e, _mm256_setzero_pd(), _CMP_EQ_OQ));
}
__attribute__((target("avx2,fma"))) static void pow4w(double *out, const double *x, const double *e,
                                                      size_t n)
{
    POW_BODY(4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, powv4, _mm256_movemask_pd)
}

/* ---- AVX-512F: 8 lanes */
__attribute__((target("avx512f"))) static void log8w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm512_storeu_pd(out + j, Sleef_logd8_u10avx512f(_mm512_loadu_pd(x + j)));
    PAD(8, _mm512_storeu_pd(o, Sleef_logd8_u10avx512f(_mm512_loadu_pd(in))))
}
__attribute__((target("avx512f"))) static void exp8w(double *out, const double *x, size_t n)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm512_storeu_pd(out + j, Sleef_expd8_u10avx512f(_mm512_loadu_pd(x + j)));
    PAD(8, _mm512_storeu_pd(o, Sleef_expd8_u10avx512f(_mm512_loadu_pd(in))))
}
__attribute__((target("avx512f"))) static inline __m512d powv8(__m512d x, __m512d e)
{
    __m512d r = Sleef_expd8_u10avx512f(_mm512_mul_pd(e, Sleef_logd8_u10avx512f(x)));
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(e, _mm512_setzero_pd(), _CMP_EQ_OQ), r,
                                _mm512_set1_pd(1.0));
}
__attribute__((target("avx512f"))) static inline int signs8(__m512d x)
{
    return _mm512_test_epi64_mask(_mm512_castpd_si512(x), _mm512_set1_epi64(INT64_MIN)) != 0;
}
__attribute__((target("avx512f"))) static void pow8w(double *out, const double *x, const double *e,
                                                     size_t n)
{
    POW_BODY(8, __m512d, _mm512_loadu_pd, _mm512_storeu_pd, powv8, signs8)
}

#endif

static struct { vfn1 log, exp; vfn2 pow; const char *name; } vt;

/* The widest functions this CPU (and this build) has; 0 if not `width`. */
static int use_width(int width)
{
#ifdef SS_VEC_WIDE
    __builtin_cpu_init();
    if (width == 8 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma")) {
        vt.log = log8w, vt.exp = exp8w, vt.pow = pow8w, vt.name = "SLEEF AVX-512F (8 doubles)";
        return 1;
    }
    if (width == 4 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        vt.log = log4w, vt.exp = exp4w, vt.pow = pow4w, vt.name = "SLEEF AVX2 (4 doubles)";
        return 1;
    }
#endif
    if (width == 2) {
        vt.log = log2w, vt.exp = exp2w, vt.pow = pow2w, vt.name = "SLEEF SSE2 (2 doubles)";
        return 1;
    }
    return 0;
}

static void pick(void)
{
    if (!vt.log && !use_width(8) && !use_width(4))
        (void)use_width(2);
}

int ss_vec_width(int width)
{
    pick();
    return use_width(width);
}

void ss_vec_log(double *out, const double *x, size_t n) { pick(); vt.log(out, x, n); }
void ss_vec_exp(double *out, const double *x, size_t n) { pick(); vt.exp(out, x, n); }
void ss_vec_pow(double *out, const double *x, const double *e, size_t n) { pick(); vt.pow(out, x, e, n); }
const char *ss_vec_name(void) { pick(); return vt.name; }
#else
void ss_vec_log(double *out, const double *x, size_t n)
{
    size_t j;
    for (j = 0; j < n; j++)
        out[j] = log(x[j]);
}
void ss_vec_exp(double *out, const double *x, size_t n)
{
    size_t j;
    for (j = 0; j < n; j++)
        out[j] = exp(x[j]);
}
void ss_vec_pow(double *out, const double *x, const double *e, size_t n)
{
    size_t j;
    for (j = 0; j < n; j++)
        out[j] = pow(x[j], e[j]);
}
const char *ss_vec_name(void) { return "libm (built without SLEEF)"; }
int ss_vec_width(int width) { return width == 1; }
#endif

int ss_batch_supports(const ss_model *m)
{
    /* picks the vector functions now: ss_mc_run calls this before it starts
       the worker threads, which then only read the choice */
    (void)ss_vec_name();
#ifdef __x86_64__
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        return 0;
#endif
    return m->solver.method == SS_SOLVER_RK8PD;
}

size_t ss_batch_values(const ss_model *m)
{
    ss_dvec outs = { NULL, 0, 0 };
    ss_err e;
    size_t N = m->nprov, K = m->nseg, nt;
    ss_err_clear(&e);
    if (ss_sim_output_times(&outs, m, &e)) {
        free(outs.v);
        return SIZE_MAX;
    }
    nt = outs.n;
    free(outs.v);
    return nt * (SS_NPS * N * K + SS_NP * N + SS_NS * K);
}

int ss_batch_plain_opts(const ss_run_opts *r)
{
    return !r || (!r->on_epoch && !r->on_output && r->nextra == 0 && r->nstock == 0 && r->nlink == 0 &&
                  !r->stock_init && !r->stock_rates && !r->link_eval && !r->on_start);
}

int ss_batch_suits(const ss_model *m, const ss_run_opts *r)
{
    return ss_batch_plain_opts(r) && ss_batch_supports(m) && ss_batch_values(m) <= SS_BATCH_MAX_VALUES;
}
