/*
 * objective.c - objectives written in Lua:
 * ss_script_objective/sl_objective_eval (optimize.objective = function(r)
 * ... end, called with a stratsim.Result of each run).
 *
 * Ownership: an sl_objective is malloc'ed and holds a registry reference
 * to its function; sl_objective_free releases both (before the script is
 * closed). Each evaluation copies the run's result into the Result object
 * it passes (the optimiser keeps its own).
 * Depends on la_internal.h, sl_internal.h (sl_pcall, sl_push_result, the
 * budgets) and the core (ss_result, run options).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

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
    sl_push_result(L, ss_result_copy(c->r), c->o->m, c->o->file); /* raises on failure */
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
sl_objective *la_objective_new(lua_State *L, int idx, const ss_model *m, const char *file)
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
    if (!(r->o = la_objective_new(L, lua_gettop(L), ss_script_model(r->s, r->i), r->file)))
        la_nomem(L);
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
