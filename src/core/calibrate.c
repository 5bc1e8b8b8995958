/*
 * calibrate.c - calibration: the observations reader (CSV with a header,
 * columns in any order, BOM/CRLF/comments tolerated, FILE:LINE:COLUMN
 * errors; read line by line, each line split by csvread.c) and the
 * weighted nonlinear least-squares fit of parameter paths with
 * gsl_multifit_nlinear (Levenberg-Marquardt trust region,
 * finite-difference Jacobian) on bound-removing transformed variables, with
 * standard errors by the delta method, and the writers for the fitted values
 * (Lua overrides, --set strings, CSV).  Every residual evaluation runs a
 * fresh copy of the model.  Depends on GSL, sim.h, param.h, select.h, io.h,
 * csvread.c.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include "stratsim/calibrate.h"
#include "stratsim/io.h"
#include "stratsim/param.h"
#include "stratsim/sens.h" /* ss_moved */
#include "core/csvread.h"


/* ------------------------------------------------------------ reader */

enum { COL_TIME, COL_PROVIDER, COL_SEGMENT, COL_METRIC, COL_VALUE, COL_WEIGHT, NCOLS };
static const char *const col_names[NCOLS] = {
    "time", "provider", "segment", "metric", "value", "weight"
};

void ss_obs_free(ss_obs_set *o)
{
    if (!o)
        return;
    free(o->file);
    free(o->obs);
    free(o);
}

/*
 * Check that metric, provider and segment fit together and name the column
 * at fault if not.  On success the selector is made.
 */
static int make_obs_selector(ss_obs *ob, const char *metric, const char *prov, const char *seg,
                             const char *file, long line, ss_err *err)
{
    int ps = ss_metric_ps_parse(metric), p = ss_metric_p_parse(metric), s = ss_metric_s_parse(metric);
    int hp = *prov != '\0', hs = *seg != '\0';
    const char *col = NULL, *why = NULL;
    ss_err e2 = { 0 };

    if (!*metric)
        return ss_err_set(err, SS_EINVAL, "metric", "%s:%ld:metric: empty metric", file, line);
    if (ps < 0 && p < 0 && s < 0 && (hp || hs))
        return ss_err_set(err, SS_EINVAL, "metric", "%s:%ld:metric: unknown metric '%s'",
                          file, line, metric);
    if (ps < 0 && p < 0 && s < 0) {   /* a user stock or derived metric (checked on the run) */
        if (ss_selector_make(&ob->sel, metric, NULL, NULL, SS_SEL_AT, ob->t, &e2))
            return ss_err_set(err, e2.code, "", "%s:%ld: %s", file, line, e2.msg);
        return SS_OK;
    }
    if (hp && hs && ps < 0) {
        col = p >= 0 ? "segment" : "provider";
        why = p >= 0 ? "is per provider; leave segment empty" : "is per segment; leave provider empty";
    } else if (hp && !hs && p < 0) {
        col = ps >= 0 ? "segment" : "provider";
        why = ps >= 0 ? "needs a segment" : "is per segment; give the segment, not a provider";
    } else if (!hp && hs && s < 0) {
        col = ps >= 0 ? "provider" : "segment";
        why = ps >= 0 ? "needs a provider" : "is per provider; give the provider, not a segment";
    } else if (!hp && !hs) {
        col = s >= 0 ? "segment" : "provider";
        why = ps >= 0 ? "needs a provider and a segment" : s >= 0 ? "needs a segment" : "needs a provider";
    }
    if (col)
        return ss_err_set(err, SS_EINVAL, col, "%s:%ld:%s: metric '%s' %s", file, line, col, metric, why);
    if (ss_selector_make(&ob->sel, metric, prov, seg, SS_SEL_AT, ob->t, &e2))
        return ss_err_set(err, e2.code, "", "%s:%ld: %s", file, line, e2.msg);
    return SS_OK;
}

/* The state of one ss_obs_read_stream: the set being read, the line buffer,
 * the fields of the current line and the columns of the header. */
typedef struct obs_reader {
    ss_obs_set *o;
    const char *name;      /* o->file */
    char *line;            /* getline's buffer */
    size_t cap;
    char **fields;         /* NULL until the header has been read */
    size_t ocap;           /* observations o->obs has room for */
    long lineno;
    int colidx[NCOLS];     /* the field of each column, -1 if absent */
    int ncol;              /* fields of the header */
} obs_reader;

/*
 * Check line rd->lineno (len bytes, as getline read it) and strip its line
 * end and, on the first line, a UTF-8 byte order mark; *text is what is left.
 */
