/*
 * methods_explore.c - the Scenario methods that run a scenario over drawn,
 * varied or gridded parameters: sc:montecarlo{runs =, seed =, threads =,
 * quantiles =, ...}, sc:sensitivity{method = "tornado"|"sobol", ...},
 * sc:check() (the scenario's behaviour checks) and sc:sweep{grid =,
 * outputs =, threads =}. Each reads its options, runs the core's job and
 * returns a result object (results.c), or for check a plain table.
 *
 * Ownership: core jobs live in job boxes and results in result boxes made
 * before they run (methods.c, results.c); a sweep's grid and job belong to
 * its result. A Monte Carlo of a scenario with Lua hooks runs on one worker
 * (this state) and reseeds math.random per run as `stratsim mc` does.
 * Depends on la_internal.h and the core's analyses (stratsim/analysis.h).
 */
#include <math.h>
#include <stdlib.h>
#include "lua/analysis/la_internal.h"

/* Releasers of the job boxes (la_new_job). */
static void release_sens(jobbox *b)
{
    ss_sens_job_free(&b->u.sens);
}

static void release_mc(jobbox *b)
{
    ss_mc_job_free(&b->u.mc);
}

static void release_sweep(jobbox *b)
{
    la_sweep_res_free(b->u.sw);
}

/* Monte Carlo prepare hook of a scenario with Lua hooks, run from Lua on one
 * worker (payload: this lua_State): reseed math.random per run exactly as
 * `stratsim mc` does. */
static int lua_mc_prepare(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                          ss_run_opts *ro, void *payload, ss_err *err)
{
    (void)worker;
    (void)run;
    (void)model;
    (void)ro;
    (void)err;
    sl_random_seed(payload, ss_analysis_run_seed(rng));
    return SS_OK;
}

