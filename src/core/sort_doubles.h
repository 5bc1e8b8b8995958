/*
 * core/sort_doubles.h - the core's one sort (SS_DEFINE_QUICKSORT, a
 * template instantiated per element type) and ordering arrays of finite
 * doubles (private to the core; used by the quantile sketches, sketch.c,
 * and the simulation's extra output times, sim.c).
 */
#ifndef STRATSIM_CORE_SORT_DOUBLES_H
#define STRATSIM_CORE_SORT_DOUBLES_H

#include <stddef.h>
#include <stdint.h>

/**
 * SS_DEFINE_QUICKSORT(NAME, TYPE, LESS, SMALL) defines
 * `static void NAME(TYPE *x, size_t n)`, sorting x[0, n) by the strict weak
 * order `LESS(const TYPE *a, const TYPE *b)`: quicksort with the median of
 * three and Hoare's partition (which stays O(n log n) on runs of equal
 * keys), recursion only into the smaller part, insertion sort for ranges of
 * at most SMALL. The one sort of the core, written once and instantiated
 * per type so that the comparison is inlined (the t-digest's compression is
 * about three times faster than with qsort()). Not stable.
 */
#define SS_DEFINE_QUICKSORT(NAME, TYPE, LESS, SMALL)                           \
    static void NAME(TYPE *x, size_t n)                                        \
    {                                                                          \
        while (n > (SMALL)) {                                                  \
            size_t mid = n / 2, i = 0, j = n - 1;                              \
            TYPE pivot, t;                                                     \
            if (LESS(&x[mid], &x[0]))                                          \
                t = x[mid], x[mid] = x[0], x[0] = t;                           \
            if (LESS(&x[n - 1], &x[0]))                                        \
                t = x[n - 1], x[n - 1] = x[0], x[0] = t;                       \
            if (LESS(&x[n - 1], &x[mid]))                                      \
                t = x[n - 1], x[n - 1] = x[mid], x[mid] = t;                   \
            pivot = x[mid];                                                    \
            for (;;) {                                                         \
                while (LESS(&x[i], &pivot))                                    \
                    i++;                                                       \
                while (LESS(&pivot, &x[j]))                                    \
                    j--;                                                       \
                if (i >= j)                                                    \
                    break;                                                     \
                t = x[i], x[i] = x[j], x[j] = t;                               \
                i++;                                                           \
                j--;                                                           \
            }                                                                  \
            /* x[0, j] <= pivot <= x[j + 1, n) */                              \
            if (j + 1 < n - (j + 1)) {                                         \
                NAME(x, j + 1);                                                \
                x += j + 1;                                                    \
                n -= j + 1;                                                    \
            } else {                                                           \
                NAME(x + j + 1, n - (j + 1));                                  \
                n = j + 1;                                                     \
            }                                                                  \
        }                                                                      \
        for (size_t i = 1; i < n; i++) {                                       \
            TYPE v = x[i];                                                     \
            size_t k = i;                                                      \
            while (k > 0 && LESS(&v, &x[k - 1])) {                             \
                x[k] = x[k - 1];                                               \
                k--;                                                           \
            }                                                                  \
            x[k] = v;                                                          \
        }                                                                      \
    }

/** Sort the finite x[0, n) ascending (SS_DEFINE_QUICKSORT, insertion sort up to 24 values). */
void ss_sort_doubles(double *x, size_t n);

/** Equal-width buckets between the minimum and the maximum of some values. */
typedef struct ss_buckets {
    double mn, mx;   /* smallest and largest value */
    double scale;    /* buckets per unit of value */
    size_t m;        /* number of buckets (2 n) */
    uint32_t *end;   /* end[b]: one past the last position of bucket b */
} ss_buckets;

/** The bucket of v (mn <= v <= mx): floor((v - mn) * scale), mx in the last.
 *  A 32-bit conversion (m <= 2^30, see ss_bucket_partition), so that a loop
 *  of it is vectorised. */
static inline uint32_t ss_bucket_of(const ss_buckets *bk, double v)
{
    uint32_t k = (uint32_t)(int32_t)((v - bk->mn) * bk->scale), last = (uint32_t)(bk->m - 1);
    return k < last ? k : last;
}

/**
 * Distribute the n finite values x[0, n) into 2n equal-width buckets: out
 * receives them bucket by bucket (in x's order within a bucket), bk->end
 * (which points into `cnt`, scratch of 3 n uint32_t) the end of each bucket
 * in out. Every value in bucket b is <= every value in bucket b + 1.
 * Returns 1; 0 if the values are all equal (n == 0 too; bk->mn and bk->mx
 * are set, out is untouched); -1 if the range cannot be scaled (a range
 * overflowing to infinity, or so narrow that 2n / range overflows) or for
 * more than 2^29 values.
 */
int ss_bucket_partition(ss_buckets *bk, const double *x, size_t n, double *out, uint32_t *cnt);

#endif
