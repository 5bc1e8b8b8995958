/*
 * mc.c - the Monte Carlo engine: per-run random streams, draws applied to a
 * copy of the model, worker threads running blocks of runs, the ordered
 * merge into means, variances and quantile sketches, and the CSV writer.
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
 * Several processes (opts.dist, transport.h): see merge_all_dist(); the
 * block statistics travel packed, and each process merges its own share of
 * the series, so nobody merges more than 1/N of every block.
 * Depends on model.c, param.c, sim.c, result.c, dist.c, sketch.c, numfmt.c,
 * csv.c, slots.c and GSL.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <gsl/gsl_randist.h>
#include "stratsim/io.h"
#include "stratsim/mc.h"
#include "stratsim/param.h"
#include "stratsim/sketch.h"
#include "core/batch.h"
#include "core/sim_internal.h"
#include "core/slots.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MC_MAX_THREADS 1024
/* Blocks in flight per worker thread (the ring of slots, ss_slots_plan). */
#define MC_SLOTS_PER_THREAD 2
#define MC_MAX_QUANTILES 256
#define MC_MAX_RUNS ((uint64_t)1 << 62)
/* Runs staged run by run before they move to the series-major buffer (8 doubles: a cache line). */
#define MC_GROUP 8

/* ------------------------------------------------------ per-run streams */

#define GOLDEN 0x9E3779B97F4A7C15ULL

/* splitmix64's finaliser: a bijection of 64-bit words. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t ss_mc_run_seed(uint64_t seed, uint64_t run)
{
    /* a bijection of `run` for each seed: distinct runs, distinct seeds */
    return mix64(mix64(seed + 0xD1B54A32D192ED03ULL) ^ mix64(run + GOLDEN));
}

typedef struct xo_state {
    uint64_t s[4];
} xo_state;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna, public domain reference). */
static uint64_t xo_next(xo_state *st)
{
    uint64_t *s = st->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Fill the state from a splitmix64 sequence (never all zero). */
static void xo_seed64(xo_state *st, uint64_t x)
{
    int i;
    for (i = 0; i < 4; i++) {
        x += GOLDEN;
        st->s[i] = mix64(x);
    }
}

static void xo_set(void *vs, unsigned long seed)
{
    xo_seed64(vs, (uint64_t)seed);
}

static unsigned long xo_get(void *vs)
{
    return (unsigned long)(xo_next(vs) >> 32);
}

static double xo_get_double(void *vs)
{
    return (double)(xo_next(vs) >> 11) * 0x1.0p-53;
}

static const gsl_rng_type xo_type = {
    "xoshiro256**", 0xffffffffUL, 0, sizeof(xo_state), &xo_set, &xo_get, &xo_get_double
};

const char *ss_mc_rng_name(void) { return xo_type.name; }
const gsl_rng_type *ss_mc_rng_type(void) { return &xo_type; }

void ss_mc_rng_seed(gsl_rng *rng, uint64_t seed, uint64_t run)
{
    xo_seed64(rng->state, ss_mc_run_seed(seed, run));
}

/* -------------------------------------------------------------- results */

struct ss_mc_result {
    uint64_t runs, seed;
    double compression;
    size_t block;        /* runs per block */
    size_t nq;
    double *q;           /* [nq] */
    ss_result *mean, *sd, *min, *max;
    ss_result **quant;   /* [nq] */
    ss_result *kept;     /* 1 where kept, 0 elsewhere */
    int all_kept;
    ss_mc_memory mem;    /* the estimate checked before the runs */
    int batched;         /* the batched engine ran the blocks */
    size_t lanes;        /* its lanes (1: scalar) */
    uint64_t scalar_runs; /* runs it handed back to the scalar engine */
};

void ss_mc_result_free(ss_mc_result *r)
{
    size_t j;
    if (!r)
        return;
    ss_result_free(r->mean);
    ss_result_free(r->sd);
    ss_result_free(r->min);
    ss_result_free(r->max);
    ss_result_free(r->kept);
    if (r->quant)
        for (j = 0; j < r->nq; j++)
            ss_result_free(r->quant[j]);
    free(r->quant);
    free(r->q);
    free(r);
}

uint64_t ss_mc_result_runs(const ss_mc_result *r) { return r->runs; }
uint64_t ss_mc_result_seed(const ss_mc_result *r) { return r->seed; }
double ss_mc_result_compression(const ss_mc_result *r) { return r->compression; }
size_t ss_mc_result_block(const ss_mc_result *r) { return r->block; }
const ss_mc_memory *ss_mc_result_memory(const ss_mc_result *r) { return &r->mem; }
const ss_result *ss_mc_result_kept(const ss_mc_result *r) { return r->kept; }
int ss_mc_result_all_kept(const ss_mc_result *r) { return r->all_kept; }
const char *ss_mc_result_engine(const ss_mc_result *r) { return r->batched ? "batched" : "scalar"; }
size_t ss_mc_result_lanes(const ss_mc_result *r) { return r->lanes; }
uint64_t ss_mc_result_scalar_runs(const ss_mc_result *r) { return r->batched ? r->scalar_runs : r->runs; }

size_t ss_mc_block_runs(size_t nv)
{
    size_t b = SS_MC_BLOCK;
    while (b > SS_MC_BLOCK_MIN && nv > SS_MC_BLOCK_BYTES / sizeof(double) / b)
        b /= 2;
    return b;
}
const ss_result *ss_mc_result_mean(const ss_mc_result *r) { return r->mean; }
const ss_result *ss_mc_result_sd(const ss_mc_result *r) { return r->sd; }
const ss_result *ss_mc_result_min(const ss_mc_result *r) { return r->min; }
const ss_result *ss_mc_result_max(const ss_mc_result *r) { return r->max; }
size_t ss_mc_result_nquantiles(const ss_mc_result *r) { return r->nq; }

double ss_mc_result_quantile_level(const ss_mc_result *r, size_t j)
{
    return j < r->nq ? r->q[j] : NAN;
}

const ss_result *ss_mc_result_quantile(const ss_mc_result *r, size_t j)
{
    return j < r->nq ? r->quant[j] : NULL;
}

int ss_mc_quantile_name(char *buf, size_t size, double q)
{
    char num[48];
    snprintf(num, sizeof num, "%.10g", 100.0 * q);
    /* the locale may have turned '.' into something else */
    {
        char *p = num;
        if (*p == '-')
            p++;
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p && *p != '.' && *p != 'e') {
            char *e = p;
            while (*e && !(*e >= '0' && *e <= '9'))
                e++;
            *p = '.';
            memmove(p + 1, e, strlen(e) + 1);
        }
    }
    return snprintf(buf, size, "p%s%s", strlen(num) == 1 ? "0" : "", num);
}

