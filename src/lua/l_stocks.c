/*
 * l_stocks.c - extending the model from a scenario (docs/lua-api.md
 * "Stocks, links and series"): user stocks (`stocks`), links (`links`) and
 * stratsim.series.
 *
 * Stocks and links reach the core through the generic hooks of ss_run_opts
 * (nstock/stock_init/stock_rates, nlink/links/link_eval): the core
 * integrates the stocks with its own state and calls link_eval first in
 * every evaluation of the equations, then its algebra, then stock_rates
 * (docs/model.md "User stocks and links"). A scenario without either gets
 * no hook at all, so the core's fast path is untouched.
 *
 * Ext. Before a run the scenario's stocks and links are snapshotted into an
 * "ext" userdata (held by the run's hooks, l_policy.c): the stock ids,
 * units and link targets as C arrays for the core, and a function table in
 * the registry (rates, inits, link functions, one reusable View). A
 * callback never raises: it calls every function through lua_pcall (with
 * sl_pcall's message handler) with the View bound to the run; the View
 * is unbound after the calls. Failures become "FILE:LINE: message (in WHAT at t=T)",
 * WHAT naming the stock or link, plus the traceback; a non-number, a
 * non-finite number or a link value out of the input's range is reported
 * the same way. The instruction and memory budgets are the script's (runs
 * started from C reset the instruction budget at t0, as policies do).
 *
 * Series. stratsim.series{file=, time=, value=, kind=} reads knots from a
 * CSV file (path relative to the calling file, like stratsim.include) with
 * the core's CSV reader (src/core/csvread.c) and returns an ordinary
 * schedule; errors name the file, line and column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "sl_internal.h"
#include "core/csvread.h"

#define EXT_META "stratsim.Ext"
#define CSV_META "stratsim.SeriesFile"

static const char *const stock_keys[] = {"id", "init", "unit", "rate", NULL};

/* ------------------------------------------------------------ checking */

static int builtin_metric(const char *s)
{
    return ss_metric_ps_parse(s) >= 0 || ss_metric_p_parse(s) >= 0 || ss_metric_s_parse(s) >= 0;
}

/* The range of a linked input: NULL if x is in it, else the rule. */
static const char *link_range(int field, double x)
{
    switch (field) {
    case SS_LINK_GROWTH: return NULL;
    case SS_FIELD_REINVEST:
    case SS_FIELD_ALLOCATION: return x >= 0 ? NULL : "must be >= 0";
    case SS_FIELD_PARTICIPATION: return x >= 0 && x <= 1 ? NULL : "must be in [0, 1]";
    default: return x > 0 ? NULL : "must be > 0";
    }
}

/*
 * Parse a link target "providers.P.FIELD[.SEG]" or "segments.S.growth"
 * against model m. Returns 0, or -1 with a message.
 */
static int parse_target(const ss_model *m, const char *key, ss_link *out, char *msg, size_t n)
{
    char buf[256], *part[5], *p;
    int np = 0, f;
    if (strlen(key) >= sizeof buf) {
        snprintf(msg, n, "target too long");
        return -1;
    }
    strcpy(buf, key);
    for (p = buf; np < 5;) {
        part[np++] = p;
        p = strchr(p, '.');
        if (!p)
            break;
        *p++ = '\0';
    }
    out->provider = out->segment = -1;
    if (np == 3 && strcmp(part[0], "segments") == 0) {
        int k = ss_model_segment_index(m, part[1]);
        if (k < 0) {
            snprintf(msg, n, "unknown segment '%s'", part[1]);
            return -1;
        }
        if (strcmp(part[2], "growth") != 0) {
            snprintf(msg, n, "a link on a segment can only target growth (segments.%s.growth), not '%s'",
                     part[1], part[2]);
            return -1;
        }
        if (m->seg[k].has_bass) {
            snprintf(msg, n, "segment '%s' follows Bass diffusion and has no growth input to link",
                     part[1]);
            return -1;
        }
        out->field = SS_LINK_GROWTH;
        out->segment = k;
        return 0;
    }
    if ((np == 3 || np == 4) && strcmp(part[0], "providers") == 0) {
        int i = ss_model_provider_index(m, part[1]);
        if (i < 0) {
            snprintf(msg, n, "unknown provider '%s'", part[1]);
            return -1;
        }
        f = ss_field_parse(part[2]);
        if (f < 0) {
            snprintf(msg, n, "'%s' is not a decision input (links target reinvest, allocation.SEG, "
                     "price.SEG, participation.SEG, lever.SEG or segments.SEG.growth)", part[2]);
            return -1;
        }
        out->field = f;
        out->provider = i;
        if (f == SS_FIELD_REINVEST) {
            if (np != 3) {
                snprintf(msg, n, "reinvest is per provider: providers.%s.reinvest", part[1]);
                return -1;
            }
            return 0;
        }
        if (np != 4) {
            snprintf(msg, n, "%s is per segment: providers.%s.%s.SEGMENT", part[2], part[1], part[2]);
            return -1;
        }
        out->segment = ss_model_segment_index(m, part[3]);
        if (out->segment < 0) {
            snprintf(msg, n, "unknown segment '%s'", part[3]);
            return -1;
        }
        return 0;
    }
    snprintf(msg, n, "unknown link target (expected providers.PROVIDER.FIELD[.SEGMENT] or "
             "segments.SEGMENT.growth)");
    return -1;
}

