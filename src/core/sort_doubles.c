/*
 * sort_doubles.c - ordering finite doubles for the quantile sketches: the
 * core's quicksort (sort_doubles.h) for doubles, and a one-level bucket
 * distribution (as in flashsort).
 *
 * The Monte Carlo digests every series of every block (thousands of arrays
 * of up to a thousand values per block), so this is on its hot path.  For
 * the smooth distributions of model outputs, distributing n values into 2n
 * equal-width buckets between the minimum and the maximum costs a few
 * operations per value, where a comparison sort needs log2(n) badly
 * predicted comparisons; sketch.c then sorts only the few buckets that a
 * centroid boundary cuts (with the quicksort, which stays O(k log k) for a
 * bucket of k values, however skewed the data).
 */
#include <math.h>
#include <string.h>
#include "core/sort_doubles.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int less_d(const double *a, const double *b)
{
    return *a < *b;
}

/* arrays up to 24 values are insertion-sorted directly */
SS_DEFINE_QUICKSORT(quick, double, less_d, 24)

void ss_sort_doubles(double *x, size_t n)
{
    quick(x, n);
}

/*
 * The smallest and largest of the finite x[0, n), n >= 1. With SSE2, four
 * running minima and maxima in two registers (minpd and maxpd are the
 * comparisons below: x < mn ? x : mn). The result does not depend on the
 * order of the comparisons, except that of a -0 and a +0 either may come
 * out, which no use of them tells apart (ss_bucket_of, the sketches' +0).
 */
static void min_max(const double *x, size_t n, double *mn_out, double *mx_out)
{
    double mn = x[0], mx = x[0];
    size_t i = 0;
#ifdef __SSE2__
    if (n >= 4) {
        __m128d lo0 = _mm_loadu_pd(x), hi0 = lo0, lo1 = _mm_loadu_pd(x + 2), hi1 = lo1;
        double a[4];
        for (i = 4; i + 4 <= n; i += 4) {
            __m128d v0 = _mm_loadu_pd(x + i), v1 = _mm_loadu_pd(x + i + 2);
            lo0 = _mm_min_pd(v0, lo0);
            hi0 = _mm_max_pd(v0, hi0);
            lo1 = _mm_min_pd(v1, lo1);
            hi1 = _mm_max_pd(v1, hi1);
        }
        _mm_storeu_pd(a, _mm_min_pd(lo0, lo1));
        mn = a[0] < a[1] ? a[0] : a[1];
        _mm_storeu_pd(a, _mm_max_pd(hi0, hi1));
        mx = a[0] > a[1] ? a[0] : a[1];
    }
#endif
    for (; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    *mn_out = mn;
    *mx_out = mx;
}

/*
 * c[b] = c[0] + ... + c[b - 1] for b in [0, m), in place (the counts of the
 * buckets become their starts). With SSE2, four at a time: the sums within
 * a register by two shifted adds, plus the total so far in every lane.
 */
static void exclusive_sums(uint32_t *c, size_t m)
{
    uint32_t acc = 0;
    size_t b = 0;
#ifdef __SSE2__
    __m128i carry = _mm_setzero_si128();
    for (; b + 4 <= m; b += 4) {
        __m128i v = _mm_loadu_si128((const __m128i *)(c + b));
        v = _mm_add_epi32(v, _mm_slli_si128(v, 4));
        v = _mm_add_epi32(v, _mm_slli_si128(v, 8)); /* sums up to each lane */
        _mm_storeu_si128((__m128i *)(c + b), _mm_add_epi32(_mm_slli_si128(v, 4), carry));
        carry = _mm_shuffle_epi32(_mm_add_epi32(v, carry), 0xFF);
    }
    acc = (uint32_t)_mm_cvtsi128_si32(carry);
#endif
    for (; b < m; b++) {
        uint32_t k = c[b];
        c[b] = acc;
        acc += k;
    }
}

int ss_bucket_partition(ss_buckets *bk, const double *x, size_t n, double *out, uint32_t *cnt)
{
    double mn, mx, scale;
    size_t i, m = 2 * n;
    uint32_t *key;
    if (n == 0)
        return 0;
    min_max(x, n, &mn, &mx);
    bk->mn = mn;
    bk->mx = mx;
    if (mn == mx)
        return 0;
    scale = (double)m / (mx - mn);
    if (!isfinite(scale) || !isfinite(mx - mn) || n > ((size_t)1 << 29))
        return -1; /* a range too wide or too narrow to scale; too many values */
    bk->scale = scale;
    bk->m = m;
    bk->end = cnt;
    /* cnt[0, m) counts, then bucket starts, then bucket ends; key[0, n) the buckets */
    key = cnt + m;
    memset(cnt, 0, m * sizeof *cnt);
    /* the buckets in a loop of their own, so that it is vectorised */
    for (i = 0; i < n; i++)
        key[i] = ss_bucket_of(bk, x[i]);
    for (i = 0; i < n; i++)
        cnt[key[i]]++;
    exclusive_sums(cnt, m); /* cnt[b]: the start of bucket b */
    for (i = 0; i < n; i++)
        out[cnt[key[i]]++] = x[i]; /* cnt[b] becomes the end of bucket b */
    return 1;
}
