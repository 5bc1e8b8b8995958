/*
 * l_scenario.c - the stratsim Lua module: stratsim.scenario{...},
 * Scenario:with{...}, stratsim.version (plus steps/linear from
 * l_schedule.c), and the conversion of a scenario table into an ss_model.
 *
 * A Scenario is a full userdata "stratsim.Scenario" that owns an unresolved
 * ss_model (freed by __gc) and keeps two user values: the *spec*, an
 * immutable structural copy of the table the script gave (so :with can
 * deep-merge it, and policy/outputs/uncertainty/... stay reachable as Lua
 * values), and the *meta* table: `origins`, the constructor calls that
 * contributed to it ({src, name, line}, newest first), and `events`, for each
 * event the origin it came from, its index there and its source line.
 * Construction = structural copy -> validation + conversion into the model
 * (every key, type, range and id of docs/scenarios.md) -> ss_model_resolve() on a copy
 * (share sums and the other cross-checks of the core). Every error is a
 * stratsim.Error "FILE:LINE: KEY.PATH: message"; the line comes from
 * locate.c, searching the path from the constructor's line in each origin's
 * source and keeping the deepest match.
 * The model is allocated inside the userdata's lifetime, so an error raised
 * half-way never leaks C memory; temporary arrays are Lua userdata.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua/sl_internal.h"
#include "stratsim/io.h"

#define MAX_ID_LEN 63
#define MAX_NAME_LEN 255

typedef struct scen_ud {
    ss_model *m;
    size_t charged;   /* bytes of C memory charged to the state's budget */
} scen_ud;

enum { UV_SPEC = 1, UV_META = 2 };

static const char *const top_keys[] = {
    "name", "description", "time", "discount_rate", "solver", "segments", "providers",
    "events", "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize",
    "checks", "stocks", "links", NULL
};
static const char *const with_keys[] = {
    "name", "description", "time", "discount_rate", "solver", "segments", "providers",
    "events", "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize",
    "checks", "replace_events", "stocks", "links", NULL
};
/* values kept by reference (used by later features), never copied */
static const char *const byref_keys[] = {
    "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize", "checks", "stocks",
    "links", NULL
};
static const char *const time_keys[] = {"start", "stop", "step", "epoch", "policy", NULL};
static const char *const solver_keys[] = {"method", "rtol", "atol", "h", "hmin", "max_steps", NULL};
static const char *const seg_keys[] = {
    "id", "size", "growth", "bass", "tau", "beta_capability", "beta_price",
    "beta_reliability", "learning", "efficiency", "depreciation", NULL
};
static const char *const bass_keys[] = {"p", "q", "potential", NULL};
static const char *const prov_keys[] = {
    "id", "share", "margin", "opex", "fixed_cost", "reinvest", "allocation", "price",
    "participation", "lever", "reliability", "recovery", "capability", "brand",
    "experience", NULL
};
static const char *const perseg_keys[] = {
    "share", "margin", "opex", "allocation", "price", "participation", "lever",
    "capability", "brand", NULL
};
static const char *const ev_kinds[] = {"outage", "set", "market", NULL};
static const char *const ev_outage_keys[] = {"t", "kind", "provider", "severity", NULL};
static const char *const ev_set_keys[] = {"t", "kind", "provider", "field", "value", NULL};
static const char *const ev_market_keys[] = {"t", "kind", "segment", "factor", NULL};
static const char *const field_list[] = {"reinvest", "allocation", "price", "participation", "lever", NULL};
static const char *const solver_list[] = {"rk8pd", "rkf45", "rkck", "rk2", "msadams", "euler", "rk4", NULL};

/* Value ranges of docs/model.md inputs. */
enum { R_ANY, R_GT0, R_GE0, R_LT1, R_OPEN01, R_LOPEN01, R_CLOSED01 };
static const char *const range_text[] = {
    "finite", "> 0", ">= 0", "< 1", "in (0, 1)", "in (0, 1]", "in [0, 1]"
};

static int in_range(double x, int r)
{
    switch (r) {
    case R_GT0: return x > 0;
    case R_GE0: return x >= 0;
    case R_LT1: return x < 1;
    case R_OPEN01: return x > 0 && x < 1;
    case R_LOPEN01: return x > 0 && x <= 1;
    case R_CLOSED01: return x >= 0 && x <= 1;
    default: return 1;
    }
}

/* Conversion context. */
typedef struct cv {
    lua_State *L;
    int meta;         /* absolute index of the meta table */
    int only_newest;  /* locate errors in the newest origin only (:with input) */
    ss_model *m;
    scen_ud *u;       /* the Scenario being built (charged for C memory) */
} cv;

static int in_list(const char *const *list, const char *s, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return 1;
    return 0;
}

/* A printable, bounded rendering of a script-supplied string. */
static const char *show(const char *s, size_t len, char *buf, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < len && o + 4 < n; i++)
        buf[o++] = ((unsigned char)s[i] < 32 || s[i] == 127) ? '?' : s[i];
    if (i < len && n > 4) {
        memcpy(buf + (o > n - 4 ? n - 4 : o), "...", 4);
        return buf;
    }
    buf[o] = '\0';
    return buf;
}

/* s[0..len) for a message, bytes outside printable ASCII as \xHH. */
static const char *show_escaped(const char *s, size_t len, char *buf, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < len && o + 8 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '"')
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    if (i < len)
        o += (size_t)snprintf(buf + o, n - o, "...");
    buf[o < n ? o : n - 1] = '\0';
    return buf;
}

/* 0 if s[0..len) is UTF-8 text without control characters (C0, DEL,
 * C1), else 1 + the offset of the first offending byte; *what says why. */
static size_t unsafe_text(const char *s, size_t len, const char **what)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = (unsigned char)s[i];
        unsigned long cp;
        size_t k, n;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                *what = "a control character";
                return i + 1;
            }
            i++;
            continue;
        }
        n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? (c <= 0xef ? 3 : 0) : c >= 0xc2 ? 2 : 0;
        if (n == 0 || i + n > len) {
            *what = "invalid UTF-8";
            return i + 1;
        }
        cp = c & (0xff >> (n + 1));
        for (k = 1; k < n; k++) {
            unsigned cc = (unsigned char)s[i + k];
            if ((cc & 0xc0) != 0x80) {
                *what = "invalid UTF-8";
                return i + 1;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            *what = "invalid UTF-8";
            return i + 1;
        }
        if (cp >= 0x80 && cp <= 0x9f) {
            *what = "a control character";
            return i + 1;
        }
        i += n;
    }
    return 0;
}

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

static const char *fmt_num(double x, char *buf, size_t n)
{
    if (isnan(x))
        snprintf(buf, n, "nan");
    else
        snprintf(buf, n, "%.15g", x);
    return buf;
}

/* "prefix.key" (or "key"), truncated to fit; buf may not alias prefix. */
static const char *kpath(char *buf, size_t n, const char *prefix, const char *key)
{
    size_t o = 0;
    const char *parts[3];
    int i;
    parts[0] = prefix && *prefix ? prefix : "";
    parts[1] = prefix && *prefix ? "." : "";
    parts[2] = key;
    for (i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (l > n - 1 - o)
            l = n - 1 - o;
        memcpy(buf + o, parts[i], l);
        o += l;
    }
    buf[o] = '\0';
    return buf;
}

