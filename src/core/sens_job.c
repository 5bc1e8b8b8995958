/*
 * sens_job.c - the sensitivity job (ss_sens_job, stratsim/analysis.h): its
 * defaults, the parameters and outputs it varies and reads, the tornado or
 * Sobol run, the sidecar settings and the CSV. Shared by `stratsim sens`
 * and Scenario:sensitivity{}. Depends on sens.h and analysis.c.
 */
#include <stdlib.h>
#include "stratsim.h"

int ss_sens_job_default_outputs(ss_sens_job *j, const ss_model *m, ss_err *err)
{
    int rc;
    if (j->outputs)
        return SS_OK;
    if ((rc = ss_sens_default_outputs(m, &j->default_outputs, &j->ndefault, err)) != SS_OK)
        return rc;
    j->outputs = (const char *const *)j->default_outputs;
    j->nout = j->ndefault;
    return SS_OK;
}

int ss_sens_job_params(ss_sens_job *j, const ss_analysis *a, const ss_model *m, ss_err *err)
{
    free(j->params);
    j->params = NULL;
    j->nparams = 0;
    return ss_sens_params(&j->params, &j->nparams, a, m, j->vary, j->nvary, j->range, j->qlow,
                          j->qhigh, err);
}

/* Inverse CDF of parameter i (its distribution). */
static double sens_inv(int i, double u, void *payload)
{
    const ss_sens_param *p = payload;
    return ss_dist_quantile(&p[i].dist, u);
}

int ss_sens_job_run(ss_sens_job *j, const ss_model *m, const ss_run_opts *ro,
                    ss_progress progress, const ss_transport *dist, ss_err *err)
{
    size_t i, np = j->nparams;
    int rc;
    if (j->sobol) {
        const char **paths = calloc(np ? np : 1, sizeof *paths);
        if (!paths)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (i = 0; i < np; i++)
            paths[i] = j->params[i].path;
        j->so.progress = progress;
        j->so.dist = dist;
        rc = ss_sobol_model(&j->indices, m, paths, np, sens_inv, j->params, j->outputs, j->nout,
                            j->samples, ro, &j->so, err);
        j->so.dist = NULL; /* not recorded */
        free(paths);
    } else {
        ss_tornado_param *tp = calloc(np ? np : 1, sizeof *tp);
        if (!tp)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (i = 0; i < np; i++) {
            tp[i].path = j->params[i].path;
            tp[i].low = j->params[i].low;
            tp[i].high = j->params[i].high;
        }
        rc = ss_tornado_run_dist(&j->tornado, m, tp, np, j->outputs, j->nout, ro, &progress, dist,
                                 err);
        free(tp);
    }
    return rc;
}

int ss_sens_job_inert(const ss_sens_job *j, size_t i)
{
    return j->sobol ? ss_sobol_inert(j->indices, i) : ss_tornado_inert(j->tornado, i);
}

char *ss_sens_job_json(const ss_sens_job *j)
{
    size_t np = j->nparams;
    return ss_analysis_json_sens(j->sobol ? "sobol" : "tornado", j->params, np,
                                 (char *const *)j->outputs, j->nout, j->range, j->qlow, j->qhigh,
                                 j->sobol ? j->samples : 0,
                                 j->sobol ? j->indices->nevals : 1 + 2 * np,
                                 j->sobol ? &j->so : NULL,
                                 j->sobol ? j->indices->engine : "scalar");
}

int ss_sens_job_write_csv(FILE *f, const void *job, ss_err *err)
{
    const ss_sens_job *j = job;
    return j->sobol ? ss_sobol_write_csv(f, j->indices, err) : ss_tornado_write_csv(f, j->tornado, err);
}

void ss_sens_job_free(ss_sens_job *j)
{
    if (!j)
        return;
    ss_tornado_free(j->tornado);
    ss_sobol_free(j->indices);
    free(j->params);
    ss_strings_free(j->default_outputs, j->ndefault);
    j->tornado = NULL;
    j->indices = NULL;
    j->params = NULL;
    j->default_outputs = NULL;
    j->nparams = j->ndefault = 0;
}
