/*
 * sweep.c - parameter sweeps over a full factorial grid (see
 * stratsim/sweep.h): grid parsing and checks, the threaded runner that hands
 * results to the caller in point order (and, distributed, through the
 * caller's transport), result packing, and the two CSV layouts.
 *
 * Threading.  Workers claim units of this process's points in increasing
 * order into a ring of ordered slots (core/slots.h: unit u lives in slot
 * u % nslots and may be claimed only once unit u - nslots has been handed
 * over, so memory is bounded by the ring): one point a unit with the scalar
 * engine (4 slots a thread), a chunk of consecutive points with the batched
 * engine (2 a thread), which runs the chunk in its lanes and then, in
 * order, every point it could not finish alone.  A failing point ends its
 * unit and records the unit as the lowest failure; workers claim no later
 * unit, and the calling thread hands over the points before it and returns
 * its error: always the error of the lowest failing point.
 * Depends on model.c, param.c, sim.c, result.c, select.c, csv.c, numfmt.c,
 * slots.c and the batched engine (core/batch.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/batch.h"
#include "core/slots.h"
#include "stratsim/io.h"
#include "stratsim/param.h"
#include "stratsim/sweep.h"

#define SWEEP_MAX_THREADS 1024
/* Points in flight per worker thread with the scalar engine (the ring of
 * slots, ss_slots_plan). */
#define SWEEP_SLOTS_PER_THREAD 4
/* The batched engine's units: chunks of consecutive local points, about a
 * quarter of a thread's share, at most 256 (16 runs a lane) and 16 MiB of
 * results (but at least one run a lane); 2 chunks in flight per worker
 * thread (chunk_points). */
#define SWEEP_CHUNK_POINTS 256
#define SWEEP_CHUNK_BYTES ((size_t)16 << 20)
#define SWEEP_CHUNKS_PER_SHARE 4
#define SWEEP_CHUNKS_PER_THREAD 2

/* ------------------------------------------------------------------ grid */

void ss_sweep_axis_free(ss_sweep_axis *a)
{
    if (!a)
        return;
    free(a->path);
    free(a->values);
    a->path = NULL;
    a->values = NULL;
    a->n = 0;
}

int ss_sweep_axis_make(ss_sweep_axis *out, const char *path, const double *values, size_t n,
                       ss_err *err)
{
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return ss_err_set(err, SS_EINVAL, "", "a grid axis needs a parameter path");
    if (n < 1)
        return ss_err_set(err, SS_EINVAL, path, "'%s': a grid axis needs at least one value", path);
    if (n > SS_SWEEP_MAX_VALUES)
        return ss_err_set(err, SS_EINVAL, path, "'%s': at most %u values per axis (got %zu)", path,
                          SS_SWEEP_MAX_VALUES, n);
    out->path = strdup(path);
    out->values = malloc(n * sizeof *out->values);
    if (!out->path || !out->values) {
        ss_sweep_axis_free(out);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    memcpy(out->values, values, n * sizeof *values);
    out->n = n;
    return SS_OK;
}

/* Parse one number of a grid spec (trimmed copy of [b, e)). */
static int grid_num(const char *b, const char *e, double *out)
{
    char buf[128];
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e == b || (size_t)(e - b) >= sizeof buf)
        return -1;
    memcpy(buf, b, (size_t)(e - b));
    buf[e - b] = '\0';
    return ss_parse_double(buf, out);
}

