/*
 * l_analysis.c - the Lua half of the analysis layer (ss_analysis.h):
 *
 *  - distributions: stratsim.normal(mean, sd), lognormal(mu, sigma),
 *    uniform(a, b), triangular(a, mode, b), beta(alpha, beta[, lo, hi]),
 *    truncnormal(mean, sd, lo, hi), fixed(x) and dist("normal(0.2, 0.03)")
 *    return immutable "stratsim.Distribution" values (an ss_dist inside a
 *    userdata, no __gc needed) usable in `uncertainty` and outage severities;
 *  - reading a scenario's `uncertainty`, `outages`, `calibrate` and
 *    `optimize` tables into an ss_analysis, with located errors
 *    ("FILE:LINE: uncertainty["PATH"]: message"), for the CLI
 *    (ss_script_analysis) and for the methods below;
 *  - Scenario:montecarlo{...}, :sensitivity{...}, :calibrate{...} and
 *    :optimize{...}, which read their option tables into the core's jobs
 *    (ss_sens_job, ... in stratsim/analysis.h), run them and return result objects
 *    ("stratsim.MonteCarlo", "stratsim.Tornado", "stratsim.Sobol",
 *    "stratsim.Calibration", "stratsim.Optimization") that own the core
 *    result, expose its numbers as fields, and have csv() and write(path)
 *    methods (write only outside the sandbox);
 *  - override files for `--params FIT.lua` (ss_params_read).
 *
 * Error model (docs/robustness.md): C memory is never held across a
 * Lua call that can raise. Every core object lives in a userdata box whose
 * __gc frees it, created *before* the object is acquired; temporary arrays
 * are userdata. Scenarios with a `policy` or derived `outputs` attach them
 * to every run through ss_script_run_opts; from Lua, a Monte Carlo of such a
 * scenario runs on one worker (one Lua state), the CLI loads one state per
 * worker thread (cli_analysis.c).
 * Depends on sl_internal.h (Scenario objects, pcall, errors) and the core's
 * analyses and jobs (stratsim/analysis.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua/ss_analysis.h"

#define DIST_META "stratsim.Distribution"
#define INPUTS_META "stratsim.AnalysisInputs"
#define JOB_META "stratsim.AnalysisJob"
#define MAX_SAMPLE 1000000

/* ====================================================== small helpers */

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Number formatted for messages (shortest exact form). */
static const char *fnum(double x, char *buf, size_t n)
{
    ss_fmt_double(buf, n, x);
    return buf;
}

_Noreturn static void nomem(lua_State *L)
{
    sl_raise(L, SS_ENOMEM, "out of memory");
}

/* Raise a core failure of a method as "FILE:LINE: name: message". */
_Noreturn static void core_fail(lua_State *L, const char *fname, int rc, const ss_err *err)
{
    char where[300];
    sl_where(L, 1, where, sizeof where);
    sl_raise(L, rc == SS_EINTR || rc == SS_ENOMEM || rc == SS_ELIMIT ? rc : SS_EINVAL,
                 "%s: %s: %s", where, fname, err->msg[0] ? err->msg : ss_strerror(rc));
}

/* ====================================================== distributions */

typedef struct dist_ud {
    ss_dist d;
} dist_ud;

static void push_dist(lua_State *L, const ss_dist *d)
{
    dist_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->d = *d;
    luaL_setmetatable(L, DIST_META);
}

static const ss_dist *test_dist(lua_State *L, int idx)
{
    dist_ud *u = luaL_testudata(L, idx, DIST_META);
    return u ? &u->d : NULL;
}

static const ss_dist *check_dist(lua_State *L, int idx)
{
    return &((dist_ud *)luaL_checkudata(L, idx, DIST_META))->d;
}

/* stratsim.<kind>(p1, p2, ...): upvalue 1 is the kind. */
static int l_dist_new(lua_State *L)
{
    ss_dist_kind kind = (ss_dist_kind)lua_tointeger(L, lua_upvalueindex(1));
    double p[SS_DIST_MAXPARAMS + 1];
    int n = lua_gettop(L), i;
    ss_dist d;
    ss_err err = {0};
    if (n > SS_DIST_MAXPARAMS + 1)
        n = SS_DIST_MAXPARAMS + 1;
    for (i = 0; i < n; i++)
        p[i] = luaL_checknumber(L, i + 1);
    if (ss_dist_make(&d, kind, p, (size_t)n, NULL, &err) != SS_OK)
        return luaL_error(L, "%s", err.msg);
    push_dist(L, &d);
    return 1;
}

/* stratsim.dist("normal(0.2, 0.03)") */
static int l_dist_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    ss_dist d;
    ss_err err = {0};
    if (ss_dist_parse(&d, s, NULL, &err) != SS_OK)
        return luaL_error(L, "%s", err.msg);
    push_dist(L, &d);
    return 1;
}

static int l_dist_tostring(lua_State *L)
{
    char buf[256];
    ss_dist_format(buf, sizeof buf, check_dist(L, 1));
    lua_pushstring(L, buf);
    return 1;
}

static int l_dist_eq(lua_State *L)
{
    const ss_dist *a = test_dist(L, 1), *b = test_dist(L, 2);
    lua_pushboolean(L, a && b && a->kind == b->kind && memcmp(a->p, b->p, sizeof a->p) == 0);
    return 1;
}

static int l_dist_quantile(lua_State *L)
{
    const ss_dist *d = check_dist(L, 1);
    double q = luaL_checknumber(L, 2);
    luaL_argcheck(L, q >= 0 && q <= 1, 2, "probability must be in [0, 1]");
    lua_pushnumber(L, ss_dist_quantile(d, q));
    return 1;
}

static int l_dist_mean(lua_State *L)
{
    lua_pushnumber(L, ss_dist_mean(check_dist(L, 1)));
    return 1;
}

static int l_dist_variance(lua_State *L)
{
    lua_pushnumber(L, ss_dist_variance(check_dist(L, 1)));
    return 1;
}

static int l_dist_sd(lua_State *L)
{
    lua_pushnumber(L, sqrt(ss_dist_variance(check_dist(L, 1))));
    return 1;
}

/* d:sample(n [, seed]): n draws from the Monte Carlo stream of run 0 of
 * `seed` (default 1), so the same call always gives the same numbers. */
static int l_dist_sample(lua_State *L)
{
    const ss_dist *d = check_dist(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1), i;
    lua_Integer seed = luaL_optinteger(L, 3, 1);
    gsl_rng *r;
    double *v;
    luaL_argcheck(L, n >= 1 && n <= MAX_SAMPLE, 2, "sample size must be in 1..1000000");
    luaL_argcheck(L, seed >= 0, 3, "seed must be >= 0");
    v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
    r = gsl_rng_alloc(ss_mc_rng_type());
    if (!r)
        nomem(L);
    ss_mc_rng_seed(r, (uint64_t)seed, 0);
    for (i = 0; i < n; i++)
        v[i] = ss_dist_sample(d, r);
    gsl_rng_free(r);
    sl_push_numbers(L, v, (size_t)n);
    return 1;
}

static int l_dist_index(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"quantile", l_dist_quantile}, {"mean", l_dist_mean}, {"variance", l_dist_variance},
        {"sd", l_dist_sd}, {"sample", l_dist_sample}, {NULL, NULL}
    };
    const ss_dist *d = check_dist(L, 1);
    const char *k = lua_tostring(L, 2);
    const luaL_Reg *m;
    if (!k || lua_type(L, 2) != LUA_TSTRING)
        return 0;
    for (m = methods; m->name; m++)
        if (strcmp(k, m->name) == 0) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    if (strcmp(k, "kind") == 0) {
        lua_pushstring(L, ss_dist_kind_name(d->kind));
        return 1;
    }
    if (strcmp(k, "params") == 0) {
        size_t n = ss_dist_nparams_max(d->kind);
        if (d->kind == SS_DIST_BETA && d->p[2] == 0 && d->p[3] == 1)
            n = 2;
        sl_push_numbers(L, d->p, n);
        return 1;
    }
    return 0;
}

static int l_immutable(lua_State *L)
{
    return luaL_error(L, "%s values are immutable", sl_tname(L, 1));
}

/*
 * A distribution from the value at idx: a Distribution, its text form, or
 * a number (fixed). Returns 0, or -1 with a message in msg.
 */
static int to_dist(lua_State *L, int idx, ss_dist *out, char *msg, size_t n)
{
    const ss_dist *d = test_dist(L, idx);
    ss_err err = {0};
    if (d) {
        *out = *d;
        return 0;
    }
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double x = lua_tonumber(L, idx);
        if (ss_dist_make(out, SS_DIST_FIXED, &x, 1, NULL, &err) == SS_OK)
            return 0;
        snprintf(msg, n, "%.*s", (int)(n - 1), err.msg);
        return -1;
    }
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (ss_dist_parse(out, lua_tostring(L, idx), NULL, &err) == SS_OK)
            return 0;
        snprintf(msg, n, "%.*s", (int)(n - 1), err.msg);
        return -1;
    }
    snprintf(msg, n, "expected a distribution (stratsim.normal(...), ...), got %s", sl_tname(L, idx));
    return -1;
}

/* ============================================= reading the scenario tables */

typedef struct inputs_box {
    ss_analysis *a;
} inputs_box;

static int l_inputs_gc(lua_State *L)
{
    inputs_box *b = luaL_checkudata(L, 1, INPUTS_META);
    ss_analysis_free(b->a);
    b->a = NULL;
    return 0;
}

