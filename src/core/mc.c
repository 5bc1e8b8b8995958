/*
 * mc.c - the Monte Carlo engine: draws applied to a copy of the model,
 * worker threads running blocks of runs (scalar or batched), the ordered
 * merge into means, variances and quantile sketches, and ss_mc_run. Its
 * other parts: mc_rng.c (the per-run streams), mc_result.c (the result
 * object and its CSV), mc_memory.c (the memory estimate), mc_dist.c
 * (several processes), sharing mc_internal.h.
 *
 * Threading.  Runs are cut into blocks of B = ss_mc_block_runs(nv)
 * consecutive indices.  Workers claim blocks in increasing order into a ring
 * of 2 * threads ordered slots (core/slots.h: block b lives in slot
 * b % nslots and may be claimed only once block b - nslots has been merged),
 * so at most nslots blocks are in flight and memory is bounded.  A worker
 * runs its block in run order, keeping the results if on_run wants them, and
 * collects the runs' values in a buffer of its own: eight runs at a time in
 * a small run-major staging buffer, then moved series by series (one cache
 * line per series, streamed) into the series-major block buffer.  At the end
 * of the block it computes from each series' values the block's mean, sum of
 * squared deviations and t-digest (ss_sketch_set_values, with one plan for
 * every series) into the slot, and marks the slot done.  Merging into the
 * totals is done by the workers too, strictly in block order and one worker
 * at a time (merge_ready: whoever finishes the next block in order while
 * nobody merges takes over): Chan's formula and ss_sketch_merge() (a linear
 * merge of sorted centroids).  The calling thread waits for the slots in
 * block order to be merged, calls on_run for their runs, then frees them; as
 * the block partition does not depend on the thread count, neither do the
 * results.  It polls the interrupt flag while it waits (timed waits of
 * 20 ms).  Each worker runs its runs in a workspace of its own (ss_sim_run_ws),
 * which also resolves the run's model (so this module does not resolve it a
 * second time).
 * Stopping.  A failing run records its block as the lowest failed block (an
 * atomic minimum, ss_slots_fail); workers stop claiming or running later
 * blocks, merging stops there, and the calling thread, reaching that block,
 * returns its error: always the error of the lowest failing run index.  Runs
 * in flight are stopped through the epoch callback, which this module wraps
 * around the caller's template (it also forwards on_epoch/on_output to the
 * template with the template's payload).
 * Several processes (opts.dist, transport.h): see mc_merge_all_dist(); the
 * block statistics travel packed, and each process merges its own share of
 * the series, so nobody merges more than 1/N of every block.
 * Depends on model.c, param.c, sim.c, result.c, dist.c, sketch.c, numfmt.c,
 * csv.c, slots.c and GSL.
 */
#include "core/finite.h"
#include "core/mc_internal.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------- the engine */


/* CPU seconds of the calling thread. */
double mc_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int mc_interrupted(const mc_ctx *c)
{
    return c->interrupt && __atomic_load_n(c->interrupt, __ATOMIC_RELAXED);
}

/* This process's block b is its local block (the slots' unit) k. */
static uint64_t local_of(const mc_ctx *c, uint64_t b)
{
    return (b - c->rank) / c->nranks;
}

/* 1 if a worker running block b should give up. */
static int must_stop(mc_ctx *c, uint64_t b)
{
    return ss_slots_cancelled(&c->sl, local_of(c, b)) || mc_interrupted(c);
}

static void note_failure(mc_ctx *c, uint64_t b)
{
    ss_slots_fail(&c->sl, local_of(c, b));
}

/* Epoch callback of every run: stop if asked, else forward to the template. */
static int mc_on_epoch(ss_run *run, double t, void *payload, ss_err *err)
{
    mc_worker *w = payload;
    if (must_stop(w->c, w->block))
        return ss_err_set(err, SS_EINTR, "", "interrupted at t=%.10g", t);
    if (w->ro_user.on_epoch)
        return w->ro_user.on_epoch(run, t, w->ro_user.payload, err);
    return SS_OK;
}

static int mc_on_output(ss_run *run, double t, double *out, void *payload, ss_err *err)
{
    mc_worker *w = payload;
    return w->ro_user.on_output(run, t, out, w->ro_user.payload, err);
}

/* Prefix err's message with "run N: ". */
static int run_error(ss_err *err, int rc, uint64_t run)
{
    char msg[sizeof err->msg], path[sizeof err->path];
    snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : ss_strerror(rc));
    snprintf(path, sizeof path, "%s", err->path);
    return ss_err_set(err, rc, path, "run %" PRIu64 ": %s", run, msg);
}

/* Apply the draws of run i to m (the run's copy). */
static int apply_draws(mc_ctx *c, ss_model *m, gsl_rng *rng, ss_err *err)
{
    size_t j;
    int rc;
    for (j = 0; j < c->nparams; j++) {
        ss_param h;
        double x = ss_dist_sample(&c->params[j].dist, rng);
        if ((rc = ss_param_lookup(&h, m, c->params[j].path, err)))
            return rc;
        if ((rc = ss_param_set(&h, x, err))) {
            char v[40], msg[sizeof err->msg];
            ss_fmt_double(v, sizeof v, x);
            snprintf(msg, sizeof msg, "%s", err->msg);
            return ss_err_set(err, rc, c->params[j].path, "%s = %s: %s", c->params[j].path, v, msg);
        }
    }
    for (j = 0; j < c->noutages; j++) {
        const ss_mc_outage *ou = &c->outages[j];
        double t = m->t0;
        if (!(ou->rate > 0))
            continue;
        for (;;) {
            ss_event ev;
            double sev;
            t += gsl_ran_exponential(rng, 1.0 / ou->rate);
            if (!(t <= m->t1))
                break;
            sev = ss_dist_sample(&ou->severity, rng);
            if (!(sev >= SS_MC_SEVERITY_MIN))
                sev = SS_MC_SEVERITY_MIN; /* also NaN */
            if (sev > 1.0 - SS_MC_SEVERITY_MIN)
                sev = 1.0 - SS_MC_SEVERITY_MIN;
            memset(&ev, 0, sizeof ev);
            ev.t = t;
            ev.kind = SS_EV_OUTAGE;
            ev.provider = c->outage_prov[j];
            ev.segment = -1;
            ev.amount = sev;
            if ((rc = ss_model_add_event(m, &ev, err)))
                return rc;
        }
    }
    return SS_OK;
}

