/*
 * results.c - the result objects of the Scenario methods:
 * "stratsim.MonteCarlo", "stratsim.Tornado", "stratsim.Sobol",
 * "stratsim.Calibration", "stratsim.Optimization" and "stratsim.Sweep"
 * boxes that own the core result, expose its numbers as fields (a table
 * in a user value), print as one line, and have csv() and write_csv(path)
 * (the CSV and its JSON sidecar; sandboxed scripts write only relative
 * paths), MonteCarlo:mean/sd/min/max/quantile/stats(selector) and
 * Calibration:lua(); summary() is in results_summary.c.
 *
 * Ownership: a box (rbox) owns its core result, the observations of a
 * fit and a resolved copy of the scenario; its __gc and __close free them
 * (then methods say "result already closed"). The methods create the box
 * before they run the analysis and hand it the result.
 * Depends on la_internal.h, sl_internal.h (sl_check_write_path, the
 * Scenario's file) and the core (results, selectors, CSV writers and
 * sidecars of stratsim/analysis.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

static const char *const rnames[R_NKINDS] = {
    "stratsim.MonteCarlo", "stratsim.Tornado", "stratsim.Sobol", "stratsim.Calibration",
    "stratsim.Optimization", "stratsim.Sweep"
};
static const char *const rcommands[R_NKINDS] = {
    "lua:montecarlo", "lua:sensitivity", "lua:sensitivity", "lua:calibrate", "lua:optimize",
    "lua:sweep"
};

void la_sweep_res_free(sweep_res *r)
{
    size_t j;
    if (!r)
        return;
    ss_sweep_job_free(&r->job);
    for (j = 0; r->axes && j < r->naxes; j++)
        ss_sweep_axis_free(&r->axes[j]);
    free(r->axes);
    free(r);
}

static void rbox_release(rbox *b)
{
    switch (b->kind) {
    case R_MC: ss_mc_result_free(b->res); break;
    case R_TORNADO: ss_tornado_free(b->res); break;
    case R_SOBOL: ss_sobol_free(b->res); break;
    case R_CALIB: ss_calibrate_free(b->res); break;
    case R_OPT: ss_optimize_free(b->res); break;
    case R_SWEEP: la_sweep_res_free(b->res); break;
    default: break;
    }
    b->res = NULL;
    ss_obs_free(b->obs);
    b->obs = NULL;
    ss_model_free(b->model);
    b->model = NULL;
}

static rbox *check_rbox(lua_State *L, int idx, int kind)
{
    rbox *b = luaL_checkudata(L, idx, rnames[kind]);
    if (!b->res)
        luaL_argerror(L, idx, "result already closed");
    return b;
}

/* Any result box at idx (its kind from the metatable). */
rbox *la_any_rbox(lua_State *L, int idx)
{
    int k;
    for (k = 0; k < R_NKINDS; k++) {
        rbox *b = luaL_testudata(L, idx, rnames[k]);
        if (b)
            return b;
    }
    luaL_typeerror(L, idx, "stratsim analysis result");
    return NULL;
}

static int l_rbox_gc(lua_State *L)
{
    rbox_release(la_any_rbox(L, 1));
    return 0;
}

/*
 * Push a new result box of `kind` for the scenario at argument 1: keeps a
 * copy of its resolved model, and the scenario and its file for the sidecar.
 */
rbox *la_new_rbox(lua_State *L, int kind)
{
    rbox *b = lua_newuserdatauv(L, sizeof *b, RV_N);
    const ss_resolved *rm = sl_scenario_resolved(L, 1);
    memset(b, 0, sizeof *b);
    b->kind = kind;
    luaL_setmetatable(L, rnames[kind]);
    if (!rm)
        luaL_argerror(L, 1, "invalid scenario");
    if (!(b->model = ss_model_copy(ss_resolved_model(rm))))
        la_nomem(L);
    sl_scenario_push_file(L, 1);
    lua_setiuservalue(L, -2, RV_SOURCE);
    lua_pushvalue(L, 1); /* the scenario: its user stocks for the sidecar */
    lua_setiuservalue(L, -2, RV_SCENARIO);
    return b;
}

