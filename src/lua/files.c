/*
 * files.c - ss_script_files(): the files a loaded script read (the scenario
 * file and every file it included), from the registry table of sources
 * that locate.c uses (SS_LUA_SOURCES: "@PATH" -> text, one entry per file
 * loaded by stratsim). The CLI compares them with its outputs so that no
 * output replaces an input.
 */
#include <stdlib.h>
#include <string.h>
#include "ss_lua.h"
#include <lauxlib.h>
#include <lua.h>

int ss_script_files(ss_script *s, char ***out, size_t *n, ss_err *err)
{
    lua_State *L = ss_script_state(s);
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    int ok = 1;

    *out = NULL;
    *n = 0;
    if (!L)
        return SS_OK;
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    /* a plain rawget: nothing here can raise */
    if (lua_getfield(L, LUA_REGISTRYINDEX, SS_LUA_SOURCES) != LUA_TTABLE) {
        lua_pop(L, 1);
        return SS_OK;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        size_t len;
        const char *k;
        lua_pop(L, 1); /* the text */
        if (!ok || lua_type(L, -1) != LUA_TSTRING)
            continue;
        k = lua_tolstring(L, -1, &len);
        if (len < 2 || k[0] != '@' || memchr(k, '\0', len))
            continue;
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 8;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                ok = 0;
                continue;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = malloc(len))) {
            ok = 0;
            continue;
        }
        memcpy(v[cnt], k + 1, len); /* the path and its NUL */
        cnt++;
    }
    lua_pop(L, 1);
    if (!ok) {
        while (cnt > 0)
            free(v[--cnt]);
        free(v);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    *out = v;
    *n = cnt;
    return SS_OK;
}