/* Push t[k] without metamethods; returns its type. t is absolute. */
static int rawfield(lua_State *L, int t, const char *k)
{
    lua_pushstring(L, k);
    return lua_rawget(L, t);
}

/* ------------------------------------------------- locating and errors */

/* __gc of the FILE box used by read_source: close a file left open by an
 * error raised while reading. */
static int l_srcfile_gc(lua_State *L)
{
    FILE **fp = lua_touserdata(L, 1);
    if (fp && *fp) {
        fclose(*fp);
        *fp = NULL;
    }
    return 0;
}

/* Push the text of file `path` (at most 8 MiB), or nil. The FILE lives in
 * a userdata with __gc, so a memory error while reading cannot leak it. */
static void read_source(lua_State *L, const char *path)
{
    luaL_Buffer b;
    FILE **fp;
    size_t total = 0, got;

    fp = lua_newuserdatauv(L, sizeof *fp, 0);
    *fp = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_srcfile_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    *fp = fopen(path, "rb");
    if (!*fp) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    luaL_buffinit(L, &b);
    do {
        char *p = luaL_prepbuffer(&b);
        got = fread(p, 1, LUAL_BUFFERSIZE, *fp);
        luaL_addsize(&b, got);
        total += got;
    } while (got > 0 && total <= ((size_t)8 << 20));
    luaL_pushresult(&b);
    fclose(*fp);
    *fp = NULL;
    lua_remove(L, -2);
    if (total > ((size_t)8 << 20)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Push the source text of chunk `src` (registry for files, the chunk
 * string itself for load()ed strings), or nil. A file chunk not loaded by
 * stratsim (dofile in a program that uses the module) is read from disk -
 * only outside the sandbox, where reading files is the script's right. */
static void push_source_text(lua_State *L, const char *src)
{
    if (src[0] == '@' || src[0] == '=') {
        luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
        if (lua_getfield(L, -1, src) == LUA_TNIL && src[0] == '@') {
            int sandboxed = lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") != LUA_TNIL;
            lua_pop(L, 2);
            if (sandboxed) {
                lua_pushnil(L);
            } else {
                read_source(L, src + 1);
                if (lua_type(L, -1) == LUA_TSTRING) {
                    lua_pushvalue(L, -1);
                    lua_setfield(L, -3, src); /* remembered for the next error */
                }
            }
        }
        lua_remove(L, -2);
    } else {
        lua_pushstring(L, src);
    }
}

/* Line of `path` in the origin table at index o; depth in *depth. */
static int origin_line(lua_State *L, int o, const char *path, int *depth)
{
    int line, d = 0;
    o = lua_absindex(L, o);
    luaL_checkstack(L, 4, NULL);
    lua_getfield(L, o, "line");
    line = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, o, "src") == LUA_TSTRING) {
        push_source_text(L, lua_tostring(L, -1));
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            if (sl_charge_work(L, len) != 0)
                sl_raise(L, SS_ELIMIT, "instruction limit exceeded");
            line = sl_locate_path(text, len, line, path, &d);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (depth)
        *depth = d;
    return line;
}

/*
 * Format "FILE:LINE: PATH: msg" for a scenario whose meta table is at
 * `meta`. Paths under events[n] are searched in the origin that event came
 * from; other paths in every origin (or only the newest), deepest match wins.
 */
static void format_at(lua_State *L, int meta, const char *path, const char *msg,
                      char *out, size_t size, int only_newest)
{
    char lpath[256], name[256] = "?";
    int top = lua_gettop(L), line = 0, best = -1;
    lua_Integer first = 1, last, j;
    size_t plen = strlen(path);

    luaL_checkstack(L, 8, NULL);
    meta = lua_absindex(L, meta);
    snprintf(lpath, sizeof lpath, "%s", path);
    if (plen && strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0)
        msg += plen + 2;
    if (lua_type(L, meta) != LUA_TTABLE || lua_getfield(L, meta, "origins") != LUA_TTABLE) {
        lua_settop(L, top);
        snprintf(out, size, "%s%s%s", path, *path ? ": " : "", msg);
        return;
    }
    last = (lua_Integer)lua_rawlen(L, -1);
    if (only_newest) {
        last = 1;
    } else if (strncmp(path, "events[", 7) == 0) {
        char *end;
        long ei = strtol(path + 7, &end, 10);
        if (lua_getfield(L, meta, "events") == LUA_TTABLE && *end == ']') {
            if (lua_rawgeti(L, -1, ei) == LUA_TTABLE) {
                lua_getfield(L, -1, "o");
                lua_getfield(L, -2, "i");
                first = last = lua_tointeger(L, -2);
                snprintf(lpath, sizeof lpath, "events[%ld]%s", (long)lua_tointeger(L, -1), end + 1);
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    for (j = first; j <= last; j++) {
        int d, l;
        if (lua_rawgeti(L, -1, j) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        l = origin_line(L, -1, lpath, &d);
        if (d > best) {
            best = d;
            line = l;
            lua_getfield(L, -1, "name");
            snprintf(name, sizeof name, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_settop(L, top);
    if (line > 0)
        snprintf(out, size, "%s:%d: %s%s%s", name, line, path, *path ? ": " : "", msg);
    else
        snprintf(out, size, "%s: %s%s%s", name, path, *path ? ": " : "", msg);
}

void sl_scenario_format(lua_State *L, int idx, const char *path, const char *msg,
                            char *out, size_t size)
{
    idx = lua_absindex(L, idx);
    lua_getiuservalue(L, idx, UV_META);
    format_at(L, -1, path ? path : "", msg, out, size, 0);
    lua_pop(L, 1);
}

#if defined(__GNUC__)
#define FAIL_ATTR __attribute__((format(printf, 3, 4)))
#else
#define FAIL_ATTR
#endif

/* Raise a located scenario error. */
_Noreturn static void fail(cv *c, const char *path, const char *fmt, ...) FAIL_ATTR;
_Noreturn static void fail(cv *c, const char *path, const char *fmt, ...)
{
    char msg[512], out[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_at(c->L, c->meta, path, msg, out, sizeof out, c->only_newest);
    sl_raise(c->L, SS_EINVAL, "%s", out);
}

_Noreturn static void nomem(lua_State *L)
{
    sl_raise(L, SS_ENOMEM, "out of memory");
}

/* Charge C memory of the model being built to the memory budget. */
static void charge(cv *c, double bytes)
{
    size_t b = bytes < 1e15 ? (size_t)bytes : (size_t)1e15;
    if (sl_charge(c->L, b) != 0)
        sl_raise(c->L, SS_ELIMIT, "scenario exceeded the memory budget");
    c->u->charged += b;
}

static char *dup_str(lua_State *L, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d)
        nomem(L);
    memcpy(d, s, n);
    return d;
}

/* ------------------------------------------------------- value checks */

/* Report unknown keys of the table at t (the smallest, for determinism)
 * and non-string keys. */
static void check_keys(cv *c, int t, const char *const *allowed, const char *path)
{
    lua_State *L = c->L;
    const char *bad = NULL;
    size_t badlen = 0;
    lua_Integer badint = 0;
    int other = 0;
    char p[256], shown[80], sug[96];

    luaL_checkstack(L, 3, NULL);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -1, &len);
            if (!in_list(allowed, k, len) && (!bad || strcmp(k, bad) < 0)) {
                bad = k; /* anchored: a key of t */
                badlen = len;
            }
        } else if (lua_isinteger(L, -1)) {
            lua_Integer i = lua_tointeger(L, -1);
            if (!badint || i < badint)
                badint = i;
        } else {
            other = 1;
        }
    }
    if (badint)
        fail(c, path, "unexpected array item [%lld] (expected name = value fields)", (long long)badint);
    if (other)
        fail(c, path, "unexpected non-string key (expected name = value fields)");
    if (bad) {
        show(bad, badlen, shown, sizeof shown);
        fail(c, kpath(p, sizeof p, path, shown), "unknown key '%s'%s", shown,
             ss_suggest(shown, allowed, list_len(allowed), sug, sizeof sug));
    }
}

/* Length of the array at t; anything but keys 1..n is an error. */
static size_t array_len(cv *c, int t, const char *path, const char *what)
{
    lua_State *L = c->L;
    size_t n, count = 0;
    char shown[80];

    if (lua_type(L, t) != LUA_TTABLE)
        fail(c, path, "expected an array of %s, got %s", what, sl_tname(L, t));
    n = lua_rawlen(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        count++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > n) {
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t len;
                const char *k = lua_tolstring(L, -1, &len);
                fail(c, path, "expected an array of %s, found key '%s'", what,
                     show(k, len, shown, sizeof shown));
            }
            fail(c, path, "expected an array of %s (found a non-array key)", what);
        }
    }
    if (count != n)
        fail(c, path, "expected an array of %s without holes", what);
    return n;
}

static double num_at(cv *c, int idx, const char *path, int range)
{
    lua_State *L = c->L;
    char b[40];
    double x;
    if (lua_type(L, idx) != LUA_TNUMBER)
        fail(c, path, "expected a number, got %s", sl_tname(L, idx));
    x = lua_tonumber(L, idx);
    if (!isfinite(x))
        fail(c, path, "must be finite, got %s", fmt_num(x, b, sizeof b));
    if (!in_range(x, range))
        fail(c, path, "must be %s, got %s", range_text[range], fmt_num(x, b, sizeof b));
    return x;
}

/* Optional number field: returns 1 and stores it if present. */
static int opt_num(cv *c, int t, const char *key, const char *prefix, int range, double *out)
{
    char p[256];
    if (rawfield(c->L, t, key) == LUA_TNIL) {
        lua_pop(c->L, 1);
        return 0;
    }
    *out = num_at(c, -1, kpath(p, sizeof p, prefix, key), range);
    lua_pop(c->L, 1);
    return 1;
}

static double req_num(cv *c, int t, const char *key, const char *prefix, int range)
{
    char p[256];
    double x = 0;
    if (!opt_num(c, t, key, prefix, range, &x))
        fail(c, kpath(p, sizeof p, prefix, key), "missing (required)");
    return x;
}

/* A schedule value: a number or stratsim.steps/linear, values in range. */
static void sched_at(cv *c, int idx, const char *path, int range, ss_schedule *out)
{
    lua_State *L = c->L;
    sl_sched s;
    char b[40];
    if (lua_type(L, idx) == LUA_TNUMBER) {
        ss_schedule_set_const(out, num_at(c, idx, path, range));
        return;
    }
    if (sl_toschedule(L, idx, &s)) {
        size_t i;
        ss_err e;
        for (i = 0; i < s.n; i++)
            if (!in_range(s.v[i], range))
                fail(c, path, "must be %s, got %s at knot %zu (t = %.15g)", range_text[range],
                     fmt_num(s.v[i], b, sizeof b), i + 1, s.t[i]);
        charge(c, 2.0 * (double)s.n * sizeof(double));
        ss_err_clear(&e);
        if (ss_schedule_set_knots(out, (ss_sched_kind)s.kind, s.n, s.t, s.v, path, &e) != SS_OK) {
            if (e.code == SS_ENOMEM)
                nomem(L);
            fail(c, path, "%s", e.msg);
        }
        return;
    }
    fail(c, path, "expected a number or a schedule (stratsim.steps/stratsim.linear), got %s",
         sl_tname(L, idx));
}

static int seg_index(const ss_model *m, const char *id, size_t len)
{
    size_t k;
    for (k = 0; k < m->nseg; k++)
        if (m->seg[k].id && strlen(m->seg[k].id) == len && memcmp(m->seg[k].id, id, len) == 0)
            return (int)k;
    return -1;
}

/* " (did you mean 'X'?)" among the ids of segments (or providers). */
static const char *suggest_id(const ss_model *m, int providers, const char *k, char *buf, size_t n)
{
    size_t i, cnt = providers ? m->nprov : m->nseg;
    int best = 3;
    const char *pick = NULL;
    buf[0] = '\0';
    for (i = 0; i < cnt; i++) {
        const char *id = providers ? m->prov[i].id : m->seg[i].id;
        int d;
        if (!id)
            continue;
        d = ss_edit_distance(k, id, 2);
        if (d < best) {
            best = d;
            pick = id;
        }
    }
    if (pick)
        snprintf(buf, n, " (did you mean '%s'?)", pick);
    return buf;
}

/* Every key of the table at t must be a segment id. */
static void check_seg_keys(cv *c, int t, const char *path)
{
    lua_State *L = c->L;
    const char *bad = NULL;
    size_t badlen = 0;
    int nonstring = 0;
    char p[256], shown[80], sug[96];

    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *k = lua_tolstring(L, -1, &len);
            if (seg_index(c->m, k, len) < 0 && (!bad || strcmp(k, bad) < 0)) {
                bad = k;
                badlen = len;
            }
        } else {
            nonstring = 1;
        }
    }
    if (nonstring)
        fail(c, path, "expected a table keyed by segment id (found a non-string key)");
    if (bad) {
        show(bad, badlen, shown, sizeof shown);
        fail(c, kpath(p, sizeof p, path, shown), "unknown segment '%s'%s", shown,
             suggest_id(c->m, 0, shown, sug, sizeof sug));
    }
}

enum { PS_NUM, PS_SCHED };

/*
 * A per-segment field: a table keyed by segment id (named segments only),
 * or - when allow_all - one number (PS_NUM) or number/schedule (PS_SCHED)
 * for every segment. Returns 1 if the field was given.
 */
static int perseg(cv *c, int t, const char *key, const char *prefix, int range, int kind,
                  int allow_all, double *num, ss_schedule *sch, unsigned char *given)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    char path[256], p[256];
    int idx, ty;
    size_t k;

    kpath(path, sizeof path, prefix, key);
    ty = rawfield(L, t, key);
    idx = lua_gettop(L);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty == LUA_TTABLE) {
        check_seg_keys(c, idx, path);
        for (k = 0; k < m->nseg; k++) {
            if (rawfield(L, idx, m->seg[k].id) != LUA_TNIL) {
                kpath(p, sizeof p, path, m->seg[k].id);
                if (kind == PS_NUM)
                    num[k] = num_at(c, -1, p, range);
                else
                    sched_at(c, -1, p, range, &sch[k]);
                if (given)
                    given[k] = 1;
            }
            lua_pop(L, 1);
        }
    } else if (allow_all && (ty == LUA_TNUMBER || (kind == PS_SCHED && sl_toschedule(L, idx, &(sl_sched){0})))) {
        for (k = 0; k < m->nseg; k++) {
            if (kind == PS_NUM)
                num[k] = num_at(c, idx, path, range);
            else
                sched_at(c, idx, path, range, &sch[k]);
            if (given)
                given[k] = 1;
        }
    } else if (!allow_all) {
        fail(c, path, "expected a table keyed by segment id, got %s", sl_tname(L, idx));
    } else if (kind == PS_NUM) {
        fail(c, path, "expected a number or a table keyed by segment id, got %s", sl_tname(L, idx));
    } else {
        fail(c, path, "expected a number, a schedule or a table keyed by segment id, got %s",
             sl_tname(L, idx));
    }
    lua_pop(L, 1);
    return 1;
}

