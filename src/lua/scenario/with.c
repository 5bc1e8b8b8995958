/*
 * with.c - Scenario:with{...}: a new Scenario derived from a base by a deep
 * merge of its spec (docs/scenarios.md): time and solver key-wise,
 * segments and providers by id (an array of entries with ids or a table
 * keyed by id; per-segment fields merged by segment id; false removes),
 * events appended (or replaced with replace_events = true), the Lua values
 * (policy, outputs, analysis tables, stocks, links) replaced by reference.
 * The variant is rebased on the base (its changed decision inputs become
 * interventions, docs/model.md) and records the call as its newest origin.
 *
 * Ownership: the merged spec and meta are Lua tables; the new Scenario is
 * built by ls_build (scenario.c) like stratsim.scenario{}.
 * Depends on ls_internal.h (convert.c's key checks, errors.c, scenario.c)
 * and sl_internal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua/scenario/ls_internal.h"

static const char *const with_keys[] = {
    "name", "description", "time", "discount_rate", "solver", "segments", "providers",
    "events", "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize",
    "checks", "replace_events", "stocks", "links", NULL
};
static const char *const perseg_keys[] = {
    "share", "margin", "opex", "allocation", "price", "participation", "lever",
    "capability", "brand", NULL
};

/* For key `key` (time, solver) merge t[key] into spec[key] key-wise. */
static void merge_kv(lua_State *L, int spec, int t, const char *key)
{
    int ov, bv;
    if (ls_rawfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    ov = lua_gettop(L);
    ls_rawfield(L, spec, key);
    bv = lua_gettop(L);
    lua_pushstring(L, key);
    if (lua_type(L, ov) == LUA_TBOOLEAN && !lua_toboolean(L, ov)) {
        lua_pushnil(L);
    } else if (lua_type(L, ov) == LUA_TTABLE && lua_type(L, bv) == LUA_TTABLE) {
        ls_dcopy(L, bv, 1);
        lua_pushnil(L);
        while (lua_next(L, ov)) {
            lua_pushvalue(L, -2);
            if (lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2))
                lua_pushnil(L);
            else
                lua_pushvalue(L, -2);
            lua_rawset(L, -5);
            lua_pop(L, 1);
        }
    } else {
        ls_dcopy(L, ov, 3);
    }
    lua_rawset(L, spec);
    lua_settop(L, ov - 1);
}

static int is_false(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TBOOLEAN && !lua_toboolean(L, idx);
}

/* 1 if the value at idx is a table without a metatable. */
static int plain_table(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return 0;
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        return 0;
    }
    return 1;
}

/* Push the merge of a per-segment field: base value bv (a table keyed by
 * segment, or one value for every segment of `segs`) overlaid with the
 * table ov (false removes a segment's entry). */
static void merge_perseg(lua_State *L, int bv, int ov, int segs)
{
    size_t k, n;
    luaL_checkstack(L, 6, NULL);
    if (lua_type(L, bv) == LUA_TTABLE) {
        ls_dcopy(L, bv, 1);
    } else {
        lua_newtable(L);
        if (!lua_isnil(L, bv) && lua_type(L, segs) == LUA_TTABLE) {
            n = lua_rawlen(L, segs);
            for (k = 1; k <= n; k++) {
                int seg;
                lua_rawgeti(L, segs, (lua_Integer)k);
                seg = lua_gettop(L);
                if (lua_type(L, seg) == LUA_TTABLE && ls_rawfield(L, seg, "id") == LUA_TSTRING) {
                    lua_pushvalue(L, bv);
                    lua_rawset(L, seg - 1); /* res[id] = bv */
                }
                lua_settop(L, seg - 1);
            }
        }
    }
    lua_pushnil(L);
    while (lua_next(L, ov)) {
        lua_pushvalue(L, -2);
        if (is_false(L, -2))
            lua_pushnil(L);
        else
            lua_pushvalue(L, -2);
        lua_rawset(L, -5);
        lua_pop(L, 1);
    }
}