/* Store a malloc'ed settings JSON text (freed here) as user value 2. */
void la_set_settings(lua_State *L, int box, char *json)
{
    if (!json)
        la_nomem(L);
    lua_pushstring(L, json);
    free(json);
    lua_setiuservalue(L, box, RV_SETTINGS);
}

/* __index: methods (upvalue 1), then the fields table. */
static int l_rbox_index(lua_State *L)
{
    la_any_rbox(L, 1);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    if (lua_getiuservalue(L, 1, RV_FIELDS) != LUA_TTABLE)
        return 0;
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}


static int l_rbox_tostring(lua_State *L)
{
    rbox *b = la_any_rbox(L, 1);
    char buf[512];
    if (!b->res) {
        lua_pushfstring(L, "%s (closed)", rnames[b->kind]);
        return 1;
    }
    switch (b->kind) {
    case R_MC: {
        const ss_mc_result *r = b->res;
        const ss_result *mean = ss_mc_result_mean(r);
        size_t j, o = 0, nq = ss_mc_result_nquantiles(r);
        o += (size_t)snprintf(buf, sizeof buf, "stratsim.MonteCarlo: %llu runs of '%s' (seed %llu), "
                              "%zu output times, quantiles", (unsigned long long)ss_mc_result_runs(r),
                              mean->scenario, (unsigned long long)ss_mc_result_seed(r), mean->nt);
        for (j = 0; j < nq && o < sizeof buf - 16; j++) {
            char name[32];
            ss_mc_quantile_name(name, sizeof name, ss_mc_result_quantile_level(r, j));
            o += (size_t)snprintf(buf + o, sizeof buf - o, " %s", name);
        }
        break;
    }
    case R_TORNADO: {
        const ss_tornado *t = b->res;
        int o = snprintf(buf, sizeof buf, "stratsim.Tornado: %zu parameter%s x %zu output%s (%zu runs)",
                         t->nparam, t->nparam == 1 ? "" : "s", t->nout, t->nout == 1 ? "" : "s",
                         1 + 2 * t->nparam);
        if (t->nparam > 0 && t->nout > 0 && o > 0 && (size_t)o < sizeof buf) {
            char sw[40];
            snprintf(buf + o, sizeof buf - (size_t)o, "; %s swings most with %s (%s)",
                     t->outputs[t->rows[0].output], t->params[t->rows[0].param],
                     la_gnum(t->rows[0].swing, 6, sw, sizeof sw));
        }
        break;
    }
    case R_SOBOL: {
        const ss_sobol *s = b->res;
        int o = snprintf(buf, sizeof buf, "stratsim.Sobol: %zu parameter%s x %zu output%s, N = %zu (%zu runs)",
                         s->d, s->d == 1 ? "" : "s", s->nout, s->nout == 1 ? "" : "s", s->n, s->nevals);
        if (s->d > 0 && s->nout > 0 && o > 0 && (size_t)o < sizeof buf) {
            size_t i, best = 0;
            for (i = 1; i < s->d; i++)
                if (SS_SOBOL_AT(s, ST, i, 0) > SS_SOBOL_AT(s, ST, best, 0))
                    best = i;
            snprintf(buf + o, sizeof buf - (size_t)o, "; %s depends most on %s (ST %.3f)",
                     s->outputs[0], s->params[best], SS_SOBOL_AT(s, ST, best, 0) + 0.0);
        }
        break;
    }
    case R_CALIB: {
        const ss_calib_result *c = b->res;
        char r[40];
        snprintf(buf, sizeof buf, "stratsim.Calibration: %zu parameter%s, %zu observations, "
                 "RMSE %s, %s after %zu iterations", c->np, c->np == 1 ? "" : "s", c->nobs,
                 la_fnum(c->rmse, r, sizeof r), c->status, c->iterations);
        break;
    }
    case R_SWEEP: {
        const sweep_res *r = b->res;
        snprintf(buf, sizeof buf, "stratsim.Sweep: %llu point%s over %zu path%s, %zu output%s",
                 (unsigned long long)r->job.npoints, r->job.npoints == 1 ? "" : "s", r->naxes,
                 r->naxes == 1 ? "" : "s", r->job.nout, r->job.nout == 1 ? "" : "s");
        break;
    }
    default: {
        const ss_opt_result *r = b->res;
        char v[40];
        lua_getiuservalue(L, 1, RV_OBJECTIVE);
        snprintf(buf, sizeof buf, "stratsim.Optimization: %s = %s at the best of %zu starts "
                 "(%s), %zu control%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "objective",
                 la_fnum(r->objective, v, sizeof v), r->nstarts,
                 r->feasible ? "feasible" : "INFEASIBLE", r->ncontrols, r->ncontrols == 1 ? "" : "s");
        lua_pop(L, 1);
        break;
    }
    }
    lua_pushstring(L, buf);
    return 1;
}