#define FAILP(...) do { snprintf(path, npath, __VA_ARGS__); goto failed; } while (0)

/* stocks = {...}: a table that is an array without holes (t); *n its length. */
static int check_stock_list(lua_State *L, int t, size_t *n, char *path, size_t npath, char *msg,
                            size_t nmsg)
{
    size_t q = 0;
    if (lua_type(L, t) != LUA_TTABLE) {
        snprintf(msg, nmsg, "expected an array of {id = ..., init = ..., unit = ..., rate = function(v) ... end}, got %s",
                 sl_tname(L, t));
        FAILP("stocks");
    }
    *n = lua_rawlen(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        q++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > *n) {
            snprintf(msg, nmsg, "expected an array of stock tables (found a non-array key)");
            FAILP("stocks");
        }
    }
    if (q != *n) {
        snprintf(msg, nmsg, "expected an array of stock tables without holes");
        FAILP("stocks");
    }
    return 0;
failed:
    return -1;
}

/* stocks[j].id (on the stack top): a valid id, no built-in metric, no
 * derived metric of `outs`, no earlier stock's id (stocks table t). */
static int check_stock_id(lua_State *L, int t, int outs, size_t j, char *path, size_t npath,
                          char *msg, size_t nmsg)
{
    size_t len, q;
    const char *id;
    if (lua_type(L, -1) != LUA_TSTRING) {
        snprintf(msg, nmsg, "expected a string id, got %s", sl_tname(L, -1));
        FAILP("stocks[%zu].id", j);
    }
    id = lua_tolstring(L, -1, &len);
    if (len > SL_MAX_ID_LEN || !sl_valid_id(id, len)) {
        snprintf(msg, nmsg, "invalid stock id '%.80s' (ids match [A-Za-z_][A-Za-z0-9_-]*, "
                 "at most %d characters)", id, SL_MAX_ID_LEN);
        FAILP("stocks[%zu].id", j);
    }
    if (builtin_metric(id)) {
        snprintf(msg, nmsg, "'%s' is the name of a built-in metric (choose another id)", id);
        FAILP("stocks[%zu].id", j);
    }
    if (lua_type(L, outs) == LUA_TTABLE) {
        lua_pushvalue(L, -1);
        if (lua_rawget(L, outs) != LUA_TNIL) {
            snprintf(msg, nmsg, "'%s' is also the name of a derived metric in outputs", id);
            FAILP("stocks[%zu].id", j);
        }
        lua_pop(L, 1);
    }
    for (q = 1; q < j; q++) {
        int dup;
        lua_rawgeti(L, t, (lua_Integer)q);
        lua_getfield(L, -1, "id");
        dup = lua_rawequal(L, -1, -3);
        lua_pop(L, 2);
        if (dup) {
            snprintf(msg, nmsg, "duplicate stock id '%s' (also stocks[%zu])", id, q);
            FAILP("stocks[%zu].id", j);
        }
    }
    return 0;
failed:
    return -1;
}

