/*
 * core/sort_doubles.h - ordering arrays of finite doubles (private to the
 * core; used by the quantile sketches' batch digests, sketch.c).
 */
#ifndef STRATSIM_CORE_SORT_DOUBLES_H
#define STRATSIM_CORE_SORT_DOUBLES_H

#include <stddef.h>

/** Sort the finite x[0, n) ascending (quicksort, insertion sort for short arrays). */
void ss_sort_doubles(double *x, size_t n);

/** Equal-width buckets between the minimum and the maximum of some values. */
typedef struct ss_buckets {
    double mn, mx;   /* smallest and largest value */
    double scale;    /* buckets per unit of value */
    size_t m;        /* number of buckets (2 n) */
    size_t *end;     /* end[b]: one past the last position of bucket b */
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