/* The CSV writer of a box (payload: the box; objective from user value). */
typedef struct csv_req {
    const rbox *b;
    const char *objective;
} csv_req;

static int rbox_write_csv(FILE *f, const void *payload, ss_err *err)
{
    const csv_req *r = payload;
    switch (r->b->kind) {
    case R_MC: return ss_mc_write_csv(f, r->b->res, err);
    case R_TORNADO: return ss_tornado_write_csv(f, r->b->res, err);
    case R_SOBOL: return ss_sobol_write_csv(f, r->b->res, err);
    case R_CALIB: return ss_calibrate_write_residuals(f, r->b->res, r->b->obs, err);
    case R_SWEEP: return ss_sweep_job_write_csv(f, &((const sweep_res *)r->b->res)->job, err);
    default: return ss_opt_write_csv(f, r->b->res, r->objective, err);
    }
}

/* Run `write` into memory and push the text. */
static void push_written(lua_State *L, ss_an_writer write, const void *payload)
{
    char *text = NULL;
    size_t len = 0;
    ss_err err = {0};
    FILE *f = open_memstream(&text, &len);
    int rc;
    if (!f)
        la_nomem(L);
    rc = write(f, payload, &err);
    if (fclose(f) != 0 && rc == SS_OK)
        rc = ss_err_set(&err, SS_ENOMEM, "", "out of memory");
    if (rc != SS_OK) {
        free(text);
        sl_raise(L, rc, "%s", err.msg);
    }
    lua_pushlstring(L, text, len);
    free(text);
}

static const char *objective_of(lua_State *L, int idx)
{
    const char *s;
    lua_getiuservalue(L, idx, RV_OBJECTIVE);
    s = lua_tostring(L, -1); /* anchored by the box */
    lua_pop(L, 1);
    return s;
}

/* r:csv() -> the CSV text (as `stratsim mc|sens|calibrate|optimize -o` writes it). */
static int l_rbox_csv(lua_State *L)
{
    rbox *b = la_any_rbox(L, 1);
    csv_req r;
    if (!b->res)
        return luaL_argerror(L, 1, "result already closed");
    r.b = b;
    r.objective = objective_of(L, 1);
    push_written(L, rbox_write_csv, &r);
    return 1;
}

/* 1 if the state runs scenarios in the sandbox (registry "stratsim.env"). */
static int sandboxed(lua_State *L)
{
    int t = lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
    lua_pop(L, 1);
    return t == LUA_TTABLE;
}

/* r:write_csv(path) -> true, or nil, message: the CSV and its JSON sidecar
 * path.json, atomically ("-": the CSV to standard output). Sandboxed
 * scripts may write only to relative paths without "..". */
