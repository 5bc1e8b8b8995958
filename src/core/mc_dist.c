/*
 * mc_dist.c - the Monte Carlo over several processes (opts.dist,
 * stratsim/transport.h): every process runs its own blocks and merges its
 * share of every block's series, the block statistics travel packed, and
 * at the end rank 0 receives the others' shares of the totals (see
 * mc_merge_all_dist).
 */
#include "core/mc_internal.h"

/* ------------------------------------------------ several processes */

/* Wait for local block k's slot to be done (or failed); NULL if interrupted. */
static mc_slot *wait_done(mc_ctx *c, uint64_t k)
{
    return ss_slots_wait(&c->sl, k, NULL, NULL) ? NULL : &c->slots[k % c->nslots];
}

/*
 * Statistics that travel: series [lo, hi) of a block (or of the totals):
 * the tag (the block, or nblocks for a rank's totals), the count of runs,
 * mean[lo, hi), m2[lo, hi), then the packed sketches lo..hi-1.
 */
static int pack_stats(uint64_t tag, uint64_t cnt, const double *mean, const double *m2,
                      ss_sketch *const *sk, size_t lo, size_t hi, unsigned char **out, size_t *len)
{
    size_t j, k = hi - lo, n = 2 * sizeof(uint64_t) + 2 * k * sizeof(double), at;
    unsigned char *b;
    for (j = lo; j < hi; j++)
        n += ss_sketch_packed_size(sk[j]);
    if (!(b = malloc(n)))
        return SS_ENOMEM;
    memcpy(b, &tag, sizeof tag);
    memcpy(b + sizeof tag, &cnt, sizeof cnt);
    at = 2 * sizeof(uint64_t);
    if (k) {
        memcpy(b + at, mean + lo, k * sizeof(double));
        memcpy(b + at + k * sizeof(double), m2 + lo, k * sizeof(double));
    }
    at += 2 * k * sizeof(double);
    for (j = lo; j < hi; j++) {
        ss_sketch_pack(sk[j], b + at);
        at += ss_sketch_packed_size(sk[j]);
    }
    *out = b;
    *len = n;
    return SS_OK;
}

/* The reverse of pack_stats(): SS_EINVAL for another tag, a count above
 * `maxcnt` or damaged data, SS_ENOMEM. */
static int unpack_stats(uint64_t tag, uint64_t maxcnt, uint64_t *cnt, double *mean, double *m2,
                        ss_sketch **sk, size_t lo, size_t hi, const unsigned char *b, size_t len)
{
    size_t j, k = hi - lo, at = 2 * sizeof(uint64_t) + 2 * k * sizeof(double), used;
    uint64_t got;
    int rc;
    if (len < at)
        return SS_EINVAL;
    memcpy(&got, b, sizeof got);
    memcpy(cnt, b + sizeof got, sizeof *cnt);
    if (got != tag || *cnt > maxcnt)
        return SS_EINVAL;
    if (k) {
        memcpy(mean + lo, b + 2 * sizeof(uint64_t), k * sizeof(double));
        memcpy(m2 + lo, b + 2 * sizeof(uint64_t) + k * sizeof(double), k * sizeof(double));
    }
    for (j = lo; j < hi; j++) {
        if ((rc = ss_sketch_unpack(sk[j], b + at, len - at, &used)) != SS_OK)
            return rc;
        at += used;
    }
    return at == len ? SS_OK : SS_EINVAL;
}

/* The series rank r merges: [lo, hi), an even share of the nv series. */
static void share_of(const mc_ctx *c, uint64_t r, size_t *lo, size_t *hi)
{
    *lo = (size_t)((uint64_t)c->nv * r / c->nranks);
    *hi = (size_t)((uint64_t)c->nv * (r + 1) / c->nranks);
}

/* Tell every other rank that this one failed at `unit` (and sends no more). */
static void post_failure(mc_ctx *c, uint64_t unit, int rc, const ss_err *e)
{
    const ss_transport *d = c->o->dist;
    uint64_t p;
    ss_err ignored;
    for (p = 0; p < c->nranks; p++)
        if (p != c->rank)
            d->post((unsigned)p, unit, rc, e, NULL, 0, d->payload, &ignored);
}

/* This rank's block b (local block k): post every other rank its share,
 * merge its own share; a failure is posted to the others too. */
static int own_block(mc_ctx *c, uint64_t b, size_t lo, size_t hi, ss_err *err)
{
    const ss_transport *d = c->o->dist;
    ss_transport_stats *st = c->stats;
    uint64_t k = b / c->nranks, p;
    mc_slot *s = wait_done(c, k);
    size_t plo, phi, len;
    unsigned char *data;
    double t0;
    ss_err e;
    int rc;
    if (!s || s->rc) {
        if (!s)
            rc = ss_err_set(&e, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64
                            " runs", b * c->B, c->runs);
        else {
            e = s->err;
            rc = s->rc;
        }
        post_failure(c, b, rc, &e);
        *err = e;
        return rc;
    }
    for (p = 0; p < c->nranks; p++) {
        if (p == c->rank)
            continue;
        share_of(c, p, &plo, &phi);
        t0 = st ? mc_thread_cpu() : 0.0;
        if (pack_stats(b, s->n, s->mean, s->m2, s->sk, plo, phi, &data, &len) != SS_OK) {
            rc = ss_err_set(&e, SS_ENOMEM, "", "out of memory");
            post_failure(c, b, rc, &e);
            *err = e;
            return rc;
        }
        if (st) {
            st->pack_cpu += mc_thread_cpu() - t0;
            st->bytes_out += len;
        }
        if ((rc = d->post((unsigned)p, b, SS_OK, NULL, data, len, d->payload, err)) != SS_OK)
            return rc;
    }
    t0 = st ? mc_thread_cpu() : 0.0;
    rc = mc_merge_slot(c->t, s, lo, hi);
    if (st)
        st->merge_cpu += mc_thread_cpu() - t0;
    if (rc != SS_OK) {
        rc = ss_err_set(&e, SS_ENOMEM, "", "out of memory");
        post_failure(c, b + c->nranks, rc, &e); /* the others wait for the next one */
        *err = e;
        return rc;
    }
    ss_slots_release(&c->sl, k);
    return SS_OK;
}

