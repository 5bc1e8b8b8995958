/*
 * sandbox.c - the restricted environment scenario scripts run in, and the
 * deterministic math.random.
 *
 * The environment is built from an allow-list (docs/robustness.md), never by
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
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <lauxlib.h>
#include <lualib.h>
#include "sl_internal.h"

#define RNG_META "stratsim.Rng"
#define RNG_SEED 42UL

/* ------------------------------------------------------------ the RNG */

/* Registry key of the state's rng_box. */
static const char rng_key = 0;

typedef struct rng_box {
    gsl_rng *r;
    gsl_rng *r0;   /* r as the script left it when it finished loading (sl_random_mark) */
} rng_box;

/* __gc/__close: free the generators (tolerates an already-freed box). */
static int l_rng_gc(lua_State *L)
{
    rng_box *b = luaL_checkudata(L, 1, RNG_META);
    if (b->r) {
        gsl_rng_free(b->r);
        b->r = NULL;
    }
    if (b->r0) {
        gsl_rng_free(b->r0);
        b->r0 = NULL;
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

void sl_install_random(lua_State *L, int idx)
{
    static const luaL_Reg meta[] = {
        {"__gc", l_rng_gc}, {"__close", l_rng_gc}, {"__tostring", l_rng_tostring}, {NULL, NULL}
    };
    rng_box *b;

    idx = lua_absindex(L, idx);
    b = lua_newuserdatauv(L, sizeof *b, 0);
    b->r = b->r0 = NULL; /* valid "closed" state before acquiring the generators */
    if (luaL_newmetatable(L, RNG_META)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, RNG_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    b->r = gsl_rng_alloc(gsl_rng_mt19937);
    b->r0 = gsl_rng_alloc(gsl_rng_mt19937);
    if (!b->r || !b->r0)
        sl_raise(L, SS_ENOMEM, "out of memory");
    gsl_rng_set(b->r, RNG_SEED);
    gsl_rng_memcpy(b->r0, b->r);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &rng_key);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_math_random, 1);
    lua_setfield(L, idx, "random");
    lua_pushcclosure(L, l_math_randomseed, 1);
    lua_setfield(L, idx, "randomseed");
}

/* The state's generator box, or NULL (no math.random installed). Does not
 * raise (a light userdata key allocates nothing). */
static rng_box *state_rng(lua_State *L)
{
    rng_box *b;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &rng_key);
    b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b && b->r && b->r0 ? b : NULL;
}

void sl_random_mark(lua_State *L)
{
    rng_box *b = state_rng(L);
    if (b)
        gsl_rng_memcpy(b->r0, b->r);
}

int sl_random_restore(lua_State *L)
{
    rng_box *b = state_rng(L);
    if (!b)
        return 0;
    gsl_rng_memcpy(b->r, b->r0);
    return 1;
}

void sl_random_seed(lua_State *L, uint64_t seed)
{
    rng_box *b = state_rng(L);
    if (b) /* math.randomseed's conversion of (lua_Integer)(seed mod 2^63) */
        gsl_rng_set(b->r, (unsigned long)(lua_Integer)(seed & 0x7fffffffffffffffULL));
}

void ss_script_reseed(ss_script *s, uint64_t seed)
{
    sl_random_seed(ss_script_state(s), seed);
}

/* sl_crn_opts' start-of-run hook (payload: the hooks' state). */
static int random_start(ss_run *run, void *payload, ss_err *err)
{
    (void)run;
    (void)err;
    sl_random_restore(payload);
    return SS_OK;
}

void sl_crn_opts(lua_State *L, ss_run_opts *ro)
{
    if (!ss_run_opts_active(ro))
        return; /* no Lua in a run */
    ro->on_start = random_start;
    ro->start_payload = L;
}

void ss_script_crn_opts(ss_script *s, ss_run_opts *ro)
{
    sl_crn_opts(ss_script_state(s), ro);
}

/* ------------------------------------------------ restricted functions */

/* Message handler guard (upvalue 1: the script's handler). When the count
 * hook raises the budget error, Lua runs the message handler right there,
 * with hooks still disabled, so a looping handler could never be stopped:
 * once a budget is exceeded the script's handler is skipped. */
static int l_sandbox_handler_guard(lua_State *L)
{
    if (sl_limit_hit(L))
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

void sl_install_xpcall(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, l_sandbox_xpcall);
    lua_setfield(L, idx, "xpcall");
}