/* montecarlo{quantiles = {...}}: the levels (kept alive on the stack). */
static void mc_quantiles(lua_State *L, int t, ss_mc_opts *o)
{
    lua_Integer i, n = 0;
    double *q;
    if (la_opt_push(L, t, "quantiles") == LUA_TNIL)
        return;
    if (lua_type(L, -1) != LUA_TTABLE || (n = (lua_Integer)lua_rawlen(L, -1)) < 1 || n > 100)
        luaL_argerror(L, 2, "quantiles: expected a list of 1 to 100 levels in [0, 1]");
    q = lua_newuserdatauv(L, (size_t)n * sizeof *q, 0);
    for (i = 1; i <= n; i++) {
        if (lua_rawgeti(L, -2, i) != LUA_TNUMBER)
            luaL_argerror(L, 2, "quantiles: expected numbers in [0, 1]");
        q[i - 1] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    o->quantiles = q;
    o->nquantiles = (size_t)n;
}

/* montecarlo{outputs = {...}}: the selectors kept, parsed and checked
 * against m (kept alive on the stack). */
static void mc_outputs(lua_State *L, int t, const ss_model *m, ss_mc_opts *o)
{
    size_t nout = 0, i;
    const char **outs = la_opt_strings(L, t, "outputs", &nout);
    ss_selector *sel;
    if (outs && nout == 0)
        luaL_argerror(L, 2, "outputs: expected a list of selectors, e.g. "
                      "{\"share:alibaba:public@each\", \"npv:alibaba\"}");
    if (!nout)
        return;
    sel = lua_newuserdatauv(L, nout * sizeof *sel, 0);
    for (i = 0; i < nout; i++) {
        ss_err e = {0};
        if (ss_selector_parse(&sel[i], outs[i], &e) != SS_OK ||
            ss_selector_validate(&sel[i], m, &e) != SS_OK)
            luaL_argerror(L, 2, lua_pushfstring(L, "outputs: %s", e.msg));
    }
    o->outputs = sel;
    o->noutputs = nout;
}

/* montecarlo{max_memory = "2G" | MiB | 0}. */
static void mc_max_memory(lua_State *L, int t, ss_mc_opts *o)
{
    static const char msg[] = "max_memory: expected a size such as \"512M\" or \"2G\", a "
                              "number of MiB, or 0 (no limit)";
    uint64_t bytes;
    int type = la_opt_push(L, t, "max_memory");
    if (type == LUA_TNUMBER && lua_tonumber(L, -1) == 0)
        o->max_memory = 0; /* no limit */
    else if ((type == LUA_TNUMBER || type == LUA_TSTRING) &&
             ss_mc_parse_bytes(lua_tostring(L, -1), (uint64_t)1 << 20, &bytes) == 0)
        o->max_memory = bytes;
    else if (type != LUA_TNIL)
        luaL_argerror(L, 2, msg);
    lua_pop(L, 1);
}

/* sc:montecarlo{runs = 1000, seed = 1, threads = 1, quantiles = {...},
 * compression = 200, outputs = {...}, max_memory = "1G"} */
int la_scen_montecarlo(lua_State *L)
{
    static const char *const keys[] = {"runs", "seed", "threads", "quantiles", "compression",
                                       "outputs", "max_memory", NULL};
    ss_model *m = la_check_scen(L);
    int t = la_opts_table(L, keys), box;
    ss_mc_job *j = &la_new_job(L, release_mc)->u.mc;
    ss_mc_opts *o = &j->o;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_analysis *a;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;

    ss_mc_job_init(j);
    o->runs = (uint64_t)la_opt_int(L, t, "runs", (lua_Integer)o->runs, 1, (lua_Integer)1 << 40);
    o->seed = (uint64_t)la_opt_int(L, t, "seed", (lua_Integer)o->seed, 0, LUA_MAXINTEGER);
    o->threads = (unsigned)la_opt_int(L, t, "threads", (lua_Integer)o->threads, 0, 1024);
    o->compression = la_opt_num(L, t, "compression", 0, 0, 1e5);
    mc_quantiles(L, t, o);
    mc_outputs(L, t, m, o);
    mc_max_memory(L, t, o);
    a = la_scen_inputs(L, SS_AN_UNCERTAINTY);
    la_scen_run_opts(L, &ro);
    o->interrupt = ro.interrupt;
    if (ss_run_opts_active(&ro)) {
        /* Lua in every run: this state, so one worker (the calling thread
         * waits in C meanwhile) */
        o->threads = 1;
        j->prepare = lua_mc_prepare;
        j->payload = L;
    }
    b = la_new_rbox(L, R_MC);
    box = lua_gettop(L);
    j->progress = la_lprog_begin(L, &prog, "montecarlo", m, "runs");
    prog.total = o->runs; /* known before the first report */
    rc = ss_mc_job_run(j, m, a, &ro, &err);
    if (rc != SS_OK)
        la_analysis_fail(L, &prog, "montecarlo", rc, &err);
    la_lprog_end(&prog);
    la_set_settings(L, box, ss_mc_job_json(j));
    b->res = j->res[0];
    j->res[0] = NULL;
    la_mc_fields(L, box, b->res, o->threads);
    lua_settop(L, box);
    return 1;
}

/* Check selectors giving one value each. */
static void check_outputs(lua_State *L, const ss_model *m, const char *const *outs, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        ss_selector s;
        ss_err err = {0};
        if (ss_selector_parse(&s, outs[i], &err) != SS_OK || ss_selector_validate(&s, m, &err) != SS_OK)
            luaL_argerror(L, 2, lua_pushfstring(L, "outputs: %s", err.msg));
        if (s.when == SS_SEL_EACH)
            luaL_argerror(L, 2, lua_pushfstring(L, "outputs: '%s': a sensitivity output needs "
                                                "one value, not @each", outs[i]));
    }
}

/* sc:sensitivity{method = "tornado"|"sobol", outputs = {...}, vary = {...},
 * range = 0.1, samples = 256, bootstrap = 200, seed = 1, level = 0.95,
 * threads = 1} */