/* Error naming the non-finite value at flat index j of array a of r. */
static int nonfinite(const ss_result *r, int a, size_t j, ss_err *err)
{
    size_t np = r->np, nk = r->nk;
    switch (a) {
    case 0:
        return ss_err_set(err, SS_ENUMERIC, "", "t=%.10g: %s of provider '%s' in segment '%s' is not finite",
                          r->t[j / (SS_NPS * np * nk)], ss_metric_ps_name((int)(j / (np * nk) % SS_NPS)),
                          r->prov_ids[j / nk % np], r->seg_ids[j % nk]);
    case 1:
        return ss_err_set(err, SS_ENUMERIC, "", "t=%.10g: %s of provider '%s' is not finite",
                          r->t[j / (SS_NP * np)], ss_metric_p_name((int)(j / np % SS_NP)),
                          r->prov_ids[j % np]);
    case 2:
        return ss_err_set(err, SS_ENUMERIC, "", "t=%.10g: %s of segment '%s' is not finite",
                          r->t[j / (SS_NS * nk)], ss_metric_s_name((int)(j / nk % SS_NS)),
                          r->seg_ids[j % nk]);
    default:
        return ss_err_set(err, SS_ENUMERIC, "", "t=%.10g: derived metric '%s' is not finite",
                          r->t[j / r->nextra], r->extra_names[j % r->nextra]);
    }
}

/* Flatten a run's values into v[nv], checking that its grid matches. */
static int gather(const mc_ctx *c, const ss_result *r, double *v, ss_err *err)
{
    const ss_result *s = c->shape;
    size_t ti, kj, base;
    int a;
    if (r->nt != s->nt || r->np != s->np || r->nk != s->nk || r->nextra != s->nextra)
        return ss_err_set(err, SS_EINVAL, "", "the run's output grid differs from the scenario's");
    for (ti = 0; ti < r->nt; ti++)
        if (r->t[ti] != s->t[ti])
            return ss_err_set(err, SS_EINVAL, "", "the run's output times differ from the scenario's");
    for (a = 0, kj = 0, base = 0; a < 4; a++) {
        size_t n = c->l.n[a], j;
        const double *src = mc_result_array(r, a);
        if (!ss_all_finite(src, n))
            for (j = 0; j < n; j++)
                if (!isfinite(src[j]))
                    return nonfinite(r, a, j, err);
        if (c->keep) {
            for (; kj < c->nv && c->keep[kj] < base + n; kj++)
                v[kj] = src[c->keep[kj] - base];
            base += n;
            continue;
        }
        if (n)
            memcpy(v, src, n * sizeof *v);
        v += n;
    }
    return SS_OK;
}

/* One run: draws, then simulate the run's copy itself (ss_sim_run_own
 * resolves it, with ss_model_resolve's checks and messages, and frees it).
 * On success *out holds its result. */
static int one_run(mc_worker *w, uint64_t i, ss_result **out, ss_err *err)
{
    mc_ctx *c = w->c;
    ss_model *m;
    ss_run_opts ro;
    int rc;
    *out = NULL;
    ss_mc_rng_seed(w->rng, c->o->seed, i);
    m = ss_model_copy(c->base);
    if (!m)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (c->tmpl) {
        w->ro_user = *c->tmpl;
    } else {
        ss_run_opts init = SS_RUN_OPTS_INIT;
        w->ro_user = init;
    }
    rc = apply_draws(c, m, w->rng, err);
    if (!rc && c->o->prepare)
        rc = c->o->prepare(w->index, i, m, w->rng, &w->ro_user, c->o->payload, err);
    if (!rc) {
        ro = w->ro_user;
        ro.on_epoch = mc_on_epoch;
        ro.on_output = w->ro_user.on_output ? mc_on_output : NULL;
        ro.payload = w;
        ro.interrupt = NULL; /* polled by mc_on_epoch */
        return ss_sim_run_own(w->ws, out, m, &ro, err);
    }
    ss_model_free(m);
    return rc;
}

/* The sum of x[r] - c over x[0, n), or with `squares` of (x[r] - c)^2, in
 * four interleaved partial sums: a fixed order of operations
 * (deterministic) without one long dependency chain. */
static double sum_part(const double *x, size_t n, double c, int squares)
{
    double a[4] = { 0.0, 0.0, 0.0, 0.0 };
    size_t r = 0, q;
    if (squares) {
        for (; r + 4 <= n; r += 4)
            for (q = 0; q < 4; q++)
                a[q] += (x[r + q] - c) * (x[r + q] - c);
        for (; r < n; r++)
            a[0] += (x[r] - c) * (x[r] - c);
    } else {
        for (; r + 4 <= n; r += 4)
            for (q = 0; q < 4; q++)
                a[q] += x[r + q] - c;
        for (; r < n; r++)
            a[0] += x[r] - c;
    }
    return (a[0] + a[1]) + (a[2] + a[3]);
}

/*
 * The block's statistics of every series, from the worker's buffer of the
 * block's values: mean and sum of squared deviations (two passes), and the
 * t-digest of the values (ss_sketch_set_values, with one plan for every
 * series), so the slot keeps at most about compression + 2 centroids per
 * series rather than B values. The outcome depends only on the block's
 * values.
 */
static int block_stats(mc_worker *w, mc_slot *s)
{
    mc_ctx *c = w->c;
    size_t nv = c->nv, B = c->B, n = s->n, j;
    if (n == 0)
        return SS_OK;
    if (!w->plan || ss_sketch_plan_values(w->plan) != n) {
        ss_sketch_plan_free(w->plan);
        if (ss_sketch_plan_new(&w->plan, ss_sketch_compression(s->sk[0]), n, NULL) != SS_OK) {
            w->plan = NULL;
            return SS_ENOMEM;
        }
    }
    for (j = 0; j < nv; j++) {
        double *x = w->vals + j * B, mean;
        /* shifted by the first value: exact for a series that does not vary */
        mean = x[0] + sum_part(x, n, x[0], 0) / (double)n;
        s->mean[j] = mean;
        s->m2[j] = sum_part(x, n, mean, 1);
        if (ss_sketch_set_values(s->sk[j], w->plan, x, w->sort_tmp, w->sort_cnt) != SS_OK)
            return SS_ENOMEM; /* values were checked finite in gather() */
    }
    return SS_OK;
}

