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
/* Bytes of a run's failure message kept for the report. */
#define FAILURE_LEN 512

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
    char last_failure[FAILURE_LEN];
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
    char last_failure[FAILURE_LEN];
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

/* The state of one ss_optimize_run over its starts. */
typedef struct optrun {
    optctx oc;
    ss_opt_opts o;
    ss_opt_result *res;
    gsl_qrng *q;
    gsl_rng *rng;
    double *xs;                /* [nc] the current start's point, then its end point */
    double *shift, *u, *best;  /* [nc] the Sobol shift, a Sobol point, the best end point */
    size_t nc;
    const ss_transport *dist;  /* NULL on one process */
    uint64_t rank;
    char last_failure[FAILURE_LEN]; /* over the starts in start order */
} optrun;

/* Check what needs no allocation: the number of controls and of starts, and
 * that no control is an input defined by a link. */
static int check_problem(const ss_opt_problem *prob, const ss_run_opts *ropts,
                         const ss_opt_opts *o, ss_err *err)
{
    size_t nc = prob->ncontrols, i;
    int rc;

    if (nc < 1 || nc > SS_OPT_MAX_CONTROLS)
        return ss_err_set(err, SS_EINVAL, "", "optimize: %zu controls; between 1 and %d are supported",
                          nc, SS_OPT_MAX_CONTROLS);
    if (o->starts < 1)
        return ss_err_set(err, SS_EINVAL, "", "optimize: need at least one start");
    for (i = 0; i < nc; i++)        /* an input defined by a link cannot be a control */
        if ((rc = ss_run_opts_check_path(ropts, prob->controls[i].path, err)))
            return rc;
    return SS_OK;
}

/* Allocate the run's context, scratch and result, check the problem
 * (setup) and, when seeded, draw the shift of the Sobol starts. */
