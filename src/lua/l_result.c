/*
 * l_result.c - the results API: scenario:run() and the "stratsim.Result"
 * object it returns (value, series, times, summary, write_csv, plot, name,
 * providers, segments, metrics), plus stratsim.compare{...} and
 * stratsim.sparkline(values).
 *
 * A Result is a full userdata that owns a core ss_result and a resolved
 * copy of the model that was run (for the summary header and the JSON
 * sidecar); its user value is the scenario file name (or nil). It is created
 * in an empty state before the run, so an error raised at any point leaves
 * nothing to leak: __gc (and __close) free whatever it holds. Its C memory
 * is charged to the script's memory budget. Text (summary, comparison,
 * charts) is rendered by the core/chart code into an open_memstream buffer
 * held by a small userdata with __gc, then pushed as a Lua string.
 * write_csv writes atomically through ss_outfile (CSV + JSON sidecar); in a
 * sandboxed script it accepts only relative paths without "..".
 * Depends on l_policy.c (run hooks), scenario/ (Scenario objects),
 * chart.c and the core (sim, io, summary).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "sl_internal.h"
#include "stratsim/io.h"
#include "stratsim/sim.h"
#include "stratsim/summary.h"

#define MEMBUF_META "stratsim.TextBuffer"
#define MAX_SERIES 8

typedef struct res_ud {
    ss_result *r;     /* owned; NULL while empty or after close */
    ss_model *m;      /* owned resolved copy of the model run, or NULL */
    size_t charged;   /* bytes charged to the memory budget */
} res_ud;

/* ------------------------------------------------------------ helpers */

/* Bytes of a result with these dimensions (for the memory budget). */
static size_t result_bytes(double nt, double np, double nk, double nextra)
{
    double b = (double)sizeof(ss_result) + (np + nk + nextra) * 72.0 +
               nt * 8.0 * (1.0 + SS_NPS * np * nk + SS_NP * np + SS_NS * nk + nextra);
    return b < 1e15 ? (size_t)b : (size_t)1e15;
}

/* Rough bytes of a model copy. */
static size_t model_bytes(const ss_model *m)
{
    double b = (double)sizeof(ss_model) + 256.0 +
               (double)m->nseg * ((double)sizeof(ss_segment) + 64.0) +
               (double)m->nprov * ((double)sizeof(ss_provider) + 64.0 +
                                   (double)m->nseg * (6.0 * sizeof(double) + 2.0 + 4.0 * sizeof(ss_schedule))) +
               (double)m->nev * ((double)sizeof(ss_event) + (double)m->nseg * 9.0);
    return b < 1e15 ? (size_t)b : (size_t)1e15;
}

static void charge(lua_State *L, res_ud *u, size_t bytes)
{
    if (sl_charge(L, bytes) != 0)
        sl_raise(L, SS_ELIMIT, "scenario exceeded the memory budget");
    u->charged += bytes;
}

static int l_result_gc(lua_State *L)
{
    res_ud *u = luaL_checkudata(L, 1, SL_RESULT);
    ss_result_free(u->r);
    u->r = NULL;
    ss_model_free(u->m);
    u->m = NULL;
    sl_uncharge(L, u->charged);
    u->charged = 0;
    return 0;
}

static res_ud *check_result(lua_State *L, int idx)
{
    res_ud *u = luaL_checkudata(L, idx, SL_RESULT);
    if (!u->r)
        luaL_error(L, "result is closed");
    return u;
}

static void push_result_meta(lua_State *L);

/* Push an empty Result (safe state before anything is acquired). */
static res_ud *new_result(lua_State *L)
{
    res_ud *u = lua_newuserdatauv(L, sizeof *u, 1);
    u->r = NULL;
    u->m = NULL;
    u->charged = 0;
    push_result_meta(L);
    lua_setmetatable(L, -2);
    return u;
}

/* A text buffer: open_memstream's FILE and buffer, released by __gc if an
 * error is raised before the text is pushed. */
typedef struct membuf {
    char *p;
    size_t n;
    FILE *f;
} membuf;

static int l_membuf_gc(lua_State *L)
{
    membuf *b = lua_touserdata(L, 1);
    if (b->f) {
        fclose(b->f);
        b->f = NULL;
    }
    free(b->p);
    b->p = NULL;
    return 0;
}