/*
 * Move the values of the block's runs [first, first + k) from the row buffer
 * into the series-major block buffer: k consecutive doubles (one cache line
 * when k == MC_GROUP) per series, rather than one scattered store per value
 * and run.
 */
static void flush_from(mc_worker *w, const double *rows, size_t first, size_t k)
{
    size_t nv = w->c->nv, B = w->c->B, j, q;
#ifdef __SSE2__
    if (k == MC_GROUP && MC_GROUP == 8 && B % 8 == 0) {
        /* whole cache lines (vals is 64-byte aligned, B and first are
         * multiples of 8): stream them, without reading the lines first */
        for (j = 0; j < nv; j++) {
            double *dst = w->vals + j * B + first;
            const double *src = rows + j;
            for (q = 0; q < 8; q += 2)
                _mm_stream_pd(dst + q, _mm_set_pd(src[(q + 1) * nv], src[q * nv]));
        }
        _mm_sfence();
        return;
    }
#endif
    for (j = 0; j < nv; j++) {
        double *dst = w->vals + j * B + first;
        for (q = 0; q < k; q++)
            dst[q] = rows[q * nv + j];
    }
}

static void flush_rows(mc_worker *w, size_t first, size_t k)
{
    flush_from(w, w->rows, first, k);
}

/* The batched engine's view of a block (ss_batch_io). */
typedef struct mc_bio {
    mc_worker *w;
    mc_slot *s;
    uint64_t first, b;
} mc_bio;

/* Run first + r's model: a copy of the scenario with its draws, resolved. */
static int bio_load(void *ctx, size_t r, ss_model **out)
{
    mc_bio *x = ctx;
    mc_ctx *c = x->w->c;
    ss_model *m;
    ss_err e;
    ss_err_clear(&e);
    *out = NULL;
    ss_mc_rng_seed(x->w->rng, c->o->seed, x->first + r);
    if (!(m = ss_model_copy(c->base)))
        return SS_ENOMEM;
    if (apply_draws(c, m, x->w->rng, &e) || ss_model_resolve(m, &e)) {
        ss_model_free(m);
        return SS_EINVAL;
    }
    *out = m;
    return SS_OK;
}

/* Runs of group g (MC_GROUP consecutive runs) in a block of n runs. */
static size_t group_runs(size_t g, size_t n)
{
    size_t a = g * MC_GROUP;
    return n - a < MC_GROUP ? n - a : MC_GROUP;
}

/* A worker's block buffer (n bytes, 64-byte aligned; free()d): one of
 * 2 MiB or more is 2 MiB-aligned and marked for transparent huge pages, so
 * that its first use faults in a dozen pages, not thousands (values are
 * the same either way; without huge pages the hint does nothing). */
static void *block_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    void *p;
    if (n < huge)
        return aligned_alloc(64, (n + 63) / 64 * 64);
    n = (n + huge - 1) / huge * huge;
    if (!(p = aligned_alloc(huge, n)))
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n, MADV_HUGEPAGE);
#endif
    return p;
}

/* Move the complete groups at the start of the window into the block buffer. */
static void flush_groups(mc_worker *w)
{
    size_t nv = w->c->nv, B = w->c->B, q, j;
    while (w->gbase * MC_GROUP < w->bruns) {
        size_t slot = w->gbase % w->ngroups, k = group_runs(w->gbase, w->bruns),
               first = w->gbase * MC_GROUP;
        const double *rows = w->grows + slot * MC_GROUP * nv;
        int direct = 0;
        if (w->gcount[slot] < k)
            break;
        for (q = 0; q < k; q++)
            direct |= w->ok[first + q] != 1;
        if (!direct) {
            flush_from(w, rows, first, k);
        } else {
            /* some runs failed or were written in place: copy the others one by one */
            for (q = 0; q < k; q++)
                if (w->ok[first + q] == 1)
                    for (j = 0; j < nv; j++)
                        w->vals[j * B + first + q] = rows[q * nv + j];
        }
        w->gcount[slot] = 0;
        w->gbase++;
    }
}

/* Run first + r is done: its values into column r of the block buffer (via
 * the window of groups, whole cache lines at a time). */
static void bio_done(void *ctx, size_t r, const ss_result *res)
{
    mc_bio *x = ctx;
    mc_worker *w = x->w;
    mc_ctx *c = w->c;
    size_t nv = c->nv, B = c->B, g = r / MC_GROUP, j;
    int inwin = g < w->gbase + w->ngroups;
    double *row = inwin ? w->grows + ((g % w->ngroups) * MC_GROUP + r % MC_GROUP) * nv : w->rows;
    ss_err e;
    ss_err_clear(&e);
    w->ok[r] = 0;
    if (res && !gather(c, res, row, &e)) {
        ss_result *cp = NULL;
        if (x->s->res) {
            if ((cp = ss_result_copy(res)))
                x->s->res[r] = cp;
        }
        if (!x->s->res || cp) {
            w->ok[r] = 1;
            if (!inwin) {
                for (j = 0; j < nv; j++)
                    w->vals[j * B + r] = row[j];
                w->ok[r] = 2;
            }
        }
    }
    if (inwin) {
        w->gcount[g % w->ngroups]++;
        flush_groups(w);
    }
}

static int bio_stop(void *ctx)
{
    mc_bio *x = ctx;
    return must_stop(x->w->c, x->b);
}

/*
 * Block b with the batched engine, then the runs it could not mc_finish (their
 * error, or a numerical failure the scalar engine may report differently)
 * with the scalar engine, in run order.
 */
