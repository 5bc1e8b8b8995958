/*
 * scenario.c - the Scenario userdata "stratsim.Scenario":
 * stratsim.scenario{...} (sl_scenario_new), its construction (structural
 * copy -> validation and conversion into the model, convert.c ->
 * a resolved copy, ss_resolved_new(), for the core's cross-checks), the
 * metamethods (__gc, __tostring, __index: sc.<key>, sc:with, sc:run;
 * __newindex: immutable) and the accessors the binding uses
 * (sl_scenario_model, sl_scenario_push_field, sl_scenario_push_file).
 *
 * A Scenario owns its ss_model as written and the resolved copy made when it
 * was built (both freed by __gc, both charged to the memory budget), and keeps two user
 * values: the *spec*, an immutable structural copy of the table the script
 * gave (so :with can deep-merge it, and policy/outputs/uncertainty/... stay
 * reachable as Lua values), and the *meta* table: `origins`, the
 * constructor calls that contributed to it ({src, name, line}, newest
 * first), and `events`, for each event the origin it came from, its index
 * there and its source line.
 * Ownership: the model is allocated inside the userdata's lifetime, so an
 * error raised half-way never leaks C memory; temporary arrays are Lua
 * userdata.
 * Depends on ls_internal.h (convert.c, errors.c, with.c), sl_internal.h
 * (budgets, sl_locate_items, sl_scenario_run) and the core's model.
 */
#include <string.h>
#include <lauxlib.h>
#include "lua/scenario/ls_internal.h"

/* values kept by reference (used by later features), never copied */
const char *const ls_byref_keys[] = {
    "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize", "checks", "stocks",
    "links", NULL
};

/* Copy a value, recursing into plain tables (no metatable) `depth` levels;
 * anything else is shared (schedules and functions are immutable). */
void ls_dcopy(lua_State *L, int idx, int depth)
{
    idx = lua_absindex(L, idx);
    if (depth <= 0 || lua_type(L, idx) != LUA_TTABLE) {
        lua_pushvalue(L, idx);
        return;
    }
    if (lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
        return;
    }
    luaL_checkstack(L, 6, NULL);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        ls_dcopy(L, -2, depth - 1);
        lua_rawset(L, -5);
        lua_pop(L, 1);
    }
}

/* Push the structural copy of a user scenario table. */
static void normalize(lua_State *L, int t)
{
    t = lua_absindex(L, t);
    luaL_checkstack(L, 6, NULL);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        size_t len = 0;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        int byref = k && ls_in_list(ls_byref_keys, k, len);
        lua_pushvalue(L, -2);
        if (byref)
            lua_pushvalue(L, -2);
        else
            ls_dcopy(L, -2, 3);
        lua_rawset(L, -5);
        lua_pop(L, 1);
    }
}

/* Push {src, name, line} for the nearest Lua caller. */
void ls_push_origin(lua_State *L)
{
    lua_Debug ar;
    int lv;
    lua_createtable(L, 0, 3);
    for (lv = 1; lua_getstack(L, lv, &ar); lv++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            const char *disp = (ar.source[0] == '@' || ar.source[0] == '=') ? ar.source + 1 : ar.short_src;
            lua_pushstring(L, ar.source);
            lua_setfield(L, -2, "src");
            lua_pushstring(L, disp);
            lua_setfield(L, -2, "name");
            lua_pushinteger(L, ar.currentline);
            lua_setfield(L, -2, "line");
            return;
        }
    }
    lua_pushliteral(L, "?");
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "line");
}

/* Append {o = 1, i = i, line = ...} for events 1..n of the origin at
 * index `origin` to the array at `map` (one pass over the source). */
void ls_map_new_events(lua_State *L, int map, int origin, size_t n)
{
    size_t i, at = lua_rawlen(L, map);
    int *lines, ctor;

    origin = lua_absindex(L, origin);
    luaL_checkstack(L, 6, NULL);
    lines = lua_newuserdatauv(L, (n ? n : 1) * sizeof *lines, 0); /* Lua memory */
    lua_getfield(L, origin, "line");
    ctor = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    for (i = 0; i < n; i++)
        lines[i] = 0;
    if (lua_getfield(L, origin, "src") == LUA_TSTRING) {
        ls_push_source_text(L, lua_tostring(L, -1));
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            sl_locate_items(text, len, ctor, "events", lines, n);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    for (i = 1; i <= n; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, 1);
        lua_setfield(L, -2, "o");
        lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, "i");
        lua_pushinteger(L, lines[i - 1] > 0 ? lines[i - 1] : ctor);
        lua_setfield(L, -2, "line");
        lua_rawseti(L, map, (lua_Integer)(at + i));
    }
    lua_pop(L, 1); /* lines */
}