static int valid_id(const char *s, size_t len)
{
    size_t i;
    if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (i = 1; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* Check the value at idx is a valid id string; returns it (anchored by
 * the value on the stack). */
static const char *id_at(cv *c, int idx, const char *path, const char *what)
{
    lua_State *L = c->L;
    size_t len;
    const char *s;
    char shown[80];
    if (lua_type(L, idx) != LUA_TSTRING)
        fail(c, path, "expected a string (the %s id), got %s", what, sl_tname(L, idx));
    s = lua_tolstring(L, idx, &len);
    if (!valid_id(s, len))
        fail(c, path, "invalid %s id '%s' (ids match [A-Za-z_][A-Za-z0-9_-]*)", what,
             show(s, len, shown, sizeof shown));
    if (len > MAX_ID_LEN)
        fail(c, path, "%s id '%s' is longer than %d characters", what,
             show(s, len, shown, sizeof shown), MAX_ID_LEN);
    return s;
}

/* ------------------------------------------------------ the conversion */

static void convert_time(cv *c, int spec)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    char b1[40], b2[40], b3[40];
    int t;
    if (rawfield(L, spec, "time") == LUA_TNIL)
        fail(c, "time", "missing (required): time = {start = ..., stop = ..., step = ...}");
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        fail(c, "time", "expected a table {start = ..., stop = ..., step = ...}, got %s", sl_tname(L, t));
    check_keys(c, t, time_keys, "time");
    m->t0 = req_num(c, t, "start", "time", R_ANY);
    m->t1 = req_num(c, t, "stop", "time", R_ANY);
    m->step = req_num(c, t, "step", "time", R_GT0);
    if (m->t1 < m->t0)
        fail(c, "time.stop", "must be >= time.start (%s), got %s", fmt_num(m->t0, b1, sizeof b1),
             fmt_num(m->t1, b2, sizeof b2));
    m->epoch = 0.0; /* 0: the core uses the output step */
    opt_num(c, t, "epoch", "time", R_GT0, &m->epoch);
    /* interventions apply from time.policy (default: the start) */
    m->policy_given = (unsigned char)opt_num(c, t, "policy", "time", R_ANY, &m->policy);
    if (m->policy_given && (m->policy < m->t0 || m->policy > m->t1))
        fail(c, "time.policy", "must be inside [time.start, time.stop] = [%s, %s], got %s",
             fmt_num(m->t0, b1, sizeof b1), fmt_num(m->t1, b2, sizeof b2), fmt_num(m->policy, b3, sizeof b3));
    lua_pop(L, 1);
}

static void convert_solver(cv *c, int spec)
{
    lua_State *L = c->L;
    ss_solver *so = &c->m->solver;
    char shown[80], sug[96], b[40];
    double x;
    int t;
    if (rawfield(L, spec, "solver") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        fail(c, "solver", "expected a table {method = ..., rtol = ...}, got %s", sl_tname(L, t));
    check_keys(c, t, solver_keys, "solver");
    if (rawfield(L, t, "method") != LUA_TNIL) {
        size_t len;
        const char *s;
        int meth;
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(c, "solver.method", "expected a string, got %s", sl_tname(L, -1));
        s = lua_tolstring(L, -1, &len);
        meth = strlen(s) == len ? ss_solver_parse(s) : -1;
        if (meth < 0) {
            show(s, len, shown, sizeof shown);
            fail(c, "solver.method", "unknown solver method '%s'%s", shown,
                 *ss_suggest(shown, solver_list, list_len(solver_list), sug, sizeof sug) ? sug
                 : " (expected rk8pd, rkf45, rkck, rk2, msadams, euler or rk4)");
        }
        so->method = (ss_solver_method)meth;
    }
    lua_pop(L, 1);
    opt_num(c, t, "rtol", "solver", R_GE0, &so->rtol);
    opt_num(c, t, "atol", "solver", R_GE0, &so->atol);
    opt_num(c, t, "h", "solver", R_GT0, &so->h);
    opt_num(c, t, "hmin", "solver", R_GE0, &so->hmin);
    if (opt_num(c, t, "max_steps", "solver", R_GE0, &x)) {
        if (x != floor(x) || x < 1 || x > 1e15)
            fail(c, "solver.max_steps", "must be a whole number >= 1, got %s", fmt_num(x, b, sizeof b));
        so->max_steps = (unsigned long)x;
    }
    lua_pop(L, 1);
}

static void convert_segments(cv *c, int segs)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    size_t k, j;
    char base[64], pre[128], p[256], b1[40], b2[40];

    for (k = 0; k < m->nseg; k++) {
        ss_segment *s = &m->seg[k];
        int e, has_growth;
        const char *id;

        snprintf(base, sizeof base, "segments[%zu]", k + 1);
        lua_rawgeti(L, segs, (lua_Integer)k + 1);
        e = lua_gettop(L);
        if (lua_type(L, e) != LUA_TTABLE)
            fail(c, base, "expected a segment table {id = ..., size = ...}, got %s", sl_tname(L, e));
        if (rawfield(L, e, "id") == LUA_TNIL)
            fail(c, kpath(p, sizeof p, base, "id"), "missing (required)");
        id = id_at(c, -1, kpath(p, sizeof p, base, "id"), "segment");
        for (j = 0; j < k; j++)
            if (strcmp(m->seg[j].id, id) == 0)
                fail(c, p, "duplicate segment id '%s' (also segments[%zu])", id, j + 1);
        s->id = dup_str(L, id);
        lua_pop(L, 1);
        snprintf(pre, sizeof pre, "segments.%s", s->id);
        check_keys(c, e, seg_keys, pre);
        s->size = req_num(c, e, "size", pre, R_GT0);
        has_growth = rawfield(L, e, "growth") != LUA_TNIL;
        if (has_growth)
            sched_at(c, -1, kpath(p, sizeof p, pre, "growth"), R_ANY, &s->growth);
        lua_pop(L, 1);
        if (rawfield(L, e, "bass") != LUA_TNIL) {
            int bt = lua_gettop(L);
            kpath(p, sizeof p, pre, "bass");
            if (lua_type(L, bt) != LUA_TTABLE)
                fail(c, p, "expected a table {p = ..., q = ..., potential = ...}, got %s", sl_tname(L, bt));
            if (has_growth)
                fail(c, p, "growth and bass are exclusive: give one of them");
            check_keys(c, bt, bass_keys, p);
            s->has_bass = 1;
            s->bass_p = req_num(c, bt, "p", p, R_GT0);
            s->bass_q = req_num(c, bt, "q", p, R_GE0);
            s->bass_potential = req_num(c, bt, "potential", p, R_GT0);
            if (s->bass_potential < s->size)
                fail(c, kpath(p, sizeof p, pre, "bass.potential"), "must be >= size (%s), got %s",
                     fmt_num(s->size, b1, sizeof b1), fmt_num(s->bass_potential, b2, sizeof b2));
        }
        lua_pop(L, 1);
        opt_num(c, e, "tau", pre, R_GT0, &s->tau);
        opt_num(c, e, "beta_capability", pre, R_GE0, &s->beta_capability);
        opt_num(c, e, "beta_price", pre, R_GE0, &s->beta_price);
        opt_num(c, e, "beta_reliability", pre, R_GE0, &s->beta_reliability);
        opt_num(c, e, "learning", pre, R_GE0, &s->learning);
        opt_num(c, e, "efficiency", pre, R_GT0, &s->efficiency);
        opt_num(c, e, "depreciation", pre, R_GE0, &s->depreciation);
        lua_pop(L, 1);
    }
}

static void convert_providers(cv *c, int provs)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    size_t i, j;
    char base[64], pre[128], p[256];

    for (i = 0; i < m->nprov; i++) {
        ss_provider *v = &m->prov[i];
        const char *id;
        int e;

        snprintf(base, sizeof base, "providers[%zu]", i + 1);
        lua_rawgeti(L, provs, (lua_Integer)i + 1);
        e = lua_gettop(L);
        if (lua_type(L, e) != LUA_TTABLE)
            fail(c, base, "expected a provider table {id = ..., share = ...}, got %s", sl_tname(L, e));
        if (rawfield(L, e, "id") == LUA_TNIL)
            fail(c, kpath(p, sizeof p, base, "id"), "missing (required)");
        id = id_at(c, -1, kpath(p, sizeof p, base, "id"), "provider");
        for (j = 0; j < i; j++)
            if (strcmp(m->prov[j].id, id) == 0)
                fail(c, p, "duplicate provider id '%s' (also providers[%zu])", id, j + 1);
        v->id = dup_str(L, id);
        lua_pop(L, 1);
        snprintf(pre, sizeof pre, "providers.%s", v->id);
        check_keys(c, e, prov_keys, pre);
        perseg(c, e, "share", pre, R_GE0, PS_NUM, 0, v->share, NULL, NULL);
        perseg(c, e, "margin", pre, R_LT1, PS_NUM, 1, v->margin, NULL, NULL);
        perseg(c, e, "opex", pre, R_GE0, PS_NUM, 1, v->opex, NULL, NULL);
        opt_num(c, e, "fixed_cost", pre, R_ANY, &v->fixed_cost);
        if (rawfield(L, e, "reinvest") != LUA_TNIL)
            sched_at(c, -1, kpath(p, sizeof p, pre, "reinvest"), R_GE0, &v->reinvest);
        lua_pop(L, 1);
        if (perseg(c, e, "allocation", pre, R_GE0, PS_SCHED, 1, NULL, v->allocation, NULL))
            v->allocation_given = 1;
        perseg(c, e, "price", pre, R_GT0, PS_SCHED, 1, NULL, v->price, NULL);
        perseg(c, e, "participation", pre, R_CLOSED01, PS_SCHED, 1, NULL, v->participation, NULL);
        perseg(c, e, "lever", pre, R_GT0, PS_SCHED, 1, NULL, v->lever, NULL);
        opt_num(c, e, "reliability", pre, R_LOPEN01, &v->reliability);
        opt_num(c, e, "recovery", pre, R_GT0, &v->recovery);
        opt_num(c, e, "experience", pre, R_GE0, &v->experience);
        perseg(c, e, "capability", pre, R_GE0, PS_NUM, 0, v->capability, NULL, v->capability_given);
        perseg(c, e, "brand", pre, R_GE0, PS_NUM, 0, v->brand, NULL, v->brand_given);
        lua_pop(L, 1);
    }
}

