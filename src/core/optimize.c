/*
 * optimize.c - optimisation of controls within bounds: Nelder-Mead
 * (gsl_multimin_fminimizer_nmsimplex2) on sine-transformed variables,
 * constraints by a quadratic penalty with growing weight, multi-start from a
 * Sobol sequence over the box, and an honest final report of every
 * constraint at the chosen point.  Every evaluation runs a fresh copy of the
 * model.  Depends on GSL, sim.h, param.h and select.h.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>
#include "stratsim/optimize.h"
#include "stratsim/param.h"

/* What a failed run costs in the penalised objective (finite: GSL rejects inf). */
#define FAIL_VALUE 1e300
#define HALF_PI 1.57079632679489661923

/* x in [lo, hi] from unbounded z; every z maps into the box. */
static double to_x(double z, double lo, double hi)
{
    double x = lo + (hi - lo) * (1.0 + sin(z)) / 2.0;
    return x < lo ? lo : x > hi ? hi : x;
}

/* The z in [-pi/2, pi/2] of x. */
static double to_z(double x, double lo, double hi)
{
    double u;
    if (!(hi > lo))
        return 0.0;
    u = 2.0 * (x - lo) / (hi - lo) - 1.0;
    return asin(u < -1.0 ? -1.0 : u > 1.0 ? 1.0 : u);
}

typedef struct optctx {
    const ss_model *m;
    const ss_opt_problem *prob;
    const ss_run_opts *ropts;
    size_t nc, ncons;
    ss_selector obj_sel;
    ss_constraint *cons;
    ss_constraint_value *cv;   /* [ncons] scratch */
    double *x;                 /* [nc] scratch */
    double sign;               /* +1 minimise, -1 maximise */
    double mu, scale;
    size_t nevals, nfailed;
    char last_failure[512];
    int rc;                    /* fatal status from inside the simplex */
    ss_err err;
} optctx;

/*
 * Run the model at x; on success *obj is the objective (user's sense) and
 * oc->cv the constraint values.  A run that fails for a reason tied to the
 * input sets *failed and returns SS_OK; interrupts, memory and callback
 * errors are returned.
 */
static int evaluate(optctx *oc, const double *x, double *obj, int *failed)
{
    ss_model *c = ss_model_copy(oc->m);
    ss_result *r = NULL;
    ss_err e = { 0 };
    size_t i;
    int rc = SS_OK;

    *failed = 0;
    if (!c)
        return ss_err_set(&oc->err, SS_ENOMEM, "", "out of memory");
    for (i = 0; i < oc->nc && rc == SS_OK; i++)
        rc = ss_model_set_path(c, oc->prob->controls[i].path, x[i], &e);
    if (rc == SS_OK)
        rc = ss_sim_run(&r, c, oc->ropts, &e);
    ss_model_free(c);
    oc->nevals++;
    if (rc == SS_EINVAL || rc == SS_ENUMERIC || rc == SS_ELIMIT) {
        *failed = 1;
        oc->nfailed++;
        snprintf(oc->last_failure, sizeof oc->last_failure, "%s", e.msg);
        return SS_OK;
    }
    if (rc) {
        oc->err = e;
        return rc;
    }
    if (oc->prob->fn) {
        rc = oc->prob->fn(obj, r, x, oc->prob->payload, &oc->err);
        if (rc == SS_OK && !isfinite(*obj))
            rc = ss_err_set(&oc->err, SS_ENUMERIC, "", "optimize: the objective function returned "
                            "a non-finite value (%g)", *obj);
    } else {
        rc = ss_selector_eval(obj, &oc->obj_sel, r, &oc->err);
    }
    for (i = 0; rc == SS_OK && i < oc->ncons; i++)
        rc = ss_constraint_eval(&oc->cv[i], &oc->cons[i], r, &oc->err);
    ss_result_free(r);
    return rc;
}

/* Sum of violations and of squared violations in oc->cv. */
static double total_violation(const optctx *oc, double *sq)
{
    double v = 0.0, s = 0.0;
    size_t i;
    for (i = 0; i < oc->ncons; i++) {
        v += oc->cv[i].violation;
        s += oc->cv[i].sq;
    }
    if (sq)
        *sq = s;
    return v;
}