/*
 * The Scenario of spec/meta on the stack top, validated, converted and
 * resolved (its resolved model is kept for sc:run()). A variant (`base` non-NULL,
 * the model of the scenario it derives from) is rebased on it: its decision
 * inputs that differ from base's become interventions and it starts from
 * base's initial state (docs/model.md §6).
 */
void ls_build(lua_State *L, int spec, int meta, const ss_model *base)
{
    scen_ud *u;
    ss_err e;
    cv c;
    int ud, rc;

    u = lua_newuserdatauv(L, sizeof *u, 2);
    u->m = NULL;
    u->res = NULL;
    u->charged = 0;
    luaL_setmetatable(L, SL_SCENARIO);
    ud = lua_gettop(L);
    lua_pushvalue(L, spec);
    lua_setiuservalue(L, ud, UV_SPEC);
    lua_pushvalue(L, meta);
    lua_setiuservalue(L, ud, UV_META);
    c.L = L;
    c.meta = meta;
    c.only_newest = 0;
    c.m = NULL;
    c.u = u;
    ls_convert(&c, ud);
    if (base) {
        ss_err_clear(&e);
        if (ss_model_rebase(u->m, base, &e) != SS_OK)
            ls_nomem(L);
    }

    /* the core's cross-checks (share sums, attractiveness...) on a resolved
     * copy, which sc:run() then runs: --set overrides are applied to the
     * model as written later (the command line's own resolved copies) */
    if (sl_charge(L, u->charged) != 0)
        sl_raise(L, SS_ELIMIT, "scenario exceeded the memory budget");
    ss_err_clear(&e);
    rc = ss_resolved_new(&u->res, u->m, &e);
    if (rc == SS_OK)
        u->charged *= 2; /* the model as written and the resolved one */
    else
        sl_uncharge(L, u->charged);
    if (rc != SS_OK) {
        char out[1024];
        if (rc == SS_ENOMEM)
            ls_nomem(L);
        ls_format_at(L, meta, e.path, e.msg, out, sizeof out, 0);
        sl_raise(L, rc, "%s", out);
    }
}

/* stratsim.scenario{...}: a validated Scenario. */
int sl_scenario_new(lua_State *L)
{
    char where[320];
    if (lua_type(L, 1) != LUA_TTABLE) {
        sl_where(L, 1, where, sizeof where);
        sl_raise(L, SS_EINVAL, "%s: stratsim.scenario: expected a table, got %s", where,
                     sl_tname(L, 1));
    }
    lua_settop(L, 1);
    normalize(L, 1);                       /* 2: spec */
    lua_createtable(L, 0, 2);              /* 3: meta */
    lua_createtable(L, 1, 0);
    ls_push_origin(L);                     /* 5: origin */
    lua_pushvalue(L, -1);
    lua_rawseti(L, 4, 1);
    lua_createtable(L, 0, 0);              /* 6: event map */
    if (ls_rawfield(L, 2, "events") == LUA_TTABLE)
        ls_map_new_events(L, 6, 5, lua_rawlen(L, -1));
    lua_pop(L, 1);
    lua_setfield(L, 3, "events");
    lua_pop(L, 1);
    lua_setfield(L, 3, "origins");
    ls_build(L, 2, 3, NULL);
    return 1;
}

/* ------------------------------------------------------------ :with */

static int l_scenario_gc(lua_State *L)
{
    scen_ud *u = luaL_checkudata(L, 1, SL_SCENARIO);
    ss_model_free(u->m);
    ss_resolved_free(u->res);
    u->m = NULL;
    u->res = NULL;
    sl_uncharge(L, u->charged);
    u->charged = 0;
    return 0;
}