static void run_block_batched(mc_worker *w, mc_slot *s, uint64_t b, uint64_t first, uint64_t last)
{
    mc_ctx *c = w->c;
    size_t n = (size_t)(last - first), r, nv = c->nv, B = c->B, j;
    mc_bio x = { w, s, first, b };
    ss_batch_io io = { bio_load, bio_done, bio_stop, &x };
    int rc;
    memset(w->ok, 0, n);
    memset(w->gcount, 0, w->ngroups * sizeof *w->gcount);
    w->gbase = 0;
    w->bruns = n;
    rc = ss_batch_run(w->batch, SS_BATCH_LANES, n, &io, &s->err);
    if (rc) {
        s->rc = rc;
        if (rc != SS_EINTR)
            note_failure(c, b);
        return;
    }
    for (r = 0; r < n; r++) {
        ss_result *res = NULL;
        uint64_t i = first + r;
        if (w->ok[r]) {
            s->n++;
            continue;
        }
        atomic_fetch_add(&c->scalar_runs, 1);
        if (must_stop(c, b)) {
            s->rc = ss_err_set(&s->err, SS_EINTR, "", "stopped");
            return;
        }
        rc = one_run(w, i, &res, &s->err);
        if (!rc)
            rc = gather(c, res, w->rows, &s->err);
        if (rc) {
            ss_result_free(res);
            if (rc == SS_EINTR && must_stop(c, b)) {
                s->rc = rc;
                return;
            }
            s->rc = run_error(&s->err, rc, i);
            note_failure(c, b);
            return;
        }
        for (j = 0; j < nv; j++)
            w->vals[j * B + r] = w->rows[j];
        if (s->res)
            s->res[r] = res;
        else
            ss_result_free(res);
        s->n++;
    }
}

/* Run block b into slot s, in run order, then build its statistics. */
static void run_block(mc_worker *w, mc_slot *s, uint64_t b)
{
    mc_ctx *c = w->c;
    size_t nv = c->nv, B = c->B;
    uint64_t first = b * B, last = first + B;
    if (last > c->runs)
        last = c->runs;
    w->block = b;
    if (c->batched) {
        run_block_batched(w, s, b, first, last);
        if (s->rc == SS_OK && block_stats(w, s) != SS_OK) {
            s->rc = ss_err_set(&s->err, SS_ENOMEM, "", "out of memory");
            note_failure(c, b);
        }
        return;
    }
    for (uint64_t i = first; i < last; i++) {
        ss_result *r = NULL;
        int rc;
        if (must_stop(c, b)) {
            s->rc = ss_err_set(&s->err, SS_EINTR, "", "stopped");
            break;
        }
        rc = one_run(w, i, &r, &s->err);
        if (!rc)
            rc = gather(c, r, w->rows + s->n % MC_GROUP * nv, &s->err);
        if (rc) {
            ss_result_free(r);
            if (rc == SS_EINTR && must_stop(c, b)) {
                s->rc = rc;       /* stopped from outside: not this run's fault */
                break;
            }
            s->rc = run_error(&s->err, rc, i);
            note_failure(c, b);
            break;
        }
        if (s->res)
            s->res[s->n] = r;
        else
            ss_result_free(r);
        if (++s->n % MC_GROUP == 0)
            flush_rows(w, s->n - MC_GROUP, MC_GROUP);
    }
    if (s->rc == SS_OK && s->n % MC_GROUP)
        flush_rows(w, s->n - s->n % MC_GROUP, s->n % MC_GROUP);
    if (s->rc == SS_OK && block_stats(w, s) != SS_OK) {
        s->rc = ss_err_set(&s->err, SS_ENOMEM, "", "out of memory");
        note_failure(c, b);
    }
}


/* Merge series [lo, hi) of slot s into the totals (Chan et al.) and its
 * sketches into theirs; the count of runs moves on for every series. Each
 * series is merged on its own, so merging a block series by series in
 * shares (several processes, each its own) gives the bits of merging it
 * whole. */
int mc_merge_slot(mc_totals *t, const mc_slot *s, size_t lo, size_t hi)
{
    size_t j;
    double nb = (double)s->n, na = t->n, n = na + nb;
    if (s->n == 0)
        return SS_OK;
    for (j = lo; j < hi; j++) {
        if (na == 0) {
            t->mean[j] = s->mean[j];
            t->m2[j] = s->m2[j];
        } else {
            double d = s->mean[j] - t->mean[j];
            t->mean[j] += d * (nb / n);
            t->m2[j] += s->m2[j] + d * d * (na * nb / n);
        }
        if (ss_sketch_merge(t->sk[j], s->sk[j]) != SS_OK)
            return SS_ENOMEM;
    }
    t->n = n;
    return SS_OK;
}

/*
 * Merge the finished blocks that are next in block order into the totals,
 * as long as there are any: called by a worker with mu held, after it
 * finished a block. One worker at a time merges (c->merging); the others go
 * on running blocks, and whoever finishes the next block in order while
 * nobody merges takes over, so merging is shared by the workers (it runs
 * without the mutex). A failed block stops the merging (the calling thread
 * reports its error); so does an out-of-memory merge (c->merge_rc).
 */
static void merge_ready(mc_ctx *c)
{
    if (c->merging)
        return;
    c->merging = 1;
    while (c->next_merge < c->nblocks && !c->merge_rc && !atomic_load(&c->sl.stop)) {
        mc_slot *s = &c->slots[c->next_merge % c->nslots];
        int rc;
        if (!(ss_slots_state(&c->sl, c->next_merge) == SS_SLOT_DONE && s->rc == SS_OK))
            break;
        double t0 = c->stats ? mc_thread_cpu() : 0.0;
        ss_slots_unlock(&c->sl);
        rc = mc_merge_slot(c->t, s, 0, c->nv);
        ss_slots_lock(&c->sl);
        if (c->stats)
            c->merge_cpu += mc_thread_cpu() - t0;
        if (rc) {
            c->merge_rc = rc;
            ss_slots_wake(&c->sl);
        } else {
            ss_slots_set(&c->sl, c->next_merge, SLOT_MERGED);
            c->next_merge++;
        }
    }
    c->merging = 0;
}