/* Push a new box owning an empty ss_analysis. */
static inputs_box *new_inputs(lua_State *L)
{
    inputs_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->a = NULL;
    if (luaL_newmetatable(L, INPUTS_META)) {
        lua_pushcfunction(L, l_inputs_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, INPUTS_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    if (!(b->a = ss_analysis_new()))
        nomem(L);
    return b;
}

/* A job of the core (stratsim/analysis.h) in a userdata: released by its
 * __gc, so a Lua error during the job leaks nothing. */
typedef struct jobbox {
    void (*release)(struct jobbox *b);
    union {
        ss_sens_job sens;
        ss_calibrate_job cal;
        ss_optimize_job opt;
        struct sweep_res *sw;
    } u;
} jobbox;

static int l_job_gc(lua_State *L)
{
    jobbox *b = luaL_checkudata(L, 1, JOB_META);
    if (b->release)
        b->release(b);
    b->release = NULL;
    return 0;
}

static void release_sens(jobbox *b)
{
    ss_sens_job_free(&b->u.sens);
}

static void release_cal(jobbox *b)
{
    ss_calibrate_job_free(&b->u.cal);
}

static void release_opt(jobbox *b)
{
    ss_optimize_job_free(&b->u.opt);
}

static void sweep_res_free(struct sweep_res *r);
static void release_sweep(jobbox *b)
{
    sweep_res_free(b->u.sw);
}

/* Push a new job box released by `release` (its job still to be set). */
static jobbox *new_job(lua_State *L, void (*release)(jobbox *b))
{
    jobbox *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, JOB_META)) {
        lua_pushcfunction(L, l_job_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, JOB_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    b->release = release;
    return b;
}

#if defined(__GNUC__)
#define LOC_ATTR __attribute__((format(printf, 4, 5)))
#else
#define LOC_ATTR
#endif

/* Raise "FILE:LINE: PATH: message" located in the scenario at idx. */
_Noreturn static void located(lua_State *L, int scen, const char *path, const char *fmt, ...) LOC_ATTR;
_Noreturn static void located(lua_State *L, int scen, const char *path, const char *fmt, ...)
{
    char msg[600], out[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (scen == 0) { /* an option table of a method: argument 2 */
        snprintf(out, sizeof out, "%s: %s", path, msg);
        luaL_argerror(L, 2, out);
    }
    sl_scenario_format(L, scen, path, msg, out, sizeof out);
    sl_raise(L, SS_EINVAL, "%s", out);
}

/* `table["key"]` for messages (the locator finds the table's line). */
static const char *keypath(char *buf, size_t n, const char *table, const char *key)
{
    snprintf(buf, n, "%s[\"%s\"]", table, key);
    return buf;
}

/* Check a parameter path against the scenario's model. */
static void check_path(lua_State *L, int scen, const ss_model *m, const char *label,
                       const char *path, const char *what)
{
    ss_err err = {0};
    int rc = ss_analysis_check_path(m, path, what, &err);
    if (rc == SS_ENOMEM)
        nomem(L);
    if (rc != SS_OK)
        located(L, scen, label, "%s", err.msg);
}

/* A finite number field of the table at t (absolute), or `def` if absent. */
static double num_field(lua_State *L, int scen, int t, const char *key, double def,
                        const char *label)
{
    double x = def;
    if (lua_getfield(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            located(L, scen, label, "%s: expected a number, got %s", key, sl_tname(L, -1));
        x = lua_tonumber(L, -1);
        if (isnan(x))
            located(L, scen, label, "%s: expected a number, got nan", key);
    }
    lua_pop(L, 1);
    return x;
}

/* Unknown keys of the table at t. */
static void check_keys(lua_State *L, int scen, int t, const char *const *allowed, const char *label)
{
    char sug[96];
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!k)
            located(L, scen, label, "unexpected %s key", luaL_typename(L, -2));
        if (!in_list(allowed, k))
            located(L, scen, label, "unknown key '%s'%s", k, ss_suggest(k, allowed, (size_t)-1, sug, sizeof sug));
        lua_pop(L, 1);
    }
}

/* A parameter-path key at idx (a string without NUL bytes), or NULL. */
static const char *path_key(lua_State *L, int idx)
{
    size_t len;
    const char *s;
    if (lua_type(L, idx) != LUA_TSTRING)
        return NULL;
    s = lua_tolstring(L, idx, &len);
    return strlen(s) == len && len > 0 ? s : NULL;
}

/* `uncertainty`: path -> distribution, in any order (the setter keeps the
 * array sorted by path, the Monte Carlo draw order). */
static void read_uncertainty(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    char label[320], msg[300];
    int t;
    if (sl_scenario_push_field(L, scen, "uncertainty") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *path;
        ss_dist d;
        ss_err err = {0};
        if (!(path = path_key(L, -2)))
            located(L, scen, "uncertainty", "expected parameter paths as keys "
                    "([\"segments.public.growth\"] = ...), found a %s key", luaL_typename(L, -2));
        keypath(label, sizeof label, "uncertainty", path);
        if (to_dist(L, -1, &d, msg, sizeof msg) != 0)
            located(L, scen, label, "%s", msg);
        check_path(L, scen, m, label, path, "uncertain parameter");
        if (ss_analysis_set_dist(a, path, &d, &err) != SS_OK)
            nomem(L);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void read_outages(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    static const char *const keys[] = {"rate", "severity", NULL};
    char label[320], msg[300], sug[96];
    size_t i, n = 0;
    int t;
    if (sl_scenario_push_field(L, scen, "outages") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    /* unknown providers first */
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *id = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!id)
            located(L, scen, "outages", "expected provider ids as keys (alibaba = {...}), "
                    "found a %s key", luaL_typename(L, -2));
        if (ss_model_provider_index(m, id) < 0) {
            const char **ids = lua_newuserdatauv(L, (m->nprov + 1) * sizeof *ids, 0);
            for (i = 0; i < m->nprov; i++)
                ids[i] = m->prov[i].id;
            ids[m->nprov] = NULL;
            located(L, scen, keypath(label, sizeof label, "outages", id), "unknown provider '%s'%s",
                    id, ss_suggest(id, ids, (size_t)-1, sug, sizeof sug));
        }
        lua_pop(L, 1);
        n++;
    }
    if (n == 0) {
        lua_pop(L, 1);
        return;
    }
    a->outages = calloc(n, sizeof *a->outages);
    if (!a->outages)
        nomem(L);
    /* in provider declaration order */
    for (i = 0; i < m->nprov; i++) {
        const char *id = m->prov[i].id;
        ss_mc_outage *o;
        int e;
        if (lua_getfield(L, t, id) == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        e = lua_gettop(L);
        keypath(label, sizeof label, "outages", id);
        if (lua_type(L, e) != LUA_TTABLE)
            located(L, scen, label, "expected a table {rate = ..., severity = ...}, got %s",
                    sl_tname(L, e));
        check_keys(L, scen, e, keys, label);
        o = &a->outages[a->noutages];
        o->rate = num_field(L, scen, e, "rate", NAN, label);
        if (isnan(o->rate))
            located(L, scen, label, "rate: missing (expected outages per year, >= 0)");
        if (!(o->rate >= 0) || !isfinite(o->rate))
            located(L, scen, label, "rate: must be a finite number >= 0 (got %s)",
                    fnum(o->rate, msg, sizeof msg));
        if (lua_getfield(L, e, "severity") == LUA_TNIL)
            located(L, scen, label, "severity: missing (expected a distribution of the "
                    "reliability lost per outage, e.g. stratsim.uniform(0.02, 0.1))");
        if (to_dist(L, -1, &o->severity, msg, sizeof msg) != 0)
            located(L, scen, label, "severity: %s", msg);
        lua_pop(L, 2);
        if (!(o->provider = strdup(id)))
            nomem(L);
        a->noutages++;
    }
    lua_pop(L, 1);
}

/* { [path] = {lower = , upper = , start = } } at t (absolute); `where`
 * names the table in messages. */
static void read_calib_table(lua_State *L, int scen, const ss_model *m, int t, const char *where,
                             ss_analysis *a)
{
    static const char *const keys[] = {"lower", "upper", "start", NULL};
    char label[320], b1[40], b2[40];
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *path;
        double lo, hi, start;
        ss_err err = {0};
        int e = lua_gettop(L);
        if (!(path = path_key(L, -2)))
            located(L, scen, where, "expected parameter paths as keys "
                    "([\"segments.public.tau\"] = {...}), found a %s key", luaL_typename(L, -2));
        keypath(label, sizeof label, where, path);
        if (lua_type(L, e) != LUA_TTABLE)
            located(L, scen, label, "expected a table {lower = ..., upper = ..., start = ...}, "
                    "got %s", sl_tname(L, e));
        check_keys(L, scen, e, keys, label);
        lo = num_field(L, scen, e, "lower", -INFINITY, label);
        hi = num_field(L, scen, e, "upper", INFINITY, label);
        start = num_field(L, scen, e, "start", NAN, label);
        if (!(lo < hi))
            located(L, scen, label, "lower (%s) must be < upper (%s)", fnum(lo, b1, sizeof b1),
                    fnum(hi, b2, sizeof b2));
        if (!isnan(start) && !(start >= lo && start <= hi))
            located(L, scen, label, "start (%s) must lie in [lower, upper]", fnum(start, b1, sizeof b1));
        check_path(L, scen, m, label, path, "calibrated parameter");
        if (ss_analysis_set_calib(a, path, lo, hi, start, &err) != SS_OK)
            nomem(L);
        lua_settop(L, e - 1);
    }
}

static void read_calibrate(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    if (sl_scenario_push_field(L, scen, "calibrate") != LUA_TNIL)
        read_calib_table(L, scen, m, lua_gettop(L), "calibrate", a);
    lua_pop(L, 1);
}

/* controls = { [path] = {lower = , upper = } or {lo, hi} } of the table at t. */
static void read_controls(lua_State *L, int scen, const ss_model *m, int t, const char *where,
                          ss_analysis *a)
{
    static const char *const keys[] = {"lower", "upper", NULL};
    char label[320], b1[40], b2[40];
    lua_pushnil(L);
    while (lua_next(L, t)) {
        const char *path;
        double lo, hi;
        ss_err err = {0};
        int e = lua_gettop(L);
        if (!(path = path_key(L, -2)))
            located(L, scen, where, "controls: expected parameter paths as keys, found a %s key",
                    luaL_typename(L, -2));
        snprintf(label, sizeof label, "%s.controls[\"%s\"]", where, path);
        if (lua_type(L, e) != LUA_TTABLE)
            located(L, scen, label, "expected a table {lower = ..., upper = ...}, got %s", sl_tname(L, e));
        if (lua_rawlen(L, e) == 2) {
            lua_rawgeti(L, e, 1);
            lua_rawgeti(L, e, 2);
            if (lua_type(L, -2) != LUA_TNUMBER || lua_type(L, -1) != LUA_TNUMBER)
                located(L, scen, label, "expected {lower, upper} numbers");
            lo = lua_tonumber(L, -2);
            hi = lua_tonumber(L, -1);
            lua_pop(L, 2);
        } else {
            check_keys(L, scen, e, keys, label);
            lo = num_field(L, scen, e, "lower", NAN, label);
            hi = num_field(L, scen, e, "upper", NAN, label);
        }
        if (!isfinite(lo) || !isfinite(hi) || !(lo <= hi))
            located(L, scen, label, "needs finite bounds lower <= upper (got %s, %s)",
                    fnum(lo, b1, sizeof b1), fnum(hi, b2, sizeof b2));
        check_path(L, scen, m, label, path, "control");
        if (ss_analysis_set_control(a, path, lo, hi, &err) != SS_OK)
            nomem(L);
        lua_settop(L, e - 1);
    }
}

/* Selector syntax and ids; `label` names the key. */
static void check_selector(lua_State *L, int scen, const ss_model *m, const char *label,
                           const char *text, int constraint)
{
    ss_err err = {0};
    int rc;
    if (constraint) {
        ss_constraint c;
        rc = ss_constraint_parse(&c, text, &err);
        if (rc == SS_OK)
            rc = ss_constraint_validate(&c, m, &err);
    } else {
        ss_selector s;
        rc = ss_selector_parse(&s, text, &err);
        if (rc == SS_OK && s.when == SS_SEL_EACH)
            rc = ss_err_set(&err, SS_EINVAL, "", "selector '%s': an objective needs one value, "
                            "not @each", text);
        if (rc == SS_OK)
            rc = ss_selector_validate(&s, m, &err);
    }
    if (rc != SS_OK)
        located(L, scen, label, "%s", err.msg);
}

/* The keys of an optimize table (scenario) or of :optimize{...} options
 * that describe the problem; `t` absolute. Returns nothing; fills a. */
static void read_problem(lua_State *L, int scen, const ss_model *m, int t, const char *where,
                         ss_analysis *a)
{
    char label[320];
    ss_err err = {0};
    if (lua_getfield(L, t, "objective") != LUA_TNIL) {
        snprintf(label, sizeof label, "%s.objective", where);
        if (lua_type(L, -1) == LUA_TFUNCTION) {
            free(a->objective);
            a->objective = NULL;
            a->objective_fn = 1;
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            check_selector(L, scen, m, label, lua_tostring(L, -1), 0);
            if (ss_analysis_set_objective(a, lua_tostring(L, -1), &err) != SS_OK)
                nomem(L);
        } else {
            located(L, scen, label, "expected a selector such as \"npv:alibaba\" or a "
                    "function(result), got %s", sl_tname(L, -1));
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "minimize") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            located(L, scen, where, "minimize: expected a boolean, got %s", sl_tname(L, -1));
        a->minimize = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "controls") != LUA_TNIL) {
        snprintf(label, sizeof label, "%s.controls", where);
        if (lua_type(L, -1) != LUA_TTABLE)
            located(L, scen, label, "expected a table {[PATH] = {lower = ..., upper = ...}}, got %s",
                    sl_tname(L, -1));
        read_controls(L, scen, m, lua_gettop(L), where, a);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "constraints") != LUA_TNIL) {
        int c = lua_gettop(L);
        lua_Integer i, n;
        snprintf(label, sizeof label, "%s.constraints", where);
        if (lua_type(L, c) != LUA_TTABLE)
            located(L, scen, label, "expected a list of strings such as "
                    "\"share:alibaba:public@2028 >= 0.25\", got %s", sl_tname(L, c));
        n = (lua_Integer)lua_rawlen(L, c);
        /* the list replaces any earlier one */
        while (a->nconstraints)
            free(a->constraints[--a->nconstraints]);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, c, i);
            if (lua_type(L, -1) != LUA_TSTRING)
                located(L, scen, label, "element %d: expected a string, got %s", (int)i, sl_tname(L, -1));
            check_selector(L, scen, m, label, lua_tostring(L, -1), 1);
            if (ss_analysis_add_constraint(a, lua_tostring(L, -1), &err) != SS_OK)
                nomem(L);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "starts") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 100000)
            located(L, scen, where, "starts: expected an integer in 1..100000");
        a->starts = (size_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, t, "seed") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
            located(L, scen, where, "seed: expected an integer >= 0");
        a->seed = (unsigned long)lua_tointeger(L, -1);
        a->has_seed = 1;
    }
    lua_pop(L, 1);
}

