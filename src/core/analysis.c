/*
 * analysis.c - the plain-C half of the analyses (stratsim/analysis.h): the
 * ss_analysis container and its setters (command-line flags override
 * scenario keys), the parameter list of a sensitivity analysis, the analysis
 * settings recorded in the JSON sidecar (built with cJSON, numbers as exact
 * raw text), the optimisation CSV, and CSV + sidecar written atomically.
 * The Lua binding (src/lua/analysis/read.c) reads the scenario tables into an
 * ss_analysis. Depends on the rest of the core and cJSON.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "stratsim.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

ss_analysis *ss_analysis_new(void)
{
    ss_analysis *a = calloc(1, sizeof *a);
    if (a)
        a->minimize = -1;
    return a;
}

void ss_analysis_free(ss_analysis *a)
{
    size_t i;
    if (!a)
        return;
    for (i = 0; i < a->nparams; i++)
        free((char *)a->params[i].path);
    for (i = 0; i < a->noutages; i++)
        free((char *)a->outages[i].provider);
    for (i = 0; i < a->ncalib; i++)
        free((char *)a->calib[i].path);
    for (i = 0; i < a->ncontrols; i++)
        free((char *)a->controls[i].path);
    for (i = 0; i < a->nconstraints; i++)
        free(a->constraints[i]);
    free(a->params);
    free(a->outages);
    free(a->calib);
    free(a->controls);
    free(a->constraints);
    free(a->objective);
    for (i = 0; i < a->nchecks; i++) {
        size_t j;
        for (j = 0; j < a->checks[i].nchanges; j++)
            free(a->checks[i].paths[j]);
        free(a->checks[i].paths);
        free(a->checks[i].values);
        free(a->checks[i].name);
        free(a->checks[i].expect);
    }
    free(a->checks);
    free(a);
}

/*
 * Find `path` in an array of n structs of `size` bytes whose first member is
 * a `const char *path`, sorted by path. Returns the index if found (*found
 * = 1) or the insertion point.
 */