/* The value of the string field `key` of table t as an index into the
 * model's providers (providers=1) or segments. */
static int ref_field(cv *c, int t, const char *key, const char *base, int providers)
{
    lua_State *L = c->L;
    char p[256], shown[80], sug[96];
    size_t len;
    const char *s;
    int idx;
    kpath(p, sizeof p, base, key);
    if (rawfield(L, t, key) == LUA_TNIL)
        fail(c, p, "missing (required)");
    if (lua_type(L, -1) != LUA_TSTRING)
        fail(c, p, "expected a %s id (string), got %s", providers ? "provider" : "segment", sl_tname(L, -1));
    s = lua_tolstring(L, -1, &len);
    idx = strlen(s) != len ? -1 : providers ? ss_model_provider_index(c->m, s) : seg_index(c->m, s, len);
    if (idx < 0) {
        show(s, len, shown, sizeof shown);
        fail(c, p, "unknown %s '%s'%s", providers ? "provider" : "segment", shown,
             suggest_id(c->m, providers, shown, sug, sizeof sug));
    }
    lua_pop(L, 1);
    return idx;
}

static int field_range(ss_field f)
{
    switch (f) {
    case SS_FIELD_REINVEST:
    case SS_FIELD_ALLOCATION: return R_GE0;
    case SS_FIELD_PARTICIPATION: return R_CLOSED01;
    default: return R_GT0;
    }
}

