/*
 * l_schedule.c - stratsim.steps{{t, v}, ...} and stratsim.linear{{t, v}, ...}:
 * immutable schedule values for scenario scripts.
 *
 * A schedule is a full userdata "stratsim.Schedule" holding its kind and
 * knots inline (Lua owns the memory, so nothing can leak when an error is
 * raised). Knots are validated when the schedule is made (non-empty, finite,
 * strictly increasing times) and errors are stratsim.Errors located at the
 * caller's line. Metamethods: __call(t) evaluates (ss_schedule_eval),
 * __tostring prints the constructor, __len is the number of knots, and
 * .kind/.knots read it back. The range a schedule must respect depends on
 * the field it is given to, so scenario/convert.c checks the values.
 */
#include <math.h>
#include <string.h>
#include <lauxlib.h>
#include "sl_internal.h"
#include "stratsim/schedule.h"

typedef struct sched_ud {
    int kind;
    size_t n;
    double knots[]; /* t[0..n), then v[0..n) */
} sched_ud;

/* Build a schedule of `kind` from the knot table at index 1. */
static int make(lua_State *L, int kind, const char *fname)
{
    char where[320];
    lua_Integer n, i, count = 0;
    sched_ud *u;

    sl_where(L, 1, where, sizeof where);
    if (lua_type(L, 1) != LUA_TTABLE)
        sl_raise(L, SS_EINVAL, "%s: %s: expected a table of {t, v} knots, got %s",
                     where, fname, luaL_typename(L, 1));
    n = (lua_Integer)lua_rawlen(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        count++;
        lua_pop(L, 1);
    }
    if (n == 0)
        sl_raise(L, SS_EINVAL, "%s: %s: a schedule needs at least one {t, v} knot", where, fname);
    if (count != n)
        sl_raise(L, SS_EINVAL, "%s: %s: expected an array of {t, v} knots (found non-array keys)",
                     where, fname);
    if ((size_t)n > (((size_t)-1) - sizeof *u) / (2 * sizeof(double)))
        sl_raise(L, SS_EINVAL, "%s: %s: too many knots", where, fname);
    u = lua_newuserdatauv(L, sizeof *u + 2 * (size_t)n * sizeof(double), 0);
    u->kind = kind;
    u->n = 0;
    luaL_setmetatable(L, SL_SCHEDULE);
    for (i = 1; i <= n; i++) {
        double t = 0.0, v = 0.0;
        int ok;
        lua_rawgeti(L, 1, i);
        ok = lua_type(L, -1) == LUA_TTABLE && lua_rawlen(L, -1) == 2;
        if (ok) {
            ok = lua_rawgeti(L, -1, 1) == LUA_TNUMBER && lua_rawgeti(L, -2, 2) == LUA_TNUMBER;
            t = lua_tonumber(L, -2);
            v = lua_tonumber(L, -1);
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
        if (!ok)
            sl_raise(L, SS_EINVAL, "%s: %s: knot %d: expected {t, v} with two numbers",
                         where, fname, (int)i);
        if (!isfinite(t) || !isfinite(v))
            sl_raise(L, SS_EINVAL, "%s: %s: knot %d: must be finite, got {%g, %g}",
                         where, fname, (int)i, isnan(t) ? NAN : t, isnan(v) ? NAN : v);
        if (i > 1 && !(t > u->knots[i - 2]))
            sl_raise(L, SS_EINVAL,
                         "%s: %s: knot %d: times must be strictly increasing (%.15g after %.15g)",
                         where, fname, (int)i, t, u->knots[i - 2]);
        u->knots[i - 1] = t;
        u->knots[(size_t)n + (size_t)i - 1] = v;
    }
    u->n = (size_t)n;
    return 1;
}

void sl_push_schedule(lua_State *L, int kind, const double *t, const double *v, size_t n)
{
    sched_ud *u = lua_newuserdatauv(L, sizeof *u + 2 * n * sizeof(double), 0);
    u->kind = kind;
    u->n = n;
    memcpy(u->knots, t, n * sizeof(double));
    memcpy(u->knots + n, v, n * sizeof(double));
    luaL_setmetatable(L, SL_SCHEDULE);
}

/* stratsim.steps{{t, v}, ...}: right-continuous steps. */
static int l_schedule_steps(lua_State *L)
{
    return make(L, SS_SCHED_STEPS, "stratsim.steps");
}

/* stratsim.linear{{t, v}, ...}: linear between knots, flat outside. */
static int l_schedule_linear(lua_State *L)
{
    return make(L, SS_SCHED_LINEAR, "stratsim.linear");
}

int sl_toschedule(lua_State *L, int idx, sl_sched *out)
{
    sched_ud *u = luaL_testudata(L, idx, SL_SCHEDULE);
    if (!u || u->n == 0)
        return 0;
    out->kind = u->kind;
    out->n = u->n;
    out->t = u->knots;
    out->v = u->knots + u->n;
    return 1;
}

/* A core schedule that borrows the userdata's knots (never cleared). */
static ss_schedule view(sched_ud *u)
{
    ss_schedule s;
    s.kind = (ss_sched_kind)u->kind;
    s.n = u->n;
    s.t = u->knots;
    s.v = u->knots + u->n;
    s.value = u->n ? s.v[0] : 0.0;
    return s;
}

/* s(t): the schedule's value at time t. */
static int l_schedule_call(lua_State *L)
{
    sched_ud *u = luaL_checkudata(L, 1, SL_SCHEDULE);
    double t = luaL_checknumber(L, 2);
    ss_schedule s = view(u);
    lua_pushnumber(L, u->n ? ss_schedule_eval(&s, t) : 0.0);
    return 1;
}

/* #s: the number of knots. */
static int l_schedule_len(lua_State *L)
{
    sched_ud *u = luaL_checkudata(L, 1, SL_SCHEDULE);
    lua_pushinteger(L, (lua_Integer)u->n);
    return 1;
}

/* tostring(s): "stratsim.steps{{2023, 0.2}, {2025, 0.3}}" (20 knots at most). */
static int l_schedule_tostring(lua_State *L)
{
    sched_ud *u = luaL_checkudata(L, 1, SL_SCHEDULE);
    luaL_Buffer b;
    size_t i;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, u->kind == SS_SCHED_STEPS ? "stratsim.steps{" : "stratsim.linear{");
    for (i = 0; i < u->n; i++) {
        if (i == 20) {
            luaL_addstring(&b, ", ...");
            break;
        }
        lua_pushfstring(L, "%s{%f, %f}", i ? ", " : "", (lua_Number)u->knots[i],
                        (lua_Number)u->knots[u->n + i]);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '}');
    luaL_pushresult(&b);
    return 1;
}