static FILE *push_membuf(lua_State *L, membuf **out)
{
    membuf *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->p = NULL;
    b->n = 0;
    b->f = NULL;
    if (luaL_newmetatable(L, MEMBUF_META)) {
        lua_pushcfunction(L, l_membuf_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, MEMBUF_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    b->f = open_memstream(&b->p, &b->n);
    if (!b->f)
        luaL_error(L, "out of memory");
    *out = b;
    return b->f;
}

/* Close the buffer's stream and replace the buffer on the stack by its text. */
static void membuf_finish(lua_State *L, membuf *b)
{
    int bad = ferror(b->f);
    if (fclose(b->f) != 0)
        bad = 1;
    b->f = NULL;
    if (bad)
        luaL_error(L, "out of memory");
    lua_pushlstring(L, b->p ? b->p : "", b->n);
    free(b->p);
    b->p = NULL;
    lua_replace(L, -2);
}

/* ------------------------------------------------------- series lookup */

enum { SK_PS, SK_P, SK_S, SK_X };

typedef struct sref {
    int kind, m;
    long i, k;
} sref;

static double sref_at(const ss_result *r, const sref *s, size_t ti)
{
    switch (s->kind) {
    case SK_PS: return SS_RESULT_PS(r, ti, s->m, s->i, s->k);
    case SK_P: return SS_RESULT_P(r, ti, s->m, s->i);
    case SK_S: return SS_RESULT_S(r, ti, s->m, s->k);
    default: return r->extra[ti * r->nextra + (size_t)s->m];
    }
}

/* Push "share, target_share, ..." and the derived names: for messages. */
static void push_metric_list(lua_State *L, const ss_result *r)
{
    luaL_Buffer b;
    size_t j;
    int m;
    luaL_buffinit(L, &b);
    for (m = 0; m < SS_NPS; m++) {
        luaL_addstring(&b, ss_metric_ps_name(m));
        luaL_addstring(&b, ", ");
    }
    for (m = 0; m < SS_NP; m++) {
        if (m == SS_P_REVENUE)
            continue;
        luaL_addstring(&b, ss_metric_p_name(m));
        luaL_addstring(&b, ", ");
    }
    for (m = 0; m < SS_NS; m++) {
        luaL_addstring(&b, ss_metric_s_name(m));
        luaL_addstring(&b, m + 1 < SS_NS || r->nextra ? ", " : "");
    }
    for (j = 0; j < r->nextra; j++) {
        luaL_addstring(&b, r->extra_names[j]);
        luaL_addstring(&b, j + 1 < r->nextra ? ", " : "");
    }
    luaL_pushresult(&b);
}

/* An argument error, or (plain, for arguments rebuilt on the stack) a
 * "FUNC: message" error. msg is on the stack. */
static void arg_fail(lua_State *L, const char *plain, int arg, const char *msg)
{
    if (plain)
        luaL_error(L, "%s: %s", plain, msg);
    luaL_argerror(L, arg, msg);
}

static long lookup(lua_State *L, char *const *ids, size_t n, int arg, const char *what,
                   const char *plain)
{
    long i;
    if (lua_type(L, arg) != LUA_TSTRING)
        arg_fail(L, plain, arg, lua_pushfstring(L, "%s id (string) or nil expected, got %s", what,
                                                luaL_typename(L, arg)));
    i = ss_result_id_index(ids, n, lua_tostring(L, arg));
    if (i < 0)
        arg_fail(L, plain, arg, lua_pushfstring(L, "unknown %s '%s'", what, lua_tostring(L, arg)));
    return i;
}

/*
 * Resolve (metric, provider, segment) at stack slots marg, parg, sarg
 * against r: per provider+segment metrics need both ids, per provider
 * metrics a provider, per segment metrics a segment (provider nil), derived
 * metrics neither. "revenue" is per provider without a segment. Raises
 * argument errors that say what to give.
 */
static void resolve(lua_State *L, const ss_result *r, int marg, int parg, int sarg, sref *out,
                    const char *plain)
{
    const char *name;
    int hasp = !lua_isnoneornil(L, parg), hass = !lua_isnoneornil(L, sarg), m;
    size_t j;

    name = luaL_checkstring(L, marg);
    out->i = out->k = -1;
    for (j = 0; j < r->nextra; j++) {
        if (strcmp(r->extra_names[j], name) == 0) {
            if (hasp || hass)
                arg_fail(L, plain, hasp ? parg : sarg,
                              lua_pushfstring(L, "derived metric '%s' has no provider or segment: give nil", name));
            out->kind = SK_X;
            out->m = (int)j;
            return;
        }
    }
    if ((m = ss_metric_ps_parse(name)) >= 0 && (hass || ss_metric_p_parse(name) < 0)) {
        if (!hasp || !hass)
            arg_fail(L, plain, hasp ? sarg : parg,
                          lua_pushfstring(L, "metric '%s' is per provider and segment: give both ids", name));
        out->kind = SK_PS;
        out->m = m;
        out->i = lookup(L, r->prov_ids, r->np, parg, "provider", plain);
        out->k = lookup(L, r->seg_ids, r->nk, sarg, "segment", plain);
        return;
    }
    if ((m = ss_metric_p_parse(name)) >= 0) {
        if (!hasp || hass)
            arg_fail(L, plain, hass ? sarg : parg,
                     lua_pushfstring(L, "metric '%s' is per provider: give a provider id and nil as "
                                     "the segment", name));
        out->kind = SK_P;
        out->m = m;
        out->i = lookup(L, r->prov_ids, r->np, parg, "provider", plain);
        return;
    }
    if ((m = ss_metric_s_parse(name)) >= 0) {
        if (hasp || !hass)
            arg_fail(L, plain, hasp ? parg : sarg,
                          lua_pushfstring(L, "metric '%s' is per segment: give nil as the provider "
                                          "and a segment id, e.g. ('%s', nil, '%s')", name, name,
                                          r->nk ? r->seg_ids[0] : "id"));
        out->kind = SK_S;
        out->m = m;
        out->k = lookup(L, r->seg_ids, r->nk, sarg, "segment", plain);
        return;
    }
    push_metric_list(L, r);
    arg_fail(L, plain, marg, lua_pushfstring(L, "unknown metric '%s' (known: %s)", name, lua_tostring(L, -1)));
}

/* ---------------------------------------------------------- the methods */

/* r:value(metric, provider, segment [, t]): at output time t (nil: the
 * last), linearly interpolated between output times. */
static int l_result_value(lua_State *L)
{
    res_ud *u = check_result(L, 1);
    const ss_result *r = u->r;
    sref s;
    size_t lo, hi;
    double t, a, b;

    resolve(L, r, 2, 3, 4, &s, NULL);
    if (lua_isnoneornil(L, 5)) {
        lua_pushnumber(L, sref_at(r, &s, r->nt - 1));
        return 1;
    }
    t = luaL_checknumber(L, 5);
    if (!(t >= r->t[0] - 1e-9 && t <= r->t[r->nt - 1] + 1e-9))
        return luaL_argerror(L, 5, lua_pushfstring(L, "t = %f is outside the output times [%f, %f]",
                                                   (lua_Number)t, (lua_Number)r->t[0],
                                                   (lua_Number)r->t[r->nt - 1]));
    lo = 0;
    hi = r->nt - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (fabs(t - r->t[lo]) <= 1e-9 || lo == hi) {
        lua_pushnumber(L, sref_at(r, &s, lo));
        return 1;
    }
    if (fabs(t - r->t[hi]) <= 1e-9) {
        lua_pushnumber(L, sref_at(r, &s, hi));
        return 1;
    }
    a = sref_at(r, &s, lo);
    b = sref_at(r, &s, hi);
    lua_pushnumber(L, a + (b - a) * (t - r->t[lo]) / (r->t[hi] - r->t[lo]));
    return 1;
}

/* r:series(metric, provider, segment) -> {times}, {values} */
static int l_result_series(lua_State *L)
{
    res_ud *u = check_result(L, 1);
    const ss_result *r = u->r;
    sref s;
    size_t ti;
    resolve(L, r, 2, 3, 4, &s, NULL);
    sl_push_numbers(L, r->t, r->nt);
    lua_createtable(L, (int)r->nt, 0);
    for (ti = 0; ti < r->nt; ti++) {
        lua_pushnumber(L, sref_at(r, &s, ti));
        lua_rawseti(L, -2, (lua_Integer)ti + 1);
    }
    return 2;
}

static int l_result_times(lua_State *L)
{
    const ss_result *r = check_result(L, 1)->r;
    sl_push_numbers(L, r->t, r->nt);
    return 1;
}

static int l_result_name(lua_State *L)
{
    lua_pushstring(L, check_result(L, 1)->r->scenario);
    return 1;
}

static int l_result_providers(lua_State *L)
{
    const ss_result *r = check_result(L, 1)->r;
    sl_push_strings(L, r->prov_ids, r->np);
    return 1;
}

static int l_result_segments(lua_State *L)
{
    const ss_result *r = check_result(L, 1)->r;
    sl_push_strings(L, r->seg_ids, r->nk);
    return 1;
}

/* r:metrics(): built-in metric names (each once), then the derived ones. */
static int l_result_metrics(lua_State *L)
{
    const ss_result *r = check_result(L, 1)->r;
    lua_Integer n = 0;
    size_t j;
    int m;
    lua_createtable(L, SS_NPS + SS_NP + SS_NS + (int)r->nextra, 0);
    for (m = 0; m < SS_NPS; m++) {
        lua_pushstring(L, ss_metric_ps_name(m));
        lua_rawseti(L, -2, ++n);
    }
    for (m = 0; m < SS_NP; m++) {
        if (ss_metric_ps_parse(ss_metric_p_name(m)) >= 0)
            continue;
        lua_pushstring(L, ss_metric_p_name(m));
        lua_rawseti(L, -2, ++n);
    }
    for (m = 0; m < SS_NS; m++) {
        lua_pushstring(L, ss_metric_s_name(m));
        lua_rawseti(L, -2, ++n);
    }
    for (j = 0; j < r->nextra; j++) {
        lua_pushstring(L, r->extra_names[j]);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

/* r:summary(): the table `stratsim run` prints. */
static int l_result_summary(lua_State *L)
{
    res_ud *u = check_result(L, 1);
    membuf *b;
    const char *file;
    FILE *f;
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, 1);
    file = lua_tostring(L, 2);
    f = push_membuf(L, &b);
    ss_summary_write(f, u->r, u->m, file);
    membuf_finish(L, b);
    return 1;
}

static int l_result_tostring(lua_State *L)
{
    res_ud *u = luaL_checkudata(L, 1, SL_RESULT);
    const ss_result *r = u->r;
    if (!r) {
        lua_pushliteral(L, "stratsim.Result (closed)");
        return 1;
    }
    lua_pushfstring(L, "stratsim.Result '%s': t %f..%f, %d output time%s, %d provider%s, %d segment%s, "
                    "%d derived metric%s", r->scenario, (lua_Number)r->t[0], (lua_Number)r->t[r->nt - 1],
                    (int)r->nt, r->nt == 1 ? "" : "s", (int)r->np, r->np == 1 ? "" : "s",
                    (int)r->nk, r->nk == 1 ? "" : "s", (int)r->nextra, r->nextra == 1 ? "" : "s");
    return 1;
}

int sl_writes_restricted(lua_State *L)
{
    int r = lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") == LUA_TTABLE;
    lua_pop(L, 1);
    if (r) {
        lua_getfield(L, LUA_REGISTRYINDEX, SL_ALLOW_WRITES);
        r = !lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    return r;
}

int sl_safe_path(const char *p)
{
    const char *c = p;
    if (!*p || *p == '/')
        return 0;
    while (*c) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return 0;
        c += n;
        while (*c == '/')
            c++;
    }
    return 1;
}

int sl_check_write_path(lua_State *L, const char *path)
{
    int restricted = sl_writes_restricted(L);
    if (restricted && strcmp(path, "-") != 0 && !sl_safe_path(path))
        luaL_error(L, "write_csv: sandboxed scripts may write only to relative paths without "
                   "'..' (got '%s'); run with --unsafe to lift this", path);
    return restricted;
}

static ss_layout opt_layout(lua_State *L, int idx)
{
    ss_layout layout = SS_LAYOUT_LONG;
    if (lua_isnoneornil(L, idx))
        return layout;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), "layout") != 0)
            luaL_error(L, "write_csv: unknown option '%s' (options: layout)",
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2));
        lua_pop(L, 1);
    }
    if (lua_getfield(L, idx, "layout") != LUA_TNIL) {
        const char *s = lua_tostring(L, -1);
        if (lua_type(L, -1) != LUA_TSTRING || (strcmp(s, "long") != 0 && strcmp(s, "wide") != 0))
            luaL_error(L, "write_csv: layout must be \"long\" or \"wide\"");
        layout = strcmp(s, "wide") == 0 ? SS_LAYOUT_WIDE : SS_LAYOUT_LONG;
    }
    lua_pop(L, 1);
    return layout;
}