/* A result with the shape, times and ids of `like`, values zero. */
static ss_result *result_like(const ss_result *like)
{
    ss_result *r = ss_result_new(like->scenario, like->nt, like->np, like->prov_ids,
                                 like->nk, like->seg_ids);
    size_t x;
    if (!r)
        return NULL;
    memcpy(r->t, like->t, like->nt * sizeof *r->t);
    if (like->nextra > 0) {
        r->nextra = like->nextra;
        r->extra_names = calloc(like->nextra, sizeof *r->extra_names);
        r->extra = calloc(like->nt * like->nextra, sizeof *r->extra);
        if (!r->extra_names || !r->extra)
            goto fail;
        for (x = 0; x < like->nextra; x++) {
            size_t n = strlen(like->extra_names[x]) + 1;
            r->extra_names[x] = malloc(n);
            if (!r->extra_names[x])
                goto fail;
            memcpy(r->extra_names[x], like->extra_names[x], n);
        }
        if (like->extra_units) {
            r->extra_units = calloc(like->nextra, sizeof *r->extra_units);
            if (!r->extra_units)
                goto fail;
            for (x = 0; x < like->nextra; x++)
                if (like->extra_units[x] && !(r->extra_units[x] = strdup(like->extra_units[x])))
                    goto fail;
        }
    }
    return r;
fail:
    ss_result_free(r);
    return NULL;
}

/* The four value arrays of a result, in the order of the flat value vector. */
typedef struct layout {
    size_t n[4];     /* ps, p, s, extra */
    size_t nv;
} layout;

static void layout_of(layout *l, const ss_result *r)
{
    l->n[0] = r->nt * SS_NPS * r->np * r->nk;
    l->n[1] = r->nt * SS_NP * r->np;
    l->n[2] = r->nt * SS_NS * r->nk;
    l->n[3] = r->nt * r->nextra;
    l->nv = l->n[0] + l->n[1] + l->n[2] + l->n[3];
}

static double *result_array(const ss_result *r, int a)
{
    return a == 0 ? r->ps : a == 1 ? r->p : a == 2 ? r->s : r->extra;
}

/* Copy flat values v[nv] into the arrays of r. */
static void scatter(ss_result *r, const layout *l, const double *v)
{
    int a;
    for (a = 0; a < 4; a++) {
        if (l->n[a])
            memcpy(result_array(r, a), v, l->n[a] * sizeof *v);
        v += l->n[a];
    }
}

/* ------------------------------------------------------------- the engine */

/* A slot's state after SS_SLOT_DONE: the block is in the totals. */
enum { SLOT_MERGED = SS_SLOT_DONE + 1 };

/* What slot k % nslots of the ring holds for local block k. */
typedef struct mc_slot {
    size_t n;            /* runs accumulated */
    double *mean, *m2;   /* [nv] the block's mean and sum of squared deviations */
    ss_sketch **sk;      /* [nv] the block's values of each series, compressed */
    ss_result **res;     /* [B] when on_run is set */
    int rc;
    ss_err err;
} mc_slot;

typedef struct mc_ctx mc_ctx;

typedef struct mc_worker {
    mc_ctx *c;
    unsigned index;
    gsl_rng *rng;
    ss_sim_workspace *ws;    /* reused by every run of this worker */
    ss_batch *batch;         /* the batched engine's workspace (c->batched) */
    unsigned char *ok;       /* [B] the batched engine finished the block's run */
    double *grows;           /* [ngroups][MC_GROUP][nv]: finished runs' values, by group of MC_GROUP */
    size_t ngroups;          /* groups in grows (a window over the block's runs) */
    size_t *gcount;          /* [ngroups] runs of the group reported */
    size_t gbase;            /* the first group not yet in vals */
    size_t bruns;            /* runs of the block being run */
    double *vals;            /* [nv][B]: value j of the block's run r at vals[j * B + r] */
    double *rows;            /* [MC_GROUP][nv]: the latest runs' values, run by run */
    ss_sketch_plan *plan;    /* centroid sizes for the block size it was made for */
    double *sort_tmp;        /* [B] scratch of ss_sketch_set_values */
    size_t *sort_cnt;        /* [3 B] */
    uint64_t block;          /* block being run (for the stop test) */
    ss_run_opts ro_user;     /* this run's copy of the template (prepare may change it) */
} mc_worker;

