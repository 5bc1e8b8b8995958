/*
 * errors.c - located error messages of a Scenario: "FILE:LINE: PATH:
 * message", the line found by searching the key path (locate.c) from the
 * constructor's line in the source of each origin the Scenario came from
 * (events in the origin they came from), deepest match winning; the
 * source texts come from the registry (SL_SOURCES) or, outside the
 * sandbox, from disk. ls_fail raises such an error while converting;
 * sl_scenario_format formats one for the analyses.
 *
 * Ownership: a source file read from disk is held in a userdata whose __gc
 * closes it; its text is a Lua string (remembered in SL_SOURCES). Lexing a
 * source is charged to the instruction budget.
 * Depends on ls_internal.h and sl_internal.h (sl_locate_path,
 * sl_charge_work, sl_raise).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua/scenario/ls_internal.h"

/* __gc of the FILE box used by read_source: close a file left open by an
 * error raised while reading. */
static int l_srcfile_gc(lua_State *L)
{
    FILE **fp = lua_touserdata(L, 1);
    if (fp && *fp) {
        fclose(*fp);
        *fp = NULL;
    }
    return 0;
}

/* Push the text of file `path` (at most 8 MiB), or nil. The FILE lives in
 * a userdata with __gc, so a memory error while reading cannot leak it. */
static void read_source(lua_State *L, const char *path)
{
    luaL_Buffer b;
    FILE **fp;
    size_t total = 0, got;

    fp = lua_newuserdatauv(L, sizeof *fp, 0);
    *fp = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_srcfile_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    *fp = fopen(path, "rb");
    if (!*fp) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    luaL_buffinit(L, &b);
    do {
        char *p = luaL_prepbuffer(&b);
        got = fread(p, 1, LUAL_BUFFERSIZE, *fp);
        luaL_addsize(&b, got);
        total += got;
    } while (got > 0 && total <= ((size_t)8 << 20));
    luaL_pushresult(&b);
    fclose(*fp);
    *fp = NULL;
    lua_remove(L, -2);
    if (total > ((size_t)8 << 20)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Push the source text of chunk `src` (registry for files, the chunk
 * string itself for load()ed strings), or nil. A file chunk not loaded by
 * stratsim (dofile in a program that uses the module) is read from disk -
 * only outside the sandbox, where reading files is the script's right. */
static void push_source(lua_State *L, const char *src)
{
    if (src[0] == '@' || src[0] == '=') {
        luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
        if (lua_getfield(L, -1, src) == LUA_TNIL && src[0] == '@') {
            int sandboxed = lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") != LUA_TNIL;
            lua_pop(L, 2);
            if (sandboxed) {
                lua_pushnil(L);
            } else {
                read_source(L, src + 1);
                if (lua_type(L, -1) == LUA_TSTRING) {
                    lua_pushvalue(L, -1);
                    lua_setfield(L, -3, src); /* remembered for the next error */
                }
            }
        }
        lua_remove(L, -2);
    } else {
        lua_pushstring(L, src);
    }
}

/* push_source, with the search of the text that every caller makes charged
 * to the instruction budget here (raises when the budget runs out). */
void ls_push_source_text(lua_State *L, const char *src)
{
    size_t len;
    push_source(L, src);
    if (lua_type(L, -1) == LUA_TSTRING) {
        lua_tolstring(L, -1, &len);
        if (sl_charge_work(L, len) != 0)
            sl_raise(L, SS_ELIMIT, "instruction limit exceeded");
    }
}

/* Line of `path` in the origin table at index o; depth in *depth. */
static int origin_line(lua_State *L, int o, const char *path, int *depth)
{
    int line, d = 0;
    o = lua_absindex(L, o);
    luaL_checkstack(L, 4, NULL);
    lua_getfield(L, o, "line");
    line = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, o, "src") == LUA_TSTRING) {
        ls_push_source_text(L, lua_tostring(L, -1));
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            line = sl_locate_path(text, len, line, path, &d);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (depth)
        *depth = d;
    return line;
}

/*
 * Format "FILE:LINE: PATH: msg" for a scenario whose meta table is at
 * `meta`. Paths under events[n] are searched in the origin that event came
 * from; other paths in every origin (or only the newest), deepest match wins.
 */
void ls_format_at(lua_State *L, int meta, const char *path, const char *msg,
                  char *out, size_t size, int only_newest)
{
    char lpath[256], name[256] = "?";
    int top = lua_gettop(L), line = 0, best = -1;
    lua_Integer first = 1, last, j;
    size_t plen = strlen(path);

    luaL_checkstack(L, 8, NULL);
    meta = lua_absindex(L, meta);
    snprintf(lpath, sizeof lpath, "%s", path);
    if (plen && strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    if (lua_type(L, meta) != LUA_TTABLE || lua_getfield(L, meta, "origins") != LUA_TTABLE) {
        lua_settop(L, top);
        snprintf(out, size, "%s%s%s", path, *path ? ": " : "", msg);
        return;
    }
    last = (lua_Integer)lua_rawlen(L, -1);
    if (only_newest) {
        last = 1;
    } else if (strncmp(path, "events[", 7) == 0) {
        char *end;
        long ei = strtol(path + 7, &end, 10);
        if (lua_getfield(L, meta, "events") == LUA_TTABLE && *end == ']') {
            if (lua_rawgeti(L, -1, ei) == LUA_TTABLE) {
                lua_getfield(L, -1, "o");
                lua_getfield(L, -2, "i");
                first = last = lua_tointeger(L, -2);
                snprintf(lpath, sizeof lpath, "events[%ld]%s", (long)lua_tointeger(L, -1), end + 1);
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    for (j = first; j <= last; j++) {
        int d, l;
        if (lua_rawgeti(L, -1, j) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        l = origin_line(L, -1, lpath, &d);
        if (d > best) {
            best = d;
            line = l;
            lua_getfield(L, -1, "name");
            snprintf(name, sizeof name, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, top);
    if (line > 0)
        snprintf(out, size, "%s:%d: %s%s%s", name, line, path, *path ? ": " : "", msg);
    else
        snprintf(out, size, "%s: %s%s%s", name, path, *path ? ": " : "", msg);
}

void sl_scenario_format(lua_State *L, int idx, const char *path, const char *msg,
                            char *out, size_t size)
{
    idx = lua_absindex(L, idx);
    lua_getiuservalue(L, idx, UV_META);
    ls_format_at(L, -1, path ? path : "", msg, out, size, 0);
    lua_pop(L, 1);
}

/* Raise a located scenario error. */
_Noreturn void ls_fail(cv *c, const char *path, const char *fmt, ...)
{
    char msg[512], out[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ls_format_at(c->L, c->meta, path, msg, out, sizeof out, c->only_newest);
    sl_raise(c->L, SS_EINVAL, "%s", out);
}

_Noreturn void ls_nomem(lua_State *L)
{
    sl_raise(L, SS_ENOMEM, "out of memory");
}

