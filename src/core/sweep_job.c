/*
 * sweep_job.c - the sweep job (ss_sweep_job, stratsim/analysis.h): its
 * defaults, the outputs it selects, where it keeps the points (memory or a
 * temporary file of CSV rows), the run, the sidecar settings and the CSV.
 * Shared by `stratsim sweep` and Scenario:sweep{}. Depends on sweep.h,
 * select.h and analysis.c.
 */
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"

int ss_sweep_job_default_outputs(ss_sweep_job *j, const ss_model *m, ss_err *err)
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

int ss_sweep_job_alloc(ss_sweep_job *j, ss_err *err)
{
    size_t i, nout = j->nout;
    j->npoints = ss_sweep_npoints(j->axes, j->naxes);
    if (nout && (!(j->sel = calloc(nout, sizeof *j->sel)) ||
                 !(j->scratch = calloc(nout, sizeof *j->scratch))))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < nout; i++) {
        int rc = ss_selector_parse(&j->sel[i], j->outputs[i], err);
        if (rc != SS_OK)
            return rc;
    }
    if (j->in_memory) {
        if (j->npoints > SIZE_MAX / sizeof(double) / (j->naxes + nout) ||
            !(j->x = malloc((size_t)j->npoints * j->naxes * sizeof *j->x)) ||
            !(j->y = malloc((size_t)j->npoints * (nout ? nout : 1) * sizeof *j->y)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        return SS_OK;
    }
    if (!(j->rows = tmpfile()))
        return ss_err_set(err, SS_EIO, "", "cannot create a temporary file for the sweep rows");
    return SS_OK;
}

static int on_point(uint64_t p, const double *x, const ss_result *r, void *payload, ss_err *err)
{
    ss_sweep_job *j = payload;
    double *y = j->in_memory ? j->y + p * j->nout : j->scratch;
    size_t k;
    int rc;
    if (!j->nout)
        return ss_sweep_write_long_rows(j->rows, x, j->naxes, r, err);
    for (k = 0; k < j->nout; k++)
        if ((rc = ss_selector_eval(&y[k], &j->sel[k], r, err)) != SS_OK)
            return rc;
    if (j->in_memory) {
        memcpy(j->x + p * j->naxes, x, j->naxes * sizeof *x);
        return SS_OK;
    }
    return ss_sweep_write_sel_row(j->rows, x, j->naxes, y, j->nout, err);
}

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    ss_progress_report(&((ss_sweep_job *)payload)->progress, done, total);
}

static int on_prepare(unsigned worker, uint64_t point, ss_model *model, ss_run_opts *ro,
                      void *payload, ss_err *err)
{
    ss_sweep_job *j = payload;
    return j->prepare(worker, point, model, ro, j->payload, err);
}

int ss_sweep_job_run(ss_sweep_job *j, const ss_model *m, ss_err *err)
{
    j->so.on_point = on_point;
    j->so.progress = j->progress.fn ? on_progress : NULL;
    j->so.prepare = j->prepare ? on_prepare : NULL;
    j->so.payload = j;
    j->so.info = &j->info;
    return ss_sweep_run(m, j->axes, j->naxes, &j->so, err);
}

char *ss_sweep_job_json(const ss_sweep_job *j, int outputs)
{
    return ss_analysis_json_sweep(j->axes, j->naxes, (char *const *)j->outputs,
                                  outputs ? j->nout : 0, j->npoints, j->info.engine);
}

int ss_sweep_job_write_csv(FILE *f, const void *job, ss_err *err)
{
    const ss_sweep_job *j = job;
    char buf[65536];
    size_t n;
    uint64_t p;
    int rc = j->nout ? ss_sweep_write_sel_header(f, j->axes, j->naxes, j->sel, j->nout, err)
                     : ss_sweep_write_long_header(f, j->axes, j->naxes, err);
    if (rc != SS_OK)
        return rc;
    if (j->in_memory) {
        for (p = 0; rc == SS_OK && p < j->npoints; p++)
            rc = ss_sweep_write_sel_row(f, j->x + p * j->naxes, j->naxes, j->y + p * j->nout,
                                        j->nout, err);
        return rc;
    }
    rewind(j->rows);
    while ((n = fread(buf, 1, sizeof buf, j->rows)) > 0)
        if (fwrite(buf, 1, n, f) != n)
            return ss_err_set(err, SS_EIO, "", "writing the sweep CSV failed");
    if (ferror(j->rows))
        return ss_err_set(err, SS_EIO, "", "reading back the sweep rows failed");
    return SS_OK;
}

void ss_sweep_job_free(ss_sweep_job *j)
{
    if (!j)
        return;
    ss_strings_free(j->default_outputs, j->ndefault);
    free(j->sel);
    free(j->scratch);
    free(j->x);
    free(j->y);
    if (j->rows)
        fclose(j->rows);
    j->default_outputs = NULL;
    j->ndefault = 0;
    j->sel = NULL;
    j->scratch = j->x = j->y = NULL;
    j->rows = NULL;
}