/* Block b of rank o: fetch this rank's share of it and merge it. */
static int other_block(mc_ctx *c, uint64_t b, uint64_t o, mc_slot *scratch, size_t lo, size_t hi,
                       ss_err *err)
{
    const ss_transport *d = c->o->dist;
    ss_transport_stats *st = c->stats;
    void *msg = NULL;
    size_t mlen = 0;
    uint64_t cnt;
    double t0;
    int rc;
    if ((rc = d->fetch((unsigned)o, b, &msg, &mlen, d->payload, err)) != SS_OK)
        return rc;
    t0 = st ? mc_thread_cpu() : 0.0;
    rc = unpack_stats(b, c->B, &cnt, scratch->mean, scratch->m2, scratch->sk, lo, hi, msg, mlen);
    free(msg);
    if (st) {
        st->pack_cpu += mc_thread_cpu() - t0;
        st->bytes_in += mlen;
    }
    if (rc == SS_EINVAL)
        return ss_err_set(err, SS_EINVAL, "", "block %" PRIu64 " received from rank %" PRIu64
                          " is damaged", b, o);
    scratch->n = (size_t)cnt;
    t0 = st ? mc_thread_cpu() : 0.0;
    if (rc == SS_OK)
        rc = mc_merge_slot(c->t, scratch, lo, hi);
    if (st)
        st->merge_cpu += mc_thread_cpu() - t0;
    return rc != SS_OK ? ss_err_set(err, SS_ENOMEM, "", "out of memory") : SS_OK;
}

/* The totals: every rank's share [lo, hi) to rank 0, which takes them as
 * they are. */
static int gather_totals(mc_ctx *c, size_t lo, size_t hi, ss_err *err)
{
    const ss_transport *d = c->o->dist;
    ss_transport_stats *st = c->stats;
    uint64_t p, cnt;
    size_t plo, phi, len;
    unsigned char *data;
    double t0 = st ? mc_thread_cpu() : 0.0;
    int rc = SS_OK;
    if (c->rank > 0) {
        if (pack_stats(c->nblocks, (uint64_t)c->t->n, c->t->mean, c->t->m2, c->t->sk, lo, hi, &data,
                       &len) != SS_OK)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        if (st)
            st->bytes_out += len;
        rc = d->post(0, c->nblocks, SS_OK, NULL, data, len, d->payload, err);
    } else {
        for (p = 1; p < c->nranks && rc == SS_OK; p++) {
            void *msg = NULL;
            size_t mlen = 0;
            if ((rc = d->fetch((unsigned)p, c->nblocks, &msg, &mlen, d->payload, err)) != SS_OK)
                break;
            share_of(c, p, &plo, &phi);
            rc = unpack_stats(c->nblocks, c->runs, &cnt, c->t->mean, c->t->m2, c->t->sk, plo, phi,
                              msg, mlen);
            free(msg);
            if (st)
                st->bytes_in += mlen;
            if (rc == SS_OK && (double)cnt != c->t->n)
                rc = SS_EINVAL;
            if (rc == SS_EINVAL)
                rc = ss_err_set(err, SS_EINVAL, "", "the totals received from rank %" PRIu64
                                " are damaged", p);
            else if (rc != SS_OK)
                rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        }
    }
    if (st)
        st->gather_cpu += mc_thread_cpu() - t0;
    return rc;
}

/*
 * The calling thread with several processes. Every rank goes through every
 * block in block order and merges its share of the series (share_of) into
 * its totals: from its own slot for its own blocks, after posting every
 * other rank its share of the block; from the block's owner otherwise. So
 * each series is merged block after block exactly as in one process, and
 * the merging is spread over the ranks (each merges 1/N of every block)
 * rather than done by rank 0 alone. At the end the ranks other than 0 send
 * rank 0 their share of the totals, which rank 0 takes as they are (no
 * merging): the complete totals of one process.
 */
int mc_merge_all_dist(mc_ctx *c, mc_slot *scratch, ss_err *err)
{
    uint64_t b;
    size_t lo, hi;
    int rc;
    share_of(c, c->rank, &lo, &hi);
    for (b = 0; b < c->nblocks; b++) {
        uint64_t done = (b + 1) * c->B < c->runs ? (b + 1) * c->B : c->runs, o = b % c->nranks;
        rc = o == c->rank ? own_block(c, b, lo, hi, err) : other_block(c, b, o, scratch, lo, hi, err);
        if (rc != SS_OK)
            return rc;
        if (c->o->progress && c->rank == 0)
            c->o->progress(done, c->runs, c->o->payload);
        if (mc_interrupted(c))
            return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                              done, c->runs);
    }
    return gather_totals(c, lo, hi, err);
}