/*
 * r:write_csv(path [, {layout = "long"|"wide"}]): CSV plus the JSON sidecar
 * path..".json", atomically; "-" writes the CSV to standard output. Returns
 * true, or nil and a message if writing failed.
 */
static int l_result_write_csv(lua_State *L)
{
    res_ud *u = check_result(L, 1);
    const char *path = luaL_checkstring(L, 2), *file;
    ss_layout layout = opt_layout(L, 3);
    const ss_result *rs[1];
    const ss_model *ms[1];
    ss_outfile *csv = NULL, *side = NULL;
    ss_sidecar_info info;
    char sha[65], *sidepath;
    ss_err e;
    int rc, restricted = sl_check_write_path(L, path);

    lua_settop(L, 3);
    lua_getiuservalue(L, 1, 1);
    file = lua_tostring(L, 4);
    sidepath = lua_newuserdatauv(L, strlen(path) + 6, 0);
    sprintf(sidepath, "%s.json", path);
    rs[0] = u->r;
    ms[0] = u->m;
    ss_err_clear(&e);
    /* from here on C only: no Lua call until the files are closed */
    if (strcmp(path, "-") == 0) {
        rc = ss_csv_write(stdout, layout, rs, 1, &e);
        if (rc == SS_OK && fflush(stdout) != 0)
            rc = ss_err_set(&e, SS_EIO, NULL, "writing standard output failed");
    } else {
        memset(&info, 0, sizeof info);
        info.command = "lua";
        info.scenario_file = file;
        info.scenario_sha256 = file && ss_sha256_file(file, sha, NULL) == SS_OK ? sha : NULL;
        info.layout = layout == SS_LAYOUT_WIDE ? "wide" : "long";
        info.unsafe = !restricted;
        info.results = (const ss_result *const *)rs;
        info.nresults = 1;
        if ((rc = ss_outfile_open(&csv, path, &e)) ||
            (rc = ss_csv_write(ss_outfile_stream(csv), layout, rs, 1, &e)) ||
            (rc = ss_outfile_open(&side, sidepath, &e)) ||
            (rc = ss_sidecar_write(ss_outfile_stream(side), &info, ms, ms[0] ? 1 : 0, &e))) {
            ss_outfile_abort(csv);
            ss_outfile_abort(side);
        } else if ((rc = ss_outfile_commit(csv, &e)) != SS_OK) {
            ss_outfile_abort(side);
        } else if ((rc = ss_outfile_commit(side, &e)) != SS_OK) {
            remove(path); /* never a CSV without its sidecar */
        }
    }
    if (rc != SS_OK) {
        luaL_pushfail(L);
        lua_pushstring(L, e.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Collect ids from arg (nil -> one NULL entry, a string, or an array of
 * strings) into ids[] (anchored by the argument); returns the count. */
static int id_list(lua_State *L, int arg, const char **ids, int max, const char *what)
{
    int n, i;
    if (lua_isnoneornil(L, arg)) {
        ids[0] = NULL;
        return 1;
    }
    if (lua_type(L, arg) == LUA_TSTRING) {
        ids[0] = lua_tostring(L, arg);
        return 1;
    }
    if (lua_type(L, arg) != LUA_TTABLE)
        luaL_typeerror(L, arg, lua_pushfstring(L, "%s id, array of ids or nil", what));
    n = (int)lua_rawlen(L, arg);
    if (n < 1 || n > max)
        luaL_argerror(L, arg, lua_pushfstring(L, "give 1 to %d %s ids", max, what));
    for (i = 0; i < n; i++) {
        if (lua_rawgeti(L, arg, i + 1) != LUA_TSTRING)
            luaL_argerror(L, arg, lua_pushfstring(L, "%s ids must be strings", what));
        ids[i] = lua_tostring(L, -1); /* anchored by the table */
        lua_pop(L, 1);
    }
    return n;
}

/* Integer option `key` of the table at idx, in [lo, hi], or def. */
static int opt_int(lua_State *L, int idx, const char *key, int lo, int hi, int def)
{
    int v = def;
    if (lua_getfield(L, idx, key) != LUA_TNIL) {
        lua_Number x = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || x != floor(x) || x < lo || x > hi)
            luaL_error(L, "plot: %s must be a whole number in [%d, %d]", key, lo, hi);
        v = (int)x;
    }
    lua_pop(L, 1);
    return v;
}

/* What one r:plot gathers: the ids, the options and the series. */
typedef struct plot_req {
    const char *provs[MAX_SERIES], *segs[MAX_SERIES];  /* a NULL id: nil */
    int np, nk;
    int nres;             /* results: this one and those of opts.with */
    int ascii;            /* opts.ascii, or -1: by the number of series */
    const char *title;    /* opts.title, or NULL: the default */
    sl_chart_series ser[MAX_SERIES];
    int ns;
    sl_chart_opts co;
} plot_req;

/* Raise unless every key of the options table (slot 5) is an option. */
static void plot_check_keys(lua_State *L)
{
    static const char *const keys[] = {"width", "height", "ascii", "title", "with", NULL};
    lua_pushnil(L);
    while (lua_next(L, 5)) {
        int i, ok = 0;
        for (i = 0; keys[i]; i++)
            if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), keys[i]) == 0)
                ok = 1;
        if (!ok)
            luaL_error(L, "plot: unknown option '%s' (options: width, height, ascii, title, with)",
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
        lua_pop(L, 1);
    }
}

