/*
 * l_policy.c - adaptive policies and derived metrics: the run callbacks that
 * call a scenario's `policy` at every decision epoch and its `outputs`
 * functions at every output time, the View object they receive, and the
 * ss_script_run_opts()/ss_script_run() API of stratsim_lua.h.
 *
 * Hooks. Before a run, the scenario's policy and outputs are snapshotted
 * into a "hooks" userdata (user values: the policy function, the metric
 * functions in alphabetical order of their names, and the names, which the
 * C array hooks->names points into). The core calls back with the hooks as
 * payload. Hooks of runs started from Lua (scenario:run()) live on the Lua
 * stack of that call and run the callbacks on the calling thread; hooks of
 * runs started from C (ss_script_run_opts) are anchored in the registry for
 * the life of the script and run on its main thread, and they reset the
 * instruction budget at the first callback of each run (t = t0), so the
 * budget is per run, not per call. A registry table with weak values maps
 * the C pointer back to the userdata.
 *
 * Calls. A callback never raises: it calls a C trampoline through
 * sl_pcall (everything that allocates - the view, the lookups - happens
 * inside), and the trampoline calls each Lua function through a nested
 * sl_pcall so errors get the traceback. Failures become an ss_err whose
 * message is "FILE:LINE: message (in policy at t=T)" plus the traceback.
 *
 * Views. A View ("stratsim.View") is a userdata made for one call; it reads
 * the run through ss_run_* and, in a policy, changes schedules with
 * ss_run_set(). After the call its run pointer is cleared, so a view kept by
 * the script raises "view used outside its policy call" instead of touching
 * freed memory. Its metatable is protected (__metatable).
 * Depends on script.c (sl_pcall, budgets), scenario/ (Scenario
 * fields) and the core's run accessors (stratsim/sim.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "sl_internal.h"

#define HOOKS_META "stratsim.Hooks"
#define HOOKS_WEAK "stratsim.hooks"      /* registry: lightuserdata -> hooks (weak values) */
#define HOOKS_SCRIPT "stratsim.script_hooks" /* registry: scenario index -> hooks of C runs */
#define TIME_TOL 1e-9

enum { HV_POLICY = 1, HV_FUNCS = 2, HV_NAMES = 3, HV_EXT = 4 };

/* Callback data of one scenario (a userdata; see the file comment). */
typedef struct hooks {
    lua_State *L;        /* thread the callbacks run on */
    int c_run;           /* 1: runs started from C: reset the budget at t0 */
    int has_policy;
    int failed;          /* set when a callback failed (message in the run's ss_err) */
    size_t nextra;
    const char **names;  /* [nextra] into Lua strings anchored by HV_NAMES */
    void *ext;           /* user stocks and links (l_stocks.c), anchored by HV_EXT; or NULL */
} hooks;

/* One callback: what the trampoline needs and what it reports back. */
typedef struct call {
    hooks *h;
    ss_run *run;
    double t;            /* nominal time (epoch or output grid) */
    double *out;         /* derived metrics: destination [nextra] */
    int policy;          /* 1: policy call, 0: derived metrics */
    int status;          /* LUA_OK, or the status of the failed Lua call */
    size_t which;        /* derived metric that failed */
    int bad;             /* 1: returned a non-number, 2: a non-finite number */
    char badtype[32];
    double badval;
    char src[LUA_IDSIZE];/* short_src of the function called last */
    char source[256];    /* its full chunk name (without '@') */
    int line;            /* its linedefined */
} call;

/* The view of a run in progress. */
typedef struct view {
    ss_run *run;         /* NULL outside its call */
    int policy;          /* VIEW_DERIVED, 1 (policy), VIEW_EXT (stock or link) */
    double t;
} view;

#define VIEW_DERIVED 0
#define VIEW_EXT 2

static const char *view_what(const view *v)
{
    return v->policy == 1 ? "policy" : v->policy == VIEW_EXT ? "stock or link" : "derived-metric";
}

/* ---------------------------------------------------------------- views */

/* Marker key in every View metatable (the shared one of policies and
 * derived metrics, and the own one of each stock/link view). */
static const char VIEW_TAG = 0;