/*
 * coroutine.close, coroutine.wrap and coroutine.resume.
 *
 * A coroutine killed by the count hook keeps hooks disabled (the hook never
 * returned), and resetting it would run its pending __close handlers beyond
 * the budget; so once a budget tripped, close raises instead and wrap
 * leaves the dead coroutine as it is.
 *
 * Lua 5.4.4 bug (fixed in 5.4.5): lua_resetthread, which coroutine.close
 * and a failing coroutine.wrap call run, does not count the C stack of the
 * thread that closes, so a chain of coroutines whose __close handlers close
 * the next one (each level a few C frames) overflows the C stack and
 * crashes. The guard shared by close and wrap counts those nested resets
 * and measures the C stack they use; past CLOSE_MAX_DEPTH levels or
 * CLOSE_MAX_CSTACK bytes the script ends (sl_fatal: pcall cannot
 * swallow it) with "C stack overflow (coroutine.close nested too deeply)".
 *
 * resume and wrap also tell script.c which thread runs (so that its count
 * hook adapts at once when a long string appears, see script.c).
 */
#define CLOSE_MAX_DEPTH 100
#define CLOSE_MAX_CSTACK ((size_t)1 << 20)

typedef struct close_guard {
    int depth;
    const char *base; /* stack address at the outermost reset */
} close_guard;

/* Enter a reset (raises fatally past the limits); pair with guard_leave. */
static void guard_enter(lua_State *L, close_guard *g)
{
    char here;
    size_t used;
    if (g->depth == 0)
        g->base = &here;
    used = g->base > &here ? (size_t)(g->base - &here) : (size_t)(&here - g->base);
    if (g->depth >= CLOSE_MAX_DEPTH || used > CLOSE_MAX_CSTACK)
        sl_fatal(L, "C stack overflow (coroutine.close nested more than %d deep "
                        "through __close handlers)", g->depth);
    g->depth++;
}

static void guard_leave(close_guard *g)
{
    g->depth--;
}

/* coroutine.close(co) (upvalues: the stock close, the guard). */
static int l_sandbox_coclose(lua_State *L)
{
    close_guard *g = lua_touserdata(L, lua_upvalueindex(2));
    lua_State *co = lua_tothread(L, 1), *prev;
    int status;
    if (sl_limit_hit(L))
        return luaL_error(L, "coroutine.close: the script's budget is exhausted");
    guard_enter(L, g);
    prev = co ? sl_switch_thread(L, co) : NULL;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (co)
        sl_switch_thread(L, prev);
    guard_leave(g);
    if (status != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

/* Resume co with narg arguments from L (lcorolib's auxresume): the number
 * of results moved to L, or -1 with the error object on L. */
static int auxresume(lua_State *L, lua_State *co, int narg)
{
    int status, nres;
    lua_State *prev;
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    prev = sl_switch_thread(L, co);
    status = lua_resume(co, L, narg, &nres);
    sl_switch_thread(L, prev);
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

/* coroutine.resume(co, ...) (lcorolib's luaB_coresume, with auxresume). */
static int l_sandbox_coresume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    int r;
    luaL_argexpected(L, co, 1, "coroutine");
    if (L == co) { /* as lua_resume would say */
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "cannot resume non-suspended coroutine");
        return 2;
    }
    r = auxresume(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;
}

/* The function returned by coroutine.wrap (upvalues: the coroutine, the
 * close guard). */
static int l_sandbox_auxwrap(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = auxresume(L, co, lua_gettop(L));
    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD && !sl_limit_hit(L)) {
            close_guard *g = lua_touserdata(L, lua_upvalueindex(2));
            lua_State *prev;
            guard_enter(L, g);
            prev = sl_switch_thread(L, co);
            stat = lua_resetthread(co); /* close its to-be-closed variables */
            sl_switch_thread(L, prev);
            guard_leave(g);
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

/* coroutine.wrap(f) (upvalue: the close guard). */
static int l_sandbox_cowrap(lua_State *L)
{
    lua_State *co;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, l_sandbox_auxwrap, 2);
    return 1;
}

void sl_install_coroutine(lua_State *L, int idx)
{
    close_guard *g;
    idx = lua_absindex(L, idx);
    g = lua_newuserdatauv(L, sizeof *g, 0);
    g->depth = 0;
    g->base = NULL;
    lua_getfield(L, idx, "close");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, l_sandbox_coclose, 2);
    lua_setfield(L, idx, "close");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, l_sandbox_cowrap, 1);
    lua_setfield(L, idx, "wrap");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_sandbox_coresume);
    lua_setfield(L, idx, "resume");
}

