/*
 * sandbox.c - the restricted environment scenario scripts run in, and the
 * deterministic math.random.
 *
 * The environment is built from an allow-list (RELIABILITY A1/A2), never by
 * removing names from _G: assert error ipairs next pairs pcall xpcall print
 * rawequal rawget rawlen rawset select getmetatable tonumber tostring type
 * _VERSION, a `setmetatable` that refuses __gc and an `xpcall` whose
 * handler is skipped once a budget tripped (Lua runs both with hooks off,
 * beyond the instruction budget; coroutine.close/wrap get the same guard
 * for __close handlers of coroutines the hook killed), a text-only `load`, a `collectgarbage` that only
 * answers "count", fresh copies of coroutine, table, utf8, string (without
 * string.dump, with find/match/gmatch/gsub from l_strmatch.c that charge
 * their matching steps to the instruction budget; the string metatable is
 * pointed at the copy and locked) and
 * math (random/randomseed drawing from a GSL mt19937 seeded 42, so scripts
 * are reproducible), and the stratsim module. No io, os, package, require,
 * debug, dofile or loadfile: reading one of these names raises "'os' is not
 * available in the sandbox (run with --unsafe to allow it)" (an __index on
 * the environment, whose metatable is locked); other unknown globals are nil.
 * The table is given to the main chunk as its _ENV upvalue by script.c;
 * `_G` inside it is the environment itself.
 * Depends on Lua's base/string/math/... libraries being opened first (they
 * are looked up in package.loaded) and on GSL's RNG.
 */
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <lauxlib.h>
#include <lualib.h>
#include "ss_lua.h"

#define RNG_META "stratsim.Rng"
#define RNG_SEED 42UL

/* ------------------------------------------------------------ the RNG */

typedef struct rng_box {
    gsl_rng *r;
} rng_box;

/* __gc/__close: free the generator (tolerates an already-freed box). */
static int l_rng_gc(lua_State *L)
{
    rng_box *b = luaL_checkudata(L, 1, RNG_META);
    if (b->r) {
        gsl_rng_free(b->r);
        b->r = NULL;
    }
    return 0;
}

static int l_rng_tostring(lua_State *L)
{
    rng_box *b = luaL_checkudata(L, 1, RNG_META);
    lua_pushfstring(L, "stratsim.Rng (%s)", b->r ? gsl_rng_name(b->r) : "closed");
    return 1;
}

static gsl_rng *check_rng(lua_State *L)
{
    rng_box *b = lua_touserdata(L, lua_upvalueindex(1));
    if (!b || !b->r)
        luaL_error(L, "random generator is closed");
    return b->r;
}

/* 64 random bits from two 32-bit mt19937 outputs. */
static uint64_t next64(gsl_rng *r)
{
    uint64_t hi = (uint64_t)gsl_rng_get(r) & 0xffffffffu;
    uint64_t lo = (uint64_t)gsl_rng_get(r) & 0xffffffffu;
    return (hi << 32) | lo;
}

/* Uniform integer in [0, n] by rejection on the smallest covering mask
 * (the method of Lua 5.4's lmathlib `project`). */
static uint64_t project(uint64_t n, gsl_rng *r)
{
    uint64_t lim = n, x;
    if (n == 0)
        return 0;
    lim |= lim >> 1;
    lim |= lim >> 2;
    lim |= lim >> 4;
    lim |= lim >> 8;
    lim |= lim >> 16;
    lim |= lim >> 32;
    while ((x = next64(r) & lim) > n)
        ;
    return x;
}