/* Check opts.with (pushed at the top, not nil): an array of open results,
 * which it adds to q->nres. */
static void plot_check_with(lua_State *L, plot_req *q)
{
    int i, n;
    luaL_checktype(L, -1, LUA_TTABLE);
    n = (int)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (!luaL_testudata(L, -1, SL_RESULT))
            luaL_error(L, "plot: with[%d] is not a result", i);
        check_result(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    q->nres += n;
}

/* Read the options table at slot 5, if any: width, height, ascii, title
 * and with. Leaves the `with` table at slot 6 (nil if absent). */
static void plot_read_opts(lua_State *L, plot_req *q)
{
    q->co.width = 72;
    q->co.height = 10;
    if (lua_isnil(L, 5)) {
        lua_pushnil(L);
        return;
    }
    luaL_checktype(L, 5, LUA_TTABLE);
    plot_check_keys(L);
    q->co.width = opt_int(L, 5, "width", 30, 240, 72);
    q->co.height = opt_int(L, 5, "height", 3, 60, 10);
    if (lua_getfield(L, 5, "ascii") != LUA_TNIL)
        q->ascii = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, 5, "title") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "plot: title must be a string");
        q->title = lua_tostring(L, -1); /* anchored by the options table */
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 5, "with") != LUA_TNIL)
        plot_check_with(L, q);
    /* `with` table stays on the stack at slot 6 (nil if absent) */
}