static int line_text(obs_reader *rd, ssize_t len, char **text, ss_err *err)
{
    char *line = rd->line, *s = line;

    if (len > SS_OBS_LINE_MAX)
        return ss_err_set(err, SS_ELIMIT, "", "%s:%ld: line longer than %d bytes (the limit of "
                          "a calibration data line)", rd->name, rd->lineno, SS_OBS_LINE_MAX);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (rd->lineno == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        s += 3;
    if (strlen(s) != (size_t)(len - (s - line)))
        return ss_err_set(err, SS_EINVAL, "", "%s:%ld: NUL byte in line", rd->name, rd->lineno);
    *text = s;
    return SS_OK;
}

/* The header line s: the field of each column; an unknown, a duplicate or a
 * missing column is an error. */
static int read_header(obs_reader *rd, char *s, ss_err *err)
{
    size_t maxf = strlen(s) + 1;   /* at most one field per byte */
    int i, c;

    rd->fields = calloc(maxf, sizeof *rd->fields);
    if (!rd->fields)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rd->ncol = cli_csv_split_line(s, rd->fields, maxf);
    if (rd->ncol < 0)
        return ss_err_set(err, SS_EINVAL, "", "%s:%ld: malformed quoted field in the header",
                          rd->name, rd->lineno);
    for (i = 0; i < rd->ncol; i++) {
        const char *h = rd->fields[i];
        for (c = 0; c < NCOLS; c++)
            if (strcmp(h, col_names[c]) == 0)
                break;
        if (c < NCOLS) {
            if (rd->colidx[c] >= 0)
                return ss_err_set(err, SS_EINVAL, h, "%s:%ld:%s: duplicate column", rd->name,
                                  rd->lineno, h);
            rd->colidx[c] = i;
        } else if (strcmp(h, "scenario") != 0 && strcmp(h, "source") != 0 &&
                   strcmp(h, "note") != 0 && strcmp(h, "period") != 0) {
            return ss_err_set(err, SS_EINVAL, h, "%s:%ld:%s: unknown column '%s' (expected "
                              "time, provider, segment, metric, value and optionally weight)",
                              rd->name, rd->lineno, h, h);
        }
    }
    for (c = 0; c < NCOLS; c++)
        if (c != COL_WEIGHT && rd->colidx[c] < 0)
            return ss_err_set(err, SS_EINVAL, col_names[c], "%s:%ld:%s: missing column '%s' "
                              "(the header must name time, provider, segment, metric and value; "
                              "weight is optional)", rd->name, rd->lineno, col_names[c], col_names[c]);
    return SS_OK;
}

/* Make room for one more observation (at most SS_OBS_MAX). */
static int grow_obs(obs_reader *rd, ss_err *err)
{
    ss_obs_set *o = rd->o;

    if (o->n == SS_OBS_MAX)
        return ss_err_set(err, SS_ELIMIT, "", "%s:%ld: more than %d observations (the limit "
                          "of a calibration data set)", rd->name, rd->lineno, SS_OBS_MAX);
    if (o->n == rd->ocap) {
        size_t nc = rd->ocap ? 2 * rd->ocap : 64;
        ss_obs *no = realloc(o->obs, nc * sizeof *no);
        if (!no)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        o->obs = no;
        rd->ocap = nc;
    }
    return SS_OK;
}

/* Split data line s into rd->fields; it must have as many fields as the header. */
static int split_row(obs_reader *rd, char *s, ss_err *err)
{
    /* fields can't outnumber the bytes of the line + 1 */
    size_t maxf = strlen(s) + (size_t)rd->ncol + 1;
    char **rowf = realloc(rd->fields, maxf * sizeof *rowf);
    int n;

    if (!rowf)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rd->fields = rowf;
    n = cli_csv_split_line(s, rd->fields, maxf);
    if (n < 0)
        return ss_err_set(err, SS_EINVAL, "", "%s:%ld: malformed quoted field", rd->name, rd->lineno);
    if (n != rd->ncol)
        return ss_err_set(err, SS_EINVAL, "", "%s:%ld: %d fields, the header has %d",
                          rd->name, rd->lineno, n, rd->ncol);
    return SS_OK;
}

/* The time, value and weight (1 when its column is absent or empty) of
 * observation ob from its row's fields fv (by column). */
static int row_numbers(ss_obs *ob, char *const *fv, const char *name, long lineno, ss_err *err)
{
    int i;

    for (i = 0; i < 2; i++) {
        int col = i ? COL_VALUE : COL_TIME;
        double *dst = i ? &ob->value : &ob->t;
        if (!*fv[col])
            return ss_err_set(err, SS_EINVAL, col_names[col], "%s:%ld:%s: empty", name,
                              lineno, col_names[col]);
        if (ss_parse_double(fv[col], dst))
            return ss_err_set(err, SS_EINVAL, col_names[col], "%s:%ld:%s: '%s' is not a "
                              "finite decimal number", name, lineno, col_names[col], fv[col]);
    }
    ob->weight = 1.0;
    if (fv[COL_WEIGHT] && *fv[COL_WEIGHT]) {
        if (ss_parse_double(fv[COL_WEIGHT], &ob->weight) || ob->weight < 0.0)
            return ss_err_set(err, SS_EINVAL, "weight", "%s:%ld:weight: '%s' is not a finite "
                              "number >= 0", name, lineno, fv[COL_WEIGHT]);
    }
    return SS_OK;
}

/* A data line s: one more observation. */
static int read_row(obs_reader *rd, char *s, ss_err *err)
{
    char *fv[NCOLS];
    ss_obs *ob;
    int c, rc;

    if ((rc = grow_obs(rd, err)) || (rc = split_row(rd, s, err)))
        return rc;
    for (c = 0; c < NCOLS; c++)
        fv[c] = rd->colidx[c] >= 0 ? rd->fields[rd->colidx[c]] : NULL;
    ob = &rd->o->obs[rd->o->n];
    memset(ob, 0, sizeof *ob);
    ob->line = rd->lineno;
    if ((rc = row_numbers(ob, fv, rd->name, rd->lineno, err)) ||
        (rc = make_obs_selector(ob, fv[COL_METRIC], fv[COL_PROVIDER], fv[COL_SEGMENT],
                                rd->name, rd->lineno, err)))
        return rc;
    rd->o->n++;
    return SS_OK;
}

/* After the last line: a read error, no header or no observations is an error. */
static int read_end(const obs_reader *rd, FILE *f, ss_err *err)
{
    if (ferror(f))
        return ss_err_set(err, SS_EIO, "", "%s: read error", rd->name);
    if (!rd->fields)
        return ss_err_set(err, SS_EINVAL, "", "%s: no header line (expected time,provider,segment,"
                          "metric,value[,weight])", rd->name);
    if (rd->o->n == 0)
        return ss_err_set(err, SS_EINVAL, "", "%s: no observations after the header", rd->name);
    return SS_OK;
}

int ss_obs_read_stream(ss_obs_set **out, FILE *f, const char *name, ss_err *err)
{
    obs_reader rd;
    ssize_t len;
    int c, rc = SS_OK;

    *out = NULL;
    memset(&rd, 0, sizeof rd);
    rd.o = calloc(1, sizeof *rd.o);
    if (!rd.o || !(rd.o->file = strdup(name ? name : "<observations>"))) {
        free(rd.o);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    rd.name = rd.o->file;
    for (c = 0; c < NCOLS; c++)
        rd.colidx[c] = -1;
    errno = 0;
    while (rc == SS_OK && (len = getline(&rd.line, &rd.cap, f)) >= 0) {
        char *s = NULL, *t;
        rd.lineno++;
        if ((rc = line_text(&rd, len, &s, err)))
            break;
        t = s;
        while (isspace((unsigned char)*t))
            t++;
        if (*t == '\0' || *t == '#')
            continue;
        rc = rd.fields ? read_row(&rd, s, err) : read_header(&rd, s, err);
    }
    if (rc == SS_OK)
        rc = read_end(&rd, f, err);
    free(rd.line);
    free(rd.fields);
    if (rc) {
        ss_obs_free(rd.o);
        return rc;
    }
    *out = rd.o;
    return SS_OK;
}

int ss_obs_read(ss_obs_set **out, const char *path, ss_err *err)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    int rc;
    *out = NULL;
    if (!f)
        return ss_err_set(err, SS_EIO, "", "%s: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > SS_OBS_FILE_MAX) {
        fclose(f);
        return ss_err_set(err, SS_ELIMIT, "", "%s: %lld bytes, more than %ld MiB (the limit of a "
                          "calibration data file)", path, (long long)st.st_size,
                          SS_OBS_FILE_MAX / (1024 * 1024));
    }
    rc = ss_obs_read_stream(out, f, path, err);
    fclose(f);
    return rc;
}

int ss_obs_validate(const ss_obs_set *o, const ss_model *m, ss_err *err)
{
    size_t j;
    for (j = 0; j < o->n; j++) {
        const ss_obs *ob = &o->obs[j];
        if (ob->sel.kind != SS_SEL_X && ob->sel.kind != SS_SEL_S && ss_model_provider_index(m, ob->sel.provider) < 0)
            return ss_err_set(err, SS_EINVAL, "provider", "%s:%ld:provider: unknown provider '%s'",
                              o->file, ob->line, ob->sel.provider);
        if (ob->sel.kind != SS_SEL_X && ob->sel.kind != SS_SEL_P && ss_model_segment_index(m, ob->sel.segment) < 0)
            return ss_err_set(err, SS_EINVAL, "segment", "%s:%ld:segment: unknown segment '%s'",
                              o->file, ob->line, ob->sel.segment);
        if (ob->t < m->t0 - 1e-9 || ob->t > m->t1 + 1e-9)
            return ss_err_set(err, SS_EINVAL, "time", "%s:%ld:time: %.10g is outside the simulated "
                              "range [%.10g, %.10g]", o->file, ob->line, ob->t, m->t0, m->t1);
    }
    return SS_OK;
}

/* ------------------------------------------------------------ transforms */

/* x from the unbounded variable z. */
static double to_x(double z, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        return lo + (hi - lo) / (1.0 + exp(-z));
    if (isfinite(lo))
        return lo + exp(z);
    if (isfinite(hi))
        return hi - exp(z);
    return z;
}

/* z from x, which must lie strictly inside the bounds. */
static double to_z(double x, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi))
        return log((x - lo) / (hi - x));
    if (isfinite(lo))
        return log(x - lo);
    if (isfinite(hi))
        return log(hi - x);
    return x;
}

