/*
 * core/sort_doubles.h - sorting arrays of finite doubles fast (private to
 * the core; used by the Monte Carlo's block quantile sketches).
 */
#ifndef STRATSIM_CORE_SORT_DOUBLES_H
#define STRATSIM_CORE_SORT_DOUBLES_H

#include <stddef.h>

/**
 * Sort x[0, n) ascending. The values must be finite (NaN has no place in
 * the order); -0 and +0 compare equal. `tmp` is scratch of n doubles and
 * `cnt` scratch of 3 n size_t; both may be NULL, which selects the
 * comparison sort. The result is the sorted sequence, the same whatever the
 * method (equal values are indistinguishable except for the sign of zero).
 */
void ss_sort_doubles(double *x, size_t n, double *tmp, size_t *cnt);

/** Sort x[0, n) with the comparison sort (quicksort, insertion sort for short arrays). */
void ss_sort_small(double *x, size_t n);

/** Equal-width buckets between the minimum and the maximum of some values. */
typedef struct ss_buckets {
    double mn, mx;   /* smallest and largest value */
    double scale;    /* buckets per unit of value */
    size_t m;        /* number of buckets (2 n) */
    size_t *end;     /* end[b]: one past the last position of bucket b */
    size_t most;     /* most values in one bucket */
} ss_buckets;

/** The bucket of v (mn <= v <= mx): floor((v - mn) * scale), mx in the last. */
static inline size_t ss_bucket_of(const ss_buckets *bk, double v)
{
    size_t k = (size_t)((v - bk->mn) * bk->scale);
    return k < bk->m ? k : bk->m - 1;
}

/**
 * Distribute the n finite values x[0, n) into 2n equal-width buckets: out
 * receives them bucket by bucket (in x's order within a bucket), bk->end
 * (which points into `cnt`, scratch of 3 n size_t) the end of each bucket
 * in out. Every value in bucket b is <= every value in bucket b + 1.
 * Returns 1; 0 if the values are all equal (n == 0 too; bk->mn and bk->mx
 * are set, out is untouched); -1 if the range cannot be scaled (a range
 * overflowing to infinity, or so narrow that 2n / range overflows).
 */
int ss_bucket_partition(ss_buckets *bk, const double *x, size_t n, double *out, size_t *cnt);

#endif