static void read_optimize(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    static const char *const keys[] = {
        "objective", "minimize", "controls", "constraints", "starts", "seed", NULL
    };
    int t;
    if (sl_scenario_push_field(L, scen, "optimize") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    check_keys(L, scen, t, keys, "optimize");
    read_problem(L, scen, m, t, "optimize", a);
    lua_pop(L, 1);
}

/* A change of a check: its path and value, sorted together by path. */
typedef struct change_kv {
    char *path;
    double value;
} change_kv;

static int change_cmp(const void *a, const void *b)
{
    return strcmp(((const change_kv *)a)->path, ((const change_kv *)b)->path);
}

/* Sort the changes of c by path in byte order (paths are distinct: table keys). */
static void sort_changes(lua_State *L, ss_an_check *c)
{
    change_kv *kv = lua_newuserdatauv(L, (c->nchanges ? c->nchanges : 1) * sizeof *kv, 0);
    size_t j;
    for (j = 0; j < c->nchanges; j++) {
        kv[j].path = c->paths[j];
        kv[j].value = c->values[j];
    }
    qsort(kv, c->nchanges, sizeof *kv, change_cmp);
    for (j = 0; j < c->nchanges; j++) {
        c->paths[j] = kv[j].path;
        c->values[j] = kv[j].value;
    }
    lua_pop(L, 1);
}

/*
 * checks = { { name = "...", change = { [PATH] = number, ... },
 *              expect = "SELECTOR OP base|NUMBER" }, ... }
 */
static void read_checks(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    static const char *const keys[] = {"name", "change", "expect", NULL};
    char label[320];
    lua_Integer i, n;
    int t;
    if (sl_scenario_push_field(L, scen, "checks") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        located(L, scen, "checks", "expected a list of { name = , change = , expect = } tables, got %s",
                sl_tname(L, t));
    n = (lua_Integer)lua_rawlen(L, t);
    if (!(a->checks = calloc(n ? (size_t)n : 1, sizeof *a->checks)))
        nomem(L);
    for (i = 1; i <= n; i++) {
        ss_an_check *c = &a->checks[a->nchecks];
        ss_expect e;
        ss_err err = {0};
        int ct, e_idx;
        snprintf(label, sizeof label, "checks[%d]", (int)i);
        lua_rawgeti(L, t, i);
        e_idx = lua_gettop(L);
        if (lua_type(L, e_idx) != LUA_TTABLE)
            located(L, scen, label, "expected a table { name = , change = , expect = }, got %s",
                    sl_tname(L, e_idx));
        check_keys(L, scen, e_idx, keys, label);
        a->nchecks++;
        lua_getfield(L, e_idx, "name");
        if (lua_type(L, -1) != LUA_TSTRING)
            located(L, scen, label, "name: expected a string, got %s", sl_tname(L, -1));
        if (!(c->name = strdup(lua_tostring(L, -1))))
            nomem(L);
        lua_pop(L, 1);
        lua_getfield(L, e_idx, "expect");
        if (lua_type(L, -1) != LUA_TSTRING)
            located(L, scen, label, "expect: expected a string such as "
                    "\"share:alibaba:public@2028 > base\", got %s", sl_tname(L, -1));
        if (ss_expect_parse(&e, lua_tostring(L, -1), &err) != SS_OK ||
            ss_selector_validate(&e.sel, m, &err) != SS_OK)
            located(L, scen, label, "expect: %s", err.msg);
        if (!(c->expect = strdup(lua_tostring(L, -1))))
            nomem(L);
        lua_pop(L, 1);
        if (lua_getfield(L, e_idx, "change") != LUA_TTABLE)
            located(L, scen, label, "change: expected a table {[PATH] = value, ...}, got %s",
                    sl_tname(L, -1));
        ct = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, ct)) {
            const char *path = path_key(L, -2);
            char **np;
            double *nv;
            if (!path)
                located(L, scen, label, "change: expected parameter paths as keys, found a %s key",
                        luaL_typename(L, -2));
            if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
                located(L, scen, label, "change[\"%s\"]: expected a finite number, got %s", path,
                        sl_tname(L, -1));
            if (ss_analysis_check_path(m, path, "changed parameter", &err) != SS_OK)
                located(L, scen, label, "change[\"%s\"]: %s", path, err.msg);
            np = realloc(c->paths, (c->nchanges + 1) * sizeof *np);
            if (np)
                c->paths = np;
            nv = realloc(c->values, (c->nchanges + 1) * sizeof *nv);
            if (nv)
                c->values = nv;
            if (!np || !nv || !(c->paths[c->nchanges] = strdup(path)))
                nomem(L);
            c->values[c->nchanges++] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        if (c->nchanges == 0)
            located(L, scen, label, "change: names no parameter");
        /* paths in byte order (deterministic), values along */
        sort_changes(L, c);
        lua_settop(L, t);
    }
    lua_pop(L, 1);
}

/* Read the tables `what` of the scenario at scen into a. */
static void read_tables(lua_State *L, int scen, unsigned what, ss_analysis *a)
{
    const ss_model *m = sl_scenario_model(L, scen);
    luaL_checkstack(L, 20, NULL);
    a->has_policy = sl_scenario_push_field(L, scen, "policy") == LUA_TFUNCTION;
    lua_pop(L, 1);
    a->has_outputs = sl_scenario_push_field(L, scen, "outputs") == LUA_TTABLE;
    lua_pop(L, 1);
    if (what & SS_AN_UNCERTAINTY) {
        read_uncertainty(L, scen, m, a);
        read_outages(L, scen, m, a);
    }
    if (what & SS_AN_CALIBRATE)
        read_calibrate(L, scen, m, a);
    if (what & SS_AN_OPTIMIZE)
        read_optimize(L, scen, m, a);
    if (what & SS_AN_CHECKS)
        read_checks(L, scen, m, a);
}

/* Protected part of ss_script_analysis: 1 scenario, 2 what. */
static int l_read_analysis(lua_State *L)
{
    unsigned what = (unsigned)lua_tointeger(L, 2);
    inputs_box *b;
    if (!sl_scenario_model(L, 1))
        return luaL_error(L, "not a scenario");
    b = new_inputs(L);
    read_tables(L, 1, what, b->a);
    return 1;
}

int ss_script_analysis(ss_script *s, size_t i, unsigned what, ss_analysis **out, ss_err *err)
{
    lua_State *L = ss_script_state(s);
    int top = lua_gettop(L), status;
    inputs_box *b;
    *out = NULL;
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    lua_pushcfunction(L, l_read_analysis);
    if (ss_script_push_scenario(s, i) != 0) {
        lua_settop(L, top);
        return ss_err_set(err, SS_EINVAL, "", "no scenario %zu", i);
    }
    lua_pushinteger(L, (lua_Integer)what);
    status = sl_pcall(L, 2, 1);
    if (status != LUA_OK) {
        int rc = sl_to_err(L, status, err);
        lua_settop(L, top);
        return rc;
    }
    b = lua_touserdata(L, -1);
    *out = b->a;
    b->a = NULL;
    lua_settop(L, top);
    return SS_OK;
}

/* ================================================== Lua objective functions */

/* A deep copy of a result (the Result object pushed to an objective takes
 * ownership of what it gets; the optimiser keeps its own). NULL on failure. */
static ss_result *result_copy(const ss_result *r)
{
    ss_result *c = ss_result_new(r->scenario, r->nt, r->np, r->prov_ids, r->nk, r->seg_ids);
    size_t i;
    if (!c)
        return NULL;
    memcpy(c->t, r->t, r->nt * sizeof *r->t);
    memcpy(c->ps, r->ps, r->nt * SS_NPS * r->np * r->nk * sizeof *r->ps);
    memcpy(c->p, r->p, r->nt * SS_NP * r->np * sizeof *r->p);
    memcpy(c->s, r->s, r->nt * SS_NS * r->nk * sizeof *r->s);
    if (r->nextra) {
        c->extra_names = calloc(r->nextra, sizeof *c->extra_names);
        c->extra = malloc(r->nt * r->nextra * sizeof *c->extra);
        if (!c->extra_names || !c->extra) {
            free(c->extra_names);
            c->extra_names = NULL;
            ss_result_free(c);
            return NULL;
        }
        c->nextra = r->nextra;
        for (i = 0; i < r->nextra; i++)
            if (!(c->extra_names[i] = strdup(r->extra_names[i]))) {
                ss_result_free(c);
                return NULL;
            }
        memcpy(c->extra, r->extra, r->nt * r->nextra * sizeof *c->extra);
        if (r->extra_units) {
            if (!(c->extra_units = calloc(r->nextra, sizeof *c->extra_units))) {
                ss_result_free(c);
                return NULL;
            }
            for (i = 0; i < r->nextra; i++)
                if (r->extra_units[i] && !(c->extra_units[i] = strdup(r->extra_units[i]))) {
                    ss_result_free(c);
                    return NULL;
                }
        }
    }
    return c;
}

struct sl_objective {
    lua_State *L;
    int ref;              /* registry reference of the function */
    const ss_model *m;    /* the scenario (Result header and sidecar) */
    char *file;           /* its file, or NULL */
};

typedef struct obj_call {
    sl_objective *o;
    const ss_result *r;
    double value;
} obj_call;

/* Protected: value = f(Result of a copy of r). */
static int l_obj_call(lua_State *L)
{
    obj_call *c = lua_touserdata(L, 1);
    sl_push_result(L, result_copy(c->r), c->o->m, c->o->file); /* raises on failure */
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->o->ref);
    lua_insert(L, -2);
    lua_call(L, 1, 1); /* protected by the caller's sl_pcall */
    if (lua_type(L, -1) != LUA_TNUMBER)
        sl_raise(L, SS_EINVAL, "optimize: the objective function returned %s (expected a number)",
                     sl_tname(L, -1));
    c->value = lua_tonumber(L, -1);
    return 0;
}

int sl_objective_eval(double *out, const ss_result *r, const double *x, void *payload, ss_err *err)
{
    sl_objective *o = payload;
    lua_State *L = o->L;
    int top = lua_gettop(L), status;
    obj_call c;
    (void)x;
    c.o = o;
    c.r = r;
    c.value = NAN;
    if (!lua_checkstack(L, 6))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    sl_budget_reset(L); /* each evaluation has the script's instruction budget */
    lua_pushcfunction(L, l_obj_call);
    lua_pushlightuserdata(L, &c);
    status = sl_pcall(L, 1, 0);
    if (status != LUA_OK) {
        int rc = sl_to_err(L, status, err);
        lua_settop(L, top);
        return rc;
    }
    lua_settop(L, top);
    if (!isfinite(c.value))
        return ss_err_set(err, SS_ENUMERIC, "", "optimize: the objective function returned %g "
                          "(expected a finite number)", c.value);
    *out = c.value;
    return SS_OK;
}

/* Make an objective from the function at idx of state L (a reference is
 * taken first: luaL_ref may raise, the allocation after it cannot). */
static sl_objective *objective_new(lua_State *L, int idx, const ss_model *m, const char *file)
{
    sl_objective *o;
    int ref;
    lua_pushvalue(L, idx);
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    o = calloc(1, sizeof *o);
    if (o && file && !(o->file = strdup(file))) {
        free(o);
        o = NULL;
    }
    if (!o) {
        luaL_unref(L, LUA_REGISTRYINDEX, ref);
        return NULL;
    }
    o->L = L;
    o->m = m;
    o->ref = ref;
    return o;
}

void sl_objective_free(sl_objective *o)
{
    if (!o)
        return;
    luaL_unref(o->L, LUA_REGISTRYINDEX, o->ref);
    free(o->file);
    free(o);
}

typedef struct obj_req {
    ss_script *s;
    size_t i;
    const char *file;
    sl_objective *o;
} obj_req;

/* Protected part of ss_script_objective. */
static int l_script_objective(lua_State *L)
{
    obj_req *r = lua_touserdata(L, 1);
    ss_script_push_scenario(r->s, r->i);
    if (sl_scenario_push_field(L, -1, "optimize") != LUA_TTABLE ||
        lua_getfield(L, -1, "objective") != LUA_TFUNCTION)
        sl_raise(L, SS_EINVAL, "the scenario's optimize.objective is not a function");
    if (!(r->o = objective_new(L, lua_gettop(L), ss_script_model(r->s, r->i), r->file)))
        nomem(L);
    return 0;
}

int ss_script_objective(ss_script *s, size_t i, const char *file, sl_objective **out, ss_err *err)
{
    lua_State *L = ss_script_state(s);
    int top = lua_gettop(L), status;
    obj_req r;
    *out = NULL;
    r.s = s;
    r.i = i;
    r.file = file;
    r.o = NULL;
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    lua_pushcfunction(L, l_script_objective);
    lua_pushlightuserdata(L, &r);
    status = sl_pcall(L, 1, 0);
    if (status != LUA_OK) {
        int rc = sl_to_err(L, status, err);
        lua_settop(L, top);
        sl_objective_free(r.o);
        return rc;
    }
    lua_settop(L, top);
    *out = r.o;
    return SS_OK;
}