/* The view at idx, or a type error. */
static view *to_view(lua_State *L, int idx)
{
    view *v = lua_touserdata(L, idx);
    int ok = 0;
    if (v && lua_getmetatable(L, idx)) {
        ok = lua_rawgetp(L, -1, &VIEW_TAG) == LUA_TBOOLEAN;
        lua_pop(L, 2);
    }
    if (!ok)
        luaL_typeerror(L, idx, SL_VIEW);
    return v;
}

static view *check_view(lua_State *L)
{
    view *v = to_view(L, 1);
    if (!v->run)
        luaL_error(L, "view used outside its %s call", view_what(v));
    return v;
}

/* Index of the provider id at arg (argument error if unknown). */
static int arg_provider(lua_State *L, const ss_model *m, int arg)
{
    const char *id;
    int i;
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_typeerror(L, arg, "provider id (string)");
    id = lua_tostring(L, arg);
    i = ss_model_provider_index(m, id);
    if (i < 0)
        luaL_argerror(L, arg, lua_pushfstring(L, "unknown provider '%s'", id));
    return i;
}

static int arg_segment(lua_State *L, const ss_model *m, int arg)
{
    const char *id;
    int k;
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_typeerror(L, arg, "segment id (string)");
    id = lua_tostring(L, arg);
    k = ss_model_segment_index(m, id);
    if (k < 0)
        luaL_argerror(L, arg, lua_pushfstring(L, "unknown segment '%s'", id));
    return k;
}

/* In a link or a stock's init only the state is known (docs/model.md). */
static void state_only_check(lua_State *L, view *v, int algebraic, const char *name)
{
    if (algebraic && ss_run_state_only(v->run))
        luaL_error(L, "view:%s is not available in a link or a stock's init: they are evaluated "
                   "before the algebra (read the state: share, capability, revenue, reliability, "
                   "npv, size, hhi, stock)", name);
}

/* view:METRIC(provider, segment) for the per provider+segment metrics. */
static int view_ps(lua_State *L, ss_metric_ps metric)
{
    view *v = check_view(L);
    const ss_model *m = ss_run_model(v->run);
    int i = arg_provider(L, m, 2), k = arg_segment(L, m, 3);
    state_only_check(L, v, metric == SS_PS_TARGET_SHARE || metric == SS_PS_GROSS_MARGIN,
                     metric == SS_PS_TARGET_SHARE ? "target_share" : "margin");
    lua_pushnumber(L, ss_run_ps(v->run, metric, i, k));
    return 1;
}

static int view_p(lua_State *L, ss_metric_p metric)
{
    view *v = check_view(L);
    int i = arg_provider(L, ss_run_model(v->run), 2);
    state_only_check(L, v, metric != SS_P_REVENUE && metric != SS_P_RELIABILITY && metric != SS_P_NPV,
                     ss_metric_p_name(metric));
    lua_pushnumber(L, ss_run_p(v->run, metric, i));
    return 1;
}

/* view:stock(id): a user stock's value in the state the view describes. */
static int l_view_stock(lua_State *L)
{
    view *v = check_view(L);
    const char *id;
    int j;
    if (lua_type(L, 2) != LUA_TSTRING)
        luaL_typeerror(L, 2, "stock id (string)");
    id = lua_tostring(L, 2);
    j = ss_run_stock_index(v->run, id);
    if (j < 0)
        luaL_argerror(L, 2, lua_pushfstring(L, "unknown stock '%s'", id));
    lua_pushnumber(L, ss_run_stock(v->run, (size_t)j));
    return 1;
}

static int view_s(lua_State *L, ss_metric_s metric)
{
    view *v = check_view(L);
    int k = arg_segment(L, ss_run_model(v->run), 2);
    lua_pushnumber(L, ss_run_s(v->run, metric, k));
    return 1;
}