static int run_open(optrun *run, const ss_model *m, const ss_opt_problem *prob,
                    const ss_run_opts *ropts, ss_err *err)
{
    optctx *oc = &run->oc;
    size_t nc = prob->ncontrols, i;
    int rc;

    run->nc = nc;
    oc->m = m;
    oc->prob = prob;
    oc->ropts = ropts;
    oc->nc = nc;
    oc->ncons = prob->nconstraints;
    oc->sign = prob->minimize ? 1.0 : -1.0;
    oc->cons = calloc(oc->ncons ? oc->ncons : 1, sizeof *oc->cons);
    oc->cv = calloc(oc->ncons ? oc->ncons : 1, sizeof *oc->cv);
    oc->x = calloc(nc, sizeof *oc->x);
    run->res = result_new(nc, oc->ncons, run->o.starts);
    run->xs = calloc(nc, sizeof *run->xs);
    run->best = calloc(nc, sizeof *run->best);
    run->u = calloc(nc, sizeof *run->u);
    run->shift = calloc(nc, sizeof *run->shift);
    run->q = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)nc);
    if (!oc->cons || !oc->cv || !oc->x || !run->res || !run->xs || !run->best || !run->u ||
        !run->shift || !run->q)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if ((rc = setup(oc, run->res, m, prob, &run->o, err)))
        return rc;
    if (run->o.seed) {
        if (!(run->rng = gsl_rng_alloc(gsl_rng_mt19937)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        gsl_rng_set(run->rng, run->o.seed);
        for (i = 0; i < nc; i++)
            run->shift[i] = gsl_rng_uniform(run->rng);
    }
    return SS_OK;
}

/* Free what run_open allocated, except the result. */
static void run_close(optrun *run)
{
    gsl_qrng_free(run->q);
    gsl_rng_free(run->rng);
    free(run->oc.cons);
    free(run->oc.cv);
    free(run->oc.x);
    free(run->xs);
    free(run->best);
    free(run->u);
    free(run->shift);
}

/* The objective at the current values: the result's objective0 and the
 * penalty scale. */
static int baseline(optrun *run, ss_err *err)
{
    double obj;
    int failed, rc;

    if ((rc = evaluate(&run->oc, run->res->x0, &obj, &failed))) {
        copy_err(err, &run->oc.err, rc);
        return rc;
    }
    run->res->objective0 = failed ? NAN : obj;
    run->oc.scale = failed ? 1.0 : fmax(fabs(obj), 1.0);
    memcpy(run->last_failure, run->oc.last_failure, sizeof run->last_failure);
    return SS_OK;
}

/* The point start s begins from, into run->xs: the current values for start
 * 0, else the next point of the (shifted) Sobol sequence over the box.  Every
 * process draws the same sequence. */
static void start_point(optrun *run, size_t s)
{
    const ss_opt_result *res = run->res;
    size_t i;

    if (s == 0) {
        memcpy(run->xs, res->x0, run->nc * sizeof *run->xs);
        return;
    }
    gsl_qrng_get(run->q, run->u);
    for (i = 0; i < run->nc; i++) {
        double v = run->u[i] + run->shift[i];
        v -= floor(v);
        run->xs[i] = res->lower[i] + v * (res->upper[i] - res->lower[i]);
    }
}

/* A process other than rank 0: send start s's summary, end point and counts
 * (the evaluations since ne and the failures since nf) to rank 0. */
static int send_start(optrun *run, size_t s, size_t ne, size_t nf, ss_err *err)
{
    size_t len = sizeof(start_msg) + run->nc * sizeof *run->xs;
    start_msg *sm = calloc(1, len);
    int rc;

    if (!sm)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    sm->st = run->res->start[s];
    sm->nevals = run->oc.nevals - ne;
    sm->nfailed = run->oc.nfailed - nf;
    memcpy(sm->last_failure, run->oc.last_failure, sizeof sm->last_failure);
    memcpy(sm + 1, run->xs, run->nc * sizeof *run->xs);
    rc = run->dist->send(s, SS_OK, NULL, sm, len, run->dist->payload, err);
    free(sm);
    return rc;
}

/* Run start s on this process from run->xs (its end point is left there);
 * a process other than rank 0 sends the start, or its failure, to rank 0. */
static int run_start_here(optrun *run, size_t s, ss_err *err)
{
    size_t ne = run->oc.nevals, nf = run->oc.nfailed;
    int rc;

    run->oc.last_failure[0] = '\0';
    if ((rc = one_start(&run->oc, &run->o, run->xs, &run->res->start[s]))) {
        copy_err(err, &run->oc.err, rc);
        if (run->rank > 0) {
            ss_err e = *err;
            run->dist->send(s, rc, &e, NULL, 0, run->dist->payload, err);
            *err = e;
        }
        return rc;
    }
    if (run->rank > 0)
        return send_start(run, s, ne, nf, err);
    if (run->oc.last_failure[0])
        memcpy(run->last_failure, run->oc.last_failure, sizeof run->last_failure);
    return SS_OK;
}

/* Rank 0: take start s, run by another process, from the transport: its
 * summary, counts and last failure, and its end point into run->xs. */
static int recv_start(optrun *run, size_t s, ss_err *err)
{
    void *data = NULL;
    size_t len = 0;
    start_msg *sm;
    int rc;

    if ((rc = run->dist->recv(s, &data, &len, run->dist->payload, err)))
        return rc;
    if (len != sizeof *sm + run->nc * sizeof *run->xs) {
        free(data);
        return ss_err_set(err, SS_EINVAL, "", "optimize: start %zu received from rank %zu is "
                          "damaged", s, (size_t)(s % run->dist->nranks));
    }
    sm = data;
    run->res->start[s] = sm->st;
    run->oc.nevals += (size_t)sm->nevals;
    run->oc.nfailed += (size_t)sm->nfailed;
    if (sm->last_failure[0])
        memcpy(run->last_failure, sm->last_failure, sizeof run->last_failure);
    memcpy(run->xs, sm + 1, run->nc * sizeof *run->xs);
    free(data);
    return SS_OK;
}

/* Start s: its point, its run here or (rank 0) its result from the process
 * that ran it, and on rank 0 whether it is the best start so far. */
static int take_start(optrun *run, size_t s, ss_err *err)
{
    ss_opt_result *res = run->res;
    int rc;

    ss_progress_report(&run->o.progress, s, run->o.starts);
    start_point(run, s);
    if (!run->dist || s % run->dist->nranks == run->rank) {
        if ((rc = run_start_here(run, s, err)) || run->rank > 0)
            return rc;
    } else if (run->rank > 0) {
        return SS_OK;
    } else if ((rc = recv_start(run, s, err))) {
        return rc;
    }
    if (s == 0 || better(&res->start[s], &res->start[res->best_start], run->oc.prob->minimize)) {
        res->best_start = s;
        memcpy(run->best, run->xs, run->nc * sizeof *run->best);
    }
    return SS_OK;
}

/* Rank 0's result: the best start's end point evaluated without any penalty
 * (the honest report), each constraint there, and the counts. */
static int report_best(optrun *run, ss_err *err)
{
    optctx *oc = &run->oc;
    ss_opt_result *res = run->res;
    size_t i;
    int rc, failed;

    memcpy(oc->last_failure, run->last_failure, sizeof run->last_failure);
    if (isnan(res->start[res->best_start].objective))
        return ss_err_set(err, SS_ENUMERIC, "", "optimize: every start ended on a failing run; "
                          "last failure: %s", oc->last_failure);
    memcpy(res->x, run->best, run->nc * sizeof *run->best);
    if ((rc = evaluate(oc, res->x, &res->objective, &failed))) {
        copy_err(err, &oc->err, rc);
        return rc;
    }
    if (failed)
        return ss_err_set(err, SS_ENUMERIC, "", "optimize: the run at the solution failed: %s",
                          oc->last_failure);
    res->feasible = 1;
    for (i = 0; i < oc->ncons; i++) {
        res->cons_value[i] = oc->cv[i].value;
        res->cons_violation[i] = oc->cv[i].violation;
        res->cons_holds[i] = (unsigned char)ss_constraint_holds(&oc->cv[i], run->o.feas_tol);
        if (!res->cons_holds[i])
            res->feasible = 0;
    }
    res->converged = res->start[res->best_start].converged;
    res->nevals = oc->nevals;
    res->nfailed = oc->nfailed;
    snprintf(res->last_failure, sizeof res->last_failure, "%s", oc->last_failure);
    return SS_OK;
}

int ss_optimize_run(ss_opt_result **out, const ss_model *m, const ss_opt_problem *prob,
                    const ss_run_opts *ropts, const ss_opt_opts *opts, ss_err *err)
{
    ss_opt_opts defaults = SS_OPT_OPTS_INIT;
    optrun run;
    size_t s;
    int rc;

    assert(out && m && prob);
    assert(prob->controls || prob->ncontrols == 0);
    assert(prob->constraints || prob->nconstraints == 0);
    *out = NULL;
    memset(&run, 0, sizeof run);
    run.o = opts ? *opts : defaults;
    run.dist = opts && opts->dist && opts->dist->nranks > 1 ? opts->dist : NULL;
    run.rank = run.dist ? run.dist->rank : 0;
    if ((rc = check_problem(prob, ropts, &run.o, err)))
        return rc;
    rc = run_open(&run, m, prob, ropts, err);
    if (rc == SS_OK)
        rc = baseline(&run, err);
    for (s = 0; rc == SS_OK && s < run.o.starts; s++)
        rc = take_start(&run, s, err);
    if (rc == SS_OK) {
        ss_progress_report(&run.o.progress, run.o.starts, run.o.starts);
        if (run.rank == 0)  /* the other ranks sent their starts here: rank 0 reports the winner */
            rc = report_best(&run, err);
    }
    run_close(&run);
    if (rc || run.rank > 0) {
        ss_optimize_free(run.res);
        return rc;
    }
    *out = run.res;
    return SS_OK;
}