/* s.kind ("steps" or "linear") and s.knots (a fresh {{t, v}, ...} table). */
static int l_schedule_index(lua_State *L)
{
    sched_ud *u = luaL_checkudata(L, 1, SL_SCHEDULE);
    const char *k = lua_tostring(L, 2);
    size_t i;
    if (k && strcmp(k, "kind") == 0) {
        lua_pushstring(L, u->kind == SS_SCHED_STEPS ? "steps" : "linear");
        return 1;
    }
    if (k && strcmp(k, "knots") == 0) {
        lua_createtable(L, (int)u->n, 0);
        for (i = 0; i < u->n; i++) {
            lua_createtable(L, 2, 0);
            lua_pushnumber(L, u->knots[i]);
            lua_rawseti(L, -2, 1);
            lua_pushnumber(L, u->knots[u->n + i]);
            lua_rawseti(L, -2, 2);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return 1;
    }
    lua_pushnil(L);
    return 1;
}

void sl_open_schedule(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__call", l_schedule_call},
        {"__len", l_schedule_len},
        {"__tostring", l_schedule_tostring},
        {"__index", l_schedule_index},
        {NULL, NULL}
    };
    if (luaL_newmetatable(L, SL_SCHEDULE)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, SL_SCHEDULE);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_schedule_steps);
    lua_setfield(L, -2, "steps");
    lua_pushcfunction(L, l_schedule_linear);
    lua_setfield(L, -2, "linear");
    lua_pushcfunction(L, sl_series);
    lua_setfield(L, -2, "series");
}