static int l_view_share(lua_State *L) { return view_ps(L, SS_PS_SHARE); }
static int l_view_target_share(lua_State *L) { return view_ps(L, SS_PS_TARGET_SHARE); }
static int l_view_margin(lua_State *L) { return view_ps(L, SS_PS_GROSS_MARGIN); }
static int l_view_capability(lua_State *L) { return view_ps(L, SS_PS_CAPABILITY); }
static int l_view_gross_profit(lua_State *L) { return view_p(L, SS_P_GROSS_PROFIT); }
static int l_view_operating_profit(lua_State *L) { return view_p(L, SS_P_OPERATING_PROFIT); }
static int l_view_investment(lua_State *L) { return view_p(L, SS_P_INVESTMENT); }
static int l_view_reliability(lua_State *L) { return view_p(L, SS_P_RELIABILITY); }
static int l_view_npv(lua_State *L) { return view_p(L, SS_P_NPV); }
static int l_view_size(lua_State *L) { return view_s(L, SS_S_SIZE); }
static int l_view_hhi(lua_State *L) { return view_s(L, SS_S_HHI); }

/* view:revenue(p): the provider's total; view:revenue(p, k): in segment k. */
static int l_view_revenue(lua_State *L)
{
    if (lua_isnoneornil(L, 3))
        return view_p(L, SS_P_REVENUE);
    return view_ps(L, SS_PS_REVENUE);
}