/* math.random([m [, n]]) with Lua 5.4 semantics, from the GSL stream. */
static int l_math_random(lua_State *L)
{
    gsl_rng *r = check_rng(L);
    lua_Integer low, up;
    switch (lua_gettop(L)) {
    case 0: {
        /* 53-bit float in [0, 1) */
        uint64_t a = ((uint64_t)gsl_rng_get(r) & 0xffffffffu) >> 5;
        uint64_t b = ((uint64_t)gsl_rng_get(r) & 0xffffffffu) >> 6;
        lua_pushnumber(L, ((double)a * 67108864.0 + (double)b) / 9007199254740992.0);
        return 1;
    }
    case 1:
        low = 1;
        up = luaL_checkinteger(L, 1);
        if (up == 0) {
            lua_pushinteger(L, (lua_Integer)next64(r));
            return 1;
        }
        break;
    case 2:
        low = luaL_checkinteger(L, 1);
        up = luaL_checkinteger(L, 2);
        break;
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    luaL_argcheck(L, low <= up, 1, "interval is empty");
    lua_pushinteger(L, (lua_Integer)(project((lua_Unsigned)up - (lua_Unsigned)low, r) +
                                     (lua_Unsigned)low));
    return 1;
}

/* math.randomseed([n]): restart the stream (no argument: the fixed seed). */
static int l_math_randomseed(lua_State *L)
{
    gsl_rng *r = check_rng(L);
    unsigned long seed = RNG_SEED;
    if (!lua_isnoneornil(L, 1))
        seed = (unsigned long)luaL_checkinteger(L, 1);
    gsl_rng_set(r, seed);
    return 0;
}

void ss_lua_install_random(lua_State *L, int idx)
{
    static const luaL_Reg meta[] = {
        {"__gc", l_rng_gc}, {"__close", l_rng_gc}, {"__tostring", l_rng_tostring}, {NULL, NULL}
    };
    rng_box *b;

    idx = lua_absindex(L, idx);
    b = lua_newuserdatauv(L, sizeof *b, 0);
    b->r = NULL; /* valid "closed" state before acquiring the generator */
    if (luaL_newmetatable(L, RNG_META)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, RNG_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    b->r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!b->r)
        ss_lua_raise(L, SS_ENOMEM, "out of memory");
    gsl_rng_set(b->r, RNG_SEED);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "stratsim.rng");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_math_random, 1);
    lua_setfield(L, idx, "random");
    lua_pushcclosure(L, l_math_randomseed, 1);
    lua_setfield(L, idx, "randomseed");
}

/* ------------------------------------------------ restricted functions */

/* Message handler guard (upvalue 1: the script's handler). When the count
 * hook raises the budget error, Lua runs the message handler right there,
 * with hooks still disabled, so a looping handler could never be stopped:
 * once a budget is exceeded the script's handler is skipped. */
static int l_sandbox_handler_guard(lua_State *L)
{
    if (ss_lua_limit_hit(L))
        return 1; /* the error object, unchanged */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Continuation of xpcall, as in lbaselib.c. */
static int finish_xpcall(lua_State *L, int status, lua_KContext extra)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}

/* xpcall(f, handler, ...) with the handler behind l_sandbox_handler_guard. */
static int l_sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L), status;
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, l_sandbox_handler_guard, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_xpcall);
    return finish_xpcall(L, status, 2);
}

void ss_lua_install_xpcall(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, l_sandbox_xpcall);
    lua_setfield(L, idx, "xpcall");
}

/*
 * coroutine.close and coroutine.wrap. A coroutine killed by the count hook
 * keeps hooks disabled (the hook never returned), and resetting it would run
 * its pending __close handlers beyond the budget; so once a budget tripped,
 * close raises instead and wrap leaves the dead coroutine as it is.
 */
static int l_sandbox_coclose(lua_State *L)
{
    if (ss_lua_limit_hit(L))
        return luaL_error(L, "coroutine.close: the script's budget is exhausted");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Resume co with narg arguments from L (lcorolib's auxresume): the number
 * of results moved to L, or -1 with the error object on L. */
static int auxresume(lua_State *L, lua_State *co, int narg)
{
    int status, nres;
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    status = lua_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

/* The function returned by coroutine.wrap (upvalue 1: the coroutine). */
static int l_sandbox_auxwrap(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = auxresume(L, co, lua_gettop(L));
    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD && !ss_lua_limit_hit(L)) {
            stat = lua_resetthread(co); /* close its to-be-closed variables */
            lua_xmove(co, L, 1);
        }
        if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            /* add the position, unless the message already starts with it
             * (recursion through wrap would repeat it at every level and
             * push the actual error out of the message) */
            size_t wl, ml;
            const char *w, *msg;
            luaL_where(L, 1);
            w = lua_tolstring(L, -1, &wl);
            msg = lua_tolstring(L, -2, &ml);
            if (wl > 0 && ml >= wl && memcmp(msg, w, wl) == 0) {
                lua_pop(L, 1);
            } else {
                lua_insert(L, -2);
                lua_concat(L, 2);
            }
        }
        return lua_error(L);
    }
    return r;
}

static int l_sandbox_cowrap(lua_State *L)
{
    lua_State *co;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, l_sandbox_auxwrap, 1);
    return 1;
}

void ss_lua_install_coroutine(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getfield(L, idx, "close");
    lua_pushcclosure(L, l_sandbox_coclose, 1);
    lua_setfield(L, idx, "close");
    lua_pushcfunction(L, l_sandbox_cowrap);
    lua_setfield(L, idx, "wrap");
}

