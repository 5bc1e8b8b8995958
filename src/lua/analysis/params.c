/*
 * params.c - override files for `--params FIT.lua` (ss_params_read): a Lua
 * chunk (text only) returning { ["PATH"] = number, ... } as written by
 * `stratsim calibrate --write`, run sandboxed with small budgets and
 * without the stratsim module, turned into sorted "PATH=VALUE" strings.
 *
 * Ownership: the file's text is malloc'ed while the chunk loads; the
 * script state is opened and closed here; the strings and their array
 * returned are the caller's (ss_analysis.h).
 * Depends on la_internal.h (la_path_key), sl_internal.h (sandbox,
 * budgets, sl_pcall) and the core (ss_fmt_double).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

typedef struct params_req {
    const char *path;
    const char *text;
    size_t len;
} params_req;

/* Protected: load and run the override file, check its table, return one
 * string "PATH=VALUE\n..." sorted by path. */
static int l_params_run(lua_State *L)
{
    params_req *r = lua_touserdata(L, 1);
    const char *text = r->text;
    size_t len = r->len, n = 0, i;
    luaL_Buffer b;
    int t, keys;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    lua_pushfstring(L, "@%s", r->path);
    if (luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t") != LUA_OK)
        sl_raise(L, SS_EINVAL, "%s", lua_tostring(L, -1));
    sl_vet_chunk(L);
    sl_bind_env(L);
    sl_set_root(L, r->path, 1); /* includes: below the file's directory */
    sl_budget_reset(L);
    lua_call(L, 0, 1); /* protected by the caller's sl_pcall */
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE || lua_getmetatable(L, t))
        sl_raise(L, SS_EINVAL, "%s: expected the file to return a table "
                     "{ [\"PATH\"] = number, ... }, got %s", r->path, sl_tname(L, t));
    lua_newtable(L);
    keys = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (!la_path_key(L, -2))
            sl_raise(L, SS_EINVAL, "%s: expected parameter paths as keys, found a %s key",
                         r->path, luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
            sl_raise(L, SS_EINVAL, "%s: [\"%s\"]: expected a finite number, got %s", r->path,
                         lua_tostring(L, -2), lua_type(L, -1) == LUA_TNUMBER ? "a non-finite number"
                                                                             : sl_tname(L, -1));
        if (strchr(lua_tostring(L, -2), '='))
            sl_raise(L, SS_EINVAL, "%s: [\"%s\"]: not a parameter path", r->path,
                         lua_tostring(L, -2));
        lua_pop(L, 1);
        if (n >= SS_PARAMS_MAX_KEYS)
            sl_raise(L, SS_ELIMIT, "%s: more than %d parameters (the limit of an override "
                         "file)", r->path, SS_PARAMS_MAX_KEYS);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, (lua_Integer)++n);
    }
    /* sort the keys by byte order (qsort of pointers to the strings,
     * anchored in `keys`) */
    {
        const char **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, keys, (lua_Integer)i);
            v[i - 1] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        qsort(v, n, sizeof *v, cmp_strp);
        for (i = 1; i <= n; i++) {
            lua_pushstring(L, v[i - 1]);
            lua_rawseti(L, keys, (lua_Integer)i);
        }
        lua_pop(L, 1);
    }
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
        char num[64];
        lua_rawgeti(L, keys, (lua_Integer)i);
        lua_pushvalue(L, -1);
        lua_rawget(L, t);
        ss_fmt_double(num, sizeof num, lua_tonumber(L, -1));
        lua_pop(L, 1);
        lua_pushfstring(L, "%s=%s\n", lua_tostring(L, -1), num);
        lua_remove(L, -2);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

int ss_params_read(const char *path, char ***out, size_t *n, ss_err *err)
{
    ss_script_opts so = SS_SCRIPT_OPTS_INIT;
    ss_script *s = NULL;
    params_req r;
    FILE *f;
    char *buf = NULL, **v = NULL;
    size_t cap = 0, len = 0, count = 0, i;
    const char *text, *p;
    int rc, status;
    lua_State *L;

    *out = NULL;
    *n = 0;
    if (!(f = fopen(path, "rb")))
        return ss_err_set(err, SS_EIO, "", "cannot open %s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (len == cap) {
            char *nb;
            if (cap >= ((size_t)16 << 20)) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ELIMIT, "", "%s: larger than 16 MiB", path);
            }
            nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (!nb) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return ss_err_set(err, SS_EIO, "", "cannot read %s", path);
    }
    fclose(f);
    so.max_memory = (size_t)64 << 20;
    so.max_instructions = 10000000ULL;
    if ((rc = ss_script_open(&s, &so, err)) != SS_OK) {
        free(buf);
        return rc;
    }
    L = ss_script_state(s);
    r.path = path;
    r.text = buf;
    r.len = len;
    lua_pushcfunction(L, l_params_run);
    lua_pushlightuserdata(L, &r);
    status = sl_pcall(L, 1, 1);
    free(buf);
    if (status != LUA_OK) {
        rc = sl_to_err(L, status, err);
        ss_script_close(s);
        return rc;
    }
    text = lua_tostring(L, -1);
    for (p = text; *p; p++)
        count += *p == '\n';
    v = calloc(count + 1, sizeof *v);
    for (i = 0, p = text; v && i < count; i++) {
        const char *e = strchr(p, '\n');
        if (!(v[i] = malloc((size_t)(e - p) + 1)))
            break;
        memcpy(v[i], p, (size_t)(e - p));
        v[i][e - p] = '\0';
        p = e + 1;
    }
    ss_script_close(s);
    if (!v || i < count) {
        for (i = 0; v && i < count; i++)
            free(v[i]);
        free(v);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    *out = v;
    *n = count;
    return SS_OK;
}