static void convert_event(cv *c, int e, size_t n, int line)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    ss_event ev;
    ss_err err;
    char base[64], p[256], shown[80], sug[96], b1[40], b2[40], b3[40];
    const char *kind;
    size_t len, k;

    memset(&ev, 0, sizeof ev);
    charge(c, (double)sizeof ev + (double)m->nseg * (sizeof(double) + 1));
    ev.provider = ev.segment = -1;
    ev.line = line;
    snprintf(base, sizeof base, "events[%zu]", n);
    if (lua_type(L, e) != LUA_TTABLE)
        fail(c, base, "expected an event table {t = ..., kind = ...}, got %s", sl_tname(L, e));
    kpath(p, sizeof p, base, "kind");
    if (rawfield(L, e, "kind") == LUA_TNIL)
        fail(c, p, "missing (required): \"outage\", \"set\" or \"market\"");
    if (lua_type(L, -1) != LUA_TSTRING)
        fail(c, p, "expected a string, got %s", sl_tname(L, -1));
    kind = lua_tolstring(L, -1, &len);
    if (!in_list(ev_kinds, kind, len)) {
        show(kind, len, shown, sizeof shown);
        fail(c, p, "unknown event kind '%s'%s", shown,
             *ss_suggest(shown, ev_kinds, list_len(ev_kinds), sug, sizeof sug) ? sug
             : " (expected outage, set or market)");
    }
    ev.kind = kind[0] == 'o' ? SS_EV_OUTAGE : kind[0] == 's' ? SS_EV_SET : SS_EV_MARKET;
    lua_pop(L, 1);
    check_keys(c, e, ev.kind == SS_EV_OUTAGE ? ev_outage_keys
                     : ev.kind == SS_EV_SET ? ev_set_keys : ev_market_keys, base);
    ev.t = req_num(c, e, "t", base, R_ANY);
    if (ev.t < m->t0 || ev.t > m->t1)
        fail(c, kpath(p, sizeof p, base, "t"), "time %s is outside the scenario's time range "
             "[%s, %s]", fmt_num(ev.t, b1, sizeof b1), fmt_num(m->t0, b2, sizeof b2),
             fmt_num(m->t1, b3, sizeof b3));
    switch (ev.kind) {
    case SS_EV_OUTAGE:
        ev.provider = ref_field(c, e, "provider", base, 1);
        ev.amount = req_num(c, e, "severity", base, R_OPEN01);
        break;
    case SS_EV_MARKET:
        ev.segment = ref_field(c, e, "segment", base, 0);
        ev.amount = req_num(c, e, "factor", base, R_GT0);
        break;
    case SS_EV_SET: {
        const char *fs;
        int f, r, v;
        ev.provider = ref_field(c, e, "provider", base, 1);
        kpath(p, sizeof p, base, "field");
        if (rawfield(L, e, "field") == LUA_TNIL)
            fail(c, p, "missing (required): reinvest, allocation, price, participation or lever");
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(c, p, "expected a string, got %s", sl_tname(L, -1));
        fs = lua_tolstring(L, -1, &len);
        f = strlen(fs) == len ? ss_field_parse(fs) : -1;
        if (f < 0) {
            show(fs, len, shown, sizeof shown);
            fail(c, p, "unknown field '%s'%s", shown,
                 *ss_suggest(shown, field_list, list_len(field_list), sug, sizeof sug) ? sug
                 : " (expected reinvest, allocation, price, participation or lever)");
        }
        lua_pop(L, 1);
        ev.field = (ss_field)f;
        r = field_range(ev.field);
        kpath(p, sizeof p, base, "value");
        if (rawfield(L, e, "value") == LUA_TNIL)
            fail(c, p, "missing (required)");
        v = lua_gettop(L);
        if (ev.field == SS_FIELD_REINVEST) {
            if (lua_type(L, v) != LUA_TNUMBER)
                fail(c, p, "expected a number for field 'reinvest', got %s", sl_tname(L, v));
            ev.amount = num_at(c, v, p, r);
        } else {
            /* temporaries in Lua memory: nothing to free if we raise */
            ev.values = lua_newuserdatauv(L, m->nseg * sizeof *ev.values, 0);
            ev.mask = lua_newuserdatauv(L, m->nseg, 0);
            memset(ev.mask, 0, m->nseg);
            if (lua_type(L, v) == LUA_TNUMBER) {
                double x = num_at(c, v, p, r);
                for (k = 0; k < m->nseg; k++) {
                    ev.values[k] = x;
                    ev.mask[k] = 1;
                }
            } else if (lua_type(L, v) == LUA_TTABLE) {
                check_seg_keys(c, v, p);
                for (k = 0; k < m->nseg; k++) {
                    char q[256];
                    if (rawfield(L, v, m->seg[k].id) != LUA_TNIL) {
                        ev.values[k] = num_at(c, -1, kpath(q, sizeof q, p, m->seg[k].id), r);
                        ev.mask[k] = 1;
                    }
                    lua_pop(L, 1);
                }
            } else {
                fail(c, p, "expected a number or a table keyed by segment id, got %s", sl_tname(L, v));
            }
        }
        ss_err_clear(&err);
        if (ss_model_add_event(m, &ev, &err) != SS_OK)
            nomem(L);
        lua_settop(L, v - 1);
        return;
    }
    }
    ss_err_clear(&err);
    if (ss_model_add_event(m, &ev, &err) != SS_OK)
        nomem(L);
}