static void *worker_main(void *arg)
{
    mc_worker *w = arg;
    mc_ctx *c = w->c;
    double t0 = c->stats ? mc_thread_cpu() : 0.0;
    uint64_t k; /* the local block (the block itself in one process) */
    ss_slots_lock(&c->sl);
    while (ss_slots_claim(&c->sl, &k)) {
        mc_slot *s = &c->slots[k % c->nslots];
        s->n = 0;
        s->rc = SS_OK;
        ss_err_clear(&s->err);
        ss_slots_unlock(&c->sl);
        run_block(w, s, c->rank + k * c->nranks);
        ss_slots_lock(&c->sl);
        ss_slots_set(&c->sl, k, SS_SLOT_DONE);
        merge_ready(c);
    }
    if (c->stats)
        c->worker_cpu += mc_thread_cpu() - t0;
    ss_slots_unlock(&c->sl);
    return NULL;
}

static void free_slot_results(mc_ctx *c, mc_slot *s)
{
    size_t r;
    if (!s->res)
        return;
    for (r = 0; r < c->B; r++) {
        ss_result_free(s->res[r]);
        s->res[r] = NULL;
    }
}

/* merge_all's wait for block b (mu held): over once the block is merged or
 * failed, or merging failed (merge_rc, kept as it was then). */
typedef struct merge_wait {
    mc_ctx *c;
    int merge_rc;
} merge_wait;

static int merged_or_failed(void *arg, uint64_t b)
{
    merge_wait *mw = arg;
    mc_ctx *c = mw->c;
    int st = ss_slots_state(&c->sl, b);
    mw->merge_rc = c->merge_rc;
    return st == SLOT_MERGED || (st == SS_SLOT_DONE && c->slots[b % c->nslots].rc) || c->merge_rc;
}

/* The calling thread's part: wait for the blocks, in order, to be merged by
 * the workers (or to fail), hand their runs to on_run, release their slots. */
static int merge_all(mc_ctx *c, ss_err *err)
{
    merge_wait mw = { c, SS_OK };
    uint64_t b;
    int rc;
    for (b = 0; b < c->nblocks; b++) {
        mc_slot *s = &c->slots[b % c->nslots];
        uint64_t done = (b + 1) * c->B < c->runs ? (b + 1) * c->B : c->runs;
        if (ss_slots_wait(&c->sl, b, merged_or_failed, &mw))
            return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                              b * c->B, c->runs);
        if ((rc = mw.merge_rc))
            return ss_err_set(err, rc, "", "out of memory");
        if (ss_slots_state(&c->sl, b) != SLOT_MERGED) {
            if (s->rc == SS_EINTR && mc_interrupted(c))
                return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                                  b * c->B, c->runs);
            if (err)
                *err = s->err;
            return s->rc;
        }
        if (c->o->on_run) {
            size_t r;
            for (r = 0; r < s->n; r++) {
                if ((rc = c->o->on_run(b * c->B + r, s->res[r], c->o->payload, err)))
                    return rc;
                ss_result_free(s->res[r]);
                s->res[r] = NULL;
            }
        }
        ss_slots_release(&c->sl, b);
        if (c->o->progress)
            c->o->progress(done, c->runs, c->o->payload);
        if (mc_interrupted(c))
            return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                              done, c->runs);
    }
    return SS_OK;
}



/* Check options, paths, distributions; fill the provider indices. */
static int validate(const ss_model *m, const ss_mc_param *params, size_t nparams,
                    const ss_mc_outage *outages, size_t noutages, int *prov,
                    const ss_mc_opts *o, const double *q, size_t nq, ss_err *err)
{
    ss_model *probe;
    size_t j, k;
    int rc = SS_OK;
    char path[64];
    if (o->runs < 1 || o->runs > MC_MAX_RUNS)
        return ss_err_set(err, SS_EINVAL, "runs", "runs must be between 1 and 2^62 (got %" PRIu64 ")",
                          o->runs);
    if (o->dist && (o->dist->nranks < 1 || o->dist->rank >= o->dist->nranks ||
                    (o->dist->nranks > 1 && (!o->dist->post || !o->dist->fetch))))
        return ss_err_set(err, SS_EINVAL, "", "ss_mc_run: bad distribution settings");
    if (o->dist && o->dist->nranks > 1 && o->on_run)
        return ss_err_set(err, SS_EINVAL, "per-run", "per-run results are not available with "
                          "several processes");
    if (o->threads > MC_MAX_THREADS)
        return ss_err_set(err, SS_EINVAL, "threads", "threads must be at most %d (got %u)",
                          MC_MAX_THREADS, o->threads);
    if (nq < 1 || nq > MC_MAX_QUANTILES)
        return ss_err_set(err, SS_EINVAL, "quantiles", "between 1 and %d quantiles are needed (got %zu)",
                          MC_MAX_QUANTILES, nq);
    for (j = 0; j < nq; j++) {
        char a[32], b[32];
        if (!(q[j] >= 0.0 && q[j] <= 1.0))
            return ss_err_set(err, SS_EINVAL, "quantiles", "quantile level %g is not in [0, 1]", q[j]);
        ss_mc_quantile_name(a, sizeof a, q[j]);
        for (k = 0; k < j; k++) {
            ss_mc_quantile_name(b, sizeof b, q[k]);
            if (strcmp(a, b) == 0)
                return ss_err_set(err, SS_EINVAL, "quantiles",
                                  "quantile levels %.17g and %.17g share the column name %s", q[k], q[j], a);
        }
    }
    if (o->compression != 0.0 && !(o->compression >= 10.0 && o->compression <= 1e5))
        return ss_err_set(err, SS_EINVAL, "compression", "sketch compression must be in [10, 100000] (got %g)",
                          o->compression);
    probe = ss_model_copy(m);
    if (!probe)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (j = 0; j < nparams && !rc; j++) {
        ss_param h;
        const char *p = params[j].path;
        if (!p) {
            rc = ss_err_set(err, SS_EINVAL, "uncertainty", "uncertain parameter %zu has no path", j + 1);
            break;
        }
        if (strncmp(p, "time.", 5) == 0) {
            rc = ss_err_set(err, SS_EINVAL, p, "'%s': the time grid cannot be uncertain", p);
            break;
        }
        for (k = 0; k < j; k++)
            if (strcmp(params[k].path, p) == 0) {
                rc = ss_err_set(err, SS_EINVAL, p, "'%s' is given two distributions", p);
                break;
            }
        if (!rc)
            rc = ss_param_lookup(&h, probe, p, err);
        if (!rc)
            rc = ss_dist_validate(&params[j].dist, p, err);
    }
    for (j = 0; j < noutages && !rc; j++) {
        const ss_mc_outage *ou = &outages[j];
        snprintf(path, sizeof path, "outages[%zu]", j + 1);
        prov[j] = ou->provider ? ss_model_provider_index(m, ou->provider) : -1;
        if (prov[j] < 0)
            rc = ss_err_set(err, SS_EINVAL, path, "unknown provider '%s'", ou->provider ? ou->provider : "");
        else if (!(ou->rate >= 0 && isfinite(ou->rate)))
            rc = ss_err_set(err, SS_EINVAL, path, "outages.%s.rate must be a finite number >= 0 (got %g)",
                            ou->provider, ou->rate);
        else if (ou->rate * (m->t1 - m->t0) > SS_MC_MAX_EXPECTED_OUTAGES)
            rc = ss_err_set(err, SS_EINVAL, path,
                            "outages.%s.rate %g per year gives %g expected outages per run (at most %g)",
                            ou->provider, ou->rate, ou->rate * (m->t1 - m->t0), SS_MC_MAX_EXPECTED_OUTAGES);
        else {
            snprintf(path, sizeof path, "outages.%s.severity", ou->provider);
            rc = ss_dist_validate(&ou->severity, path, err);
        }
    }
    ss_model_free(probe);
    return rc;
}