/* Add the series of provider p and segment k of the result at slot ri:
 * its values (a userdata) and its label ("scenario: provider/segment", the
 * scenario only with several results) stay on the stack. */
static void plot_add_series(lua_State *L, plot_req *q, int ri, int p, int k)
{
    const ss_result *r = ((res_ud *)lua_touserdata(L, ri))->r;
    const char *prov = q->provs[p], *seg = q->segs[k];
    sl_chart_series *cs = &q->ser[q->ns];
    double *v;
    size_t ti;
    sref s;
    luaL_Buffer lb;
    /* the ids as arguments at fixed slots for resolve() */
    lua_pushvalue(L, 2);
    if (prov) lua_pushstring(L, prov); else lua_pushnil(L);
    if (seg) lua_pushstring(L, seg); else lua_pushnil(L);
    resolve(L, r, lua_gettop(L) - 2, lua_gettop(L) - 1, lua_gettop(L), &s, "plot");
    lua_pop(L, 3);
    v = lua_newuserdatauv(L, r->nt * sizeof *v + 1, 0);
    for (ti = 0; ti < r->nt; ti++)
        v[ti] = sref_at(r, &s, ti);
    luaL_buffinit(L, &lb);
    if (q->nres > 1) {
        luaL_addstring(&lb, r->scenario);
        if (prov || seg)
            luaL_addstring(&lb, ": ");
    }
    if (prov)
        luaL_addstring(&lb, prov);
    if (prov && seg)
        luaL_addchar(&lb, '/');
    if (seg)
        luaL_addstring(&lb, seg);
    luaL_pushresult(&lb);
    cs->label = lua_tostring(L, -1);
    cs->n = r->nt;
    cs->t = r->t;
    cs->v = v;
    q->ns++;
}

