/*
 * stratsim/sketch.h - a mergeable quantile sketch: Dunning's merging t-digest
 * with the k1 scale function k(q) = delta / (2 pi) * asin(2q - 1).
 *
 * Memory is bounded independently of the number of values: at most about
 * 3 * (compression + 4) centroids of 16 bytes (about 10 KB at the default
 * compression 200), allocated lazily, so a sketch that saw few values stays
 * small (up to that bound it holds every value exactly).  Incoming values go
 * to a buffer; when the buffer is full it is sorted, merged with the
 * centroids and compressed in one pass (directions alternate between passes).
 * There is no randomness: the state, and so every answer, is a deterministic
 * function of the sequence of ss_sketch_add()/ss_sketch_merge() calls (but it
 * does depend on their order).  The minimum and maximum are kept exactly.
 *
 * Accuracy.  Rank error = distance of q from the empirical CDF at the
 * estimate.  Measured on lognormal(0, 1), exponential(1) and beta(0.5, 5)
 * streams, 10 seeds each, worst case over q in {0.001, 0.01, 0.05, 0.25,
 * 0.5, 0.75, 0.95, 0.99, 0.999}:
 *   compression 200, n = 1e5: 6.1e-4 (one sketch), 7.1e-4 (sorted batches
 *                             of 1024, ss_sketch_set_sorted, merged in order)
 *   compression 200, n = 1e6: 4.0e-4 (one sketch), 5.0e-4 (batches merged)
 *   compression 100, n = 1e5: 1.4e-3 (one sketch)
 * tests/unit/test_mc.c asserts <= 0.005 (1e5 values, compression 200).  The
 * error is largest around the quartiles and shrinks towards the tails, but
 * only like sqrt(q (1 - q)) (the k1 scale): at q = 0.001 it is still about
 * 3e-4, i.e. large relative to q; the minimum and maximum are exact.
 *
 * Ownership: ss_sketch_new() gives the caller a sketch to release with
 * ss_sketch_free().  A sketch is not thread-safe; distinct sketches may be
 * used from distinct threads.
 */
#ifndef STRATSIM_SKETCH_H
#define STRATSIM_SKETCH_H

#include <stddef.h>
#include <stdint.h>
#include "stratsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default compression (delta). */
#define SS_SKETCH_COMPRESSION 200.0

typedef struct ss_sketch ss_sketch;

/**
 * Create an empty sketch. `compression` (delta) trades memory for accuracy:
 * 0 selects SS_SKETCH_COMPRESSION; otherwise it must be in [10, 1e5]
 * (SS_EINVAL). SS_ENOMEM if allocation fails.
 */
int ss_sketch_new(ss_sketch **out, double compression, ss_err *err);

/** Release a sketch. NULL-safe. */
void ss_sketch_free(ss_sketch *s);

/** Make `s` empty again (keeps its compression and its memory). */
void ss_sketch_reset(ss_sketch *s);

/**
 * Add one value. Non-finite values are rejected (SS_EINVAL, the sketch is
 * unchanged); SS_ENOMEM if the lazily grown storage cannot be extended.
 */
int ss_sketch_add(ss_sketch *s, double x);

/**
 * Add everything `src` holds to `dst` (src is unchanged; dst != src).
 * The result summarises the union of the two inputs. On SS_ENOMEM dst is
 * unchanged. When src has no buffered values (it was compressed, or built
 * with ss_sketch_set_sorted()) and the same compression, dst is compressed,
 * src's centroids are merged into dst's in linear time and the union is
 * compressed once (no sorting); otherwise src's entries join dst's buffer.
 */
int ss_sketch_merge(ss_sketch *dst, const ss_sketch *src);

/**
 * Flush the buffer into the centroids. Never needed for correctness; after
 * it, quantile queries need no temporary copy. Deterministic, but it changes
 * the state, so a sketch flushed at a different point gives (slightly)
 * different answers later. SS_OK always (kept int for symmetry).
 */
int ss_sketch_compress(ss_sketch *s);

/**
 * Estimate of the q-quantile, q in [0, 1]: q = 0 gives the minimum, q = 1
 * the maximum; NaN for an empty sketch, q outside [0, 1], or if a needed
 * temporary copy cannot be allocated. The sketch is not modified (a sketch
 * with a non-empty buffer is queried through a temporary compressed copy).
 */