/* load(chunk [, chunkname [, mode [, env]]]): mode is always "t" and env
 * defaults to the sandbox environment. Upvalues: the real load, the env. */
static int l_sandbox_load(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    if (n >= 2)
        lua_pushvalue(L, 2);
    else
        lua_pushnil(L);
    lua_pushliteral(L, "t");
    if (n >= 4)
        lua_pushvalue(L, 4);
    else
        lua_pushvalue(L, lua_upvalueindex(2));
    lua_call(L, 4, LUA_MULTRET); /* inside Lua already: errors propagate */
    return lua_gettop(L) - n;
}

/* setmetatable(t, mt) refusing __gc: Lua runs finalizers with hooks
 * disabled, so a __gc function could loop beyond the instruction budget. */
static int l_sandbox_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not available in the sandbox");
        lua_pop(L, 1);
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* collectgarbage("count") only: stopping or tuning the collector would
 * defeat the memory budget. */
static int l_sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    int kb, b;
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage('%s') is not available in the sandbox (only 'count')", opt);
    kb = lua_gc(L, LUA_GCCOUNT, 0);
    b = lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024.0);
    return 1;
}

/* Push a fresh shallow copy of package.loaded[name], minus `drop`. */
static void copy_lib(lua_State *L, const char *name, const char *drop)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
    lua_newtable(L);
    if (lua_type(L, -2) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -3)) {
            if (drop && lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), drop) == 0) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -4);
        }
    }
    lua_remove(L, -2);
}

/* Names of the standard environment that the sandbox leaves out. */
static const char *const forbidden_names[] = {
    "os", "io", "package", "require", "debug", "dofile", "loadfile", NULL
};

/* __index of the environment: reading a left-out standard name is an error
 * that says why ("'os' is not available in the sandbox ..."); any other
 * missing global is nil as usual. */
static int l_sandbox_env_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *k = lua_tostring(L, 2);
        int i;
        for (i = 0; forbidden_names[i]; i++)
            if (strcmp(k, forbidden_names[i]) == 0)
                return luaL_error(L, "'%s' is not available in the sandbox "
                                     "(run with --unsafe to allow it)", k);
    }
    return 0;
}

void ss_lua_push_sandbox_env(lua_State *L)
{
    static const char *const base[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal",
        "rawget", "rawlen", "rawset", "select", "getmetatable",
        "tonumber", "tostring", "type", "_VERSION", NULL
    };
    int env, i;

    luaL_checkstack(L, 8, NULL);
    lua_newtable(L);
    env = lua_gettop(L);
    lua_pushglobaltable(L);
    for (i = 0; base[i]; i++) {
        lua_getfield(L, -1, base[i]);
        lua_setfield(L, env, base[i]);
    }
    /* load: text only, sandbox env by default */
    lua_getfield(L, -1, "load");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, l_sandbox_load, 2);
    lua_setfield(L, env, "load");
    lua_pop(L, 1); /* global table */

    lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.print");
    lua_setfield(L, env, "print");
    ss_lua_install_xpcall(L, env);
    lua_pushcfunction(L, l_sandbox_setmetatable);
    lua_setfield(L, env, "setmetatable");
    lua_pushcfunction(L, l_sandbox_collectgarbage);
    lua_setfield(L, env, "collectgarbage");

    copy_lib(L, LUA_COLIBNAME, NULL);
    ss_lua_install_coroutine(L, -1);
    lua_setfield(L, env, LUA_COLIBNAME);
    copy_lib(L, LUA_TABLIBNAME, NULL);
    lua_setfield(L, env, LUA_TABLIBNAME);
    copy_lib(L, LUA_UTF8LIBNAME, NULL);
    lua_setfield(L, env, LUA_UTF8LIBNAME);
    copy_lib(L, LUA_MATHLIBNAME, NULL);
    ss_lua_install_random(L, -1);
    lua_setfield(L, env, LUA_MATHLIBNAME);

    /* string without dump; ("x"):method() must see the same table, and the
     * string metatable is locked so scripts cannot reach the original */
    copy_lib(L, LUA_STRLIBNAME, "dump");
    ss_lua_install_strmatch(L, -1); /* pattern matching within the budget (A5) */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushvalue(L, -3);
        lua_setfield(L, -2, "__index");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_setfield(L, env, LUA_STRLIBNAME);

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "stratsim");
    lua_setfield(L, env, "stratsim");
    lua_pop(L, 1);

    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");

    /* explain the left-out names; the metatable is locked (A3) */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, l_sandbox_env_index);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, env);
}
