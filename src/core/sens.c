/*
 * sens.c - sensitivity analysis: one-at-a-time tornado and global Sobol
 * indices (Saltelli sampling on gsl_qrng_sobol, Saltelli 2010 first-order and
 * Jansen total-effect estimators, percentile bootstrap intervals with a
 * seeded gsl_rng), plus their CSV writers.
 *
 * The Sobol core is generic (a C callback evaluates the model), so analytic
 * test functions can be checked directly; ss_sobol_model() wraps it around
 * ss_sim_run with parameter paths (param.h) and selectors (select.h), and
 * hands chunks of the design to the batched engine (core/batch.h) where that
 * can run them, redoing alone whatever it could not finish.  Every model
 * evaluation works on a fresh copy of the base model, so runs cannot leak
 * state into each other.  Depends on GSL, sim.h, param.h, select.h, io.h,
 * batch.h.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include "stratsim/io.h"
#include "stratsim/param.h"
#include "stratsim/select.h"
#include "stratsim/sens.h"
#include "core/sobol_chunks.h"

static void free_strs(char **v, size_t n)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Prefix the message already in err with a context line; keeps the code. */
static int wrap_err(ss_err *err, int rc, const char *context)
{
    if (err) {
        char msg[sizeof err->msg], path[sizeof err->path];
        snprintf(msg, sizeof msg, "%s", err->msg);
        snprintf(path, sizeof path, "%s", err->path);
        ss_err_set(err, rc, path, "%s: %s", context, msg);
    }
    return rc;
}

/*
 * Run a fresh copy of `m` with paths[i] set to x[i]; on success *out owns
 * the result.  Errors name the values that were being tried.
 */
static int run_with(ss_result **out, const ss_model *m, const char *const *paths,
                    const double *x, size_t n, const ss_run_opts *ropts, ss_err *err)
{
    ss_model *c = ss_model_copy(m);
    size_t i;
    int rc = SS_OK;

    *out = NULL;
    if (!c)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < n && rc == SS_OK; i++)
        rc = ss_model_set_path(c, paths[i], x[i], err);
    if (rc == SS_OK)
        rc = ss_sim_run(out, c, ropts, err);
    ss_model_free(c);
    if (rc) {
        char ctx[256];
        size_t len = 0;
        ctx[0] = '\0';
        for (i = 0; i < n && len < sizeof ctx; i++) {
            int w = snprintf(ctx + len, sizeof ctx - len, "%s%s=%.10g", i ? ", " : "", paths[i], x[i]);
            if (w < 0)
                break;
            len += (size_t)w;
        }
        return wrap_err(err, rc, n ? ctx : "base run");
    }
    return SS_OK;
}

/* Parse and validate selectors that must give one value each. */
static int parse_outputs(ss_selector *sel, const char *const *outputs, size_t nout,
                         const ss_model *m, ss_err *err)
{
    size_t j;
    int rc;
    for (j = 0; j < nout; j++) {
        if ((rc = ss_selector_parse(&sel[j], outputs[j], err)) ||
            (rc = ss_selector_validate(&sel[j], m, err)))
            return rc;
        if (sel[j].when == SS_SEL_EACH)
            return ss_err_set(err, SS_EINVAL, "", "output '%s': '@each' gives a series; sensitivity "
                              "needs one value per output (use @TIME)", sel[j].text);
    }
    return SS_OK;
}

/* Check that every path exists, reading base values from a resolved copy. */
static int check_paths(double *base, const ss_model *m, const char *const *paths, size_t n,
                       ss_err *err)
{
    ss_model *c = ss_model_copy(m);
    size_t i;
    int rc = SS_OK;
    if (!c)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = ss_model_resolve(c, err);
    for (i = 0; i < n && rc == SS_OK; i++) {
        ss_param p;
        if ((rc = ss_param_lookup(&p, c, paths[i], err)) == SS_OK && base)
            base[i] = ss_param_get(&p, c);
    }
    ss_model_free(c);
    return rc;
}

static int write_end(FILE *f, ss_err *err)
{
    if (fflush(f) != 0 || ferror(f))
        return ss_err_set(err, SS_EIO, "", "writing CSV failed");
    return SS_OK;
}

/* ------------------------------------------------------------- tornado */

void ss_tornado_free(ss_tornado *t)
{
    if (!t)
        return;
    free_strs(t->params, t->nparam);
    free_strs(t->outputs, t->nout);
    free(t->base_param);
    free(t->base_out);
    free(t->rows);
    free(t);
}

/* Larger swing first; equal swings keep the parameter order. */
static int cmp_rows(const void *a, const void *b)
{
    const ss_tornado_row *x = a, *y = b;
    if (x->swing > y->swing)
        return -1;
    if (x->swing < y->swing)
        return 1;
    return x->param < y->param ? -1 : x->param > y->param;
}

int ss_tornado_run(ss_tornado **out, const ss_model *m, const ss_tornado_param *params,
                   size_t nparam, const char *const *outputs, size_t nout,
                   const ss_run_opts *ropts, const ss_progress *progress, ss_err *err)
{
    return ss_tornado_run_dist(out, m, params, nparam, outputs, nout, ropts, progress, NULL, err);
}

