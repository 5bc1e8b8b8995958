/*
 * optimize_job.c - the optimisation job (ss_optimize_job,
 * stratsim/analysis.h): its defaults, the problem taken from an
 * ss_analysis, the multi-start run, the sidecar settings and the CSV.
 * Shared by `stratsim optimize` and Scenario:optimize{}. Depends on
 * optimize.h and analysis.c.
 */
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"

void ss_optimize_job_inputs(ss_optimize_job *j, const ss_analysis *a)
{
    if (a->starts)
        j->oo.starts = a->starts;
    if (a->has_seed)
        j->oo.seed = a->seed;
}

int ss_optimize_job_run(ss_optimize_job *j, const ss_model *m, const ss_analysis *a,
                        const ss_run_opts *ro, ss_progress progress, const ss_transport *dist,
                        ss_err *err)
{
    ss_opt_problem prob;
    const char **cons = calloc(a->nconstraints + 1, sizeof *cons);
    size_t i;
    int rc;
    if (!cons)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < a->nconstraints; i++)
        cons[i] = a->constraints[i];
    memset(&prob, 0, sizeof prob);
    prob.controls = a->controls;
    prob.ncontrols = a->ncontrols;
    prob.objective = a->objective;
    prob.minimize = a->minimize == 1;
    prob.constraints = cons;
    prob.nconstraints = a->nconstraints;
    if (!a->objective) {
        prob.fn = j->fn;
        prob.payload = j->fn_payload;
    }
    j->a = a;
    j->oo.progress = progress;
    j->oo.dist = dist;
    rc = ss_optimize_run(&j->result, m, &prob, ro, &j->oo, err);
    j->oo.dist = NULL;
    free(cons);
    return rc;
}

char *ss_optimize_job_json(const ss_optimize_job *j)
{
    return ss_analysis_json_opt(j->a, j->result, &j->oo);
}

int ss_optimize_job_write_csv(FILE *f, const void *job, ss_err *err)
{
    const ss_optimize_job *j = job;
    return ss_opt_write_csv(f, j->result, j->a->objective, err);
}

void ss_optimize_job_free(ss_optimize_job *j)
{
    if (!j)
        return;
    ss_optimize_free(j->result);
    j->result = NULL;
}