struct mc_ctx {
    const ss_model *base;
    const ss_mc_param *params;
    size_t nparams;
    const ss_mc_outage *outages;
    const int *outage_prov;  /* [noutages] provider index */
    size_t noutages;
    const ss_mc_opts *o;
    const ss_run_opts *tmpl;
    volatile int *interrupt;
    const ss_result *shape;  /* the unperturbed run */
    layout l;                /* of every value of a run */
    size_t nv;               /* values kept per run (l.nv without a selection) */
    size_t *keep;            /* [nv] ascending flat indices of the kept values; NULL: all */
    uint64_t runs, nblocks;
    size_t blockB;           /* runs per block: ss_mc_block_runs(nv) */
    size_t B;                /* runs in the largest block (blockB, or runs if fewer) */
    unsigned nslots;
    mc_slot *slots;               /* [nslots] */
    ss_slots sl;                  /* the ring: local blocks (its mutex: "under mu" below) */
    struct mc_totals *t;          /* the totals, merged into by the workers */
    int merging;                  /* a worker is merging (merge_ready) */
    uint64_t next_merge;          /* blocks [0, next_merge) are in the totals */
    int merge_rc;                 /* a failed merge (SS_ENOMEM) */
    ss_mc_memory mem;             /* the estimate (estimate()) */
    int batched;                  /* blocks run by the batched engine (batch.c) */
    atomic_uint_fast64_t scalar_runs; /* runs it handed back to the scalar engine */
    uint64_t rank, nranks;        /* several processes (opts.dist): this one runs */
    uint64_t nlocal;              /* blocks rank + k * nranks, k < nlocal */
    ss_transport_stats *stats;    /* opts.dist->stats, or NULL */
    double worker_cpu, merge_cpu; /* with stats: the workers' CPU and their merging (under mu) */
};

/* CPU seconds of the calling thread. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int interrupted(const mc_ctx *c)
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
    return ss_slots_cancelled(&c->sl, local_of(c, b)) || interrupted(c);
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
        const double *src = result_array(r, a);
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
            cp = result_like(res);
            if (cp) {
                memcpy(cp->ps, res->ps, c->l.n[0] * sizeof *cp->ps);
                memcpy(cp->p, res->p, c->l.n[1] * sizeof *cp->p);
                memcpy(cp->s, res->s, c->l.n[2] * sizeof *cp->s);
                x->s->res[r] = cp;
            }
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
 * Block b with the batched engine, then the runs it could not finish (their
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

/* Totals of the merge. */
typedef struct mc_totals {
    double n;
    double *mean, *m2;   /* [nv] */
    ss_sketch **sk;      /* [nv] */
} mc_totals;

/* Merge series [lo, hi) of slot s into the totals (Chan et al.) and its
 * sketches into theirs; the count of runs moves on for every series. Each
 * series is merged on its own, so merging a block series by series in
 * shares (several processes, each its own) gives the bits of merging it
 * whole. */