/* view:providers() / view:segments(): arrays of ids in declaration order. */
static int l_view_providers(lua_State *L)
{
    view *v = check_view(L);
    const ss_model *m = ss_run_model(v->run);
    size_t i;
    lua_createtable(L, (int)m->nprov, 0);
    for (i = 0; i < m->nprov; i++) {
        lua_pushstring(L, m->prov[i].id);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int l_view_segments(lua_State *L)
{
    view *v = check_view(L);
    const ss_model *m = ss_run_model(v->run);
    size_t k;
    lua_createtable(L, (int)m->nseg, 0);
    for (k = 0; k < m->nseg; k++) {
        lua_pushstring(L, m->seg[k].id);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static int arg_field(lua_State *L, int arg)
{
    const char *s;
    int f;
    if (lua_type(L, arg) != LUA_TSTRING)
        luaL_typeerror(L, arg, "field name (string)");
    s = lua_tostring(L, arg);
    f = ss_field_parse(s);
    if (f < 0)
        luaL_argerror(L, arg, lua_pushfstring(L, "unknown field '%s' (expected reinvest, "
                                              "allocation, price, participation or lever)", s));
    return f;
}

/* The range of a `set` value, as for set events; NULL if x is in range. */
static const char *field_range_error(ss_field f, double x)
{
    if (!isfinite(x))
        return "must be finite";
    switch (f) {
    case SS_FIELD_REINVEST:
    case SS_FIELD_ALLOCATION: return x >= 0 ? NULL : "must be >= 0";
    case SS_FIELD_PARTICIPATION: return x >= 0 && x <= 1 ? NULL : "must be in [0, 1]";
    default: return x > 0 ? NULL : "must be > 0";
    }
}

/* Check one value of view:set (arg index for the message). */
static double set_value(lua_State *L, int idx, ss_field f, const char *seg)
{
    const char *why;
    double x;
    if (lua_type(L, idx) != LUA_TNUMBER) {
        if (seg)
            luaL_error(L, "set: %s.%s: expected a number, got %s", ss_field_name(f), seg,
                       luaL_typename(L, idx));
        luaL_error(L, "set: %s: expected a number%s, got %s", ss_field_name(f),
                   f == SS_FIELD_REINVEST ? "" : " or a table keyed by segment id",
                   luaL_typename(L, idx));
    }
    x = lua_tonumber(L, idx);
    why = field_range_error(f, x);
    if (why) {
        char b[40];
        snprintf(b, sizeof b, "%.15g", x);
        if (seg)
            luaL_error(L, "set: %s.%s %s, got %s", ss_field_name(f), seg, why, b);
        luaL_error(L, "set: %s %s, got %s", ss_field_name(f), why, b);
    }
    return x;
}

/* Apply one value through the core (cannot fail after set_value's checks,
 * but its status is honoured anyway). */
static void apply_set(lua_State *L, view *v, int i, ss_field f, int k, double x)
{
    ss_err e;
    ss_err_clear(&e);
    if (ss_run_set(v->run, i, f, k, x, &e) != SS_OK)
        luaL_error(L, "set: %s", e.msg);
}

/*
 * view:set(provider, field, value): from now on the provider's schedule is
 * the constant value, as a `set` event at this time would do. reinvest
 * takes a number; the per-segment fields a number (every segment) or a
 * table keyed by segment id (only those change). Everything is checked
 * before anything changes.
 */
static int l_view_set(lua_State *L)
{
    view *v = check_view(L);
    const ss_model *m = ss_run_model(v->run);
    int i, f;
    size_t k;

    if (v->policy != 1)
        return luaL_error(L, "set: only a policy may change schedules (derived metrics, stocks and "
                          "links only read the state)");
    i = arg_provider(L, m, 2);
    f = arg_field(L, 3);
    luaL_checkany(L, 4);
    if (f == SS_FIELD_REINVEST || lua_type(L, 4) == LUA_TNUMBER) {
        double x = set_value(L, 4, (ss_field)f, NULL);
        if (f == SS_FIELD_REINVEST)
            apply_set(L, v, i, (ss_field)f, 0, x);
        else
            for (k = 0; k < m->nseg; k++)
                apply_set(L, v, i, (ss_field)f, (int)k, x);
        return 0;
    }
    if (lua_type(L, 4) != LUA_TTABLE)
        return luaL_error(L, "set: %s: expected a number or a table keyed by segment id, got %s",
                          ss_field_name((ss_field)f), luaL_typename(L, 4));
    lua_settop(L, 4);
    lua_pushnil(L);
    while (lua_next(L, 4)) {          /* pass 1: check every entry */
        const char *seg;
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "set: %s: expected a table keyed by segment id (found a %s key)",
                              ss_field_name((ss_field)f), luaL_typename(L, -2));
        seg = lua_tostring(L, -2);
        if (ss_model_segment_index(m, seg) < 0)
            return luaL_error(L, "set: %s.%s: unknown segment '%s'", ss_field_name((ss_field)f), seg, seg);
        set_value(L, -1, (ss_field)f, seg);
        lua_pop(L, 1);
    }
    for (k = 0; k < m->nseg; k++) {   /* pass 2: apply, in segment order */
        if (lua_getfield(L, 4, m->seg[k].id) != LUA_TNIL)
            apply_set(L, v, i, (ss_field)f, (int)k, lua_tonumber(L, -1));
        lua_pop(L, 1);
    }
    return 0;
}

/* view:get(field, provider [, segment]): the schedule's current value
 * (allocation as given, before normalisation over the segments). */
static int l_view_get(lua_State *L)
{
    view *v = check_view(L);
    const ss_model *m = ss_run_model(v->run);
    int f = arg_field(L, 2), i = arg_provider(L, m, 3), k = 0;
    const ss_provider *p = &m->prov[i];
    const ss_schedule *s;
    double t = ss_run_time(v->run);

    if (f != SS_FIELD_REINVEST)
        k = arg_segment(L, m, 4);
    switch ((ss_field)f) {
    case SS_FIELD_REINVEST: s = &p->reinvest; break;
    case SS_FIELD_ALLOCATION: s = &p->allocation[k]; break;
    case SS_FIELD_PRICE: s = &p->price[k]; break;
    case SS_FIELD_PARTICIPATION: s = &p->participation[k]; break;
    default: s = &p->lever[k]; break;
    }
    {
        int l = ss_run_link_index(v->run, f, i, k);
        if (l >= 0) {   /* a linked input: the link's latest value */
            if (ss_run_state_only(v->run))
                return luaL_error(L, "get: %s is defined by a link; links and stock inits cannot read "
                                  "linked inputs", ss_field_name((ss_field)f));
            lua_pushnumber(L, ss_run_link_value(v->run, (size_t)l));
            return 1;
        }
    }
    lua_pushnumber(L, ss_schedule_eval(s, t));
    return 1;
}

/* view.t, and the methods (upvalue 1). */
static int l_view_index(lua_State *L)
{
    view *v = to_view(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "t") == 0) {
        if (!v->run)
            return luaL_error(L, "view used outside its %s call", view_what(v));
        lua_pushnumber(L, v->t);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

static int l_view_newindex(lua_State *L)
{
    return luaL_error(L, "views are read-only (change schedules with view:set(provider, field, value))");
}

static int l_view_tostring(lua_State *L)
{
    view *v = to_view(L, 1);
    if (!v->run)
        lua_pushfstring(L, "stratsim.View (%s, expired)", view_what(v));
    else
        lua_pushfstring(L, "stratsim.View at t=%f (%s)", (lua_Number)v->t, view_what(v));
    return 1;
}

static const luaL_Reg view_methods[] = {
        {"share", l_view_share},
        {"target_share", l_view_target_share},
        {"revenue", l_view_revenue},
        {"margin", l_view_margin},
        {"capability", l_view_capability},
        {"gross_profit", l_view_gross_profit},
        {"operating_profit", l_view_operating_profit},
        {"investment", l_view_investment},
        {"reliability", l_view_reliability},
        {"npv", l_view_npv},
        {"size", l_view_size},
        {"hhi", l_view_hhi},
        {"set", l_view_set},
        {"get", l_view_get},
        {"providers", l_view_providers},
        {"segments", l_view_segments},
        {"stock", l_view_stock},
        {NULL, NULL}
};

/* The fields of a View metatable but __index. */
static void view_meta_fields(lua_State *L)
{
    lua_pushcfunction(L, l_view_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_view_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, SL_VIEW);
    lua_setfield(L, -2, "__metatable");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &VIEW_TAG);
}

static void push_view_meta(lua_State *L)
{
    if (luaL_newmetatable(L, SL_VIEW)) {
        luaL_newlib(L, view_methods);
        lua_pushcclosure(L, l_view_index, 1);
        lua_setfield(L, -2, "__index");
        view_meta_fields(L);
    }
}

/* ---------------------------------------------------------------- hooks */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Push the hooks of the Scenario at idx (snapshot of policy and outputs)
 * for callbacks on thread `T`. Raises if the outputs table was changed
 * into something invalid after the scenario was built.
 */
static hooks *push_hooks(lua_State *L, int idx, lua_State *T, int c_run)
{
    hooks *h;
    size_t n = 0, j;
    int outs, names, funcs, ud;
    const char **tmp;

    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 10, NULL);
    sl_scenario_push_field(L, idx, "outputs");
    outs = lua_gettop(L);
    lua_newtable(L);
    names = lua_gettop(L);
    if (lua_type(L, outs) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, outs)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TFUNCTION)
                luaL_error(L, "outputs: expected a table of name = function (the table was "
                           "changed after the scenario was built)");
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, names, (lua_Integer)++n);
        }
    } else if (!lua_isnil(L, outs)) {
        luaL_error(L, "outputs: expected a table of name = function");
    }
    h = lua_newuserdatauv(L, sizeof *h + (n ? n : 1) * sizeof(const char *), 4);
    ud = lua_gettop(L);
    memset(h, 0, sizeof *h);
    h->L = T;
    h->c_run = c_run;
    h->nextra = n;
    h->names = (const char **)(void *)(h + 1);
    tmp = h->names;
    for (j = 0; j < n; j++) {
        lua_rawgeti(L, names, (lua_Integer)j + 1);
        tmp[j] = lua_tostring(L, -1); /* anchored in `names` */
        lua_pop(L, 1);
    }
    qsort(tmp, n, sizeof *tmp, cmp_str);
    lua_createtable(L, (int)n, 0);
    funcs = lua_gettop(L);
    for (j = 0; j < n; j++) {
        lua_pushstring(L, tmp[j]);
        lua_rawget(L, outs);
        lua_rawseti(L, funcs, (lua_Integer)j + 1);
    }
    lua_setiuservalue(L, ud, HV_FUNCS);
    lua_pushvalue(L, names);                /* anchors the strings of names[] */
    lua_setiuservalue(L, ud, HV_NAMES);
    if (sl_scenario_push_field(L, idx, "policy") == LUA_TFUNCTION)
        h->has_policy = 1;
    else if (!lua_isnil(L, -1))
        luaL_error(L, "policy: expected a function, got %s", luaL_typename(L, -1));
    lua_setiuservalue(L, ud, HV_POLICY);
    h->ext = sl_ext_push(L, idx, T, c_run, &h->failed);
    lua_setiuservalue(L, ud, HV_EXT);
    if (luaL_newmetatable(L, HOOKS_META)) {
        lua_pushliteral(L, HOOKS_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, ud);
    /* the weak map from the C pointer back to the userdata */
    if (luaL_getsubtable(L, LUA_REGISTRYINDEX, HOOKS_WEAK) == 0) {
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "v");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, ud);
    lua_rawsetp(L, -2, h);
    lua_pop(L, 1);
    lua_copy(L, ud, outs);
    lua_settop(L, outs);
    return h;
}