/* dx/dz at z (for the delta method). */
static double dxdz(double z, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi)) {
        double s = 1.0 / (1.0 + exp(-z));
        return (hi - lo) * s * (1.0 - s);
    }
    if (isfinite(lo))
        return exp(z);
    if (isfinite(hi))
        return -exp(z);
    return 1.0;
}

/* Relative distance from the nearest bound in the transform's own scale. */
static int near_bound(double z, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi)) {
        double s = 1.0 / (1.0 + exp(-z));
        return s * (1.0 - s) < 1e-6;
    }
    if (isfinite(lo) || isfinite(hi))
        return exp(z) < 1e-6 * fmax(1.0, fabs(isfinite(lo) ? lo : hi));
    return 0;
}

/* ------------------------------------------------------------ fitting */

typedef struct fitctx {
    const ss_model *m;
    const ss_calib_param *params;
    const char **paths;
    size_t np;
    const ss_obs_set *obs;
    const ss_run_opts *ropts;
    double *x;            /* [np] scratch */
    double *y;            /* [nobs] scratch */
    size_t nevals;
    const ss_progress *progress; /* told nevals (total unknown) */
    int rc;               /* first failure */
    ss_err err;
} fitctx;

/* Model values at the observations for parameter values x. */
static int eval_obs(fitctx *fc, const double *x, double *model, ss_err *err)
{
    ss_model *c = ss_model_copy(fc->m);
    ss_result *r = NULL;
    size_t i;
    int rc = SS_OK;

    if (!c)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < fc->np && rc == SS_OK; i++)
        rc = ss_model_set_base_path(c, fc->paths[i], x[i], err);
    if (rc == SS_OK)
        rc = ss_sim_run(&r, c, fc->ropts, err);
    fc->nevals++;
    ss_progress_report(fc->progress, fc->nevals, 0);
    for (i = 0; rc == SS_OK && i < fc->obs->n; i++)
        rc = ss_selector_eval(&model[i], &fc->obs->obs[i].sel, r, err);
    ss_result_free(r);
    ss_model_free(c);
    if (rc && err) {
        char msg[sizeof err->msg], ctx[256];
        size_t len = 0;
        snprintf(msg, sizeof msg, "%s", err->msg);
        ctx[0] = '\0';
        for (i = 0; i < fc->np && len < sizeof ctx; i++) {
            int w = snprintf(ctx + len, sizeof ctx - len, "%s%s=%.10g", i ? ", " : "", fc->paths[i], x[i]);
            if (w < 0)
                break;
            len += (size_t)w;
        }
        ss_err_set(err, rc, err->path, "calibration run with %s: %s", ctx, msg);
    }
    return rc;
}