/* stocks[j] of table t: its keys, id, init, rate and unit. */
static int check_stock(lua_State *L, int t, int outs, size_t j, char *path, size_t npath,
                       char *msg, size_t nmsg)
{
    int e, ty;
    lua_rawgeti(L, t, (lua_Integer)j);
    e = lua_gettop(L);
    if (lua_type(L, e) != LUA_TTABLE) {
        snprintf(msg, nmsg, "expected a table {id = ..., init = ..., unit = ..., rate = ...}, got %s",
                 sl_tname(L, e));
        FAILP("stocks[%zu]", j);
    }
    lua_pushnil(L);
    while (lua_next(L, e)) {
        size_t i;
        int ok = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            for (i = 0; stock_keys[i]; i++)
                ok |= strcmp(lua_tostring(L, -1), stock_keys[i]) == 0;
        if (!ok) {
            snprintf(msg, nmsg, "unknown key '%s' (a stock has id, init, unit and rate)",
                     lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
            FAILP("stocks[%zu]", j);
        }
    }
    lua_getfield(L, e, "id");
    if (check_stock_id(L, t, outs, j, path, npath, msg, nmsg) != 0)
        return -1;
    lua_pop(L, 1);
    ty = lua_getfield(L, e, "init");
    if (ty == LUA_TNUMBER) {
        if (!isfinite(lua_tonumber(L, -1))) {
            snprintf(msg, nmsg, "must be finite");
            FAILP("stocks[%zu].init", j);
        }
    } else if (ty != LUA_TFUNCTION) {
        if (ty == LUA_TNIL)
            snprintf(msg, nmsg, "missing (required): a number or a function of the initial view");
        else
            snprintf(msg, nmsg, "expected a number or a function of the initial view, got %s",
                     sl_tname(L, -1));
        FAILP("stocks[%zu].init", j);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, e, "rate") != LUA_TFUNCTION) {
        snprintf(msg, nmsg, "%s: rate = function(v) return dk/dt end",
                 lua_isnil(L, -1) ? "missing (required)" : "expected a function");
        FAILP("stocks[%zu].rate", j);
    }
    lua_pop(L, 1);
    ty = lua_getfield(L, e, "unit");
    if (ty != LUA_TNIL && (ty != LUA_TSTRING || lua_rawlen(L, -1) == 0 || lua_rawlen(L, -1) > 63)) {
        snprintf(msg, nmsg, "expected a non-empty string of at most 63 bytes, e.g. \"EFLOPS\"");
        FAILP("stocks[%zu].unit", j);
    }
    lua_pop(L, 2);
    return 0;
failed:
    return -1;
}

/* The link on `key` (target lk) and the model's set events: an input has a
 * link or a schedule, not both. */
static int check_link_events(const ss_model *m, const char *key, const ss_link *lk, char *path,
                             size_t npath, char *msg, size_t nmsg)
{
    size_t e;
    for (e = 0; e < m->nev; e++) {
        const ss_event *ev = &m->ev[e];
        if (lk->field != SS_LINK_GROWTH && ev->kind == SS_EV_SET && (int)ev->field == lk->field &&
            ev->provider == lk->provider &&
            (lk->field == SS_FIELD_REINVEST || (ev->mask && ev->mask[lk->segment]))) {
            char at[48] = "";
            if (ev->line > 0)
                snprintf(at, sizeof at, ", line %d", ev->line);
            snprintf(msg, nmsg, "the link on %s and the set event events[%zu] (t=%.10g%s) "
                     "both set this input: an input has a link or a schedule, not both",
                     key, e + 1, ev->t, at);
            FAILP("links.%s", key);
        }
    }
    return 0;
failed:
    return -1;
}

/* The link whose key is at -2: no analysis table of `spec` may name its
 * input (an analysis varying a linked input would vary nothing). */
static int check_link_analyses(lua_State *L, int spec, const char *key, char *path, size_t npath,
                               char *msg, size_t nmsg)
{
    static const char *const an[] = {"uncertainty", "calibrate", "optimize", NULL};
    int a;
    for (a = 0; an[a]; a++) {
        int ty;
        lua_pushstring(L, an[a]);
        ty = lua_rawget(L, spec);
        if (ty == LUA_TTABLE && a == 2) {
            lua_pushliteral(L, "controls");
            ty = lua_rawget(L, -2);
            lua_remove(L, -2);
        }
        if (ty == LUA_TTABLE) {
            lua_pushvalue(L, -3);   /* the link's key */
            ty = lua_rawget(L, -2);
            lua_pop(L, 1);
        } else {
            ty = LUA_TNIL;
        }
        lua_pop(L, 1);
        if (ty != LUA_TNIL) {
            snprintf(msg, nmsg, "%s%s also names this input, which the link defines "
                     "(its schedule is not used): remove one of them", an[a],
                     a == 2 ? ".controls" : "");
            FAILP("links.%s", key);
        }
    }
    return 0;
failed:
    return -1;
}