/* ============================================================ reseeding */

/* Protected: math.randomseed(arg 1) in the state's script environment
 * (no argument: the default seed of a fresh state). */
static int l_reseed(lua_State *L)
{
    int n = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushglobaltable(L);
    }
    if (lua_getfield(L, -1, "math") != LUA_TTABLE || lua_getfield(L, -1, "randomseed") != LUA_TFUNCTION)
        return 0; /* no math.random to reseed */
    if (n)
        lua_pushvalue(L, 1);
    lua_call(L, n, 0); /* protected by the caller's sl_pcall */
    return 0;
}

/* math.randomseed([seed]) in L's script environment; never raises. */
static int reseed_call(lua_State *L, int has_seed, uint64_t seed, ss_err *err)
{
    int top = lua_gettop(L), status;
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    lua_pushcfunction(L, l_reseed);
    if (has_seed)
        lua_pushinteger(L, (lua_Integer)(seed & 0x7fffffffffffffffULL));
    status = sl_pcall(L, has_seed, 0);
    if (status != LUA_OK) {
        int rc = sl_to_err(L, status, err);
        lua_settop(L, top);
        return rc;
    }
    lua_settop(L, top);
    return SS_OK;
}

static int reseed_state(lua_State *L, uint64_t seed, ss_err *err)
{
    return reseed_call(L, 1, seed, err);
}

/* Run-option wrappers of sl_crn_opts: reseed at the start of a run. */
static int crn_epoch(ss_run *run, double t, void *payload, ss_err *err)
{
    ss_crn *w = payload;
    const ss_model *m = ss_run_model(run);
    int rc;
    if (fabs(t - m->t0) <= 1e-9 * (1 + fabs(m->t0)) && (rc = reseed_call(w->L, 0, 0, err)) != SS_OK)
        return rc;
    return w->inner.on_epoch(run, t, w->inner.payload, err);
}

static int crn_output(ss_run *run, double t, double *out, void *payload, ss_err *err)
{
    ss_crn *w = payload;
    const ss_model *m = ss_run_model(run);
    int rc;
    if (!w->inner.on_epoch && fabs(t - m->t0) <= 1e-9 * (1 + fabs(m->t0)) &&
        (rc = reseed_call(w->L, 0, 0, err)) != SS_OK)
        return rc;
    return w->inner.on_output(run, t, out, w->inner.payload, err);
}

void sl_crn_opts(ss_crn *w, lua_State *L, ss_run_opts *ro)
{
    w->inner = *ro;
    w->L = L;
    if (!ro->on_epoch && !ro->on_output)
        return;
    ro->on_epoch = w->inner.on_epoch ? crn_epoch : NULL;
    ro->on_output = w->inner.on_output ? crn_output : NULL;
    ro->payload = w;
}

int ss_script_reseed(ss_script *s, uint64_t seed, ss_err *err)
{
    return reseed_state(ss_script_state(s), seed, err);
}

/* ======================================================= override files */

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct params_req {
    const char *path;
    const char *text;
    size_t len;
} params_req;

/* Protected: load and run the override file, check its table, return one
 * string "PATH=VALUE\n..." sorted by path. */
static int l_params_run(lua_State *L)
{
    params_req *r = lua_touserdata(L, 1);
    const char *text = r->text;
    size_t len = r->len, n = 0, i;
    luaL_Buffer b;
    int t, keys;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    lua_pushfstring(L, "@%s", r->path);
    if (luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t") != LUA_OK)
        sl_raise(L, SS_EINVAL, "%s", lua_tostring(L, -1));
    sl_vet_chunk(L);
    sl_bind_env(L);
    sl_set_root(L, r->path, 1); /* includes: below the file's directory */
    sl_budget_reset(L);
    lua_call(L, 0, 1); /* protected by the caller's sl_pcall */
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE || lua_getmetatable(L, t))
        sl_raise(L, SS_EINVAL, "%s: expected the file to return a table "
                     "{ [\"PATH\"] = number, ... }, got %s", r->path, sl_tname(L, t));
    lua_newtable(L);
    keys = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (!path_key(L, -2))
            sl_raise(L, SS_EINVAL, "%s: expected parameter paths as keys, found a %s key",
                         r->path, luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
            sl_raise(L, SS_EINVAL, "%s: [\"%s\"]: expected a finite number, got %s", r->path,
                         lua_tostring(L, -2), lua_type(L, -1) == LUA_TNUMBER ? "a non-finite number"
                                                                             : sl_tname(L, -1));
        if (strchr(lua_tostring(L, -2), '='))
            sl_raise(L, SS_EINVAL, "%s: [\"%s\"]: not a parameter path", r->path,
                         lua_tostring(L, -2));
        lua_pop(L, 1);
        if (n >= SS_PARAMS_MAX_KEYS)
            sl_raise(L, SS_ELIMIT, "%s: more than %d parameters (the limit of an override "
                         "file)", r->path, SS_PARAMS_MAX_KEYS);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, (lua_Integer)++n);
    }
    /* sort the keys by byte order (qsort of pointers to the strings,
     * anchored in `keys`) */
    {
        const char **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, keys, (lua_Integer)i);
            v[i - 1] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        qsort(v, n, sizeof *v, cmp_strp);
        for (i = 1; i <= n; i++) {
            lua_pushstring(L, v[i - 1]);
            lua_rawseti(L, keys, (lua_Integer)i);
        }
        lua_pop(L, 1);
    }
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        char num[64];
        lua_rawgeti(L, keys, (lua_Integer)i);
        lua_pushvalue(L, -1);
        lua_rawget(L, t);
        ss_fmt_double(num, sizeof num, lua_tonumber(L, -1));
        lua_pop(L, 1);
        lua_pushfstring(L, "%s=%s\n", lua_tostring(L, -1), num);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

int ss_params_read(const char *path, char ***out, size_t *n, ss_err *err)
{
    ss_script_opts so = SS_SCRIPT_OPTS_INIT;
    ss_script *s = NULL;
    params_req r;
    FILE *f;
    char *buf = NULL, **v = NULL;
    size_t cap = 0, len = 0, count = 0, i;
    const char *text, *p;
    int rc, status;
    lua_State *L;

    *out = NULL;
    *n = 0;
    if (!(f = fopen(path, "rb")))
        return ss_err_set(err, SS_EIO, "", "cannot open %s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nb;
            if (cap >= ((size_t)16 << 20)) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ELIMIT, "", "%s: larger than 16 MiB", path);
            }
            nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return ss_err_set(err, SS_EIO, "", "cannot read %s", path);
    }
    fclose(f);
    so.max_memory = (size_t)64 << 20;
    so.max_instructions = 10000000ULL;
    if ((rc = ss_script_open(&s, &so, err)) != SS_OK) {
        free(buf);
        return rc;
    }
    L = ss_script_state(s);
    r.path = path;
    r.text = buf;
    r.len = len;
    lua_pushcfunction(L, l_params_run);
    lua_pushlightuserdata(L, &r);
    status = sl_pcall(L, 1, 1);
    free(buf);
    if (status != LUA_OK) {
        rc = sl_to_err(L, status, err);
        ss_script_close(s);
        return rc;
    }
    text = lua_tostring(L, -1);
    for (p = text; *p; p++)
        count += *p == '\n';
    v = calloc(count + 1, sizeof *v);
    for (i = 0, p = text; v && i < count; i++) {
        const char *e = strchr(p, '\n');
        if (!(v[i] = malloc((size_t)(e - p) + 1)))
            break;
        memcpy(v[i], p, (size_t)(e - p));
        v[i][e - p] = '\0';
        p = e + 1;
    }
    ss_script_close(s);
    if (!v || i < count) {
        for (i = 0; v && i < count; i++)
            free(v[i]);
        free(v);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    *out = v;
    *n = count;
    return SS_OK;
}

/* ======================================================= result objects */

enum { R_MC, R_TORNADO, R_SOBOL, R_CALIB, R_OPT, R_SWEEP, R_NKINDS };

static const char *const rnames[R_NKINDS] = {
    "stratsim.MonteCarlo", "stratsim.Tornado", "stratsim.Sobol", "stratsim.Calibration",
    "stratsim.Optimization", "stratsim.Sweep"
};
static const char *const rcommands[R_NKINDS] = {
    "lua:montecarlo", "lua:sensitivity", "lua:sensitivity", "lua:calibrate", "lua:optimize",
    "lua:sweep"
};

/* A sweep's result: its grid (owned) and the job that ran it, which keeps
 * the points' values and selected outputs in memory. */
typedef struct sweep_res {
    ss_sweep_axis *axes;
    size_t naxes;
    ss_sweep_job job;
} sweep_res;

static void sweep_res_free(sweep_res *r)
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

/* User values of a result box. */
enum { RV_FIELDS = 1, RV_SETTINGS = 2, RV_SOURCE = 3, RV_OBJECTIVE = 4, RV_N = 4 };

/* A result object: owns the core result, the observations of a fit, and a
 * resolved copy of the scenario (selectors, sidecar). */
typedef struct rbox {
    int kind;
    void *res;
    ss_obs_set *obs;
    ss_model *model;
} rbox;

static void rbox_release(rbox *b)
{
    switch (b->kind) {
    case R_MC: ss_mc_result_free(b->res); break;
    case R_TORNADO: ss_tornado_free(b->res); break;
    case R_SOBOL: ss_sobol_free(b->res); break;
    case R_CALIB: ss_calibrate_free(b->res); break;
    case R_OPT: ss_optimize_free(b->res); break;
    case R_SWEEP: sweep_res_free(b->res); break;
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
static rbox *any_rbox(lua_State *L, int idx)
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
    rbox_release(any_rbox(L, 1));
    return 0;
}

/*
 * Push a new result box of `kind` for the scenario at argument 1 whose model
 * is m (a resolved copy is kept); records the scenario's file for the
 * sidecar.
 */
static rbox *new_rbox(lua_State *L, int kind, const ss_model *m, const char *fname)
{
    rbox *b = lua_newuserdatauv(L, sizeof *b, RV_N);
    ss_err err = {0};
    int rc;
    memset(b, 0, sizeof *b);
    b->kind = kind;
    luaL_setmetatable(L, rnames[kind]);
    if (!(b->model = ss_model_copy(m)))
        nomem(L);
    if ((rc = ss_model_resolve(b->model, &err)) != SS_OK)
        core_fail(L, fname, rc, &err);
    sl_scenario_push_file(L, 1);
    lua_setiuservalue(L, -2, RV_SOURCE);
    return b;
}

/* Store a malloc'ed settings JSON text (freed here) as user value 2. */
static void set_settings(lua_State *L, int box, char *json)
{
    if (!json)
        nomem(L);
    lua_pushstring(L, json);
    free(json);
    lua_setiuservalue(L, box, RV_SETTINGS);
}

/* __index: methods (upvalue 1), then the fields table. */
static int l_rbox_index(lua_State *L)
{
    any_rbox(L, 1);
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

static const char *gnum(double x, int digits, char *buf, size_t n);

static int l_rbox_tostring(lua_State *L)
{
    rbox *b = any_rbox(L, 1);
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
                     gnum(t->rows[0].swing, 6, sw, sizeof sw));
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
                 fnum(c->rmse, r, sizeof r), c->status, c->iterations);
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
                 fnum(r->objective, v, sizeof v), r->nstarts,
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
        nomem(L);
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
    rbox *b = any_rbox(L, 1);
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
    rbox *b = any_rbox(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *src;
    ss_sidecar_info info;
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
        rc = ss_analysis_write_pair(path, rbox_write_csv, &r, &info, models, 1, &err);
        lua_pop(L, 2);
    }
    if (rc != SS_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- summary(): the tables the CLI verbs print, as one string ---- */

static void addf(luaL_Buffer *B, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    luaL_addstring(B, buf);
}

/* A number in at most `digits` significant digits ("-0" shown as "0"). */
static const char *gnum(double x, int digits, char *buf, size_t n)
{
    if (x == 0)
        x = 0; /* no "-0" */
    snprintf(buf, n, "%.*g", digits, x);
    return buf;
}

static void mc_summary_row(luaL_Buffer *B, const ss_mc_result *r, const char *label, int metric,
                           size_t t, size_t i, size_t k)
{
    size_t j, nq = ss_mc_result_nquantiles(r);
    char b[48];
#define MC_PICK(res) (metric == 0 ? SS_RESULT_PS(res, t, SS_PS_SHARE, i, k) \
                      : metric == 1 ? SS_RESULT_P(res, t, SS_P_OPERATING_PROFIT, i) \
                                    : SS_RESULT_P(res, t, SS_P_NPV, i))
#define MC_CELL(res) (metric == 0 ? (snprintf(b, sizeof b, "%.2f%%", 100 * MC_PICK(res) + 0.0), b) \
                      : gnum(MC_PICK(res), 6, b, sizeof b))
    if (MC_PICK(ss_mc_result_kept(r)) != 1.0)
        return; /* not kept (montecarlo{outputs = ...}) */
    addf(B, "  %-34s %12s", label, MC_CELL(ss_mc_result_mean(r)));
    addf(B, " %12s", MC_CELL(ss_mc_result_sd(r)));
    for (j = 0; j < nq; j++)
        addf(B, " %12s", MC_CELL(ss_mc_result_quantile(r, j)));
#undef MC_CELL
#undef MC_PICK
    luaL_addchar(B, '\n');
}