/* ------------------------------------------------------------ callbacks */

/* Record where the function on top of the stack (popped) was defined. */
static void note_function(lua_State *L, call *c)
{
    lua_Debug ar;
    if (lua_getinfo(L, ">S", &ar)) {
        snprintf(c->src, sizeof c->src, "%s", ar.short_src);
        snprintf(c->source, sizeof c->source, "%s",
                 ar.source[0] == '@' || ar.source[0] == '=' ? ar.source + 1 : ar.short_src);
        c->line = ar.linedefined;
    }
}

/* Trampoline (arg 1: the call): make the view and call the policy or every
 * derived metric, each through sl_pcall. Returns the error object of a
 * failed call (status in c->status), else nothing. */
static int l_cb_call(lua_State *L)
{
    call *c = lua_touserdata(L, 1);
    int hud, vi, fi;
    view *v;
    size_t j;

    lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_WEAK);
    if (lua_rawgetp(L, -1, c->h) != LUA_TUSERDATA)
        return luaL_error(L, "stratsim: run callbacks used after their scenario was released");
    hud = lua_gettop(L);
    v = lua_newuserdatauv(L, sizeof *v, 0);
    v->run = NULL;
    v->policy = c->policy;
    v->t = c->t;
    push_view_meta(L);
    lua_setmetatable(L, -2);
    vi = lua_gettop(L);
    if (c->policy) {
        lua_getiuservalue(L, hud, HV_POLICY);
        fi = lua_gettop(L);
        lua_pushvalue(L, fi);
        lua_pushvalue(L, vi);
        v->run = c->run;
        c->status = sl_pcall(L, 1, 0);
        v->run = NULL;
        if (c->status != LUA_OK) {
            lua_pushvalue(L, fi);
            note_function(L, c);
            return 1;
        }
        return 0;
    }
    lua_getiuservalue(L, hud, HV_FUNCS);
    fi = lua_gettop(L);
    for (j = 0; j < c->h->nextra; j++) {
        int t;
        lua_rawgeti(L, fi, (lua_Integer)j + 1);
        lua_pushvalue(L, -1);
        lua_pushvalue(L, vi);
        v->run = c->run;
        c->status = sl_pcall(L, 1, 1);
        v->run = NULL;
        lua_insert(L, -2); /* result (or error) below the function */
        note_function(L, c);
        if (c->status != LUA_OK) {
            c->which = j;
            return 1;
        }
        t = lua_type(L, -1);
        if (t != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1))) {
            c->which = j;
            c->bad = t != LUA_TNUMBER ? 1 : 2;
            snprintf(c->badtype, sizeof c->badtype, "%s", luaL_typename(L, -1));
            c->badval = t == LUA_TNUMBER ? lua_tonumber(L, -1) : 0.0;
            return 0;
        }
        c->out[j] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    return 0;
}