/* links = {["PATH"] = function(v) ... end}: the table at t. */
static int check_links(lua_State *L, int spec, int t, const ss_model *m, char *path, size_t npath,
                       char *msg, size_t nmsg)
{
    if (lua_type(L, t) != LUA_TTABLE) {
        snprintf(msg, nmsg, "expected a table of [\"INPUT.PATH\"] = function(v) ... end, got %s",
                 sl_tname(L, t));
        FAILP("links");
    }
    lua_pushnil(L);
    while (lua_next(L, t)) {
        ss_link lk;
        const char *key;
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(msg, nmsg, "expected input paths as keys, e.g. [\"providers.alibaba.lever.ai\"]");
            FAILP("links");
        }
        key = lua_tostring(L, -2);
        if (parse_target(m, key, &lk, msg, nmsg) != 0)
            FAILP("links.%s", key);
        if (lua_type(L, -1) != LUA_TFUNCTION) {
            snprintf(msg, nmsg, "expected a function(v) returning the input's value, got %s",
                     sl_tname(L, -1));
            FAILP("links.%s", key);
        }
        if (check_link_events(m, key, &lk, path, npath, msg, nmsg) != 0 ||
            check_link_analyses(L, spec, key, path, npath, msg, nmsg) != 0)
            return -1;
        lua_pop(L, 1);
    }
    return 0;
failed:
    return -1;
}

int sl_ext_check(lua_State *L, int spec, const ss_model *m, char *path, size_t npath,
                     char *msg, size_t nmsg)
{
    int top = lua_gettop(L), outs;
    size_t n = 0, j;

    spec = lua_absindex(L, spec);
    luaL_checkstack(L, 10, NULL);
    msg[0] = '\0';
    lua_pushliteral(L, "outputs");
    lua_rawget(L, spec);
    outs = lua_gettop(L);
    lua_pushliteral(L, "stocks");
    if (lua_rawget(L, spec) != LUA_TNIL) {
        int t = lua_gettop(L);
        if (check_stock_list(L, t, &n, path, npath, msg, nmsg) != 0)
            goto failed;
        for (j = 1; j <= n; j++)
            if (check_stock(L, t, outs, j, path, npath, msg, nmsg) != 0)
                goto failed;
    }
    lua_settop(L, outs);
    lua_pushliteral(L, "links");
    if (lua_rawget(L, spec) != LUA_TNIL &&
        check_links(L, spec, lua_gettop(L), m, path, npath, msg, nmsg) != 0)
        goto failed;
    lua_settop(L, top);
    return 0;
failed:
    lua_settop(L, top);
    return -1;
}

/* ------------------------------------------------------------ the ext */

typedef struct ext {
    lua_State *L;        /* thread the callbacks run on */
    int c_run;           /* runs started from C: reset the budget at t0 */
    int *failed;         /* the hooks' failure flag */
    int tref;            /* registry ref of the function table (LUA_NOREF: none) */
    double last_t;       /* the view's `t` as last set */
    void *view;          /* anchored in the function table */
    size_t nstock, nlink;
    const char **names;  /* [nstock] anchored in the function table */
    const char **units;  /* [nstock] idem; NULL entries */
    ss_link *links;      /* [nlink], names anchored in the function table */
} ext;

enum { K_INIT = 0, K_RATE = 1, K_LINK = 2 };

typedef struct xcall {
    ext *x;
    ss_run *run;
    double t;
    double *out;
    int kind;
    size_t which;        /* the function being called */
    int bad;             /* 1: not a number, 2: not finite, 3: link out of range */
    char badtype[32];
    double badval;
} xcall;