static void mc_summary(luaL_Buffer *B, const ss_mc_result *r)
{
    const ss_result *mean = ss_mc_result_mean(r);
    size_t nq = ss_mc_result_nquantiles(r), j, i, k, t = mean->nt - 1;
    char b[48], label[200];
    addf(B, "Monte Carlo: %s, %llu runs, seed %llu; values at t = %.10g\n\n", mean->scenario,
         (unsigned long long)ss_mc_result_runs(r), (unsigned long long)ss_mc_result_seed(r), mean->t[t]);
    addf(B, "  %-34s %12s %12s", "", "mean", "sd");
    for (j = 0; j < nq; j++) {
        ss_mc_quantile_name(b, sizeof b, ss_mc_result_quantile_level(r, j));
        addf(B, " %12s", b);
    }
    luaL_addchar(B, '\n');
    for (i = 0; i < mean->np; i++)
        for (k = 0; k < mean->nk; k++) {
            snprintf(label, sizeof label, "share %s %s", mean->prov_ids[i], mean->seg_ids[k]);
            mc_summary_row(B, r, label, 0, t, i, k);
        }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "operating_profit %s", mean->prov_ids[i]);
        mc_summary_row(B, r, label, 1, t, i, 0);
    }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "npv %s", mean->prov_ids[i]);
        mc_summary_row(B, r, label, 2, t, i, 0);
    }
}

static void tornado_summary(luaL_Buffer *B, const ss_tornado *t)
{
    size_t i, j, w = 9;
    char b[4][48];
    for (i = 0; i < t->nparam; i++)
        if (strlen(t->params[i]) > w)
            w = strlen(t->params[i]);
    addf(B, "Tornado: %zu parameter%s x %zu output%s, %zu runs\n", t->nparam,
         t->nparam == 1 ? "" : "s", t->nout, t->nout == 1 ? "" : "s", 1 + 2 * t->nparam);
    for (j = 0; j < t->nout; j++) {
        addf(B, "\n%s (base %s)\n", t->outputs[j], gnum(t->base_out[j], 8, b[0], sizeof b[0]));
        addf(B, "  rank  %-*s %12s %12s %14s %14s %12s\n", (int)w, "parameter", "low", "high",
             "output@low", "output@high", "swing");
        for (i = 0; i < t->nparam * t->nout; i++) {
            const ss_tornado_row *row = &t->rows[i];
            if (row->output != j)
                continue;
            addf(B, "  %4zu  %-*s %12s %12s %14s %14s ", row->rank, (int)w, t->params[row->param],
                 gnum(row->low, 6, b[0], sizeof b[0]), gnum(row->high, 6, b[1], sizeof b[1]),
                 gnum(row->out_low, 8, b[2], sizeof b[2]), gnum(row->out_high, 8, b[3], sizeof b[3]));
            addf(B, "%12s\n", gnum(row->swing, 6, b[0], sizeof b[0]));
        }
    }
}

static void sobol_summary(luaL_Buffer *B, const ss_sobol *s)
{
    size_t i, j, w = 9;
    char b[4][48];
    for (i = 0; i < s->d; i++)
        if (strlen(s->params[i]) > w)
            w = strlen(s->params[i]);
    addf(B, "Sobol indices: %zu parameter%s x %zu output%s, N = %zu, %zu runs\n", s->d,
         s->d == 1 ? "" : "s", s->nout, s->nout == 1 ? "" : "s", s->n, s->nevals);
    for (j = 0; j < s->nout; j++) {
        addf(B, "\n%s (mean %s, sd %s)\n", s->outputs[j], gnum(s->mean[j], 8, b[0], sizeof b[0]),
             gnum(sqrt(s->var[j]), 6, b[1], sizeof b[1]));
        addf(B, "  %-*s %9s %21s %9s %21s\n", (int)w, "parameter", "S1", "interval", "ST", "interval");
        for (i = 0; i < s->d; i++) {
            char i1[64], i2[64];
            snprintf(i1, sizeof i1, "[%.3f, %.3f]", SS_SOBOL_AT(s, S1_lo, i, j) + 0.0,
                     SS_SOBOL_AT(s, S1_hi, i, j) + 0.0);
            snprintf(i2, sizeof i2, "[%.3f, %.3f]", SS_SOBOL_AT(s, ST_lo, i, j) + 0.0,
                     SS_SOBOL_AT(s, ST_hi, i, j) + 0.0);
            addf(B, "  %-*s %9.4f %21s %9.4f %21s\n", (int)w, s->params[i],
                 SS_SOBOL_AT(s, S1, i, j) + 0.0, i1, SS_SOBOL_AT(s, ST, i, j) + 0.0, i2);
        }
    }
}

static void calib_summary(luaL_Buffer *B, const ss_calib_result *c)
{
    size_t i, w = 9;
    char b[3][48], bounds[120];
    for (i = 0; i < c->np; i++)
        if (strlen(c->paths[i]) > w)
            w = strlen(c->paths[i]);
    addf(B, "Calibration: %zu observation%s, %zu parameter%s, dof %ld\n\n", c->nobs,
         c->nobs == 1 ? "" : "s", c->np, c->np == 1 ? "" : "s", (long)c->dof);
    addf(B, "  %-*s %16s %12s %12s   %s\n", (int)w, "parameter", "value", "+- se", "start", "bounds");
    for (i = 0; i < c->np; i++) {
        snprintf(bounds, sizeof bounds, "[%s, %s]", gnum(c->lower[i], 6, b[0], sizeof b[0]),
                 gnum(c->upper[i], 6, b[1], sizeof b[1]));
        addf(B, "  %-*s %16s ", (int)w, c->paths[i], gnum(c->value[i], 10, b[0], sizeof b[0]));
        addf(B, "%12s %12s   %s%s\n", gnum(c->se[i], 4, b[1], sizeof b[1]),
             gnum(c->start[i], 6, b[2], sizeof b[2]), bounds, c->at_bound[i] ? "  at a bound" : "");
    }
    addf(B, "\n  RMSE %s, chi2 %s, residual sd %s\n", gnum(c->rmse, 6, b[0], sizeof b[0]),
         gnum(c->chi2, 6, b[1], sizeof b[1]), gnum(c->sigma, 6, b[2], sizeof b[2]));
    addf(B, "  status: %s after %zu iteration%s (%zu model runs)\n", c->status, c->iterations,
         c->iterations == 1 ? "" : "s", c->nevals);
}

static void opt_summary(luaL_Buffer *B, const ss_opt_result *r, const char *objective)
{
    size_t i, w = 9;
    char b[3][48];
    for (i = 0; i < r->ncontrols; i++)
        if (strlen(r->paths[i]) > w)
            w = strlen(r->paths[i]);
    for (i = 0; i < r->nconstraints; i++)
        if (strlen(r->cons_text[i]) > w)
            w = strlen(r->cons_text[i]);
    if (strlen(objective) > w)
        w = strlen(objective);
    addf(B, "Optimisation: %s over %zu control%s, %zu start%s, %zu runs\n\n", objective,
         r->ncontrols, r->ncontrols == 1 ? "" : "s", r->nstarts, r->nstarts == 1 ? "" : "s", r->nevals);
    addf(B, "  %-*s %16s %16s   %s\n", (int)w, "control", "best", "initial", "bounds");
    for (i = 0; i < r->ncontrols; i++) {
        addf(B, "  %-*s %16s ", (int)w, r->paths[i], gnum(r->x[i], 10, b[0], sizeof b[0]));
        addf(B, "%16s   [%s, ", gnum(r->x0[i], 10, b[0], sizeof b[0]), gnum(r->lower[i], 6, b[1], sizeof b[1]));
        addf(B, "%s]\n", gnum(r->upper[i], 6, b[2], sizeof b[2]));
    }
    addf(B, "\n  %-*s %16s %16s\n", (int)w, "objective", "best", "initial");
    addf(B, "  %-*s %16s ", (int)w, objective, gnum(r->objective, 10, b[0], sizeof b[0]));
    addf(B, "%16s\n", gnum(r->objective0, 10, b[0], sizeof b[0]));
    if (r->nconstraints) {
        addf(B, "\n  %-*s %16s %16s  %s\n", (int)w, "constraint", "value", "violation", "holds");
        for (i = 0; i < r->nconstraints; i++) {
            addf(B, "  %-*s %16s ", (int)w, r->cons_text[i], gnum(r->cons_value[i], 10, b[0], sizeof b[0]));
            addf(B, "%16s  %s\n", gnum(r->cons_violation[i], 3, b[0], sizeof b[0]),
                 r->cons_holds[i] ? "yes" : "NO");
        }
    }
    addf(B, "\n  %s; the best start (%zu of %zu) %s\n",
         r->nconstraints == 0 ? "no constraints"
         : r->feasible ? "feasible: every constraint holds"
                       : "INFEASIBLE: no start satisfied every constraint (least violation shown)",
         r->best_start + 1, r->nstarts, r->converged ? "converged" : "did not converge");
}

/* The outputs per point, as `stratsim sweep` without -o prints them. */
static void sweep_summary(luaL_Buffer *B, const sweep_res *r)
{
    const ss_sweep_job *sj = &r->job;
    size_t j, w = 12, nc = r->naxes + sj->nout;
    uint64_t p;
    char b[48];
    for (j = 0; j < r->naxes; j++)
        if (strlen(r->axes[j].path) > w)
            w = strlen(r->axes[j].path);
    for (j = 0; j < sj->nout; j++)
        if (strlen(sj->sel[j].text) > w)
            w = strlen(sj->sel[j].text);
    if (w > 40)
        w = 40;
    addf(B, "Sweep: %llu point%s\n\n", (unsigned long long)sj->npoints, sj->npoints == 1 ? "" : "s");
    for (j = 0; j < nc; j++)
        addf(B, "%s%*s", j ? " " : "", (int)w, j < r->naxes ? r->axes[j].path : sj->sel[j - r->naxes].text);
    addf(B, "\n");
    for (p = 0; p < sj->npoints; p++) {
        for (j = 0; j < nc; j++)
            addf(B, "%s%*s", j ? " " : "", (int)w,
                 gnum(j < r->naxes ? sj->x[p * r->naxes + j] : sj->y[p * sj->nout + j - r->naxes], 6,
                      b, sizeof b));
        addf(B, "\n");
    }
}

/* r:summary() -> string: the result as the table its CLI verb prints. */
static int l_rbox_summary(lua_State *L)
{
    rbox *b = any_rbox(L, 1);
    luaL_Buffer B;
    lua_settop(L, 1);
    if (!b->res)
        luaL_argerror(L, 1, "result already closed");
    lua_getiuservalue(L, 1, RV_OBJECTIVE);
    luaL_buffinit(L, &B);
    switch (b->kind) {
    case R_MC: mc_summary(&B, b->res); break;
    case R_TORNADO: tornado_summary(&B, b->res); break;
    case R_SOBOL: sobol_summary(&B, b->res); break;
    case R_CALIB: calib_summary(&B, b->res); break;
    case R_SWEEP: sweep_summary(&B, b->res); break;
    default: opt_summary(&B, b->res, lua_isstring(L, 2) ? lua_tostring(L, 2) : "objective"); break;
    }
    luaL_pushresult(&B);
    return 1;
}

/* ---- fields ---- */

