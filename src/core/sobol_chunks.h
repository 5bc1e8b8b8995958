/*
 * core/sobol_chunks.h - the rows of a Sobol design evaluated a chunk at a
 * time in the batched engine's lanes, on worker threads (internal to the
 * core; see sobol_chunks.c; used by sens.c).
 *
 * The rows are this process's: j = rank + o nranks for o = 0, 1, ... below
 * `limit`.  Row j has d + 2 points: A_j, B_j, then every AB_i,j (A_j with
 * column i from B_j), from the design X ([rows][2d]: A_j, then B_j).  About
 * 256 points make a chunk; a worker thread evaluates a whole chunk with
 * its own ss_batch, and the caller takes the rows in order.  Which thread
 * evaluated a chunk changes nothing: a run's result in the batched engine
 * depends on its own inputs only.
 */
#ifndef STRATSIM_CORE_SOBOL_CHUNKS_H
#define STRATSIM_CORE_SOBOL_CHUNKS_H
#include <stddef.h>
#include <stdint.h>
#include "core/batch.h"
#include "stratsim/error.h"

/** Largest number of worker threads. */
#define SS_CHUNKS_MAX_THREADS 1024

/**
 * Evaluate the points x[0, n) (d values each) in b's lanes into y (nout
 * values each): ok[p] = 1 for every point done (the caller evaluates the
 * others alone). SS_OK, or SS_ENOMEM with a message in err. Called from the
 * worker threads at once: it must be safe for that.
 */
typedef int (*ss_chunk_fn)(ss_batch *b, const double *x, size_t n, double *y, unsigned char *ok,
                           void *payload, ss_err *err);

typedef struct ss_chunks ss_chunks;

/** The d + 2 points of a row into out ([d + 2][d]): A (xa), B (xb), then
 *  every AB_i (xa with column i from xb). */
void ss_sobol_row_points(const double *xa, const double *xb, size_t d, double *out);

/**
 * Start evaluating the rows below `limit` (at most the number of rows of X)
 * with `threads` workers (0: every online CPU; 1: no thread, each chunk is
 * evaluated by the caller when its first row is asked for). `interrupt`
 * (may be NULL) is polled while the caller waits. SS_OK, or SS_ENOMEM (err
 * says which).
 */
int ss_chunks_start(ss_chunks **out, const double *X, size_t d, size_t nout, size_t limit,
                    uint64_t rank, uint64_t nranks, unsigned threads, ss_chunk_fn fn,
                    void *payload, volatile int *interrupt, ss_err *err);

/**
 * Row j's outputs (*y: [d + 2][nout]) and which of its points have them
 * (*ok: [d + 2]), valid until the next call. Rows must be asked for in
 * increasing order. SS_OK; SS_OK with *ok NULL for a row the chunks do not
 * hold (not this process's, or at or above the limit); SS_EINTR if the
 * interrupt came while waiting (*ok NULL); or the failure of the row's chunk
 * (SS_ENOMEM, message in err).
 */
int ss_chunks_row(ss_chunks *c, size_t j, const double **y, const unsigned char **ok, ss_err *err);

/** Stop the workers, wait for them, free everything. NULL is fine. */
void ss_chunks_free(ss_chunks *c);

#endif
