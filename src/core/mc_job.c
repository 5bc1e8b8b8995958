/*
 * mc_job.c - the Monte Carlo job (ss_mc_job, stratsim/analysis.h): its
 * defaults, the run of each scenario (ss_mc_run with the front end's hooks),
 * the per-run rows (the drawn values and chosen outputs of every run, in run
 * order), the sidecar settings and the CSV of every scenario's statistics
 * under one header. Shared by `stratsim mc` and Scenario:montecarlo{}.
 * Depends on mc.h, select.h and analysis.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"
#include "core/slots.h"

void ss_mc_job_init(ss_mc_job *j)
{
    ss_mc_opts o = SS_MC_OPTS_INIT;
    memset(j, 0, sizeof *j);
    o.runs = 1000;
    o.seed = 1;
    j->o = o;
}

unsigned ss_mc_job_workers(const ss_mc_job *j)
{
    uint64_t nblocks = (j->o.runs + SS_MC_BLOCK_MIN - 1) / SS_MC_BLOCK_MIN;
    unsigned th, slots;
    /* ss_mc_run's rule: at most one thread per block (blocks have at least
     * SS_MC_BLOCK_MIN runs) */
    ss_slots_plan(j->o.threads, 1024, 1, nblocks, &th, &slots);
    return th;
}

/* on_run: one row per run: scenario, run, drawn values, selected values. */
static int on_run(uint64_t run, const ss_result *r, void *payload, ss_err *err)
{
    ss_mc_job *j = payload;
    const ss_analysis *a = j->row_an;
    size_t k;
    int bad = ss_csv_field(j->per_run, j->row_name) != 0 ||
              fprintf(j->per_run, ",%" PRIu64, run) < 0;
    /* the parameter draws come first in the run's stream, in array order (mc.h) */
    ss_mc_rng_seed(j->rng, j->o.seed, run);
    for (k = 0; !bad && k < a->nparams; k++)
        bad = fputc(',', j->per_run) == EOF ||
              ss_csv_num(j->per_run, ss_dist_sample(&a->params[k].dist, j->rng)) != SS_OK;
    for (k = 0; !bad && k < j->nrow_sel; k++) {
        double v;
        int rc = ss_selector_eval(&v, &j->row_sel[k], r, err);
        if (rc != SS_OK)
            return rc;
        bad = fputc(',', j->per_run) == EOF || ss_csv_num(j->per_run, v) != SS_OK;
    }
    if (bad || fputc('\n', j->per_run) == EOF)
        return ss_err_set(err, SS_EIO, "", "writing the per-run CSV failed");
    return SS_OK;
}

/* The per-run selectors (the NPV of every provider if none were given) and
 * the header of the rows. */
