/*
 * methods_fit.c - the Scenario methods that fit a scenario:
 * sc:calibrate{data = {...} | "file.csv", params =, max_iter =, ...}
 * (least squares against observations) and sc:optimize{objective =,
 * minimize =, controls =, constraints =, starts =, ...} (the objective may
 * be a Lua function, objective.c). Each returns a result object (results.c).
 *
 * Ownership: the core jobs live in job boxes (methods.c) and the results
 * and observations in result boxes made before the runs; a Lua objective
 * is freed right after the optimisation.
 * Depends on la_internal.h (read.c for the option tables, objective.c),
 * sl_internal.h (the sandbox's file rules) and the core's jobs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

/* Releasers of the job boxes (la_new_job). */
static void release_cal(jobbox *b)
{
    ss_calibrate_job_free(&b->u.cal);
}

static void release_opt(jobbox *b)
{
    ss_optimize_job_free(&b->u.opt);
}

/* Observations from a Lua list {{time=, provider=, segment=, metric=,
 * value=, weight=}, ...} into b->obs. */
static void obs_from_table(lua_State *L, int t, rbox *b)
{
    static const char *const keys[] = {"time", "provider", "segment", "metric", "value", "weight", NULL};
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, t);
    ss_obs_set *o;
    char sug[96];
    if (n < 1)
        luaL_argerror(L, 2, "data: expected a non-empty list of observations "
                      "{time = ..., provider = ..., segment = ..., metric = ..., value = ...}");
    if (!(b->obs = o = calloc(1, sizeof *o)) || !(o->file = strdup("data")) ||
        !(o->obs = calloc((size_t)n, sizeof *o->obs)))
        la_nomem(L);
    for (i = 1; i <= n; i++) {
        ss_obs *ob = &o->obs[i - 1];
        const char *metric, *prov, *seg;
        ss_err err = {0};
        int e;
        lua_rawgeti(L, t, i);
        e = lua_gettop(L);
        if (lua_type(L, e) != LUA_TTABLE)
            luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: expected a table", i));
        lua_pushnil(L);
        while (lua_next(L, e)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            if (!la_in_list(keys, k))
                luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: unknown key '%s'%s", i, k,
                                                    ss_suggest(k, keys, (size_t)-1, sug, sizeof sug)));
            lua_pop(L, 1);
        }
        lua_getfield(L, e, "time");
        lua_getfield(L, e, "value");
        lua_getfield(L, e, "weight");
        if (lua_type(L, -3) != LUA_TNUMBER || lua_type(L, -2) != LUA_TNUMBER ||
            !isfinite(lua_tonumber(L, -3)) || !isfinite(lua_tonumber(L, -2)))
            luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: time and value must be finite numbers", i));
        if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0) ||
                                  !isfinite(lua_tonumber(L, -1))))
            luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: weight must be a finite number >= 0", i));
        ob->t = lua_tonumber(L, -3);
        ob->value = lua_tonumber(L, -2);
        ob->weight = lua_isnil(L, -1) ? 1.0 : lua_tonumber(L, -1);
        ob->line = (long)i;
        lua_getfield(L, e, "metric");
        lua_getfield(L, e, "provider");
        lua_getfield(L, e, "segment");
        if (lua_type(L, -3) != LUA_TSTRING || (!lua_isnil(L, -2) && lua_type(L, -2) != LUA_TSTRING) ||
            (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING))
            luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: metric, provider and segment must be "
                                                "strings", i));
        metric = lua_tostring(L, -3);
        prov = lua_tostring(L, -2);
        seg = lua_tostring(L, -1);
        if (ss_selector_make(&ob->sel, metric, prov, seg, SS_SEL_AT, ob->t, &err) != SS_OK)
            luaL_argerror(L, 2, lua_pushfstring(L, "data[%I]: %s", i, err.msg));
        lua_settop(L, e - 1);
        o->n++;
    }
}

/* sc:calibrate{data = {...} | "file.csv", params = {...}, max_iter = 200,
 * central = false, absolute_weights = false} */