/* The reader given to the real load when the script passes a function
 * (upvalue 1): each piece is charged to the instruction budget (one
 * instruction per byte, as included files), since compiling it is work
 * done in C. */
static int l_sandbox_load_reader(lua_State *L)
{
    size_t n = 0;
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
        lua_tolstring(L, -1, &n);
    if (sl_charge_work(L, n) != 0)
        return luaL_error(L, "instruction limit exceeded");
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]): mode is always "t" and env
 * defaults to the sandbox environment; the chunk's size is charged and the
 * result checked for Lua 5.4.4's code-generation bugs (vet.c). Upvalues:
 * the real load, the env. */
static int l_sandbox_load(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        lua_tolstring(L, 1, &len);
        if (sl_charge_work(L, len) != 0)
            return luaL_error(L, "instruction limit exceeded");
        lua_pushvalue(L, 1);
    } else if (lua_type(L, 1) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushcclosure(L, l_sandbox_load_reader, 1);
    } else {
        lua_pushvalue(L, 1); /* the real load reports the wrong type */
    }
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
    if (lua_type(L, n + 1) == LUA_TFUNCTION) {
        lua_settop(L, n + 1);
        sl_vet_chunk(L);
        return 1;
    }
    return lua_gettop(L) - n;
}

/* ------------------------------------------- C work charged by size */

/*
 * Library functions whose work in C grows with their arguments rather than
 * with what they allocate (allocation is charged by script.c) are wrapped:
 * before the stock function runs, its work is charged to the instruction
 * budget (docs/robustness.md), in instructions of about the same time (4-5 ns
 * here): table.sort 3 n log2 n, table.concat/unpack 4 per element,
 * table.insert/remove 2 per element of the table, table.move 1 per element,
 * string.rep 1 per copy, utf8.len/offset/codepoint 1 per 2 bytes,
 * string.byte/char, utf8.char, select, table.pack 1 per value, the format
 * of string.pack/unpack 1 per byte, tonumber/rawequal 1 per 16 bytes.
 */
enum {
    W_REP,       /* string.rep(s, n [, sep]): n copies */
    W_BYTE,      /* string.byte(s [, i [, j]]): values pushed */
    W_PACKFMT,   /* string.pack/unpack/packsize(fmt, ...): format length + data */
    W_UTF8SCAN,  /* utf8.len/offset/codepoint(s, ...): bytes scanned */
    W_SORT,      /* table.sort(t [, cmp]): n log2 n */
    W_TLEN,      /* table.insert/remove(t, ...): elements shifted */
    W_RANGE23,   /* table.concat(t, sep, i, j) / table.unpack(t, i, j): j - i + 1 */
    W_MOVE,      /* table.move(a1, f, e, t [, a2]): e - f + 1 */
    W_NARGS,     /* select/table.pack/string.char/utf8.char(...): arguments */
    W_STR1,      /* tonumber/rawequal(a, b): bytes of string arguments */
    W_NKINDS
};

/* Length of table argument idx as the stock function sees it (#t). */
static lua_Integer tlen(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    return luaL_len(L, idx);
}

/* Size of the range [i, j] of integer arguments (defaults di, dj). */
static lua_Integer range_of(lua_State *L, int ii, lua_Integer di, int ij, lua_Integer dj)
{
    lua_Integer i = lua_isinteger(L, ii) ? lua_tointeger(L, ii) : di;
    lua_Integer j = lua_isinteger(L, ij) ? lua_tointeger(L, ij) : dj;
    if (j < i)
        return 0;
    if (i < 0 && j > LUA_MAXINTEGER + i)
        return LUA_MAXINTEGER;
    return j - i + 1;
}

static size_t str_arg_len(lua_State *L, int idx)
{
    size_t n = 0;
    if (lua_type(L, idx) == LUA_TSTRING)
        lua_tolstring(L, idx, &n);
    return n;
}