/* The state of one ss_tornado_run_dist. */
typedef struct tornado_run {
    const ss_model *m;
    const ss_tornado_param *params;
    size_t nparam, nout;
    const ss_run_opts *ropts;
    const ss_progress *progress;
    const ss_transport *dist;  /* NULL on one process */
    uint64_t rank;
    uint64_t nruns, done_runs; /* model runs in all, and those done here */
    ss_tornado *t;
    ss_selector *sel;          /* [nout] */
    double *yall;              /* [(1 + 2 nparam) nout]: the base run's outputs, then
                                * each parameter's at its low and at its high value */
} tornado_run;

/* Check the inputs: at least one parameter and one output, no parameter
 * defined by a link, finite low and high values. */
static int tornado_check(const ss_tornado_param *params, size_t nparam, size_t nout,
                         const ss_run_opts *ropts, ss_err *err)
{
    size_t i;
    int rc;

    if (nparam == 0 || nout == 0)
        return ss_err_set(err, SS_EINVAL, "", "tornado: need at least one parameter and one output");
    for (i = 0; i < nparam; i++)    /* an input defined by a link cannot vary */
        if ((rc = ss_run_opts_check_path(ropts, params[i].path, err)))
            return rc;
    for (i = 0; i < nparam; i++)
        if (!isfinite(params[i].low) || !isfinite(params[i].high))
            return ss_err_set(err, SS_EINVAL, params[i].path, "tornado: %s: low and high must be finite",
                              params[i].path);
    return SS_OK;
}

/* Allocate the tornado and the outputs, name its parameters and outputs
 * (parsing the selectors) and read the parameters' base values. */
