/*
 * core/finite.h - whether an array of doubles is all finite, without a
 * branch per value (private to the core; the Monte Carlo checks every
 * value of every run, mc.c's gather, and the batched engine every output,
 * batch.c's record).
 */
#ifndef STRATSIM_CORE_FINITE_H
#define STRATSIM_CORE_FINITE_H

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 1 if x[0, n) holds no infinity and no NaN. x - x is +0 for a finite x
 * and NaN otherwise, and a sum of them stays 0 unless one is NaN: eight at a
 * time in four running sums of two (SSE2), the rest one by one. */
static inline int ss_all_finite(const double *x, size_t n)
{
    size_t j = 0;
    double z = 0.0;
#ifdef __SSE2__
    __m128d a0 = _mm_setzero_pd(), a1 = _mm_setzero_pd(), a2 = _mm_setzero_pd(),
            a3 = _mm_setzero_pd();
    double s[2];
    for (; j + 8 <= n; j += 8) {
        __m128d v0 = _mm_loadu_pd(x + j), v1 = _mm_loadu_pd(x + j + 2),
                v2 = _mm_loadu_pd(x + j + 4), v3 = _mm_loadu_pd(x + j + 6);
        a0 = _mm_add_pd(a0, _mm_sub_pd(v0, v0));
        a1 = _mm_add_pd(a1, _mm_sub_pd(v1, v1));
        a2 = _mm_add_pd(a2, _mm_sub_pd(v2, v2));
        a3 = _mm_add_pd(a3, _mm_sub_pd(v3, v3));
    }
    _mm_storeu_pd(s, _mm_add_pd(_mm_add_pd(a0, a1), _mm_add_pd(a2, a3)));
    z = s[0] + s[1];
#endif
    for (; j < n; j++)
        z += x[j] - x[j];
    return z == 0.0;
}

#endif
