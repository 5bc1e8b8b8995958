/*
 * mc_memory.c - what a Monte Carlo will take (ss_mc_estimate's parts:
 * totals, blocks in flight, workers, results), the error that says so when
 * it is over the limit and which options reduce it, and byte counts read and
 * written as "512M", "1.5 GiB" (stratsim/mc.h).
 */
#include "core/mc_internal.h"

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


/* What the Monte Carlo will take in this process (see mc.h). */
void mc_estimate(ss_mc_memory *e, const mc_ctx *c, unsigned nthreads, unsigned nslots,
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
     * kept) and mc_finish()'s buffer, the selection */
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
int mc_memory_error(const ss_mc_memory *e, const mc_ctx *c, const ss_mc_opts *o, ss_err *err)
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
