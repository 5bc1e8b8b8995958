/*
 * calibrate_job.c - the calibration job (ss_calibrate_job,
 * stratsim/analysis.h): its defaults, the observations it reads, the fit,
 * the sidecar settings and the two files it writes (residuals CSV, override
 * file). Shared by `stratsim calibrate` and Scenario:calibrate{}. Depends
 * on calibrate.h and analysis.c.
 */
#include <stdlib.h>
#include "stratsim.h"

int ss_calibrate_job_read(ss_calibrate_job *j, const char *file, ss_err *err)
{
    int rc;
    ss_obs_free(j->own_obs);
    j->own_obs = NULL;
    if ((rc = ss_obs_read(&j->own_obs, file, err)) != SS_OK)
        return rc;
    j->obs = j->own_obs;
    j->data_file = file;
    return SS_OK;
}

int ss_calibrate_job_run(ss_calibrate_job *j, const ss_model *m, const ss_analysis *a,
                         const ss_run_opts *ro, ss_progress progress, ss_err *err)
{
    j->co.progress = progress;
    return ss_calibrate_run(&j->result, m, a->calib, a->ncalib, j->obs, ro, &j->co, err);
}

char *ss_calibrate_job_json(const ss_calibrate_job *j)
{
    char sha[65];
    ss_err err = {0};
    const char *f = j->data_file;
    return ss_analysis_json_calib(j->result, f ? f : "(Lua table)",
                                  f && ss_sha256_file(f, sha, &err) == SS_OK ? sha : NULL);
}

int ss_calibrate_job_write_residuals(FILE *f, const void *job, ss_err *err)
{
    const ss_calibrate_job *j = job;
    return ss_calibrate_write_residuals(f, j->result, j->obs, err);
}

int ss_calibrate_job_write_fit(FILE *f, const void *job, ss_err *err)
{
    return ss_calibrate_write_lua(f, ((const ss_calibrate_job *)job)->result, err);
}

void ss_calibrate_job_free(ss_calibrate_job *j)
{
    if (!j)
        return;
    ss_calibrate_free(j->result);
    ss_obs_free(j->own_obs);
    j->result = NULL;
    j->own_obs = NULL;
    j->obs = NULL;
}
