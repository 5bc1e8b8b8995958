/*
 * dists.c - distributions in Lua: stratsim.normal(mean, sd), lognormal(mu,
 * sigma), uniform(a, b), triangular(a, mode, b), beta(alpha, beta[, lo,
 * hi]), truncnormal(mean, sd, lo, hi), fixed(x) and dist("normal(0.2,
 * 0.03)") return immutable "stratsim.Distribution" values (an ss_dist
 * inside a userdata) with quantile/mean/variance/sd/sample, usable in
 * `uncertainty` and outage severities (la_to_dist, for read.c).
 *
 * Ownership: a Distribution is a plain value in its userdata (no __gc
 * needed); sample(n) draws into a userdata array with a GSL generator that
 * is freed before anything can raise.
 * Depends on la_internal.h and the core's distributions (ss_dist_*).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

#define DIST_META "stratsim.Distribution"
#define MAX_SAMPLE 1000000

typedef struct dist_ud {
    ss_dist d;
} dist_ud;

static void push_dist(lua_State *L, const ss_dist *d)
{
    dist_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->d = *d;
    luaL_setmetatable(L, DIST_META);
}

static const ss_dist *test_dist(lua_State *L, int idx)
{
    dist_ud *u = luaL_testudata(L, idx, DIST_META);
    return u ? &u->d : NULL;
}

static const ss_dist *check_dist(lua_State *L, int idx)
{
    return &((dist_ud *)luaL_checkudata(L, idx, DIST_META))->d;
}

/* stratsim.<kind>(p1, p2, ...): upvalue 1 is the kind. */
static int l_dist_new(lua_State *L)
{
    ss_dist_kind kind = (ss_dist_kind)lua_tointeger(L, lua_upvalueindex(1));
    double p[SS_DIST_MAXPARAMS + 1];
    int n = lua_gettop(L), i;
    ss_dist d;
    ss_err err = {0};
    if (n > SS_DIST_MAXPARAMS + 1)
        n = SS_DIST_MAXPARAMS + 1;
    for (i = 0; i < n; i++)
        p[i] = luaL_checknumber(L, i + 1);
    if (ss_dist_make(&d, kind, p, (size_t)n, NULL, &err) != SS_OK)
        return luaL_error(L, "%s", err.msg);
    push_dist(L, &d);
    return 1;
}

/* stratsim.dist("normal(0.2, 0.03)") */
static int l_dist_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    ss_dist d;
    ss_err err = {0};
    if (ss_dist_parse(&d, s, NULL, &err) != SS_OK)
        return luaL_error(L, "%s", err.msg);
    push_dist(L, &d);
    return 1;
}

static int l_dist_tostring(lua_State *L)
{
    char buf[256];
    ss_dist_format(buf, sizeof buf, check_dist(L, 1));
    lua_pushstring(L, buf);
    return 1;
}

static int l_dist_eq(lua_State *L)
{
    const ss_dist *a = test_dist(L, 1), *b = test_dist(L, 2);
    lua_pushboolean(L, a && b && a->kind == b->kind && memcmp(a->p, b->p, sizeof a->p) == 0);
    return 1;
}

static int l_dist_quantile(lua_State *L)
{
    const ss_dist *d = check_dist(L, 1);
    double q = luaL_checknumber(L, 2);
    luaL_argcheck(L, q >= 0 && q <= 1, 2, "probability must be in [0, 1]");
    lua_pushnumber(L, ss_dist_quantile(d, q));
    return 1;
}

static int l_dist_mean(lua_State *L)
{
    lua_pushnumber(L, ss_dist_mean(check_dist(L, 1)));
    return 1;
}

static int l_dist_variance(lua_State *L)
{
    lua_pushnumber(L, ss_dist_variance(check_dist(L, 1)));
    return 1;
}

static int l_dist_sd(lua_State *L)
{
    lua_pushnumber(L, sqrt(ss_dist_variance(check_dist(L, 1))));
    return 1;
}

/* d:sample(n [, seed]): n draws from the Monte Carlo stream of run 0 of
 * `seed` (default 1), so the same call always gives the same numbers. */