/* The series of every result (this one, then those of `with` at slot 6),
 * each for every provider and segment; each result stays on the stack. */
static void plot_collect(lua_State *L, plot_req *q)
{
    int a, p, k;
    for (a = 0; a < q->nres; a++) {
        int ri;
        if (a == 0) {
            lua_pushvalue(L, 1);
        } else {
            lua_rawgeti(L, 6, a);
        }
        ri = lua_gettop(L);
        for (p = 0; p < q->np; p++)
            for (k = 0; k < q->nk; k++)
                plot_add_series(L, q, ri, p, k);
    }
}

/*
 * r:plot(metric, provider, segment [, opts]): a terminal line chart of the
 * series; provider and segment may be arrays (one series each), and
 * opts.with = {r2, ...} adds the same series of other results. Options:
 * width (total columns, default 72), height (rows, default 10), ascii
 * (default: braille for one series, ASCII markers for several), title.
 */
static int l_result_plot(lua_State *L)
{
    plot_req q;
    membuf *b;
    FILE *f;

    q.nres = 1;
    q.ns = 0;
    q.ascii = -1;
    q.title = NULL;
    check_result(L, 1);
    luaL_checkstring(L, 2);
    lua_settop(L, 5);
    luaL_checkstack(L, 3 * MAX_SERIES + 16, NULL);
    q.np = id_list(L, 3, q.provs, MAX_SERIES, "provider");
    q.nk = id_list(L, 4, q.segs, MAX_SERIES, "segment");
    plot_read_opts(L, &q);
    if (q.np * q.nk * q.nres > MAX_SERIES)
        return luaL_error(L, "plot: at most %d series (got %d)", MAX_SERIES, q.np * q.nk * q.nres);
    plot_collect(L, &q);
    if (!q.title) {
        const ss_result *r = check_result(L, 1)->r;
        lua_pushfstring(L, q.nres > 1 ? "%s" : "%s (%s)", lua_tostring(L, 2), r->scenario);
        q.title = lua_tostring(L, -1);
    }
    q.co.title = q.title;
    q.co.ascii = q.ascii >= 0 ? q.ascii : q.ns > 1;
    f = push_membuf(L, &b);
    sl_chart_write(f, q.ser, (size_t)q.ns, &q.co);
    membuf_finish(L, b);
    return 1;
}