/* gsl_multifit_nlinear residuals (unweighted; GSL applies sqrt(w)). */
static int resid_f(const gsl_vector *z, void *payload, gsl_vector *f)
{
    fitctx *fc = payload;
    size_t i;
    int rc;
    for (i = 0; i < fc->np; i++) {
        fc->x[i] = to_x(gsl_vector_get(z, i), fc->params[i].lower, fc->params[i].upper);
        if (!isfinite(fc->x[i])) {
            /* the solver's own arithmetic overflowed (weights or observations
             * near the largest double) */
            if (!fc->rc)
                fc->rc = ss_err_set(&fc->err, SS_ENUMERIC, "", "calibrate: the fit statistics are "
                                    "not finite: the solver's step for %s overflowed (weights or "
                                    "observations too large to fit)", fc->paths[i]);
            return GSL_EBADFUNC;
        }
    }
    /* f may be a strided matrix column (finite differences): go through a buffer */
    rc = eval_obs(fc, fc->x, fc->y, &fc->err);
    if (rc) {
        if (!fc->rc)
            fc->rc = rc;
        return GSL_EBADFUNC;
    }
    for (i = 0; i < fc->obs->n; i++)
        gsl_vector_set(f, i, fc->y[i] - fc->obs->obs[i].value);
    return GSL_SUCCESS;
}

/*
 * gsl_multifit_nlinear_driver's loop (GSL 2.7, the same iterations, tests
 * and status codes), except that it stops as soon as a model run has failed
 * or been interrupted (fc->rc): GSL's driver overwrites the status of an
 * iteration whose function evaluation failed with that of the convergence
 * test and goes on, so an interrupted fit would otherwise run out its
 * iterations on runs that fail at once.
 */
static int fit_driver(size_t maxiter, double xtol, double gtol, double ftol, int *info,
                      gsl_multifit_nlinear_workspace *w, const fitctx *fc)
{
    size_t iter = 0;
    int status;
    do {
        status = gsl_multifit_nlinear_iterate(w);
        if (fc->rc)
            return status ? status : GSL_EBADFUNC;
        if (status == GSL_ENOPROG && iter == 0) {
            *info = status;
            return GSL_EMAXITER;
        }
        ++iter;
        status = gsl_multifit_nlinear_test(xtol, gtol, ftol, info, w);
    } while (status == GSL_CONTINUE && iter < maxiter);
    if (status == GSL_ETOLF || status == GSL_ETOLX || status == GSL_ETOLG) {
        *info = status;
        status = GSL_SUCCESS;
    }
    if (iter >= maxiter && status != GSL_SUCCESS)
        status = GSL_EMAXITER;
    return status;
}

void ss_calibrate_free(ss_calib_result *c)
{
    size_t i;
    if (!c)
        return;
    if (c->paths)
        for (i = 0; i < c->np; i++)
            free(c->paths[i]);
    free(c->paths);
    free(c->lower);
    free(c->upper);
    free(c->start);
    free(c->value);
    free(c->se);
    free(c->at_bound);
    free(c->identified);
    free(c->constructed);
    free(c->corr);
    free(c->model);
    free(c->resid);
    free(c->wresid);
    free(c);
}

static ss_calib_result *calib_new(size_t np, size_t nobs)
{
    ss_calib_result *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->np = np;
    c->nobs = nobs;
    c->paths = calloc(np, sizeof *c->paths);
    c->lower = calloc(np, sizeof *c->lower);
    c->upper = calloc(np, sizeof *c->upper);
    c->start = calloc(np, sizeof *c->start);
    c->value = calloc(np, sizeof *c->value);
    c->se = calloc(np, sizeof *c->se);
    c->at_bound = calloc(np, 1);
    c->identified = calloc(np, 1);
    c->constructed = calloc(nobs ? nobs : 1, 1);
    c->corr = calloc(np * np, sizeof *c->corr);
    c->model = calloc(nobs, sizeof *c->model);
    c->resid = calloc(nobs, sizeof *c->resid);
    c->wresid = calloc(nobs, sizeof *c->wresid);
    if (!c->paths || !c->lower || !c->upper || !c->start || !c->value || !c->se ||
        !c->at_bound || !c->identified || !c->constructed || !c->corr || !c->model ||
        !c->resid || !c->wresid) {
        ss_calibrate_free(c);
        return NULL;
    }
    return c;
}