int la_scen_sensitivity(lua_State *L)
{
    static const char *const keys[] = {
        "method", "outputs", "vary", "range", "samples", "bootstrap", "seed", "level", "threads",
        NULL
    };
    static const char *const methods[] = {"tornado", "sobol", NULL};
    ss_model *m = la_check_scen(L);
    int t = la_opts_table(L, keys), box;
    const char **outs, **vary;
    size_t nout, nvary;
    ss_analysis *a;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_sens_job *j = &la_new_job(L, release_sens)->u.sens;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;
    ss_progress hook;

    *j = (ss_sens_job)SS_SENS_JOB_INIT;
    la_opt_push(L, t, "method");
    j->sobol = luaL_checkoption(L, -1, "tornado", methods) == 1;
    lua_pop(L, 1);
    j->range = la_opt_num(L, t, "range", j->range, 1e-12, 1e6);
    j->samples = (size_t)la_opt_int(L, t, "samples", (lua_Integer)j->samples, 2, (lua_Integer)1 << 24);
    j->so.nboot = (size_t)la_opt_int(L, t, "bootstrap", (lua_Integer)j->so.nboot, 0, 100000);
    j->so.seed = (unsigned long)la_opt_int(L, t, "seed", (lua_Integer)j->so.seed, 0, LUA_MAXINTEGER);
    j->so.level = la_opt_num(L, t, "level", j->so.level, 0.5, 0.999999);
    j->so.threads = (unsigned)la_opt_int(L, t, "threads", (lua_Integer)j->so.threads, 0, 1024);
    outs = la_opt_strings(L, t, "outputs", &nout);
    j->outputs = outs;
    j->nout = nout;
    if (!outs && m->nprov > 0 && ss_sens_job_default_outputs(j, m, &err) != SS_OK)
        la_nomem(L);
    if (j->nout == 0)
        luaL_argerror(L, 2, "outputs: at least one selector is needed");
    check_outputs(L, m, j->outputs, j->nout);
    vary = la_opt_strings(L, t, "vary", &nvary);
    j->vary = vary;
    j->nvary = nvary;
    a = la_scen_inputs(L, SS_AN_UNCERTAINTY);
    if ((rc = ss_sens_job_params(j, a, m, &err)) != SS_OK)
        la_core_fail(L, "sensitivity", rc, &err);
    la_scen_run_opts_crn(L, &ro);
    if (j->sobol && j->nparams > SS_SOBOL_MAX_DIM)
        luaL_argerror(L, 2, lua_pushfstring(L, "sobol: at most %d parameters (got %d)",
                                            SS_SOBOL_MAX_DIM, (int)j->nparams));
    b = la_new_rbox(L, j->sobol ? R_SOBOL : R_TORNADO);
    box = lua_gettop(L);
    hook = la_lprog_begin(L, &prog, "sensitivity", m, "runs");
    rc = ss_sens_job_run(j, m, &ro, hook, NULL, &err);
    if (rc != SS_OK)
        la_analysis_fail(L, &prog, "sensitivity", rc, &err);
    la_lprog_end(&prog);
    la_set_settings(L, box, ss_sens_job_json(j));
    if (j->sobol) {
        b->res = j->indices;
        j->indices = NULL;
        la_sobol_fields(L, box, b->res);
    } else {
        b->res = j->tornado;
        j->tornado = NULL;
        la_tornado_fields(L, box, b->res);
    }
    lua_settop(L, box);
    return 1;
}

/* The checks of an inputs box as core ss_check structs (a Lua userdata, pushed). */
static ss_check *push_checks(lua_State *L, const ss_analysis *a)
{
    ss_check *c = lua_newuserdatauv(L, (a->nchecks ? a->nchecks : 1) * sizeof *c, 0);
    ss_analysis_checks(a, c);
    return c;
}

/*
 * sc:check() -> { passed = n, failed = n, [1..] = { name = , pass = ,
 * base = , value = , expect = } }: the scenario's behaviour checks.
 */
