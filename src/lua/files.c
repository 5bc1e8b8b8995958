/*
 * files.c - ss_script_files(): the files a loaded script read: the scenario
 * file and every file it included, from the registry table of sources that
 * locate.c uses (SL_SOURCES: "@PATH" -> text, one entry per file loaded
 * by stratsim), and the data files of stratsim.series (SL_DATA_FILES).
 * The CLI compares them with its outputs so that no output replaces an
 * input.
 */
#include <stdlib.h>
#include <string.h>
#include "sl_internal.h"
#include <lauxlib.h>
#include <lua.h>

/* Append the string keys of the table at the top (those starting with
 * `prefix`, which is dropped; "" for all) to v. 0, or -1 when out of
 * memory. Nothing here can raise. */
static int collect(lua_State *L, const char *prefix, char ***v, size_t *cnt, size_t *cap)
{
    size_t pl = strlen(prefix);
    int ok = 1;
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        size_t len;
        const char *k;
        lua_pop(L, 1); /* the value */
        if (!ok || lua_type(L, -1) != LUA_TSTRING)
            continue;
        k = lua_tolstring(L, -1, &len);
        if (len <= pl || memcmp(k, prefix, pl) != 0 || memchr(k, '\0', len))
            continue;
        if (*cnt == *cap) {
            size_t nc = *cap ? 2 * *cap : 8;
            char **nv = realloc(*v, nc * sizeof *nv);
            if (!nv) {
                ok = 0;
                continue;
            }
            *v = nv;
            *cap = nc;
        }
        if (!((*v)[*cnt] = malloc(len - pl + 1))) {
            ok = 0;
            continue;
        }
        memcpy((*v)[*cnt], k + pl, len - pl + 1); /* the path and its NUL */
        (*cnt)++;
    }
    return ok ? 0 : -1;
}

int ss_script_files(ss_script *s, char ***out, size_t *n, ss_err *err)
{
    lua_State *L = ss_script_state(s);
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    int bad = 0;

    *out = NULL;
    *n = 0;
    if (!L)
        return SS_OK;
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    /* plain registry reads: a missing table is nil, nothing is created */
    if (lua_getfield(L, LUA_REGISTRYINDEX, SL_SOURCES) == LUA_TTABLE)
        bad |= collect(L, "@", &v, &cnt, &cap);
    lua_pop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, SL_DATA_FILES) == LUA_TTABLE)
        bad |= collect(L, "", &v, &cnt, &cap);
    lua_pop(L, 1);
    if (bad) {
        while (cnt > 0)
            free(v[--cnt]);
        free(v);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    *out = v;
    *n = cnt;
    return SS_OK;
}