int la_scen_calibrate(lua_State *L)
{
    static const char *const keys[] = {"data", "params", "max_iter", "central", "absolute_weights", NULL};
    ss_model *m = la_check_scen(L);
    int t = la_opts_table(L, keys), box, dt;
    ss_calibrate_job *j = &la_new_job(L, release_cal)->u.cal;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_analysis *a;
    rbox *b;
    ss_err err = {0};
    const char *file = NULL;
    int rc;
    lprog prog;

    *j = (ss_calibrate_job)SS_CALIBRATE_JOB_INIT;
    j->co.max_iter = (size_t)la_opt_int(L, t, "max_iter", (lua_Integer)j->co.max_iter, 1, 1000000);
    j->co.central = la_opt_bool(L, t, "central", j->co.central);
    j->co.absolute_weights = la_opt_bool(L, t, "absolute_weights", j->co.absolute_weights);
    a = la_scen_inputs(L, SS_AN_CALIBRATE);
    if (la_opt_push(L, t, "params") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_argerror(L, 2, "params: expected a table {[PATH] = {lower = , upper = , start = }}");
        la_read_calib_table(L, 0, m, lua_gettop(L), "params", a);
    }
    lua_pop(L, 1);
    if (a->ncalib == 0)
        luaL_argerror(L, 2, "no parameters to fit: give the scenario a `calibrate` table "
                      "or the option params = {[PATH] = {lower = , upper = , start = }}");
    dt = la_opt_push(L, t, "data");
    b = la_new_rbox(L, R_CALIB);
    box = lua_gettop(L);
    if (dt == LUA_TTABLE) {
        obs_from_table(L, box - 1, b);
        j->obs = b->obs;
    } else if (dt == LUA_TSTRING) {
        file = lua_tostring(L, box - 1);
        if (sl_writes_restricted(L) && !sl_safe_path(file))
            luaL_argerror(L, 2, "data: sandboxed scripts may read only relative paths without "
                          "'..'; pass the observations as a list of tables, or run with --unsafe");
        if ((rc = ss_calibrate_job_read(j, file, &err)) != SS_OK)
            la_core_fail(L, "calibrate", rc, &err);
        b->obs = j->own_obs; /* the result keeps the observations */
        j->own_obs = NULL;
    } else {
        luaL_argerror(L, 2, "data: expected a list of observations (or a CSV file name outside "
                      "the sandbox)");
    }
    la_scen_run_opts_crn(L, &ro);
    rc = ss_calibrate_job_run(j, m, a, &ro, la_lprog_begin(L, &prog, "calibrate", m, "runs"), &err);
    if (rc != SS_OK)
        la_analysis_fail(L, &prog, "calibrate", rc, &err);
    la_lprog_end(&prog);
    la_set_settings(L, box, ss_calibrate_job_json(j));
    b->res = j->result;
    j->result = NULL;
    la_calib_fields(L, box, b->res, b->obs);
    lua_settop(L, box);
    return 1;
}

/* sc:optimize{objective = , minimize = , controls = , constraints = ,
 * starts = , seed = , max_iter = } (overriding the scenario's optimize table) */
int la_scen_optimize(lua_State *L)
{
    static const char *const keys[] = {
        "objective", "minimize", "controls", "constraints", "starts", "seed", "max_iter", NULL
    };
    ss_model *m = la_check_scen(L);
    int t = la_opts_table(L, keys), box;
    ss_optimize_job *j = &la_new_job(L, release_opt)->u.opt;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_analysis *a;
    sl_objective *obj = NULL;
    const char *file;
    rbox *b;
    ss_err err = {0};
    int rc, fnidx = 0;
    lprog prog;

    *j = (ss_optimize_job)SS_OPTIMIZE_JOB_INIT;
    j->oo.max_iter = (size_t)la_opt_int(L, t, "max_iter", (lua_Integer)j->oo.max_iter, 1, 10000000);
    a = la_scen_inputs(L, SS_AN_OPTIMIZE);
    if (t)
        la_read_problem(L, 0, m, t, "optimize", a);
    if (!a->objective && !a->objective_fn)
        luaL_argerror(L, 2, "no objective: set optimize.objective in the scenario or the option "
                      "objective = \"npv:alibaba\"");
    if (a->ncontrols == 0)
        luaL_argerror(L, 2, "no controls: set optimize.controls in the scenario or the option "
                      "controls = {[PATH] = {lower = , upper = }}");
    ss_optimize_job_inputs(j, a);
    if (a->objective_fn) { /* the function: from the options, else the scenario's table */
        if (la_opt_push(L, t, "objective") != LUA_TFUNCTION) {
            lua_pop(L, 1);
            sl_scenario_push_field(L, 1, "optimize");
            lua_getfield(L, -1, "objective");
            lua_remove(L, -2);
        }
        fnidx = lua_gettop(L);
    }
    sl_scenario_push_file(L, 1);
    file = lua_tostring(L, -1); /* anchored on the stack */
    la_scen_run_opts_crn(L, &ro);
    b = la_new_rbox(L, R_OPT);
    box = lua_gettop(L);
    lua_pushstring(L, a->objective ? a->objective : "(Lua function)");
    lua_setiuservalue(L, box, RV_OBJECTIVE);
    if (fnidx) {
        if (!(obj = la_objective_new(L, fnidx, m, file)))
            la_nomem(L);
        j->fn = sl_objective_eval;
        j->fn_payload = obj;
    }
    rc = ss_optimize_job_run(j, m, a, &ro, la_lprog_begin(L, &prog, "optimize", m, "starts"), NULL,
                             &err);
    sl_objective_free(obj);
    if (rc != SS_OK)
        la_analysis_fail(L, &prog, "optimize", rc, &err);
    la_lprog_end(&prog);
    la_set_settings(L, box, ss_optimize_job_json(j));
    b->res = j->result;
    j->result = NULL;
    la_opt_fields(L, box, b->res);
    lua_settop(L, box);
    return 1;
}