int la_scen_check(lua_State *L)
{
    ss_model *m = la_check_scen(L);
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_check *c;
    ss_check_outcome *o;
    ss_analysis *a;
    ss_err err = {0};
    size_t i, npass = 0;
    int rc;

    lua_settop(L, 1);
    a = la_scen_inputs(L, SS_AN_CHECKS);
    c = push_checks(L, a);
    o = lua_newuserdatauv(L, (a->nchecks ? a->nchecks : 1) * sizeof *o, 0);
    la_scen_run_opts_crn(L, &ro);
    if ((rc = ss_checks_run(o, m, c, a->nchecks, &ro, &err)) != SS_OK)
        la_core_fail(L, "check", rc, &err);
    lua_createtable(L, (int)a->nchecks, 2);
    for (i = 0; i < a->nchecks; i++) {
        lua_createtable(L, 0, 5);
        lua_pushstring(L, a->checks[i].name);
        lua_setfield(L, -2, "name");
        lua_pushboolean(L, o[i].pass);
        lua_setfield(L, -2, "pass");
        lua_pushnumber(L, o[i].base);
        lua_setfield(L, -2, "base");
        lua_pushnumber(L, o[i].value);
        lua_setfield(L, -2, "value");
        lua_pushstring(L, a->checks[i].expect);
        lua_setfield(L, -2, "expect");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        npass += o[i].pass != 0;
    }
    lua_pushinteger(L, (lua_Integer)npass);
    lua_setfield(L, -2, "passed");
    lua_pushinteger(L, (lua_Integer)(a->nchecks - npass));
    lua_setfield(L, -2, "failed");
    return 1;
}

/* One grid axis from grid[i]: "PATH=START:STOP:N", "PATH=v1,v2", or
 * {path = "PATH", values = {v1, ...}}. */
static void sweep_axis_arg(lua_State *L, int item, lua_Integer i, ss_sweep_axis *out)
{
    ss_err err = {0};
    int rc;
    if (lua_type(L, item) == LUA_TSTRING) {
        rc = ss_sweep_axis_parse(out, lua_tostring(L, item), &err);
    } else if (lua_type(L, item) == LUA_TTABLE) {
        lua_Integer k, n = 0;
        double *v;
        if (lua_getfield(L, item, "path") != LUA_TSTRING)
            luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: path must be a string", i));
        if (lua_getfield(L, item, "values") != LUA_TTABLE || (n = (lua_Integer)lua_rawlen(L, -1)) < 1)
            luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: values must be a non-empty list of numbers", i));
        if (n > (lua_Integer)SS_SWEEP_MAX_VALUES)
            luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: at most %d values", i, (int)SS_SWEEP_MAX_VALUES));
        v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
        for (k = 1; k <= n; k++) {
            if (lua_rawgeti(L, -2, k) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
                luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I].values[%I]: expected a finite number", i, k));
            v[k - 1] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        rc = ss_sweep_axis_make(out, lua_tostring(L, -3), v, (size_t)n, &err);
        lua_pop(L, 3);
    } else {
        luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: expected \"PATH=START:STOP:N\", "
                                            "\"PATH=v1,v2,...\" or {path = , values = {...}}", i));
        return;
    }
    if (rc == SS_ENOMEM)
        la_nomem(L);
    if (rc != SS_OK)
        luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: %s", i, err.msg));
}

/* The ng axes of the grid table gt into r (checked against m). */
static void sweep_axes(lua_State *L, int gt, lua_Integer ng, sweep_res *r, const ss_model *m)
{
    ss_err err = {0};
    lua_Integer k;
    if (!(r->axes = calloc((size_t)ng, sizeof *r->axes)))
        la_nomem(L);
    for (k = 1; k <= ng; k++) {
        lua_rawgeti(L, gt, k);
        sweep_axis_arg(L, lua_gettop(L), k, &r->axes[k - 1]);
        r->naxes = (size_t)k;
        lua_pop(L, 1);
    }
    if (ss_sweep_check(m, r->axes, r->naxes, &err) != SS_OK)
        luaL_argerror(L, 2, lua_pushfstring(L, "grid: %s", err.msg));
}

/* A finished sweep's settings and fields on the result box: points, paths,
 * outputs (as parsed) and one row per point. */
