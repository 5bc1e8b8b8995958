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

int ss_bucket_partition(ss_buckets *bk, const double *x, size_t n, double *out, uint32_t *cnt)
{
    double mn, mx, scale;
    size_t i, b, m = 2 * n;
    uint32_t acc = 0, *key;
    if (n == 0)
        return 0;
    {
        /* two chains, so the min/max latencies overlap */
        double mn2 = x[0], mx2 = x[0];
        mn = mx = x[0];
        for (i = 1; i + 1 < n; i += 2) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
            mn2 = x[i + 1] < mn2 ? x[i + 1] : mn2;
            mx2 = x[i + 1] > mx2 ? x[i + 1] : mx2;
        }
        if (i < n) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        mn = mn2 < mn ? mn2 : mn;
        mx = mx2 > mx ? mx2 : mx;
    }
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
    for (b = 0; b < m; b++) {
        uint32_t c = cnt[b];
        cnt[b] = acc; /* start of bucket b */
        acc += c;
    }
    for (i = 0; i < n; i++)
        out[cnt[key[i]]++] = x[i]; /* cnt[b] becomes the end of bucket b */
    return 1;
}