static int tornado_open(tornado_run *tr, const char *const *outputs, ss_err *err)
{
    size_t nparam = tr->nparam, nout = tr->nout, i, j;
    const char **paths;
    ss_tornado *t;
    int rc;

    t = tr->t = calloc(1, sizeof *t);
    tr->sel = calloc(nout, sizeof *tr->sel);
    if (!t || !tr->sel)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    t->params = calloc(nparam, sizeof *t->params);
    t->outputs = calloc(nout, sizeof *t->outputs);
    t->base_param = calloc(nparam, sizeof *t->base_param);
    t->base_out = calloc(nout, sizeof *t->base_out);
    t->rows = calloc(nparam * nout, sizeof *t->rows);
    if (!t->params || !t->outputs || !t->base_param || !t->base_out || !t->rows)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    t->nparam = nparam;
    t->nout = nout;
    for (i = 0; i < nparam; i++)
        if (!(t->params[i] = strdup(tr->params[i].path)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = parse_outputs(tr->sel, outputs, nout, tr->m, err)))
        return rc;
    for (j = 0; j < nout; j++)
        if (!(t->outputs[j] = strdup(tr->sel[j].text)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (!(paths = calloc(nparam, sizeof *paths)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < nparam; i++)
        paths[i] = tr->params[i].path;
    rc = check_paths(t->base_param, tr->m, paths, nparam, err);
    free(paths);
    if (rc)
        return rc;
    if (!(tr->yall = malloc((1 + 2 * nparam) * nout * sizeof *tr->yall)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return SS_OK;
}

/* A rank other than 0 sends rank 0 the outcome of unit u: its failure
 * (rc, with the message in err, which stays the run's) or its values. */
static int send_outcome(const ss_transport *d, uint64_t u, int rc, const void *data, size_t len,
                        ss_err *err)
{
    if (rc) {
        ss_err e = *err;
        d->send(u, rc, &e, NULL, 0, d->payload, err);
        *err = e;
        return rc;
    }
    return d->send(u, SS_OK, NULL, data, len, d->payload, err);
}

/* Run unit u here (0: the base run; 1 + i: parameter i at low, then at
 * high) into yu; a process other than rank 0 sends the outputs, or the
 * failure, to rank 0. */
static int tornado_unit_here(tornado_run *tr, size_t u, double *yu, ss_err *err)
{
    size_t nout = tr->nout, cnt = u == 0 ? nout : 2 * nout, j;
    int side, rc = SS_OK;

    for (side = 0; side < (u == 0 ? 1 : 2) && rc == SS_OK; side++) {
        const char *path = u ? tr->params[u - 1].path : NULL;
        double v = u == 0 ? 0 : side ? tr->params[u - 1].high : tr->params[u - 1].low;
        ss_result *r = NULL;
        rc = u == 0 ? run_with(&r, tr->m, NULL, NULL, 0, tr->ropts, err)
                    : run_with(&r, tr->m, &path, &v, 1, tr->ropts, err);
        for (j = 0; j < nout && rc == SS_OK; j++)
            rc = ss_selector_eval(&yu[side * nout + j], &tr->sel[j], r, err);
        ss_result_free(r);
        if (rc == SS_OK)
            ss_progress_report(tr->progress, ++tr->done_runs, tr->nruns);
    }
    if (tr->rank > 0)
        return send_outcome(tr->dist, u, rc, yu, cnt * sizeof *yu, err);
    return rc;
}

/* Unit u: run here if this process owns it, else (rank 0) its outputs from
 * the process that ran it; other ranks skip it. */
static int tornado_unit(tornado_run *tr, size_t u, ss_err *err)
{
    size_t nout = tr->nout, cnt = u == 0 ? nout : 2 * nout;
    double *yu = tr->yall + (u == 0 ? 0 : nout + (u - 1) * 2 * nout);
    uint64_t owner = tr->dist ? u % tr->dist->nranks : 0;
    void *data = NULL;
    size_t len = 0;
    int rc;

    if (owner == tr->rank)
        return tornado_unit_here(tr, u, yu, err);
    if (tr->rank > 0)
        return SS_OK;
    if ((rc = tr->dist->recv(u, &data, &len, tr->dist->payload, err)))
        return rc;
    if (len != cnt * sizeof *yu) {
        free(data);
        return ss_err_set(err, SS_EINVAL, "", "tornado: unit %zu received from rank %zu is damaged",
                          u, (size_t)owner);
    }
    memcpy(yu, data, len);
    free(data);
    return SS_OK;
}

/* Rank 0: the rows of the tornado from the outputs, each output's rows
 * ranked by swing. */
static void tornado_rows(tornado_run *tr)
{
    ss_tornado *t = tr->t;
    size_t nparam = tr->nparam, nout = tr->nout, i, j;

    memcpy(t->base_out, tr->yall, nout * sizeof *tr->yall);
    for (i = 0; i < nparam; i++) {
        const double *ylo = tr->yall + nout + i * 2 * nout, *yhi = ylo + nout;
        for (j = 0; j < nout; j++) {
            ss_tornado_row *row = &t->rows[j * nparam + i];
            row->param = i;
            row->output = j;
            row->low = tr->params[i].low;
            row->high = tr->params[i].high;
            row->out_low = ylo[j];
            row->out_high = yhi[j];
            row->swing = fabs(yhi[j] - ylo[j]);
        }
    }
    for (j = 0; j < nout; j++) {
        qsort(&t->rows[j * nparam], nparam, sizeof *t->rows, cmp_rows);
        for (i = 0; i < nparam; i++)
            t->rows[j * nparam + i].rank = i + 1;
    }
}

int ss_tornado_run_dist(ss_tornado **out, const ss_model *m, const ss_tornado_param *params,
                        size_t nparam, const char *const *outputs, size_t nout,
                        const ss_run_opts *ropts, const ss_progress *progress,
                        const ss_transport *dist, ss_err *err)
{
    tornado_run tr;
    size_t u;
    int rc;

    assert(out && m && (params || !nparam) && (outputs || !nout));
    *out = NULL;
    if ((rc = tornado_check(params, nparam, nout, ropts, err)))
        return rc;
    memset(&tr, 0, sizeof tr);
    tr.m = m;
    tr.params = params;
    tr.nparam = nparam;
    tr.nout = nout;
    tr.ropts = ropts;
    tr.progress = progress;
    tr.dist = dist && dist->nranks >= 2 ? dist : NULL;
    tr.rank = tr.dist ? tr.dist->rank : 0;
    tr.nruns = 1 + 2 * (uint64_t)nparam;
    if ((rc = tornado_open(&tr, outputs, err)) == SS_OK) {
        ss_progress_report(progress, 0, tr.nruns);
        for (u = 0; u <= nparam && rc == SS_OK; u++)
            rc = tornado_unit(&tr, u, err);
    }
    if (rc == SS_OK && tr.rank == 0)
        tornado_rows(&tr);
    free(tr.sel);
    free(tr.yall);
    if (rc || tr.rank > 0) { /* other ranks sent their outputs to rank 0, which builds the tornado */
        ss_tornado_free(tr.t);
        return rc;
    }
    *out = tr.t;
    return SS_OK;
}

int ss_tornado_write_csv(FILE *f, const ss_tornado *t, ss_err *err)
{
    size_t n;
    int rc = SS_OK;
    if (fputs("parameter,output,low_value,high_value,output_at_low,output_at_high,swing,rank\n", f) == EOF)
        return ss_err_set(err, SS_EIO, "", "writing CSV failed");
    for (n = 0; n < t->nparam * t->nout && rc == SS_OK; n++) {
        const ss_tornado_row *row = &t->rows[n];
        char rank[32];
        snprintf(rank, sizeof rank, "%zu", row->rank);
        if (ss_csv_field(f, t->params[row->param]) || putc(',', f) == EOF ||
            ss_csv_field(f, t->outputs[row->output]) || putc(',', f) == EOF ||
            ss_csv_num(f, row->low) || putc(',', f) == EOF ||
            ss_csv_num(f, row->high) || putc(',', f) == EOF ||
            ss_csv_num(f, row->out_low) || putc(',', f) == EOF ||
            ss_csv_num(f, row->out_high) || putc(',', f) == EOF ||
            ss_csv_num(f, row->swing) || putc(',', f) == EOF ||
            fputs(rank, f) == EOF || putc('\n', f) == EOF)
            rc = SS_EIO;
    }
    if (rc)
        return ss_err_set(err, SS_EIO, "", "writing CSV failed");
    return write_end(f, err);
}

/* --------------------------------------------------------------- Sobol */

void ss_sobol_free(ss_sobol *s)
{
    if (!s)
        return;
    free_strs(s->params, s->d);
    free_strs(s->outputs, s->nout);
    free(s->mean);
    free(s->var);
    free(s->S1);
    free(s->S1_lo);
    free(s->S1_hi);
    free(s->ST);
    free(s->ST_lo);
    free(s->ST_hi);
    free(s);
}

/* Model outputs of the Saltelli design: ya[j][o], yb[j][o], yab[i][j][o]. */
typedef struct design {
    size_t d, nout, n;
    double *ya, *yb, *yab;
} design;

#define YA(D, j, o) ((D)->ya[(j) * (D)->nout + (o)])
#define YB(D, j, o) ((D)->yb[(j) * (D)->nout + (o)])
#define YAB(D, i, j, o) ((D)->yab[((i) * (D)->n + (j)) * (D)->nout + (o)])

/*
 * Estimate S1 and ST ([d * nout]) and the output mean/variance ([nout]) from
 * the rows idx[0..n-1] of the design (idx NULL: every row once).  The
 * bootstrap calls this with resampled rows.  In the first-order estimator
 * f(B) is centred on the sample mean: E[f(AB_i) - f(A)] = 0, so this changes
 * the expectation only by O(1/N) but removes the error term proportional to
 * the output's mean, which otherwise dominates for outputs far from zero.
 */
static void estimate(const design *D, const size_t *idx, double *S1, double *ST,
                     double *mean, double *var)
{
    size_t n = D->n, i, j, o;
    for (o = 0; o < D->nout; o++) {
        double mu = 0.0, v = 0.0;
        for (j = 0; j < n; j++) {
            size_t r = idx ? idx[j] : j;
            mu += YA(D, r, o) + YB(D, r, o);
        }
        mu /= (double)(2 * n);
        for (j = 0; j < n; j++) {
            size_t r = idx ? idx[j] : j;
            double a = YA(D, r, o) - mu, b = YB(D, r, o) - mu;
            v += a * a + b * b;
        }
        v /= (double)(2 * n);
        if (mean)
            mean[o] = mu;
        if (var)
            var[o] = v;
        for (i = 0; i < D->d; i++) {
            double s1 = 0.0, st = 0.0;
            for (j = 0; j < n; j++) {
                size_t r = idx ? idx[j] : j;
                double ya = YA(D, r, o), dab = YAB(D, i, r, o) - ya;
                s1 += (YB(D, r, o) - mu) * dab;
                st += dab * dab;
            }
            S1[i * D->nout + o] = v > 0.0 ? s1 / (double)n / v : NAN;
            ST[i * D->nout + o] = v > 0.0 ? st / (double)(2 * n) / v : NAN;
        }
    }
}

/* Percentile interval of the nb values col[] (sorted in place); NaN if any is NaN. */
static void percentile(double *lo, double *hi, double *col, size_t nb, double level)
{
    size_t b;
    for (b = 0; b < nb; b++)
        if (isnan(col[b])) {
            *lo = *hi = NAN;
            return;
        }
    gsl_sort(col, 1, nb);
    *lo = gsl_stats_quantile_from_sorted_data(col, 1, nb, (1.0 - level) / 2.0);
    *hi = gsl_stats_quantile_from_sorted_data(col, 1, nb, 1.0 - (1.0 - level) / 2.0);
}

/* Bootstrap percentile intervals of S1 and ST into s. */
static int bootstrap(ss_sobol *s, const design *D, const ss_sobol_opts *o, ss_err *err)
{
    size_t m = D->d * D->nout, b, j, c, nb = o->nboot;
    size_t *idx = malloc(D->n * sizeof *idx);
    double *bs1 = malloc(nb * m * sizeof *bs1), *bst = malloc(nb * m * sizeof *bst);
    double *col = malloc(nb * sizeof *col);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = SS_OK;

    if (!idx || !bs1 || !bst || !col || !rng) {
        rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        goto done;
    }
    gsl_rng_set(rng, o->seed);
    for (b = 0; b < nb; b++) {
        for (j = 0; j < D->n; j++)
            idx[j] = (size_t)gsl_rng_uniform_int(rng, D->n);
        estimate(D, idx, &bs1[b * m], &bst[b * m], NULL, NULL);
    }
    for (c = 0; c < m; c++) {
        for (b = 0; b < nb; b++)
            col[b] = bs1[b * m + c];
        percentile(&s->S1_lo[c], &s->S1_hi[c], col, nb, o->level);
        for (b = 0; b < nb; b++)
            col[b] = bst[b * m + c];
        percentile(&s->ST_lo[c], &s->ST_hi[c], col, nb, o->level);
    }
done:
    free(idx);
    free(bs1);
    free(bst);
    free(col);
    gsl_rng_free(rng);
    return rc;
}

/* Allocate a result with generic names prefix1.. unless names are given. */
static ss_sobol *sobol_new(size_t d, size_t nout, size_t n, const char *const *pnames,
                           const char *const *onames)
{
    ss_sobol *s = calloc(1, sizeof *s);
    size_t i, m = d * nout;
    char buf[32];
    if (!s)
        return NULL;
    s->params = calloc(d, sizeof *s->params);
    s->outputs = calloc(nout, sizeof *s->outputs);
    s->d = d;
    s->nout = nout;
    s->n = n;
    s->mean = calloc(nout, sizeof *s->mean);
    s->var = calloc(nout, sizeof *s->var);
    s->S1 = calloc(m, sizeof *s->S1);
    s->S1_lo = calloc(m, sizeof *s->S1_lo);
    s->S1_hi = calloc(m, sizeof *s->S1_hi);
    s->ST = calloc(m, sizeof *s->ST);
    s->ST_lo = calloc(m, sizeof *s->ST_lo);
    s->ST_hi = calloc(m, sizeof *s->ST_hi);
    if (!s->params || !s->outputs || !s->mean || !s->var || !s->S1 || !s->S1_lo ||
        !s->S1_hi || !s->ST || !s->ST_lo || !s->ST_hi)
        goto fail;
    for (i = 0; i < d; i++) {
        snprintf(buf, sizeof buf, "x%zu", i + 1);
        if (!(s->params[i] = strdup(pnames ? pnames[i] : buf)))
            goto fail;
    }
    for (i = 0; i < nout; i++) {
        snprintf(buf, sizeof buf, "y%zu", i + 1);
        if (!(s->outputs[i] = strdup(onames ? onames[i] : buf)))
            goto fail;
    }
    return s;
fail:
    ss_sobol_free(s);
    return NULL;
}

/* The batched engine for a model (ss_sobol_model): its evaluation of a
 * chunk of points (with the payload of the ss_sobol_fn), and the interrupt
 * flag its waits poll. */
typedef struct sobol_lanes {
    ss_chunk_fn fn;
    volatile int *interrupt;
} sobol_lanes;

/* The state of one sobol_run. */
typedef struct sobol_state {
    ss_sobol_opts o;
    design D;
    ss_sobol *s;
    ss_sobol_fn f;
    void *payload;
    gsl_qrng *q;
    double *u;                 /* [2d] a point of the Sobol sequence */
    double *pts;               /* [(d + 2) d] the points of a row (ss_sobol_row_points) */
    double *X;                 /* [n 2d] row j: A_j, then B_j */
    double *row;               /* [(d + 2) nout] the outputs of a row */
    size_t bad, bad_i;         /* the first row whose inverse CDF is not finite (n: none), its input */
    double bad_u;              /* and the u it was not finite at */
    const ss_transport *dist;  /* NULL on one process */
    uint64_t rank;
    ss_chunks *ch;             /* this process's rows in the batched engine; NULL: by f */
} sobol_state;

/* Check the sizes and the options: inputs, outputs, sample size and level. */
static int sobol_check(size_t d, size_t nout, size_t n, const ss_sobol_opts *o, ss_err *err)
{
    if (d < 1 || d > SS_SOBOL_MAX_DIM)
        return ss_err_set(err, SS_EINVAL, "", "sobol: %zu inputs; between 1 and %d are supported "
                          "(gsl_qrng_sobol has 40 dimensions, the design needs 2 per input)",
                          d, SS_SOBOL_MAX_DIM);
    if (nout < 1)
        return ss_err_set(err, SS_EINVAL, "", "sobol: need at least one output");
    if (n < 2)
        return ss_err_set(err, SS_EINVAL, "", "sobol: sample size %zu; need at least 2", n);
    if (!(o->level > 0.0 && o->level < 1.0))
        return ss_err_set(err, SS_EINVAL, "", "sobol: confidence level %g must be in (0,1)", o->level);
    if (n > ((size_t)-1) / ((d + 2) * nout * sizeof(double)))
        return ss_err_set(err, SS_ELIMIT, "", "sobol: sample size %zu too large", n);
    return SS_OK;
}

/* Allocate the result (named), the sequence and the design. */
static int sobol_open(sobol_state *st, size_t d, size_t nout, size_t n,
                      const char *const *pnames, const char *const *onames, ss_err *err)
{
    design *D = &st->D;

    D->d = d;
    D->nout = nout;
    D->n = n;
    st->s = sobol_new(d, nout, n, pnames, onames);
    st->q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)(2 * d));
    st->u = malloc(2 * d * sizeof *st->u);
    st->pts = malloc((d + 2) * d * sizeof *st->pts);
    st->X = malloc(n * 2 * d * sizeof *st->X);
    st->row = malloc((d + 2) * nout * sizeof *st->row);
    D->ya = malloc(n * nout * sizeof *D->ya);
    D->yb = malloc(n * nout * sizeof *D->yb);
    D->yab = malloc(d * n * nout * sizeof *D->yab);
    if (!st->s || !st->q || !st->u || !st->pts || !st->X || !st->row || !D->ya || !D->yb || !D->yab)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    return SS_OK;
}

/* Free what sobol_open and sobol_run allocated, except the result: the
 * chunks first, whose workers read the design. */
static void sobol_close(sobol_state *st)
{
    ss_chunks_free(st->ch);
    gsl_qrng_free(st->q);
    free(st->u);
    free(st->X);
    free(st->row);
    free(st->pts);
    free(st->D.ya);
    free(st->D.yb);
    free(st->D.yab);
}

/*
 * The design first (every process draws the same sequence): after the
 * skipped points, row j of X is A_j then B_j through the inverse CDFs. The
 * first row whose inverse CDF is not finite is noted, and reported when its
 * turn comes.
 */
static void sobol_design(sobol_state *st, ss_inv_cdf_fn inv, void *inv_payload)
{
    size_t d = st->D.d, n = st->D.n, i, j;
    double *X = st->X, *u = st->u;

    st->bad = n;
    for (j = 0; j < st->o.skip; j++)
        gsl_qrng_get(st->q, u);
    ss_progress_report(&st->o.progress, 0, (uint64_t)n * (d + 2));
    for (j = 0; j < n; j++) {
        gsl_qrng_get(st->q, u);
        for (i = 0; i < d; i++) {
            X[j * 2 * d + i] = inv((int)i, u[i], inv_payload);
            X[j * 2 * d + d + i] = inv((int)i, u[d + i], inv_payload);
            if (st->bad == n && (!isfinite(X[j * 2 * d + i]) || !isfinite(X[j * 2 * d + d + i]))) {
                st->bad = j;
                st->bad_i = i;
                st->bad_u = isfinite(X[j * 2 * d + i]) ? u[d + i] : u[i];
            }
        }
    }
}

/* Point q of a row (x) into y: the chunk's outputs if it has them (cok
 * non-NULL and cok[q]: cy + q nout), else f. */
static int sobol_point(sobol_state *st, const double *cy, const unsigned char *cok, size_t q,
                       const double *x, double *y, ss_err *err)
{
    size_t nout = st->D.nout;
    if (cok && cok[q]) {
        memcpy(y, cy + q * nout, nout * sizeof *y);
        return SS_OK;
    }
    if (cok)
        st->s->scalar_evals++;
    return st->f(x, y, st->payload, err);
}

/* Evaluate row j here: A_j, B_j, AB_i,j, in this order (by the chunk that
 * has the row, or by f), into st->row; a process other than rank 0 sends
 * the row, or the failure, to rank 0. */
static int sobol_row_here(sobol_state *st, size_t j, ss_err *err)
{
    size_t d = st->D.d, nout = st->D.nout, q;
    const double *xa = st->X + j * 2 * d, *cy = NULL;
    const unsigned char *cok = NULL;
    int rc = SS_OK;

    /* interrupted while waiting for the chunk: the runs alone stop, each
     * with its own message */
    if (st->ch && (rc = ss_chunks_row(st->ch, j, &cy, &cok, err)) == SS_EINTR)
        rc = SS_OK;
    ss_sobol_row_points(xa, xa + d, d, st->pts);
    for (q = 0; !rc && q < d + 2; q++)
        rc = sobol_point(st, cy, cok, q, st->pts + q * d, st->row + q * nout, err);
    if (st->rank > 0)
        return send_outcome(st->dist, j, rc, st->row, (d + 2) * nout * sizeof *st->row, err);
    if (rc)
        return rc;
    return SS_OK;
}

/* Rank 0: row j, evaluated by process owner, from the transport into st->row. */
static int sobol_row_recv(sobol_state *st, size_t j, uint64_t owner, ss_err *err)
{
    void *data = NULL;
    size_t len = 0;
    int rc;

    if ((rc = st->dist->recv(j, &data, &len, st->dist->payload, err)))
        return rc;
    if (len != (st->D.d + 2) * st->D.nout * sizeof *st->row) {
        free(data);
        return ss_err_set(err, SS_EINVAL, "", "sobol: row %zu received from rank %zu is damaged",
                          j, (size_t)owner);
    }
    memcpy(st->row, data, len);
    free(data);
    return SS_OK;
}

/* Rank 0: row j's outputs into the design; an output that is not finite is
 * an error. */
static int sobol_row_store(sobol_state *st, size_t j, ss_err *err)
{
    design *D = &st->D;
    size_t d = D->d, nout = D->nout, i, c;
    const double *row = st->row;

    memcpy(&D->ya[j * nout], row, nout * sizeof *row);
    memcpy(&D->yb[j * nout], row + nout, nout * sizeof *row);
    for (i = 0; i < d; i++)
        memcpy(&YAB(D, i, j, 0), row + (2 + i) * nout, nout * sizeof *row);
    for (c = 0; c < nout; c++) {
        if (!isfinite(YA(D, j, c)) || !isfinite(YB(D, j, c)))
            return ss_err_set(err, SS_ENUMERIC, "", "sobol: output %s is not finite at sample %zu",
                              st->s->outputs[c], j + 1);
        for (i = 0; i < d; i++)
            if (!isfinite(YAB(D, i, j, c)))
                return ss_err_set(err, SS_ENUMERIC, "", "sobol: output %s is not finite at sample %zu",
                                  st->s->outputs[c], j + 1);
    }
    return SS_OK;
}

/* Row j of the design: evaluated here if this process owns it, else (rank
 * 0) received from the process that does; then, on rank 0, stored. */
static int sobol_row(sobol_state *st, size_t j, ss_err *err)
{
    size_t d = st->D.d, n = st->D.n;
    uint64_t owner = st->dist ? j % st->dist->nranks : 0;
    int rc;

    if (j == st->bad)
        return ss_err_set(err, SS_ENUMERIC, "", "sobol: inverse CDF of input %zu (%s) is not "
                          "finite at u = %.10g", st->bad_i + 1, st->s->params[st->bad_i], st->bad_u);
    if (owner == st->rank) {
        if ((rc = sobol_row_here(st, j, err)) || st->rank > 0)
            return rc;
    } else if (st->rank > 0) {
        return SS_OK;
    } else if ((rc = sobol_row_recv(st, j, owner, err))) {
        return rc;
    }
    if ((rc = sobol_row_store(st, j, err)))
        return rc;
    ss_progress_report(&st->o.progress, (uint64_t)(j + 1) * (d + 2), (uint64_t)n * (d + 2));
    return SS_OK;
}

/* Rank 0: the indices from the design, with their bootstrap intervals (NaN
 * without resamples). */
static int sobol_indices(sobol_state *st, ss_err *err)
{
    ss_sobol *s = st->s;
    size_t c, m = st->D.d * st->D.nout;

    s->nevals = st->D.n * (st->D.d + 2);
    estimate(&st->D, NULL, s->S1, s->ST, s->mean, s->var);
    if (st->o.nboot > 0)
        return bootstrap(s, &st->D, &st->o, err);
    for (c = 0; c < m; c++)
        s->S1_lo[c] = s->S1_hi[c] = s->ST_lo[c] = s->ST_hi[c] = NAN;
    return SS_OK;
}

/* Generic analysis with optional names (used by both entry points). */
static int sobol_run(ss_sobol **out, size_t d, size_t nout, size_t n, ss_sobol_fn f,
                     const sobol_lanes *lanes, void *payload, ss_inv_cdf_fn inv, void *inv_payload,
                     const ss_sobol_opts *opts, const char *const *pnames,
                     const char *const *onames, ss_err *err)
{
    ss_sobol_opts defaults = SS_SOBOL_OPTS_INIT;
    sobol_state st;
    size_t j;
    int rc;

    assert(out && f && inv);
    *out = NULL;
    memset(&st, 0, sizeof st);
    st.o = opts ? *opts : defaults;
    if ((rc = sobol_check(d, nout, n, &st.o, err)))
        return rc;
    st.f = f;
    st.payload = payload;
    st.dist = opts && opts->dist && opts->dist->nranks > 1 ? opts->dist : NULL;
    st.rank = st.dist ? st.dist->rank : 0;
    if ((rc = sobol_open(&st, d, nout, n, pnames, onames, err)) == SS_OK) {
        sobol_design(&st, inv, inv_payload);
        if (lanes)  /* the rows up to the first whose inverse CDF fails */
            rc = ss_chunks_start(&st.ch, st.X, d, nout, st.bad, st.rank,
                                 st.dist ? st.dist->nranks : 1, st.o.threads, lanes->fn, payload,
                                 lanes->interrupt, err);
        for (j = 0; j < n && rc == SS_OK; j++)
            rc = sobol_row(&st, j, err);
        if (rc == SS_OK && st.rank == 0)
            rc = sobol_indices(&st, err);
    }
    sobol_close(&st);
    if (rc || st.rank > 0) { /* other ranks sent their rows to rank 0, which computes the indices */
        ss_sobol_free(st.s);
        return rc;
    }
    *out = st.s;
    return SS_OK;
}

int ss_sobol_analyze(ss_sobol **out, size_t d, size_t nout, size_t n,
                     ss_sobol_fn f, void *payload, ss_inv_cdf_fn inv, void *inv_payload,
                     const ss_sobol_opts *opts, ss_err *err)
{
    return sobol_run(out, d, nout, n, f, NULL, payload, inv, inv_payload, opts, NULL, NULL, err);
}

/* Payload of the model wrapper. */
typedef struct model_fn {
    const ss_model *m;
    const char *const *paths;
    size_t d, nout;
    const ss_selector *sel;
    const ss_run_opts *ropts;
} model_fn;

/* ss_sobol_fn for a model: set the inputs, run, read the outputs. */
static int eval_model(const double *x, double *y, void *payload, ss_err *err)
{
    const model_fn *mf = payload;
    ss_result *r = NULL;
    size_t j;
    int rc = run_with(&r, mf->m, mf->paths, x, mf->d, mf->ropts, err);
    for (j = 0; rc == SS_OK && j < mf->nout; j++)
        rc = ss_selector_eval(&y[j], &mf->sel[j], r, err);
    ss_result_free(r);
    return rc;
}

/* The batched engine's view of a chunk of points (eval_batch). */
typedef struct batch_pts {
    const model_fn *mf;
    const double *x;
    double *y;
    unsigned char *ok;
} batch_pts;

/* Point r's model: a copy with its inputs set, resolved (as ss_sim_run
 * resolves it); a failure is left to eval_model, which reports it. */
static int pts_load(void *ctx, size_t r, ss_model **out)
{
    const batch_pts *bp = ctx;
    const model_fn *mf = bp->mf;
    ss_model *c = ss_model_copy(mf->m);
    ss_err e;
    size_t i;
    int rc = SS_OK;
    *out = NULL;
    if (!c)
        return SS_ENOMEM;
    ss_err_clear(&e);
    for (i = 0; i < mf->d && rc == SS_OK; i++)
        rc = ss_model_set_path(c, mf->paths[i], bp->x[r * mf->d + i], &e);
    if (rc == SS_OK)
        rc = ss_model_resolve(c, &e);
    if (rc) {
        ss_model_free(c);
        return rc;
    }
    *out = c;
    return SS_OK;
}

/* Point r is done: its outputs, if it has a result and every selector reads it. */
static void pts_done(void *ctx, size_t r, const ss_result *res)
{
    const batch_pts *bp = ctx;
    const model_fn *mf = bp->mf;
    ss_err e;
    size_t j;
    int rc = res ? SS_OK : SS_EINVAL;
    ss_err_clear(&e);
    for (j = 0; rc == SS_OK && j < mf->nout; j++)
        rc = ss_selector_eval(&bp->y[r * mf->nout + j], &mf->sel[j], res, &e);
    bp->ok[r] = rc == SS_OK;
}

static int pts_stop(void *ctx)
{
    const ss_run_opts *ro = ((const batch_pts *)ctx)->mf->ropts;
    return ro && ro->interrupt && __atomic_load_n(ro->interrupt, __ATOMIC_RELAXED);
}

/* ss_chunk_fn for a model: the points in b's lanes (on a worker thread;
 * everything here reads the shared state only). Stopped by the interrupt,
 * it leaves the points not done to eval_model, which stops with the run's
 * own message. */
static int eval_batch(ss_batch *b, const double *x, size_t n, double *y, unsigned char *ok,
                      void *payload, ss_err *err)
{
    const model_fn *mf = payload;
    batch_pts bp = { mf, x, y, ok };
    ss_batch_io io = { pts_load, pts_done, pts_stop, &bp };
    int rc = ss_batch_run(b, SS_BATCH_LANES, n, &io, err);
    if (rc == SS_EINTR) {
        ss_err_clear(err);
        rc = SS_OK;
    }
    return rc;
}

int ss_sobol_model(ss_sobol **out, const ss_model *m, const char *const *paths, size_t d,
                   ss_inv_cdf_fn inv, void *inv_payload,
                   const char *const *outputs, size_t nout, size_t n,
                   const ss_run_opts *ropts, const ss_sobol_opts *opts, ss_err *err)
{
    ss_selector *sel;
    const char **onames;
    model_fn mf;
    sobol_lanes lanes;
    size_t j;
    int rc, batched;

    assert(out && m && (paths || !d) && (outputs || !nout));
    *out = NULL;
    if (nout < 1 || d < 1)
        return ss_err_set(err, SS_EINVAL, "", "sobol: need at least one parameter and one output");
    for (j = 0; j < d; j++)         /* an input defined by a link cannot vary */
        if ((rc = ss_run_opts_check_path(ropts, paths[j], err)))
            return rc;
    sel = calloc(nout, sizeof *sel);
    onames = calloc(nout, sizeof *onames);
    if (!sel || !onames) {
        free(sel);
        free(onames);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    rc = parse_outputs(sel, outputs, nout, m, err);
    if (rc == SS_OK)
        rc = check_paths(NULL, m, paths, d, err);
    if (rc == SS_OK) {
        for (j = 0; j < nout; j++)
            onames[j] = sel[j].text;
        mf.m = m;
        mf.paths = paths;
        mf.d = d;
        mf.nout = nout;
        mf.sel = sel;
        mf.ropts = ropts;
        /* before any worker thread starts (ss_batch_suits picks the vector functions) */
        batched = (!opts || opts->engine != SS_SOBOL_ENGINE_SCALAR) && ss_batch_suits(m, ropts);
        lanes.fn = eval_batch;
        lanes.interrupt = ropts ? ropts->interrupt : NULL;
        rc = sobol_run(out, d, nout, n, eval_model, batched ? &lanes : NULL, &mf, inv, inv_payload,
                       opts, paths, onames, err);
        if (rc == SS_OK && *out)
            (*out)->engine = batched ? "batched" : "scalar";
    }
    free(sel);
    free(onames);
    return rc;
}

int ss_sobol_write_csv(FILE *f, const ss_sobol *s, ss_err *err)
{
    size_t i, j;
    int bad = 0;
    if (fputs("parameter,output,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi\n", f) == EOF)
        return ss_err_set(err, SS_EIO, "", "writing CSV failed");
    for (i = 0; i < s->d && !bad; i++)
        for (j = 0; j < s->nout && !bad; j++) {
            size_t c = i * s->nout + j;
            bad = ss_csv_field(f, s->params[i]) || putc(',', f) == EOF ||
                  ss_csv_field(f, s->outputs[j]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->S1[c]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->S1_lo[c]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->S1_hi[c]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->ST[c]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->ST_lo[c]) || putc(',', f) == EOF ||
                  ss_csv_num(f, s->ST_hi[c]) || putc('\n', f) == EOF;
        }
    if (bad)
        return ss_err_set(err, SS_EIO, "", "writing CSV failed");
    return write_end(f, err);
}

/* ------------------------------------------------------ effect probes */

/* Largest relative difference of two values (0 if both are 0). */
double ss_rel_change(double a, double b)
{
    double d = fabs(a - b), s = fmax(fabs(a), fabs(b));
    if (d == 0.0)
        return 0.0;
    if (!(s > 0.0) || !isfinite(d))
        return HUGE_VAL;
    return d / s;
}

int ss_moved(double a, double b)
{
    return ss_rel_change(a, b) > SS_EFFECT_TOL;
}

int ss_effect_probe(const ss_model *m, const char *path, double low, double high,
                    const ss_run_opts *ropts, double *change, ss_err *err)
{
    ss_result *a = NULL, *b = NULL;
    const char *paths[1];
    size_t j, n;
    double worst = 0.0;
    int rc;

    paths[0] = path;
    *change = 0.0;
    if ((rc = run_with(&a, m, paths, &low, 1, ropts, err)) ||
        (rc = run_with(&b, m, paths, &high, 1, ropts, err)))
        goto done;
    n = a->nt * SS_NPS * a->np * a->nk;
    for (j = 0; j < n; j++)
        worst = fmax(worst, ss_rel_change(a->ps[j], b->ps[j]));
    n = a->nt * SS_NP * a->np;
    for (j = 0; j < n; j++)
        worst = fmax(worst, ss_rel_change(a->p[j], b->p[j]));
    n = a->nt * SS_NS * a->nk;
    for (j = 0; j < n; j++)
        worst = fmax(worst, ss_rel_change(a->s[j], b->s[j]));
    n = a->nt * a->nextra;
    for (j = 0; j < n && a->nextra == b->nextra; j++)
        worst = fmax(worst, ss_rel_change(a->extra[j], b->extra[j]));
    *change = worst;
done:
    ss_result_free(a);
    ss_result_free(b);
    return rc;
}

int ss_tornado_inert(const ss_tornado *t, size_t param)
{
    size_t r;
    for (r = 0; r < t->nout * t->nparam; r++) {
        const ss_tornado_row *w = &t->rows[r];
        if (w->param == param && ss_moved(w->out_low, w->out_high))
            return 0;
    }
    return 1;
}

int ss_sobol_inert(const ss_sobol *s, size_t param)
{
    size_t j;
    for (j = 0; j < s->nout; j++) {
        double st = SS_SOBOL_AT(s, ST, param, j);
        if (st > SS_EFFECT_TOL)
            return 0;
    }
    return 1;
}