static void set_num(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
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
static void set_fields(lua_State *L, int box)
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

static void mc_fields(lua_State *L, int box, const ss_mc_result *r, unsigned threads)
{
    const ss_result *mean = ss_mc_result_mean(r);
    size_t j, nq = ss_mc_result_nquantiles(r);
    lua_createtable(L, 0, 6);
    set_str(L, "scenario", mean->scenario);
    set_int(L, "runs", (lua_Integer)ss_mc_result_runs(r));
    set_int(L, "seed", (lua_Integer)ss_mc_result_seed(r));
    set_int(L, "threads", (lua_Integer)threads);
    set_num(L, "compression", ss_mc_result_compression(r));
    lua_createtable(L, (int)nq, 0);
    for (j = 0; j < nq; j++) {
        lua_pushnumber(L, ss_mc_result_quantile_level(r, j));
        lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_setfield(L, -2, "quantiles");
    sl_push_numbers(L, mean->t, mean->nt);
    lua_setfield(L, -2, "times");
    set_fields(L, box);
}

/* ---- Tornado and Sobol ---- */

static void tornado_fields(lua_State *L, int box, const ss_tornado *t)
{
    size_t i;
    lua_createtable(L, 0, 6);
    set_str(L, "method", "tornado");
    set_int(L, "evaluations", (lua_Integer)(1 + 2 * t->nparam));
    sl_push_strings(L, t->params, t->nparam);
    lua_setfield(L, -2, "parameters");
    sl_push_strings(L, t->outputs, t->nout);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, 0, (int)t->nout);
    for (i = 0; i < t->nout; i++)
        set_num(L, t->outputs[i], t->base_out[i]);
    lua_setfield(L, -2, "base");
    lua_createtable(L, 0, (int)t->nparam);
    for (i = 0; i < t->nparam; i++)
        set_num(L, t->params[i], t->base_param[i]);
    lua_setfield(L, -2, "base_values");
    lua_createtable(L, (int)(t->nparam * t->nout), 0);
    for (i = 0; i < t->nparam * t->nout; i++) {
        const ss_tornado_row *w = &t->rows[i];
        lua_createtable(L, 0, 8);
        set_str(L, "parameter", t->params[w->param]);
        set_str(L, "output", t->outputs[w->output]);
        set_num(L, "low", w->low);
        set_num(L, "high", w->high);
        set_num(L, "output_at_low", w->out_low);
        set_num(L, "output_at_high", w->out_high);
        set_num(L, "swing", w->swing);
        set_int(L, "rank", (lua_Integer)w->rank);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "rows");
    set_fields(L, box);
}

static void sobol_fields(lua_State *L, int box, const ss_sobol *s)
{
    size_t i, j, r = 0;
    lua_createtable(L, 0, 8);
    set_str(L, "method", "sobol");
    set_int(L, "n", (lua_Integer)s->n);
    set_int(L, "evaluations", (lua_Integer)s->nevals);
    sl_push_strings(L, s->params, s->d);
    lua_setfield(L, -2, "parameters");
    sl_push_strings(L, s->outputs, s->nout);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, 0, (int)s->nout);
    for (j = 0; j < s->nout; j++)
        set_num(L, s->outputs[j], s->mean[j]);
    lua_setfield(L, -2, "mean");
    lua_createtable(L, 0, (int)s->nout);
    for (j = 0; j < s->nout; j++)
        set_num(L, s->outputs[j], s->var[j]);
    lua_setfield(L, -2, "variance");
    lua_createtable(L, (int)(s->d * s->nout), 0);
    for (i = 0; i < s->d; i++)
        for (j = 0; j < s->nout; j++) {
            lua_createtable(L, 0, 8);
            set_str(L, "parameter", s->params[i]);
            set_str(L, "output", s->outputs[j]);
            set_num(L, "S1", SS_SOBOL_AT(s, S1, i, j));
            set_num(L, "S1_lo", SS_SOBOL_AT(s, S1_lo, i, j));
            set_num(L, "S1_hi", SS_SOBOL_AT(s, S1_hi, i, j));
            set_num(L, "ST", SS_SOBOL_AT(s, ST, i, j));
            set_num(L, "ST_lo", SS_SOBOL_AT(s, ST_lo, i, j));
            set_num(L, "ST_hi", SS_SOBOL_AT(s, ST_hi, i, j));
            lua_rawseti(L, -2, (lua_Integer)++r);
        }
    lua_setfield(L, -2, "rows");
    set_fields(L, box);
}

/* ---- Calibration ---- */

