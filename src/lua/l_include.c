/*
 * l_include.c - stratsim.include(FILE): run another scenario file and return
 * what it returns, so a variant can derive from a shared base file
 * (`local base = stratsim.include("baseline.lua")`) even in the sandbox,
 * which has no require/dofile.
 *
 * FILE is resolved relative to the directory of the calling chunk; it must
 * name a ".lua" file; it is loaded as text only with the caller's _ENV (the
 * sandbox environment when sandboxed) and its source is recorded so that
 * error lines inside it are located as for the main file. Includes nest up
 * to 16 deep (a cycle is reported, not followed forever). Reading is charged
 * to the instruction budget like other C-side work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ss_lua.h"
#include <lauxlib.h>
#include <lua.h>

#define INCLUDE_DEPTH_KEY "stratsim.include_depth"
#define INCLUDE_MAX_DEPTH 16
#define INCLUDE_MAX_BYTES (8u << 20)

/* The open file of push_file as a to-be-closed value, so that an error
 * raised while reading (a memory error inside luaL_prepbuffer) cannot leak
 * the FILE and its descriptor. */
#define INCLUDE_FILE_META "stratsim.IncludeFile"
typedef struct include_file {
    FILE *f;
} include_file;

static int l_include_file_close(lua_State *L)
{
    include_file *h = luaL_checkudata(L, 1, INCLUDE_FILE_META);
    if (h->f) {
        fclose(h->f);
        h->f = NULL;
    }
    return 0;
}

/* Read a whole file into a Lua string pushed on the stack (luaL_Buffer: no
 * malloc held across a raising call; the FILE is a to-be-closed slot). */
static void push_file(lua_State *L, const char *path)
{
    luaL_Buffer b;
    include_file *h;
    size_t total = 0;
    int slot;

    h = lua_newuserdatauv(L, sizeof *h, 0);
    h->f = NULL;
    if (luaL_newmetatable(L, INCLUDE_FILE_META)) {
        lua_pushcfunction(L, l_include_file_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_include_file_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    slot = lua_gettop(L);
    lua_toclose(L, slot);
    h->f = fopen(path, "rb");
    if (!h->f)
        luaL_error(L, "stratsim.include: cannot open %s: %s", path, strerror(errno));
    luaL_buffinit(L, &b);
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        size_t got = fread(p, 1, LUAL_BUFFERSIZE, h->f);
        luaL_addsize(&b, got);
        total += got;
        if (total > INCLUDE_MAX_BYTES)
            luaL_error(L, "stratsim.include: %s is larger than %u bytes", path, INCLUDE_MAX_BYTES);
        if (got < LUAL_BUFFERSIZE)
            break;
    }
    if (ferror(h->f))
        luaL_error(L, "stratsim.include: cannot read %s", path);
    luaL_pushresult(&b);
    lua_closeslot(L, slot); /* fclose now; the slot becomes nil */
    lua_remove(L, slot);
}

/* The directory part of the calling chunk's source ("@dir/file.lua"). */
static void push_caller_dir(lua_State *L)
{
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "S", &ar) && ar.source[0] == '@') {
        const char *src = ar.source + 1;
        const char *slash = strrchr(src, '/');
        if (slash) {
            lua_pushlstring(L, src, (size_t)(slash - src + 1));
            return;
        }
    }
    lua_pushliteral(L, "");
}

int ss_lua_include(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    size_t n = strlen(name), len;
    const char *path, *text;
    lua_Integer depth;
    int status, base;

    if (n < 5 || strcmp(name + n - 4, ".lua") != 0)
        return luaL_argerror(L, 1, "expected the name of a .lua scenario file");
    if (name[0] == '/')
        path = lua_pushstring(L, name);
    else {
        push_caller_dir(L);
        lua_pushstring(L, name);
        lua_concat(L, 2);
        path = lua_tostring(L, -1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    depth = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (depth >= INCLUDE_MAX_DEPTH)
        return luaL_error(L, "stratsim.include: more than %d nested includes (a cycle?) at %s",
                          INCLUDE_MAX_DEPTH, path);
    push_file(L, path);
    text = lua_tolstring(L, -1, &len);
    if (ss_lua_charge_work(L, len) != 0)
        return luaL_error(L, "instruction limit exceeded");
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    /* record the source for key-path line lookup */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, SS_LUA_SOURCES);
    lua_pushfstring(L, "@%s", path);
    lua_pushlstring(L, text, len);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushfstring(L, "@%s", path);
    status = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    if (status != LUA_OK)
        return lua_error(L);
    ss_lua_vet_chunk(L);
    ss_lua_bind_env(L); /* the included chunk shares the caller's environment */
    lua_pushinteger(L, depth + 1);
    lua_setfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    base = lua_gettop(L) - 1;
    lua_call(L, 0, LUA_MULTRET);
    lua_pushinteger(L, depth);
    lua_setfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    return lua_gettop(L) - base;
}
