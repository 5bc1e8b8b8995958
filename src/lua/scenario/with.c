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

/* The base's entries spec[key] (an array) into res, idmap[id] = position. */
static void base_entries(lua_State *L, int spec, const char *key, int res, int idmap)
{
    size_t n, i;
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
}

/* The string keys of ov (checking that the others are array indices),
 * sorted, in a userdata left on the stack; *nkeys of them. */
static entry_ref *sorted_keys(cv *c, int ov, const char *key, size_t *nkeys)
{
    lua_State *L = c->L;
    size_t on = lua_rawlen(L, ov), n = 0;
    entry_ref *keys;
    lua_pushnil(L);
    while (lua_next(L, ov)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            n++;
        else if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > on)
            ls_fail(c, key, "expected an array of entries with ids or a table keyed by id "
                    "(found another kind of key)");
    }
    keys = lua_newuserdatauv(L, (n ? n : 1) * sizeof *keys, 0);
    n = 0;
    lua_pushnil(L);
    while (lua_next(L, ov)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            keys[n++].key = lua_tostring(L, -1); /* anchored: keys of ov */
    }
    qsort(keys, n, sizeof *keys, cmp_keys);
    *nkeys = n;
    return keys;
}

/* The tables one merge of entities works on (absolute stack indices). */
typedef struct ent_merge {
    int ov;          /* the variant's t[key] */
    int res;         /* the merged array */
    int idmap;       /* id -> position in res */
    int seen;        /* ids the variant gave */
    int segs;        /* the base's segments (providers), or nil */
    int is_prov;
    const char *key; /* "segments" or "providers" */
} ent_merge;

/* The variant's entry e (at path p; its key `bykey` if keyed, else NULL):
 * its id, checked, merged into the base's entry of that id or appended. */
static void merge_one(cv *c, const ent_merge *g, int e, const char *p, const char *bykey)
{
    lua_State *L = c->L;
    char q[256], shown[80];
    const char *what = g->is_prov ? "provider" : "segment", *id;
    size_t len;
    if (lua_type(L, e) != LUA_TTABLE)
        ls_fail(c, p, "expected an entry table, got %s", sl_tname(L, e));
    if (ls_rawfield(L, e, "id") == LUA_TNIL) {
        if (!bykey)
            ls_fail(c, ls_kpath(q, sizeof q, p, "id"), "missing (required to match or add an entry)");
        lua_pop(L, 1);
        lua_pushstring(L, bykey);
    }
    id = ls_id_at(c, -1, ls_kpath(q, sizeof q, p, "id"), what);
    len = strlen(id);
    if (bykey && strcmp(id, bykey) != 0)
        ls_fail(c, p, "id '%s' does not match its key '%s'", id, bykey);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, g->seen) != LUA_TNIL)
        ls_fail(c, p, "%s '%s' is given twice", what, ls_show(id, len, shown, sizeof shown));
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, g->seen);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, g->idmap) == LUA_TNUMBER) {
        lua_Integer pos = lua_tointeger(L, -1);
        lua_rawgeti(L, g->res, pos);
        merge_entry(L, lua_gettop(L), e, g->is_prov, g->segs);
        lua_rawseti(L, g->res, pos);
        lua_pop(L, 2);
    } else {
        lua_Integer pos = (lua_Integer)lua_rawlen(L, g->res) + 1;
        lua_pop(L, 1);
        ls_dcopy(L, e, 2);
        lua_pushvalue(L, -2);
        lua_setfield(L, -2, "id");
        lua_rawseti(L, g->res, pos);
        lua_pushinteger(L, pos);
        lua_rawset(L, g->idmap); /* id -> pos (pops the id) */
        lua_pushnil(L);          /* keep the stack shape */
    }
}

/*
 * Merge t[key] (segments or providers: an array of entries with ids, or a
 * table keyed by id, or both) into spec[key]: existing ids merge key-wise,
 * new ids are appended (array part in order, then keyed part sorted).
 */