static int l_charged(lua_State *L)
{
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2)), n = lua_gettop(L);
    double cost = 0;
    switch (kind) {
    case W_REP: {
        /* n copies; a result longer than any string may be is refused by
         * the allocator (its buffer is charged as allocation) */
        double bytes = (double)str_arg_len(L, 1) + (double)str_arg_len(L, 3);
        if (lua_type(L, 2) == LUA_TNUMBER)
            cost = lua_tonumber(L, 2);
        if (bytes > 0 && cost * bytes > (double)SL_MAX_STRING)
            cost = 0;
        break;
    }
    case W_BYTE: {
        size_t len = str_arg_len(L, 1);
        cost = (double)range_of(L, 2, 1, 3, lua_isinteger(L, 2) ? lua_tointeger(L, 2) : 1);
        if (cost > (double)len)
            cost = (double)len;
        break;
    }
    case W_PACKFMT:
        cost = (double)str_arg_len(L, 1) + (double)str_arg_len(L, 2) / 16;
        break;
    case W_UTF8SCAN:
        cost = (double)str_arg_len(L, 1) / 2;
        break;
    case W_SORT: {
        double m = (double)tlen(L, 1);
        cost = m > 1 ? 3 * m * ceil(log2(m)) : 0;
        break;
    }
    case W_TLEN: /* insert(t, pos, v) (flag) and remove(t, pos) shift */
        if (n >= (lua_toboolean(L, lua_upvalueindex(3)) ? 3 : 2))
            cost = 2 * (double)tlen(L, 1);
        break;
    case W_RANGE23: {
        /* concat(t, sep, i, j) has i, j at 3, 4; unpack(t, i, j) at 2, 3 */
        int at = lua_toboolean(L, lua_upvalueindex(3)) ? 3 : 2;
        lua_Integer len = lua_isnoneornil(L, at + 1) ? tlen(L, 1) : 0;
        cost = 4 * (double)range_of(L, at, 1, at + 1, len);
        break;
    }
    case W_MOVE:
        cost = (double)range_of(L, 2, 1, 3, 0);
        break;
    case W_NARGS:
        cost = n;
        break;
    case W_STR1:
        cost = ((double)str_arg_len(L, 1) + (double)str_arg_len(L, 2)) / 16;
        break;
    default:
        break;
    }
    if (cost >= 1 && sl_charge_work(L, cost > 1e18 ? (size_t)1e18 : (size_t)cost) != 0)
        return luaL_error(L, "instruction limit exceeded");
    /* run the stock function in this frame (none of them uses upvalues),
     * so that its messages name the caller's line and the function */
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* Replace t[name] (t at idx) by a charging wrapper of the given kind. */
static void charge_fn(lua_State *L, int idx, const char *name, int kind, int flag)
{
    idx = lua_absindex(L, idx);
    if (lua_getfield(L, idx, name) != LUA_TFUNCTION || !lua_tocfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushinteger(L, kind);
    lua_pushboolean(L, flag);
    lua_pushcclosure(L, l_charged, 3);
    lua_setfield(L, idx, name);
}

/* utf8.codes(s [, lax]) as in Lua 5.4.6: Lua 5.4.4 accepts spurious
 * continuation bytes (and skips any number of them in one step, linear
 * work in one call). */
#define UTF8_MAX 0x7FFFFFFFu
#define ISCONT(c) (((c) & 0xC0) == 0x80)

static const char *utf8_dec(const char *s, unsigned long *val, int strict)
{
    static const unsigned long limits[] = {
        ~(unsigned long)0, 0x80, 0x800, 0x10000u, 0x200000u, 0x4000000u
    };
    unsigned int c = (unsigned char)s[0];
    unsigned long res = 0;
    if (c < 0x80) {
        res = c;
    } else {
        int count = 0;
        for (; c & 0x40; c <<= 1) {
            unsigned int cc = (unsigned char)s[++count];
            if (!ISCONT(cc))
                return NULL;
            res = (res << 6) | (cc & 0x3F);
        }
        res |= ((unsigned long)(c & 0x7F) << (count * 5));
        if (count > 5 || res > UTF8_MAX || res < limits[count])
            return NULL;
        s += count;
    }
    if (strict && (res > 0x10FFFFu || (0xD800u <= res && res <= 0xDFFFu)))
        return NULL;
    if (val)
        *val = res;
    return s + 1;
}

static int utf8_iter(lua_State *L, int strict)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Unsigned n = (lua_Unsigned)lua_tointeger(L, 2);
    if (n < len) {
        while (ISCONT((unsigned char)s[n]))
            n++; /* at most the 5 bytes of the previous character */
    }
    if (n >= len)
        return 0;
    else {
        unsigned long code;
        const char *next = utf8_dec(s + n, &code, strict);
        if (next == NULL || ISCONT((unsigned char)*next))
            return luaL_error(L, "invalid UTF-8 code");
        lua_pushinteger(L, (lua_Integer)n + 1);
        lua_pushinteger(L, (lua_Integer)code);
        return 2;
    }
}