static int merge_slot(mc_totals *t, const mc_slot *s, size_t lo, size_t hi)
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
        double t0 = c->stats ? thread_cpu() : 0.0;
        ss_slots_unlock(&c->sl);
        rc = merge_slot(c->t, s, 0, c->nv);
        ss_slots_lock(&c->sl);
        if (c->stats)
            c->merge_cpu += thread_cpu() - t0;
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
    double t0 = c->stats ? thread_cpu() : 0.0;
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
        c->worker_cpu += thread_cpu() - t0;
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
            if (s->rc == SS_EINTR && interrupted(c))
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
        if (interrupted(c))
            return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                              done, c->runs);
    }
    return SS_OK;
}

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
static int merge_all_dist(mc_ctx *c, mc_slot *scratch, ss_err *err)
{
    const ss_transport *d = c->o->dist;
    ss_transport_stats *st = c->stats;
    uint64_t b, p, me = c->rank, cnt;
    size_t lo, hi, plo, phi, len;
    unsigned char *data;
    double t0;
    int rc;
    share_of(c, me, &lo, &hi);
    for (b = 0; b < c->nblocks; b++) {
        uint64_t done = (b + 1) * c->B < c->runs ? (b + 1) * c->B : c->runs, o = b % c->nranks;
        if (o == me) {
            uint64_t k = b / c->nranks;
            mc_slot *s = wait_done(c, k);
            ss_err e;
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
                if (p == me)
                    continue;
                share_of(c, p, &plo, &phi);
                t0 = st ? thread_cpu() : 0.0;
                if (pack_stats(b, s->n, s->mean, s->m2, s->sk, plo, phi, &data, &len) != SS_OK) {
                    rc = ss_err_set(&e, SS_ENOMEM, "", "out of memory");
                    post_failure(c, b, rc, &e);
                    *err = e;
                    return rc;
                }
                if (st) {
                    st->pack_cpu += thread_cpu() - t0;
                    st->bytes_out += len;
                }
                if ((rc = d->post((unsigned)p, b, SS_OK, NULL, data, len, d->payload, err)) != SS_OK)
                    return rc;
            }
            t0 = st ? thread_cpu() : 0.0;
            rc = merge_slot(c->t, s, lo, hi);
            if (st)
                st->merge_cpu += thread_cpu() - t0;
            if (rc != SS_OK) {
                rc = ss_err_set(&e, SS_ENOMEM, "", "out of memory");
                post_failure(c, b + c->nranks, rc, &e); /* the others wait for the next one */
                *err = e;
                return rc;
            }
            ss_slots_release(&c->sl, k);
        } else {
            void *msg = NULL;
            size_t mlen = 0;
            if ((rc = d->fetch((unsigned)o, b, &msg, &mlen, d->payload, err)) != SS_OK)
                return rc;
            t0 = st ? thread_cpu() : 0.0;
            rc = unpack_stats(b, c->B, &cnt, scratch->mean, scratch->m2, scratch->sk, lo, hi, msg, mlen);
            free(msg);
            if (st) {
                st->pack_cpu += thread_cpu() - t0;
                st->bytes_in += mlen;
            }
            if (rc == SS_EINVAL)
                return ss_err_set(err, SS_EINVAL, "", "block %" PRIu64 " received from rank %" PRIu64
                                  " is damaged", b, o);
            scratch->n = (size_t)cnt;
            t0 = st ? thread_cpu() : 0.0;
            if (rc == SS_OK)
                rc = merge_slot(c->t, scratch, lo, hi);
            if (st)
                st->merge_cpu += thread_cpu() - t0;
            if (rc != SS_OK)
                return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        }
        if (c->o->progress && me == 0)
            c->o->progress(done, c->runs, c->o->payload);
        if (interrupted(c))
            return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " runs",
                              done, c->runs);
    }
    /* the totals: every rank's share to rank 0 */
    t0 = st ? thread_cpu() : 0.0;
    if (me > 0) {
        if (pack_stats(c->nblocks, (uint64_t)c->t->n, c->t->mean, c->t->m2, c->t->sk, lo, hi, &data,
                       &len) != SS_OK)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        if (st)
            st->bytes_out += len;
        rc = d->post(0, c->nblocks, SS_OK, NULL, data, len, d->payload, err);
    } else {
        for (p = 1, rc = SS_OK; p < c->nranks && rc == SS_OK; p++) {
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
        st->gather_cpu += thread_cpu() - t0;
    return rc;
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

/* Bytes the allocator takes for a block of n bytes (as ss_sketch_bytes counts). */
static uint64_t abytes(uint64_t n)
{
    uint64_t b = (n + 8 + 15) / 16 * 16;
    return n == 0 ? 0 : b < 32 ? 32 : b;
}

/* Bytes of one run's result shaped like r. */
static uint64_t result_bytes(const ss_result *r, const layout *l)
{
    uint64_t b = abytes(512) + abytes(r->nt * sizeof(double)) +
                 64 * (uint64_t)(r->np + r->nk + r->nextra);
    int a;
    for (a = 0; a < 4; a++)
        b += abytes(l->n[a] * sizeof(double));
    return b;
}

/* A worker's run besides its result: the run's copy of the model and the
 * integrator's workspace (measured: about 1 KiB per provider and segment
 * pair, with a floor). */
/* auto picks the scalar engine above this many values per run (about 1 MiB
 * of results per lane; measured on 128 providers x 32 segments, 873,792
 * values: batched 1.9x slower than scalar and 2.4x its peak memory) */
#define MC_BATCH_MAX_VALUES 131072

#define MC_RUN_BYTES_PER_PAIR 1024
#define MC_RUN_BYTES_MIN ((uint64_t)256 << 10)

/* What the Monte Carlo will take in this process (see mc.h). */
static void estimate(ss_mc_memory *e, const mc_ctx *c, unsigned nthreads, unsigned nslots,
                     size_t nq, double compression, int on_run)
{
    const ss_result *s = c->shape;
    uint64_t nv = c->nv, B = c->B, bound = ss_sketch_centroid_bound(compression);
    uint64_t blk = B < bound ? B : bound, rb = result_bytes(s, &c->l), packed;
    uint64_t per_slot, run_extra = (uint64_t)s->np * s->nk * MC_RUN_BYTES_PER_PAIR;
    memset(e, 0, sizeof *e);
    e->nt = s->nt;
    e->np = s->np;
    e->nk = s->nk;
    e->nextra = s->nextra;
    e->nv_all = c->l.nv;
    e->nv = c->nv;
    e->block = c->blockB;
    e->threads = nthreads;
    e->slots = nslots;
    /* totals: mean, m2, the sketch pointers, and sketches that hold up to a
     * compressed digest plus one block's centroids while merging */
    e->totals = 3 * abytes(nv * 8) +
                nv * (uint64_t)ss_sketch_bytes(compression, (c->runs < bound ? c->runs : bound) + blk);
    per_slot = 3 * abytes(nv * 8) + nv * (uint64_t)ss_sketch_bytes(compression, blk) +
               (on_run ? abytes(B * 8) + B * rb : 0);
    e->blocks = nslots * per_slot;
    e->per_run = on_run ? nslots * (abytes(B * 8) + B * rb) : 0;
    packed = abytes(8 + nv * (16 + 64 + blk * 16));
    if (c->nranks > 1) /* rank 0: a scratch slot and a received block; others: a packed block, sent */
        e->transfer = c->rank == 0 ? per_slot + packed : 2 * packed;
    e->blocks += e->transfer;
    e->workers = nthreads * (abytes(nv * B * 8) + abytes(MC_GROUP * nv * 8) + abytes(B * 8) +
                             abytes(3 * B * 8) + abytes(B * 4) + rb +
                             (run_extra > MC_RUN_BYTES_MIN ? run_extra : MC_RUN_BYTES_MIN) +
                             /* the batched engine: a window of finished runs (at most
                              * about 2 MiB), the lanes' results and state */
                             (c->batched ? ((uint64_t)2 << 20) + 2 * SS_BATCH_LANES * rb : 0));
    /* the unperturbed run, the statistics (mean, sd, min, max, quantiles,
     * kept) and finish()'s buffer, the selection */
    e->results = rb * (6 + nq) + abytes((nq + 2) * nv * 8) + abytes(nv * 8) + abytes(c->l.nv);
    e->total = e->totals + e->blocks + e->workers + e->results;
}

void ss_mc_format_bytes(char *buf, size_t size, uint64_t bytes)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double x = (double)bytes;
    int u = -1;
    while (x >= 1024.0 && u < 5) {
        x /= 1024.0;
        u++;
    }
    if (u < 0)
        snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
    else
        snprintf(buf, size, "%.*f %s", x < 9.995 ? 2 : x < 99.95 ? 1 : 0, x, unit[u]);
    /* "1.00 GiB" -> "1 GiB", "1.50 GiB" -> "1.5 GiB" */
    {
        char *dot = strchr(buf, '.'), *sp = strchr(buf, ' ');
        if (dot && sp && dot < sp) {
            char *e = sp;
            while (e > dot + 1 && e[-1] == '0')
                e--;
            if (e == dot + 1)
                e = dot;
            memmove(e, sp, strlen(sp) + 1);
        }
    }
}

int ss_mc_parse_bytes(const char *s, uint64_t unit, uint64_t *out)
{
    char num[64];
    size_t n = 0;
    double x, mult = (double)unit;
    const char *p = s;
    if (!s)
        return -1;
    while (*p == ' ')
        p++;
    while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.' || p[n] == 'e' || p[n] == 'E' ||
           ((p[n] == '+' || p[n] == '-') && n > 0 && (p[n - 1] == 'e' || p[n - 1] == 'E')))
        n++;
    /* "1e" is not an exponent when a unit follows: 512E is not valid anyway */
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, p, n);
    num[n] = '\0';
    if (ss_parse_double(num, &x) != 0)
        return -1;
    p += n;
    while (*p == ' ')
        p++;
    if (*p) {
        const char *units = "KMGT";
        const char *u = strchr(units, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        if (*p == 'B' || *p == 'b') {
            mult = 1.0;
            p++;
        } else if (u && *u) {
            mult = ldexp(1.0, 10 * (int)(u - units + 1));
            p++;
            if (*p == 'i' || *p == 'I')
                p++;
            if (*p == 'B' || *p == 'b')
                p++;
        } else {
            return -1;
        }
        if (*p)
            return -1;
    }
    x *= mult;
    if (!(x >= 1.0) || x > ldexp(1.0, 60))
        return -1;
    *out = (uint64_t)llround(x);
    return 0;
}