/* Check bounds and the start of every parameter; fill c->start. */
static int check_params(ss_calib_result *c, const ss_model *m, const ss_calib_param *params,
                        size_t np, ss_err *err)
{
    ss_model *cp = ss_model_copy(m);
    size_t i;
    int rc;
    if (!cp)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = ss_model_resolve(cp, err)))
        goto done;
    for (i = 0; i < np; i++) {
        const ss_calib_param *p = &params[i];
        double lo = p->lower, hi = p->upper, s = p->start;
        ss_param h;
        if ((rc = ss_param_lookup_flags(&h, cp, p->path, SS_PARAM_BASE, err)))
            goto done;
        if (isnan(lo) || isnan(hi) || !(lo < hi) || lo == INFINITY || hi == -INFINITY) {
            rc = ss_err_set(err, SS_EINVAL, p->path, "calibrate: %s: bounds [%g, %g] must satisfy "
                            "lower < upper", p->path, lo, hi);
            goto done;
        }
        if (isnan(s))
            s = ss_param_get(&h, cp);
        if (!isfinite(s) || s < lo || s > hi) {
            rc = ss_err_set(err, SS_EINVAL, p->path, "calibrate: %s: start %g is outside [%g, %g]",
                            p->path, s, lo, hi);
            goto done;
        }
        /* the transform needs a strictly interior start: nudge it off a bound */
        {
            double nudge = isfinite(lo) && isfinite(hi) ? 1e-6 * (hi - lo)
                         : 1e-6 * fmax(1.0, fabs(isfinite(lo) ? lo : isfinite(hi) ? hi : 0.0));
            if (isfinite(lo) && s < lo + nudge)
                s = lo + nudge;
            if (isfinite(hi) && s > hi - nudge)
                s = hi - nudge;
        }
        c->start[i] = s;
        c->lower[i] = lo;
        c->upper[i] = hi;
        if (!(c->paths[i] = strdup(p->path))) {
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
            goto done;
        }
    }
done:
    ss_model_free(cp);
    return rc;
}

/*
 * Which parameters move the model at the observations, and which
 * observations no parameter moves. Parameter i is probed at two values away
 * from the fit (its bounds, or the fit -+ max(1, |value|) / 2 where a bound
 * is infinite) with the others at their fitted values; it is identified if
 * some observation's model value moves (ss_moved: by more than
 * SS_EFFECT_TOL relative). An observation at the start that no probe moves
 * and whose residual is 0 (within that tolerance) holds by construction
 * (the initial share is an input): it is not a degree of freedom.
 */
static int probe_identification(ss_calib_result *c, fitctx *fc, ss_err *err)
{
    size_t np = c->np, n = c->nobs, i, j, s;
    double *x = malloc(np * sizeof *x), *y = malloc(n * sizeof *y);
    unsigned char *touched = calloc(n ? n : 1, 1);
    int rc = SS_OK;
    if (!x || !y || !touched) {
        rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        goto done;
    }
    for (i = 0; i < np && rc == SS_OK; i++) {
        double v = c->value[i], d = fmax(1.0, fabs(v)) / 2.0;
        double at[2];
        at[0] = isfinite(c->lower[i]) ? c->lower[i] : v - d;
        at[1] = isfinite(c->upper[i]) ? c->upper[i] : v + d;
        c->identified[i] = 0;
        for (s = 0; s < 2 && rc == SS_OK; s++) {
            if (at[s] == v)
                continue;
            memcpy(x, c->value, np * sizeof *x);
            x[i] = at[s];
            if ((rc = eval_obs(fc, x, y, err)))
                break;
            for (j = 0; j < n; j++)
                if (ss_moved(y[j], c->model[j])) {
                    c->identified[i] = 1;
                    touched[j] = 1;
                }
        }
    }
    c->nconstructed = 0;
    for (j = 0; j < n && rc == SS_OK; j++) {
        const ss_obs *o = &fc->obs->obs[j];
        c->constructed[j] = (unsigned char)(o->weight > 0.0 && !touched[j] &&
                                            fabs(o->t - fc->m->t0) <= 1e-9 &&
                                            !ss_moved(c->model[j], o->value));
        c->nconstructed += c->constructed[j];
    }
done:
    free(x);
    free(y);
    free(touched);
    return rc;
}