static int l_ext_gc(lua_State *L)
{
    ext *x = lua_touserdata(L, 1);
    if (x && x->tref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, x->tref);
        x->tref = LUA_NOREF;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The stocks (st) and links (lk) tables are kept by reference: check them
 * again as they are now (with the scenario's outputs, at idx); raises. */
static void ext_recheck(lua_State *L, int idx, const ss_model *m, int st, int lk)
{
    char msg[256], path[300];
    lua_newtable(L);
    lua_pushvalue(L, st);
    lua_setfield(L, -2, "stocks");
    lua_pushvalue(L, lk);
    lua_setfield(L, -2, "links");
    sl_scenario_push_field(L, idx, "outputs");
    lua_setfield(L, -2, "outputs");
    if (!m || sl_ext_check(L, -1, m, path, sizeof path, msg, sizeof msg) != 0)
        luaL_error(L, "%s: %s (the table was changed after the scenario was built)", path,
                   m ? msg : "no model");
    lua_pop(L, 1);
}

/* A new ext userdata (pushed) for ns stocks and nl links, to run in T. */
static ext *ext_new(lua_State *L, lua_State *T, int c_run, int *failed, size_t ns, size_t nl)
{
    size_t bytes = sizeof(ext) + (2 * ns + 1) * sizeof(char *) + (nl + 1) * sizeof(ss_link);
    ext *x = lua_newuserdatauv(L, bytes, 0);
    memset(x, 0, bytes);
    x->tref = LUA_NOREF;
    x->last_t = NAN;
    if (luaL_newmetatable(L, EXT_META)) {
        lua_pushcfunction(L, l_ext_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, EXT_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    x->L = T;
    x->c_run = c_run;
    x->failed = failed;
    x->nstock = ns;
    x->nlink = nl;
    x->links = (ss_link *)(void *)(x + 1);
    x->names = (const char **)(void *)(x->links + nl + 1);
    x->units = x->names + ns;
    return x;
}

/* The stocks' rates, inits, ids and units into the function table ftab
 * (ids and units also at negative indices, which anchor x's names). */
static void ext_stocks(lua_State *L, ext *x, int st, int ftab)
{
    size_t j, ns = x->nstock;
    for (j = 0; j < ns; j++) {
        lua_rawgeti(L, st, (lua_Integer)j + 1);
        lua_getfield(L, -1, "rate");
        lua_rawseti(L, ftab, (lua_Integer)j + 1);
        lua_getfield(L, -1, "init");
        lua_rawseti(L, ftab, (lua_Integer)(ns + j) + 1);
        lua_getfield(L, -1, "id");
        x->names[j] = lua_tostring(L, -1);      /* anchored below */
        lua_rawseti(L, ftab, -(lua_Integer)j - 1);
        if (lua_getfield(L, -1, "unit") == LUA_TSTRING) {
            x->units[j] = lua_tostring(L, -1);
            lua_rawseti(L, ftab, -(lua_Integer)(ns + j) - 1);
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* The links of lk into ftab and x->links, in alphabetical order of their
 * targets (their keys anchored in ftab too). */
static void ext_links(lua_State *L, ext *x, const ss_model *m, int lk, int ftab)
{
    size_t ns = x->nstock, nl = x->nlink, i = 0;
    const char **keys;
    if (!nl)
        return;
    keys = (const char **)lua_newuserdatauv(L, nl * sizeof *keys, 0);
    lua_pushnil(L);
    while (lua_next(L, lk)) {
        lua_pop(L, 1);
        keys[i] = lua_tostring(L, -1);      /* keys of lk: anchored */
        lua_pushvalue(L, -1);
        lua_rawseti(L, ftab, -(lua_Integer)(2 * ns + i) - 1);
        i++;
    }
    qsort(keys, nl, sizeof *keys, cmp_str);
    for (i = 0; i < nl; i++) {
        char dummy[8];
        lua_getfield(L, lk, keys[i]);
        lua_rawseti(L, ftab, (lua_Integer)(2 * ns + i) + 1);
        parse_target(m, keys[i], &x->links[i], dummy, sizeof dummy);
        x->links[i].name = keys[i];
    }
    lua_pop(L, 1);
}

void *sl_ext_push(lua_State *L, int idx, lua_State *T, int c_run, int *failed)
{
    const ss_model *m;
    size_t ns = 0, nl = 0;
    int st, lk, ftab, ud;
    ext *x;

    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 12, NULL);
    m = sl_scenario_model(L, idx);
    sl_scenario_push_field(L, idx, "stocks");
    st = lua_gettop(L);
    sl_scenario_push_field(L, idx, "links");
    lk = lua_gettop(L);
    if (lua_isnil(L, st) && lua_isnil(L, lk)) {
        lua_settop(L, st - 1);
        lua_pushnil(L);
        return NULL;
    }
    ext_recheck(L, idx, m, st, lk);
    if (lua_istable(L, st))
        ns = lua_rawlen(L, st);
    if (lua_istable(L, lk)) {
        lua_pushnil(L);
        while (lua_next(L, lk)) {
            lua_pop(L, 1);
            nl++;
        }
    }
    x = ext_new(L, T, c_run, failed, ns, nl);
    ud = lua_gettop(L);
    /* function table: [1..ns] rates, [ns+1..2ns] inits, [2ns+1..2ns+nl] links, [0] the view */
    lua_createtable(L, (int)(2 * ns + nl), 2);
    ftab = lua_gettop(L);
    ext_stocks(L, x, st, ftab);
    ext_links(L, x, m, lk, ftab);
    x->view = sl_view_push(L);
    lua_rawseti(L, ftab, 0);
    x->tref = luaL_ref(L, LUA_REGISTRYINDEX);   /* pops ftab */
    lua_copy(L, ud, st);
    lua_settop(L, st);
    return x;
}

/* What c->which names, for messages. */
static void what_of(const xcall *c, char *buf, size_t n)
{
    const ext *x = c->x;
    if (c->kind == K_LINK)
        snprintf(buf, n, "link %s", x->links[c->which].name);
    else
        snprintf(buf, n, "%s of stock '%s'", c->kind == K_INIT ? "init" : "rate", x->names[c->which]);
}

/* Where the function c->which is defined: short_src and line. */
static void where_of(lua_State *L, const xcall *c, char *src, size_t n, int *line)
{
    const ext *x = c->x;
    size_t off = c->kind == K_INIT ? x->nstock : c->kind == K_LINK ? 2 * x->nstock : 0;
    lua_Debug ar;
    src[0] = '\0';
    *line = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->tref);
    if (lua_rawgeti(L, -1, (lua_Integer)(off + c->which) + 1) == LUA_TFUNCTION &&
        lua_getinfo(L, ">S", &ar)) {
        snprintf(src, n, "%s", ar.short_src);
        *line = ar.linedefined;
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 2);
}

/* The error of a failed ext_run: the Lua error (st) located in the
 * function that raised it, or a value that is not a finite number or out
 * of a link's range (c->bad). */
static int ext_fail(xcall *c, int st, ss_err *err)
{
    ext *x = c->x;
    lua_State *L = x->L;
    char what[200], src[LUA_IDSIZE];
    int line, rc;
    what_of(c, what, sizeof what);
    where_of(L, c, src, sizeof src, &line);
    if (st != LUA_OK) {
        char buf[sizeof err->msg];
        const char *nl;
        size_t head;
        rc = sl_to_err(L, st, err);
        nl = strchr(err->msg, '\n');
        head = nl ? (size_t)(nl - err->msg) : strlen(err->msg);
        if (src[0] && strcmp(err->file, src) != 0) {
            snprintf(buf, sizeof buf, "%s:%d: %.*s (in %s at t=%.10g)%s", src, line, (int)head,
                     err->msg, what, c->t, nl ? nl : "");
            ss_err_at(err, src, line);
        } else {
            snprintf(buf, sizeof buf, "%.*s (in %s at t=%.10g)%s", (int)head, err->msg, what, c->t,
                     nl ? nl : "");
        }
        memcpy(err->msg, buf, sizeof buf);
    } else if (c->bad == 1) {
        rc = ss_err_set(err, SS_EINVAL, NULL, "%s:%d: %s returned %s at t=%.10g (expected a finite number)",
                        src, line, what, c->badtype, c->t);
    } else if (c->bad == 2) {
        rc = ss_err_set(err, SS_ENUMERIC, NULL, "%s:%d: %s returned %s at t=%.10g (expected a finite number)",
                        src, line, what, isnan(c->badval) ? "nan" : c->badval > 0 ? "inf" : "-inf", c->t);
    } else {
        const ss_link *lkp = &x->links[c->which];
        rc = ss_err_set(err, SS_EINVAL, NULL, "%s:%d: %s returned %.10g at t=%.10g: %s %s",
                        src, line, what, c->badval, c->t,
                        lkp->field == SS_LINK_GROWTH ? "growth" : ss_field_name((ss_field)lkp->field),
                        link_range(lkp->field, c->badval));
    }
    if (rc != SS_OK && st == LUA_OK && src[0])
        ss_err_at(err, src, line);
    return rc;
}

/*
 * Call every function of c->kind with the view bound to the run, each in
 * lua_pcall with the message handler pushed once (this runs in every
 * evaluation of the equations: no C trampoline, `t` set only when it
 * changed). Returns SS_OK, or an SS_E* code with err filled. Never raises.
 */
static int ext_run(xcall *c, ss_err *err)
{
    ext *x = c->x;
    lua_State *L = x->L;
    int top = lua_gettop(L), st = LUA_OK, rc, h, ft, vw;
    size_t j, n = c->kind == K_LINK ? x->nlink : x->nstock;
    size_t off = c->kind == K_INIT ? x->nstock : c->kind == K_LINK ? 2 * x->nstock : 0;

    if (!lua_checkstack(L, 8))
        return ss_err_set(err, SS_ENOMEM, NULL, "out of memory (Lua stack)");
    sl_push_msgh(L);
    h = top + 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->tref);
    ft = top + 2;
    lua_rawgeti(L, ft, 0);
    vw = top + 3;
    if (!(c->t == x->last_t)) {   /* view.t: a field of the view's __index table */
        lua_getiuservalue(L, vw, 1);
        lua_pushnumber(L, c->t);
        lua_setfield(L, -2, "t");
        lua_pop(L, 1);
        x->last_t = c->t;
    }
    sl_view_bind(x->view, c->run, c->t);
    for (j = 0; j < n; j++) {
        double v;
        c->which = j;
        if (lua_rawgeti(L, ft, (lua_Integer)(off + j) + 1) == LUA_TNUMBER) {   /* a numeric init */
            c->out[j] = lua_tonumber(L, -1);
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, vw);
        st = lua_pcall(L, 1, 1, h);
        if (st != LUA_OK)
            break;
        if (lua_type(L, -1) != LUA_TNUMBER) {
            c->bad = 1;
            snprintf(c->badtype, sizeof c->badtype, "%s", luaL_typename(L, -1));
            break;
        }
        v = lua_tonumber(L, -1);
        if (!isfinite(v) || (c->kind == K_LINK && link_range(x->links[j].field, v))) {
            c->bad = isfinite(v) ? 3 : 2;
            c->badval = v;
            break;
        }
        c->out[j] = v;
        lua_pop(L, 1);
    }
    sl_view_bind(x->view, NULL, 0.0);
    if (st == LUA_OK && !c->bad) {
        lua_settop(L, top);
        return SS_OK;
    }
    rc = ext_fail(c, st, err);
    lua_settop(L, top);
    if (x->failed)
        *x->failed = 1;
    return rc;
}

/* ext_run for one evaluation: the functions of `kind` at t into out. */
static int ext_call(ext *x, ss_run *run, double t, double *out, int kind, ss_err *err)
{
    xcall c;
    memset(&c, 0, sizeof c);
    c.x = x;
    c.run = run;
    c.t = t;
    c.out = out;
    c.kind = kind;
    return ext_run(&c, err);
}

static int cb_init(ss_run *run, double *y0, void *payload, ss_err *err)
{
    ext *x = payload;
    size_t j;
    for (j = 0; j < x->nstock; j++)
        y0[j] = NAN;   /* a stock read before its init is NaN */
    if (x->c_run)
        sl_budget_reset(x->L);
    return ext_call(x, run, ss_run_model(run)->t0, y0, K_INIT, err);
}

static int cb_rates(ss_run *run, double t, double *dydt, void *payload, ss_err *err)
{
    return ext_call(payload, run, t, dydt, K_RATE, err);
}

static int cb_links(ss_run *run, double t, double *values, void *payload, ss_err *err)
{
    return ext_call(payload, run, t, values, K_LINK, err);
}

void sl_ext_fill(void *p, ss_run_opts *o)
{
    ext *x = p;
    o->nstock = x->nstock;
    o->stock_names = x->nstock ? x->names : NULL;
    o->stock_units = x->nstock ? x->units : NULL;
    o->stock_init = x->nstock ? cb_init : NULL;
    o->stock_rates = x->nstock ? cb_rates : NULL;
    o->nlink = x->nlink;
    o->links = x->nlink ? x->links : NULL;
    o->link_eval = x->nlink ? cb_links : NULL;
    o->ext_payload = x;
}

/* ------------------------------------------------------------- series */

typedef struct csv_box {
    cli_csv *t;
} csv_box;

static int l_csv_box_gc(lua_State *L)
{
    csv_box *b = lua_touserdata(L, 1);
    if (b && b->t) {
        cli_csv_free(b->t);
        b->t = NULL;
    }
    return 0;
}

static const char *opt_str(lua_State *L, const char *key, const char *def, const char *where)
{
    int ty = lua_getfield(L, 1, key);
    const char *s;
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    if (ty != LUA_TSTRING || lua_rawlen(L, -1) == 0)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s: expected a non-empty string, got %s",
                     where, key, sl_tname(L, -1));
    s = lua_tostring(L, -1);
    lua_pop(L, 1);   /* still anchored by the argument table */
    return s;
}

/* stratsim.series's argument table (argument 1): only its known keys. */
static void series_keys(lua_State *L, const char *where)
{
    static const char *const keys[] = {"file", "time", "value", "kind", NULL};
    size_t i;
    if (lua_type(L, 1) != LUA_TTABLE)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: expected a table {file = ..., time = ..., "
                     "value = ..., kind = ...}, got %s", where, sl_tname(L, 1));
    lua_settop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int ok = 0;
        lua_pop(L, 1);
        for (i = 0; keys[i]; i++)
            ok |= lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), keys[i]) == 0;
        if (!ok)
            sl_raise(L, SS_EINVAL, "%s: stratsim.series: unknown key '%s' (expected file, time, "
                         "value, kind)", where, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
    }
}

/* The data file, resolved as stratsim.include resolves (relative to the
 * calling file, inside the scenario's directory or --root): a regular file,
 * recorded as an input of the run, read into a closable box (pushed). */
static cli_csv *series_read(lua_State *L, const char *file, const char *where, const char **path)
{
    char msg[512];
    struct stat st;
    csv_box *box;
    *path = sl_resolve_script_file(L, file, "stratsim.series");
    if (stat(lua_tostring(L, -1), &st) != 0 || !S_ISREG(st.st_mode))
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s is not a regular file", where, *path);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    box->t = NULL;
    if (luaL_newmetatable(L, CSV_META)) {
        lua_pushcfunction(L, l_csv_box_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_csv_box_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    /* an input of the run: no output may replace it (ss_script_files) */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_DATA_FILES);
    lua_pushstring(L, *path);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    if (cli_csv_read(&box->t, *path, msg, sizeof msg) != 0)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s", where, msg);
    return box->t;
}

/* The times (column ct) and values (cv) of t into tv[2 * nrows]: finite
 * numbers, times strictly increasing. */
static void series_values(lua_State *L, const cli_csv *t, int ct, int cv, double *tv,
                          const char *where, const char *path)
{
    size_t i;
    for (i = 0; i < t->nrows; i++) {
        int c;
        for (c = 0; c < 2; c++) {
            int col = c ? cv : ct;
            const char *cell = cli_csv_cell(t, i, col);
            double x;
            if (cli_csv_number(cell, &x) != 0 || !isfinite(x))
                sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s:%zu: column '%s': expected a finite "
                             "number, got '%.40s'", where, path, t->line[i], t->cols[col], cell);
            tv[c * t->nrows + i] = x;
        }
        if (i > 0 && !(tv[i] > tv[i - 1]))
            sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s:%zu: column '%s': %.15g %s %.15g on "
                         "line %zu (times must be strictly increasing)", where, path, t->line[i],
                         t->cols[ct], tv[i], tv[i] == tv[i - 1] ? "repeats" : "comes after", tv[i - 1],
                         t->line[i - 1]);
    }
}