/* The penalised function Nelder-Mead minimises. */
static double penalised(const gsl_vector *z, void *payload)
{
    optctx *oc = payload;
    double obj = 0.0, sq = 0.0;
    size_t i;
    int failed, rc;

    if (oc->rc)
        return NAN;
    for (i = 0; i < oc->nc; i++)
        oc->x[i] = to_x(gsl_vector_get(z, i), oc->prob->controls[i].lower, oc->prob->controls[i].upper);
    rc = evaluate(oc, oc->x, &obj, &failed);
    if (rc) {
        oc->rc = rc;
        return NAN;   /* makes GSL stop with GSL_EBADFUNC */
    }
    if (failed)
        return FAIL_VALUE;
    total_violation(oc, &sq);
    return oc->sign * obj + oc->mu * oc->scale * sq;
}

size_t ss_opt_label_width(const ss_opt_result *r, size_t min)
{
    size_t i, w = min;
    for (i = 0; i < r->ncontrols; i++)
        if (strlen(r->paths[i]) > w)
            w = strlen(r->paths[i]);
    for (i = 0; i < r->nconstraints; i++)
        if (strlen(r->cons_text[i]) > w)
            w = strlen(r->cons_text[i]);
    return w;
}

void ss_optimize_free(ss_opt_result *r)
{
    size_t i;
    if (!r)
        return;
    if (r->paths)
        for (i = 0; i < r->ncontrols; i++)
            free(r->paths[i]);
    if (r->cons_text)
        for (i = 0; i < r->nconstraints; i++)
            free(r->cons_text[i]);
    free(r->paths);
    free(r->cons_text);
    free(r->lower);
    free(r->upper);
    free(r->x);
    free(r->x0);
    free(r->cons_value);
    free(r->cons_violation);
    free(r->cons_holds);
    free(r->start);
    free(r);
}

static ss_opt_result *result_new(size_t nc, size_t ncons, size_t nstarts)
{
    ss_opt_result *r = calloc(1, sizeof *r);
    size_t k1 = ncons ? ncons : 1;
    if (!r)
        return NULL;
    r->ncontrols = nc;
    r->nconstraints = ncons;
    r->nstarts = nstarts;
    r->paths = calloc(nc, sizeof *r->paths);
    r->lower = calloc(nc, sizeof *r->lower);
    r->upper = calloc(nc, sizeof *r->upper);
    r->x = calloc(nc, sizeof *r->x);
    r->x0 = calloc(nc, sizeof *r->x0);
    r->cons_text = calloc(k1, sizeof *r->cons_text);
    r->cons_value = calloc(k1, sizeof *r->cons_value);
    r->cons_violation = calloc(k1, sizeof *r->cons_violation);
    r->cons_holds = calloc(k1, 1);
    r->start = calloc(nstarts, sizeof *r->start);
    if (!r->paths || !r->lower || !r->upper || !r->x || !r->x0 || !r->cons_text ||
        !r->cons_value || !r->cons_violation || !r->cons_holds || !r->start) {
        ss_optimize_free(r);
        return NULL;
    }
    return r;
}