static int per_run_begin(ss_mc_job *j, const ss_model *m, const ss_analysis *a, ss_err *err)
{
    FILE *f = j->per_run;
    size_t k;
    int bad;
    if (j->n > 0)
        return ss_err_set(err, SS_EINVAL, "", "the per-run rows need one scenario");
    j->row_sel = j->per_run_sel;
    j->nrow_sel = j->nper_run;
    if (!j->nper_run) {
        if (m->nprov && !(j->own_sel = calloc(m->nprov, sizeof *j->own_sel)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (k = 0; k < m->nprov; k++) {
            char *text = malloc(strlen(m->prov[k].id) + 5);
            int rc;
            if (!text)
                return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            sprintf(text, "npv:%s", m->prov[k].id);
            rc = ss_selector_parse(&j->own_sel[k], text, err);
            free(text);
            if (rc != SS_OK)
                return rc;
        }
        j->row_sel = j->own_sel;
        j->nrow_sel = m->nprov;
    }
    for (k = 0; k < j->nrow_sel; k++)
        if (j->row_sel[k].when == SS_SEL_EACH)
            return ss_err_set(err, SS_EINVAL, "", "'%s': @each gives a series, not one value",
                              j->row_sel[k].text);
    if (!j->rng && !(j->rng = gsl_rng_alloc(ss_mc_rng_type())))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    j->row_an = a;
    j->row_name = m->name;
    bad = fputs("scenario,run", f) == EOF;
    for (k = 0; !bad && k < a->nparams; k++)
        bad = fputc(',', f) == EOF || ss_csv_field(f, a->params[k].path) != 0;
    for (k = 0; !bad && k < j->nrow_sel; k++)
        bad = fputc(',', f) == EOF || ss_csv_field(f, j->row_sel[k].text) != 0;
    if (bad || fputc('\n', f) == EOF)
        return ss_err_set(err, SS_EIO, "", "writing the per-run CSV failed");
    return SS_OK;
}

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    ss_progress_report(&((ss_mc_job *)payload)->progress, done, total);
}

static int on_prepare(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                      ss_run_opts *ro, void *payload, ss_err *err)
{
    ss_mc_job *j = payload;
    return j->prepare(worker, run, model, rng, ro, j->payload, err);
}

/* Room for one more scenario. */
static int grow(ss_mc_job *j, ss_err *err)
{
    ss_mc_result **res = realloc(j->res, (j->n + 1) * sizeof *res);
    const ss_analysis **an;
    const char **names;
    if (res)
        j->res = res;
    an = res ? realloc((void *)j->an, (j->n + 1) * sizeof *an) : NULL;
    if (an)
        j->an = an;
    names = an ? realloc((void *)j->names, (j->n + 1) * sizeof *names) : NULL;
    if (!names)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    j->names = names;
    return SS_OK;
}

int ss_mc_job_run(ss_mc_job *j, const ss_model *m, const ss_analysis *a, const ss_run_opts *ro,
                  ss_err *err)
{
    ss_mc_result *res = NULL;
    int rc;
    if ((rc = grow(j, err)) != SS_OK ||
        (j->per_run && (rc = per_run_begin(j, m, a, err)) != SS_OK))
        return rc;
    j->o.run_opts = ro;
    j->o.on_run = j->per_run ? on_run : NULL;
    j->o.progress = j->progress.fn ? on_progress : NULL;
    j->o.prepare = j->prepare ? on_prepare : NULL;
    j->o.payload = j;
    rc = ss_mc_run(&res, m, a->params, a->nparams, a->outages, a->noutages, &j->o, err);
    if (rc != SS_OK)
        return rc;
    j->res[j->n] = res; /* NULL on ranks other than 0 */
    j->an[j->n] = a;
    j->names[j->n] = m->name;
    j->n++;
    return SS_OK;
}

char *ss_mc_job_json(const ss_mc_job *j)
{
    size_t nq, k, n = j->n;
    double *q;
    size_t *blocks;
    char *json = NULL;
    if (!n || !j->res[0])
        return NULL;
    nq = ss_mc_result_nquantiles(j->res[0]);
    q = calloc(nq + 1, sizeof *q);
    blocks = calloc(n, sizeof *blocks);
    if (q && blocks) {
        for (k = 0; k < nq; k++)
            q[k] = ss_mc_result_quantile_level(j->res[0], k);
        for (k = 0; k < n; k++)
            blocks[k] = ss_mc_result_block(j->res[k]);
        json = ss_analysis_json_mc(j->an, j->names, n, &j->o, q, nq, blocks,
                                   (const ss_mc_result *const *)j->res);
    }
    free(q);
    free(blocks);
    return json;
}

int ss_mc_job_write_csv(FILE *f, const void *job, ss_err *err)
{
    const ss_mc_job *j = job;
    size_t i;
    int rc = j->n ? ss_mc_write_csv(f, j->res[0], err) : SS_OK;
    for (i = 1; rc == SS_OK && i < j->n; i++) {
        char *text = NULL, *body;
        size_t len = 0, n;
        FILE *mem = open_memstream(&text, &len);
        if (!mem)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        rc = ss_mc_write_csv(mem, j->res[i], err);
        if (fclose(mem) != 0 && rc == SS_OK)
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        body = rc == SS_OK && text ? strchr(text, '\n') : NULL; /* one header for all */
        if (body) {
            n = len - (size_t)(body + 1 - text);
            if (fwrite(body + 1, 1, n, f) != n)
                rc = ss_err_set(err, SS_EIO, "", "writing the Monte Carlo CSV failed");
        }
        free(text);
    }
    return rc;
}

void ss_mc_job_free(ss_mc_job *j)
{
    size_t i;
    if (!j)
        return;
    for (i = 0; i < j->n; i++)
        ss_mc_result_free(j->res[i]);
    free(j->res);
    free((void *)j->an);
    free((void *)j->names);
    free(j->own_sel);
    if (j->rng)
        gsl_rng_free(j->rng);
    j->res = NULL;
    j->an = NULL;
    j->names = NULL;
    j->own_sel = NULL;
    j->rng = NULL;
    j->n = 0;
}