/* Append " (in WHAT at t=T)" to the first line of err->msg and make sure
 * the message names the scenario file. */
static void annotate(ss_err *err, const call *c, const char *what)
{
    char buf[sizeof err->msg], at[160];
    const char *msg = err->msg, *nl = strchr(msg, '\n');
    size_t head = nl ? (size_t)(nl - msg) : strlen(msg), n;
    int has_src = err->file[0] && ((c->src[0] && strcmp(err->file, c->src) == 0) ||
                                   (c->source[0] && strcmp(err->file, c->source) == 0));
    int o;

    snprintf(at, sizeof at, " (in %s at t=%.10g)", what, c->t);
    if (has_src || !c->src[0])
        o = snprintf(buf, sizeof buf, "%.*s%s", (int)head, msg, at);
    else
        o = snprintf(buf, sizeof buf, "%s:%d: %.*s%s", c->src, c->line, (int)head, msg, at);
    if (o < 0)
        return;
    n = (size_t)o < sizeof buf ? (size_t)o : sizeof buf - 1;
    if (nl) {   /* then as much of the traceback as fits, whole lines,
                 * without the trailing "[C]: in ?" of the C caller */
        const char *rest = nl, *cut = nl + strlen(nl);
        static const char cframe[] = "\n\t[C]: in ?";
        while ((size_t)(cut - rest) >= sizeof cframe - 1 &&
               memcmp(cut - (sizeof cframe - 1), cframe, sizeof cframe - 1) == 0)
            cut -= sizeof cframe - 1;
        while (cut > rest && (size_t)(cut - rest) >= sizeof buf - n) {
            cut--;
            while (cut > rest && *cut != '\n')
                cut--;
        }
        memcpy(buf + n, rest, (size_t)(cut - rest));
        n += (size_t)(cut - rest);
        buf[n] = '\0';
    }
    memcpy(err->msg, buf, n + 1);
    if (!has_src && c->src[0])
        ss_err_at(err, c->src, c->line);
}

