/*
 * convert.c - validation and conversion of a scenario table into an
 * ss_model: every key, type, range and id of docs/scenarios.md (the key
 * lists below), schedules and per-segment values, events, the `policy`,
 * `outputs` and analysis tables (type-checked, kept as Lua values), user
 * stocks and links (sl_ext_check).
 *
 * Ownership: the model is allocated into the Scenario userdata being built
 * (cv.u, freed by its __gc) and its C memory is charged to the state's
 * budget before it is allocated, so an error raised half-way leaks
 * nothing; temporary arrays are Lua userdata. A bad value is raised by
 * ls_fail as "FILE:LINE: KEY.PATH: message" (errors.c).
 * Depends on ls_internal.h (helpers.c, errors.c), sl_internal.h
 * (sl_toschedule, sl_ext_check, budgets) and the core's model
 * (stratsim/model.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "lua/scenario/ls_internal.h"

#define MAX_NAME_LEN 255

static const char *const top_keys[] = {
    "name", "description", "time", "discount_rate", "solver", "segments", "providers",
    "events", "policy", "outputs", "uncertainty", "outages", "calibrate", "optimize",
    "checks", "stocks", "links", NULL
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
        ls_nomem(L);
    memcpy(d, s, n);
    return d;
}

/* ------------------------------------------------------- value checks */

/* Report unknown keys of the table at t (the smallest, for determinism)
 * and non-string keys. */
void ls_check_keys(cv *c, int t, const char *const *allowed, const char *path)
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
            if (!ls_in_list(allowed, k, len) && (!bad || strcmp(k, bad) < 0)) {
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
        ls_fail(c, path, "unexpected array item [%lld] (expected name = value fields)", (long long)badint);
    if (other)
        ls_fail(c, path, "unexpected non-string key (expected name = value fields)");
    if (bad) {
        ls_show(bad, badlen, shown, sizeof shown);
        ls_fail(c, ls_kpath(p, sizeof p, path, shown), "unknown key '%s'%s", shown,
                ss_suggest(shown, allowed, ls_list_len(allowed), sug, sizeof sug));
    }
}

/* Length of the array at t; anything but keys 1..n is an error. */
size_t ls_array_len(cv *c, int t, const char *path, const char *what)
{
    lua_State *L = c->L;
    size_t n, count = 0;
    char shown[80];

    if (lua_type(L, t) != LUA_TTABLE)
        ls_fail(c, path, "expected an array of %s, got %s", what, sl_tname(L, t));
    n = lua_rawlen(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        count++;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (size_t)lua_tointeger(L, -1) > n) {
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t len;
                const char *k = lua_tolstring(L, -1, &len);
                ls_fail(c, path, "expected an array of %s, found key '%s'", what,
                        ls_show(k, len, shown, sizeof shown));
            }
            ls_fail(c, path, "expected an array of %s (found a non-array key)", what);
        }
    }
    if (count != n)
        ls_fail(c, path, "expected an array of %s without holes", what);
    return n;
}

static double num_at(cv *c, int idx, const char *path, int range)
{
    lua_State *L = c->L;
    char b[40];
    double x;
    if (lua_type(L, idx) != LUA_TNUMBER)
        ls_fail(c, path, "expected a number, got %s", sl_tname(L, idx));
    x = lua_tonumber(L, idx);
    if (!isfinite(x))
        ls_fail(c, path, "must be finite, got %s", ls_fmt_num(x, b, sizeof b));
    if (!in_range(x, range))
        ls_fail(c, path, "must be %s, got %s", range_text[range], ls_fmt_num(x, b, sizeof b));
    return x;
}

/* Optional number field: returns 1 and stores it if present. */
static int opt_num(cv *c, int t, const char *key, const char *prefix, int range, double *out)
{
    char p[256];
    if (ls_rawfield(c->L, t, key) == LUA_TNIL) {
        lua_pop(c->L, 1);
        return 0;
    }
    *out = num_at(c, -1, ls_kpath(p, sizeof p, prefix, key), range);
    lua_pop(c->L, 1);
    return 1;
}