static void push_result_meta(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"value", l_result_value},
        {"series", l_result_series},
        {"times", l_result_times},
        {"summary", l_result_summary},
        {"write_csv", l_result_write_csv},
        {"plot", l_result_plot},
        {"name", l_result_name},
        {"providers", l_result_providers},
        {"segments", l_result_segments},
        {"metrics", l_result_metrics},
        {NULL, NULL}
    };
    if (luaL_newmetatable(L, SL_RESULT)) {
        lua_pushcfunction(L, l_result_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_result_gc);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_result_tostring);
        lua_setfield(L, -2, "__tostring");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushliteral(L, SL_RESULT);
        lua_setfield(L, -2, "__metatable");
    }
}

/* ------------------------------------------------------ scenario:run() */

int sl_scenario_run(lua_State *L)
{
    const ss_resolved *rm = sl_scenario_resolved(L, 1);
    const ss_model *sm = rm ? ss_resolved_model(rm) : NULL;
    ss_run_opts o;
    ss_result *res = NULL;
    res_ud *u;
    void *h;
    ss_err e;
    size_t est;
    double nt;
    int rc;

    if (!sm)
        return luaL_typeerror(L, 1, SL_SCENARIO " (call it as scenario:run())");
    lua_settop(L, 1);
    u = new_result(L);                                  /* 2 */
    sl_scenario_push_file(L, 1);
    lua_setiuservalue(L, 2, 1);
    h = sl_push_hooks(L, 1, &o);                    /* 3 */
    lua_getfield(L, LUA_REGISTRYINDEX, SL_INTERRUPT); /* the REPL's Ctrl-C flag */
    o.interrupt = (volatile int *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    charge(L, u, model_bytes(sm));
    u->m = ss_model_copy(sm);
    if (!u->m)
        sl_raise(L, SS_ENOMEM, "out of memory");
    nt = sm->step > 0 ? floor((sm->t1 - sm->t0) / sm->step) + 2 : 2;
    est = result_bytes(nt, (double)sm->nprov, (double)sm->nseg, (double)o.nextra);
    charge(L, u, est);
    ss_err_clear(&e);
    rc = ss_sim_run_resolved(NULL, &res, rm, &o, &e);
    if (rc != SS_OK) {
        char where[320];
        if (sl_hooks_failed(h))
            sl_raise(L, rc, "%s", e.msg);
        sl_where(L, 1, where, sizeof where);
        sl_raise(L, rc, "%s: scenario '%s': %s", where, sm->name ? sm->name : "?", e.msg);
    }
    u->r = res;
    lua_settop(L, 2);
    return 1;
}

/* ------------------------------------------------ results pushed from C */

typedef struct push_req {
    ss_result *r;
    const ss_model *m;
    const char *file;
} push_req;

static int l_push_result(lua_State *L)
{
    push_req *q = lua_touserdata(L, 1);
    res_ud *u = new_result(L);
    if (q->file) {
        lua_pushstring(L, q->file);
        lua_setiuservalue(L, -2, 1);
    }
    charge(L, u, result_bytes((double)q->r->nt, (double)q->r->np, (double)q->r->nk, (double)q->r->nextra));
    if (q->m) {
        charge(L, u, model_bytes(q->m));
        u->m = ss_model_copy(q->m);
        if (!u->m)
            sl_raise(L, SS_ENOMEM, "out of memory");
    }
    u->r = q->r;    /* ownership moves to the Result; nothing raises after this */
    q->r = NULL;
    return 1;
}

void sl_push_result(lua_State *L, ss_result *r, const ss_model *m, const char *file)
{
    push_req q;
    q.r = r;
    q.m = m;
    q.file = file;
    if (!r)
        sl_raise(L, SS_ENOMEM, "out of memory");
    if (!lua_checkstack(L, 4)) {
        ss_result_free(r);
        sl_raise(L, SS_ENOMEM, "out of memory (Lua stack)");
    }
    lua_pushcfunction(L, l_push_result);
    lua_pushlightuserdata(L, &q);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        /* r is ours again: free it, then raise the same error (a memory
         * budget, or an interruption from the REPL's Ctrl-C hook) */
        ss_result_free(q.r);
        lua_error(L);
    }
}