/* Run the trampoline for c on h->L; returns SS_OK or an SS_E* code with
 * err filled. Never raises. */
static int do_call(call *c, ss_err *err)
{
    lua_State *L = c->h->L;
    int top = lua_gettop(L), st, rc = SS_OK;
    char what[128];

    if (c->policy)
        snprintf(what, sizeof what, "policy");
    else
        what[0] = '\0';
    if (!lua_checkstack(L, 8))
        return ss_err_set(err, SS_ENOMEM, NULL, "out of memory (Lua stack)");
    lua_pushcfunction(L, l_cb_call);
    lua_pushlightuserdata(L, c);
    st = sl_pcall(L, 1, 1);
    if (st != LUA_OK && c->status == LUA_OK) {
        rc = sl_to_err(L, st, err);
        c->src[0] = c->source[0] = '\0';
        annotate(err, c, c->policy ? "policy" : "derived metrics");
    } else if (c->status != LUA_OK) {
        rc = sl_to_err(L, c->status, err);
        if (!c->policy)
            snprintf(what, sizeof what, "derived metric '%s'", c->h->names[c->which]);
        annotate(err, c, what);
    } else if (c->bad) {
        char b[64];
        if (c->bad == 1)
            snprintf(b, sizeof b, "%s", c->badtype);
        else
            snprintf(b, sizeof b, "%g", c->badval);
        rc = ss_err_set(err, c->bad == 1 ? SS_EINVAL : SS_ENUMERIC, NULL,
                        "%s:%d: derived metric '%s' returned %s at t=%.10g (expected a finite number)",
                        c->src, c->line, c->h->names[c->which], b, c->t);
        ss_err_at(err, c->src, c->line);
    }
    lua_settop(L, top);
    if (rc != SS_OK)
        c->h->failed = 1;
    return rc;
}

/* The nominal time of a callback: t snapped to t0 + n*d (and to t1 for
 * outputs, which always include stop) when within the core's tolerance. */
static double nominal(double t, double t0, double d, double t1, int outputs)
{
    double n, g;
    if (outputs && fabs(t - t1) <= TIME_TOL)
        return t1;
    if (!(d > 0))
        return t;
    n = nearbyint((t - t0) / d);
    g = t0 + n * d;
    return fabs(g - t) <= TIME_TOL ? g : t;
}

static int cb_epoch(ss_run *run, double t, void *payload, ss_err *err)
{
    hooks *h = payload;
    const ss_model *m = ss_run_model(run);
    call c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.run = run;
    c.policy = 1;
    c.t = nominal(t, m->t0, m->epoch, m->t1, 0);
    if (h->c_run && fabs(t - m->t0) <= TIME_TOL)
        sl_budget_reset(h->L);
    return do_call(&c, err);
}

static int cb_output(ss_run *run, double t, double *out, void *payload, ss_err *err)
{
    hooks *h = payload;
    const ss_model *m = ss_run_model(run);
    call c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.run = run;
    c.out = out;
    c.t = nominal(t, m->t0, m->step, m->t1, 1);
    if (h->c_run && !h->has_policy && fabs(t - m->t0) <= TIME_TOL)
        sl_budget_reset(h->L);
    return do_call(&c, err);
}