/* Standard errors and correlations from the Jacobian J (n x p, in z). */
static int covariance(ss_calib_result *c, const gsl_matrix *J, const gsl_vector *z,
                      int absolute, ss_err *err)
{
    size_t p = c->np, i, j;
    gsl_matrix *cov = gsl_matrix_alloc(p, p);
    double s2, *d = malloc(p * sizeof *d);
    int st;

    if (!cov || !d) {
        gsl_matrix_free(cov);
        free(d);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    st = gsl_multifit_nlinear_covar(J, 1e-12, cov);
    s2 = absolute ? 1.0 : c->dof > 0 ? c->chi2 / (double)c->dof : NAN;
    for (i = 0; i < p; i++)
        d[i] = dxdz(gsl_vector_get(z, i), c->lower[i], c->upper[i]);
    for (i = 0; i < p; i++) {
        double cii = gsl_matrix_get(cov, i, i);
        c->se[i] = st == GSL_SUCCESS && cii > 0.0 && c->identified[i]
                 ? fabs(d[i]) * sqrt(s2 * cii) : NAN;
    }
    for (i = 0; i < p; i++)
        for (j = 0; j < p; j++) {
            double cii = gsl_matrix_get(cov, i, i), cjj = gsl_matrix_get(cov, j, j);
            double r = st == GSL_SUCCESS && cii > 0.0 && cjj > 0.0
                     ? gsl_matrix_get(cov, i, j) / sqrt(cii * cjj) : NAN;
            /* the delta method keeps correlations up to the signs of dx/dz */
            if (d[i] * d[j] < 0.0)
                r = -r;
            c->corr[i * p + j] = i == j && !isnan(r) ? 1.0 : r;
        }
    gsl_matrix_free(cov);
    free(d);
    return SS_OK;
}

/* The state of one ss_calibrate_run: the fit's context, GSL's workspace and
 * what it was set up with. */
typedef struct calrun {
    fitctx fc;
    ss_calib_opts o;
    gsl_multifit_nlinear_workspace *w;
    gsl_multifit_nlinear_fdf fdf;
    gsl_vector *z, *wts;   /* the start (transformed) and the weights */
    size_t neff;           /* observations with positive weight */
} calrun;

/*
 * Check what needs no allocation: parameters (none defined by a link),
 * observations (their number, and against the model), at least as many
 * observations with positive weight (*neff) as parameters, and the options.
 */
static int check_inputs(const ss_model *m, const ss_calib_param *params, size_t np,
                        const ss_obs_set *obs, const ss_run_opts *ropts, const ss_calib_opts *o,
                        size_t *neff, ss_err *err)
{
    size_t i;
    int rc;

    if (np == 0)
        return ss_err_set(err, SS_EINVAL, "", "calibrate: no parameters to fit");
    for (i = 0; i < np; i++)        /* an input defined by a link cannot be fitted */
        if ((rc = ss_run_opts_check_path(ropts, params[i].path, err)))
            return rc;
    if (!obs || obs->n == 0)
        return ss_err_set(err, SS_EINVAL, "", "calibrate: no observations");
    if (obs->n > SS_OBS_MAX)
        return ss_err_set(err, SS_ELIMIT, "", "calibrate: %zu observations, more than %d (the limit "
                          "of a calibration data set)", obs->n, SS_OBS_MAX);
    if ((rc = ss_obs_validate(obs, m, err)))
        return rc;
    *neff = 0;
    for (i = 0; i < obs->n; i++)
        *neff += obs->obs[i].weight > 0.0;
    if (*neff < np)
        return ss_err_set(err, SS_EINVAL, "", "calibrate: %zu observations with positive weight for "
                          "%zu parameters; need at least as many observations as parameters", *neff, np);
    if (!(o->fd_step > 0.0) || o->max_iter == 0)
        return ss_err_set(err, SS_EINVAL, "", "calibrate: fd_step must be > 0 and max_iter >= 1");
    return SS_OK;
}

/* Set the fit up: its context, the start in the transformed variables, the
 * weights and GSL's trust-region workspace (finite-difference Jacobian). */
static int fit_open(calrun *run, const ss_calib_result *c, const ss_model *m,
                    const ss_calib_param *params, const ss_obs_set *obs, const ss_run_opts *ropts,
                    ss_err *err)
{
    gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
    fitctx *fc = &run->fc;
    size_t np = c->np, n = obs->n, i;

    fc->m = m;
    fc->params = params;
    fc->np = np;
    fc->obs = obs;
    fc->ropts = ropts;
    fc->progress = &run->o.progress;
    fc->paths = calloc(np, sizeof *fc->paths);
    fc->x = calloc(np, sizeof *fc->x);
    fc->y = calloc(n, sizeof *fc->y);
    run->z = gsl_vector_alloc(np);
    run->wts = gsl_vector_alloc(n);
    fp.trs = gsl_multifit_nlinear_trs_lm;
    fp.h_df = run->o.fd_step;
    fp.fdtype = run->o.central ? GSL_MULTIFIT_NLINEAR_CTRDIFF : GSL_MULTIFIT_NLINEAR_FWDIFF;
    run->w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, np);
    if (!fc->paths || !fc->x || !fc->y || !run->z || !run->wts || !run->w)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < np; i++) {
        fc->paths[i] = params[i].path;
        gsl_vector_set(run->z, i, to_z(c->start[i], c->lower[i], c->upper[i]));
    }
    for (i = 0; i < n; i++)
        gsl_vector_set(run->wts, i, obs->obs[i].weight);
    run->fdf.f = resid_f;
    run->fdf.df = NULL;
    run->fdf.fvv = NULL;
    run->fdf.n = n;
    run->fdf.p = np;
    run->fdf.params = fc;
    return SS_OK;
}

/* Free what fit_open allocated. */
static void fit_close(calrun *run)
{
    gsl_multifit_nlinear_free(run->w);
    gsl_vector_free(run->z);
    gsl_vector_free(run->wts);
    free(run->fc.paths);
    free(run->fc.x);
    free(run->fc.y);
}