static size_t find_sorted(const void *arr, size_t n, size_t size, const char *path, int *found)
{
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = *(const char *const *)((const char *)arr + mid * size);
        int c = strcmp(p, path);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Insert or replace the element with `path` in the sorted array *arr of *n
 * structs: on return *slot points at it with its path member set (owned).
 * The caller fills in the other members.
 */
static int upsert(void **arr, size_t *n, size_t size, const char *path, void **slot, ss_err *err)
{
    int found;
    size_t at = find_sorted(*arr, *n, size, path, &found);
    char *p;
    if (found) {
        *slot = (char *)*arr + at * size;
        return SS_OK;
    }
    p = dup_str(path);
    if (!p)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    {
        char *na = realloc(*arr, (*n + 1) * size);
        if (!na) {
            free(p);
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        }
        *arr = na;
        memmove(na + (at + 1) * size, na + at * size, (*n - at) * size);
        memset(na + at * size, 0, size);
        memcpy(na + at * size, &p, sizeof p);
        *slot = na + at * size;
        *n += 1;
    }
    return SS_OK;
}

int ss_analysis_set_dist(ss_analysis *a, const char *path, const ss_dist *d, ss_err *err)
{
    void *slot;
    int rc = upsert((void **)&a->params, &a->nparams, sizeof *a->params, path, &slot, err);
    if (rc == SS_OK)
        ((ss_mc_param *)slot)->dist = *d;
    return rc;
}

int ss_analysis_set_calib(ss_analysis *a, const char *path, double lower, double upper,
                          double start, ss_err *err)
{
    void *slot;
    int rc = upsert((void **)&a->calib, &a->ncalib, sizeof *a->calib, path, &slot, err);
    if (rc == SS_OK) {
        ss_calib_param *c = slot;
        c->lower = lower;
        c->upper = upper;
        c->start = start;
    }
    return rc;
}

int ss_analysis_set_control(ss_analysis *a, const char *path, double lower, double upper,
                            ss_err *err)
{
    void *slot;
    int rc = upsert((void **)&a->controls, &a->ncontrols, sizeof *a->controls, path, &slot, err);
    if (rc == SS_OK) {
        ss_opt_control *c = slot;
        c->lower = lower;
        c->upper = upper;
    }
    return rc;
}

int ss_analysis_add_constraint(ss_analysis *a, const char *text, ss_err *err)
{
    char **n = realloc(a->constraints, (a->nconstraints + 1) * sizeof *n);
    if (!n)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    a->constraints = n;
    if (!(n[a->nconstraints] = dup_str(text)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    a->nconstraints++;
    return SS_OK;
}

int ss_analysis_set_objective(ss_analysis *a, const char *selector, ss_err *err)
{
    char *s = dup_str(selector);
    if (!s)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    free(a->objective);
    a->objective = s;
    a->objective_fn = 0;
    return SS_OK;
}

uint64_t ss_analysis_run_seed(gsl_rng *rng)
{
    uint64_t hi = (uint64_t)gsl_rng_get(rng) & 0xffffffffu;
    uint64_t lo = (uint64_t)gsl_rng_get(rng) & 0xffffffffu;
    return ((hi << 32) | lo) & 0x7fffffffffffffffULL;
}

void ss_analysis_drop_outages(ss_analysis *a)
{
    while (a->noutages)
        free((char *)a->outages[--a->noutages].provider);
}

long ss_analysis_find_dist(const ss_analysis *a, const char *path)
{
    int found;
    size_t at = find_sorted(a->params, a->nparams, sizeof *a->params, path, &found);
    return found ? (long)at : -1;
}

int ss_analysis_check_path(const ss_model *m, const char *path, const char *what, ss_err *err)
{
    ss_model *c;
    ss_param p;
    int rc;
    if (strncmp(path, "time.", 5) == 0)
        return ss_err_set(err, SS_EINVAL, path, "a%s %s cannot be a time.* path (the output "
                          "times must not change)", strchr("aeiou", what[0]) && what[0] ? "n" : "",
                          what);
    c = ss_model_copy(m);
    if (!c)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = ss_param_resolve(&p, c, path, 0, err); /* message without a path prefix */
    ss_model_free(c);
    return rc;
}

/* ------------------------------------------------ sensitivity parameters */

int ss_sens_params(ss_sens_param **out, size_t *n, const ss_analysis *a, const ss_model *m,
                   const char *const *vary, size_t nvary, double range, double qlow,
                   double qhigh, ss_err *err)
{
    ss_model *c = NULL;
    ss_sens_param *sp = NULL;
    size_t np = nvary ? nvary : a->nparams, i;
    int rc = SS_OK;

    *out = NULL;
    *n = 0;
    if (np == 0)
        return ss_err_set(err, SS_EINVAL, "", "nothing to vary: the scenario has no "
                          "`uncertainty` table and no parameter was named (--vary PATH)");
    if (np > SS_SOBOL_MAX_DIM * 100)
        return ss_err_set(err, SS_EINVAL, "", "too many parameters (%zu)", np);
    sp = calloc(np, sizeof *sp);
    c = ss_model_copy(m);
    if (!sp || !c) {
        rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        goto done;
    }
    if ((rc = ss_model_resolve(c, err)) != SS_OK)
        goto done;
    for (i = 0; i < np; i++) {
        const char *path = nvary ? vary[i] : a->params[i].path;
        long k = ss_analysis_find_dist(a, path);
        ss_param p;
        size_t j;
        for (j = 0; j < i; j++)
            if (strcmp(sp[j].path, path) == 0) {
                rc = ss_err_set(err, SS_EINVAL, path, "parameter '%s' is named twice", path);
                goto done;
            }
        if ((rc = ss_analysis_check_path(c, path, "varied parameter", err)) != SS_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            ss_err_set(err, rc, path, "'%s': %s", path, msg);
            goto done;
        }
        if ((rc = ss_param_lookup(&p, c, path, err)) != SS_OK)
            goto done;
        sp[i].path = path;
        sp[i].base = ss_param_get(&p, c);
        if (k >= 0) {
            sp[i].dist = a->params[k].dist;
            sp[i].from_range = 0;
            sp[i].low = ss_dist_quantile(&sp[i].dist, qlow);
            sp[i].high = ss_dist_quantile(&sp[i].dist, qhigh);
            if (!isfinite(sp[i].low) || !isfinite(sp[i].high)) {
                rc = ss_err_set(err, SS_EINVAL, path, "'%s': the %g and %g quantiles of its "
                                "distribution are not finite", path, qlow, qhigh);
                goto done;
            }
        } else {
            double lo = sp[i].base * (1 - range), hi = sp[i].base * (1 + range);
            double params[2];
            if (!(range > 0) || sp[i].base == 0 || !isfinite(lo) || !isfinite(hi)) {
                rc = ss_err_set(err, SS_EINVAL, path, "'%s' has no distribution in `uncertainty` "
                                "and its base value is %g, so base +-%g%% is no range: give it "
                                "a distribution", path, sp[i].base, range * 100);
                goto done;
            }
            params[0] = lo < hi ? lo : hi;
            params[1] = lo < hi ? hi : lo;
            if ((rc = ss_dist_make(&sp[i].dist, SS_DIST_UNIFORM, params, 2, path, err)) != SS_OK)
                goto done;
            sp[i].from_range = 1;
            sp[i].low = params[0];
            sp[i].high = params[1];
        }
    }
    *out = sp;
    *n = np;
    sp = NULL;
done:
    free(sp);
    ss_model_free(c);
    return rc;
}

size_t ss_strings_width(char *const *v, size_t n, size_t min)
{
    size_t i, w = min;
    for (i = 0; i < n; i++)
        if (strlen(v[i]) > w)
            w = strlen(v[i]);
    return w;
}

void ss_strings_free(char **v, size_t n)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int ss_sens_default_outputs(const ss_model *m, char ***out, size_t *n, ss_err *err)
{
    size_t k, cnt = 1 + m->nseg;
    char **v = calloc(cnt, sizeof *v);
    const char *p = m->nprov ? m->prov[0].id : "";
    *out = NULL;
    *n = 0;
    if (!v)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((v[0] = malloc(strlen(p) + 5)))
        sprintf(v[0], "npv:%s", p);
    for (k = 0; v[k] && k < m->nseg; k++) {
        if ((v[k + 1] = malloc(strlen(p) + strlen(m->seg[k].id) + 8)))
            sprintf(v[k + 1], "share:%s:%s", p, m->seg[k].id);
    }
    for (k = 0; k < cnt; k++)
        if (!v[k]) {
            ss_strings_free(v, cnt);
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        }
    *out = v;
    *n = cnt;
    return SS_OK;
}

/* ----------------------------------------------------- settings as JSON */

/* A number as exact raw text; non-finite values become the strings "inf",
 * "-inf", "nan" (JSON has no such numbers). */
static cJSON *jnum(double x)
{
    char buf[64];
    ss_fmt_double(buf, sizeof buf, x);
    return isfinite(x) ? cJSON_CreateRaw(buf) : cJSON_CreateString(buf);
}

/* An unsigned integer: a number up to 2^53, else a decimal string. */
static cJSON *juint(unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", v);
    return v <= (1ULL << 53) ? cJSON_CreateRaw(buf) : cJSON_CreateString(buf);
}

static cJSON *jdist(const ss_dist *d)
{
    char buf[256];
    ss_dist_format(buf, sizeof buf, d);
    return cJSON_CreateString(buf);
}

/* Attach item to obj under key; 0 on failure (item freed). */
static int jadd(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    if (!(key ? cJSON_AddItemToObject(obj, key, item) : cJSON_AddItemToArray(obj, item))) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

/* {"<name>": inner} printed, inner consumed. NULL on failure. */
static char *jwrap(const char *name, cJSON *inner, int ok)
{
    cJSON *root = cJSON_CreateObject();
    char *text = NULL;
    if (root && ok && jadd(root, name, inner)) {
        inner = NULL;
        text = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(inner);
    cJSON_Delete(root);
    return text;
}

static cJSON *jstrings(char *const *s, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    size_t i;
    for (i = 0; a && i < n; i++)
        if (!jadd(a, NULL, cJSON_CreateString(s[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

/* "uncertainty" and "outages" of one scenario into obj. */
static int json_inputs(cJSON *obj, const ss_analysis *a)
{
    cJSON *u = NULL, *ou = NULL;
    size_t i;
    int ok = jadd(obj, "uncertainty", u = cJSON_CreateObject());
    for (i = 0; ok && i < a->nparams; i++)
        ok = jadd(u, a->params[i].path, jdist(&a->params[i].dist));
    ok = ok && jadd(obj, "outages", ou = cJSON_CreateObject());
    for (i = 0; ok && i < a->noutages; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = jadd(ou, a->outages[i].provider, e);
        ok = ok && jadd(e, "rate", jnum(a->outages[i].rate));
        ok = ok && jadd(e, "severity", jdist(&a->outages[i].severity));
    }
    return ok;
}

/* The memory estimate of a Monte Carlo: bytes, and what they depend on. */
static int json_memory(cJSON *obj, const ss_mc_memory *m)
{
    cJSON *e = cJSON_CreateObject();
    int ok = jadd(obj, "memory", e);
    ok = ok && jadd(e, "estimate", juint(m->total - m->transfer));
    ok = ok && jadd(e, "values_per_run", juint(m->nv_all));
    ok = ok && jadd(e, "values_kept", juint(m->nv));
    ok = ok && jadd(e, "statistics", juint(m->totals + m->blocks - m->per_run - m->transfer));
    ok = ok && jadd(e, "per_run_results", juint(m->per_run));
    ok = ok && jadd(e, "workers", juint(m->workers));
    ok = ok && jadd(e, "results", juint(m->results));
    return ok;
}

/* Which Monte Carlo engine ran (docs/analysis.md): name, lanes per lockstep
   group, runs the batched engine handed to the scalar one. */
static int json_engine(cJSON *o, const ss_mc_result *r)
{
    if (!r)
        return 1;
    return jadd(o, "engine", cJSON_CreateString(ss_mc_result_engine(r))) &&
           jadd(o, "lanes", juint(ss_mc_result_lanes(r))) &&
           jadd(o, "scalar_runs", juint(ss_mc_result_scalar_runs(r)));
}

char *ss_analysis_json_mc(const ss_analysis *const *a, const char *const *names, size_t n,
                          const ss_mc_opts *o, const double *q, size_t nq,
                          const size_t *blocks, const ss_mc_result *const *res)
{
    cJSON *mc = cJSON_CreateObject(), *qa = NULL, *sc = NULL, *oa = NULL;
    size_t i;
    int ok = mc != NULL;
    ok = ok && jadd(mc, "runs", juint(o->runs));
    ok = ok && jadd(mc, "seed", juint(o->seed));
    ok = ok && jadd(mc, "threads", juint(o->threads));
    ok = ok && jadd(mc, "rng", cJSON_CreateString(ss_mc_rng_name()));
    ok = ok && jadd(mc, "run_streams", cJSON_CreateString("run i is seeded with splitmix64(seed, i)"));
    ok = ok && jadd(mc, "sketch", cJSON_CreateString("t-digest (merging, k1 scale)"));
    ok = ok && jadd(mc, "compression", jnum(o->compression > 0 ? o->compression : SS_SKETCH_COMPRESSION));
    ok = ok && jadd(mc, "quantiles", qa = cJSON_CreateArray());
    for (i = 0; ok && i < nq; i++)
        ok = jadd(qa, NULL, jnum(q[i]));
    if (o->outputs && o->noutputs) {
        ok = ok && jadd(mc, "outputs", oa = cJSON_CreateArray());
        for (i = 0; ok && i < o->noutputs; i++)
            ok = jadd(oa, NULL, cJSON_CreateString(o->outputs[i].text));
    } else {
        ok = ok && jadd(mc, "outputs", cJSON_CreateString("all"));
    }
    ok = ok && jadd(mc, "max_memory", o->max_memory ? juint(o->max_memory) : cJSON_CreateNull());
    if (n == 1) {
        ok = ok && jadd(mc, "block", juint(blocks[0]));
        ok = ok && json_engine(mc, res ? res[0] : NULL) &&
             (!res || json_memory(mc, ss_mc_result_memory(res[0])));
        ok = ok && json_inputs(mc, a[0]);
    } else {
        ok = ok && jadd(mc, "scenarios", sc = cJSON_CreateObject());
        for (i = 0; ok && i < n; i++) {
            cJSON *e = cJSON_CreateObject();
            ok = jadd(sc, names[i], e) && jadd(e, "block", juint(blocks[i])) &&
                 json_engine(e, res ? res[i] : NULL) &&
                 (!res || json_memory(e, ss_mc_result_memory(res[i]))) && json_inputs(e, a[i]);
        }
    }
    return jwrap("mc", mc, ok);
}

char *ss_analysis_json_sweep(const ss_sweep_axis *axes, size_t naxes, char *const *outputs,
                             size_t nout, uint64_t points, const char *engine)
{
    cJSON *s = cJSON_CreateObject(), *ga = NULL;
    size_t i, j;
    int ok = s != NULL;
    ok = ok && jadd(s, "points", juint(points));
    ok = ok && jadd(s, "order", cJSON_CreateString("full factorial, last axis varies fastest"));
    ok = ok && jadd(s, "grid", ga = cJSON_CreateArray());
    for (i = 0; ok && i < naxes; i++) {
        cJSON *e = cJSON_CreateObject(), *va = NULL;
        ok = jadd(ga, NULL, e) && jadd(e, "path", cJSON_CreateString(axes[i].path)) &&
             jadd(e, "values", va = cJSON_CreateArray());
        for (j = 0; ok && j < axes[i].n; j++)
            ok = jadd(va, NULL, jnum(axes[i].values[j]));
    }
    if (nout)
        ok = ok && jadd(s, "outputs", jstrings(outputs, nout));
    if (engine)
        ok = ok && jadd(s, "engine", cJSON_CreateString(engine));
    return jwrap("sweep", s, ok);
}

char *ss_analysis_json_sens(const char *method, const ss_sens_param *p, size_t np,
                            char *const *outputs, size_t nout, double range, double qlow,
                            double qhigh, size_t samples, size_t nevals,
                            const ss_sobol_opts *so, const char *engine)
{
    cJSON *s = cJSON_CreateObject(), *pa = NULL;
    size_t i;
    int ok = s != NULL;
    ok = ok && jadd(s, "method", cJSON_CreateString(method));
    ok = ok && jadd(s, "range", jnum(range));
    if (strcmp(method, "tornado") == 0) {
        ok = ok && jadd(s, "low_quantile", jnum(qlow));
        ok = ok && jadd(s, "high_quantile", jnum(qhigh));
    } else {
        ok = ok && jadd(s, "samples", juint(samples));
        ok = ok && jadd(s, "sequence", cJSON_CreateString("gsl_qrng_sobol (Saltelli sampling)"));
        ok = ok && jadd(s, "estimators", cJSON_CreateString("first order Saltelli 2010, total Jansen 1999"));
        if (so) {
            ok = ok && jadd(s, "bootstrap", juint(so->nboot));
            ok = ok && jadd(s, "bootstrap_seed", juint(so->seed));
            ok = ok && jadd(s, "level", jnum(so->level));
        }
    }
    ok = ok && jadd(s, "evaluations", juint(nevals));
    if (engine)
        ok = ok && jadd(s, "engine", cJSON_CreateString(engine));
    ok = ok && jadd(s, "parameters", pa = cJSON_CreateArray());
    for (i = 0; ok && i < np; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = jadd(pa, NULL, e);
        ok = ok && jadd(e, "path", cJSON_CreateString(p[i].path));
        ok = ok && jadd(e, "base", jnum(p[i].base));
        ok = ok && jadd(e, "distribution", jdist(&p[i].dist));
        ok = ok && jadd(e, "from_range", cJSON_CreateBool(p[i].from_range));
        ok = ok && jadd(e, "low", jnum(p[i].low));
        ok = ok && jadd(e, "high", jnum(p[i].high));
    }
    ok = ok && jadd(s, "outputs", jstrings(outputs, nout));
    return jwrap("sens", s, ok);
}

char *ss_analysis_json_calib(const ss_calib_result *c, const char *data_file,
                             const char *data_sha256)
{
    cJSON *s = cJSON_CreateObject(), *pa = NULL;
    size_t i;
    int ok = s != NULL;
    ok = ok && jadd(s, "data", data_file ? cJSON_CreateString(data_file) : cJSON_CreateNull());
    ok = ok && jadd(s, "data_sha256", data_sha256 ? cJSON_CreateString(data_sha256) : cJSON_CreateNull());
    ok = ok && jadd(s, "method", cJSON_CreateString("gsl_multifit_nlinear trust region, "
                                                    "Levenberg-Marquardt, finite-difference Jacobian"));
    ok = ok && jadd(s, "observations", juint(c->nobs));
    ok = ok && jadd(s, "parameters", pa = cJSON_CreateObject());
    for (i = 0; ok && i < c->np; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = jadd(pa, c->paths[i], e);
        ok = ok && jadd(e, "lower", jnum(c->lower[i]));
        ok = ok && jadd(e, "upper", jnum(c->upper[i]));
        ok = ok && jadd(e, "start", jnum(c->start[i]));
        ok = ok && jadd(e, "value", jnum(c->value[i]));
        ok = ok && jadd(e, "se", jnum(c->se[i]));
        ok = ok && jadd(e, "at_bound", cJSON_CreateBool(c->at_bound[i]));
    }
    ok = ok && jadd(s, "chi2", jnum(c->chi2));
    ok = ok && jadd(s, "rmse", jnum(c->rmse));
    ok = ok && jadd(s, "sigma", jnum(c->sigma));
    ok = ok && jadd(s, "dof", jnum((double)c->dof));
    ok = ok && jadd(s, "iterations", juint(c->iterations));
    ok = ok && jadd(s, "evaluations", juint(c->nevals));
    ok = ok && jadd(s, "converged", cJSON_CreateBool(c->converged));
    ok = ok && jadd(s, "status", cJSON_CreateString(c->status));
    return jwrap("calibrate", s, ok);
}

char *ss_analysis_json_opt(const ss_analysis *a, const ss_opt_result *r, const ss_opt_opts *o)
{
    cJSON *s = cJSON_CreateObject(), *ca = NULL, *cs = NULL;
    size_t i;
    int ok = s != NULL;
    ok = ok && jadd(s, "objective", a->objective ? cJSON_CreateString(a->objective)
                                                 : cJSON_CreateString("(Lua function)"));
    ok = ok && jadd(s, "minimize", cJSON_CreateBool(a->minimize == 1));
    ok = ok && jadd(s, "method", cJSON_CreateString("gsl_multimin nmsimplex2, sine box transform, "
                                                    "quadratic penalty, Sobol multi-start"));
    ok = ok && jadd(s, "starts", juint(o->starts));
    ok = ok && jadd(s, "seed", juint(o->seed));
    ok = ok && jadd(s, "controls", ca = cJSON_CreateObject());
    for (i = 0; ok && i < r->ncontrols; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = jadd(ca, r->paths[i], e);
        ok = ok && jadd(e, "lower", jnum(r->lower[i]));
        ok = ok && jadd(e, "upper", jnum(r->upper[i]));
        ok = ok && jadd(e, "initial", jnum(r->x0[i]));
        ok = ok && jadd(e, "value", jnum(r->x[i]));
    }
    ok = ok && jadd(s, "constraints", cs = cJSON_CreateArray());
    for (i = 0; ok && i < r->nconstraints; i++) {
        cJSON *e = cJSON_CreateObject();
        ok = jadd(cs, NULL, e);
        ok = ok && jadd(e, "constraint", cJSON_CreateString(r->cons_text[i]));
        ok = ok && jadd(e, "value", jnum(r->cons_value[i]));
        ok = ok && jadd(e, "violation", jnum(r->cons_violation[i]));
        ok = ok && jadd(e, "holds", cJSON_CreateBool(r->cons_holds[i]));
    }
    ok = ok && jadd(s, "objective_value", jnum(r->objective));
    ok = ok && jadd(s, "objective_initial", jnum(r->objective0));
    ok = ok && jadd(s, "feasible", cJSON_CreateBool(r->feasible));
    ok = ok && jadd(s, "converged", cJSON_CreateBool(r->converged));
    ok = ok && jadd(s, "evaluations", juint(r->nevals));
    ok = ok && jadd(s, "failed_runs", juint(r->nfailed));
    return jwrap("optimize", s, ok);
}

/* ------------------------------------------------------------------ CSV */

int ss_opt_write_csv(FILE *f, const ss_opt_result *r, const char *objective, ss_err *err)
{
    size_t i;
    int bad = fputs("kind,name,value,initial,lower,upper,violation,holds\n", f) == EOF;
    for (i = 0; !bad && i < r->ncontrols; i++) {
        bad |= fputs("control,", f) == EOF || ss_csv_field(f, r->paths[i]) != 0 ||
               fputc(',', f) == EOF || ss_csv_num(f, r->x[i]) || fputc(',', f) == EOF ||
               ss_csv_num(f, r->x0[i]) || fputc(',', f) == EOF || ss_csv_num(f, r->lower[i]) ||
               fputc(',', f) == EOF || ss_csv_num(f, r->upper[i]) || fputs(",,\n", f) == EOF;
    }
    if (!bad)
        bad |= fputs("objective,", f) == EOF ||
               ss_csv_field(f, objective ? objective : "(Lua function)") != 0 ||
               fputc(',', f) == EOF || ss_csv_num(f, r->objective) || fputc(',', f) == EOF ||
               ss_csv_num(f, r->objective0) || fputs(",,,,\n", f) == EOF;
    for (i = 0; !bad && i < r->nconstraints; i++) {
        bad |= fputs("constraint,", f) == EOF || ss_csv_field(f, r->cons_text[i]) != 0 ||
               fputc(',', f) == EOF || ss_csv_num(f, r->cons_value[i]) || fputs(",,,,", f) == EOF ||
               ss_csv_num(f, r->cons_violation[i]) ||
               fprintf(f, ",%d\n", r->cons_holds[i] ? 1 : 0) < 0;
    }
    if (bad || ferror(f))
        return ss_err_set(err, SS_EIO, "", "writing the optimisation CSV failed: %s",
                          errno ? strerror(errno) : "write error");
    return SS_OK;
}

int ss_analysis_write_pair(const char *path, ss_an_writer write, const void *payload,
                           const ss_sidecar_info *info, const ss_model *const *models,
                           size_t nmodels, ss_err *err)
{
    ss_outfile *csv = NULL, *side = NULL;
    char *sidepath = malloc(strlen(path) + 6);
    int rc;
    if (!sidepath)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    sprintf(sidepath, "%s.json", path);
    if ((rc = ss_outfile_open(&csv, path, err)) ||
        (rc = write(ss_outfile_stream(csv), payload, err)) ||
        (rc = ss_outfile_open(&side, sidepath, err)) ||
        (rc = ss_sidecar_write(ss_outfile_stream(side), info, models, nmodels, err))) {
        ss_outfile_abort(csv);
        ss_outfile_abort(side);
        free(sidepath);
        return rc;
    }
    if ((rc = ss_outfile_commit(csv, err)) != SS_OK) {
        ss_outfile_abort(side);
        free(sidepath);
        return rc;
    }
    if ((rc = ss_outfile_commit(side, err)) != SS_OK)
        remove(path); /* never leave a CSV without its sidecar */
    free(sidepath);
    return rc;
}

void ss_analysis_checks(const ss_analysis *a, ss_check *c)
{
    size_t i;
    for (i = 0; i < a->nchecks; i++) {
        c[i].name = a->checks[i].name;
        c[i].paths = (const char *const *)a->checks[i].paths;
        c[i].values = a->checks[i].values;
        c[i].nchanges = a->checks[i].nchanges;
        c[i].expect = a->checks[i].expect;
    }
}
