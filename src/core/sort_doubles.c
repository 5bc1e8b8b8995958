/*
 * sort_doubles.c - ordering finite doubles for the quantile sketches: a
 * quicksort, and a one-level bucket distribution (as in flashsort).
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

/* Arrays up to this length are insertion-sorted directly. */
#define SMALL 24

static void insertion(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t k = i;
        while (k > 0 && v < x[k - 1]) {
            x[k] = x[k - 1];
            k--;
        }
        x[k] = v;
    }
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* Quicksort: median of three, Hoare partition (O(n log n) on runs of equal
 * keys), recursion into the smaller part only, insertion sort for short ranges. */
static void quick(double *x, size_t n)
{
    while (n > SMALL) {
        size_t mid = n / 2, i = 0, j = n - 1;
        double pivot;
        if (x[mid] < x[0])
            swap_d(&x[mid], &x[0]);
        if (x[n - 1] < x[0])
            swap_d(&x[n - 1], &x[0]);
        if (x[n - 1] < x[mid])
            swap_d(&x[n - 1], &x[mid]);
        pivot = x[mid];
        for (;;) {
            while (x[i] < pivot)
                i++;
            while (pivot < x[j])
                j--;
            if (i >= j)
                break;
            swap_d(&x[i], &x[j]);
            i++;
            j--;
        }
        if (j + 1 < n - (j + 1)) {
            quick(x, j + 1);
            x += j + 1;
            n -= j + 1;
        } else {
            quick(x + j + 1, n - (j + 1));
            n = j + 1;
        }
    }
    insertion(x, n);
}

void ss_sort_doubles(double *x, size_t n)
{
    quick(x, n);
}

int ss_bucket_partition(ss_buckets *bk, const double *x, size_t n, double *out, size_t *cnt)
{
    double mn, mx, scale;
    size_t i, b, m = 2 * n, acc = 0, *key;
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
    if (!isfinite(scale) || !isfinite(mx - mn))
        return -1; /* a range too wide or too narrow to scale */
    bk->scale = scale;
    bk->m = m;
    bk->end = cnt;
    /* cnt[0, m) counts, then bucket starts, then bucket ends; key[0, n) the buckets */
    key = cnt + m;
    memset(cnt, 0, m * sizeof *cnt);
    for (i = 0; i < n; i++) {
        size_t k = ss_bucket_of(bk, x[i]);
        key[i] = k;
        cnt[k]++;
    }
    for (b = 0; b < m; b++) {
        size_t c = cnt[b];
        cnt[b] = acc; /* start of bucket b */
        acc += c;
    }
    for (i = 0; i < n; i++)
        out[cnt[key[i]]++] = x[i]; /* cnt[b] becomes the end of bucket b */
    return 1;
}