static void convert_events(cv *c, int spec)
{
    lua_State *L = c->L;
    size_t n, i;
    int evs;
    if (rawfield(L, spec, "events") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    evs = lua_gettop(L);
    n = array_len(c, evs, "events", "event tables");
    lua_getfield(L, c->meta, "events");
    for (i = 1; i <= n; i++) {
        int line = 0;
        if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TTABLE) {
            lua_getfield(L, -1, "line");
            line = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        lua_rawgeti(L, evs, (lua_Integer)i);
        convert_event(c, lua_gettop(L), i, line);
        lua_pop(L, 1);
    }
    lua_settop(L, evs - 1);
}

/* policy, outputs and the analysis tables: type-checked, kept as Lua values. */
static void check_extras(cv *c, int spec)
{
    lua_State *L = c->L;
    static const char *const tables[] = {"uncertainty", "outages", "calibrate", "optimize", "checks", NULL};
    char p[256], shown[80];
    int i;

    if (rawfield(L, spec, "policy") != LUA_TNIL && lua_type(L, -1) != LUA_TFUNCTION)
        fail(c, "policy", "expected a function, got %s", sl_tname(L, -1));
    lua_pop(L, 1);
    if (rawfield(L, spec, "outputs") != LUA_TNIL) {
        int t = lua_gettop(L);
        if (lua_type(L, t) != LUA_TTABLE)
            fail(c, "outputs", "expected a table of name = function, got %s", sl_tname(L, t));
        lua_pushnil(L);
        while (lua_next(L, t)) {
            size_t len;
            const char *k;
            if (lua_type(L, -2) != LUA_TSTRING)
                fail(c, "outputs", "expected a table of name = function (found a non-string key)");
            k = lua_tolstring(L, -2, &len);
            if (!valid_id(k, len))
                fail(c, kpath(p, sizeof p, "outputs", show(k, len, shown, sizeof shown)),
                     "invalid output name (names match [A-Za-z_][A-Za-z0-9_-]*)");
            if (ss_metric_ps_parse(k) >= 0 || ss_metric_p_parse(k) >= 0 || ss_metric_s_parse(k) >= 0)
                fail(c, kpath(p, sizeof p, "outputs", k),
                     "'%s' is the name of a built-in metric (choose another name)", k);
            if (lua_type(L, -1) != LUA_TFUNCTION)
                fail(c, kpath(p, sizeof p, "outputs", show(k, len, shown, sizeof shown)),
                     "expected a function, got %s", sl_tname(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    for (i = 0; tables[i]; i++) {
        if (rawfield(L, spec, tables[i]) != LUA_TNIL && lua_type(L, -1) != LUA_TTABLE)
            fail(c, tables[i], "expected a table, got %s", sl_tname(L, -1));
        lua_pop(L, 1);
    }
    {   /* user stocks and links (l_stocks.c) */
        char epath[300], emsg[512];
        if (sl_ext_check(L, spec, c->m, epath, sizeof epath, emsg, sizeof emsg) != 0)
            fail(c, epath, "%s", emsg);
    }
}

/* Validate the spec (user value 1 of the Scenario at ud) and build its
 * model into the userdata. */
static void convert(cv *c, int ud)
{
    lua_State *L = c->L;
    scen_ud *u = lua_touserdata(L, ud);
    size_t nseg, nprov;
    int spec, segs, provs;

    luaL_checkstack(L, 20, NULL);
    lua_getiuservalue(L, ud, UV_SPEC);
    spec = lua_gettop(L);
    check_keys(c, spec, top_keys, "");
    if (rawfield(L, spec, "segments") == LUA_TNIL)
        fail(c, "segments", "missing (required): segments = {{id = ..., size = ...}, ...}");
    segs = lua_gettop(L);
    nseg = array_len(c, segs, "segments", "segment tables {id = ..., size = ...}");
    if (nseg == 0)
        fail(c, "segments", "at least one segment is required");
    if (rawfield(L, spec, "providers") == LUA_TNIL)
        fail(c, "providers", "missing (required): providers = {{id = ..., share = {...}}, ...}");
    provs = lua_gettop(L);
    nprov = array_len(c, provs, "providers", "provider tables {id = ..., share = ...}");
    if (nprov == 0)
        fail(c, "providers", "at least one provider is required");
    /* the model's C memory counts against the budget */
    charge(c, (double)sizeof(ss_model) + (double)nseg * (sizeof(ss_segment) + MAX_ID_LEN + 1) +
              (double)nprov * (sizeof(ss_provider) + MAX_ID_LEN + 1 +
                               (double)nseg * (6 * sizeof(double) + 2 + 4 * sizeof(ss_schedule))) +
              MAX_NAME_LEN + 1);
    u->m = c->m = ss_model_new(nseg, nprov);
    if (!c->m)
        nomem(L);

    if (rawfield(L, spec, "name") != LUA_TNIL) {
        size_t len;
        const char *s;
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(c, "name", "expected a string, got %s", sl_tname(L, -1));
        s = lua_tolstring(L, -1, &len);
        if (len == 0 || strlen(s) != len || len > MAX_NAME_LEN)
            fail(c, "name", "must be a non-empty string of at most %d bytes without NUL", MAX_NAME_LEN);
        {
            const char *why = "";
            size_t at = unsafe_text(s, len, &why);
            char shown[80];
            if (at)
                fail(c, "name", "\"%s\" contains %s (byte %zu): names must be UTF-8 "
                     "text without control characters", show_escaped(s, len, shown, sizeof shown),
                     why, at);
        }
        free(c->m->name);
        c->m->name = NULL;
        c->m->name = dup_str(L, s);
    }
    lua_pop(L, 1);
    if (rawfield(L, spec, "description") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
        fail(c, "description", "expected a string, got %s", sl_tname(L, -1));
    lua_pop(L, 1);
    convert_time(c, spec);
    opt_num(c, spec, "discount_rate", "", R_GE0, &c->m->discount_rate);
    convert_solver(c, spec);
    convert_segments(c, segs);
    convert_providers(c, provs);
    convert_events(c, spec);
    check_extras(c, spec);
    lua_settop(L, spec - 1);
}

/* --------------------------------------------------------- construction */

/* Copy a value, recursing into plain tables (no metatable) `depth` levels;
 * anything else is shared (schedules and functions are immutable). */
static void dcopy(lua_State *L, int idx, int depth)
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
        dcopy(L, -2, depth - 1);
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
        int byref = k && in_list(byref_keys, k, len);
        lua_pushvalue(L, -2);
        if (byref)
            lua_pushvalue(L, -2);
        else
            dcopy(L, -2, 3);
        lua_rawset(L, -5);
        lua_pop(L, 1);
    }
}

/* Push {src, name, line} for the nearest Lua caller. */
static void push_origin(lua_State *L)
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
static void map_new_events(lua_State *L, int map, int origin, size_t n)
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
        push_source_text(L, lua_tostring(L, -1));
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            if (sl_charge_work(L, len) != 0)
                sl_raise(L, SS_ELIMIT, "instruction limit exceeded");
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

/* Create the Scenario from spec and meta (absolute indices), validate and
 * convert it, check it resolves; leaves it on the stack. */
/*
 * The Scenario of spec/meta on the stack top. A variant (`base` non-NULL,
 * the model of the scenario it derives from) is rebased on it: its decision
 * inputs that differ from base's become interventions and it starts from
 * base's initial state (docs/model.md §6).
 */
static void build(lua_State *L, int spec, int meta, const ss_model *base)
{
    scen_ud *u;
    ss_model *cp;
    ss_err e;
    cv c;
    int ud, rc;

    u = lua_newuserdatauv(L, sizeof *u, 2);
    u->m = NULL;
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
    convert(&c, ud);
    if (base) {
        ss_err_clear(&e);
        if (ss_model_rebase(u->m, base, &e) != SS_OK)
            nomem(L);
    }

    /* the core's cross-checks (share sums, attractiveness...) on a copy:
     * --set overrides are applied to the unresolved model later */
    if (sl_charge(L, u->charged) != 0)
        sl_raise(L, SS_ELIMIT, "scenario exceeded the memory budget");
    cp = ss_model_copy(u->m);
    if (!cp) {
        sl_uncharge(L, u->charged);
        nomem(L);
    }
    ss_err_clear(&e);
    rc = ss_model_resolve(cp, &e);
    ss_model_free(cp);
    sl_uncharge(L, u->charged);
    if (rc != SS_OK) {
        char out[1024];
        if (rc == SS_ENOMEM)
            nomem(L);
        format_at(L, meta, e.path, e.msg, out, sizeof out, 0);
        sl_raise(L, rc, "%s", out);
    }
}

/* stratsim.scenario{...}: a validated Scenario. */
static int l_scenario_new(lua_State *L)
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
    push_origin(L);                        /* 5: origin */
    lua_pushvalue(L, -1);
    lua_rawseti(L, 4, 1);
    lua_createtable(L, 0, 0);              /* 6: event map */
    if (rawfield(L, 2, "events") == LUA_TTABLE)
        map_new_events(L, 6, 5, lua_rawlen(L, -1));
    lua_pop(L, 1);
    lua_setfield(L, 3, "events");
    lua_pop(L, 1);
    lua_setfield(L, 3, "origins");
    build(L, 2, 3, NULL);
    return 1;
}

/* ------------------------------------------------------------ :with */

/* For key `key` (time, solver) merge t[key] into spec[key] key-wise. */
static void merge_kv(lua_State *L, int spec, int t, const char *key)
{
    int ov, bv;
    if (rawfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    ov = lua_gettop(L);
    rawfield(L, spec, key);
    bv = lua_gettop(L);
    lua_pushstring(L, key);
    if (lua_type(L, ov) == LUA_TBOOLEAN && !lua_toboolean(L, ov)) {
        lua_pushnil(L);
    } else if (lua_type(L, ov) == LUA_TTABLE && lua_type(L, bv) == LUA_TTABLE) {
        dcopy(L, bv, 1);
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
        dcopy(L, ov, 3);
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
        dcopy(L, bv, 1);
    } else {
        lua_newtable(L);
        if (!lua_isnil(L, bv) && lua_type(L, segs) == LUA_TTABLE) {
            n = lua_rawlen(L, segs);
            for (k = 1; k <= n; k++) {
                int seg;
                lua_rawgeti(L, segs, (lua_Integer)k);
                seg = lua_gettop(L);
                if (lua_type(L, seg) == LUA_TTABLE && rawfield(L, seg, "id") == LUA_TSTRING) {
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
    dcopy(L, be, 1);
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
                   ((is_prov && in_list(perseg_keys, k, len)) ||
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
                    dcopy(L, v, 1);
                }
            }
            lua_remove(L, -2);
        } else {
            dcopy(L, v, 2);
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

    if (rawfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    ov = lua_gettop(L);
    if (lua_type(L, ov) != LUA_TTABLE)
        fail(c, key, "expected an array of entries with ids or a table keyed by id, got %s",
             sl_tname(L, ov));
    luaL_checkstack(L, 12, NULL);
    lua_newtable(L);
    res = lua_gettop(L);
    lua_newtable(L);
    idmap = lua_gettop(L);
    lua_newtable(L);
    seen = lua_gettop(L);
    rawfield(L, spec, key);
    n = lua_type(L, -1) == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
    for (i = 1; i <= n; i++) {
        int be;
        lua_rawgeti(L, -1, (lua_Integer)i);
        be = lua_gettop(L);
        if (lua_type(L, be) == LUA_TTABLE && rawfield(L, be, "id") == LUA_TSTRING) {
            lua_pushinteger(L, (lua_Integer)i);
            lua_rawset(L, idmap); /* idmap[id] = i */
        }
        lua_settop(L, be);
        lua_rawseti(L, res, (lua_Integer)i);
    }
    lua_pop(L, 1);
    if (is_prov)
        rawfield(L, spec, "segments");
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
            fail(c, key, "expected an array of entries with ids or a table keyed by id "
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
            rawfield(L, ov, keys[i - on].key);
        }
        e = lua_gettop(L);
        if (lua_type(L, e) != LUA_TTABLE)
            fail(c, p, "expected an entry table, got %s", sl_tname(L, e));
        if (rawfield(L, e, "id") == LUA_TNIL) {
            char q[256];
            if (i < on)
                fail(c, kpath(q, sizeof q, p, "id"), "missing (required to match or add an entry)");
            lua_pop(L, 1);
            lua_pushstring(L, keys[i - on].key);
        }
        {
            char q[256];
            id = id_at(c, -1, kpath(q, sizeof q, p, "id"), is_prov ? "provider" : "segment");
        }
        len = strlen(id);
        if (i >= on && strcmp(id, keys[i - on].key) != 0)
            fail(c, p, "id '%s' does not match its key '%s'", id, keys[i - on].key);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) != LUA_TNIL)
            fail(c, p, "%s '%s' is given twice", is_prov ? "provider" : "segment",
                 show(id, len, shown, sizeof shown));
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
            dcopy(L, e, 2);
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
static int l_scenario_with(lua_State *L)
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
    push_origin(L);
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
    check_keys(&c, t, with_keys, "");
    if (rawfield(L, t, "replace_events") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            fail(&c, "replace_events", "expected a boolean, got %s", sl_tname(L, -1));
        replace = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);

    dcopy(L, 3, 1);                             /* 7 new spec */
    spec = 7;
    {
        static const char *const plain[] = {
            "name", "description", "discount_rate", "policy", "outputs", "uncertainty",
            "outages", "calibrate", "optimize", "checks", "stocks", "links", NULL
        };
        for (i = 0; plain[i]; i++) {
            if (rawfield(L, t, plain[i]) != LUA_TNIL) {
                int v = lua_gettop(L);
                lua_pushstring(L, plain[i]);
                if (is_false(L, v))
                    lua_pushnil(L);
                else if (in_list(byref_keys, plain[i], strlen(plain[i])))
                    lua_pushvalue(L, v);
                else
                    dcopy(L, v, 3);
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
    if (rawfield(L, t, "events") != LUA_TNIL) {
        int ne = lua_gettop(L);
        nnew = array_len(&c, ne, "events", "event tables");
    }
    lua_pop(L, 1);
    lua_pushliteral(L, "events");
    lua_createtable(L, 0, 0);                   /* the merged events array */
    {
        int arr = lua_gettop(L);
        size_t at = 0;
        if (!replace && rawfield(L, 3, "events") == LUA_TTABLE) {
            size_t nbase = lua_rawlen(L, -1);
            /* stack: ..., arr, base events */
            lua_getfield(L, 4, "events");
            for (i = 1; i <= nbase; i++) {
                lua_rawgeti(L, -2, (lua_Integer)i);
                lua_rawseti(L, arr, (lua_Integer)++at);
                if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TTABLE) {
                    dcopy(L, -1, 1);
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
            rawfield(L, t, "events");
            for (i = 1; i <= nnew; i++) {
                lua_rawgeti(L, -1, (lua_Integer)i);
                dcopy(L, -1, 2);
                lua_rawseti(L, arr, (lua_Integer)(at + i));
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
            lua_rawgeti(L, origins, 1);
            map_new_events(L, evmap, lua_gettop(L), nnew);
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
    build(L, spec, meta, ((scen_ud *)lua_touserdata(L, 1))->m);
    return 1;
}

/* ------------------------------------------------------- metamethods */

static int l_scenario_gc(lua_State *L)
{
    scen_ud *u = luaL_checkudata(L, 1, SL_SCENARIO);
    ss_model_free(u->m);
    u->m = NULL;
    sl_uncharge(L, u->charged);
    u->charged = 0;
    return 0;
}

/* "stratsim.Scenario 'name': time 2021.75..2028 step 0.25; 2 segments
 * (public, private); 2 providers (alibaba, others)" */
static int l_scenario_tostring(lua_State *L)
{
    scen_ud *u = luaL_checkudata(L, 1, SL_SCENARIO);
    const ss_model *m = u->m;
    luaL_Buffer b;
    size_t i;
    if (!m) {
        lua_pushliteral(L, "stratsim.Scenario (invalid)");
        return 1;
    }
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "stratsim.Scenario '%s': time %f..%f step %f; %d segment%s (", m->name,
                    (lua_Number)m->t0, (lua_Number)m->t1, (lua_Number)m->step, (int)m->nseg,
                    m->nseg == 1 ? "" : "s");
    luaL_addvalue(&b);
    for (i = 0; i < m->nseg && i < 10; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, m->seg[i].id);
    }
    if (m->nseg > 10)
        luaL_addstring(&b, ", ...");
    lua_pushfstring(L, "); %d provider%s (", (int)m->nprov, m->nprov == 1 ? "" : "s");
    luaL_addvalue(&b);
    for (i = 0; i < m->nprov && i < 10; i++) {
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, m->prov[i].id);
    }
    if (m->nprov > 10)
        luaL_addstring(&b, ", ...");
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
        lua_pushcfunction(L, l_scenario_with);
        return 1;
    }
    if (k && strcmp(k, "run") == 0) {
        lua_pushcfunction(L, sl_scenario_run);
        return 1;
    }
    lua_getiuservalue(L, 1, UV_SPEC);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (k && !in_list(byref_keys, k, len))
        dcopy(L, -1, 3);
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

int sl_scenario_push_field(lua_State *L, int idx, const char *key)
{
    int t;
    idx = lua_absindex(L, idx);
    if (!luaL_testudata(L, idx, SL_SCENARIO)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    lua_getiuservalue(L, idx, UV_SPEC);
    t = rawfield(L, lua_gettop(L), key);
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

int sl_open(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", l_scenario_gc},
        {"__tostring", l_scenario_tostring},
        {"__index", l_scenario_index},
        {"__newindex", l_scenario_newindex},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {
        {"scenario", l_scenario_new},
        {NULL, NULL}
    };
    if (luaL_newmetatable(L, SL_SCENARIO)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, SL_SCENARIO);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    sl_open_schedule(L);
    lua_pushstring(L, ss_version());
    lua_setfield(L, -2, "version");
    sl_open_policy(L);
    sl_open_results(L);
    sl_open_docs(L);
    sl_open_analysis(L); /* distributions, Scenario:montecarlo/... (l_analysis.c) */
    return 1;
}