int sl_series(lua_State *L)
{
    char where[320];
    const char *file, *tcol, *vcol, *kind, *path;
    int kd, ct, cv;
    cli_csv *t;
    double *tv;

    sl_where(L, 1, where, sizeof where);
    series_keys(L, where);
    file = opt_str(L, "file", NULL, where);
    if (!file)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: file: missing (required)", where);
    /* data files only (as stratsim.include reads only .lua files) */
    if (strlen(file) < 5 || strcmp(file + strlen(file) - 4, ".csv") != 0)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: file: expected the name of a .csv file, got '%.80s'",
                     where, file);
    tcol = opt_str(L, "time", "time", where);
    vcol = opt_str(L, "value", "value", where);
    kind = opt_str(L, "kind", "linear", where);
    if (strcmp(kind, "linear") == 0)
        kd = SS_SCHED_LINEAR;
    else if (strcmp(kind, "steps") == 0)
        kd = SS_SCHED_STEPS;
    else
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: kind: expected \"linear\" or \"steps\", got '%s'",
                     where, kind);
    t = series_read(L, file, where, &path);
    if (sl_charge_work(L, t->nrows * t->ncol + 1) != 0)
        sl_raise(L, SS_ELIMIT, "instruction limit exceeded");
    ct = cli_csv_col(t, tcol);
    cv = cli_csv_col(t, vcol);
    if (ct < 0 || cv < 0)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s:1: no column '%s' in the header", where,
                     path, ct < 0 ? tcol : vcol);
    if (t->nrows == 0)
        sl_raise(L, SS_EINVAL, "%s: stratsim.series: %s: no data rows (at least one is required)",
                     where, path);
    tv = lua_newuserdatauv(L, 2 * t->nrows * sizeof *tv, 0);
    series_values(L, t, ct, cv, tv, where, path);
    sl_push_schedule(L, kd, tv, tv + t->nrows, t->nrows);
    return 1;
}