/* Push base entry be merged with override entry oe. */
static void merge_entry(lua_State *L, int be, int oe, int is_prov, int segs)
{
    int res;
    luaL_checkstack(L, 8, NULL);
    ls_dcopy(L, be, 1);
    res = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, oe)) {
        int v = lua_gettop(L), kidx = v - 1;
        size_t len = 0;
        const char *k = lua_type(L, kidx) == LUA_TSTRING ? lua_tolstring(L, kidx, &len) : NULL;
        lua_pushvalue(L, kidx);
        if (is_false(L, v)) {
            lua_pushnil(L);
        } else if (k && plain_table(L, v) &&
                   ((is_prov && ls_in_list(perseg_keys, k, len)) ||
                    (!is_prov && len == 4 && memcmp(k, "bass", 4) == 0))) {
            lua_pushvalue(L, kidx);
            lua_rawget(L, be);
            if (is_prov) {
                merge_perseg(L, lua_gettop(L), v, segs);
            } else {
                int b = lua_gettop(L);
                merge_perseg(L, b, v, segs); /* bass: a key-wise overlay */
                if (lua_type(L, b) != LUA_TTABLE) {
                    lua_pop(L, 1);
                    ls_dcopy(L, v, 1);
                }
            }
            lua_remove(L, -2);
        } else {
            ls_dcopy(L, v, 2);
        }
        lua_rawset(L, res);
        lua_settop(L, kidx);
    }
}

typedef struct entry_ref {
    const char *key;
} entry_ref;

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(((const entry_ref *)a)->key, ((const entry_ref *)b)->key);
}

/*
 * Merge t[key] (segments or providers: an array of entries with ids, or a
 * table keyed by id, or both) into spec[key]: existing ids merge key-wise,
 * new ids are appended (array part in order, then keyed part sorted).
 */
