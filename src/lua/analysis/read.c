/*
 * read.c - reading a scenario's `uncertainty`, `outages`, `calibrate`,
 * `optimize` and `checks` tables into an ss_analysis and checking them
 * (distribution parameters, bounds, keys, parameter paths against the
 * scenario's model, selectors and constraints), with located errors
 * ("FILE:LINE: uncertainty["PATH"]: message"): for the CLI
 * (ss_script_analysis) and for the Scenario methods (la_read_tables, and
 * la_read_calib_table/la_read_problem for their option tables).
 *
 * Ownership: the ss_analysis being filled lives in an inputs box
 * (userdata, freed by its __gc) until ss_script_analysis hands it to its
 * caller; a Lua error while reading leaks nothing.
 * Depends on la_internal.h (la_to_dist of dists.c), sl_internal.h (the
 * Scenario's spec and sl_scenario_format) and the core (ss_analysis setters,
 * ss_analysis_check_path).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

#define INPUTS_META "stratsim.AnalysisInputs"

static int l_inputs_gc(lua_State *L)
{
    inputs_box *b = luaL_checkudata(L, 1, INPUTS_META);
    ss_analysis_free(b->a);
    b->a = NULL;
    return 0;
}

/* Push a new box owning an empty ss_analysis. */
inputs_box *la_new_inputs(lua_State *L)
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
        la_nomem(L);
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
        la_nomem(L);
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
        if (!la_in_list(allowed, k))
            located(L, scen, label, "unknown key '%s'%s", k, ss_suggest(k, allowed, (size_t)-1, sug, sizeof sug));
        lua_pop(L, 1);
    }
}

/* A parameter-path key at idx (a string without NUL bytes), or NULL. */
const char *la_path_key(lua_State *L, int idx)
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
        if (!(path = la_path_key(L, -2)))
            located(L, scen, "uncertainty", "expected parameter paths as keys "
                    "([\"segments.public.growth\"] = ...), found a %s key", luaL_typename(L, -2));
        keypath(label, sizeof label, "uncertainty", path);
        if (la_to_dist(L, -1, &d, msg, sizeof msg) != 0)
            located(L, scen, label, "%s", msg);
        check_path(L, scen, m, label, path, "uncertain parameter");
        if (ss_analysis_set_dist(a, path, &d, &err) != SS_OK)
            la_nomem(L);
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
        la_nomem(L);
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
                    la_fnum(o->rate, msg, sizeof msg));
        if (lua_getfield(L, e, "severity") == LUA_TNIL)
            located(L, scen, label, "severity: missing (expected a distribution of the "
                    "reliability lost per outage, e.g. stratsim.uniform(0.02, 0.1))");
        if (la_to_dist(L, -1, &o->severity, msg, sizeof msg) != 0)
            located(L, scen, label, "severity: %s", msg);
        lua_pop(L, 2);
        if (!(o->provider = strdup(id)))
            la_nomem(L);
        a->noutages++;
    }
    lua_pop(L, 1);
}

/* { [path] = {lower = , upper = , start = } } at t (absolute); `where`
 * names the table in messages. */
void la_read_calib_table(lua_State *L, int scen, const ss_model *m, int t, const char *where,
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
        if (!(path = la_path_key(L, -2)))
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
            located(L, scen, label, "lower (%s) must be < upper (%s)", la_fnum(lo, b1, sizeof b1),
                    la_fnum(hi, b2, sizeof b2));
        if (!isnan(start) && !(start >= lo && start <= hi))
            located(L, scen, label, "start (%s) must lie in [lower, upper]", la_fnum(start, b1, sizeof b1));
        check_path(L, scen, m, label, path, "calibrated parameter");
        if (ss_analysis_set_calib(a, path, lo, hi, start, &err) != SS_OK)
            la_nomem(L);
        lua_settop(L, e - 1);
    }
}

static void read_calibrate(lua_State *L, int scen, const ss_model *m, ss_analysis *a)
{
    if (sl_scenario_push_field(L, scen, "calibrate") != LUA_TNIL)
        la_read_calib_table(L, scen, m, lua_gettop(L), "calibrate", a);
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
        if (!(path = la_path_key(L, -2)))
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
                    la_fnum(lo, b1, sizeof b1), la_fnum(hi, b2, sizeof b2));
        check_path(L, scen, m, label, path, "control");
        if (ss_analysis_set_control(a, path, lo, hi, &err) != SS_OK)
            la_nomem(L);
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
void la_read_problem(lua_State *L, int scen, const ss_model *m, int t, const char *where,
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
                la_nomem(L);
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
                la_nomem(L);
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
    la_read_problem(L, scen, m, t, "optimize", a);
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
        la_nomem(L);
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
            la_nomem(L);
        lua_pop(L, 1);
        lua_getfield(L, e_idx, "expect");
        if (lua_type(L, -1) != LUA_TSTRING)
            located(L, scen, label, "expect: expected a string such as "
                    "\"share:alibaba:public@2028 > base\", got %s", sl_tname(L, -1));
        if (ss_expect_parse(&e, lua_tostring(L, -1), &err) != SS_OK ||
            ss_selector_validate(&e.sel, m, &err) != SS_OK)
            located(L, scen, label, "expect: %s", err.msg);
        if (!(c->expect = strdup(lua_tostring(L, -1))))
            la_nomem(L);
        lua_pop(L, 1);
        if (lua_getfield(L, e_idx, "change") != LUA_TTABLE)
            located(L, scen, label, "change: expected a table {[PATH] = value, ...}, got %s",
                    sl_tname(L, -1));
        ct = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, ct)) {
            const char *path = la_path_key(L, -2);
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
                la_nomem(L);
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
void la_read_tables(lua_State *L, int scen, unsigned what, ss_analysis *a)
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
    b = la_new_inputs(L);
    la_read_tables(L, 1, what, b->a);
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