static int l_utf8_iter_strict(lua_State *L) { return utf8_iter(L, 1); }
static int l_utf8_iter_lax(lua_State *L) { return utf8_iter(L, 0); }

static int l_utf8_codes(lua_State *L)
{
    int lax = lua_toboolean(L, 2);
    const char *s = luaL_checkstring(L, 1);
    luaL_argcheck(L, !ISCONT((unsigned char)*s), 1, "invalid UTF-8 code");
    lua_pushcfunction(L, lax ? l_utf8_iter_lax : l_utf8_iter_strict);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
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

void sl_push_sandbox_env(lua_State *L)
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
    charge_fn(L, env, "select", W_NARGS, 0);
    charge_fn(L, env, "tonumber", W_STR1, 0);
    charge_fn(L, env, "rawequal", W_STR1, 0);
    /* load: text only, sandbox env by default */
    lua_getfield(L, -1, "load");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, l_sandbox_load, 2);
    lua_setfield(L, env, "load");
    lua_pop(L, 1); /* global table */

    lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.print");
    lua_setfield(L, env, "print");
    sl_install_xpcall(L, env);
    lua_pushcfunction(L, l_sandbox_setmetatable);
    lua_setfield(L, env, "setmetatable");
    lua_pushcfunction(L, l_sandbox_collectgarbage);
    lua_setfield(L, env, "collectgarbage");

    copy_lib(L, LUA_COLIBNAME, NULL);
    sl_install_coroutine(L, -1);
    lua_setfield(L, env, LUA_COLIBNAME);
    copy_lib(L, LUA_TABLIBNAME, NULL);
    charge_fn(L, -1, "sort", W_SORT, 0);
    charge_fn(L, -1, "insert", W_TLEN, 1);
    charge_fn(L, -1, "remove", W_TLEN, 0);
    charge_fn(L, -1, "concat", W_RANGE23, 1);
    charge_fn(L, -1, "unpack", W_RANGE23, 0);
    charge_fn(L, -1, "move", W_MOVE, 0);
    charge_fn(L, -1, "pack", W_NARGS, 0);
    lua_setfield(L, env, LUA_TABLIBNAME);
    copy_lib(L, LUA_UTF8LIBNAME, NULL);
    lua_pushcfunction(L, l_utf8_codes);
    lua_setfield(L, -2, "codes");
    charge_fn(L, -1, "len", W_UTF8SCAN, 0);
    charge_fn(L, -1, "offset", W_UTF8SCAN, 0);
    charge_fn(L, -1, "codepoint", W_UTF8SCAN, 0);
    charge_fn(L, -1, "char", W_NARGS, 0);
    lua_setfield(L, env, LUA_UTF8LIBNAME);
    copy_lib(L, LUA_MATHLIBNAME, NULL);
    sl_install_random(L, -1);
    lua_setfield(L, env, LUA_MATHLIBNAME);

    /* string without dump; ("x"):method() must see the same table, and the
     * string metatable is locked so scripts cannot reach the original */
    copy_lib(L, LUA_STRLIBNAME, "dump");
    sl_install_strmatch(L, -1); /* pattern matching within the budget (A5) */
    charge_fn(L, -1, "rep", W_REP, 0);
    charge_fn(L, -1, "byte", W_BYTE, 0);
    charge_fn(L, -1, "char", W_NARGS, 0);
    charge_fn(L, -1, "pack", W_PACKFMT, 0);
    charge_fn(L, -1, "unpack", W_PACKFMT, 0);
    charge_fn(L, -1, "packsize", W_PACKFMT, 0);
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
