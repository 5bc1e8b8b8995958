/*
 * mc_result.c - the Monte Carlo's result object (stratsim/mc.h): its
 * accessors, the flat layout of a run's values, the assembly of the result
 * from the merged totals (means, standard deviations, quantiles, min, max,
 * the kept series) and its CSV. Depends on result.c, sketch.c, csv.c.
 */
#include "core/mc_internal.h"

/* -------------------------------------------------------------- results */


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

void mc_layout_of(layout *l, const ss_result *r)
{
    l->n[0] = r->nt * SS_NPS * r->np * r->nk;
    l->n[1] = r->nt * SS_NP * r->np;
    l->n[2] = r->nt * SS_NS * r->nk;
    l->n[3] = r->nt * r->nextra;
    l->nv = l->n[0] + l->n[1] + l->n[2] + l->n[3];
}

double *mc_result_array(const ss_result *r, int a)
{
    return a == 0 ? r->ps : a == 1 ? r->p : a == 2 ? r->s : r->extra;
}

/* Copy flat values v[nv] into the arrays of r. */
static void scatter(ss_result *r, const layout *l, const double *v)
{
    int a;
    for (a = 0; a < 4; a++) {
        if (l->n[a])
            memcpy(mc_result_array(r, a), v, l->n[a] * sizeof *v);
        v += l->n[a];
    }
}


/* The value at flat index f (layout l) of r. */
static double *flat_at(ss_result *r, const layout *l, size_t f)
{
    int a;
    for (a = 0; a < 3 && f >= l->n[a]; a++)
        f -= l->n[a];
    return mc_result_array(r, a) + f;
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
            mc_result_array(r, a)[j] = NAN;
    for (j = 0; j < c->nv; j++)
        *flat_at(r, &c->l, c->keep[j]) = v[j];
}

/* Turn the totals into the result object. */
int mc_finish(ss_mc_result **out, mc_ctx *c, mc_totals *t, const double *q, size_t nq)
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
    r->mean = ss_result_like(c->shape);
    r->sd = ss_result_like(c->shape);
    r->min = ss_result_like(c->shape);
    r->max = ss_result_like(c->shape);
    r->kept = ss_result_like(c->shape);
    r->all_kept = c->keep == NULL;
    r->mem = c->mem;
    buf = malloc((nq + 2) * nv * sizeof *buf);
    qv = malloc(nq * sizeof *qv);
    if (!r->q || !r->quant || !r->mean || !r->sd || !r->min || !r->max || !r->kept || !buf || !qv)
        goto done;
    memcpy(r->q, q, nq * sizeof *q);
    for (j = 0; j < nq; j++)
        if (!(r->quant[j] = ss_result_like(c->shape)))
            goto done;
    {
        int a;
        for (a = 0; a < 4; a++)
            for (i = 0; i < c->l.n[a]; i++)
                mc_result_array(r->kept, a)[i] = c->keep ? 0.0 : 1.0;
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


/* ------------------------------------------------------------------- CSV */

/* One row: the value at flat offset `off` of array `a` in every statistic. */
static int csv_row(FILE *f, const ss_mc_result *r, double t, const char *prov,
                   const char *seg, const char *metric, int a, size_t off)
{
    size_t j;
    if (!r->all_kept && mc_result_array(r->kept, a)[off] == 0.0)
        return SS_OK; /* not kept (opts.outputs) */
    if (ss_csv_field(f, r->mean->scenario) || fputc(',', f) == EOF || ss_csv_num(f, t) ||
        fputc(',', f) == EOF || ss_csv_field(f, prov) || fputc(',', f) == EOF ||
        ss_csv_field(f, seg) || fputc(',', f) == EOF || ss_csv_field(f, metric) ||
        fputc(',', f) == EOF || ss_csv_num(f, mc_result_array(r->mean, a)[off]) ||
        fputc(',', f) == EOF || ss_csv_num(f, mc_result_array(r->sd, a)[off]))
        return SS_EIO;
    for (j = 0; j < r->nq; j++)
        if (fputc(',', f) == EOF || ss_csv_num(f, mc_result_array(r->quant[j], a)[off]))
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