static const double default_q[3] = { 0.05, 0.5, 0.95 };

/* Mark the flat indices of selector `sel` in mask (layout of c->shape). */
static int mark_selector(const mc_ctx *c, const ss_selector *sel, unsigned char *mask, ss_err *err)
{
    const ss_result *s = c->shape;
    const layout *l = &c->l;
    long i = 0, k = 0, x = 0, t0, t1, ti;
    if (sel->kind == SS_SEL_X) {
        if ((x = ss_result_id_index(s->extra_names, s->nextra, sel->extra)) < 0)
            return ss_err_set(err, SS_EINVAL, "outputs", "selector '%s': unknown metric '%s' (not a "
                              "built-in metric, user stock or derived metric of the scenario)",
                              sel->text, sel->extra);
    } else {
        if (sel->kind != SS_SEL_S && (i = ss_result_id_index(s->prov_ids, s->np, sel->provider)) < 0)
            return ss_err_set(err, SS_EINVAL, "outputs", "selector '%s': unknown provider '%s'",
                              sel->text, sel->provider);
        if (sel->kind != SS_SEL_P && (k = ss_result_id_index(s->seg_ids, s->nk, sel->segment)) < 0)
            return ss_err_set(err, SS_EINVAL, "outputs", "selector '%s': unknown segment '%s'",
                              sel->text, sel->segment);
    }
    switch (sel->when) {
    case SS_SEL_FIRST: t0 = t1 = 0; break;
    case SS_SEL_EACH: t0 = 0; t1 = (long)s->nt - 1; break;
    case SS_SEL_AT:
        if ((t0 = t1 = ss_result_time_index(s, sel->t)) < 0)
            return ss_err_set(err, SS_EINVAL, "outputs", "selector '%s': %.10g is not an output time "
                              "(a Monte Carlo keeps statistics at output times only: %.10g to %.10g, "
                              "see time.step)", sel->text, sel->t, s->t[0], s->t[s->nt - 1]);
        break;
    default: t0 = t1 = (long)s->nt - 1; break;
    }
    for (ti = t0; ti <= t1; ti++) {
        size_t f, t = (size_t)ti;
        switch (sel->kind) {
        case SS_SEL_PS: f = ((t * SS_NPS + (size_t)sel->metric) * s->np + (size_t)i) * s->nk + (size_t)k; break;
        case SS_SEL_P: f = l->n[0] + (t * SS_NP + (size_t)sel->metric) * s->np + (size_t)i; break;
        case SS_SEL_S: f = l->n[0] + l->n[1] + (t * SS_NS + (size_t)sel->metric) * s->nk + (size_t)k; break;
        default: f = l->n[0] + l->n[1] + l->n[2] + t * s->nextra + (size_t)x; break;
        }
        mask[f] = 1;
    }
    return SS_OK;
}