static void fill_opts(ss_run_opts *o, hooks *h)
{
    ss_run_opts init = SS_RUN_OPTS_INIT;
    *o = init;
    if (!h)
        return;
    h->failed = 0;
    o->on_epoch = h->has_policy ? cb_epoch : NULL;
    o->on_output = h->nextra ? cb_output : NULL;
    o->nextra = h->nextra;
    o->extra_names = h->nextra ? h->names : NULL;
    o->payload = (h->has_policy || h->nextra) ? h : NULL;
    if (h->ext)
        sl_ext_fill(h->ext, o);
}

/* ------------------------------------------------------- runs from Lua */

void *sl_push_hooks(lua_State *L, int idx, ss_run_opts *opts)
{
    hooks *h = push_hooks(L, idx, L, 0);
    fill_opts(opts, h);
    return h;
}

int sl_hooks_failed(const void *h)
{
    return h && ((const hooks *)h)->failed;
}

/*
 * A stock/link view is called in every evaluation of the equations, so it
 * has its own metatable whose __index is a plain table (the methods, and
 * `t`, which sl_ext calls set before each call through the table kept
 * as the view's user value): a method lookup is then a table access, not a
 * C call.
 */
void *sl_view_push(lua_State *L)
{
    view *v = lua_newuserdatauv(L, sizeof *v, 1);
    v->run = NULL;
    v->policy = VIEW_EXT;
    v->t = 0.0;
    luaL_newlib(L, view_methods);
    lua_pushnumber(L, 0.0);
    lua_setfield(L, -2, "t");
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, 1);
    lua_createtable(L, 0, 5);
    lua_insert(L, -2);
    lua_setfield(L, -2, "__index");
    view_meta_fields(L);
    lua_setmetatable(L, -2);
    return v;
}

void sl_view_bind(void *vp, ss_run *run, double t)
{
    view *v = vp;
    v->run = run;
    v->t = t;
}

void sl_open_policy(lua_State *L)
{
    push_view_meta(L);
    lua_pop(L, 1);
}

/* --------------------------------------------------------- runs from C */

typedef struct c_req {
    ss_script *s;
    size_t i;
    hooks *h;
} c_req;

/* Find or build the hooks of scenario r->i (anchored for the script's life). */
static int l_c_hooks(lua_State *L)
{
    c_req *r = lua_touserdata(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, HOOKS_SCRIPT);
    if (lua_rawgeti(L, -1, (lua_Integer)r->i + 1) == LUA_TUSERDATA) {
        r->h = lua_touserdata(L, -1);
        return 0;
    }
    lua_pop(L, 1);
    if (ss_script_push_scenario(r->s, r->i) != 0)
        return luaL_error(L, "no scenario %d", (int)r->i + 1);
    r->h = push_hooks(L, -1, L, 1);
    lua_rawseti(L, -3, (lua_Integer)r->i + 1);
    return 0;
}

int ss_script_run_opts(ss_script *s, size_t i, ss_run_opts *out, ss_err *err)
{
    lua_State *L;
    c_req r;
    int st, top;

    fill_opts(out, NULL);
    if (!s || i >= ss_script_count(s))
        return ss_err_set(err, SS_EINVAL, NULL, "no scenario %zu in the script", i + 1);
    L = ss_script_state(s);
    top = lua_gettop(L);
    if (!lua_checkstack(L, 4))
        return ss_err_set(err, SS_ENOMEM, NULL, "out of memory (Lua stack)");
    r.s = s;
    r.i = i;
    r.h = NULL;
    lua_pushcfunction(L, l_c_hooks);
    lua_pushlightuserdata(L, &r);
    st = sl_pcall(L, 1, 0);
    if (st != LUA_OK) {
        int rc = sl_to_err(L, st, err);
        lua_settop(L, top);
        return rc;
    }
    lua_settop(L, top);
    fill_opts(out, r.h);
    return SS_OK;
}

int ss_script_run(ss_script *s, size_t i, ss_result **out, ss_err *err)
{
    ss_run_opts o;
    int rc;
    *out = NULL;
    if ((rc = ss_script_run_opts(s, i, &o, err)) != SS_OK)
        return rc;
    ss_script_crn_opts(s, &o);
    return ss_sim_run_resolved(NULL, out, ss_script_resolved(s, i), &o, err);
}
