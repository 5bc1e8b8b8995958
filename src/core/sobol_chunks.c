/*
 * sobol_chunks.c - the rows of a Sobol design evaluated a chunk at a time in
 * the batched engine's lanes, on worker threads (core/sobol_chunks.h).
 *
 * Chunk k holds this process's rows o = k R .. k R + R - 1 (o counts the
 * process's rows; R = about 256 points / (d + 2): 16 runs a lane, so the
 * lanes stay busy, and chunks small enough that two threads share even the
 * default analysis, N = 256, evenly; at N = 2048 chunks of 1,024 points
 * were as fast on one thread and 1.68x-1.93x faster on two, these 1.97x).
 * With workers, the chunks are the units of the ordered slots
 * (core/slots.h): workers claim them in order into a ring of 2 per thread,
 * the caller takes them in order and releases each when it asks for a row
 * of the next, so at most the ring's chunks exist at once.  A chunk that
 * fails (out of memory) stops the claiming of later ones, and the caller
 * gets its error when it comes to it.  Without workers the caller evaluates
 * each chunk when it first needs it.  Depends on slots.c and the caller's
 * ss_chunk_fn.
 */
#include <stdlib.h>
#include <string.h>
#include "core/slots.h"
#include "core/sobol_chunks.h"

/* Points of a chunk, about. */
#define CHUNK_POINTS 256
/* Chunks in flight per worker thread. */
#define CHUNKS_PER_THREAD 2

typedef struct chunk {
    double *x, *y;        /* [R (d + 2) d] the points, [R (d + 2) nout] their outputs */
    unsigned char *ok;    /* [R (d + 2)] 1: y holds the point's outputs */
    int rc;               /* the evaluation's status, its message in err */
    ss_err err;
} chunk;

typedef struct worker {
    ss_chunks *c;
    ss_batch *b;
} worker;

struct ss_chunks {
    const double *X;
    size_t d, nout, np, R;       /* np = d + 2 points a row, R rows a chunk */
    uint64_t rank, nranks, nrows, nchunks; /* nrows: this process's rows below the limit */
    ss_chunk_fn fn;
    void *payload;
    chunk *ch;                   /* [nslots] chunk k in ch[k % nslots] */
    unsigned nslots, nthreads;   /* nthreads 0: the caller evaluates */
    worker *w;                   /* [max(nthreads, 1)]; w[0].b is the caller's without workers */
    ss_slots sl;
    uint64_t cur;                /* the chunk the caller holds, UINT64_MAX: none */
};

void ss_sobol_row_points(const double *xa, const double *xb, size_t d, double *out)
{
    size_t i;
    memcpy(out, xa, d * sizeof *out);
    memcpy(out + d, xb, d * sizeof *out);
    for (i = 0; i < d; i++) {
        memcpy(out + (2 + i) * d, xa, d * sizeof *out);
        out[(2 + i) * d + i] = xb[i];
    }
}

/* Evaluate chunk k into h with b. */
static int fill(ss_chunks *c, chunk *h, uint64_t k, ss_batch *b, ss_err *err)
{
    size_t d = c->d, np = c->np, rows = 0, q;
    uint64_t o0 = k * c->R;
    for (q = 0; q < c->R && o0 + q < c->nrows; q++, rows++) {
        const double *xa = c->X + (c->rank + (o0 + q) * c->nranks) * 2 * d;
        ss_sobol_row_points(xa, xa + d, d, h->x + q * np * d);
    }
    memset(h->ok, 0, rows * np);
    return c->fn(b, h->x, rows * np, h->y, h->ok, c->payload, err);
}

/* Chunk k into its slot (ss_slots_work). */
static int work_chunk(void *arg, uint64_t k)
{
    worker *w = arg;
    chunk *h = &w->c->ch[k % w->c->nslots];
    ss_err_clear(&h->err);
    h->rc = fill(w->c, h, k, w->b, &h->err);
    return h->rc;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    ss_slots_work(&w->c->sl, work_chunk, w);
    return NULL;
}