/* The values opts->outputs keeps: c->keep (ascending) and c->nv. */
static int select_outputs(mc_ctx *c, const ss_model *m, const ss_mc_opts *o, ss_err *err)
{
    unsigned char *mask;
    size_t j, n = 0;
    int rc = SS_OK;
    c->nv = c->l.nv;
    c->keep = NULL;
    if (!o->outputs || o->noutputs == 0 || c->l.nv == 0 || c->shape->nt == 0)
        return SS_OK;
    if (!(mask = calloc(c->l.nv, 1)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (j = 0; j < o->noutputs && !rc; j++) {
        if ((rc = ss_selector_validate(&o->outputs[j], m, err)) != SS_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            rc = ss_err_set(err, rc, "outputs", "%s", msg);
        } else {
            rc = mark_selector(c, &o->outputs[j], mask, err);
        }
    }
    for (j = 0; !rc && j < c->l.nv; j++)
        n += mask[j];
    if (!rc && n < c->l.nv) {
        if (!(c->keep = malloc(n * sizeof *c->keep))) {
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        } else {
            for (j = 0, n = 0; j < c->l.nv; j++)
                if (mask[j])
                    c->keep[n++] = j;
            c->nv = n;
        }
    }
    free(mask);
    return rc;
}


/* The engine the runs take: the batched one unless told otherwise, a
 * prepare hook or Lua in the runs (docs/analysis.md), or a model it does
 * not support or whose results are too large for the lanes (ss_batch_suits). */
static int mc_batched(const ss_model *m, const ss_mc_opts *o)
{
    return o->engine != SS_MC_ENGINE_SCALAR && !o->prepare && ss_batch_suits(m, o->run_opts);
}

/* The blocks, this process's share of them, its threads and slots. */
static void mc_blocks(mc_ctx *c, const ss_mc_opts *o, unsigned *nthreads)
{
    c->blockB = ss_mc_block_runs(c->l.nv); /* of every value: the same blocks with or without a selection */
    c->B = o->runs < c->blockB ? (size_t)o->runs : c->blockB;
    c->nblocks = (o->runs + c->blockB - 1) / c->blockB;
    c->rank = o->dist ? o->dist->rank : 0;
    c->nranks = o->dist ? o->dist->nranks : 1;
    c->stats = o->dist ? o->dist->stats : NULL;
    c->nlocal = c->nblocks > c->rank ? (c->nblocks - c->rank + c->nranks - 1) / c->nranks : 0;
    if (c->nranks > 1)
        c->merging = 1; /* the calling thread merges, in block order (mc_merge_all_dist) */
    /* a process that runs no block has one slot: rank 0 still needs a scratch slot */
    ss_slots_plan(o->threads, MC_MAX_THREADS, MC_SLOTS_PER_THREAD, c->nlocal, nthreads, &c->nslots);
}

/* What it will take, checked before the first run (rank 0 decides for
 * every process); the result records what one process would take. */
static int mc_check_memory(mc_ctx *c, const ss_mc_opts *o, unsigned nthreads, size_t nq, ss_err *err)
{
    int rc = SS_OK;
    mc_estimate(&c->mem, c, nthreads, c->nslots, nq, o->compression, o->on_run != NULL);
    if (c->rank == 0 && o->max_memory && c->mem.total > o->max_memory)
        rc = mc_memory_error(&c->mem, c, o, err);
    if (c->nranks > 1) {
        /* the results (and the sidecar) carry what one process with these
         * threads would take, the same for any number of ranks */
        mc_ctx one = *c;
        unsigned th1, sl1;
        ss_slots_plan(o->threads, MC_MAX_THREADS, MC_SLOTS_PER_THREAD, c->nblocks, &th1, &sl1);
        one.nranks = 1;
        one.rank = 0;
        one.nlocal = c->nblocks;
        mc_estimate(&c->mem, &one, th1, sl1, nq, o->compression, o->on_run != NULL);
    }
    return rc;
}

/*
 * Everything before the first run: the checks, the context, the
 * unperturbed run (it validates the scenario and fixes the output grid),
 * the selection, the blocks and the memory check. *shape is the caller's
 * to free. Up to here every failure still takes the processes' agreement.
 */
static int mc_plan(mc_ctx *c, const ss_model *m, const ss_mc_param *params, size_t nparams,
                   const ss_mc_outage *outages, size_t noutages, int *prov, const ss_mc_opts *o,
                   const double *q, size_t nq, ss_result **shape, unsigned *nthreads, ss_err *err)
{
    size_t j;
    int rc = validate(m, params, nparams, outages, noutages, prov, o, q, nq, err);
    for (j = 0; !rc && j < nparams; j++)   /* an input defined by a link cannot vary */
        rc = ss_run_opts_check_path(o->run_opts, params[j].path, err);
    c->base = m;
    c->params = params;
    c->nparams = nparams;
    c->outages = outages;
    c->outage_prov = prov;
    c->noutages = noutages;
    c->o = o;
    c->tmpl = o->run_opts;
    c->interrupt = o->interrupt ? o->interrupt : (o->run_opts ? o->run_opts->interrupt : NULL);
    c->runs = o->runs;
    atomic_init(&c->scalar_runs, 0);
    c->batched = mc_batched(m, o);
    if (!rc && mc_interrupted(c))
        rc = ss_err_set(err, SS_EINTR, "", "interrupted before the first run");
    if (!rc && (rc = ss_sim_run(shape, m, o->run_opts, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ss_err_set(err, rc, err->path, "the scenario without uncertainty fails: %s", msg);
    }
    if (rc) {
        c->rank = o->dist && o->dist->nranks > 1 && o->dist->rank < o->dist->nranks ? o->dist->rank : 0;
        return rc;
    }
    c->shape = *shape;
    mc_layout_of(&c->l, *shape);
    rc = select_outputs(c, m, o, err);
    mc_blocks(c, o, nthreads);
    return rc ? rc : mc_check_memory(c, o, *nthreads, nq, err);
}

/* The statistics of a slot or of the totals: nv means, sums of squares and sketches. */
static int stats_alloc(double **mean, double **m2, ss_sketch ***sk, size_t nv, double compression,
                       ss_err *err)
{
    size_t j;
    int rc;
    *mean = malloc(nv * sizeof **mean);
    *m2 = malloc(nv * sizeof **m2);
    *sk = calloc(nv, sizeof **sk);
    if (!*mean || !*m2 || !*sk)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (j = 0; j < nv; j++)
        if ((rc = ss_sketch_new(&(*sk)[j], compression, err)))
            return rc;
    return SS_OK;
}

static void stats_free(double *mean, double *m2, ss_sketch **sk, size_t nv)
{
    size_t j;
    free(mean);
    free(m2);
    if (sk)
        for (j = 0; j < nv; j++)
            ss_sketch_free(sk[j]);
    free(sk);
}

/* A worker's buffers and workspaces. */
static int worker_alloc(mc_worker *w, mc_ctx *c, unsigned i)
{
    w->c = c;
    w->index = i;
    w->rng = gsl_rng_alloc(ss_mc_rng_type());
    w->ws = ss_sim_workspace_new();
    if (c->batched) {
        /* a window of groups of finished runs: about 2 MiB */
        size_t ng = ((size_t)2 << 20) / (MC_GROUP * c->nv * sizeof(double));
        w->ngroups = ng < 2 ? 2 : ng > 8 ? 8 : ng;
        w->batch = ss_batch_new();
        w->ok = malloc(c->B);
        w->gcount = calloc(w->ngroups, sizeof *w->gcount);
        w->grows = aligned_alloc(64, (w->ngroups * MC_GROUP * c->nv * sizeof(double) + 63) / 64 * 64);
        if (!w->batch || !w->ok || !w->gcount || !w->grows)
            return SS_ENOMEM;
    }
    w->vals = block_alloc(c->nv * c->B * sizeof *w->vals);
    w->rows = malloc(MC_GROUP * c->nv * sizeof *w->rows);
    w->sort_tmp = malloc(c->B * sizeof *w->sort_tmp);
    w->sort_cnt = malloc(3 * c->B * sizeof *w->sort_cnt);
    return !w->rng || !w->ws || !w->vals || !w->rows || !w->sort_tmp || !w->sort_cnt ? SS_ENOMEM
                                                                                      : SS_OK;
}

static void worker_free(mc_worker *w)
{
    gsl_rng_free(w->rng);
    ss_sim_workspace_free(w->ws);
    if (w->batch)
        ss_batch_free(w->batch);
    free(w->ok);
    free(w->gcount);
    free(w->grows);
    ss_sketch_plan_free(w->plan);
    free(w->rows);
    free(w->sort_tmp);
    free(w->sort_cnt);
    free(w->vals);
}

/* The totals, the ring's slots and the workers (*w: nthreads of them). */
static int mc_alloc(mc_ctx *c, mc_totals *t, mc_worker **w, unsigned nthreads, ss_err *err)
{
    const ss_mc_opts *o = c->o;
    unsigned i;
    int rc;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    *w = calloc(nthreads + 1, sizeof **w);
    if (!c->slots || !*w)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = stats_alloc(&t->mean, &t->m2, &t->sk, c->nv, o->compression, err)))
        return rc;
    memset(t->mean, 0, c->nv * sizeof *t->mean);
    memset(t->m2, 0, c->nv * sizeof *t->m2);
    for (i = 0; i < c->nslots; i++) {
        mc_slot *s = &c->slots[i];
        if ((rc = stats_alloc(&s->mean, &s->m2, &s->sk, c->nv, o->compression, err)))
            return rc;
        if (o->on_run && !(s->res = calloc(c->B, sizeof *s->res)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    for (i = 0; i < nthreads; i++)
        if (worker_alloc(&(*w)[i], c, i) != SS_OK)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return SS_OK;
}

static void mc_free(mc_ctx *c, mc_totals *t, mc_worker *w, unsigned nthreads)
{
    unsigned i;
    if (w)
        for (i = 0; i < nthreads; i++)
            worker_free(&w[i]);
    free(w);
    if (c->slots) {
        for (i = 0; i < c->nslots; i++) {
            free_slot_results(c, &c->slots[i]);
            free(c->slots[i].res);
            stats_free(c->slots[i].mean, c->slots[i].m2, c->slots[i].sk, c->nv);
        }
        free(c->slots);
    }
    stats_free(t->mean, t->m2, t->sk, c->nv);
}

/* Start the workers and merge their blocks in order (with several
 * processes through a scratch slot for the blocks received), then stop and
 * join them, whatever happened. */
static int mc_execute(mc_ctx *c, mc_worker *w, unsigned nthreads, ss_err *err)
{
    int rc;
    if (ss_slots_init(&c->sl, c->nslots, nthreads, c->nlocal, c->interrupt))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = ss_slots_start(&c->sl, worker_main, w, sizeof *w, err);
    if (!rc && c->nranks > 1) {
        mc_slot scratch;
        memset(&scratch, 0, sizeof scratch);
        rc = stats_alloc(&scratch.mean, &scratch.m2, &scratch.sk, c->nv,
                         ss_sketch_compression(c->slots[0].sk[0]), err);
        if (!rc)
            rc = mc_merge_all_dist(c, &scratch, err);
        stats_free(scratch.mean, scratch.m2, scratch.sk, c->nv);
    } else if (!rc) {
        rc = merge_all(c, err);
    }
    ss_slots_finish(&c->sl);
    return rc;
}

int ss_mc_run(ss_mc_result **out, const ss_model *m,
              const ss_mc_param *params, size_t nparams,
              const ss_mc_outage *outages, size_t noutages,
              const ss_mc_opts *opts, ss_err *err)
{
    ss_mc_opts defaults = SS_MC_OPTS_INIT;
    const ss_mc_opts *o = opts ? opts : &defaults;
    const double *q = o->quantiles ? o->quantiles : default_q;
    size_t nq = o->quantiles ? o->nquantiles : 3;
    mc_ctx c;
    mc_totals t;
    mc_worker *w = NULL;
    int *prov = NULL;
    ss_result *shape = NULL;
    ss_err local;
    unsigned nthreads = 0;
    int rc;
    double cpu0 = mc_thread_cpu();

    *out = NULL;
    if (!err) {
        ss_err_clear(&local);
        err = &local;
    }
    memset(&c, 0, sizeof c);
    memset(&t, 0, sizeof t);
    c.t = &t;
    if (!(prov = calloc(noutages + 1, sizeof *prov)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = mc_plan(&c, m, params, nparams, outages, noutages, prov, o, q, nq, &shape, &nthreads, err);
    /* every process takes part in the agreement, failed or not */
    if (o->dist && o->dist->nranks > 1 && o->dist->agree &&
        o->dist->rank < o->dist->nranks && (o->dist->send && o->dist->recv)) {
        int d = o->dist->agree(rc, o->dist->payload);
        if (!rc && d)
            rc = ss_err_set(err, SS_EINTR, "", "rank 0 did not start the Monte Carlo");
    }
    if (!rc)
        rc = mc_alloc(&c, &t, &w, nthreads, err);
    if (!rc)
        rc = mc_execute(&c, w, nthreads, err);
    if (!rc && c.rank == 0)
        rc = mc_finish(out, &c, &t, q, nq) ? ss_err_set(err, SS_ENOMEM, "", "out of memory") : SS_OK;
    if (c.stats) {
        c.stats->cpu += mc_thread_cpu() - cpu0 + c.worker_cpu;
        c.stats->merge_cpu += c.merge_cpu;
    }
    ss_slots_destroy(&c.sl);
    mc_free(&c, &t, w, nthreads);
    ss_result_free(shape);
    free(c.keep);
    free(prov);
    return rc;
}