static void calib_fields(lua_State *L, int box, const ss_calib_result *c, const ss_obs_set *o)
{
    size_t i;
    lua_createtable(L, 0, 16);
    lua_createtable(L, 0, (int)c->np);
    for (i = 0; i < c->np; i++)
        set_num(L, c->paths[i], c->value[i]);
    lua_setfield(L, -2, "values");
    lua_createtable(L, 0, (int)c->np);
    for (i = 0; i < c->np; i++)
        set_num(L, c->paths[i], c->se[i]);
    lua_setfield(L, -2, "se");
    lua_createtable(L, (int)c->np, 0);
    for (i = 0; i < c->np; i++) {
        lua_createtable(L, 0, 7);
        set_str(L, "path", c->paths[i]);
        set_num(L, "value", c->value[i]);
        set_num(L, "se", c->se[i]);
        set_num(L, "lower", c->lower[i]);
        set_num(L, "upper", c->upper[i]);
        set_num(L, "start", c->start[i]);
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
        set_num(L, "time", ob->t);
        set_str(L, "selector", ob->sel.text);
        set_num(L, "observed", ob->value);
        set_num(L, "weight", ob->weight);
        set_num(L, "model", c->model[i]);
        set_num(L, "residual", c->resid[i]);
        set_num(L, "weighted_residual", c->wresid[i]);
        set_bool(L, "by_construction", c->constructed[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "residuals");
    set_num(L, "chi2", c->chi2);
    set_num(L, "rmse", c->rmse);
    set_num(L, "sigma", c->sigma);
    set_int(L, "dof", (lua_Integer)c->dof);
    set_int(L, "by_construction", (lua_Integer)c->nconstructed);
    set_int(L, "iterations", (lua_Integer)c->iterations);
    set_int(L, "evaluations", (lua_Integer)c->nevals);
    set_bool(L, "converged", c->converged);
    set_str(L, "status", c->status);
    set_fields(L, box);
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

static void opt_fields(lua_State *L, int box, const ss_opt_result *r)
{
    size_t i;
    lua_createtable(L, 0, 14);
    lua_createtable(L, 0, (int)r->ncontrols);
    for (i = 0; i < r->ncontrols; i++)
        set_num(L, r->paths[i], r->x[i]);
    lua_setfield(L, -2, "controls");
    lua_createtable(L, 0, (int)r->ncontrols);
    for (i = 0; i < r->ncontrols; i++)
        set_num(L, r->paths[i], r->x0[i]);
    lua_setfield(L, -2, "initial");
    set_num(L, "objective", r->objective);
    set_num(L, "objective_initial", r->objective0);
    lua_createtable(L, (int)r->nconstraints, 0);
    for (i = 0; i < r->nconstraints; i++) {
        lua_createtable(L, 0, 4);
        set_str(L, "constraint", r->cons_text[i]);
        set_num(L, "value", r->cons_value[i]);
        set_num(L, "violation", r->cons_violation[i]);
        set_bool(L, "holds", r->cons_holds[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "constraints");
    set_bool(L, "feasible", r->feasible);
    set_bool(L, "converged", r->converged);
    set_int(L, "best_start", (lua_Integer)r->best_start + 1);
    set_int(L, "evaluations", (lua_Integer)r->nevals);
    set_int(L, "failed_runs", (lua_Integer)r->nfailed);
    if (r->last_failure[0])
        set_str(L, "last_failure", r->last_failure);
    lua_createtable(L, (int)r->nstarts, 0);
    for (i = 0; i < r->nstarts; i++) {
        lua_createtable(L, 0, 5);
        set_num(L, "objective", r->start[i].objective);
        set_num(L, "violation", r->start[i].violation);
        set_bool(L, "feasible", r->start[i].feasible);
        set_bool(L, "converged", r->start[i].converged);
        set_int(L, "iterations", (lua_Integer)r->start[i].iterations);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "starts");
    set_fields(L, box);
}

/* ====================================================== Scenario methods */

/* The options table (argument 2) or 0; unknown keys are errors. */
static int opts_table(lua_State *L, const char *const *allowed)
{
    char sug[96];
    if (lua_isnoneornil(L, 2))
        return 0;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!k || !in_list(allowed, k))
            luaL_argerror(L, 2, lua_pushfstring(L, "unknown option '%s'%s",
                                                k ? k : luaL_typename(L, -2),
                                                k ? ss_suggest(k, allowed, (size_t)-1, sug, sizeof sug) : ""));
        lua_pop(L, 1);
    }
    return 2;
}

static int opt_push(lua_State *L, int t, const char *key)
{
    if (!t) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, t, key);
}

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = def;
    if (opt_push(L, t, key) != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected an integer in %I..%I", key, lo, hi));
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static double opt_num(lua_State *L, int t, const char *key, double def, double lo, double hi)
{
    double v = def;
    if (opt_push(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= lo && lua_tonumber(L, -1) <= hi))
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected a number in [%f, %f]", key,
                                                (lua_Number)lo, (lua_Number)hi));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int opt_bool(lua_State *L, int t, const char *key, int def)
{
    int v = def;
    if (opt_push(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected a boolean", key));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* An array option of strings: pushes a userdata array of pointers to the
 * strings (anchored in the options table) and returns it; *n its length. */
static const char **opt_strings(lua_State *L, int t, const char *key, size_t *n)
{
    const char **v = NULL;
    lua_Integer i, len;
    *n = 0;
    if (opt_push(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (lua_type(L, -1) == LUA_TSTRING) { /* one string */
        v = lua_newuserdatauv(L, sizeof *v, 0);
        v[0] = lua_tostring(L, -2);
        *n = 1;
        lua_remove(L, -2); /* the string stays anchored in the options table */
        return v;
    }
    if (lua_type(L, -1) != LUA_TTABLE)
        luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected a list of strings", key));
    len = (lua_Integer)lua_rawlen(L, -1);
    v = lua_newuserdatauv(L, ((size_t)len + 1) * sizeof *v, 0);
    for (i = 1; i <= len; i++) {
        if (lua_rawgeti(L, -2, i) != LUA_TSTRING)
            luaL_argerror(L, 2, lua_pushfstring(L, "%s[%I]: expected a string", key, i));
        v[i - 1] = lua_tostring(L, -1); /* anchored in the list */
        lua_pop(L, 1);
    }
    lua_remove(L, -2);
    *n = (size_t)len;
    return v;
}

static volatile int *interrupt_flag(lua_State *L)
{
    void *p = NULL;
    if (lua_getfield(L, LUA_REGISTRYINDEX, SL_INTERRUPT) == LUA_TLIGHTUSERDATA)
        p = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return p;
}

/*
 * The progress of one analysis: forwarded to the host's display (registry
 * key SL_PROGRESS, e.g. the REPL's progress bar) if there is one, and
 * kept for the message of an interruption.
 */
typedef struct lprog {
    const sl_progress *host;
    uint64_t done, total;
    const char *unit;
} lprog;

static void lprog_update(uint64_t done, uint64_t total, void *payload)
{
    lprog *p = payload;
    p->done = done;
    p->total = total;
    if (p->host)
        p->host->update(done, total, p->host->payload);
}

/* Start: `what` (the method) and the scenario name label the display. */
static ss_progress lprog_begin(lua_State *L, lprog *p, const char *what, const ss_model *m,
                               const char *unit)
{
    ss_progress h;
    char label[200];
    p->host = NULL;
    p->done = p->total = 0;
    p->unit = unit;
    if (lua_getfield(L, LUA_REGISTRYINDEX, SL_PROGRESS) == LUA_TLIGHTUSERDATA)
        p->host = lua_touserdata(L, -1);
    lua_pop(L, 1);
    snprintf(label, sizeof label, "%s %s", what, m->name);
    if (p->host)
        p->host->begin(p->host->payload, label, unit);
    h.fn = lprog_update;
    h.payload = p;
    return h;
}

static void lprog_end(lprog *p)
{
    if (p->host)
        p->host->end(p->host->payload);
    p->host = NULL;
}

/* End the progress, then raise a core failure as core_fail does; an
 * interruption says how far the analysis got: "interrupted after 7,168 of
 * 200,000 runs". */
_Noreturn static void analysis_fail(lua_State *L, lprog *p, const char *fname, int rc,
                                    const ss_err *err)
{
    lprog_end(p);
    if (rc == SS_EINTR) {
        char where[300], a[32], b[32];
        /* "1 run", "2 runs": the unit agrees with the number before it */
        int one = (p->total ? p->total : p->done) == 1;
        int ulen = (int)strlen(p->unit) - one;
        sl_where(L, 1, where, sizeof where);
        if (p->total)
            sl_raise(L, rc, "%s: %s: interrupted after %s of %s %.*s", where, fname,
                         ss_fmt_count(a, sizeof a, p->done), ss_fmt_count(b, sizeof b, p->total),
                         ulen, p->unit);
        sl_raise(L, rc, "%s: %s: interrupted after %s %.*s", where, fname,
                     ss_fmt_count(a, sizeof a, p->done), ulen, p->unit);
    }
    core_fail(L, fname, rc, err);
}

static ss_model *check_scen(lua_State *L)
{
    ss_model *m;
    luaL_checkudata(L, 1, SL_SCENARIO);
    if (!(m = sl_scenario_model(L, 1)))
        luaL_argerror(L, 1, "invalid scenario");
    return m;
}

/* Read the scenario's tables `what` into a new inputs box (pushed). */
static ss_analysis *scen_inputs(lua_State *L, unsigned what)
{
    inputs_box *b = new_inputs(L);
    read_tables(L, 1, what, b->a);
    return b->a;
}

/*
 * Run options attaching the scenario's policy and derived metrics (runs
 * then call Lua on this state: one thread); the hooks' data is pushed and
 * must stay on the stack during the runs. Sets the interrupt flag.
 */
static void scen_run_opts(lua_State *L, ss_run_opts *ro)
{
    sl_push_hooks(L, 1, ro);
    ro->interrupt = interrupt_flag(L);
}

/* The same, for analyses other than Monte Carlo: every run starts with
 * math.random at its default seed (common random numbers); the wrapper is
 * a userdata pushed above the hooks. */
static void scen_run_opts_crn(lua_State *L, ss_run_opts *ro)
{
    ss_crn *w;
    scen_run_opts(L, ro);
    w = lua_newuserdatauv(L, sizeof *w, 0);
    sl_crn_opts(w, L, ro);
}

/* Monte Carlo prepare hook of a scenario with Lua hooks, run from Lua on one
 * worker: reseed math.random per run exactly as `stratsim mc` does. */
/* The payload of the Monte Carlo callbacks. */
typedef struct lua_mc_ctx {
    lua_State *L;
    lprog *prog;
} lua_mc_ctx;

static int lua_mc_prepare(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                          ss_run_opts *ro, void *payload, ss_err *err)
{
    (void)worker;
    (void)run;
    (void)model;
    (void)ro;
    return reseed_state(((lua_mc_ctx *)payload)->L, ss_analysis_run_seed(rng), err);
}

static void lua_mc_progress(uint64_t done, uint64_t total, void *payload)
{
    lprog_update(done, total, ((lua_mc_ctx *)payload)->prog);
}

/* sc:montecarlo{runs = 1000, seed = 1, threads = 1, quantiles = {...}, compression = 200} */
static int l_scen_montecarlo(lua_State *L)
{
    static const char *const keys[] = {"runs", "seed", "threads", "quantiles", "compression",
                                       "outputs", "max_memory", NULL};
    ss_model *m = check_scen(L);
    int t = opts_table(L, keys), box;
    ss_mc_opts o = ss_mc_job_opts();
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    double *q = NULL, *lv;
    size_t nq = 0, j;
    ss_analysis *a;
    ss_mc_result *res = NULL;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;
    lua_mc_ctx ctx;

    o.runs = (uint64_t)opt_int(L, t, "runs", (lua_Integer)o.runs, 1, (lua_Integer)1 << 40);
    o.seed = (uint64_t)opt_int(L, t, "seed", (lua_Integer)o.seed, 0, LUA_MAXINTEGER);
    o.threads = (unsigned)opt_int(L, t, "threads", (lua_Integer)o.threads, 0, 1024);
    o.compression = opt_num(L, t, "compression", 0, 0, 1e5);
    if (opt_push(L, t, "quantiles") != LUA_TNIL) {
        lua_Integer i, n = 0;
        if (lua_type(L, -1) != LUA_TTABLE || (n = (lua_Integer)lua_rawlen(L, -1)) < 1 || n > 100)
            luaL_argerror(L, 2, "quantiles: expected a list of 1 to 100 levels in [0, 1]");
        q = lua_newuserdatauv(L, (size_t)n * sizeof *q, 0);
        for (i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -2, i) != LUA_TNUMBER)
                luaL_argerror(L, 2, "quantiles: expected numbers in [0, 1]");
            q[i - 1] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        nq = (size_t)n;
    }
    {
        size_t nout = 0, i;
        const char **outs = opt_strings(L, t, "outputs", &nout);
        if (outs && nout == 0)
            luaL_argerror(L, 2, "outputs: expected a list of selectors, e.g. "
                          "{\"share:alibaba:public@each\", \"npv:alibaba\"}");
        if (nout) {
            ss_selector *sel = lua_newuserdatauv(L, nout * sizeof *sel, 0);
            for (i = 0; i < nout; i++) {
                ss_err e = {0};
                if (ss_selector_parse(&sel[i], outs[i], &e) != SS_OK ||
                    ss_selector_validate(&sel[i], m, &e) != SS_OK)
                    luaL_argerror(L, 2, lua_pushfstring(L, "outputs: %s", e.msg));
            }
            o.outputs = sel;
            o.noutputs = nout;
        }
    }
    switch (opt_push(L, t, "max_memory")) {
    case LUA_TNIL:
        break;
    case LUA_TNUMBER:
    case LUA_TSTRING: {
        uint64_t bytes;
        const char *txt = lua_tostring(L, -1);
        if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) == 0)
            o.max_memory = 0; /* no limit */
        else if (ss_mc_parse_bytes(txt, (uint64_t)1 << 20, &bytes) == 0)
            o.max_memory = bytes;
        else
            luaL_argerror(L, 2, "max_memory: expected a size such as \"512M\" or \"2G\", a "
                          "number of MiB, or 0 (no limit)");
        break;
    }
    default:
        luaL_argerror(L, 2, "max_memory: expected a size such as \"512M\" or \"2G\", a number "
                      "of MiB, or 0 (no limit)");
    }
    lua_pop(L, 1);
    a = scen_inputs(L, SS_AN_UNCERTAINTY);
    o.quantiles = q;
    o.nquantiles = nq;
    scen_run_opts(L, &ro);
    o.interrupt = ro.interrupt;
    o.run_opts = &ro;
    ctx.L = L;
    ctx.prog = &prog;
    o.payload = &ctx;
    o.progress = lua_mc_progress;
    if (ss_run_opts_active(&ro)) {
        /* Lua in every run: this state, so one worker (the calling thread
         * waits in C meanwhile) */
        o.threads = 1;
        o.prepare = lua_mc_prepare;
    }
    b = new_rbox(L, R_MC, m, "montecarlo");
    box = lua_gettop(L);
    lprog_begin(L, &prog, "montecarlo", m, "runs");
    prog.total = o.runs; /* known before the first report */
    rc = ss_mc_run(&res, m, a->params, a->nparams, a->outages, a->noutages, &o, &err);
    if (rc != SS_OK)
        analysis_fail(L, &prog, "montecarlo", rc, &err);
    lprog_end(&prog);
    b->res = res;
    nq = ss_mc_result_nquantiles(res);
    lv = lua_newuserdatauv(L, (nq ? nq : 1) * sizeof *lv, 0);
    for (j = 0; j < nq; j++)
        lv[j] = ss_mc_result_quantile_level(res, j);
    {
        const ss_analysis *as[1];
        const char *names[1];
        size_t blocks[1];
        const ss_mc_result *rs[1];
        as[0] = a;
        names[0] = m->name;
        blocks[0] = ss_mc_result_block(res);
        rs[0] = res;
        set_settings(L, box, ss_analysis_json_mc(as, names, 1, &o, lv, nq, blocks, rs));
    }
    mc_fields(L, box, res, o.threads);
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
 * range = 0.1, samples = 256, bootstrap = 200, seed = 1, level = 0.95} */
static int l_scen_sensitivity(lua_State *L)
{
    static const char *const keys[] = {
        "method", "outputs", "vary", "range", "samples", "bootstrap", "seed", "level", NULL
    };
    static const char *const methods[] = {"tornado", "sobol", NULL};
    ss_model *m = check_scen(L);
    int t = opts_table(L, keys), box;
    const char **outs, **vary;
    size_t nout, nvary;
    ss_analysis *a;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_sens_job *j = &new_job(L, release_sens)->u.sens;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;
    ss_progress hook;

    *j = (ss_sens_job)SS_SENS_JOB_INIT;
    opt_push(L, t, "method");
    j->sobol = luaL_checkoption(L, -1, "tornado", methods) == 1;
    lua_pop(L, 1);
    j->range = opt_num(L, t, "range", j->range, 1e-12, 1e6);
    j->samples = (size_t)opt_int(L, t, "samples", (lua_Integer)j->samples, 2, (lua_Integer)1 << 24);
    j->so.nboot = (size_t)opt_int(L, t, "bootstrap", (lua_Integer)j->so.nboot, 0, 100000);
    j->so.seed = (unsigned long)opt_int(L, t, "seed", (lua_Integer)j->so.seed, 0, LUA_MAXINTEGER);
    j->so.level = opt_num(L, t, "level", j->so.level, 0.5, 0.999999);
    outs = opt_strings(L, t, "outputs", &nout);
    j->outputs = outs;
    j->nout = nout;
    if (!outs && m->nprov > 0 && ss_sens_job_default_outputs(j, m, &err) != SS_OK)
        nomem(L);
    if (j->nout == 0)
        luaL_argerror(L, 2, "outputs: at least one selector is needed");
    check_outputs(L, m, j->outputs, j->nout);
    vary = opt_strings(L, t, "vary", &nvary);
    j->vary = vary;
    j->nvary = nvary;
    a = scen_inputs(L, SS_AN_UNCERTAINTY);
    if ((rc = ss_sens_job_params(j, a, m, &err)) != SS_OK)
        core_fail(L, "sensitivity", rc, &err);
    scen_run_opts_crn(L, &ro);
    if (j->sobol && j->nparams > SS_SOBOL_MAX_DIM)
        luaL_argerror(L, 2, lua_pushfstring(L, "sobol: at most %d parameters (got %d)",
                                            SS_SOBOL_MAX_DIM, (int)j->nparams));
    b = new_rbox(L, j->sobol ? R_SOBOL : R_TORNADO, m, "sensitivity");
    box = lua_gettop(L);
    hook = lprog_begin(L, &prog, "sensitivity", m, "runs");
    rc = ss_sens_job_run(j, m, &ro, hook, NULL, &err);
    if (rc != SS_OK)
        analysis_fail(L, &prog, "sensitivity", rc, &err);
    lprog_end(&prog);
    set_settings(L, box, ss_sens_job_json(j));
    if (j->sobol) {
        b->res = j->indices;
        j->indices = NULL;
        sobol_fields(L, box, b->res);
    } else {
        b->res = j->tornado;
        j->tornado = NULL;
        tornado_fields(L, box, b->res);
    }
    lua_settop(L, box);
    return 1;
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
        nomem(L);
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
            if (!in_list(keys, k))
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
static int l_scen_calibrate(lua_State *L)
{
    static const char *const keys[] = {"data", "params", "max_iter", "central", "absolute_weights", NULL};
    ss_model *m = check_scen(L);
    int t = opts_table(L, keys), box, dt;
    ss_calibrate_job *j = &new_job(L, release_cal)->u.cal;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_analysis *a;
    rbox *b;
    ss_err err = {0};
    const char *file = NULL;
    int rc;
    lprog prog;

    *j = (ss_calibrate_job)SS_CALIBRATE_JOB_INIT;
    j->co.max_iter = (size_t)opt_int(L, t, "max_iter", (lua_Integer)j->co.max_iter, 1, 1000000);
    j->co.central = opt_bool(L, t, "central", j->co.central);
    j->co.absolute_weights = opt_bool(L, t, "absolute_weights", j->co.absolute_weights);
    a = scen_inputs(L, SS_AN_CALIBRATE);
    if (opt_push(L, t, "params") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_argerror(L, 2, "params: expected a table {[PATH] = {lower = , upper = , start = }}");
        read_calib_table(L, 0, m, lua_gettop(L), "params", a);
    }
    lua_pop(L, 1);
    if (a->ncalib == 0)
        luaL_argerror(L, 2, "no parameters to fit: give the scenario a `calibrate` table "
                      "or the option params = {[PATH] = {lower = , upper = , start = }}");
    dt = opt_push(L, t, "data");
    b = new_rbox(L, R_CALIB, m, "calibrate");
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
            core_fail(L, "calibrate", rc, &err);
        b->obs = j->own_obs; /* the result keeps the observations */
        j->own_obs = NULL;
    } else {
        luaL_argerror(L, 2, "data: expected a list of observations (or a CSV file name outside "
                      "the sandbox)");
    }
    scen_run_opts_crn(L, &ro);
    rc = ss_calibrate_job_run(j, m, a, &ro, lprog_begin(L, &prog, "calibrate", m, "runs"), &err);
    if (rc != SS_OK)
        analysis_fail(L, &prog, "calibrate", rc, &err);
    lprog_end(&prog);
    set_settings(L, box, ss_calibrate_job_json(j));
    b->res = j->result;
    j->result = NULL;
    calib_fields(L, box, b->res, b->obs);
    lua_settop(L, box);
    return 1;
}

/* sc:optimize{objective = , minimize = , controls = , constraints = ,
 * starts = , seed = , max_iter = } (overriding the scenario's optimize table) */
static int l_scen_optimize(lua_State *L)
{
    static const char *const keys[] = {
        "objective", "minimize", "controls", "constraints", "starts", "seed", "max_iter", NULL
    };
    ss_model *m = check_scen(L);
    int t = opts_table(L, keys), box;
    ss_optimize_job *j = &new_job(L, release_opt)->u.opt;
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_analysis *a;
    sl_objective *obj = NULL;
    const char *file;
    rbox *b;
    ss_err err = {0};
    int rc, fnidx = 0;
    lprog prog;

    *j = (ss_optimize_job)SS_OPTIMIZE_JOB_INIT;
    j->oo.max_iter = (size_t)opt_int(L, t, "max_iter", (lua_Integer)j->oo.max_iter, 1, 10000000);
    a = scen_inputs(L, SS_AN_OPTIMIZE);
    if (t)
        read_problem(L, 0, m, t, "optimize", a);
    if (!a->objective && !a->objective_fn)
        luaL_argerror(L, 2, "no objective: set optimize.objective in the scenario or the option "
                      "objective = \"npv:alibaba\"");
    if (a->ncontrols == 0)
        luaL_argerror(L, 2, "no controls: set optimize.controls in the scenario or the option "
                      "controls = {[PATH] = {lower = , upper = }}");
    ss_optimize_job_inputs(j, a);
    if (a->objective_fn) { /* the function: from the options, else the scenario's table */
        if (opt_push(L, t, "objective") != LUA_TFUNCTION) {
            lua_pop(L, 1);
            sl_scenario_push_field(L, 1, "optimize");
            lua_getfield(L, -1, "objective");
            lua_remove(L, -2);
        }
        fnidx = lua_gettop(L);
    }
    sl_scenario_push_file(L, 1);
    file = lua_tostring(L, -1); /* anchored on the stack */
    scen_run_opts_crn(L, &ro);
    b = new_rbox(L, R_OPT, m, "optimize");
    box = lua_gettop(L);
    lua_pushstring(L, a->objective ? a->objective : "(Lua function)");
    lua_setiuservalue(L, box, RV_OBJECTIVE);
    if (fnidx) {
        if (!(obj = objective_new(L, fnidx, m, file)))
            nomem(L);
        j->fn = sl_objective_eval;
        j->fn_payload = obj;
    }
    rc = ss_optimize_job_run(j, m, a, &ro, lprog_begin(L, &prog, "optimize", m, "starts"), NULL,
                             &err);
    sl_objective_free(obj);
    if (rc != SS_OK)
        analysis_fail(L, &prog, "optimize", rc, &err);
    lprog_end(&prog);
    set_settings(L, box, ss_optimize_job_json(j));
    b->res = j->result;
    j->result = NULL;
    opt_fields(L, box, b->res);
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
static int l_scen_check(lua_State *L)
{
    ss_model *m = check_scen(L);
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_check *c;
    ss_check_outcome *o;
    ss_analysis *a;
    ss_err err = {0};
    size_t i, npass = 0;
    int rc;

    lua_settop(L, 1);
    a = scen_inputs(L, SS_AN_CHECKS);
    c = push_checks(L, a);
    o = lua_newuserdatauv(L, (a->nchecks ? a->nchecks : 1) * sizeof *o, 0);
    scen_run_opts(L, &ro);
    if ((rc = ss_checks_run(o, m, c, a->nchecks, &ro, &err)) != SS_OK)
        core_fail(L, "check", rc, &err);
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

/* on_point of Scenario:sweep: keep the point's values and outputs. */
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
        nomem(L);
    if (rc != SS_OK)
        luaL_argerror(L, 2, lua_pushfstring(L, "grid[%I]: %s", i, err.msg));
}

/* sc:sweep{grid = {...}, outputs = {...}, threads = 1} */
static int l_scen_sweep(lua_State *L)
{
    static const char *const keys[] = {"grid", "outputs", "threads", NULL};
    ss_model *m = check_scen(L);
    int t = opts_table(L, keys), box, gt;
    jobbox *jb = new_job(L, release_sweep);
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    const char **outs;
    size_t nout, i;
    lua_Integer ng = 0, k;
    sweep_res *r;
    ss_sweep_job *j;
    char **olist;
    rbox *b;
    ss_err err = {0};
    int rc;
    lprog prog;

    if (!(r = jb->u.sw = calloc(1, sizeof *r)))
        nomem(L);
    j = &r->job;
    *j = (ss_sweep_job)SS_SWEEP_JOB_INIT;
    j->so.threads = (unsigned)opt_int(L, t, "threads", (lua_Integer)j->so.threads, 0, 1024);
    gt = opt_push(L, t, "grid");
    if (gt != LUA_TTABLE || (ng = (lua_Integer)lua_rawlen(L, -1)) < 1)
        luaL_argerror(L, 2, "grid: expected a list of axes, e.g. {\"providers.alibaba.reinvest=0.1:0.4:4\"}");
    gt = lua_gettop(L);
    outs = opt_strings(L, t, "outputs", &nout);
    j->outputs = outs;
    j->nout = nout;
    if (!outs && m->nprov > 0 && ss_sweep_job_default_outputs(j, m, &err) != SS_OK)
        nomem(L);
    if (j->nout == 0)
        luaL_argerror(L, 2, "outputs: at least one selector is needed");
    check_outputs(L, m, j->outputs, j->nout);
    b = new_rbox(L, R_SWEEP, m, "sweep");
    box = lua_gettop(L);
    b->res = r; /* owned by the result box from here on */
    jb->u.sw = NULL;
    if (!(r->axes = calloc((size_t)ng, sizeof *r->axes)))
        nomem(L);
    for (k = 1; k <= ng; k++) {
        lua_rawgeti(L, gt, k);
        sweep_axis_arg(L, lua_gettop(L), k, &r->axes[k - 1]);
        r->naxes = (size_t)k;
        lua_pop(L, 1);
    }
    if ((rc = ss_sweep_check(m, r->axes, r->naxes, &err)) != SS_OK)
        luaL_argerror(L, 2, lua_pushfstring(L, "grid: %s", err.msg));
    j->axes = r->axes;
    j->naxes = r->naxes;
    j->in_memory = 1;
    if ((rc = ss_sweep_job_alloc(j, &err)) != SS_OK) {
        if (rc == SS_ENOMEM)
            nomem(L);
        core_fail(L, "sweep", rc, &err);
    }
    scen_run_opts_crn(L, &ro);
    if (ro.on_epoch || ro.on_output)
        j->so.threads = 1; /* Lua at every point: this state, one worker */
    j->so.run_opts = &ro;
    j->so.interrupt = ro.interrupt;
    /* progress to the host's display, kept for the message of an interruption */
    j->progress = lprog_begin(L, &prog, "sweep", m, "points");
    rc = ss_sweep_job_run(j, m, &err);
    j->progress = (ss_progress)SS_PROGRESS_NONE;
    if (rc != SS_OK)
        analysis_fail(L, &prog, "sweep", rc, &err);
    lprog_end(&prog);
    /* settings and fields */
    nout = j->nout;
    olist = lua_newuserdatauv(L, nout * sizeof *olist, 0);
    for (i = 0; i < nout; i++)
        olist[i] = j->sel[i].text;
    j->outputs = (const char *const *)olist; /* the outputs as parsed */
    set_settings(L, box, ss_sweep_job_json(j, 1));
    j->outputs = NULL; /* the result keeps the parsed selectors only */
    j->so.run_opts = NULL;
    j->so.interrupt = NULL;
    lua_createtable(L, 0, 4);
    set_int(L, "points", (lua_Integer)j->npoints);
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
            set_num(L, r->axes[i].path, j->x[k * r->naxes + i]);
        for (i = 0; i < nout; i++)
            set_num(L, j->sel[i].text, j->y[k * nout + i]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "rows");
    set_fields(L, box);
    lua_settop(L, box);
    return 1;
}

/* Scenario __index: the analysis methods (upvalue 1), else the original
 * __index (upvalue 2: a function or a table). */
static int l_scen_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
            return 1;
        lua_pop(L, 1);
    }
    if (lua_type(L, lua_upvalueindex(2)) == LUA_TFUNCTION) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1); /* a metamethod: errors propagate to the indexing code */
        return 1;
    }
    if (lua_type(L, lua_upvalueindex(2)) == LUA_TTABLE) {
        lua_pushvalue(L, 2);
        lua_gettable(L, lua_upvalueindex(2));
        return 1;
    }
    return 0;
}

void sl_open_analysis(lua_State *L)
{
    static const struct {
        const char *name;
        ss_dist_kind kind;
    } ctors[] = {
        {"fixed", SS_DIST_FIXED}, {"normal", SS_DIST_NORMAL}, {"lognormal", SS_DIST_LOGNORMAL},
        {"uniform", SS_DIST_UNIFORM}, {"triangular", SS_DIST_TRIANGULAR}, {"beta", SS_DIST_BETA},
        {"truncnormal", SS_DIST_TRUNCNORMAL}
    };
    static const luaL_Reg dist_meta[] = {
        {"__tostring", l_dist_tostring}, {"__index", l_dist_index}, {"__newindex", l_immutable},
        {"__eq", l_dist_eq}, {NULL, NULL}
    };
    static const luaL_Reg common[] = {
        {"csv", l_rbox_csv}, {"write_csv", l_rbox_write}, {"summary", l_rbox_summary}, {NULL, NULL}
    };
    static const luaL_Reg mc_methods[] = {
        {"mean", l_mc_mean}, {"sd", l_mc_sd}, {"min", l_mc_min}, {"max", l_mc_max},
        {"quantile", l_mc_quantile}, {"stats", l_mc_stats}, {NULL, NULL}
    };
    static const luaL_Reg calib_methods[] = {{"lua", l_calib_lua}, {NULL, NULL}};
    static const luaL_Reg scen_methods[] = {
        {"montecarlo", l_scen_montecarlo}, {"sensitivity", l_scen_sensitivity},
        {"calibrate", l_scen_calibrate}, {"optimize", l_scen_optimize}, {"check", l_scen_check},
        {"sweep", l_scen_sweep},
        {NULL, NULL}
    };
    int mod = lua_gettop(L), k;
    size_t i;

    if (luaL_newmetatable(L, DIST_META)) {
        luaL_setfuncs(L, dist_meta, 0);
        lua_pushliteral(L, DIST_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    for (i = 0; i < sizeof ctors / sizeof ctors[0]; i++) {
        lua_pushinteger(L, ctors[i].kind);
        lua_pushcclosure(L, l_dist_new, 1);
        lua_setfield(L, mod, ctors[i].name);
    }
    lua_pushcfunction(L, l_dist_parse);
    lua_setfield(L, mod, "dist");

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
        lua_pushcfunction(L, l_immutable);
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

    /* the Scenario methods: wrap its __index once */
    if (luaL_getmetatable(L, SL_SCENARIO) == LUA_TTABLE) {
        int mt = lua_gettop(L);
        lua_getfield(L, mt, "__index");
        if (lua_tocfunction(L, -1) != l_scen_index) {
            lua_newtable(L);
            luaL_setfuncs(L, scen_methods, 0);
            lua_insert(L, -2);
            lua_pushcclosure(L, l_scen_index, 2);
            lua_setfield(L, mt, "__index");
        } else {
            lua_pop(L, 1);
        }
    }
    lua_settop(L, mod);
}