/* -------------------------------------------------- module functions */

/* stratsim.compare{r1, r2, ...} (or stratsim.compare(r1, r2, ...)): the
 * comparison table `stratsim compare` prints. */
static int l_compare(lua_State *L)
{
    const ss_result **rs;
    int n, i, list = lua_type(L, 1) == LUA_TTABLE && !luaL_testudata(L, 1, SL_RESULT);
    membuf *b;
    FILE *f;

    if (list) {
        lua_settop(L, 1);
        n = (int)lua_rawlen(L, 1);
        luaL_checkstack(L, n + 4, NULL);
        for (i = 1; i <= n; i++)
            lua_rawgeti(L, 1, i);
    } else {
        n = lua_gettop(L);
        lua_pushnil(L);
        lua_insert(L, 1);
    }
    if (n < 1)
        return luaL_error(L, "compare: give at least one result, e.g. stratsim.compare{a, b}");
    rs = lua_newuserdatauv(L, (size_t)n * sizeof *rs, 0);
    for (i = 0; i < n; i++) {
        if (!luaL_testudata(L, i + 2, SL_RESULT))
            return luaL_error(L, "compare: element %d is a %s, expected a result (scenario:run())",
                              i + 1, luaL_typename(L, i + 2));
        rs[i] = check_result(L, i + 2)->r;
    }
    f = push_membuf(L, &b);
    ss_summary_compare(f, rs, (size_t)n);
    membuf_finish(L, b);
    return 1;
}

/* stratsim.sparkline(values): one block character per value. */
static int l_sparkline(lua_State *L)
{
    size_t n, i;
    double *v;
    membuf *b;
    FILE *f;
    luaL_checktype(L, 1, LUA_TTABLE);
    n = (size_t)lua_rawlen(L, 1);
    v = lua_newuserdatauv(L, n * sizeof *v + 1, 0);
    for (i = 0; i < n; i++) {
        if (lua_rawgeti(L, 1, (lua_Integer)i + 1) != LUA_TNUMBER)
            return luaL_error(L, "sparkline: element %d is a %s, expected a number", (int)i + 1,
                              luaL_typename(L, -1));
        v[i] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    f = push_membuf(L, &b);
    sl_sparkline_write(f, v, n);
    membuf_finish(L, b);
    return 1;
}

void sl_open_results(lua_State *L)
{
    push_result_meta(L);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_compare);
    lua_setfield(L, -2, "compare");
    lua_pushcfunction(L, l_sparkline);
    lua_setfield(L, -2, "sparkline");
}