static void merge_entities(cv *c, int spec, int t, const char *key, int is_prov)
{
    lua_State *L = c->L;
    char p[256], shown[80];
    size_t n, on, i, nkeys = 0;
    int ov, res, idmap, seen, segs;
    entry_ref *keys;

    if (ls_rawfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    ov = lua_gettop(L);
    if (lua_type(L, ov) != LUA_TTABLE)
        ls_fail(c, key, "expected an array of entries with ids or a table keyed by id, got %s",
                sl_tname(L, ov));
    luaL_checkstack(L, 12, NULL);
    lua_newtable(L);
    res = lua_gettop(L);
    lua_newtable(L);
    idmap = lua_gettop(L);
    lua_newtable(L);
    seen = lua_gettop(L);
    ls_rawfield(L, spec, key);
    n = lua_type(L, -1) == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
    for (i = 1; i <= n; i++) {
        int be;
        lua_rawgeti(L, -1, (lua_Integer)i);
        be = lua_gettop(L);
        if (lua_type(L, be) == LUA_TTABLE && ls_rawfield(L, be, "id") == LUA_TSTRING) {
            lua_pushinteger(L, (lua_Integer)i);
            lua_rawset(L, idmap); /* idmap[id] = i */
        }
        lua_settop(L, be);
        lua_rawseti(L, res, (lua_Integer)i);
    }
    lua_pop(L, 1);
    if (is_prov)
        ls_rawfield(L, spec, "segments");
    else
        lua_pushnil(L);
    segs = lua_gettop(L);

    /* collect the keyed entries and check the keys */
    on = lua_rawlen(L, ov);
    lua_pushnil(L);
    while (lua_next(L, ov)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            nkeys++;
        else if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > on)
            ls_fail(c, key, "expected an array of entries with ids or a table keyed by id "
                    "(found another kind of key)");
    }
    keys = lua_newuserdatauv(L, (nkeys ? nkeys : 1) * sizeof *keys, 0);
    nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, ov)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            keys[nkeys++].key = lua_tostring(L, -1); /* anchored: keys of ov */
    }
    qsort(keys, nkeys, sizeof *keys, cmp_keys);

    for (i = 0; i < on + nkeys; i++) {
        const char *id;
        int e;
        size_t len;
        if (i < on) {
            snprintf(p, sizeof p, "%s[%zu]", key, i + 1);
            lua_rawgeti(L, ov, (lua_Integer)i + 1);
        } else {
            snprintf(p, sizeof p, "%s.%s", key, keys[i - on].key);
            ls_rawfield(L, ov, keys[i - on].key);
        }
        e = lua_gettop(L);
        if (lua_type(L, e) != LUA_TTABLE)
            ls_fail(c, p, "expected an entry table, got %s", sl_tname(L, e));
        if (ls_rawfield(L, e, "id") == LUA_TNIL) {
            char q[256];
            if (i < on)
                ls_fail(c, ls_kpath(q, sizeof q, p, "id"), "missing (required to match or add an entry)");
            lua_pop(L, 1);
            lua_pushstring(L, keys[i - on].key);
        }
        {
            char q[256];
            id = ls_id_at(c, -1, ls_kpath(q, sizeof q, p, "id"), is_prov ? "provider" : "segment");
        }
        len = strlen(id);
        if (i >= on && strcmp(id, keys[i - on].key) != 0)
            ls_fail(c, p, "id '%s' does not match its key '%s'", id, keys[i - on].key);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) != LUA_TNIL)
            ls_fail(c, p, "%s '%s' is given twice", is_prov ? "provider" : "segment",
                    ls_show(id, len, shown, sizeof shown));
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, seen);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, idmap) == LUA_TNUMBER) {
            lua_Integer pos = lua_tointeger(L, -1);
            lua_rawgeti(L, res, pos);
            merge_entry(L, lua_gettop(L), e, is_prov, segs);
            lua_rawseti(L, res, pos);
            lua_pop(L, 2);
        } else {
            lua_Integer pos = (lua_Integer)lua_rawlen(L, res) + 1;
            lua_pop(L, 1);
            ls_dcopy(L, e, 2);
            lua_pushvalue(L, -2);
            lua_setfield(L, -2, "id");
            lua_rawseti(L, res, pos);
            lua_pushinteger(L, pos);
            lua_rawset(L, idmap); /* id -> pos (pops the id) */
            lua_pushnil(L);       /* keep the stack shape */
        }
        lua_settop(L, e - 1);
    }
    lua_pushstring(L, key);
    lua_pushvalue(L, res);
    lua_rawset(L, spec);
    lua_settop(L, ov - 1);
}