static int l_dist_sample(lua_State *L)
{
    const ss_dist *d = check_dist(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1), i;
    lua_Integer seed = luaL_optinteger(L, 3, 1);
    gsl_rng *r;
    double *v;
    luaL_argcheck(L, n >= 1 && n <= MAX_SAMPLE, 2, "sample size must be in 1..1000000");
    luaL_argcheck(L, seed >= 0, 3, "seed must be >= 0");
    v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
    r = gsl_rng_alloc(ss_mc_rng_type());
    if (!r)
        la_nomem(L);
    ss_mc_rng_seed(r, (uint64_t)seed, 0);
    for (i = 0; i < n; i++)
        v[i] = ss_dist_sample(d, r);
    gsl_rng_free(r);
    sl_push_numbers(L, v, (size_t)n);
    return 1;
}

static int l_dist_index(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"quantile", l_dist_quantile}, {"mean", l_dist_mean}, {"variance", l_dist_variance},
        {"sd", l_dist_sd}, {"sample", l_dist_sample}, {NULL, NULL}
    };
    const ss_dist *d = check_dist(L, 1);
    const char *k = lua_tostring(L, 2);
    const luaL_Reg *m;
    if (!k || lua_type(L, 2) != LUA_TSTRING)
        return 0;
    for (m = methods; m->name; m++)
        if (strcmp(k, m->name) == 0) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    if (strcmp(k, "kind") == 0) {
        lua_pushstring(L, ss_dist_kind_name(d->kind));
        return 1;
    }
    if (strcmp(k, "params") == 0) {
        size_t n = ss_dist_nparams_max(d->kind);
        if (d->kind == SS_DIST_BETA && d->p[2] == 0 && d->p[3] == 1)
            n = 2;
        sl_push_numbers(L, d->p, n);
        return 1;
    }
    return 0;
}

int la_immutable(lua_State *L)
{
    return luaL_error(L, "%s values are immutable", sl_tname(L, 1));
}

/*
 * A distribution from the value at idx: a Distribution, its text form, or
 * a number (fixed). Returns 0, or -1 with a message in msg.
 */
int la_to_dist(lua_State *L, int idx, ss_dist *out, char *msg, size_t n)
{
    const ss_dist *d = test_dist(L, idx);
    ss_err err = {0};
    if (d) {
        *out = *d;
        return 0;
    }
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double x = lua_tonumber(L, idx);
        if (ss_dist_make(out, SS_DIST_FIXED, &x, 1, NULL, &err) == SS_OK)
            return 0;
        snprintf(msg, n, "%.*s", (int)(n - 1), err.msg);
        return -1;
    }
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (ss_dist_parse(out, lua_tostring(L, idx), NULL, &err) == SS_OK)
            return 0;
        snprintf(msg, n, "%.*s", (int)(n - 1), err.msg);
        return -1;
    }
    snprintf(msg, n, "expected a distribution (stratsim.normal(...), ...), got %s", sl_tname(L, idx));
    return -1;
}

/* Register the Distribution metatable; constructors into the module table
 * at mod (part of sl_open_analysis). */
void la_open_dists(lua_State *L, int mod)
{
    static const struct {
        const char *name;
        ss_dist_kind kind;
    } ctors[] = {
        {"fixed", SS_DIST_FIXED}, {"normal", SS_DIST_NORMAL}, {"lognormal", SS_DIST_LOGNORMAL},
        {"uniform", SS_DIST_UNIFORM}, {"triangular", SS_DIST_TRIANGULAR}, {"beta", SS_DIST_BETA},
        {"truncnormal", SS_DIST_TRUNCNORMAL}
    };
    static const luaL_Reg dist_meta[] = {
        {"__tostring", l_dist_tostring}, {"__index", l_dist_index}, {"__newindex", la_immutable},
        {"__eq", l_dist_eq}, {NULL, NULL}
    };
    size_t i;

    if (luaL_newmetatable(L, DIST_META)) {
        luaL_setfuncs(L, dist_meta, 0);
        lua_pushliteral(L, DIST_META);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    for (i = 0; i < sizeof ctors / sizeof ctors[0]; i++) {
        lua_pushinteger(L, ctors[i].kind);
        lua_pushcclosure(L, l_dist_new, 1);
        lua_setfield(L, mod, ctors[i].name);
    }
    lua_pushcfunction(L, l_dist_parse);
    lua_setfield(L, mod, "dist");
}