/* Validate the problem, parse selectors, read the current control values. */
static int setup(optctx *oc, ss_opt_result *res, const ss_model *m, const ss_opt_problem *prob,
                 const ss_opt_opts *o, ss_err *err)
{
    ss_model *cp;
    size_t i;
    int rc = SS_OK;

    if ((prob->fn != NULL) == (prob->objective != NULL))
        return ss_err_set(err, SS_EINVAL, "", "optimize: give exactly one of an objective selector "
                          "and an objective function");
    if (prob->objective) {
        if ((rc = ss_selector_parse(&oc->obj_sel, prob->objective, err)) ||
            (rc = ss_selector_validate(&oc->obj_sel, m, err)))
            return rc;
        if (oc->obj_sel.when == SS_SEL_EACH)
            return ss_err_set(err, SS_EINVAL, "", "optimize: objective '%s' gives a series; it "
                              "needs one value (use @TIME or no @)", oc->obj_sel.text);
    }
    for (i = 0; i < oc->ncons; i++) {
        if ((rc = ss_constraint_parse(&oc->cons[i], prob->constraints[i], err)) ||
            (rc = ss_constraint_validate(&oc->cons[i], m, err)))
            return rc;
        if (!(res->cons_text[i] = strdup(oc->cons[i].text)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    if (!(o->tol > 0.0) || !(o->step > 0.0) || !(o->penalty > 0.0) || !(o->penalty_growth >= 1.0) ||
        o->max_iter == 0 || o->penalty_rounds == 0 || !(o->feas_tol >= 0.0))
        return ss_err_set(err, SS_EINVAL, "", "optimize: options out of range (tol, step, penalty > 0, "
                          "penalty_growth >= 1, max_iter, penalty_rounds >= 1, feas_tol >= 0)");
    if (!(cp = ss_model_copy(m)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    rc = ss_model_resolve(cp, err);
    for (i = 0; rc == SS_OK && i < oc->nc; i++) {
        const ss_opt_control *c = &prob->controls[i];
        ss_param h;
        if ((rc = ss_param_lookup(&h, cp, c->path, err)))
            break;
        if (!isfinite(c->lower) || !isfinite(c->upper) || c->lower > c->upper) {
            rc = ss_err_set(err, SS_EINVAL, c->path, "optimize: %s: bounds [%g, %g] must be finite "
                            "with lower <= upper", c->path, c->lower, c->upper);
            break;
        }
        res->lower[i] = c->lower;
        res->upper[i] = c->upper;
        res->x0[i] = fmin(fmax(ss_param_get(&h, cp), c->lower), c->upper);
        if (!(res->paths[i] = strdup(c->path)))
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    ss_model_free(cp);
    return rc;
}

/*
 * Optimise from x (updated in place): penalty rounds of Nelder-Mead, each
 * restarting the simplex at the previous solution with a smaller step.
 */
static int one_start(optctx *oc, const ss_opt_opts *o, double *x, ss_opt_start *st)
{
    const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
    gsl_multimin_fminimizer *s = gsl_multimin_fminimizer_alloc(T, oc->nc);
    gsl_vector *z = gsl_vector_alloc(oc->nc), *step = gsl_vector_alloc(oc->nc);
    gsl_multimin_function fn;
    size_t r, i, it;
    int rc = SS_OK, failed, gst;
    double obj = NAN;

    memset(st, 0, sizeof *st);
    if (!s || !z || !step) {
        rc = ss_err_set(&oc->err, SS_ENOMEM, "", "out of memory");
        goto done;
    }
    fn.f = penalised;
    fn.n = oc->nc;
    fn.params = oc;
    for (i = 0; i < oc->nc; i++)
        gsl_vector_set(z, i, to_z(x[i], oc->prob->controls[i].lower, oc->prob->controls[i].upper));
    for (r = 0; r < o->penalty_rounds; r++) {
        double h = fmax(o->step * pow(0.3, (double)r), 100.0 * o->tol);
        oc->mu = o->penalty * pow(o->penalty_growth, (double)r);
        gsl_vector_set_all(step, h);
        gst = gsl_multimin_fminimizer_set(s, &fn, z, step);
        st->converged = 0;
        for (it = 0; gst == GSL_SUCCESS && it < o->max_iter; it++) {
            gst = gsl_multimin_fminimizer_iterate(s);
            st->iterations++;
            if (gst == GSL_SUCCESS &&
                gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), o->tol) == GSL_SUCCESS) {
                st->converged = 1;
                break;
            }
        }
        if (oc->rc) {
            rc = oc->rc;
            goto done;
        }
        if (gst != GSL_SUCCESS && gst != GSL_ENOPROG) {
            rc = ss_err_set(&oc->err, SS_ENUMERIC, "", "optimize: %s", gsl_strerror(gst));
            goto done;
        }
        gsl_vector_memcpy(z, gsl_multimin_fminimizer_x(s));
        for (i = 0; i < oc->nc; i++)
            x[i] = to_x(gsl_vector_get(z, i), oc->prob->controls[i].lower, oc->prob->controls[i].upper);
        if ((rc = evaluate(oc, x, &obj, &failed)))
            goto done;
        st->objective = failed ? NAN : obj;
        st->violation = failed ? INFINITY : total_violation(oc, NULL);
        st->feasible = !failed;
        for (i = 0; !failed && i < oc->ncons; i++)
            if (!ss_constraint_holds(&oc->cv[i], o->feas_tol))
                st->feasible = 0;
        /* at least one restart; then stop once feasible */
        if (r >= 1 && st->feasible)
            break;
    }
done:
    gsl_multimin_fminimizer_free(s);
    gsl_vector_free(z);
    gsl_vector_free(step);
    return rc;
}

/* Pass an error recorded in the context up to the caller's record. */
static void copy_err(ss_err *err, const ss_err *from, int rc)
{
    if (err) {
        *err = *from;
        if (!err->code)
            ss_err_set(err, rc, "", "optimize: %s", ss_strerror(rc));
    }
}

/* What a process other than rank 0 sends for one start (then the end point). */
typedef struct start_msg {
    ss_opt_start st;
    uint64_t nevals, nfailed;
    char last_failure[512];
} start_msg;

/* 1 if start a is better than start b. */
static int better(const ss_opt_start *a, const ss_opt_start *b, int minimize)
{
    if (isnan(a->objective))
        return 0;
    if (isnan(b->objective))
        return 1;
    if (a->feasible != b->feasible)
        return a->feasible;
    if (!a->feasible)
        return a->violation < b->violation;
    return minimize ? a->objective < b->objective : a->objective > b->objective;
}

int ss_optimize_run(ss_opt_result **out, const ss_model *m, const ss_opt_problem *prob,
                    const ss_run_opts *ropts, const ss_opt_opts *opts, ss_err *err)
{
    ss_opt_opts o = SS_OPT_OPTS_INIT;
    ss_opt_result *res = NULL;
    optctx oc;
    gsl_qrng *q = NULL;
    gsl_rng *rng = NULL;
    double *xs = NULL, *shift = NULL, *u = NULL, *best = NULL, obj;
    size_t nc = prob->ncontrols, s, i;
    int rc = SS_OK, failed;
    const ss_transport *dist = opts && opts->dist && opts->dist->nranks > 1 ? opts->dist : NULL;
    uint64_t rank = dist ? dist->rank : 0;
    char last_failure[sizeof oc.last_failure]; /* over the starts in start order */

    assert(out && m && prob);
    assert(prob->controls || prob->ncontrols == 0);
    assert(prob->constraints || prob->nconstraints == 0);
    *out = NULL;
    if (opts)
        o = *opts;
    memset(&oc, 0, sizeof oc);
    if (nc < 1 || nc > SS_OPT_MAX_CONTROLS)
        return ss_err_set(err, SS_EINVAL, "", "optimize: %zu controls; between 1 and %d are supported",
                          nc, SS_OPT_MAX_CONTROLS);
    if (o.starts < 1)
        return ss_err_set(err, SS_EINVAL, "", "optimize: need at least one start");
    for (i = 0; i < nc; i++)        /* an input defined by a link cannot be a control */
        if ((rc = ss_run_opts_check_path(ropts, prob->controls[i].path, err)))
            return rc;
    oc.m = m;
    oc.prob = prob;
    oc.ropts = ropts;
    oc.nc = nc;
    oc.ncons = prob->nconstraints;
    oc.sign = prob->minimize ? 1.0 : -1.0;
    oc.cons = calloc(oc.ncons ? oc.ncons : 1, sizeof *oc.cons);
    oc.cv = calloc(oc.ncons ? oc.ncons : 1, sizeof *oc.cv);
    oc.x = calloc(nc, sizeof *oc.x);
    res = result_new(nc, oc.ncons, o.starts);
    xs = calloc(nc, sizeof *xs);
    best = calloc(nc, sizeof *best);
    u = calloc(nc, sizeof *u);
    shift = calloc(nc, sizeof *shift);
    q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)nc);
    if (!oc.cons || !oc.cv || !oc.x || !res || !xs || !best || !u || !shift || !q) {
        rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
        goto done;
    }
    if ((rc = setup(&oc, res, m, prob, &o, err)))
        goto done;
    if (o.seed) {
        if (!(rng = gsl_rng_alloc(gsl_rng_mt19937))) {
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
            goto done;
        }
        gsl_rng_set(rng, o.seed);
        for (i = 0; i < nc; i++)
            shift[i] = gsl_rng_uniform(rng);
    }
    /* the objective at the current values sets the penalty scale */
    if ((rc = evaluate(&oc, res->x0, &obj, &failed))) {
        copy_err(err, &oc.err, rc);
        goto done;
    }
    res->objective0 = failed ? NAN : obj;
    oc.scale = failed ? 1.0 : fmax(fabs(obj), 1.0);
    memcpy(last_failure, oc.last_failure, sizeof last_failure);

    for (s = 0; s < o.starts; s++) {
        ss_progress_report(&o.progress, s, o.starts);
        if (s == 0) {
            memcpy(xs, res->x0, nc * sizeof *xs);
        } else {
            gsl_qrng_get(q, u);
            for (i = 0; i < nc; i++) {
                double v = u[i] + shift[i];
                v -= floor(v);
                xs[i] = res->lower[i] + v * (res->upper[i] - res->lower[i]);
            }
        }
        if (!dist || s % dist->nranks == rank) {
            size_t ne = oc.nevals, nf = oc.nfailed;
            oc.last_failure[0] = '\0';
            if ((rc = one_start(&oc, &o, xs, &res->start[s]))) {
                copy_err(err, &oc.err, rc);
                if (rank > 0) {
                    ss_err e = *err;
                    dist->send(s, rc, &e, NULL, 0, dist->payload, err);
                    *err = e;
                }
                goto done;
            }
            if (rank > 0) {
                /* the start's summary, end point and counts to rank 0 */
                start_msg *sm = calloc(1, sizeof *sm + nc * sizeof *xs);
                if (!sm) {
                    rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
                    goto done;
                }
                sm->st = res->start[s];
                sm->nevals = oc.nevals - ne;
                sm->nfailed = oc.nfailed - nf;
                memcpy(sm->last_failure, oc.last_failure, sizeof sm->last_failure);
                memcpy(sm + 1, xs, nc * sizeof *xs);
                rc = dist->send(s, SS_OK, NULL, sm, sizeof *sm + nc * sizeof *xs, dist->payload, err);
                free(sm);
                if (rc)
                    goto done;
                continue;
            }
            if (oc.last_failure[0])
                memcpy(last_failure, oc.last_failure, sizeof last_failure);
        } else if (rank > 0) {
            continue;
        } else {
            void *data = NULL;
            size_t len = 0;
            start_msg *sm;
            if ((rc = dist->recv(s, &data, &len, dist->payload, err)))
                goto done;
            if (len != sizeof *sm + nc * sizeof *xs) {
                free(data);
                rc = ss_err_set(err, SS_EINVAL, "", "optimize: start %zu received from rank %zu is "
                                "damaged", s, (size_t)(s % dist->nranks));
                goto done;
            }
            sm = data;
            res->start[s] = sm->st;
            oc.nevals += (size_t)sm->nevals;
            oc.nfailed += (size_t)sm->nfailed;
            if (sm->last_failure[0])
                memcpy(last_failure, sm->last_failure, sizeof last_failure);
            memcpy(xs, sm + 1, nc * sizeof *xs);
            free(data);
        }
        if (s == 0 || better(&res->start[s], &res->start[res->best_start], prob->minimize)) {
            res->best_start = s;
            memcpy(best, xs, nc * sizeof *best);
        }
    }
    ss_progress_report(&o.progress, o.starts, o.starts);
    if (rank > 0) /* the starts went to rank 0, which reports the winner */
        goto done;
    memcpy(oc.last_failure, last_failure, sizeof last_failure);
    if (isnan(res->start[res->best_start].objective)) {
        rc = ss_err_set(err, SS_ENUMERIC, "", "optimize: every start ended on a failing run; "
                        "last failure: %s", oc.last_failure);
        goto done;
    }
    /* the honest report: evaluate the winner without any penalty */
    memcpy(res->x, best, nc * sizeof *best);
    if ((rc = evaluate(&oc, res->x, &res->objective, &failed))) {
        copy_err(err, &oc.err, rc);
        goto done;
    }
    if (failed) {
        rc = ss_err_set(err, SS_ENUMERIC, "", "optimize: the run at the solution failed: %s",
                        oc.last_failure);
        goto done;
    }
    res->feasible = 1;
    for (i = 0; i < oc.ncons; i++) {
        res->cons_value[i] = oc.cv[i].value;
        res->cons_violation[i] = oc.cv[i].violation;
        res->cons_holds[i] = (unsigned char)ss_constraint_holds(&oc.cv[i], o.feas_tol);
        if (!res->cons_holds[i])
            res->feasible = 0;
    }
    res->converged = res->start[res->best_start].converged;
    res->nevals = oc.nevals;
    res->nfailed = oc.nfailed;
    snprintf(res->last_failure, sizeof res->last_failure, "%s", oc.last_failure);
done:
    gsl_qrng_free(q);
    gsl_rng_free(rng);
    free(oc.cons);
    free(oc.cv);
    free(oc.x);
    free(xs);
    free(best);
    free(u);
    free(shift);
    if (rc || rank > 0) {
        ss_optimize_free(res);
        return rc;
    }
    *out = res;
    return SS_OK;
}