int ss_chunks_start(ss_chunks **out, const double *X, size_t d, size_t nout, size_t limit,
                    uint64_t rank, uint64_t nranks, unsigned threads, ss_chunk_fn fn,
                    void *payload, volatile int *interrupt, ss_err *err)
{
    ss_chunks *c = calloc(1, sizeof *c);
    unsigned i, nw;
    *out = NULL;
    if (!c)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    c->X = X;
    c->d = d;
    c->nout = nout;
    c->np = d + 2;
    c->R = CHUNK_POINTS / c->np ? CHUNK_POINTS / c->np : 1;
    c->rank = rank;
    c->nranks = nranks ? nranks : 1;
    c->nrows = limit > rank ? (limit - rank + c->nranks - 1) / c->nranks : 0;
    c->nchunks = (c->nrows + c->R - 1) / c->R;
    c->fn = fn;
    c->payload = payload;
    c->cur = UINT64_MAX;
    ss_slots_plan(threads, SS_CHUNKS_MAX_THREADS, CHUNKS_PER_THREAD, c->nchunks, &c->nthreads,
                  &c->nslots);
    if (c->nthreads <= 1) {
        c->nthreads = 0;
        c->nslots = 1;
    }
    nw = c->nthreads ? c->nthreads : 1;
    c->ch = calloc(c->nslots, sizeof *c->ch);
    c->w = calloc(nw, sizeof *c->w);
    if (!c->ch || !c->w)
        goto nomem;
    for (i = 0; i < c->nslots; i++) {
        c->ch[i].x = malloc(c->R * c->np * d * sizeof *c->ch[i].x);
        c->ch[i].y = malloc(c->R * c->np * nout * sizeof *c->ch[i].y);
        c->ch[i].ok = malloc(c->R * c->np);
        if (!c->ch[i].x || !c->ch[i].y || !c->ch[i].ok)
            goto nomem;
    }
    for (i = 0; i < nw; i++) {
        c->w[i].c = c;
        if (!(c->w[i].b = ss_batch_new()))
            goto nomem;
    }
    if (c->nthreads) {
        int rc;
        if (ss_slots_init(&c->sl, c->nslots, c->nthreads, c->nchunks, interrupt))
            goto nomem;
        if ((rc = ss_slots_start(&c->sl, worker_main, c->w, sizeof *c->w, err))) {
            ss_chunks_free(c);
            return rc;
        }
    }
    *out = c;
    return SS_OK;
nomem:
    ss_chunks_free(c);
    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
}

int ss_chunks_row(ss_chunks *c, size_t j, const double **y, const unsigned char **ok, ss_err *err)
{
    uint64_t o, k;
    chunk *h;
    *y = NULL;
    *ok = NULL;
    if (j < c->rank || (j - c->rank) % c->nranks)
        return SS_OK;
    o = (j - c->rank) / c->nranks;
    if (o >= c->nrows)
        return SS_OK;
    k = o / c->R;
    if (k != c->cur) {
        if (!c->nthreads) {
            int rc = fill(c, &c->ch[0], k, c->w[0].b, err);
            if (rc)
                return rc;
        } else {
            if (c->cur != UINT64_MAX)
                ss_slots_release(&c->sl, c->cur);
            c->cur = UINT64_MAX;
            if (ss_slots_wait(&c->sl, k, NULL, NULL))
                return SS_EINTR;
            h = &c->ch[k % c->nslots];
            if (h->rc) {
                *err = h->err;
                return h->rc;
            }
        }
        c->cur = k;
    }
    h = &c->ch[k % c->nslots];
    *y = h->y + (o % c->R) * c->np * c->nout;
    *ok = h->ok + (o % c->R) * c->np;
    return SS_OK;
}

void ss_chunks_free(ss_chunks *c)
{
    unsigned i;
    if (!c)
        return;
    if (c->sl.ready)
        ss_slots_finish(&c->sl);
    ss_slots_destroy(&c->sl);
    for (i = 0; c->ch && i < c->nslots; i++) {
        free(c->ch[i].x);
        free(c->ch[i].y);
        free(c->ch[i].ok);
    }
    for (i = 0; c->w && i < (c->nthreads ? c->nthreads : 1); i++)
        ss_batch_free(c->w[i].b);
    free(c->ch);
    free(c->w);
    free(c);
}