/* The error of an estimate over the limit: what it needs, of what, and how to reduce it. */
static int memory_error(const ss_mc_memory *e, const mc_ctx *c, const ss_mc_opts *o, ss_err *err)
{
    const char *nout = o->name_outputs ? o->name_outputs : "outputs";
    const char *nmax = o->name_max_memory ? o->name_max_memory : "max_memory";
    const ss_result *s = c->shape;
    char need[32], lim[32], tot[32], blk[32], wrk[32], sel[200], pr[96] = "";
    ss_mc_format_bytes(need, sizeof need, e->total);
    ss_mc_format_bytes(lim, sizeof lim, o->max_memory);
    ss_mc_format_bytes(tot, sizeof tot, e->totals + e->blocks - e->per_run);
    if (e->per_run) {
        char b[32];
        ss_mc_format_bytes(b, sizeof b, e->per_run);
        snprintf(pr, sizeof pr, ", %s of whole runs' results held for the per-run output", b);
    }
    ss_mc_format_bytes(blk, sizeof blk, e->workers);
    ss_mc_format_bytes(wrk, sizeof wrk, e->results);
    snprintf(sel, sizeof sel, o->name_outputs ? "%s share:%s:%s@each,npv:%s"
             : "%s = {\"share:%s:%s@each\", \"npv:%s\"}", nout, s->np ? s->prov_ids[0] : "PROVIDER",
             s->nk ? s->seg_ids[0] : "SEGMENT", s->np ? s->prov_ids[0] : "PROVIDER");
    return ss_err_set(err, SS_ENOMEM, nmax,
                      "this Monte Carlo needs about %s (%zu providers x %zu segments x %zu output "
                      "times: %zu of %zu values per run kept, each with a quantile sketch; %s of "
                      "statistics and sketches, %s for %u worker thread%s, %s of results%s); the "
                      "limit is %s (%s); keep fewer series with %s (e.g. %s) or fewer output "
                      "times (time.step)", need, e->np, e->nk, e->nt, e->nv, e->nv_all, tot, blk,
                      e->threads, e->threads == 1 ? "" : "s", wrk, pr, lim, nmax, nout, sel);
}

/* The value at flat index f (layout l) of r. */
static double *flat_at(ss_result *r, const layout *l, size_t f)
{
    int a;
    for (a = 0; a < 3 && f >= l->n[a]; a++)
        f -= l->n[a];
    return result_array(r, a) + f;
}

/* Kept values v[nv] into r; the others NaN. */
static void scatter_kept(ss_result *r, const mc_ctx *c, const double *v)
{
    size_t j;
    int a;
    if (!c->keep) {
        scatter(r, &c->l, v);
        return;
    }
    for (a = 0; a < 4; a++)
        for (j = 0; j < c->l.n[a]; j++)
            result_array(r, a)[j] = NAN;
    for (j = 0; j < c->nv; j++)
        *flat_at(r, &c->l, c->keep[j]) = v[j];
}