static int l_rbox_write(lua_State *L)
{
    rbox *b = la_any_rbox(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *src;
    ss_sidecar_info info;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    const ss_model *models[1];
    char sha[65];
    csv_req r;
    ss_err err = {0};
    int rc;
    if (!b->res)
        return luaL_argerror(L, 1, "result already closed");
    sl_check_write_path(L, path);
    r.b = b;
    r.objective = objective_of(L, 1);
    if (strcmp(path, "-") == 0) {
        rc = rbox_write_csv(stdout, &r, &err);
        if (rc == SS_OK && fflush(stdout) != 0)
            rc = ss_err_set(&err, SS_EIO, "", "writing standard output failed");
    } else {
        memset(&info, 0, sizeof info);
        lua_getiuservalue(L, 1, RV_SOURCE);
        src = lua_tostring(L, -1);
        lua_getiuservalue(L, 1, RV_SETTINGS);
        info.extra_json = lua_tostring(L, -1);
        info.command = rcommands[b->kind];
        info.scenario_file = src;
        info.scenario_sha256 = src && ss_sha256_file(src, sha, &err) == SS_OK ? sha : NULL;
        info.unsafe = !sandboxed(L);
        models[0] = b->model;
        ss_err_clear(&err);
        lua_getiuservalue(L, 1, RV_SCENARIO);
        sl_push_hooks(L, lua_gettop(L), &ro); /* valid while it is on the stack */
        info.run_opts = &ro;
        rc = ss_analysis_write_pair(path, rbox_write_csv, &r, &info, models, 1, &err);
        lua_settop(L, 2);
    }
    if (rc != SS_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- fields ---- */

void la_set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

void la_set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

/* Attach the table on top as the fields of the box at `box`. */
void la_set_fields(lua_State *L, int box)
{
    lua_setiuservalue(L, box, RV_FIELDS);
}

/* ---- MonteCarlo ---- */

/* Push the value(s) a selector picks from r: a number, or an array for @each.
 * `kept` (1 where the Monte Carlo kept the value) must be 1 wherever the
 * selector reads. */
static void push_selected(lua_State *L, const ss_result *r, const ss_mc_result *mc,
                          const ss_model *m, int arg)
{
    const char *text = luaL_checkstring(L, arg);
    ss_selector sel;
    ss_err err = {0};
    if (ss_selector_parse(&sel, text, &err) != SS_OK || ss_selector_validate(&sel, m, &err) != SS_OK)
        luaL_argerror(L, arg, err.msg);
    if (!ss_mc_result_all_kept(mc)) {
        const ss_result *kept = ss_mc_result_kept(mc);
        double k = 0.0, *kv = lua_newuserdatauv(L, (kept->nt ? kept->nt : 1) * sizeof *kv, 0);
        size_t ti;
        int ok;
        if (sel.when == SS_SEL_EACH) {
            ok = ss_selector_eval_series(kv, &sel, kept, &err) == SS_OK;
            for (ti = 0; ok && ti < kept->nt; ti++)
                ok = kv[ti] == 1.0;
        } else {
            ok = ss_selector_eval(&k, &sel, kept, &err) == SS_OK && k == 1.0;
        }
        lua_pop(L, 1);
        if (!ok)
            luaL_argerror(L, arg, lua_pushfstring(L, "'%s' was not kept by this Monte Carlo (it "
                                                  "kept only its outputs = {...})", sel.text));
    }
    if (sel.when == SS_SEL_EACH) {
        double *v = lua_newuserdatauv(L, r->nt * sizeof *v, 0);
        if (ss_selector_eval_series(v, &sel, r, &err) != SS_OK)
            luaL_argerror(L, arg, err.msg);
        sl_push_numbers(L, v, r->nt);
        lua_remove(L, -2);
    } else {
        double v;
        if (ss_selector_eval(&v, &sel, r, &err) != SS_OK)
            luaL_argerror(L, arg, err.msg);
        lua_pushnumber(L, v);
    }
}

static int mc_stat(lua_State *L, const ss_result *(*get)(const ss_mc_result *))
{
    rbox *b = check_rbox(L, 1, R_MC);
    push_selected(L, get(b->res), b->res, b->model, 2);
    return 1;
}

static int l_mc_mean(lua_State *L) { return mc_stat(L, ss_mc_result_mean); }
static int l_mc_sd(lua_State *L) { return mc_stat(L, ss_mc_result_sd); }
static int l_mc_min(lua_State *L) { return mc_stat(L, ss_mc_result_min); }
static int l_mc_max(lua_State *L) { return mc_stat(L, ss_mc_result_max); }

/* Index of quantile level q among those computed, or -1. */
static long mc_level(const ss_mc_result *r, double q)
{
    size_t j, n = ss_mc_result_nquantiles(r);
    for (j = 0; j < n; j++)
        if (fabs(ss_mc_result_quantile_level(r, j) - q) < 1e-12)
            return (long)j;
    return -1;
}

/* r:quantile(selector, q) */
static int l_mc_quantile(lua_State *L)
{
    rbox *b = check_rbox(L, 1, R_MC);
    double q = luaL_checknumber(L, 3);
    long j = mc_level(b->res, q);
    if (j < 0) {
        char name[32];
        ss_mc_quantile_name(name, sizeof name, q);
        return luaL_argerror(L, 3, lua_pushfstring(L, "quantile %s was not computed (ask for it "
                                                   "with montecarlo{quantiles = {...}})", name));
    }
    push_selected(L, ss_mc_result_quantile(b->res, (size_t)j), b->res, b->model, 2);
    return 1;
}

/* r:stats(selector) -> {mean=, sd=, min=, max=, p05=, ...} */
static int l_mc_stats(lua_State *L)
{
    rbox *b = check_rbox(L, 1, R_MC);
    size_t j, nq = ss_mc_result_nquantiles(b->res);
    lua_createtable(L, 0, (int)(4 + nq));
    push_selected(L, ss_mc_result_mean(b->res), b->res, b->model, 2);
    lua_setfield(L, -2, "mean");
    push_selected(L, ss_mc_result_sd(b->res), b->res, b->model, 2);
    lua_setfield(L, -2, "sd");
    push_selected(L, ss_mc_result_min(b->res), b->res, b->model, 2);
    lua_setfield(L, -2, "min");
    push_selected(L, ss_mc_result_max(b->res), b->res, b->model, 2);
    lua_setfield(L, -2, "max");
    for (j = 0; j < nq; j++) {
        char name[32];
        ss_mc_quantile_name(name, sizeof name, ss_mc_result_quantile_level(b->res, j));
        push_selected(L, ss_mc_result_quantile(b->res, j), b->res, b->model, 2);
        lua_setfield(L, -2, name);
    }
    return 1;
}

void la_mc_fields(lua_State *L, int box, const ss_mc_result *r, unsigned threads)
{
    const ss_result *mean = ss_mc_result_mean(r);
    size_t j, nq = ss_mc_result_nquantiles(r);
    lua_createtable(L, 0, 6);
    set_str(L, "scenario", mean->scenario);
    la_set_int(L, "runs", (lua_Integer)ss_mc_result_runs(r));
    la_set_int(L, "seed", (lua_Integer)ss_mc_result_seed(r));
    la_set_int(L, "threads", (lua_Integer)threads);
    la_set_num(L, "compression", ss_mc_result_compression(r));
    set_str(L, "engine", ss_mc_result_engine(r));
    lua_createtable(L, (int)nq, 0);
    for (j = 0; j < nq; j++) {
        lua_pushnumber(L, ss_mc_result_quantile_level(r, j));
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_setfield(L, -2, "quantiles");
    sl_push_numbers(L, mean->t, mean->nt);
    lua_setfield(L, -2, "times");
    la_set_fields(L, box);
}

/* ---- Tornado and Sobol ---- */

void la_tornado_fields(lua_State *L, int box, const ss_tornado *t)
{
    size_t i;
    lua_createtable(L, 0, 6);
    set_str(L, "method", "tornado");
    la_set_int(L, "evaluations", (lua_Integer)(1 + 2 * t->nparam));
    sl_push_strings(L, t->params, t->nparam);
    lua_setfield(L, -2, "parameters");
    sl_push_strings(L, t->outputs, t->nout);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, 0, (int)t->nout);
    for (i = 0; i < t->nout; i++)
        la_set_num(L, t->outputs[i], t->base_out[i]);
    lua_setfield(L, -2, "base");
    lua_createtable(L, 0, (int)t->nparam);
    for (i = 0; i < t->nparam; i++)
        la_set_num(L, t->params[i], t->base_param[i]);
    lua_setfield(L, -2, "base_values");
    lua_createtable(L, (int)(t->nparam * t->nout), 0);
    for (i = 0; i < t->nparam * t->nout; i++) {
        const ss_tornado_row *w = &t->rows[i];
        lua_createtable(L, 0, 8);
        set_str(L, "parameter", t->params[w->param]);
        set_str(L, "output", t->outputs[w->output]);
        la_set_num(L, "low", w->low);
        la_set_num(L, "high", w->high);
        la_set_num(L, "output_at_low", w->out_low);
        la_set_num(L, "output_at_high", w->out_high);
        la_set_num(L, "swing", w->swing);
        la_set_int(L, "rank", (lua_Integer)w->rank);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "rows");
    la_set_fields(L, box);
}

void la_sobol_fields(lua_State *L, int box, const ss_sobol *s)
{
    size_t i, j, r = 0;
    lua_createtable(L, 0, 8);
    set_str(L, "method", "sobol");
    if (s->engine)
        set_str(L, "engine", s->engine);
    la_set_int(L, "n", (lua_Integer)s->n);
    la_set_int(L, "evaluations", (lua_Integer)s->nevals);
    sl_push_strings(L, s->params, s->d);
    lua_setfield(L, -2, "parameters");
    sl_push_strings(L, s->outputs, s->nout);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, 0, (int)s->nout);
    for (j = 0; j < s->nout; j++)
        la_set_num(L, s->outputs[j], s->mean[j]);
    lua_setfield(L, -2, "mean");
    lua_createtable(L, 0, (int)s->nout);
    for (j = 0; j < s->nout; j++)
        la_set_num(L, s->outputs[j], s->var[j]);
    lua_setfield(L, -2, "variance");
    lua_createtable(L, (int)(s->d * s->nout), 0);
    for (i = 0; i < s->d; i++)
        for (j = 0; j < s->nout; j++) {
            lua_createtable(L, 0, 8);
            set_str(L, "parameter", s->params[i]);
            set_str(L, "output", s->outputs[j]);
            la_set_num(L, "S1", SS_SOBOL_AT(s, S1, i, j));
            la_set_num(L, "S1_lo", SS_SOBOL_AT(s, S1_lo, i, j));
            la_set_num(L, "S1_hi", SS_SOBOL_AT(s, S1_hi, i, j));
            la_set_num(L, "ST", SS_SOBOL_AT(s, ST, i, j));
            la_set_num(L, "ST_lo", SS_SOBOL_AT(s, ST_lo, i, j));
            la_set_num(L, "ST_hi", SS_SOBOL_AT(s, ST_hi, i, j));
            lua_rawseti(L, -2, (lua_Integer)++r);
        }
    lua_setfield(L, -2, "rows");
    la_set_fields(L, box);
}

/* ---- Calibration ---- */

void la_calib_fields(lua_State *L, int box, const ss_calib_result *c, const ss_obs_set *o)
{
    size_t i;
    lua_createtable(L, 0, 16);
    lua_createtable(L, 0, (int)c->np);
    for (i = 0; i < c->np; i++)
        la_set_num(L, c->paths[i], c->value[i]);
    lua_setfield(L, -2, "values");
    lua_createtable(L, 0, (int)c->np);
    for (i = 0; i < c->np; i++)
        la_set_num(L, c->paths[i], c->se[i]);
    lua_setfield(L, -2, "se");
    lua_createtable(L, (int)c->np, 0);
    for (i = 0; i < c->np; i++) {
        lua_createtable(L, 0, 7);
        set_str(L, "path", c->paths[i]);
        la_set_num(L, "value", c->value[i]);
        la_set_num(L, "se", c->se[i]);
        la_set_num(L, "lower", c->lower[i]);
        la_set_num(L, "upper", c->upper[i]);
        la_set_num(L, "start", c->start[i]);
        set_bool(L, "at_bound", c->at_bound[i]);
        set_bool(L, "identified", c->identified[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "parameters");
    lua_createtable(L, (int)c->np, 0);
    for (i = 0; i < c->np; i++) {
        sl_push_numbers(L, c->corr + i * c->np, c->np);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "corr");
    lua_createtable(L, (int)c->np, 0);
    for (i = 0; i < c->np; i++) {
        char buf[600];
        ss_calibrate_set_string(buf, sizeof buf, c, i);
        lua_pushstring(L, buf);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "sets");
    lua_createtable(L, (int)c->nobs, 0);
    for (i = 0; i < c->nobs; i++) {
        const ss_obs *ob = &o->obs[i];
        lua_createtable(L, 0, 8);
        la_set_num(L, "time", ob->t);
        set_str(L, "selector", ob->sel.text);
        la_set_num(L, "observed", ob->value);
        la_set_num(L, "weight", ob->weight);
        la_set_num(L, "model", c->model[i]);
        la_set_num(L, "residual", c->resid[i]);
        la_set_num(L, "weighted_residual", c->wresid[i]);
        set_bool(L, "by_construction", c->constructed[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "residuals");
    la_set_num(L, "chi2", c->chi2);
    la_set_num(L, "rmse", c->rmse);
    la_set_num(L, "sigma", c->sigma);
    la_set_int(L, "dof", (lua_Integer)c->dof);
    la_set_int(L, "by_construction", (lua_Integer)c->nconstructed);
    la_set_int(L, "iterations", (lua_Integer)c->iterations);
    la_set_int(L, "evaluations", (lua_Integer)c->nevals);
    set_bool(L, "converged", c->converged);
    set_str(L, "status", c->status);
    la_set_fields(L, box);
}

static int write_lua_override(FILE *f, const void *payload, ss_err *err)
{
    return ss_calibrate_write_lua(f, payload, err);
}

/* r:lua() -> the override file text (as `stratsim calibrate --write`). */
static int l_calib_lua(lua_State *L)
{
    rbox *b = check_rbox(L, 1, R_CALIB);
    push_written(L, write_lua_override, b->res);
    return 1;
}

/* ---- Optimization ---- */

void la_opt_fields(lua_State *L, int box, const ss_opt_result *r)
{
    size_t i;
    lua_createtable(L, 0, 14);
    lua_createtable(L, 0, (int)r->ncontrols);
    for (i = 0; i < r->ncontrols; i++)
        la_set_num(L, r->paths[i], r->x[i]);
    lua_setfield(L, -2, "controls");
    lua_createtable(L, 0, (int)r->ncontrols);
    for (i = 0; i < r->ncontrols; i++)
        la_set_num(L, r->paths[i], r->x0[i]);
    lua_setfield(L, -2, "initial");
    la_set_num(L, "objective", r->objective);
    la_set_num(L, "objective_initial", r->objective0);
    lua_createtable(L, (int)r->nconstraints, 0);
    for (i = 0; i < r->nconstraints; i++) {
        lua_createtable(L, 0, 4);
        set_str(L, "constraint", r->cons_text[i]);
        la_set_num(L, "value", r->cons_value[i]);
        la_set_num(L, "violation", r->cons_violation[i]);
        set_bool(L, "holds", r->cons_holds[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "constraints");
    set_bool(L, "feasible", r->feasible);
    set_bool(L, "converged", r->converged);
    la_set_int(L, "best_start", (lua_Integer)r->best_start + 1);
    la_set_int(L, "evaluations", (lua_Integer)r->nevals);
    la_set_int(L, "failed_runs", (lua_Integer)r->nfailed);
    if (r->last_failure[0])
        set_str(L, "last_failure", r->last_failure);
    lua_createtable(L, (int)r->nstarts, 0);
    for (i = 0; i < r->nstarts; i++) {
        lua_createtable(L, 0, 5);
        la_set_num(L, "objective", r->start[i].objective);
        la_set_num(L, "violation", r->start[i].violation);
        set_bool(L, "feasible", r->start[i].feasible);
        set_bool(L, "converged", r->start[i].converged);
        la_set_int(L, "iterations", (lua_Integer)r->start[i].iterations);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "starts");
    la_set_fields(L, box);
}

/* Register the metatables of the result kinds (part of sl_open_analysis). */
void la_open_results(lua_State *L)
{
    static const luaL_Reg common[] = {
        {"csv", l_rbox_csv}, {"write_csv", l_rbox_write}, {"summary", la_rbox_summary}, {NULL, NULL}
    };
    static const luaL_Reg mc_methods[] = {
        {"mean", l_mc_mean}, {"sd", l_mc_sd}, {"min", l_mc_min}, {"max", l_mc_max},
        {"quantile", l_mc_quantile}, {"stats", l_mc_stats}, {NULL, NULL}
    };
    static const luaL_Reg calib_methods[] = {{"lua", l_calib_lua}, {NULL, NULL}};
    int k;

    for (k = 0; k < R_NKINDS; k++) {
        if (!luaL_newmetatable(L, rnames[k])) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushcfunction(L, l_rbox_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_rbox_gc);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_rbox_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, la_immutable);
        lua_setfield(L, -2, "__newindex");
        lua_newtable(L);
        luaL_setfuncs(L, common, 0);
        if (k == R_MC)
            luaL_setfuncs(L, mc_methods, 0);
        if (k == R_CALIB)
            luaL_setfuncs(L, calib_methods, 0);
        lua_pushcclosure(L, l_rbox_index, 1);
        lua_setfield(L, -2, "__index");
        lua_pushstring(L, rnames[k]);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
}