static void merge_entities(cv *c, int spec, int t, const char *key, int is_prov)
{
    lua_State *L = c->L;
    char p[256];
    size_t on, i, nkeys;
    entry_ref *keys;
    ent_merge g;

    if (ls_rawfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    g.ov = lua_gettop(L);
    g.key = key;
    g.is_prov = is_prov;
    if (lua_type(L, g.ov) != LUA_TTABLE)
        ls_fail(c, key, "expected an array of entries with ids or a table keyed by id, got %s",
                sl_tname(L, g.ov));
    luaL_checkstack(L, 12, NULL);
    lua_newtable(L);
    g.res = lua_gettop(L);
    lua_newtable(L);
    g.idmap = lua_gettop(L);
    lua_newtable(L);
    g.seen = lua_gettop(L);
    base_entries(L, spec, key, g.res, g.idmap);
    if (is_prov)
        ls_rawfield(L, spec, "segments");
    else
        lua_pushnil(L);
    g.segs = lua_gettop(L);
    on = lua_rawlen(L, g.ov);
    keys = sorted_keys(c, g.ov, key, &nkeys);
    for (i = 0; i < on + nkeys; i++) {
        int e;
        if (i < on) {
            snprintf(p, sizeof p, "%s[%zu]", key, i + 1);
            lua_rawgeti(L, g.ov, (lua_Integer)i + 1);
        } else {
            snprintf(p, sizeof p, "%s.%s", key, keys[i - on].key);
            ls_rawfield(L, g.ov, keys[i - on].key);
        }
        e = lua_gettop(L);
        merge_one(c, &g, e, p, i < on ? NULL : keys[i - on].key);
        lua_settop(L, e - 1);
    }
    lua_pushstring(L, key);
    lua_pushvalue(L, g.res);
    lua_rawset(L, spec);
    lua_settop(L, g.ov - 1);
}

/* The new meta table (pushed at `meta`) and its origins (pushed next): this
 * call first, then the base's (its meta at base_meta). */
static void with_origins(lua_State *L, int base_meta)
{
    size_t i, nb;
    int meta, origins;
    lua_createtable(L, 0, 2);
    meta = lua_gettop(L);
    lua_createtable(L, 4, 0);
    origins = lua_gettop(L);
    ls_push_origin(L);
    lua_rawseti(L, origins, 1);
    lua_getfield(L, base_meta, "origins");
    nb = lua_rawlen(L, -1);
    for (i = 1; i <= nb; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i);
        lua_rawseti(L, origins, (lua_Integer)i + 1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, origins);
    lua_setfield(L, meta, "origins");
}

/* The keys a variant replaces as a whole (false removes them); tables kept
 * by reference stay shared, the others are copied. */
static void with_plain(lua_State *L, int t, int spec)
{
    static const char *const plain[] = {
        "name", "description", "discount_rate", "policy", "outputs", "uncertainty",
        "outages", "calibrate", "optimize", "checks", "stocks", "links", NULL
    };
    size_t i;
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

/* The base's events (base spec at bspec, meta at bmeta) into arr from 1 on,
 * each mapped in evmap to its origin one step further back; the count. */
static size_t with_base_events(lua_State *L, int bspec, int bmeta, int arr, int evmap)
{
    size_t at = 0, i, nbase;
    if (ls_rawfield(L, bspec, "events") != LUA_TTABLE) {
        lua_settop(L, arr);
        return 0;
    }
    nbase = lua_rawlen(L, -1);
    /* stack: ..., arr, base events */
    lua_getfield(L, bmeta, "events");
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
    lua_settop(L, arr);
    return at;
}

/* spec.events: the base's (unless replace_events) then the variant's t.events,
 * and meta.events, where each of them came from. */
static void with_events(cv *c, int t, int spec, int bspec, int bmeta, int origins, int replace)
{
    lua_State *L = c->L;
    size_t i, nnew = 0, at = 0;
    int evmap, arr;
    lua_createtable(L, 0, 0);                   /* the event map */
    evmap = lua_gettop(L);
    if (ls_rawfield(L, t, "events") != LUA_TNIL)
        nnew = ls_array_len(c, lua_gettop(L), "events", "event tables");
    lua_pop(L, 1);
    lua_pushliteral(L, "events");
    lua_createtable(L, 0, 0);                   /* the merged events array */
    arr = lua_gettop(L);
    if (!replace)
        at = with_base_events(L, bspec, bmeta, arr, evmap);
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
    lua_rawset(L, spec);
    lua_pushvalue(L, evmap);
    lua_setfield(L, c->meta, "events");
    lua_pop(L, 1);
}

/* base:with{...}: a new Scenario derived from base (see docs/scenarios.md). */
int ls_scenario_with(lua_State *L)
{
    char where[320];
    cv c;
    int replace = 0, spec, meta = 5, t = 2, origins = 6;

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
    with_origins(L, 4);                         /* 5 new meta, 6 origins */

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
    with_plain(L, t, spec);
    merge_kv(L, spec, t, "time");
    merge_kv(L, spec, t, "solver");
    merge_entities(&c, spec, t, "segments", 0);
    merge_entities(&c, spec, t, "providers", 1);
    with_events(&c, t, spec, 3, 4, origins, replace);
    ls_build(L, spec, meta, ((scen_ud *)lua_touserdata(L, 1))->m);
    return 1;
}

/* ------------------------------------------------------- metamethods */