double ss_sketch_quantile(const ss_sketch *s, double q);

/**
 * Several quantiles at once (one temporary copy at most): out[j] for q[j].
 * SS_ENOMEM if the copy cannot be made (out is then all NaN).
 */
int ss_sketch_quantiles(const ss_sketch *s, const double *q, size_t n, double *out);

/** Number of values summarised. */
uint64_t ss_sketch_count(const ss_sketch *s);

/** Exact smallest / largest value (NaN when empty). */
double ss_sketch_min(const ss_sketch *s);
double ss_sketch_max(const ss_sketch *s);

/** The compression the sketch was created with. */
double ss_sketch_compression(const ss_sketch *s);

/* ---- digests of sorted batches (fast bulk building) ---- */

/**
 * A plan for digests of batches of n values: the sizes of the centroids the
 * merging pass makes of n sorted values of weight 1 (they depend only on n
 * and the compression, so one plan serves any number of batches). Opaque;
 * not modified by use, so one plan may be shared by threads.
 */
typedef struct ss_sketch_plan ss_sketch_plan;

/** Plan digests of batches of n (>= 1) values. SS_EINVAL, SS_ENOMEM. */
int ss_sketch_plan_new(ss_sketch_plan **out, double compression, size_t n, ss_err *err);

/** Release a plan. NULL-safe. */
void ss_sketch_plan_free(ss_sketch_plan *p);

/** The batch size n of a plan. */
size_t ss_sketch_plan_values(const ss_sketch_plan *p);

/**
 * Replace the contents of `s` by the digest of x[0, n), n the plan's batch
 * size: the n values must be finite and sorted ascending (not checked).
 * The centroids are those of one left-to-right merging pass over the n
 * values (what adding them to an empty sketch and compressing gives when
 * they fit its buffer, i.e. n <= 3 * (compression + 4)), except that each
 * centroid's mean is computed as the mean of its run of values rather than
 * incrementally: a deterministic function of the multiset of values, in
 * O(n) with no sorting. SS_EINVAL if the plan's compression is not the
 * sketch's, SS_ENOMEM.
 */
int ss_sketch_set_sorted(ss_sketch *s, const ss_sketch_plan *p, const double *x);

/**
 * The same digest from the plan's n values in any order (they must be
 * finite): x is used as scratch (its contents are lost), `tmp` is scratch
 * of n doubles and `cnt` of 3 n uint32_t. The values are distributed into 2n
 * equal-width buckets and only the buckets that a centroid boundary cuts
 * are sorted, so this costs a few operations per value rather than a sort.
 * The centroids hold the same values as ss_sketch_set_sorted() of the
 * sorted values would give them; the means can differ in the last bits
 * (summation order). Deterministic for a given sequence of values.
 * SS_EINVAL if the plan's compression is not the sketch's, SS_ENOMEM.
 */
int ss_sketch_set_values(ss_sketch *s, const ss_sketch_plan *p, double *x, double *tmp,
                         uint32_t *cnt);

/* ---- packing (a sketch sent to another process, docs/scale-out.md) ---- */

/** Bytes ss_sketch_pack() writes for `s`. */
size_t ss_sketch_packed_size(const ss_sketch *s);

/** Write the complete state of `s` (ss_sketch_packed_size() bytes) to buf. */
void ss_sketch_pack(const ss_sketch *s, unsigned char *buf);

/**
 * Replace the contents of `s` (created with the same compression) by a
 * state packed by ss_sketch_pack(), read from buf[0, len); *used receives
 * the bytes read. The sketch then behaves exactly as the packed one.
 * SS_EINVAL for another compression or damaged data, SS_ENOMEM.
 */
int ss_sketch_unpack(ss_sketch *s, const unsigned char *buf, size_t len, size_t *used);

/**
 * For memory estimates: bytes a sketch of this compression takes (its
 * structure and storage, with the allocator's overhead) when its storage
 * holds `centroids` entries (at most its bound of 3 * (compression + 4)).
 */
size_t ss_sketch_bytes(double compression, size_t centroids);

/** Most centroids a sketch keeps after compressing: ceil(compression) + 2. */
size_t ss_sketch_centroid_bound(double compression);

/** Bytes currently allocated by the sketch (for memory accounting). */
size_t ss_sketch_memory(const ss_sketch *s);

#ifdef __cplusplus
}
#endif
#endif