/* Run the solver from the start and say in c how it ended (converged, out of
 * iterations, no progress); a failed model run or a GSL error is an error. */
static int fit_solve(calrun *run, ss_calib_result *c, ss_err *err)
{
    int info = 0, st;

    st = gsl_multifit_nlinear_winit(run->z, run->wts, &run->fdf, run->w);
    if (st == GSL_SUCCESS)
        st = fit_driver(run->o.max_iter, run->o.xtol, run->o.gtol, run->o.ftol, &info, run->w,
                        &run->fc);
    if (run->fc.rc) {
        /* a model run failed: report it, not GSL's view of it */
        if (err)
            *err = run->fc.err;
        return run->fc.rc;
    }
    c->gsl_status = st;
    c->iterations = gsl_multifit_nlinear_niter(run->w);
    switch (st) {
    case GSL_SUCCESS:
        c->converged = 1;
        snprintf(c->status, sizeof c->status, "converged (%s)",
                 info == 1 ? "small step" : info == 2 ? "small gradient" : "small change in chi2");
        break;
    case GSL_EMAXITER:
        snprintf(c->status, sizeof c->status, "maximum iterations (%zu) reached", run->o.max_iter);
        break;
    case GSL_ENOPROG:
        snprintf(c->status, sizeof c->status, "no further progress possible (noise floor of the "
                 "model runs or a flat direction)");
        break;
    default:
        return ss_err_set(err, SS_ENUMERIC, "", "calibrate: %s", gsl_strerror(st));
    }
    return SS_OK;
}

/* The fitted values (and which ended at a bound) from the solver's position,
 * and the residuals and chi2 from one more run there; statistics that
 * overflowed are an error. */
static int fit_residuals(calrun *run, ss_calib_result *c, const ss_obs_set *obs, ss_err *err)
{
    const gsl_vector *zf = gsl_multifit_nlinear_position(run->w);
    double chi2 = 0.0;
    size_t i, n = obs->n;
    int rc;

    for (i = 0; i < c->np; i++) {
        double zi = gsl_vector_get(zf, i);
        c->value[i] = to_x(zi, c->lower[i], c->upper[i]);
        c->at_bound[i] = (unsigned char)near_bound(zi, c->lower[i], c->upper[i]);
    }
    /* residuals at the reported values (one more run) */
    if ((rc = eval_obs(&run->fc, c->value, c->model, err)))
        return rc;
    for (i = 0; i < n; i++) {
        double wi = obs->obs[i].weight;
        c->resid[i] = c->model[i] - obs->obs[i].value;
        c->wresid[i] = sqrt(wi) * c->resid[i];
        chi2 += c->wresid[i] * c->wresid[i];
    }
    c->chi2 = chi2;
    /* statistics that overflowed (observations near the largest double)
     * would be printed as inf or nan: an error, not a result */
    if (!isfinite(chi2)) {
        size_t worst = 0;
        for (i = 1; i < n; i++)
            if (isfinite(c->wresid[worst]) &&
                (!isfinite(c->wresid[i]) || fabs(c->wresid[i]) > fabs(c->wresid[worst])))
                worst = i;
        return ss_err_set(err, SS_ENUMERIC, "", "calibrate: the fit statistics are not finite "
                          "(chi2 = %g): %s:%ld: observed %g, model %g (values this large cannot "
                          "be fitted)", chi2, obs->file ? obs->file : "data", obs->obs[worst].line,
                          obs->obs[worst].value, c->model[worst]);
    }
    return SS_OK;
}

/* Which parameters are identified, the degrees of freedom, RMSE, residual sd,
 * standard errors and correlations; a fitted value or a standard error that
 * is not finite is an error. */
static int fit_statistics(calrun *run, ss_calib_result *c, ss_err *err)
{
    long nid = 0;
    size_t i;
    int rc;

    if ((rc = probe_identification(c, &run->fc, err)))
        return rc;
    for (i = 0; i < c->np; i++)
        nid += c->identified[i];
    c->dof = (long)run->neff - (long)c->nconstructed - nid;
    c->rmse = sqrt(c->chi2 / (double)run->neff);
    c->sigma = c->dof > 0 ? sqrt(c->chi2 / (double)c->dof) : NAN;
    if ((rc = covariance(c, gsl_multifit_nlinear_jac(run->w), gsl_multifit_nlinear_position(run->w),
                         run->o.absolute_weights, err)))
        return rc;
    for (i = 0; i < c->np; i++)
        if (!isfinite(c->value[i]) || (isinf(c->se[i])))
            return ss_err_set(err, SS_ENUMERIC, "", "calibrate: the fitted %s is not finite "
                              "(value %g, se %g)", c->paths[i], c->value[i], c->se[i]);
    return SS_OK;
}

int ss_calibrate_run(ss_calib_result **out, const ss_model *m, const ss_calib_param *params,
                     size_t np, const ss_obs_set *obs, const ss_run_opts *ropts,
                     const ss_calib_opts *opts, ss_err *err)
{
    ss_calib_opts defaults = SS_CALIB_OPTS_INIT;
    ss_calib_result *c;
    calrun run;
    int rc;

    assert(out && m && (params || !np));
    *out = NULL;
    memset(&run, 0, sizeof run);
    run.o = opts ? *opts : defaults;
    if ((rc = check_inputs(m, params, np, obs, ropts, &run.o, &run.neff, err)))
        return rc;
    if (!(c = calib_new(np, obs->n)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = check_params(c, m, params, np, err)) == SS_OK &&
        (rc = fit_open(&run, c, m, params, obs, ropts, err)) == SS_OK &&
        (rc = fit_solve(&run, c, err)) == SS_OK &&
        (rc = fit_residuals(&run, c, obs, err)) == SS_OK &&
        (rc = fit_statistics(&run, c, err)) == SS_OK)
        c->nevals = run.fc.nevals;
    fit_close(&run);
    if (rc) {
        ss_calibrate_free(c);
        return rc;
    }
    *out = c;
    return SS_OK;
}