/* The first ten provider (providers = 1) or segment ids, comma separated. */
static void add_ids(luaL_Buffer *b, const ss_model *m, int providers)
{
    size_t i, n = providers ? m->nprov : m->nseg;
    for (i = 0; i < n && i < 10; i++) {
        if (i)
            luaL_addstring(b, ", ");
        luaL_addstring(b, providers ? m->prov[i].id : m->seg[i].id);
    }
    if (n > 10)
        luaL_addstring(b, ", ...");
}

/* "stratsim.Scenario 'name': time 2021.75..2028 step 0.25; 2 segments
 * (public, private); 2 providers (alibaba, others)" */
static int l_scenario_tostring(lua_State *L)
{
    scen_ud *u = luaL_checkudata(L, 1, SL_SCENARIO);
    const ss_model *m = u->m;
    luaL_Buffer b;
    if (!m) {
        lua_pushliteral(L, "stratsim.Scenario (invalid)");
        return 1;
    }
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "stratsim.Scenario '%s': time %f..%f step %f; %d segment%s (", m->name,
                    (lua_Number)m->t0, (lua_Number)m->t1, (lua_Number)m->step, (int)m->nseg,
                    m->nseg == 1 ? "" : "s");
    luaL_addvalue(&b);
    add_ids(&b, m, 0);
    lua_pushfstring(L, "); %d provider%s (", (int)m->nprov, m->nprov == 1 ? "" : "s");
    luaL_addvalue(&b);
    add_ids(&b, m, 1);
    lua_pushfstring(L, "); %d event%s", (int)m->nev, m->nev == 1 ? "" : "s");
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    return 1;
}

/* sc:with{...}, and sc.<key>: a copy of that part of the spec. */
static int l_scenario_index(lua_State *L)
{
    size_t len;
    const char *k;
    luaL_checkudata(L, 1, SL_SCENARIO);
    k = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
    if (k && strcmp(k, "with") == 0) {
        lua_pushcfunction(L, ls_scenario_with);
        return 1;
    }
    if (k && strcmp(k, "run") == 0) {
        lua_pushcfunction(L, sl_scenario_run);
        return 1;
    }
    lua_getiuservalue(L, 1, UV_SPEC);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (k && !ls_in_list(ls_byref_keys, k, len))
        ls_dcopy(L, -1, 3);
    return 1;
}

static int l_scenario_newindex(lua_State *L)
{
    return luaL_error(L, "scenarios are immutable: derive a variant with base:with{...}");
}

ss_model *sl_scenario_model(lua_State *L, int idx)
{
    scen_ud *u = luaL_testudata(L, idx, SL_SCENARIO);
    return u ? u->m : NULL;
}

const ss_resolved *sl_scenario_resolved(lua_State *L, int idx)
{
    scen_ud *u = luaL_testudata(L, idx, SL_SCENARIO);
    return u ? u->res : NULL;
}

int sl_scenario_push_field(lua_State *L, int idx, const char *key)
{
    int t;
    idx = lua_absindex(L, idx);
    if (!luaL_testudata(L, idx, SL_SCENARIO)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    lua_getiuservalue(L, idx, UV_SPEC);
    t = ls_rawfield(L, lua_gettop(L), key);
    lua_remove(L, -2);
    return t;
}

void sl_scenario_push_file(lua_State *L, int idx)
{
    int top = lua_gettop(L);
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, NULL);
    if (luaL_testudata(L, idx, SL_SCENARIO) &&
        lua_getiuservalue(L, idx, UV_META) == LUA_TTABLE &&
        lua_getfield(L, -1, "origins") == LUA_TTABLE &&
        lua_rawgeti(L, -1, 1) == LUA_TTABLE &&
        lua_getfield(L, -1, "name") == LUA_TSTRING) {
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
        return;
    }
    lua_settop(L, top);
    lua_pushnil(L);
}

void sl_open_scenario(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", l_scenario_gc},
        {"__tostring", l_scenario_tostring},
        {"__index", l_scenario_index},
        {"__newindex", l_scenario_newindex},
        {NULL, NULL}
    };
    if (luaL_newmetatable(L, SL_SCENARIO)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, SL_SCENARIO);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
}