/* Turn the totals into the result object. */
static int finish(ss_mc_result **out, mc_ctx *c, mc_totals *t, const double *q, size_t nq)
{
    ss_mc_result *r = calloc(1, sizeof *r);
    size_t nv = c->nv, j, i;
    double *buf = NULL, *qv = NULL;
    int rc = SS_ENOMEM;
    if (!r)
        return SS_ENOMEM;
    r->runs = c->runs;
    r->seed = c->o->seed;
    r->compression = ss_sketch_compression(t->sk[0]);
    r->block = c->blockB;
    r->batched = c->batched;
    r->lanes = c->batched ? SS_BATCH_LANES : 1;
    r->scalar_runs = atomic_load(&c->scalar_runs);
    r->nq = nq;
    r->q = malloc(nq * sizeof *r->q);
    r->quant = calloc(nq, sizeof *r->quant);
    r->mean = result_like(c->shape);
    r->sd = result_like(c->shape);
    r->min = result_like(c->shape);
    r->max = result_like(c->shape);
    r->kept = result_like(c->shape);
    r->all_kept = c->keep == NULL;
    r->mem = c->mem;
    buf = malloc((nq + 2) * nv * sizeof *buf);
    qv = malloc(nq * sizeof *qv);
    if (!r->q || !r->quant || !r->mean || !r->sd || !r->min || !r->max || !r->kept || !buf || !qv)
        goto done;
    memcpy(r->q, q, nq * sizeof *q);
    for (j = 0; j < nq; j++)
        if (!(r->quant[j] = result_like(c->shape)))
            goto done;
    {
        int a;
        for (a = 0; a < 4; a++)
            for (i = 0; i < c->l.n[a]; i++)
                result_array(r->kept, a)[i] = c->keep ? 0.0 : 1.0;
        for (i = 0; c->keep && i < nv; i++)
            *flat_at(r->kept, &c->l, c->keep[i]) = 1.0;
    }
    scatter_kept(r->mean, c, t->mean);
    for (i = 0; i < nv; i++)
        buf[i] = t->n > 1 ? sqrt(t->m2[i] / (t->n - 1.0)) : 0.0;
    scatter_kept(r->sd, c, buf);
    for (i = 0; i < nv; i++) {
        ss_sketch_compress(t->sk[i]);
        if (ss_sketch_quantiles(t->sk[i], q, nq, qv))
            goto done;
        for (j = 0; j < nq; j++)
            buf[j * nv + i] = qv[j];
        buf[nq * nv + i] = ss_sketch_min(t->sk[i]);
        buf[(nq + 1) * nv + i] = ss_sketch_max(t->sk[i]);
    }
    for (j = 0; j < nq; j++)
        scatter_kept(r->quant[j], c, buf + j * nv);
    scatter_kept(r->min, c, buf + nq * nv);
    scatter_kept(r->max, c, buf + (nq + 1) * nv);
    rc = SS_OK;
done:
    free(buf);
    free(qv);
    if (rc)
        ss_mc_result_free(r);
    else
        *out = r;
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
    size_t nq = o->quantiles ? o->nquantiles : 3, j;
    mc_ctx c;
    mc_totals t;
    mc_worker *w = NULL;
    int *prov = NULL;
    ss_result *shape = NULL;
    ss_err local;
    unsigned nthreads = 0, i;
    int rc;
    double cpu0 = thread_cpu();

    *out = NULL;
    if (!err) {
        ss_err_clear(&local);
        err = &local;
    }
    memset(&c, 0, sizeof c);
    memset(&t, 0, sizeof t);
    c.t = &t;
    prov = calloc(noutages + 1, sizeof *prov);
    if (!prov)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    /* Up to the memory check, every failure falls through to the agreement
     * of the processes (they must all take part in it), then returns. */
    rc = validate(m, params, nparams, outages, noutages, prov, o, q, nq, err);
    for (j = 0; !rc && j < nparams; j++)   /* an input defined by a link cannot vary */
        rc = ss_run_opts_check_path(o->run_opts, params[j].path, err);

    c.base = m;
    c.params = params;
    c.nparams = nparams;
    c.outages = outages;
    c.outage_prov = prov;
    c.noutages = noutages;
    c.o = o;
    c.tmpl = o->run_opts;
    c.interrupt = o->interrupt ? o->interrupt : (o->run_opts ? o->run_opts->interrupt : NULL);
    c.runs = o->runs;
    atomic_init(&c.scalar_runs, 0);
    /* the batched engine: no Lua hooks, the default solver (docs/analysis.md) */
    c.batched = o->engine != SS_MC_ENGINE_SCALAR && !o->prepare &&
                (!o->run_opts || (!o->run_opts->on_epoch && !o->run_opts->on_output &&
                                  o->run_opts->nextra == 0 && o->run_opts->nstock == 0 &&
                                  o->run_opts->nlink == 0 && !o->run_opts->stock_init &&
                                  !o->run_opts->stock_rates && !o->run_opts->link_eval)) &&
                ss_batch_supports(m);

    if (!rc && interrupted(&c))
        rc = ss_err_set(err, SS_EINTR, "", "interrupted before the first run");
    /* the unperturbed scenario: validates it and fixes the output grid */
    if (!rc && (rc = ss_sim_run(&shape, m, o->run_opts, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        ss_err_set(err, rc, err->path, "the scenario without uncertainty fails: %s", msg);
    }
    if (rc) {
        c.rank = o->dist && o->dist->nranks > 1 && o->dist->rank < o->dist->nranks ? o->dist->rank : 0;
        goto agree;
    }
    c.shape = shape;
    layout_of(&c.l, shape);
    /* auto: the lanes hold whole results; above MC_BATCH_MAX_VALUES values per
     * run they cost more memory than the lockstep saves (docs/analysis.md) */
    if (o->engine == SS_MC_ENGINE_AUTO && c.l.nv > MC_BATCH_MAX_VALUES)
        c.batched = 0;
    rc = select_outputs(&c, m, o, err);
    c.blockB = ss_mc_block_runs(c.l.nv); /* of every value: the same blocks with or without a selection */
    c.B = o->runs < c.blockB ? (size_t)o->runs : c.blockB;
    c.nblocks = (o->runs + c.blockB - 1) / c.blockB;

    c.rank = o->dist ? o->dist->rank : 0;
    c.nranks = o->dist ? o->dist->nranks : 1;
    c.stats = o->dist ? o->dist->stats : NULL;
    c.nlocal = c.nblocks > c.rank ? (c.nblocks - c.rank + c.nranks - 1) / c.nranks : 0;
    if (c.nranks > 1)
        c.merging = 1; /* the calling thread merges, in block order (merge_all_dist) */

    /* a process that runs no block has one slot: rank 0 still needs a scratch slot */
    ss_slots_plan(o->threads, MC_MAX_THREADS, MC_SLOTS_PER_THREAD, c.nlocal, &nthreads, &c.nslots);

    /* what it will take, checked before the first run; with several
     * processes rank 0 decides for all of them */
    if (!rc) {
        estimate(&c.mem, &c, nthreads, c.nslots, nq, o->compression, o->on_run != NULL);
        if (c.rank == 0 && o->max_memory && c.mem.total > o->max_memory)
            rc = memory_error(&c.mem, &c, o, err);
        if (c.nranks > 1) {
            /* the results (and the sidecar) carry what one process with
             * these threads would take, the same for any number of ranks */
            mc_ctx one = c;
            unsigned th1, sl1;
            ss_slots_plan(o->threads, MC_MAX_THREADS, MC_SLOTS_PER_THREAD, c.nblocks, &th1, &sl1);
            one.nranks = 1;
            one.rank = 0;
            one.nlocal = c.nblocks;
            estimate(&c.mem, &one, th1, sl1, nq, o->compression, o->on_run != NULL);
        }
    }
agree:
    if (o->dist && o->dist->nranks > 1 && o->dist->agree &&
        o->dist->rank < o->dist->nranks && (o->dist->send && o->dist->recv)) {
        int d = o->dist->agree(rc, o->dist->payload);
        if (!rc && d)
            rc = ss_err_set(err, SS_EINTR, "", "rank 0 did not start the Monte Carlo");
    }
    if (rc)
        goto done;

    /* totals */
    t.mean = calloc(c.nv, sizeof *t.mean);
    t.m2 = calloc(c.nv, sizeof *t.m2);
    t.sk = calloc(c.nv, sizeof *t.sk);
    c.slots = calloc(c.nslots, sizeof *c.slots);
    w = calloc(nthreads + 1, sizeof *w);
    if (!t.mean || !t.m2 || !t.sk || !c.slots || !w)
        goto nomem;
    for (j = 0; j < c.nv; j++)
        if ((rc = ss_sketch_new(&t.sk[j], o->compression, err)))
            goto done;
    for (i = 0; i < c.nslots; i++) {
        mc_slot *s = &c.slots[i];
        s->mean = malloc(c.nv * sizeof *s->mean);
        s->m2 = malloc(c.nv * sizeof *s->m2);
        s->sk = calloc(c.nv, sizeof *s->sk);
        if (o->on_run)
            s->res = calloc(c.B, sizeof *s->res);
        if (!s->mean || !s->m2 || !s->sk || (o->on_run && !s->res))
            goto nomem;
        for (j = 0; j < c.nv; j++)
            if ((rc = ss_sketch_new(&s->sk[j], o->compression, err)))
                goto done;
    }
    for (i = 0; i < nthreads; i++) {
        w[i].c = &c;
        w[i].index = i;
        w[i].rng = gsl_rng_alloc(&xo_type);
        w[i].ws = ss_sim_workspace_new();
        if (c.batched) {
            /* a window of groups of finished runs: about 2 MiB */
            size_t ng = ((size_t)2 << 20) / (MC_GROUP * c.nv * sizeof(double));
            w[i].ngroups = ng < 2 ? 2 : ng > 8 ? 8 : ng;
            w[i].batch = ss_batch_new();
            w[i].ok = malloc(c.B);
            w[i].gcount = calloc(w[i].ngroups, sizeof *w[i].gcount);
            w[i].grows = aligned_alloc(64, (w[i].ngroups * MC_GROUP * c.nv * sizeof(double) + 63) / 64 * 64);
            if (!w[i].batch || !w[i].ok || !w[i].gcount || !w[i].grows)
                goto nomem;
        }
        w[i].vals = block_alloc(c.nv * c.B * sizeof *w[i].vals);
        w[i].rows = malloc(MC_GROUP * c.nv * sizeof *w[i].rows);
        w[i].sort_tmp = malloc(c.B * sizeof *w[i].sort_tmp);
        w[i].sort_cnt = malloc(3 * c.B * sizeof *w[i].sort_cnt);
        if (!w[i].rng || !w[i].ws || !w[i].vals || !w[i].rows || !w[i].sort_tmp || !w[i].sort_cnt)
            goto nomem;
    }

    if (ss_slots_init(&c.sl, c.nslots, nthreads, c.nlocal, c.interrupt))
        goto nomem;
    rc = ss_slots_start(&c.sl, worker_main, w, sizeof *w, err);
    if (!rc && c.nranks > 1) {
        /* a slot for the blocks received from other processes */
        mc_slot *sc = &c.slots[0];
        mc_slot scratch;
        memset(&scratch, 0, sizeof scratch);
        scratch.mean = malloc(c.nv * sizeof *scratch.mean);
        scratch.m2 = malloc(c.nv * sizeof *scratch.m2);
        scratch.sk = calloc(c.nv, sizeof *scratch.sk);
        if (!scratch.mean || !scratch.m2 || !scratch.sk)
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (j = 0; !rc && j < c.nv; j++)
            rc = ss_sketch_new(&scratch.sk[j], ss_sketch_compression(sc->sk[0]), err);
        if (!rc)
            rc = merge_all_dist(&c, &scratch, err);
        free(scratch.mean);
        free(scratch.m2);
        if (scratch.sk)
            for (j = 0; j < c.nv; j++)
                ss_sketch_free(scratch.sk[j]);
        free(scratch.sk);
    } else if (!rc) {
        rc = merge_all(&c, err);
    }

    /* stop and join every worker, whatever happened */
    ss_slots_finish(&c.sl);

    if (!rc && c.rank == 0)
        rc = finish(out, &c, &t, q, nq) ? ss_err_set(err, SS_ENOMEM, "", "out of memory") : SS_OK;
    goto done;
nomem:
    rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
done:
    if (c.stats) {
        c.stats->cpu += thread_cpu() - cpu0 + c.worker_cpu;
        c.stats->merge_cpu += c.merge_cpu;
    }
    ss_slots_destroy(&c.sl);
    if (w)
        for (i = 0; i < nthreads; i++) {
            gsl_rng_free(w[i].rng);
            ss_sim_workspace_free(w[i].ws);
            if (w[i].batch)
                ss_batch_free(w[i].batch);
            free(w[i].ok);
            free(w[i].gcount);
            free(w[i].grows);
            ss_sketch_plan_free(w[i].plan);
            free(w[i].rows);
            free(w[i].sort_tmp);
            free(w[i].sort_cnt);
            free(w[i].vals);
        }
    free(w);
    if (c.slots) {
        for (i = 0; i < c.nslots; i++) {
            free_slot_results(&c, &c.slots[i]);
            free(c.slots[i].res);
            free(c.slots[i].mean);
            free(c.slots[i].m2);
            if (c.slots[i].sk)
                for (j = 0; j < c.nv; j++)
                    ss_sketch_free(c.slots[i].sk[j]);
            free(c.slots[i].sk);
        }
        free(c.slots);
    }
    if (t.sk)
        for (j = 0; j < c.nv; j++)
            ss_sketch_free(t.sk[j]);
    free(t.sk);
    free(t.mean);
    free(t.m2);
    ss_result_free(shape);
    free(c.keep);
    free(prov);
    return rc;
}

/* ------------------------------------------------------------------- CSV */

/* One row: the value at flat offset `off` of array `a` in every statistic. */
static int csv_row(FILE *f, const ss_mc_result *r, double t, const char *prov,
                   const char *seg, const char *metric, int a, size_t off)
{
    size_t j;
    if (!r->all_kept && result_array(r->kept, a)[off] == 0.0)
        return SS_OK; /* not kept (opts.outputs) */
    if (ss_csv_field(f, r->mean->scenario) || fputc(',', f) == EOF || ss_csv_num(f, t) ||
        fputc(',', f) == EOF || ss_csv_field(f, prov) || fputc(',', f) == EOF ||
        ss_csv_field(f, seg) || fputc(',', f) == EOF || ss_csv_field(f, metric) ||
        fputc(',', f) == EOF || ss_csv_num(f, result_array(r->mean, a)[off]) ||
        fputc(',', f) == EOF || ss_csv_num(f, result_array(r->sd, a)[off]))
        return SS_EIO;
    for (j = 0; j < r->nq; j++)
        if (fputc(',', f) == EOF || ss_csv_num(f, result_array(r->quant[j], a)[off]))
            return SS_EIO;
    return fputc('\n', f) == EOF ? SS_EIO : SS_OK;
}

static int csv_body(FILE *f, const ss_mc_result *r)
{
    const ss_result *s = r->mean;
    size_t ti, i, k, x;
    int m;
    if (fputs("scenario,time,provider,segment,metric,mean,sd", f) == EOF)
        return SS_EIO;
    for (x = 0; x < r->nq; x++) {
        char name[48];
        ss_mc_quantile_name(name, sizeof name, r->q[x]);
        if (fputc(',', f) == EOF || ss_csv_field(f, name))
            return SS_EIO;
    }
    if (fputc('\n', f) == EOF)
        return SS_EIO;
    for (ti = 0; ti < s->nt; ti++) {
        double t = s->t[ti];
        for (i = 0; i < s->np; i++)
            for (k = 0; k < s->nk; k++)
                for (m = 0; m < SS_NPS; m++)
                    if (csv_row(f, r, t, s->prov_ids[i], s->seg_ids[k], ss_metric_ps_name(m), 0,
                                (size_t)(&SS_RESULT_PS(s, ti, m, i, k) - s->ps)))
                        return SS_EIO;
        for (i = 0; i < s->np; i++)
            for (m = 0; m < SS_NP; m++)
                if (csv_row(f, r, t, s->prov_ids[i], NULL, ss_metric_p_name(m), 1,
                            (size_t)(&SS_RESULT_P(s, ti, m, i) - s->p)))
                    return SS_EIO;
        for (k = 0; k < s->nk; k++)
            for (m = 0; m < SS_NS; m++)
                if (csv_row(f, r, t, NULL, s->seg_ids[k], ss_metric_s_name(m), 2,
                            (size_t)(&SS_RESULT_S(s, ti, m, k) - s->s)))
                    return SS_EIO;
        for (x = 0; x < s->nextra; x++)
            if (csv_row(f, r, t, NULL, NULL, s->extra_names[x], 3, ti * s->nextra + x))
                return SS_EIO;
    }
    return SS_OK;
}

int ss_mc_write_csv(FILE *f, const ss_mc_result *r, ss_err *err)
{
    int rc;
    if (!f || !r)
        return ss_err_set(err, SS_EINVAL, "", "ss_mc_write_csv: no stream or results");
    errno = 0;
    rc = csv_body(f, r);
    if (rc == SS_OK && fflush(f) == EOF)
        rc = SS_EIO;
    if (rc == SS_OK && ferror(f))
        rc = SS_EIO;
    if (rc) {
        int e = errno;
        return ss_err_set(err, SS_EIO, "", "writing Monte Carlo CSV failed: %s",
                          e ? strerror(e) : "write error");
    }
    return SS_OK;
}