/* ------------------------------------------------------------ writers */

static int finish(FILE *f, int bad, ss_err *err)
{
    if (bad || fflush(f) != 0 || ferror(f))
        return ss_err_set(err, SS_EIO, "", "writing output failed");
    return SS_OK;
}

/* A Lua string literal for s: quotes, backslashes and control bytes escaped. */
static int put_lua_string(FILE *f, const char *s)
{
    int bad = putc('"', f) == EOF;
    for (; *s && !bad; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            bad = fprintf(f, "\\%c", ch) < 0;
        else if (ch < 0x20 || ch == 0x7f)
            bad = fprintf(f, "\\%03u", ch) < 0;
        else
            bad = putc(ch, f) == EOF;
    }
    return bad || putc('"', f) == EOF;
}

int ss_calibrate_write_lua(FILE *f, const ss_calib_result *c, ss_err *err)
{
    char b1[64], b2[64], b3[64];
    size_t i;
    int bad;

    ss_fmt_double(b1, sizeof b1, c->chi2);
    ss_fmt_double(b2, sizeof b2, c->rmse);
    ss_fmt_double(b3, sizeof b3, c->sigma);
    bad = fprintf(f, "-- stratsim %s calibration: %zu parameter%s, %zu observation%s, dof %ld\n"
                  "-- chi2 = %s, RMSE = %s, residual sd = %s\n"
                  "-- %s after %zu iteration%s (%zu model run%s)\n"
                  "return {\n", ss_version(), c->np, c->np == 1 ? "" : "s", c->nobs,
                  c->nobs == 1 ? "" : "s", c->dof, b1, b2, b3, c->status, c->iterations,
                  c->iterations == 1 ? "" : "s", c->nevals, c->nevals == 1 ? "" : "s") < 0;
    for (i = 0; i < c->np && !bad; i++) {
        ss_fmt_double(b1, sizeof b1, c->se[i]);
        bad = fputs("  [", f) == EOF || put_lua_string(f, c->paths[i]) ||
              fputs("] = ", f) == EOF || ss_csv_num(f, c->value[i]) ||
              fprintf(f, ", -- se %s%s\n", b1, c->at_bound[i] ? " (at a bound)" : "") < 0;
    }
    if (!bad)
        bad = fputs("}\n", f) == EOF;
    return finish(f, bad, err);
}

int ss_calibrate_set_string(char *buf, size_t size, const ss_calib_result *c, size_t i)
{
    char num[64];
    ss_fmt_double(num, sizeof num, c->value[i]);
    return snprintf(buf, size, "%s=%s", c->paths[i], num);
}

int ss_calibrate_write_params(FILE *f, const ss_calib_result *c, ss_err *err)
{
    size_t i;
    int bad = fputs("parameter,value,se,lower,upper,start,at_bound\n", f) == EOF;
    for (i = 0; i < c->np && !bad; i++)
        bad = ss_csv_field(f, c->paths[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->value[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->se[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->lower[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->upper[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->start[i]) || putc(',', f) == EOF ||
              fputs(c->at_bound[i] ? "1\n" : "0\n", f) == EOF;
    return finish(f, bad, err);
}

int ss_calibrate_write_residuals(FILE *f, const ss_calib_result *c, const ss_obs_set *obs,
                                 ss_err *err)
{
    size_t i;
    int bad;
    if (obs->n != c->nobs)
        return ss_err_set(err, SS_EINVAL, "", "residuals: %zu observations, the fit has %zu",
                          obs->n, c->nobs);
    bad = fputs("time,provider,segment,metric,observed,weight,model,residual,weighted_residual\n", f) == EOF;
    for (i = 0; i < c->nobs && !bad; i++) {
        const ss_obs *ob = &obs->obs[i];
        const char *metric = ob->sel.kind == SS_SEL_PS ? ss_metric_ps_name(ob->sel.metric)
                           : ob->sel.kind == SS_SEL_P ? ss_metric_p_name(ob->sel.metric)
                           : ob->sel.kind == SS_SEL_X ? ob->sel.extra
                           : ss_metric_s_name(ob->sel.metric);
        bad = ss_csv_num(f, ob->t) || putc(',', f) == EOF ||
              ss_csv_field(f, ob->sel.provider) || putc(',', f) == EOF ||
              ss_csv_field(f, ob->sel.segment) || putc(',', f) == EOF ||
              ss_csv_field(f, metric) || putc(',', f) == EOF ||
              ss_csv_num(f, ob->value) || putc(',', f) == EOF ||
              ss_csv_num(f, ob->weight) || putc(',', f) == EOF ||
              ss_csv_num(f, c->model[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->resid[i]) || putc(',', f) == EOF ||
              ss_csv_num(f, c->wresid[i]) || putc('\n', f) == EOF;
    }
    return finish(f, bad, err);
}
