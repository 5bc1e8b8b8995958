/*
 * methods.c - what the Scenario analysis methods (sc:montecarlo{},
 * :sensitivity{}, :calibrate{}, :optimize{}, :check(), :sweep{}) share:
 * job boxes, reading their option tables (argument 2), the progress shown
 * by the host (SL_PROGRESS) and the message of an interruption, the
 * scenario's inputs and run options; and sl_open_analysis, which registers
 * the distributions, the result objects and these methods (wrapping the
 * Scenario's __index once).
 *
 * Ownership: a core job lives in a job box (userdata, freed by its __gc),
 * created before the job acquires anything; option strings stay anchored
 * in the options table; the pointer arrays that list them are userdata.
 * Depends on la_internal.h (dists.c, results.c, read.c, methods_explore.c,
 * methods_fit.c), sl_internal.h (sl_push_hooks, the Scenario) and the
 * core's jobs (stratsim/analysis.h).
 */
#include <stdio.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

#define JOB_META "stratsim.AnalysisJob"

static int l_job_gc(lua_State *L)
{
    jobbox *b = luaL_checkudata(L, 1, JOB_META);
    if (b->release)
        b->release(b);
    b->release = NULL;
    return 0;
}

/* Push a new job box released by `release` (its job still to be set). */
jobbox *la_new_job(lua_State *L, void (*release)(jobbox *b))
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

/* The options table (argument 2) or 0; unknown keys are errors. */
int la_opts_table(lua_State *L, const char *const *allowed)
{
    char sug[96];
    if (lua_isnoneornil(L, 2))
        return 0;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!k || !la_in_list(allowed, k))
            luaL_argerror(L, 2, lua_pushfstring(L, "unknown option '%s'%s",
                                                k ? k : luaL_typename(L, -2),
                                                k ? ss_suggest(k, allowed, (size_t)-1, sug, sizeof sug) : ""));
        lua_pop(L, 1);
    }
    return 2;
}

int la_opt_push(lua_State *L, int t, const char *key)
{
    if (!t) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, t, key);
}

lua_Integer la_opt_int(lua_State *L, int t, const char *key, lua_Integer def,
                       lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = def;
    if (la_opt_push(L, t, key) != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo || lua_tointeger(L, -1) > hi)
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected an integer in %I..%I", key, lo, hi));
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

double la_opt_num(lua_State *L, int t, const char *key, double def, double lo, double hi)
{
    double v = def;
    if (la_opt_push(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) >= lo && lua_tonumber(L, -1) <= hi))
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected a number in [%f, %f]", key,
                                                (lua_Number)lo, (lua_Number)hi));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

int la_opt_bool(lua_State *L, int t, const char *key, int def)
{
    int v = def;
    if (la_opt_push(L, t, key) != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            luaL_argerror(L, 2, lua_pushfstring(L, "%s: expected a boolean", key));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* An array option of strings: pushes a userdata array of pointers to the
 * strings (anchored in the options table) and returns it; *n its length. */
const char **la_opt_strings(lua_State *L, int t, const char *key, size_t *n)
{
    const char **v = NULL;
    lua_Integer i, len;
    *n = 0;
    if (la_opt_push(L, t, key) == LUA_TNIL) {
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

void la_lprog_update(uint64_t done, uint64_t total, void *payload)
{
    lprog *p = payload;
    p->done = done;
    p->total = total;
    if (p->host)
        p->host->update(done, total, p->host->payload);
}

/* Start: `what` (the method) and the scenario name label the display. */
ss_progress la_lprog_begin(lua_State *L, lprog *p, const char *what, const ss_model *m,
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
    h.fn = la_lprog_update;
    h.payload = p;
    return h;
}

void la_lprog_end(lprog *p)
{
    if (p->host)
        p->host->end(p->host->payload);
    p->host = NULL;
}

/* End the progress, then raise a core failure as la_core_fail does; an
 * interruption says how far the analysis got: "interrupted after 7,168 of
 * 200,000 runs". */
_Noreturn void la_analysis_fail(lua_State *L, lprog *p, const char *fname, int rc,
                                const ss_err *err)
{
    la_lprog_end(p);
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
    la_core_fail(L, fname, rc, err);
}

ss_model *la_check_scen(lua_State *L)
{
    ss_model *m;
    luaL_checkudata(L, 1, SL_SCENARIO);
    if (!(m = sl_scenario_model(L, 1)))
        luaL_argerror(L, 1, "invalid scenario");
    return m;
}

/* Read the scenario's tables `what` into a new inputs box (pushed). */
ss_analysis *la_scen_inputs(lua_State *L, unsigned what)
{
    inputs_box *b = la_new_inputs(L);
    la_read_tables(L, 1, what, b->a);
    return b->a;
}

/*
 * Run options attaching the scenario's policy and derived metrics (runs
 * then call Lua on this state: one thread); the hooks' data is pushed and
 * must stay on the stack during the runs. Sets the interrupt flag.
 */
void la_scen_run_opts(lua_State *L, ss_run_opts *ro)
{
    sl_push_hooks(L, 1, ro);
    ro->interrupt = interrupt_flag(L);
}

/* The same, for analyses other than Monte Carlo: every run starts with
 * math.random where the script left it (common random numbers, sl_crn_opts). */
void la_scen_run_opts_crn(lua_State *L, ss_run_opts *ro)
{
    la_scen_run_opts(L, ro);
    sl_crn_opts(L, ro);
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
    static const luaL_Reg scen_methods[] = {
        {"montecarlo", la_scen_montecarlo}, {"sensitivity", la_scen_sensitivity},
        {"calibrate", la_scen_calibrate}, {"optimize", la_scen_optimize}, {"check", la_scen_check},
        {"sweep", la_scen_sweep},
        {NULL, NULL}
    };
    int mod = lua_gettop(L);

    la_open_dists(L, mod);
    la_open_results(L);

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