static double req_num(cv *c, int t, const char *key, const char *prefix, int range)
{
    char p[256];
    double x = 0;
    if (!opt_num(c, t, key, prefix, range, &x))
        ls_fail(c, ls_kpath(p, sizeof p, prefix, key), "missing (required)");
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
                ls_fail(c, path, "must be %s, got %s at knot %zu (t = %.15g)", range_text[range],
                        ls_fmt_num(s.v[i], b, sizeof b), i + 1, s.t[i]);
        charge(c, 2.0 * (double)s.n * sizeof(double));
        ss_err_clear(&e);
        if (ss_schedule_set_knots(out, (ss_sched_kind)s.kind, s.n, s.t, s.v, path, &e) != SS_OK) {
            if (e.code == SS_ENOMEM)
                ls_nomem(L);
            ls_fail(c, path, "%s", e.msg);
        }
        return;
    }
    ls_fail(c, path, "expected a number or a schedule (stratsim.steps/stratsim.linear), got %s",
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
        ls_fail(c, path, "expected a table keyed by segment id (found a non-string key)");
    if (bad) {
        ls_show(bad, badlen, shown, sizeof shown);
        ls_fail(c, ls_kpath(p, sizeof p, path, shown), "unknown segment '%s'%s", shown,
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

    ls_kpath(path, sizeof path, prefix, key);
    ty = ls_rawfield(L, t, key);
    idx = lua_gettop(L);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (ty == LUA_TTABLE) {
        check_seg_keys(c, idx, path);
        for (k = 0; k < m->nseg; k++) {
            if (ls_rawfield(L, idx, m->seg[k].id) != LUA_TNIL) {
                ls_kpath(p, sizeof p, path, m->seg[k].id);
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
        ls_fail(c, path, "expected a table keyed by segment id, got %s", sl_tname(L, idx));
    } else if (kind == PS_NUM) {
        ls_fail(c, path, "expected a number or a table keyed by segment id, got %s", sl_tname(L, idx));
    } else {
        ls_fail(c, path, "expected a number, a schedule or a table keyed by segment id, got %s",
                sl_tname(L, idx));
    }
    lua_pop(L, 1);
    return 1;
}

int sl_valid_id(const char *s, size_t len)
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
const char *ls_id_at(cv *c, int idx, const char *path, const char *what)
{
    lua_State *L = c->L;
    size_t len;
    const char *s;
    char shown[80];
    if (lua_type(L, idx) != LUA_TSTRING)
        ls_fail(c, path, "expected a string (the %s id), got %s", what, sl_tname(L, idx));
    s = lua_tolstring(L, idx, &len);
    if (!sl_valid_id(s, len))
        ls_fail(c, path, "invalid %s id '%s' (ids match [A-Za-z_][A-Za-z0-9_-]*)", what,
                ls_show(s, len, shown, sizeof shown));
    if (len > SL_MAX_ID_LEN)
        ls_fail(c, path, "%s id '%s' is longer than %d characters", what,
                ls_show(s, len, shown, sizeof shown), SL_MAX_ID_LEN);
    return s;
}

/* ------------------------------------------------------ the conversion */

static void convert_time(cv *c, int spec)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    char b1[40], b2[40], b3[40];
    int t;
    if (ls_rawfield(L, spec, "time") == LUA_TNIL)
        ls_fail(c, "time", "missing (required): time = {start = ..., stop = ..., step = ...}");
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        ls_fail(c, "time", "expected a table {start = ..., stop = ..., step = ...}, got %s", sl_tname(L, t));
    ls_check_keys(c, t, time_keys, "time");
    m->t0 = req_num(c, t, "start", "time", R_ANY);
    m->t1 = req_num(c, t, "stop", "time", R_ANY);
    m->step = req_num(c, t, "step", "time", R_GT0);
    if (m->t1 < m->t0)
        ls_fail(c, "time.stop", "must be >= time.start (%s), got %s", ls_fmt_num(m->t0, b1, sizeof b1),
                ls_fmt_num(m->t1, b2, sizeof b2));
    m->epoch = 0.0; /* 0: the core uses the output step */
    opt_num(c, t, "epoch", "time", R_GT0, &m->epoch);
    /* interventions apply from time.policy (default: the start) */
    m->policy_given = (unsigned char)opt_num(c, t, "policy", "time", R_ANY, &m->policy);
    if (m->policy_given && (m->policy < m->t0 || m->policy > m->t1))
        ls_fail(c, "time.policy", "must be inside [time.start, time.stop] = [%s, %s], got %s",
                ls_fmt_num(m->t0, b1, sizeof b1), ls_fmt_num(m->t1, b2, sizeof b2), ls_fmt_num(m->policy, b3, sizeof b3));
    lua_pop(L, 1);
}

static void convert_solver(cv *c, int spec)
{
    lua_State *L = c->L;
    ss_solver *so = &c->m->solver;
    char shown[80], sug[96], b[40];
    double x;
    int t;
    if (ls_rawfield(L, spec, "solver") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE)
        ls_fail(c, "solver", "expected a table {method = ..., rtol = ...}, got %s", sl_tname(L, t));
    ls_check_keys(c, t, solver_keys, "solver");
    if (ls_rawfield(L, t, "method") != LUA_TNIL) {
        size_t len;
        const char *s;
        int meth;
        if (lua_type(L, -1) != LUA_TSTRING)
            ls_fail(c, "solver.method", "expected a string, got %s", sl_tname(L, -1));
        s = lua_tolstring(L, -1, &len);
        meth = strlen(s) == len ? ss_solver_parse(s) : -1;
        if (meth < 0) {
            ls_show(s, len, shown, sizeof shown);
            ls_fail(c, "solver.method", "unknown solver method '%s'%s", shown,
                    *ss_suggest(shown, solver_list, ls_list_len(solver_list), sug, sizeof sug) ? sug
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
            ls_fail(c, "solver.max_steps", "must be a whole number >= 1, got %s", ls_fmt_num(x, b, sizeof b));
        so->max_steps = (unsigned long)x;
    }
    lua_pop(L, 1);
}

/* Push entry i of the providers (providers = 1) or segments list at index
 * `list`: a table with a valid id that no earlier entry has, copied into
 * *id_out. Returns the entry's stack index. */
static int list_entry(cv *c, int list, size_t i, int providers, char **id_out)
{
    lua_State *L = c->L;
    const char *lname = providers ? "providers" : "segments";
    const char *kind = providers ? "provider" : "segment";
    char base[64], p[256];
    const char *id;
    size_t j;
    int e;

    snprintf(base, sizeof base, "%s[%zu]", lname, i + 1);
    lua_rawgeti(L, list, (lua_Integer)i + 1);
    e = lua_gettop(L);
    if (lua_type(L, e) != LUA_TTABLE)
        ls_fail(c, base, "expected a %s table {id = ..., %s = ...}, got %s", kind,
                providers ? "share" : "size", sl_tname(L, e));
    if (ls_rawfield(L, e, "id") == LUA_TNIL)
        ls_fail(c, ls_kpath(p, sizeof p, base, "id"), "missing (required)");
    id = ls_id_at(c, -1, ls_kpath(p, sizeof p, base, "id"), kind);
    for (j = 0; j < i; j++)
        if (strcmp(providers ? c->m->prov[j].id : c->m->seg[j].id, id) == 0)
            ls_fail(c, p, "duplicate %s id '%s' (also %s[%zu])", kind, id, lname, j + 1);
    *id_out = dup_str(L, id);
    lua_pop(L, 1);
    return e;
}

static void convert_segments(cv *c, int segs)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    size_t k;
    char pre[128], p[256], b1[40], b2[40];

    for (k = 0; k < m->nseg; k++) {
        ss_segment *s = &m->seg[k];
        int e = list_entry(c, segs, k, 0, &s->id), has_growth;

        snprintf(pre, sizeof pre, "segments.%s", s->id);
        ls_check_keys(c, e, seg_keys, pre);
        s->size = req_num(c, e, "size", pre, R_GT0);
        has_growth = ls_rawfield(L, e, "growth") != LUA_TNIL;
        if (has_growth)
            sched_at(c, -1, ls_kpath(p, sizeof p, pre, "growth"), R_ANY, &s->growth);
        lua_pop(L, 1);
        if (ls_rawfield(L, e, "bass") != LUA_TNIL) {
            int bt = lua_gettop(L);
            ls_kpath(p, sizeof p, pre, "bass");
            if (lua_type(L, bt) != LUA_TTABLE)
                ls_fail(c, p, "expected a table {p = ..., q = ..., potential = ...}, got %s", sl_tname(L, bt));
            if (has_growth)
                ls_fail(c, p, "growth and bass are exclusive: give one of them");
            ls_check_keys(c, bt, bass_keys, p);
            s->has_bass = 1;
            s->bass_p = req_num(c, bt, "p", p, R_GT0);
            s->bass_q = req_num(c, bt, "q", p, R_GE0);
            s->bass_potential = req_num(c, bt, "potential", p, R_GT0);
            if (s->bass_potential < s->size)
                ls_fail(c, ls_kpath(p, sizeof p, pre, "bass.potential"), "must be >= size (%s), got %s",
                        ls_fmt_num(s->size, b1, sizeof b1), ls_fmt_num(s->bass_potential, b2, sizeof b2));
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
    size_t i;
    char pre[128], p[256];

    for (i = 0; i < m->nprov; i++) {
        ss_provider *v = &m->prov[i];
        int e = list_entry(c, provs, i, 1, &v->id);

        snprintf(pre, sizeof pre, "providers.%s", v->id);
        ls_check_keys(c, e, prov_keys, pre);
        perseg(c, e, "share", pre, R_GE0, PS_NUM, 0, v->share, NULL, NULL);
        perseg(c, e, "margin", pre, R_LT1, PS_NUM, 1, v->margin, NULL, NULL);
        perseg(c, e, "opex", pre, R_GE0, PS_NUM, 1, v->opex, NULL, NULL);
        opt_num(c, e, "fixed_cost", pre, R_ANY, &v->fixed_cost);
        if (ls_rawfield(L, e, "reinvest") != LUA_TNIL)
            sched_at(c, -1, ls_kpath(p, sizeof p, pre, "reinvest"), R_GE0, &v->reinvest);
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
    ls_kpath(p, sizeof p, base, key);
    if (ls_rawfield(L, t, key) == LUA_TNIL)
        ls_fail(c, p, "missing (required)");
    if (lua_type(L, -1) != LUA_TSTRING)
        ls_fail(c, p, "expected a %s id (string), got %s", providers ? "provider" : "segment", sl_tname(L, -1));
    s = lua_tolstring(L, -1, &len);
    idx = strlen(s) != len ? -1 : providers ? ss_model_provider_index(c->m, s) : seg_index(c->m, s, len);
    if (idx < 0) {
        ls_show(s, len, shown, sizeof shown);
        ls_fail(c, p, "unknown %s '%s'%s", providers ? "provider" : "segment", shown,
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

/* e[key] (path base.key): a string naming one of `list` (a `what`);
 * `missing` says what to give when it is absent, `expected` what is
 * expected when no close name is found. The string stays anchored in e. */
static const char *choice_at(cv *c, int e, const char *base, const char *key,
                             const char *const *list, const char *what, const char *missing,
                             const char *expected)
{
    lua_State *L = c->L;
    char p[256], shown[80], sug[96];
    const char *s;
    size_t len;
    ls_kpath(p, sizeof p, base, key);
    if (ls_rawfield(L, e, key) == LUA_TNIL)
        ls_fail(c, p, "missing (required): %s", missing);
    if (lua_type(L, -1) != LUA_TSTRING)
        ls_fail(c, p, "expected a string, got %s", sl_tname(L, -1));
    s = lua_tolstring(L, -1, &len);
    if (!ls_in_list(list, s, len)) {
        ls_show(s, len, shown, sizeof shown);
        ls_fail(c, p, "unknown %s '%s'%s", what, shown,
                *ss_suggest(shown, list, ls_list_len(list), sug, sizeof sug) ? sug : expected);
    }
    lua_pop(L, 1);
    return s;
}

/* events[n].kind of event e (at base): "outage", "set" or "market". */
static ss_event_kind event_kind(cv *c, int e, const char *base)
{
    const char *kind = choice_at(c, e, base, "kind", ev_kinds, "event kind",
                                 "\"outage\", \"set\" or \"market\"",
                                 " (expected outage, set or market)");
    return kind[0] == 'o' ? SS_EV_OUTAGE : kind[0] == 's' ? SS_EV_SET : SS_EV_MARKET;
}

/* A set event's field (at base). */
static ss_field set_field(cv *c, int e, const char *base)
{
    const char *fs = choice_at(c, e, base, "field", field_list, "field",
                               "reinvest, allocation, price, participation or lever",
                               " (expected reinvest, allocation, price, participation or lever)");
    return (ss_field)ss_field_parse(fs);
}

/* A set event's value (at v, path p) for a per-segment field: one number
 * for every segment or a table keyed by segment id; values and mask are
 * Lua userdata (nothing to free if this raises), left on the stack. */
static void set_values(cv *c, int v, const char *p, ss_event *ev)
{
    lua_State *L = c->L;
    const ss_model *m = c->m;
    int r = field_range(ev->field);
    size_t k;
    ev->values = lua_newuserdatauv(L, m->nseg * sizeof *ev->values, 0);
    ev->mask = lua_newuserdatauv(L, m->nseg, 0);
    memset(ev->mask, 0, m->nseg);
    if (lua_type(L, v) == LUA_TNUMBER) {
        double x = num_at(c, v, p, r);
        for (k = 0; k < m->nseg; k++) {
            ev->values[k] = x;
            ev->mask[k] = 1;
        }
    } else if (lua_type(L, v) == LUA_TTABLE) {
        check_seg_keys(c, v, p);
        for (k = 0; k < m->nseg; k++) {
            char q[256];
            if (ls_rawfield(L, v, m->seg[k].id) != LUA_TNIL) {
                ev->values[k] = num_at(c, -1, ls_kpath(q, sizeof q, p, m->seg[k].id), r);
                ev->mask[k] = 1;
            }
            lua_pop(L, 1);
        }
    } else {
        ls_fail(c, p, "expected a number or a table keyed by segment id, got %s", sl_tname(L, v));
    }
}

/* A set event (at base): provider, field and value, added to the model. */
static void set_event(cv *c, int e, const char *base, ss_event *ev)
{
    lua_State *L = c->L;
    char p[256];
    ss_err err;
    int v;
    ev->provider = ref_field(c, e, "provider", base, 1);
    ev->field = set_field(c, e, base);
    ls_kpath(p, sizeof p, base, "value");
    if (ls_rawfield(L, e, "value") == LUA_TNIL)
        ls_fail(c, p, "missing (required)");
    v = lua_gettop(L);
    if (ev->field == SS_FIELD_REINVEST) {
        if (lua_type(L, v) != LUA_TNUMBER)
            ls_fail(c, p, "expected a number for field 'reinvest', got %s", sl_tname(L, v));
        ev->amount = num_at(c, v, p, field_range(ev->field));
    } else {
        set_values(c, v, p, ev);
    }
    ss_err_clear(&err);
    if (ss_model_add_event(c->m, ev, &err) != SS_OK)
        ls_nomem(L);
    lua_settop(L, v - 1);
}

static void convert_event(cv *c, int e, size_t n, int line)
{
    lua_State *L = c->L;
    ss_model *m = c->m;
    ss_event ev;
    ss_err err;
    char base[64], p[256], b1[40], b2[40], b3[40];

    memset(&ev, 0, sizeof ev);
    charge(c, (double)sizeof ev + (double)m->nseg * (sizeof(double) + 1));
    ev.provider = ev.segment = -1;
    ev.line = line;
    snprintf(base, sizeof base, "events[%zu]", n);
    if (lua_type(L, e) != LUA_TTABLE)
        ls_fail(c, base, "expected an event table {t = ..., kind = ...}, got %s", sl_tname(L, e));
    ev.kind = event_kind(c, e, base);
    ls_check_keys(c, e, ev.kind == SS_EV_OUTAGE ? ev_outage_keys
                        : ev.kind == SS_EV_SET ? ev_set_keys : ev_market_keys, base);
    ev.t = req_num(c, e, "t", base, R_ANY);
    if (ev.t < m->t0 || ev.t > m->t1)
        ls_fail(c, ls_kpath(p, sizeof p, base, "t"), "time %s is outside the scenario's time range "
                "[%s, %s]", ls_fmt_num(ev.t, b1, sizeof b1), ls_fmt_num(m->t0, b2, sizeof b2),
                ls_fmt_num(m->t1, b3, sizeof b3));
    switch (ev.kind) {
    case SS_EV_OUTAGE:
        ev.provider = ref_field(c, e, "provider", base, 1);
        ev.amount = req_num(c, e, "severity", base, R_OPEN01);
        break;
    case SS_EV_MARKET:
        ev.segment = ref_field(c, e, "segment", base, 0);
        ev.amount = req_num(c, e, "factor", base, R_GT0);
        break;
    case SS_EV_SET:
        set_event(c, e, base, &ev);
        return;
    }
    ss_err_clear(&err);
    if (ss_model_add_event(m, &ev, &err) != SS_OK)
        ls_nomem(L);
}

static void convert_events(cv *c, int spec)
{
    lua_State *L = c->L;
    size_t n, i;
    int evs;
    if (ls_rawfield(L, spec, "events") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    evs = lua_gettop(L);
    n = ls_array_len(c, evs, "events", "event tables");
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

    if (ls_rawfield(L, spec, "policy") != LUA_TNIL && lua_type(L, -1) != LUA_TFUNCTION)
        ls_fail(c, "policy", "expected a function, got %s", sl_tname(L, -1));
    lua_pop(L, 1);
    if (ls_rawfield(L, spec, "outputs") != LUA_TNIL) {
        int t = lua_gettop(L);
        if (lua_type(L, t) != LUA_TTABLE)
            ls_fail(c, "outputs", "expected a table of name = function, got %s", sl_tname(L, t));
        lua_pushnil(L);
        while (lua_next(L, t)) {
            size_t len;
            const char *k;
            if (lua_type(L, -2) != LUA_TSTRING)
                ls_fail(c, "outputs", "expected a table of name = function (found a non-string key)");
            k = lua_tolstring(L, -2, &len);
            if (!sl_valid_id(k, len))
                ls_fail(c, ls_kpath(p, sizeof p, "outputs", ls_show(k, len, shown, sizeof shown)),
                        "invalid output name (names match [A-Za-z_][A-Za-z0-9_-]*)");
            if (ss_metric_ps_parse(k) >= 0 || ss_metric_p_parse(k) >= 0 || ss_metric_s_parse(k) >= 0)
                ls_fail(c, ls_kpath(p, sizeof p, "outputs", k),
                        "'%s' is the name of a built-in metric (choose another name)", k);
            if (lua_type(L, -1) != LUA_TFUNCTION)
                ls_fail(c, ls_kpath(p, sizeof p, "outputs", ls_show(k, len, shown, sizeof shown)),
                        "expected a function, got %s", sl_tname(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    for (i = 0; tables[i]; i++) {
        if (ls_rawfield(L, spec, tables[i]) != LUA_TNIL && lua_type(L, -1) != LUA_TTABLE)
            ls_fail(c, tables[i], "expected a table, got %s", sl_tname(L, -1));
        lua_pop(L, 1);
    }
    {   /* user stocks and links (l_stocks.c) */
        char epath[300], emsg[512];
        if (sl_ext_check(L, spec, c->m, epath, sizeof epath, emsg, sizeof emsg) != 0)
            ls_fail(c, epath, "%s", emsg);
    }
}

/* Validate the spec (user value 1 of the Scenario at ud) and build its
 * model into the userdata. */
void ls_convert(cv *c, int ud)
{
    lua_State *L = c->L;
    scen_ud *u = lua_touserdata(L, ud);
    size_t nseg, nprov;
    int spec, segs, provs;

    luaL_checkstack(L, 20, NULL);
    lua_getiuservalue(L, ud, UV_SPEC);
    spec = lua_gettop(L);
    ls_check_keys(c, spec, top_keys, "");
    if (ls_rawfield(L, spec, "segments") == LUA_TNIL)
        ls_fail(c, "segments", "missing (required): segments = {{id = ..., size = ...}, ...}");
    segs = lua_gettop(L);
    nseg = ls_array_len(c, segs, "segments", "segment tables {id = ..., size = ...}");
    if (nseg == 0)
        ls_fail(c, "segments", "at least one segment is required");
    if (ls_rawfield(L, spec, "providers") == LUA_TNIL)
        ls_fail(c, "providers", "missing (required): providers = {{id = ..., share = {...}}, ...}");
    provs = lua_gettop(L);
    nprov = ls_array_len(c, provs, "providers", "provider tables {id = ..., share = ...}");
    if (nprov == 0)
        ls_fail(c, "providers", "at least one provider is required");
    /* the model's C memory counts against the budget */
    charge(c, (double)sizeof(ss_model) + (double)nseg * (sizeof(ss_segment) + SL_MAX_ID_LEN + 1) +
              (double)nprov * (sizeof(ss_provider) + SL_MAX_ID_LEN + 1 +
                               (double)nseg * (6 * sizeof(double) + 2 + 4 * sizeof(ss_schedule))) +
              MAX_NAME_LEN + 1);
    u->m = c->m = ss_model_new(nseg, nprov);
    if (!c->m)
        ls_nomem(L);

    if (ls_rawfield(L, spec, "name") != LUA_TNIL) {
        size_t len;
        const char *s;
        if (lua_type(L, -1) != LUA_TSTRING)
            ls_fail(c, "name", "expected a string, got %s", sl_tname(L, -1));
        s = lua_tolstring(L, -1, &len);
        if (len == 0 || strlen(s) != len || len > MAX_NAME_LEN)
            ls_fail(c, "name", "must be a non-empty string of at most %d bytes without NUL", MAX_NAME_LEN);
        {
            const char *why = "";
            size_t at = ls_unsafe_text(s, len, &why);
            char shown[80];
            if (at)
                ls_fail(c, "name", "\"%s\" contains %s (byte %zu): names must be UTF-8 "
                        "text without control characters", ls_show_escaped(s, len, shown, sizeof shown),
                        why, at);
        }
        free(c->m->name);
        c->m->name = NULL;
        c->m->name = dup_str(L, s);
    }
    lua_pop(L, 1);
    if (ls_rawfield(L, spec, "description") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
        ls_fail(c, "description", "expected a string, got %s", sl_tname(L, -1));
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