static void sweep_fields(lua_State *L, int box, sweep_res *r)
{
    ss_sweep_job *j = &r->job;
    size_t nout = j->nout, i;
    lua_Integer k;
    char **olist = lua_newuserdatauv(L, nout * sizeof *olist, 0);
    for (i = 0; i < nout; i++)
        olist[i] = j->sel[i].text;
    j->outputs = (const char *const *)olist; /* the outputs as parsed */
    la_set_settings(L, box, ss_sweep_job_json(j, 1));
    j->outputs = NULL; /* the result keeps the parsed selectors only */
    lua_createtable(L, 0, 5);
    la_set_int(L, "points", (lua_Integer)j->npoints);
    lua_pushstring(L, j->info.engine ? j->info.engine : "scalar");
    lua_setfield(L, -2, "engine");
    lua_createtable(L, (int)r->naxes, 0);
    for (i = 0; i < r->naxes; i++) {
        lua_pushstring(L, r->axes[i].path);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "paths");
    sl_push_strings(L, olist, nout);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, (int)j->npoints, 0);
    for (k = 0; k < (lua_Integer)j->npoints; k++) {
        lua_createtable(L, 0, (int)(r->naxes + nout));
        for (i = 0; i < r->naxes; i++)
            la_set_num(L, r->axes[i].path, j->x[k * r->naxes + i]);
        for (i = 0; i < nout; i++)
            la_set_num(L, j->sel[i].text, j->y[k * nout + i]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "rows");
    la_set_fields(L, box);
}

/* sc:sweep{grid = {...}, outputs = {...}, threads = 1} */
int la_scen_sweep(lua_State *L)
{
    static const char *const keys[] = {"grid", "outputs", "threads", NULL};
    ss_model *m = la_check_scen(L);
    int t = la_opts_table(L, keys), box, gt;
    jobbox *jb = la_new_job(L, release_sweep);
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    const char **outs;
    size_t nout;
    lua_Integer ng = 0;
    sweep_res *r;
    ss_sweep_job *j;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;

    if (!(r = jb->u.sw = calloc(1, sizeof *r)))
        la_nomem(L);
    j = &r->job;
    *j = (ss_sweep_job)SS_SWEEP_JOB_INIT;
    j->so.threads = (unsigned)la_opt_int(L, t, "threads", (lua_Integer)j->so.threads, 0, 1024);
    gt = la_opt_push(L, t, "grid");
    if (gt != LUA_TTABLE || (ng = (lua_Integer)lua_rawlen(L, -1)) < 1)
        luaL_argerror(L, 2, "grid: expected a list of axes, e.g. {\"providers.alibaba.reinvest=0.1:0.4:4\"}");
    gt = lua_gettop(L);
    outs = la_opt_strings(L, t, "outputs", &nout);
    j->outputs = outs;
    j->nout = nout;
    if (!outs && m->nprov > 0 && ss_sweep_job_default_outputs(j, m, &err) != SS_OK)
        la_nomem(L);
    if (j->nout == 0)
        luaL_argerror(L, 2, "outputs: at least one selector is needed");
    check_outputs(L, m, j->outputs, j->nout);
    b = la_new_rbox(L, R_SWEEP);
    box = lua_gettop(L);
    b->res = r; /* owned by the result box from here on */
    jb->u.sw = NULL;
    sweep_axes(L, gt, ng, r, m);
    j->axes = r->axes;
    j->naxes = r->naxes;
    j->in_memory = 1;
    if ((rc = ss_sweep_job_alloc(j, &err)) != SS_OK) {
        if (rc == SS_ENOMEM)
            la_nomem(L);
        la_core_fail(L, "sweep", rc, &err);
    }
    la_scen_run_opts_crn(L, &ro);
    if (ss_run_opts_active(&ro))
        j->so.threads = 1; /* Lua at every point: this state, one worker */
    j->so.run_opts = &ro;
    j->so.interrupt = ro.interrupt;
    /* progress to the host's display, kept for the message of an interruption */
    j->progress = la_lprog_begin(L, &prog, "sweep", m, "points");
    rc = ss_sweep_job_run(j, m, &err);
    j->progress = (ss_progress)SS_PROGRESS_NONE;
    if (rc != SS_OK)
        la_analysis_fail(L, &prog, "sweep", rc, &err);
    la_lprog_end(&prog);
    j->so.run_opts = NULL;
    j->so.interrupt = NULL;
    sweep_fields(L, box, r);
    lua_settop(L, box);
    return 1;
}