int ss_sweep_axis_parse(ss_sweep_axis *out, const char *spec, ss_err *err)
{
    const char *eq = spec ? strchr(spec, '=') : NULL, *v;
    char path[256];
    double *vals = NULL;
    size_t n = 0, cap = 0, plen;
    int rc;
    memset(out, 0, sizeof *out);
    if (!eq)
        return ss_err_set(err, SS_EINVAL, "", "expected PATH=START:STOP:N or PATH=v1,v2,...");
    plen = (size_t)(eq - spec);
    while (plen > 0 && (spec[plen - 1] == ' ' || spec[plen - 1] == '\t'))
        plen--;
    if (plen == 0)
        return ss_err_set(err, SS_EINVAL, "", "no parameter path before '='");
    if (plen >= sizeof path)
        return ss_err_set(err, SS_EINVAL, "", "parameter path too long");
    memcpy(path, spec, plen);
    path[plen] = '\0';
    v = eq + 1;
    if (strchr(v, ':')) {
        const char *c1 = strchr(v, ':'), *c2 = strchr(c1 + 1, ':');
        double a, b, nn;
        unsigned long long N;
        if (!c2 || strchr(c2 + 1, ':'))
            return ss_err_set(err, SS_EINVAL, path, "'%s': bad range '%s': expected START:STOP:N",
                              path, v);
        if (grid_num(v, c1, &a) != 0 || grid_num(c1 + 1, c2, &b) != 0)
            return ss_err_set(err, SS_EINVAL, path,
                              "'%s': bad range '%s': START and STOP must be finite numbers", path, v);
        if (grid_num(c2 + 1, c2 + 1 + strlen(c2 + 1), &nn) != 0 || nn != floor(nn))
            return ss_err_set(err, SS_EINVAL, path,
                              "'%s': bad range '%s': N must be a whole number of points", path, v);
        if (nn < 1)
            return ss_err_set(err, SS_EINVAL, path, "'%s': N must be at least 1 (got %.0f)", path, nn);
        if (nn > SS_SWEEP_MAX_VALUES)
            return ss_err_set(err, SS_EINVAL, path, "'%s': at most %u points per axis (got %.0f)", path,
                              SS_SWEEP_MAX_VALUES, nn);
        N = (unsigned long long)nn;
        if (!(vals = malloc((size_t)N * sizeof *vals)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (n = 0; n < (size_t)N; n++)
            vals[n] = N == 1 ? a : a + (double)n * (b - a) / (double)(N - 1);
    } else {
        const char *p = v;
        for (;;) {
            const char *e = strchr(p, ',');
            double x;
            if (!e)
                e = p + strlen(p);
            if (grid_num(p, e, &x) != 0) {
                free(vals);
                return ss_err_set(err, SS_EINVAL, path,
                                  "'%s': bad value list '%s': item %zu is not a finite number",
                                  path, v, n + 1);
            }
            if (n == cap) {
                double *nv;
                cap = cap ? 2 * cap : 8;
                if (cap > SS_SWEEP_MAX_VALUES || !(nv = realloc(vals, cap * sizeof *vals))) {
                    free(vals);
                    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
                }
                vals = nv;
            }
            vals[n++] = x;
            if (!*e)
                break;
            p = e + 1;
        }
    }
    rc = ss_sweep_axis_make(out, path, vals, n, err);
    free(vals);
    return rc;
}

uint64_t ss_sweep_npoints(const ss_sweep_axis *axes, size_t naxes)
{
    uint64_t p = 1;
    size_t j;
    for (j = 0; j < naxes; j++) {
        if (axes[j].n == 0)
            return 0;
        if (p > UINT64_MAX / axes[j].n)
            return UINT64_MAX;
        p *= axes[j].n;
    }
    return p;
}

void ss_sweep_point(const ss_sweep_axis *axes, size_t naxes, uint64_t p, double *x)
{
    size_t j = naxes;
    while (j-- > 0) {
        x[j] = axes[j].values[p % axes[j].n];
        p /= axes[j].n;
    }
}

int ss_sweep_check(const ss_model *m, const ss_sweep_axis *axes, size_t naxes, ss_err *err)
{
    ss_model *probe;
    size_t j, k, i;
    int rc = SS_OK;
    if (naxes < 1)
        return ss_err_set(err, SS_EINVAL, "", "a sweep needs at least one grid axis");
    if (!(probe = ss_model_copy(m)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (j = 0; j < naxes && !rc; j++) {
        ss_param h;
        const char *p = axes[j].path;
        for (k = 0; k < j && !rc; k++)
            if (strcmp(axes[k].path, p) == 0)
                rc = ss_err_set(err, SS_EINVAL, p, "'%s' is swept twice", p);
        if (!rc && axes[j].n < 1)
            rc = ss_err_set(err, SS_EINVAL, p, "'%s': no values", p);
        if (!rc)
            rc = ss_param_lookup(&h, probe, p, err);
        for (i = 0; i < axes[j].n && !rc; i++)
            if ((rc = ss_param_check(&h, axes[j].values[i], err)) != SS_OK) {
                char v[40], msg[sizeof err->msg];
                ss_fmt_double(v, sizeof v, axes[j].values[i]);
                snprintf(msg, sizeof msg, "%s", err->msg);
                rc = ss_err_set(err, rc, p, "'%s' = %s: %s", p, v, msg);
            }
    }
    ss_model_free(probe);
    if (!rc && ss_sweep_npoints(axes, naxes) > SS_SWEEP_MAX_POINTS)
        rc = ss_err_set(err, SS_EINVAL, "", "the grid has more than %u points", SS_SWEEP_MAX_POINTS);
    return rc;
}

int ss_sweep_apply(ss_model *m, const ss_sweep_axis *axes, size_t naxes, const double *x,
                   ss_err *err)
{
    size_t j;
    int rc;
    for (j = 0; j < naxes; j++) {
        ss_param h;
        if ((rc = ss_param_lookup(&h, m, axes[j].path, err)))
            return rc;
        if ((rc = ss_param_set(&h, x[j], err))) {
            char v[40], msg[sizeof err->msg];
            ss_fmt_double(v, sizeof v, x[j]);
            snprintf(msg, sizeof msg, "%s", err->msg);
            return ss_err_set(err, rc, axes[j].path, "%s = %s: %s", axes[j].path, v, msg);
        }
    }
    return SS_OK;
}

/* -------------------------------------------------------------- packing */

/* A growing byte buffer. */
typedef struct pbuf {
    unsigned char *d;
    size_t n, cap;
    int bad;
} pbuf;

static void put(pbuf *b, const void *p, size_t n)
{
    if (b->bad)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        unsigned char *nd;
        while (cap < b->n + n)
            cap *= 2;
        if (!(nd = realloc(b->d, cap))) {
            b->bad = 1;
            return;
        }
        b->d = nd;
        b->cap = cap;
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static void put_u64(pbuf *b, uint64_t v) { put(b, &v, sizeof v); }

static void put_str(pbuf *b, const char *s)
{
    uint64_t n = s ? strlen(s) : 0;
    put_u64(b, n);
    put(b, s ? s : "", (size_t)n);
}

int ss_sweep_pack(const ss_result *r, void **data, size_t *len, ss_err *err)
{
    pbuf b = { NULL, 0, 0, 0 };
    size_t i;
    put_str(&b, r->scenario);
    put_u64(&b, r->nt);
    put_u64(&b, r->np);
    put_u64(&b, r->nk);
    put_u64(&b, r->nextra);
    for (i = 0; i < r->np; i++)
        put_str(&b, r->prov_ids[i]);
    for (i = 0; i < r->nk; i++)
        put_str(&b, r->seg_ids[i]);
    for (i = 0; i < r->nextra; i++)
        put_str(&b, r->extra_names[i]);
    put(&b, r->t, r->nt * sizeof *r->t);
    put(&b, r->ps, r->nt * SS_NPS * r->np * r->nk * sizeof *r->ps);
    put(&b, r->p, r->nt * SS_NP * r->np * sizeof *r->p);
    put(&b, r->s, r->nt * SS_NS * r->nk * sizeof *r->s);
    if (r->nextra)
        put(&b, r->extra, r->nt * r->nextra * sizeof *r->extra);
    /* the units of user stocks: a flag per extra metric, then the text */
    put_u64(&b, r->extra_units ? 1 : 0);
    for (i = 0; r->extra_units && i < r->nextra; i++) {
        put_u64(&b, r->extra_units[i] ? 1 : 0);
        if (r->extra_units[i])
            put_str(&b, r->extra_units[i]);
    }
    if (b.bad) {
        free(b.d);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    *data = b.d;
    *len = b.n;
    return SS_OK;
}

typedef struct rbuf {
    const unsigned char *d;
    size_t n, at;
    int bad;
} rbuf;

static void get(rbuf *b, void *p, size_t n)
{
    if (b->bad || n > b->n - b->at) {
        b->bad = 1;
        if (n)
            memset(p, 0, n);
        return;
    }
    memcpy(p, b->d + b->at, n);
    b->at += n;
}

static uint64_t get_u64(rbuf *b)
{
    uint64_t v = 0;
    get(b, &v, sizeof v);
    return v;
}

/* A malloc'ed string, or NULL (b->bad set) */
static char *get_str(rbuf *b)
{
    uint64_t n = get_u64(b);
    char *s;
    if (b->bad || n > b->n - b->at || !(s = malloc((size_t)n + 1))) {
        b->bad = 1;
        return NULL;
    }
    get(b, s, (size_t)n);
    s[n] = '\0';
    return s;
}

int ss_sweep_unpack(ss_result **out, const void *data, size_t len, ss_err *err)
{
    rbuf b = { data, len, 0, 0 };
    char *scen = NULL, **prov = NULL, **seg = NULL;
    uint64_t nt, np, nk, nx, i;
    ss_result *r = NULL;
    *out = NULL;
    scen = get_str(&b);
    nt = get_u64(&b);
    np = get_u64(&b);
    nk = get_u64(&b);
    nx = get_u64(&b);
    /* every count is bounded by the bytes that must follow */
    if (b.bad || nt > len || np > len || nk > len || nx > len)
        goto bad;
    prov = calloc((size_t)np + 1, sizeof *prov);
    seg = calloc((size_t)nk + 1, sizeof *seg);
    if (!prov || !seg)
        goto bad;
    for (i = 0; i < np; i++)
        prov[i] = get_str(&b);
    for (i = 0; i < nk; i++)
        seg[i] = get_str(&b);
    if (b.bad || !(r = ss_result_new(scen, (size_t)nt, (size_t)np, prov, (size_t)nk, seg)))
        goto bad;
    if (nx) {
        r->extra_names = calloc((size_t)nx, sizeof *r->extra_names);
        r->extra = calloc((size_t)(nt * nx) + 1, sizeof *r->extra);
        if (!r->extra_names || !r->extra)
            goto bad;
        r->nextra = (size_t)nx;
        for (i = 0; i < nx; i++)
            if (!(r->extra_names[i] = get_str(&b)))
                goto bad;
    }
    get(&b, r->t, r->nt * sizeof *r->t);
    get(&b, r->ps, r->nt * SS_NPS * r->np * r->nk * sizeof *r->ps);
    get(&b, r->p, r->nt * SS_NP * r->np * sizeof *r->p);
    get(&b, r->s, r->nt * SS_NS * r->nk * sizeof *r->s);
    if (nx)
        get(&b, r->extra, r->nt * r->nextra * sizeof *r->extra);
    if (get_u64(&b) && !b.bad) {
        if (!(r->extra_units = calloc((size_t)nx + 1, sizeof *r->extra_units)))
            goto bad;
        for (i = 0; i < nx && !b.bad; i++)
            if (get_u64(&b) && !(r->extra_units[i] = get_str(&b)))
                goto bad;
    }
    if (b.bad || b.at != len)
        goto bad;
    free(scen);
    for (i = 0; i < np; i++)
        free(prov[i]);
    for (i = 0; i < nk; i++)
        free(seg[i]);
    free(prov);
    free(seg);
    *out = r;
    return SS_OK;
bad:
    free(scen);
    for (i = 0; prov && i < np; i++)
        free(prov[i]);
    for (i = 0; seg && i < nk; i++)
        free(seg[i]);
    free(prov);
    free(seg);
    ss_result_free(r);
    return ss_err_set(err, SS_EINVAL, "", "a sweep result received from another process is damaged");
}

/* --------------------------------------------------------------- runner */

/* What slot u % nslots of the ring holds for unit u, the local points
 * [u C, u C + C) (C = 1 with the scalar engine). */
typedef struct sw_slot {
    ss_result **r;       /* [C] the points' results; r[0, n) are handed over */
    size_t n;            /* points done in order (all of the unit's, unless rc) */
    int rc;              /* non-zero: local point u C + n failed, err says how */
    ss_err err;
} sw_slot;

typedef struct sw_ctx sw_ctx;

typedef struct sw_worker {
    sw_ctx *c;
    unsigned index;
    ss_sim_workspace *ws;
    ss_batch *b;         /* the batched engine's lanes; NULL with the scalar engine */
    double *x;           /* [naxes] */
    uint64_t unit;       /* the batched engine's callbacks: the unit being run, */
    sw_slot *slot;       /* and its slot */
} sw_worker;

struct sw_ctx {
    const ss_model *base;
    const ss_sweep_axis *axes;
    size_t naxes;
    const ss_sweep_opts *o;
    volatile int *interrupt;
    uint64_t rank, nranks, npoints, nlocal;
    int batched;         /* the batched engine runs the units */
    size_t C;            /* local points a unit */
    uint64_t nunits;
    unsigned nslots;
    sw_slot *slots;      /* [nslots] */
    ss_slots sl;         /* the ring: units of local points */
    uint64_t held;       /* the unit the calling thread holds, UINT64_MAX: none */
    atomic_uint_fast64_t alone; /* points the scalar engine ran */
};

static int interrupted(const sw_ctx *c)
{
    return c->interrupt && __atomic_load_n(c->interrupt, __ATOMIC_RELAXED);
}

/* "point N (PATH=v, ...): message" */
static int point_error(const sw_ctx *c, ss_err *err, int rc, uint64_t p, const double *x)
{
    char msg[sizeof err->msg], path[sizeof err->path], where[512];
    size_t j, o = 0;
    snprintf(msg, sizeof msg, "%s", err->msg[0] ? err->msg : ss_strerror(rc));
    snprintf(path, sizeof path, "%s", err->path);
    where[0] = '\0';
    for (j = 0; j < c->naxes && o < sizeof where - 1; j++) {
        char v[40];
        ss_fmt_double(v, sizeof v, x[j]);
        o += (size_t)snprintf(where + o, sizeof where - o, "%s%s=%s", j ? ", " : "",
                              c->axes[j].path, v);
    }
    return ss_err_set(err, rc, path, "point %" PRIu64 " (%s): %s", p, where, msg);
}

/* Point p's model into *m: its values in w->x, a copy of the scenario with
 * them set (not resolved). *m is NULL only if out of memory; the caller
 * frees it, also when setting a value failed (the return value). */
static int point_model(sw_worker *w, uint64_t p, ss_model **m, ss_err *err)
{
    sw_ctx *c = w->c;
    ss_sweep_point(c->axes, c->naxes, p, w->x);
    if (!(*m = ss_model_copy(c->base)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return ss_sweep_apply(*m, c->axes, c->naxes, w->x, err);
}

/* Point p alone (the scalar engine). */
static int run_point(sw_worker *w, uint64_t p, ss_result **out, ss_err *err)
{
    sw_ctx *c = w->c;
    ss_model *m;
    ss_run_opts ro;
    int rc;
    *out = NULL;
    atomic_fetch_add(&c->alone, 1);
    rc = point_model(w, p, &m, err);
    if (!m)
        return rc;
    if (c->o->run_opts) {
        ro = *c->o->run_opts;
    } else {
        ss_run_opts init = SS_RUN_OPTS_INIT;
        ro = init;
    }
    ro.interrupt = c->interrupt;
    if (!rc && c->o->prepare)
        rc = c->o->prepare(w->index, p, m, &ro, c->o->payload, err);
    if (!rc)
        rc = ss_sim_run_ws(w->ws, out, m, &ro, err);
    ss_model_free(m);
    if (rc && rc != SS_EINTR)
        rc = point_error(c, err, rc, p, w->x);
    return rc;
}

/* The batched engine's view of a unit (ss_batch_io; ctx: the worker).
 * Point r of the unit: a copy of the scenario with the point's values,
 * resolved (as ss_sim_run resolves it); a failure is left to run_point,
 * which reports it. */
static int bio_load(void *ctx, size_t r, ss_model **out)
{
    sw_worker *w = ctx;
    sw_ctx *c = w->c;
    ss_model *m;
    ss_err e;
    int rc;
    *out = NULL;
    ss_err_clear(&e);
    rc = point_model(w, c->rank + (w->unit * c->C + r) * c->nranks, &m, &e);
    if (!m)
        return SS_ENOMEM;
    if (rc || ss_model_resolve(m, &e)) {
        ss_model_free(m);
        return SS_EINVAL;
    }
    *out = m;
    return SS_OK;
}

/* Point r of the unit is done: a copy of its result (none, or no memory
 * for the copy: run_point runs it again). */
static void bio_done(void *ctx, size_t r, const ss_result *res)
{
    sw_worker *w = ctx;
    if (res)
        w->slot->r[r] = ss_result_copy(res);
}

static int bio_stop(void *ctx)
{
    sw_worker *w = ctx;
    return interrupted(w->c) || ss_slots_cancelled(&w->c->sl, w->unit);
}

/* Unit u into its slot (ss_slots_work; the slot is this worker's until it
 * is DONE): the batched engine first, if it runs the sweep, then, in point
 * order, every point without a result alone, up to the first that fails. */
static int work_unit(void *arg, uint64_t u)
{
    sw_worker *w = arg;
    sw_ctx *c = w->c;
    sw_slot *s = &c->slots[u % c->nslots];
    uint64_t first = u * c->C;
    size_t n = c->nlocal - first < c->C ? (size_t)(c->nlocal - first) : c->C, i;
    ss_err_clear(&s->err);
    s->rc = SS_OK;
    s->n = 0;
    if (c->batched) {
        ss_batch_io io = { bio_load, bio_done, bio_stop, w };
        w->unit = u;
        w->slot = s;
        if ((s->rc = ss_batch_run(w->b, SS_BATCH_LANES, n, &io, &s->err)))
            return s->rc;
    }
    for (i = 0; i < n; i++)
        if (!s->r[i] && (s->rc = run_point(w, c->rank + (first + i) * c->nranks, &s->r[i], &s->err)))
            break;
    s->n = i;
    return s->rc;
}

static void *worker_main(void *arg)
{
    sw_worker *w = arg;
    ss_slots_work(&w->c->sl, work_unit, w);
    return NULL;
}

static int intr_error(const sw_ctx *c, ss_err *err, uint64_t done)
{
    return ss_err_set(err, SS_EINTR, "", "interrupted after %" PRIu64 " of %" PRIu64 " points", done,
                      c->npoints);
}

/* Free the results slot s holds (of C points; none before r exists). */
static void free_slot_results(sw_slot *s, size_t C)
{
    size_t i;
    for (i = 0; s->r && i < C; i++) {
        ss_result_free(s->r[i]);
        s->r[i] = NULL;
    }
}

/* Free unit u's results and give its slot back to the ring. */
static void release_unit(sw_ctx *c, uint64_t u)
{
    free_slot_results(&c->slots[u % c->nslots], c->C);
    ss_slots_release(&c->sl, u);
}

/* The calling thread: local point k's result in *r (borrowed until a later
 * unit is asked for; points in increasing order), or its error (an
 * interrupt: "interrupted after `done` of N points"). */
static int local_result(sw_ctx *c, uint64_t k, uint64_t done, const ss_result **r, ss_err *err)
{
    uint64_t u = k / c->C;
    size_t i = (size_t)(k % c->C);
    sw_slot *s;
    *r = NULL;
    if (u != c->held) {
        if (c->held != UINT64_MAX)
            release_unit(c, c->held);
        c->held = UINT64_MAX;
        if (ss_slots_wait(&c->sl, u, NULL, NULL))
            return intr_error(c, err, done);
        c->held = u;
    }
    s = &c->slots[u % c->nslots];
    if (i >= s->n) { /* the unit's failing point */
        if (s->rc == SS_EINTR)
            return intr_error(c, err, done);
        *err = s->err;
        return s->rc;
    }
    *r = s->r[i];
    return SS_OK;
}

/* The calling thread: hand over every point in order. */
static int consume(sw_ctx *c, ss_err *err)
{
    const ss_sweep_opts *o = c->o;
    double *x = malloc((c->naxes + 1) * sizeof *x);
    uint64_t p, k;
    int rc = SS_OK;
    if (!x)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (c->rank > 0) {
        /* a helper process: send this process's points in order */
        for (k = 0; k < c->nlocal && !rc; k++) {
            uint64_t pt = c->rank + k * c->nranks;
            const ss_result *r;
            void *data = NULL;
            size_t len = 0;
            if ((rc = local_result(c, k, k, &r, err))) {
                ss_err e = *err;
                o->dist->send(pt, rc, &e, NULL, 0, o->dist->payload, err);
                *err = e;
                break;
            }
            rc = ss_sweep_pack(r, &data, &len, err);
            if (!rc)
                rc = o->dist->send(pt, SS_OK, NULL, data, len, o->dist->payload, err);
            free(data);
        }
        free(x);
        return rc;
    }
    for (p = 0; p < c->npoints && !rc; p++) {
        ss_sweep_point(c->axes, c->naxes, p, x);
        if (p % c->nranks == 0) {
            const ss_result *r;
            rc = local_result(c, p / c->nranks, p, &r, err);
            if (!rc && o->on_point)
                rc = o->on_point(p, x, r, o->payload, err);
        } else {
            void *data = NULL;
            size_t len = 0;
            ss_result *r = NULL;
            rc = o->dist->recv(p, &data, &len, o->dist->payload, err);
            if (!rc)
                rc = ss_sweep_unpack(&r, data, len, err);
            free(data);
            if (!rc && o->on_point)
                rc = o->on_point(p, x, r, o->payload, err);
            ss_result_free(r);
        }
        if (!rc && o->progress)
            o->progress(p + 1, c->npoints, o->payload);
        if (!rc && interrupted(c))
            rc = intr_error(c, err, p + 1);
    }
    free(x);
    return rc;
}

/* Local points a unit of the batched engine: a SWEEP_CHUNKS_PER_SHARE-th of
 * a thread's share of the points (so that the calling thread hands over the
 * first chunks while the workers run the next), rounded up to whole rounds
 * of the lanes once it is one; at most SWEEP_CHUNK_POINTS, and no more than
 * SWEEP_CHUNK_BYTES of results (nv values each), unless that is less than a
 * round of the lanes. */
static size_t chunk_points(size_t nv, uint64_t nlocal, unsigned nthreads)
{
    double bytes = (double)sizeof(double) * (double)nv;
    uint64_t per = (uint64_t)SWEEP_CHUNKS_PER_SHARE * (nthreads ? nthreads : 1);
    uint64_t n = (nlocal + per - 1) / per, cap;
    if (n >= SS_BATCH_LANES)
        n = (n + SS_BATCH_LANES - 1) / SS_BATCH_LANES * SS_BATCH_LANES;
    if (n > SWEEP_CHUNK_POINTS)
        n = SWEEP_CHUNK_POINTS;
    cap = (uint64_t)((double)SWEEP_CHUNK_BYTES / bytes);
    if (cap < SS_BATCH_LANES)
        cap = SS_BATCH_LANES;
    if (n > cap)
        n = cap;
    return n ? (size_t)n : 1;
}

int ss_sweep_run(const ss_model *m, const ss_sweep_axis *axes, size_t naxes,
                 const ss_sweep_opts *opts, ss_err *err)
{
    ss_sweep_opts defaults = SS_SWEEP_OPTS_INIT;
    const ss_sweep_opts *o = opts ? opts : &defaults;
    sw_ctx c;
    sw_worker *w = NULL;
    unsigned nthreads = 0, i;
    int rc;
    ss_err local;

    if (!err) {
        ss_err_clear(&local);
        err = &local;
    }
    if (o->info) {
        o->info->engine = "scalar";
        o->info->scalar_points = 0;
    }
    if ((rc = ss_sweep_check(m, axes, naxes, err)))
        return rc;
    for (i = 0; i < naxes; i++) /* an input a link defines cannot be swept */
        if ((rc = ss_run_opts_check_path(o->run_opts, axes[i].path, err)))
            return rc;
    if (o->threads > SWEEP_MAX_THREADS)
        return ss_err_set(err, SS_EINVAL, "threads", "threads must be at most %d (got %u)",
                          SWEEP_MAX_THREADS, o->threads);
    if (o->dist && (o->dist->nranks < 1 || o->dist->rank >= o->dist->nranks ||
                    (o->dist->nranks > 1 && (!o->dist->send || !o->dist->recv))))
        return ss_err_set(err, SS_EINVAL, "", "ss_sweep_run: bad distribution settings");
    memset(&c, 0, sizeof c);
    c.base = m;
    c.axes = axes;
    c.naxes = naxes;
    c.o = o;
    c.interrupt = o->interrupt ? o->interrupt : (o->run_opts ? o->run_opts->interrupt : NULL);
    c.rank = o->dist ? o->dist->rank : 0;
    c.nranks = o->dist ? o->dist->nranks : 1;
    c.npoints = ss_sweep_npoints(axes, naxes);
    c.nlocal = c.npoints > c.rank ? (c.npoints - c.rank + c.nranks - 1) / c.nranks : 0;
    c.held = UINT64_MAX;
    atomic_init(&c.alone, 0);
    if (interrupted(&c))
        return ss_err_set(err, SS_EINTR, "", "interrupted before the first point");

    /* before any worker starts (ss_batch_suits picks the vector functions) */
    c.batched = o->engine != SS_SWEEP_ENGINE_SCALAR && !o->prepare && ss_batch_suits(m, o->run_opts);
    c.C = 1;
    if (c.batched) {
        ss_slots_plan(o->threads, SWEEP_MAX_THREADS, 1, c.nlocal, &nthreads, &c.nslots);
        c.C = chunk_points(ss_batch_values(m), c.nlocal, nthreads);
    }
    c.nunits = (c.nlocal + c.C - 1) / c.C;
    ss_slots_plan(o->threads, SWEEP_MAX_THREADS,
                  c.batched ? SWEEP_CHUNKS_PER_THREAD : SWEEP_SLOTS_PER_THREAD, c.nunits,
                  &nthreads, &c.nslots);
    c.slots = calloc(c.nslots, sizeof *c.slots);
    w = calloc(nthreads + 1, sizeof *w);
    if (!c.slots || !w)
        goto nomem;
    for (i = 0; i < c.nslots; i++)
        if (!(c.slots[i].r = calloc(c.C, sizeof *c.slots[i].r)))
            goto nomem;
    for (i = 0; i < nthreads; i++) {
        w[i].c = &c;
        w[i].index = i;
        w[i].ws = ss_sim_workspace_new();
        w[i].x = malloc((naxes + 1) * sizeof *w[i].x);
        if (!w[i].ws || !w[i].x || (c.batched && !(w[i].b = ss_batch_new())))
            goto nomem;
    }
    if (ss_slots_init(&c.sl, c.nslots, nthreads, c.nunits, c.interrupt))
        goto nomem;
    rc = ss_slots_start(&c.sl, worker_main, w, sizeof *w, err);
    if (!rc)
        rc = consume(&c, err);
    ss_slots_finish(&c.sl);
    goto done;
nomem:
    rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
done:
    if (o->info) {
        o->info->engine = c.batched ? "batched" : "scalar";
        o->info->scalar_points = atomic_load(&c.alone);
    }
    ss_slots_destroy(&c.sl);
    if (w)
        for (i = 0; i < nthreads; i++) {
            ss_sim_workspace_free(w[i].ws);
            ss_batch_free(w[i].b);
            free(w[i].x);
        }
    free(w);
    if (c.slots)
        for (i = 0; i < c.nslots; i++) {
            free_slot_results(&c.slots[i], c.C);
            free(c.slots[i].r);
        }
    free(c.slots);
    return rc;
}

/* ------------------------------------------------------------------- CSV */

static int io_error(ss_err *err)
{
    int e = errno;
    return ss_err_set(err, SS_EIO, "", "writing the sweep CSV failed: %s", e ? strerror(e) : "write error");
}

static int header_axes(FILE *f, const ss_sweep_axis *axes, size_t naxes)
{
    size_t j;
    for (j = 0; j < naxes; j++)
        if ((j && fputc(',', f) == EOF) || ss_csv_field(f, axes[j].path))
            return SS_EIO;
    return SS_OK;
}

int ss_sweep_write_long_header(FILE *f, const ss_sweep_axis *axes, size_t naxes, ss_err *err)
{
    errno = 0;
    if (header_axes(f, axes, naxes) ||
        fputs(",scenario,time,provider,segment,metric,value\n", f) == EOF)
        return io_error(err);
    return SS_OK;
}

/* The point's values, each followed by a comma. */
static int lead(FILE *f, const double *x, size_t naxes)
{
    size_t j;
    for (j = 0; j < naxes; j++)
        if (ss_csv_num(f, x[j]) || fputc(',', f) == EOF)
            return SS_EIO;
    return SS_OK;
}

int ss_sweep_write_long_rows(FILE *f, const double *x, size_t naxes, const ss_result *r,
                             ss_err *err)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m;
    int rc;
    errno = 0;
    /* the point's values, formatted once for all its rows */
    if (!(m = open_memstream(&buf, &n)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = lead(m, x, naxes);
    if (fclose(m) != 0 || rc) {
        free(buf);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    rc = ss_csv_write_long_rows(f, buf, r);
    free(buf);
    if (rc == SS_ENOMEM)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return rc ? io_error(err) : SS_OK;
}

int ss_sweep_write_sel_header(FILE *f, const ss_sweep_axis *axes, size_t naxes,
                              const ss_selector *sel, size_t nsel, ss_err *err)
{
    size_t j;
    errno = 0;
    if (header_axes(f, axes, naxes))
        return io_error(err);
    for (j = 0; j < nsel; j++)
        if (fputc(',', f) == EOF || ss_csv_field(f, sel[j].text))
            return io_error(err);
    if (fputc('\n', f) == EOF)
        return io_error(err);
    return SS_OK;
}

int ss_sweep_write_sel_row(FILE *f, const double *x, size_t naxes, const double *y, size_t nsel,
                           ss_err *err)
{
    size_t j;
    errno = 0;
    for (j = 0; j < naxes; j++)
        if ((j && fputc(',', f) == EOF) || ss_csv_num(f, x[j]))
            return io_error(err);
    for (j = 0; j < nsel; j++)
        if (fputc(',', f) == EOF || ss_csv_num(f, y[j]))
            return io_error(err);
    if (fputc('\n', f) == EOF)
        return io_error(err);
    return SS_OK;
}