/* base:with{...}: a new Scenario derived from base (see docs/scenarios.md). */
int ls_scenario_with(lua_State *L)
{
    char where[320];
    cv c;
    size_t i, nb, nnew = 0;
    int replace = 0, spec, meta, t = 2, origins, evmap;

    if (!luaL_testudata(L, 1, SL_SCENARIO)) {
        sl_where(L, 1, where, sizeof where);
        sl_raise(L, SS_EINVAL, "%s: with: expected a scenario as self (call it as base:with{...}), got %s",
                     where, sl_tname(L, 1));
    }
    if (lua_type(L, 2) != LUA_TTABLE) {
        sl_where(L, 1, where, sizeof where);
        sl_raise(L, SS_EINVAL, "%s: with: expected a table, got %s", where, sl_tname(L, 2));
    }
    lua_settop(L, 2);
    luaL_checkstack(L, 20, NULL);
    lua_getiuservalue(L, 1, UV_SPEC);           /* 3 base spec */
    lua_getiuservalue(L, 1, UV_META);           /* 4 base meta */

    lua_createtable(L, 0, 2);                   /* 5 new meta */
    meta = 5;
    lua_createtable(L, 4, 0);                   /* 6 origins */
    origins = 6;
    ls_push_origin(L);
    lua_rawseti(L, origins, 1);
    lua_getfield(L, 4, "origins");
    nb = lua_rawlen(L, -1);
    for (i = 1; i <= nb; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        lua_rawseti(L, origins, (lua_Integer)i + 1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, origins);
    lua_setfield(L, meta, "origins");

    c.L = L;
    c.meta = meta;
    c.only_newest = 1;
    c.m = NULL;
    c.u = NULL;
    ls_check_keys(&c, t, with_keys, "");
    if (ls_rawfield(L, t, "replace_events") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            ls_fail(&c, "replace_events", "expected a boolean, got %s", sl_tname(L, -1));
        replace = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);

    ls_dcopy(L, 3, 1);                          /* 7 new spec */
    spec = 7;
    {
        static const char *const plain[] = {
            "name", "description", "discount_rate", "policy", "outputs", "uncertainty",
            "outages", "calibrate", "optimize", "checks", "stocks", "links", NULL
        };
        for (i = 0; plain[i]; i++) {
            if (ls_rawfield(L, t, plain[i]) != LUA_TNIL) {
                int v = lua_gettop(L);
                lua_pushstring(L, plain[i]);
                if (is_false(L, v))
                    lua_pushnil(L);
                else if (ls_in_list(ls_byref_keys, plain[i], strlen(plain[i])))
                    lua_pushvalue(L, v);
                else
                    ls_dcopy(L, v, 3);
                lua_rawset(L, spec);
            }
            lua_pop(L, 1);
        }
    }
    merge_kv(L, spec, t, "time");
    merge_kv(L, spec, t, "solver");
    merge_entities(&c, spec, t, "segments", 0);
    merge_entities(&c, spec, t, "providers", 1);

    /* events: appended to the base's (or replacing them) */
    lua_createtable(L, 0, 0);                   /* 8 event map */
    evmap = 8;
    if (ls_rawfield(L, t, "events") != LUA_TNIL) {
        int ne = lua_gettop(L);
        nnew = ls_array_len(&c, ne, "events", "event tables");
    }
    lua_pop(L, 1);
    lua_pushliteral(L, "events");
    lua_createtable(L, 0, 0);                   /* the merged events array */
    {
        int arr = lua_gettop(L);
        size_t at = 0;
        if (!replace && ls_rawfield(L, 3, "events") == LUA_TTABLE) {
            size_t nbase = lua_rawlen(L, -1);
            /* stack: ..., arr, base events */
            lua_getfield(L, 4, "events");
            for (i = 1; i <= nbase; i++) {
                lua_rawgeti(L, -2, (lua_Integer)i);
                lua_rawseti(L, arr, (lua_Integer)++at);
                if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TTABLE) {
                    ls_dcopy(L, -1, 1);
                    lua_getfield(L, -1, "o");
                    lua_pushinteger(L, lua_tointeger(L, -1) + 1);
                    lua_setfield(L, -3, "o");
                    lua_pop(L, 1);
                    lua_rawseti(L, evmap, (lua_Integer)at);
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_settop(L, arr);
        if (nnew) {
            ls_rawfield(L, t, "events");
            for (i = 1; i <= nnew; i++) {
                lua_rawgeti(L, -1, (lua_Integer)i);
                ls_dcopy(L, -1, 2);
                lua_rawseti(L, arr, (lua_Integer)(at + i));
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
            lua_rawgeti(L, origins, 1);
            ls_map_new_events(L, evmap, lua_gettop(L), nnew);
            lua_pop(L, 1);
        }
        if (at + nnew == 0) {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
    }
    lua_rawset(L, spec);
    lua_pushvalue(L, evmap);
    lua_setfield(L, meta, "events");
    ls_build(L, spec, meta, ((scen_ud *)lua_touserdata(L, 1))->m);
    return 1;
}

/* ------------------------------------------------------- metamethods */
