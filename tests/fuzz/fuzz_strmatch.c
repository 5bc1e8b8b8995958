/*
 * fuzz_strmatch.c - differential libFuzzer harness for the sandbox's
 * string.find/match/gmatch/gsub (src/lua/l_strmatch.c, which charge their
 * matching steps to the instruction budget): every input is run through the
 * sandbox's functions and through the stock Lua string library, and the two
 * must agree (both fail, or both return the same values). Inputs that
 * exhaust the sandbox's step budget are not given to the stock library.
 * Input: byte 0 picks the function and the replacement kind, byte 1 the
 * init argument, bytes 2 and 3 the lengths of subject and pattern; then the
 * subject, the pattern and the replacement string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "stratsim.h"
#include "lua/sl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static ss_script *sandbox;
static lua_State *S, *R; /* sandbox state, reference state */

/* Runs in both states: call string[fn] on the arguments and serialise the
 * results (gmatch: up to 40 iterations) into one string. */
static const char DRIVER[] =
    "local string, fn, kind, s, p, r, init = ...\n"
    "local out = {}\n"
    "local function put(...)\n"
    "  local n = select('#', ...)\n"
    "  out[#out + 1] = '#' .. n\n"
    "  for i = 1, n do local v = select(i, ...)\n"
    "    out[#out + 1] = type(v) .. ':' .. tostring(v) end\n"
    "end\n"
    "if fn == 'gmatch' then\n"
    "  local k = 0\n"
    "  for a, b, c in string.gmatch(s, p, init) do\n"
    "    put(a, b, c); k = k + 1; if k == 40 then break end end\n"
    "elseif fn == 'gsub' then\n"
    "  local repl = r\n"
    "  if kind == 1 then repl = { a = 'A', [''] = 'E', x = false, ['1'] = 1 }\n"
    "  elseif kind == 2 then repl = function(a, b) if a == 'b' then return nil end\n"
    "    return tostring(a) .. '<' .. tostring(b) .. '>' end end\n"
    "  put(string.gsub(s, p, repl, init))\n"
    "else\n"
    "  put(string[fn](s, p, init, kind == 1))\n"
    "end\n"
    "return table.concat(out, ' ')\n";

static int driver_ref(lua_State *L)
{
    return luaL_loadbufferx(L, DRIVER, sizeof DRIVER - 1, "=driver", "t");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    ss_err err;
    (void)argc;
    (void)argv;
    ss_global_init();
    o.max_instructions = 3000000;
    o.max_memory = 64u << 20;
    if (ss_script_open(&sandbox, &o, &err) != SS_OK)
        abort();
    S = ss_script_state(sandbox);
    R = luaL_newstate();
    if (!R)
        abort();
    luaL_openlibs(R);
    return 0;
}

/* Run the driver in L with the string table on top of the stack; leaves
 * the status and stores the serialised result (or error) in buf. */
static int run(lua_State *L, const char *fn, int kind, const char *s, size_t ls,
               const char *p, size_t lp, const char *r, size_t lr, lua_Integer init,
               char *buf, size_t n)
{
    int st;
    if (driver_ref(L) != LUA_OK)
        abort();
    if (L == S) { /* the sandbox's environment as the driver's _ENV */
        lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
        if (!lua_setupvalue(L, -2, 1))
            abort();
    }
    lua_insert(L, -2);                 /* driver, string table */
    lua_pushstring(L, fn);
    lua_pushinteger(L, kind);
    lua_pushlstring(L, s, ls);
    lua_pushlstring(L, p, lp);
    lua_pushlstring(L, r, lr);
    if (init == 0 && kind != 3)
        lua_pushnil(L);
    else
        lua_pushinteger(L, init);
    st = lua_pcall(L, 7, 1, 0);
    snprintf(buf, n, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 1);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fns[] = { "find", "match", "gmatch", "gsub" };
    static char a[65536], b[65536];
    const char *fn, *s, *p, *r;
    size_t ls, lp, lr;
    lua_Integer init;
    int kind, sa, sb;

    if (size < 4)
        return 0;
    fn = fns[data[0] & 3];
    kind = (data[0] >> 2) & 3;
    init = (int8_t)data[1];
    if (init < -40 || init > 40)
        init = 0;
    ls = data[2] % 48;
    lp = data[3] % 24;
    data += 4;
    size -= 4;
    if (ls > size)
        ls = size;
    s = (const char *)data;
    if (lp > size - ls)
        lp = size - ls;
    p = s + ls;
    r = p + lp;
    lr = size - ls - lp;
    if (lr > 16)
        lr = 16;

    sl_budget_reset(S);
    if (lua_getfield(S, LUA_REGISTRYINDEX, "stratsim.env") != LUA_TTABLE)
        abort();
    lua_getfield(S, -1, "string");
    lua_remove(S, -2);
    sa = run(S, fn, kind, s, ls, p, lp, r, lr, init, a, sizeof a);
    lua_settop(S, 0);
    lua_gc(S, LUA_GCCOLLECT);
    if (sa != LUA_OK && (sl_limit_hit(S) || strstr(a, "instruction limit")))
        return 0; /* too much work for the budget: not compared */

    lua_getglobal(R, "string");
    sb = run(R, fn, kind, s, ls, p, lp, r, lr, init, b, sizeof b);
    lua_settop(R, 0);
    lua_gc(R, LUA_GCCOLLECT);

    if ((sa == LUA_OK) != (sb == LUA_OK) || (sa == LUA_OK && strcmp(a, b) != 0)) {
        fprintf(stderr, "MISMATCH %s kind %d init %lld\n  sandbox: [%d] %s\n  stock:   [%d] %s\n",
                fn, kind, (long long)init, sa, a, sb, b);
        abort();
    }
    return 0;
}
