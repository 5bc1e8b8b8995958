/*
 * test_lua_api.c - the scripting API (src/lua/l_policy.c,
 * l_result.c, chart.c, l_docs.c): policies give the same numbers as the
 * equivalent `set` events; decision epochs fall exactly on t0 + n*epoch;
 * derived metrics (values, order, view.t); the results API against the C
 * result; errors inside policies and derived metrics (traceback, file,
 * time); runaway and memory-hungry callbacks stopped by the budgets; views
 * used outside their call; ss_script_run_opts's fast path; scripts that
 * return nothing; and stratsim._docs against docs/lua-api.md.
 */
#include "test_util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include "stratsim.h"
#include "lua/sl_internal.h"
#include "lua/ss_analysis.h"

static char tmpdir[64];
static int nfile;

/* A small market: 3 providers, 2 segments, learning, an outage. The
 * placeholders %s are the policy/outputs/events parts. */
static const char *const MARKET =
    "local base = stratsim.scenario {\n"
    "  name = 'm',\n"
    "  time = { start = 2022, stop = 2026, step = 0.25 %s },\n"
    "  discount_rate = 0.05,\n"
    "  %s\n"
    "  segments = { { id = 'x', size = 100, growth = 0.1, tau = 1.2, learning = 0.1 },\n"
    "               { id = 'y', size = 40, growth = 0.05 } },\n"
    "  providers = {\n"
    "    { id = 'a', share = { x = 0.4, y = 0.2 }, margin = { x = 0.35, y = 0.1 }, reinvest = 0.25 },\n"
    "    { id = 'b', share = { x = 0.35, y = 0.5 }, price = stratsim.steps{{2022, 1}, {2023.5, 0.9}} },\n"
    "    { id = 'c', share = { x = 0.25, y = 0.3 } },\n"
    "  },\n"
    "  events = { { t = 2022.6, kind = 'outage', provider = 'a', severity = 0.1 } },\n"
    "}\n";

static int setup(void **state)
{
    (void)state;
    gsl_set_error_handler_off();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ssapi-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Write src to a fresh file; its path goes to path[128]. */
static void write_file(const char *src, char *path)
{
    FILE *f;
    snprintf(path, 128, "%s/t%d.lua", tmpdir, ++nfile);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(src, 1, strlen(src), f), strlen(src));
    assert_int_equal(fclose(f), 0);
}

/* MARKET with the time extras, the scenario extras and a tail (returning
 * something), malloc'ed. */
static char *market(const char *time_extra, const char *extra, const char *tail)
{
    size_t n = strlen(MARKET) + strlen(time_extra) + strlen(extra) + strlen(tail) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, MARKET, time_extra, extra);
    strcat(s, tail);
    return s;
}

/* Open (with opts) and load src; rc and err returned; path of the file. */
static ss_script *load_opts(const char *src, const ss_script_opts *o, int *rc, ss_err *err, char *path)
{
    ss_script *s = NULL;
    write_file(src, path);
    ss_err_clear(err);
    assert_int_equal(ss_script_open(&s, o, err), SS_OK);
    *rc = ss_script_load(s, path, NULL, 0, err);
    return s;
}

static ss_script *load_ok_opts(const char *src, const ss_script_opts *o, char *path)
{
    ss_err err;
    int rc;
    ss_script *s = load_opts(src, o, &rc, &err, path);
    if (rc != SS_OK)
        fail_msg("load failed (%d): %s", rc, err.msg);
    return s;
}

static ss_result *run_ok(ss_script *s, size_t i)
{
    ss_result *r = NULL;
    ss_err err;
    ss_err_clear(&err);
    if (ss_script_run(s, i, &r, &err) != SS_OK)
        fail_msg("run failed: %s", err.msg);
    assert_non_null(r);
    return r;
}

/* Every value of two results with the same shape agrees within tol (relative to max(1, |x|)). */
static void assert_results_close(const ss_result *a, const ss_result *b, double tol)
{
    size_t ti, i, k, m;
    assert_int_equal(a->nt, b->nt);
    assert_int_equal(a->np, b->np);
    assert_int_equal(a->nk, b->nk);
    for (ti = 0; ti < a->nt; ti++) {
        assert_close(a->t[ti], b->t[ti], 0);
        for (m = 0; m < SS_NPS; m++)
            for (i = 0; i < a->np; i++)
                for (k = 0; k < a->nk; k++) {
                    double x = SS_RESULT_PS(a, ti, m, i, k), y = SS_RESULT_PS(b, ti, m, i, k);
                    if (!(fabs(x - y) <= tol * fmax(1, fabs(y))))
                        fail_msg("t=%g %s[%zu,%zu]: %.17g vs %.17g", a->t[ti], ss_metric_ps_name((int)m),
                                 i, k, x, y);
                }
        for (m = 0; m < SS_NP; m++)
            for (i = 0; i < a->np; i++) {
                double x = SS_RESULT_P(a, ti, m, i), y = SS_RESULT_P(b, ti, m, i);
                if (!(fabs(x - y) <= tol * fmax(1, fabs(y))))
                    fail_msg("t=%g %s[%zu]: %.17g vs %.17g", a->t[ti], ss_metric_p_name((int)m), i, x, y);
            }
        for (m = 0; m < SS_NS; m++)
            for (k = 0; k < a->nk; k++) {
                double x = SS_RESULT_S(a, ti, m, k), y = SS_RESULT_S(b, ti, m, k);
                if (!(fabs(x - y) <= tol * fmax(1, fabs(y))))
                    fail_msg("t=%g %s[%zu]: %.17g vs %.17g", a->t[ti], ss_metric_s_name((int)m), k, x, y);
            }
    }
}

/* Compile chunk with the script's environment (the sandbox's, if any). */
static void load_chunk(lua_State *L, const char *chunk)
{
    if (luaL_loadstring(L, chunk) != LUA_OK)
        fail_msg("chunk: %s", lua_tostring(L, -1));
    if (lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") == LUA_TTABLE)
        lua_setupvalue(L, -2, 1);
    else
        lua_pop(L, 1);
}

/* Run Lua code `chunk` in the script's state with the scenario i as `...`;
 * leaves nres results on the stack. Fails the test on a Lua error. */
static void lua_do(ss_script *s, size_t i, const char *chunk, int nres)
{
    lua_State *L = ss_script_state(s);
    load_chunk(L, chunk);
    assert_int_equal(ss_script_push_scenario(s, i), 0);
    if (sl_pcall(L, 1, nres) != LUA_OK)
        fail_msg("chunk failed: %s", lua_tostring(L, -1));
}

/* Run Lua code expecting an error whose text contains frag. */
static void lua_fails(ss_script *s, size_t i, const char *chunk, const char *frag)
{
    lua_State *L = ss_script_state(s);
    int top = lua_gettop(L);
    const char *msg;
    load_chunk(L, chunk);
    assert_int_equal(ss_script_push_scenario(s, i), 0);
    if (sl_pcall(L, 1, 0) == LUA_OK)
        fail_msg("chunk '%s' did not fail", chunk);
    msg = luaL_tolstring(L, -1, NULL);
    if (!strstr(msg, frag))
        fail_msg("error '%s' lacks '%s'", msg, frag);
    lua_settop(L, top);
}

/* ------------------------------------------------------------ policies */

/* The same changes as set events and as a policy give the same numbers. */
/* ss_script_run (with ss_script_crn_opts) starts every run where the
 * script left math.random when it had loaded: two runs give the same
 * numbers, and the script's own seed acts; without the hook the second
 * run continues the first one's stream. */
static void test_runs_restart_random(void **state)
{
    static const char *const tail =
        "math.randomseed(%d)\n"
        "local jitter = math.random()\n"
        "return base:with { name = 'rnd', policy = function(v)\n"
        "  v:set('a', 'price', { x = 0.9 + 0.2 * math.random() })\n"
        "end }\n";
    char t[512], path[128], *src;
    ss_script *s7, *s8;
    ss_result *a, *b, *c, *d;
    ss_run_opts o;
    ss_err err;
    size_t last;
    (void)state;
    snprintf(t, sizeof t, tail, 7);
    src = market("", "", t);
    s7 = load_ok_opts(src, NULL, path);
    free(src);
    snprintf(t, sizeof t, tail, 8);
    src = market("", "", t);
    s8 = load_ok_opts(src, NULL, path);
    free(src);
    a = run_ok(s7, 0);
    b = run_ok(s7, 0);
    c = run_ok(s8, 0);
    last = a->nt - 1;
    assert_memory_equal(a->ps, b->ps, a->nt * SS_NPS * a->np * a->nk * sizeof *a->ps);
    assert_true(SS_RESULT_PS(a, last, SS_PS_SHARE, 0, 0) != SS_RESULT_PS(c, last, SS_PS_SHARE, 0, 0));
    /* the options alone (no hook): the run after a continues its stream */
    ss_err_clear(&err);
    assert_int_equal(ss_script_run_opts(s7, 0, &o, &err), SS_OK);
    assert_null(o.on_start);
    d = NULL;
    assert_int_equal(ss_sim_run_resolved(NULL, &d, ss_script_resolved(s7, 0), &o, &err), SS_OK);
    assert_true(SS_RESULT_PS(a, last, SS_PS_SHARE, 0, 0) != SS_RESULT_PS(d, last, SS_PS_SHARE, 0, 0));
    ss_script_crn_opts(s7, &o);
    assert_non_null(o.on_start);
    ss_result_free(d);
    d = NULL;
    assert_int_equal(ss_sim_run_resolved(NULL, &d, ss_script_resolved(s7, 0), &o, &err), SS_OK);
    assert_memory_equal(a->ps, d->ps, a->nt * SS_NPS * a->np * a->nk * sizeof *a->ps);
    ss_result_free(a);
    ss_result_free(b);
    ss_result_free(c);
    ss_result_free(d);
    ss_script_close(s7);
    ss_script_close(s8);
}

static void check_policy_equals_events(const char *solver)
{
    static const char *const events =
        "return base:with { name = 'ev', solver = %s, events = {\n"
        "  { t = 2023, kind = 'set', provider = 'a', field = 'price', value = { x = 0.9 } },\n"
        "  { t = 2023, kind = 'set', provider = 'a', field = 'reinvest', value = 0.35 },\n"
        "  { t = 2024.5, kind = 'set', provider = 'a', field = 'allocation', value = { x = 0.8, y = 0.2 } },\n"
        "  { t = 2024.5, kind = 'set', provider = 'c', field = 'participation', value = 0.7 },\n"
        "  { t = 2025.25, kind = 'set', provider = 'b', field = 'lever', value = { y = 1.3 } },\n"
        "} }\n";
    static const char *const policy =
        "return base:with { name = 'pol', solver = %s, policy = function(v)\n"
        "  if v.t == 2023 then\n"
        "    v:set('a', 'price', { x = 0.9 })\n"
        "    v:set('a', 'reinvest', 0.35)\n"
        "  elseif v.t == 2024.5 then\n"
        "    v:set('a', 'allocation', { x = 0.8, y = 0.2 })\n"
        "    v:set('c', 'participation', 0.7)\n"
        "  elseif v.t == 2025.25 then\n"
        "    v:set('b', 'lever', { y = 1.3 })\n"
        "  end\n"
        "end }\n";
    char tail[1024], path[128], *src;
    ss_script *s1, *s2;
    ss_result *r1, *r2, *r0;

    snprintf(tail, sizeof tail, events, solver);
    src = market("", "", tail);
    s1 = load_ok_opts(src, NULL, path);
    free(src);
    snprintf(tail, sizeof tail, policy, solver);
    src = market("", "", tail);
    s2 = load_ok_opts(src, NULL, path);
    free(src);
    r1 = run_ok(s1, 0);
    r2 = run_ok(s2, 0);
    assert_results_close(r2, r1, 1e-9);
    /* and the changes did something: a's share in x differs from the run
     * without them at the end */
    src = market("", "", "return base\n");
    ss_script_close(s1);
    s1 = load_ok_opts(src, NULL, path);
    free(src);
    r0 = run_ok(s1, 0);
    assert_true(fabs(SS_RESULT_PS(r0, r0->nt - 1, SS_PS_SHARE, 0, 0) -
                     SS_RESULT_PS(r2, r2->nt - 1, SS_PS_SHARE, 0, 0)) > 1e-3);
    ss_result_free(r0);
    ss_result_free(r1);
    ss_result_free(r2);
    ss_script_close(s1);
    ss_script_close(s2);
}

static void test_policy_equals_set_events(void **state)
{
    (void)state;
    check_policy_equals_events("nil");
    check_policy_equals_events("{ method = 'rk4', h = 0.01 }");
    check_policy_equals_events("{ method = 'rkf45' }");
}

/* The policy sees t = t0 + n*epoch exactly, for every n up to stop, with
 * epoch equal to, a multiple of, or unrelated to the output step. */
static void check_epochs(const char *epoch, double d, int count)
{
    char time_extra[64], path[128], *src;
    ss_script *s;
    ss_result *r;
    lua_State *L;
    int n;

    snprintf(time_extra, sizeof time_extra, "%s", epoch);
    src = market(time_extra, "policy = function(v) seen[#seen + 1] = v.t end,",
                 "return base\n");
    /* `seen` is a global of the script */
    {
        char *full = malloc(strlen(src) + 32);
        assert_non_null(full);
        strcpy(full, "seen = {}\n");
        strcat(full, src);
        free(src);
        src = full;
    }
    s = load_ok_opts(src, NULL, path);
    free(src);
    r = run_ok(s, 0);
    L = ss_script_state(s);
    lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
    assert_int_equal(lua_getfield(L, -1, "seen"), LUA_TTABLE);
    if ((int)lua_rawlen(L, -1) != count)
        fail_msg("epoch %s: %d calls, expected %d", epoch, (int)lua_rawlen(L, -1), count);
    for (n = 0; n < count; n++) {
        double t;
        lua_rawgeti(L, -1, n + 1);
        t = lua_tonumber(L, -1);
        lua_pop(L, 1);
        if (t != 2022 + (double)n * d)
            fail_msg("epoch %s: call %d at t=%.17g, expected exactly %.17g", epoch, n, t, 2022 + (double)n * d);
    }
    lua_pop(L, 2);
    /* a second run sees the same epochs again (the view is fresh per run) */
    ss_result_free(r);
    r = run_ok(s, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
    lua_getfield(L, -1, "seen");
    assert_int_equal((int)lua_rawlen(L, -1), 2 * count);
    lua_pop(L, 2);
    ss_result_free(r);
    ss_script_close(s);
}

static void test_epoch_boundaries(void **state)
{
    (void)state;
    check_epochs("", 0.25, 17);                 /* default: the step */
    check_epochs(", epoch = 0.5", 0.5, 9);
    check_epochs(", epoch = 0.1", 0.1, 41);
    check_epochs(", epoch = 0.3", 0.3, 14);     /* 2022 .. 2025.9 */
    check_epochs(", epoch = 10", 10, 1);        /* only t0 */
}

/* At an epoch the policy sees the state after that time's events, and its
 * changes show in the output at that same time. */
static void test_epoch_order(void **state)
{
    static const char *const tail =
        "return base:with { name = 'p', time = { epoch = 0.1 },\n"
        "  events = { { t = 2023, kind = 'outage', provider = 'b', severity = 0.5 } },\n"
        "  policy = function(v)\n"
        "    if v.t == 2023 then\n"
        "      rel = v:reliability('b')\n"
        "      v:set('a', 'price', 0.5)\n"
        "      price_now = v:get('price', 'a', 'x')\n"
        "      tgt_after = v:target_share('a', 'x')\n"
        "    end\n"
        "  end }\n";
    char path[128], *src = market("", "", tail);
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L;
    ss_result *r;
    long ti;
    (void)state;
    free(src);
    r = run_ok(s, 0);
    L = ss_script_state(s);
    lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
    lua_getfield(L, -1, "rel");
    lua_getfield(L, -2, "price_now");
    lua_getfield(L, -3, "tgt_after");
    ti = ss_result_time_index(r, 2023);
    assert_true(ti >= 0);
    /* the outage at 2023 was applied before the policy ran */
    assert_close(lua_tonumber(L, -3), SS_RESULT_P(r, ti, SS_P_RELIABILITY, 1), 1e-12);
    assert_true(lua_tonumber(L, -3) < 0.6);
    assert_close(lua_tonumber(L, -2), 0.5, 0);
    /* the output at 2023 shows the new price's target share */
    assert_close(lua_tonumber(L, -1), SS_RESULT_PS(r, ti, SS_PS_TARGET_SHARE, 0, 0), 1e-12);
    assert_true(SS_RESULT_PS(r, ti, SS_PS_TARGET_SHARE, 0, 0) >
                SS_RESULT_PS(r, ti - 1, SS_PS_TARGET_SHARE, 0, 0) + 0.05);
    lua_pop(L, 4);
    ss_result_free(r);
    ss_script_close(s);
}

/* view:set checks everything before changing anything; ranges name the field. */
static void test_view_set_errors(void **state)
{
    static const struct { const char *call, *frag; } cases[] = {
        {"v:set('a', 'price', -1)", "set: price must be > 0, got -1"},
        {"v:set('a', 'price', { x = 1, y = 0 })", "set: price.y must be > 0, got 0"},
        {"v:set('a', 'participation', 1.5)", "set: participation must be in [0, 1]"},
        {"v:set('a', 'allocation', { x = -0.1 })", "set: allocation.x must be >= 0"},
        {"v:set('a', 'reinvest', { x = 1 })", "set: reinvest: expected a number, got table"},
        {"v:set('a', 'price', { z = 1 })", "set: price.z: unknown segment 'z'"},
        {"v:set('a', 'price', { 1 })", "expected a table keyed by segment id"},
        {"v:set('a', 'price', { x = 'cheap' })", "set: price.x: expected a number, got string"},
        {"v:set('a', 'price', 0/0)", "set: price must be finite"},
        {"v:set('a', 'colour', 1)", "unknown field 'colour'"},
        {"v:set('zz', 'price', 1)", "unknown provider 'zz'"},
        {"v:share('a', 'q')", "unknown segment 'q'"},
        {"v:share('a')", "segment id (string) expected, got no value"},
        {"v.t = 1", "views are read-only"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tail[512], path[128], *src;
        ss_script *s;
        ss_result *r = NULL;
        ss_err err;
        snprintf(tail, sizeof tail,
                 "return base:with { name = 'p', policy = function(v)\n"
                 "  if v.t == 2023 then %s end\n"
                 "end }\n", cases[i].call);
        src = market("", "", tail);
        s = load_ok_opts(src, NULL, path);
        free(src);
        ss_err_clear(&err);
        assert_int_not_equal(ss_script_run(s, 0, &r, &err), SS_OK);
        assert_null(r);
        if (!strstr(err.msg, cases[i].frag))
            fail_msg("%s: message '%s' lacks '%s'", cases[i].call, err.msg, cases[i].frag);
        if (!strstr(err.msg, "(in policy at t=2023)"))
            fail_msg("%s: message '%s' lacks the time", cases[i].call, err.msg);
        ss_script_close(s);
    }
}

/* ------------------------------------------------------ derived metrics */

static void test_derived_metrics(void **state)
{
    static const char *const extra =
        "outputs = {\n"
        "  total_x = function(v) return v:share('a','x') + v:share('b','x') + v:share('c','x') end,\n"
        "  a_rev = function(v) return v:revenue('a') end,\n"
        "  time = function(v) return v.t end,\n"
        "  Zed = function(v) return v:hhi('y') + v:size('x') * 0 end,\n"
        "  npv_b = function(v) return v:npv('b') end,\n"
        "},";
    char path[128], *src = market("", extra, "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    ss_run_opts o;
    ss_result *r;
    ss_err err;
    size_t ti;
    (void)state;
    free(src);
    ss_err_clear(&err);
    assert_int_equal(ss_script_run_opts(s, 0, &o, &err), SS_OK);
    assert_null(o.on_epoch);          /* no policy: no epoch callback */
    assert_non_null(o.on_output);
    assert_int_equal(o.nextra, 5);
    /* alphabetical order (byte order: upper case first) */
    assert_string_equal(o.extra_names[0], "Zed");
    assert_string_equal(o.extra_names[1], "a_rev");
    assert_string_equal(o.extra_names[2], "npv_b");
    assert_string_equal(o.extra_names[3], "time");
    assert_string_equal(o.extra_names[4], "total_x");
    r = run_ok(s, 0);
    assert_int_equal(r->nextra, 5);
    assert_string_equal(r->extra_names[4], "total_x");
    for (ti = 0; ti < r->nt; ti++) {
        const double *x = &r->extra[ti * r->nextra];
        assert_close(x[4], 1.0, 1e-12);
        assert_close(x[1], SS_RESULT_P(r, ti, SS_P_REVENUE, 0), 1e-12);
        assert_close(x[2], SS_RESULT_P(r, ti, SS_P_NPV, 1), 1e-12);
        assert_close(x[0], SS_RESULT_S(r, ti, SS_S_HHI, 1), 1e-12);
        if (x[3] != r->t[ti])
            fail_msg("view.t = %.17g at output time %.17g", x[3], r->t[ti]);
    }
    ss_result_free(r);
    ss_script_close(s);
}

static void test_derived_metric_errors(void **state)
{
    static const struct { const char *fn; int code; const char *frag; } cases[] = {
        {"function(v) return 'high' end", SS_EINVAL, "derived metric 'bad' returned string at t=2022 (expected a finite number)"},
        {"function(v) return nil end", SS_EINVAL, "derived metric 'bad' returned nil at t=2022"},
        {"function(v) if v.t > 2023 then return 0/0 end return 1 end", SS_ENUMERIC, "derived metric 'bad' returned"},
        {"function(v) if v.t > 2023 then return 1/0 end return 1 end", SS_ENUMERIC, "returned inf at t=2023.25"},
        {"function(v) if v.t >= 2024 then error('boom') end return 1 end", SS_EINVAL,
         ": boom (in derived metric 'bad' at t=2024)"},
        {"function(v) v:set('a', 'price', 2) return 1 end", SS_EINVAL,
         "set: only a policy may change schedules"},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[512], path[128], prefix[160], *src;
        ss_script *s;
        ss_result *r = NULL;
        ss_err err;
        snprintf(extra, sizeof extra, "outputs = { ok = function(v) return 1 end,\n bad = %s },", cases[i].fn);
        src = market("", extra, "return base\n");
        s = load_ok_opts(src, NULL, path);
        free(src);
        ss_err_clear(&err);
        if (ss_script_run(s, 0, &r, &err) != cases[i].code)
            fail_msg("%s: expected status %d: %s", cases[i].fn, cases[i].code, err.msg);
        assert_null(r);
        if (!strstr(err.msg, cases[i].frag))
            fail_msg("%s: message '%s' lacks '%s'", cases[i].fn, err.msg, cases[i].frag);
        /* located at the function (line 6: the outputs line of MARKET + 1) */
        snprintf(prefix, sizeof prefix, "%s:6: ", path);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
            fail_msg("%s: message '%s' does not start with '%s'", cases[i].fn, err.msg, prefix);
        /* and the record says so without reading the message */
        assert_string_equal(err.file, path);
        assert_int_equal(err.line, 6);
        ss_script_close(s);
    }
}

/* Output names are checked when the scenario is built. */
static void test_output_names(void **state)
{
    char path[128], *src = market("", "outputs = { share = function(v) return 1 end },", "return base\n");
    ss_err err;
    int rc;
    ss_script *s = load_opts(src, NULL, &rc, &err, path);
    (void)state;
    free(src);
    assert_int_equal(rc, SS_EINVAL);
    assert_non_null(strstr(err.msg, "outputs.share: 'share' is the name of a built-in metric"));
    ss_script_close(s);
}

/* ---------------------------------------------------------- policy errors */

static void test_policy_errors(void **state)
{
    static const struct { const char *body, *frag; int line; } cases[] = {
        {"if v.t >= 2023.5 then local x = nil; x.y = 1 end", "attempt to index a nil value (local 'x') (in policy at t=2023.5)", 6},
        {"if v.t >= 2023 then error({}) end", "(error object is a table value) (in policy at t=2023)", 6},
        {"if v.t >= 2023 then error('no location', 0) end", "no location (in policy at t=2023)", 5},
        {"if v.t >= 2023 then v:share('nobody', 'x') end", "unknown provider 'nobody'", 6},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[512], path[128], prefix[160], *src;
        ss_script *s;
        ss_result *r = NULL;
        ss_err err;
        snprintf(extra, sizeof extra, "policy = function(v)\n    %s\n  end,", cases[i].body);
        src = market("", extra, "return base\n");
        s = load_ok_opts(src, NULL, path);
        free(src);
        ss_err_clear(&err);
        assert_int_equal(ss_script_run(s, 0, &r, &err), SS_EINVAL);
        assert_null(r);
        if (!strstr(err.msg, cases[i].frag))
            fail_msg("'%s': message '%s' lacks '%s'", cases[i].body, err.msg, cases[i].frag);
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, cases[i].line);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
            fail_msg("'%s': message '%s' does not start with '%s'", cases[i].body, err.msg, prefix);
        assert_string_equal(err.file, path);
        assert_int_equal(err.line, cases[i].line);
        if (i == 0 && !strstr(err.msg, "stack traceback:"))
            fail_msg("no traceback in '%s'", err.msg);
        ss_script_close(s);
    }
}

/* ---------------------------------------------------- runaway callbacks */

static void expect_limit(const char *extra, const ss_script_opts *o, const char *frag, const char *where)
{
    char path[128], *src = market("", extra, "return base\n");
    ss_script *s = load_ok_opts(src, o, path);
    ss_result *r = NULL;
    ss_err err;
    double t = now();
    free(src);
    ss_err_clear(&err);
    assert_int_equal(ss_script_run(s, 0, &r, &err), SS_ELIMIT);
    assert_null(r);   /* no partial result */
    if (!strstr(err.msg, frag) || !strstr(err.msg, where))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, frag, where);
    if (now() - t > 10.0)
        fail_msg("took %.1f s to stop", now() - t);
    /* the next run is stopped as well (instruction budget reset per run,
     * memory budget exceeded for good), and nothing crashes */
    assert_int_equal(ss_script_run(s, 0, &r, &err), SS_ELIMIT);
    assert_null(r);
    ss_script_close(s);
}

static void test_runaway_callbacks(void **state)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    (void)state;
    o.max_instructions = 5000000;
    expect_limit("policy = function(v) if v.t >= 2023 then while true do end end end,", &o,
                 "instruction limit exceeded (5000000 instructions)", "(in policy at t=2023)");
    expect_limit("policy = function(v) while true do pcall(function() while true do end end) end end,", &o,
                 "instruction limit exceeded", "(in policy at t=2022)");
    expect_limit("outputs = { spin = function(v) while true do end end },", &o,
                 "instruction limit exceeded", "(in derived metric 'spin' at t=2022)");
    o.max_instructions = 0;
    o.max_memory = 16u * 1024 * 1024;
    expect_limit("policy = function(v) local t = {} while true do t[#t+1] = ('x'):rep(1e5) .. #t end end,", &o,
                 "scenario exceeded 16 MiB of memory", "(in policy at t=2022)");
    expect_limit("outputs = { hog = function(v) local s = 'x' while true do s = s .. s end end },", &o,
                 "scenario exceeded 16 MiB of memory", "(in derived metric 'hog' at t=2022)");
}

/* The instruction budget is per run, not per call: a policy that uses a
 * little at every epoch is stopped once the run's total exceeds it, and a
 * run within the budget can be repeated any number of times. */
static void test_budget_per_run(void **state)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    char path[128], *src;
    ss_script *s;
    ss_result *r = NULL;
    ss_err err;
    int i;
    (void)state;
    o.max_instructions = 2000000;
    /* ~200k instructions per call (2 per iteration), 17 calls: 3.4M > 2M */
    src = market("", "policy = function(v) local x = 0 for i = 1, 100000 do x = x + i end end,", "return base\n");
    s = load_ok_opts(src, &o, path);
    free(src);
    ss_err_clear(&err);
    assert_int_equal(ss_script_run(s, 0, &r, &err), SS_ELIMIT);
    assert_non_null(strstr(err.msg, "instruction limit exceeded"));
    ss_script_close(s);
    /* ~40k per call: 680k per run, within the budget; eight runs in a row
     * (5.4M in all) work because each run has the whole budget */
    src = market("", "policy = function(v) local x = 0 for i = 1, 20000 do x = x + i end end,", "return base\n");
    s = load_ok_opts(src, &o, path);
    free(src);
    for (i = 0; i < 8; i++) {
        r = run_ok(s, 0);
        ss_result_free(r);
    }
    ss_script_close(s);
}

/* A runaway policy in a run started from the script itself stops the script. */
static void test_runaway_in_script(void **state)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    char path[128], *src;
    ss_script *s;
    ss_err err;
    int rc;
    (void)state;
    o.max_instructions = 5000000;
    src = market("", "policy = function(v) while true do end end,",
                 "local ok, e = pcall(function() return base:run() end)\n"
                 "while true do end\n");
    s = load_opts(src, &o, &rc, &err, path);
    free(src);
    assert_int_equal(rc, SS_ELIMIT);
    assert_non_null(strstr(err.msg, "instruction limit exceeded"));
    ss_script_close(s);
}

/* ----------------------------------------------------------- the view */

static void test_view_outside_call(void **state)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    char path[128], *src;
    ss_script *s;
    ss_result *r;
    (void)state;
    src = market("", "policy = function(v) saved = v; share = v.share end,", "return base\n");
    s = load_ok_opts(src, NULL, path);
    free(src);
    r = run_ok(s, 0);
    ss_result_free(r);
    /* run the checks in the script's environment */
    {
        lua_State *L = ss_script_state(s);
        static const char *const bad[][2] = {
            {"return saved:share('a', 'x')", "view used outside its policy call"},
            {"return saved.t", "view used outside its policy call"},
            {"return share(saved, 'a', 'x')", "view used outside its policy call"},
            {"return share({}, 'a', 'x')", "stratsim.View expected, got table"},
            {"saved:set('a', 'price', 1)", "view used outside its policy call"},
            {"setmetatable(saved, {})", "bad argument #1 to 'setmetatable' (table expected, got stratsim.View)"},
        };
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            const char *msg;
            lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
            assert_int_equal(luaL_loadstring(L, bad[i][0]), LUA_OK);
            lua_pushvalue(L, -2);
            lua_setupvalue(L, -2, 1);
            assert_int_not_equal(sl_pcall(L, 0, 0), LUA_OK);
            msg = lua_tostring(L, -1);
            if (!msg || !strstr(msg, bad[i][1]))
                fail_msg("'%s': error '%s' lacks '%s'", bad[i][0], msg ? msg : "?", bad[i][1]);
            lua_pop(L, 2);
        }
        lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env");
        assert_int_equal(luaL_loadstring(L, "return tostring(saved), getmetatable(saved)"), LUA_OK);
        lua_pushvalue(L, -2);
        lua_setupvalue(L, -2, 1);
        assert_int_equal(sl_pcall(L, 0, 2), LUA_OK);
        assert_string_equal(lua_tostring(L, -2), "stratsim.View (policy, expired)");
        assert_string_equal(lua_tostring(L, -1), "stratsim.View");
        lua_pop(L, 3);
    }
    ss_script_close(s);

    /* unsafe mode: even debug.setmetatable cannot make a stale view crash */
    o.unsafe = 1;
    src = market("", "policy = function(v) saved = v; share = v.share end,",
                 "local r = base:run()\n"
                 "debug.setmetatable(saved, nil)\n"
                 "local ok, e = pcall(share, saved, 'a', 'x')\n"
                 "assert(not ok and e:find('stratsim.View expected, got userdata'), e)\n"
                 "debug.setmetatable(saved, { __index = { share = share } })\n"
                 "ok, e = pcall(function() return saved:share('a', 'x') end)\n"
                 "assert(not ok and e:find('stratsim.View expected'), e)\n"
                 "return base\n");
    s = load_ok_opts(src, &o, path);
    free(src);
    ss_script_close(s);
}

/* --------------------------------------------------------- results API */

/* Capture what fn writes to a stream (malloc'ed string). */
static char *capture_summary(const ss_result *r, const ss_model *m, const char *file)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    ss_summary_write(f, r, m, file);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_results_api(void **state)
{
    static const char *const extra =
        "policy = function(v) if v.t == 2023 then v:set('a', 'price', 0.9) end end,\n"
        "  outputs = { total_x = function(v) return v:share('a','x') + v:share('b','x') + v:share('c','x') end },";
    char path[128], *src = market("", extra, "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    ss_result *r;
    char *text;
    size_t ti;
    long t23;
    (void)state;
    free(src);
    r = run_ok(s, 0);
    t23 = ss_result_time_index(r, 2023);

    /* value: every kind of metric, default t = last, exact and interpolated t */
    lua_do(s, 0,
           "local sc = ...; local r = sc:run()\n"
           "return r:value('share', 'a', 'x'), r:value('share', 'b', 'y', 2023),\n"
           "  r:value('revenue', 'c'), r:value('revenue', 'c', 'x', 2024.25), r:value('npv', 'a', nil, 2025),\n"
           "  r:value('size', nil, 'y', 2022), r:value('hhi', nil, 'x'), r:value('total_x'),\n"
           "  r:value('share', 'a', 'x', 2023.1), r:value('share', 'a', 'x', 2026),\n"
           "  r:value('gross_margin', 'a', 'x', 2023)\n", 11);
    assert_close(lua_tonumber(L, -11), SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, 0, 0), 1e-12);
    assert_close(lua_tonumber(L, -10), SS_RESULT_PS(r, t23, SS_PS_SHARE, 1, 1), 1e-12);
    assert_close(lua_tonumber(L, -9), SS_RESULT_P(r, r->nt - 1, SS_P_REVENUE, 2), 1e-12);
    assert_close(lua_tonumber(L, -8), SS_RESULT_PS(r, ss_result_time_index(r, 2024.25), SS_PS_REVENUE, 2, 0), 1e-12);
    assert_close(lua_tonumber(L, -7), SS_RESULT_P(r, ss_result_time_index(r, 2025), SS_P_NPV, 0), 1e-12);
    assert_close(lua_tonumber(L, -6), 40, 1e-12);
    assert_close(lua_tonumber(L, -5), SS_RESULT_S(r, r->nt - 1, SS_S_HHI, 0), 1e-12);
    assert_close(lua_tonumber(L, -4), 1, 1e-12);
    {   /* 2023.1 lies between 2023 and 2023.25: linear interpolation */
        double a = SS_RESULT_PS(r, t23, SS_PS_SHARE, 0, 0), b = SS_RESULT_PS(r, t23 + 1, SS_PS_SHARE, 0, 0);
        assert_close(lua_tonumber(L, -3), a + (b - a) * 0.1 / 0.25, 1e-12);
    }
    assert_close(lua_tonumber(L, -2), SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, 0, 0), 1e-12);
    assert_close(lua_tonumber(L, -1), SS_RESULT_PS(r, t23, SS_PS_GROSS_MARGIN, 0, 0), 1e-12);
    lua_pop(L, 11);

    /* series and times */
    lua_do(s, 0, "local r = (...):run(); local t, v = r:series('capability', 'b', 'x')\n"
                 "local tt = r:times(); assert(#tt == #t)\n"
                 "for i = 1, #t do assert(t[i] == tt[i]) end\n"
                 "return t, v, r:name(), r:providers(), r:segments(), r:metrics()", 6);
    assert_int_equal((int)lua_rawlen(L, -6), (int)r->nt);
    for (ti = 0; ti < r->nt; ti++) {
        lua_rawgeti(L, -6, (lua_Integer)ti + 1);
        lua_rawgeti(L, -6, (lua_Integer)ti + 1);
        assert_close(lua_tonumber(L, -2), r->t[ti], 0);
        assert_close(lua_tonumber(L, -1), SS_RESULT_PS(r, ti, SS_PS_CAPABILITY, 1, 0), 1e-12);
        lua_pop(L, 2);
    }
    assert_string_equal(lua_tostring(L, -4), "m");
    lua_rawgeti(L, -3, 3);
    assert_string_equal(lua_tostring(L, -1), "c");
    lua_rawgeti(L, -3, 2);
    assert_string_equal(lua_tostring(L, -1), "y");
    lua_pop(L, 2);
    assert_int_equal((int)lua_rawlen(L, -1), 12 + 1); /* 12 built-in names + total_x */
    lua_rawgeti(L, -1, 13);
    assert_string_equal(lua_tostring(L, -1), "total_x");
    lua_pop(L, 7);

    /* summary: the same text as the CLI's formatter */
    lua_do(s, 0, "return (...):run():summary()", 1);
    text = capture_summary(r, ss_script_model(s, 0), path);
    assert_string_equal(lua_tostring(L, -1), text);
    assert_non_null(strstr(text, "Derived metrics"));
    free(text);
    lua_pop(L, 1);

    /* tostring and comparison */
    lua_do(s, 0, "local r = (...):run(); return tostring(r), "
                 "stratsim.compare{r, (...):with{ name = 'n' }:run()}", 2);
    assert_non_null(strstr(lua_tostring(L, -2), "stratsim.Result 'm': t 2022.0..2026.0, 17 output times, "
                                                "3 providers, 2 segments, 1 derived metric"));
    assert_non_null(strstr(lua_tostring(L, -1), "At the last output time"));
    assert_non_null(strstr(lua_tostring(L, -1), "(+0.00 pp)"));
    lua_pop(L, 2);

    /* misuse raises argument errors that say what to give */
    lua_fails(s, 0, "(...):run():value('share', 'a')", "metric 'share' is per provider and segment");
    lua_fails(s, 0, "(...):run():value('size', 'x')", "metric 'size' is per segment: give nil as the provider");
    lua_fails(s, 0, "(...):run():value('npv', 'a', 'x')", "metric 'npv' is per provider");
    lua_fails(s, 0, "(...):run():value('total_x', 'a')", "derived metric 'total_x' has no provider or segment");
    lua_fails(s, 0, "(...):run():value('profit', 'a')", "unknown metric 'profit' (known: share,");
    lua_fails(s, 0, "(...):run():value('share', 'q', 'x')", "unknown provider 'q'");
    lua_fails(s, 0, "(...):run():value('share', 'a', 'x', 2030)", "is outside the output times");
    lua_fails(s, 0, "local r = (...):run(); r.value(nil, 'share')", "stratsim.Result expected, got nil");
    lua_fails(s, 0, "(...).run()", "stratsim.Scenario (call it as scenario:run()) expected");
    lua_fails(s, 0, "local r = (...):run(); do local x <close> = r end; r:times()", "result is closed");
    ss_result_free(r);
    ss_script_close(s);
}

/* Count UTF-8 code points of the longest line. */
static size_t widest_line(const char *s)
{
    size_t w = 0, cur = 0;
    for (; *s; s++) {
        if (*s == '\n') {
            if (cur > w)
                w = cur;
            cur = 0;
        } else if (((unsigned char)*s & 0xC0) != 0x80) {
            cur++;
        }
    }
    return cur > w ? cur : w;
}

static void test_plot_and_sparkline(void **state)
{
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    const char *txt;
    (void)state;
    free(src);
    lua_do(s, 0, "local r = (...):run(); return r:plot('share', 'a', 'x'),\n"
                 "  r:plot('share', {'a', 'b', 'c'}, 'x', { width = 80, height = 8 }),\n"
                 "  r:plot('revenue', 'a', nil, { ascii = true, title = 'Revenue of a' }),\n"
                 "  r:plot('size', nil, 'x', { with = { (...):with{ name = 'fast', segments = { x = { growth = 0.2 } } }:run() } }),\n"
                 "  stratsim.sparkline({1, 2, 3, 4, 5, 6, 7, 8}), stratsim.sparkline({}), stratsim.sparkline({2, 2})", 7);
    txt = lua_tostring(L, -7);
    assert_non_null(strstr(txt, "share (m)\n"));
    assert_non_null(strstr(txt, "\xE2\x94\xA4"));        /* y-axis tick */
    assert_non_null(strstr(txt, "2022"));
    assert_non_null(strstr(txt, "2026"));
    assert_non_null(strstr(txt, "a/x"));
    assert_true(widest_line(txt) <= 80);
    txt = lua_tostring(L, -6);
    assert_non_null(strstr(txt, "* a/x"));
    assert_non_null(strstr(txt, "+ b/x"));
    assert_non_null(strstr(txt, "o c/x"));
    assert_true(widest_line(txt) <= 80);
    txt = lua_tostring(L, -5);
    assert_true(strncmp(txt, "Revenue of a\n", 13) == 0);
    assert_null(strstr(txt, "\xE2"));                    /* pure ASCII */
    txt = lua_tostring(L, -4);
    assert_non_null(strstr(txt, "m: x"));
    assert_non_null(strstr(txt, "fast: x"));
    assert_string_equal(lua_tostring(L, -3),
                        "\xE2\x96\x81\xE2\x96\x82\xE2\x96\x83\xE2\x96\x84\xE2\x96\x85\xE2\x96\x86\xE2\x96\x87\xE2\x96\x88");
    assert_string_equal(lua_tostring(L, -2), "");
    assert_string_equal(lua_tostring(L, -1), "\xE2\x96\x84\xE2\x96\x84");
    lua_pop(L, 7);
    lua_fails(s, 0, "(...):run():plot('share', 'a', 'q')", "plot: unknown segment 'q'");
    lua_fails(s, 0, "(...):run():plot('share', 'a', 'x', { colour = 'red' })", "plot: unknown option 'colour'");
    lua_fails(s, 0, "(...):run():plot('share', {'a','b','c'}, {'x','y'}, { with = { (...):run() } })",
              "plot: at most 8 series");
    lua_fails(s, 0, "stratsim.sparkline({1, 'x'})", "sparkline: element 2 is a string");
    lua_fails(s, 0, "stratsim.compare{}", "give at least one result");
    lua_fails(s, 0, "stratsim.compare{1}", "element 1 is a number, expected a result");
    ss_script_close(s);
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    assert_non_null(f);
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_write_csv(void **state)
{
    char path[128], out[192], side[200], code[512], *src;
    ss_script *s;
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    lua_State *L;
    FILE *f;
    char line[4096];
    (void)state;
    src = market("", "outputs = { total_x = function(v) return v:share('a','x') + v:share('b','x') + v:share('c','x') end },",
                 "return base\n");
    /* sandboxed: absolute paths and '..' are refused */
    s = load_ok_opts(src, NULL, path);
    lua_fails(s, 0, "(...):run():write_csv('/tmp/x.csv')", "sandboxed scripts may write only to relative paths");
    lua_fails(s, 0, "(...):run():write_csv('a/../../x.csv')", "without '..'");
    lua_fails(s, 0, "(...):run():write_csv('x.csv', { layout = 'tall' })", "layout must be \"long\" or \"wide\"");
    lua_fails(s, 0, "(...):run():write_csv('x.csv', { sep = ';' })", "unknown option 'sep'");
    /* the REPL's permission lifts the restriction */
    L = ss_script_state(s);
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_ALLOW_WRITES);
    snprintf(out, sizeof out, "%s/long.csv", tmpdir);
    snprintf(code, sizeof code, "return (...):run():write_csv('%s')", out);
    lua_do(s, 0, code, 1);
    assert_true(lua_toboolean(L, -1));
    lua_pop(L, 1);
    ss_script_close(s);
    /* 17 times x (30 + 18 + 4 + 1 derived) rows + header */
    assert_int_equal(count_lines(out), 1 + 17 * (30 + 18 + 4 + 1));
    snprintf(side, sizeof side, "%s.json", out);
    f = fopen(side, "r");
    assert_non_null(f);
    fclose(f);
    f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "scenario,time,provider,segment,metric,value\n");
    {
        int found = 0;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "m,2023,,,total_x,", 17) == 0) {
                assert_close(atof(line + 17), 1.0, 1e-12);
                found = 1;
            }
        assert_true(found);
    }
    fclose(f);

    /* unsafe: any path; wide layout; a failure returns nil, message */
    o.unsafe = 1;
    s = load_ok_opts(src, &o, path);
    free(src);
    L = ss_script_state(s);
    snprintf(out, sizeof out, "%s/wide.csv", tmpdir);
    snprintf(code, sizeof code,
             "local r = (...):run(); return r:write_csv('%s', { layout = 'wide' }),"
             " r:write_csv('%s/no/such/dir/x.csv')", out, tmpdir);
    lua_do(s, 0, code, 3);
    assert_true(lua_toboolean(L, -3));
    assert_true(lua_isnil(L, -2));
    assert_non_null(strstr(lua_tostring(L, -1), "no/such/dir"));
    lua_pop(L, 3);
    ss_script_close(s);
    assert_int_equal(count_lines(out), 1 + 17);
    f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",total_x\n"));
    assert_non_null(strstr(line, "scenario,time,"));
    fclose(f);
}

/* ---------------------------------------------------- API housekeeping */

static void test_fast_path_and_nil_return(void **state)
{
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    ss_run_opts o;
    ss_err err;
    int rc;
    (void)state;
    free(src);
    ss_err_clear(&err);
    assert_int_equal(ss_script_run_opts(s, 0, &o, &err), SS_OK);
    assert_null(o.on_epoch);
    assert_null(o.on_output);
    assert_int_equal(o.nextra, 0);
    assert_int_equal(ss_script_run_opts(s, 1, &o, &err), SS_EINVAL);
    ss_script_close(s);

    /* a script that returns nothing did its own work: no scenario */
    src = market("", "", "local r = base:run()\nassert(r:value('share', 'a', 'x') > 0)\n");
    s = load_opts(src, NULL, &rc, &err, path);
    free(src);
    assert_int_equal(rc, SS_OK);
    assert_int_equal(ss_script_count(s), 0);
    ss_script_close(s);
    src = market("", "", "return false\n");
    s = load_opts(src, NULL, &rc, &err, path);
    free(src);
    assert_int_equal(rc, SS_EINVAL);
    assert_non_null(strstr(err.msg, "got boolean"));
    ss_script_close(s);
}

/* The REPL's interrupt flag stops runs started from Lua. */
static void test_interrupt(void **state)
{
    static volatile int flag;
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    (void)state;
    free(src);
    lua_pushlightuserdata(L, (void *)&flag);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_INTERRUPT);
    flag = 0;
    lua_do(s, 0, "return (...):run()", 1);
    lua_pop(L, 1);
    flag = 1;
    lua_fails(s, 0, "return (...):run()", "scenario 'm': interrupted at t=2022");
    ss_script_close(s);
}

/* The analysis methods report to the host's progress display
 * (SL_PROGRESS), end it also when they fail, and an interruption says
 * how far they got. */
typedef struct host_log {
    int begins, ends, updates;
    char label[64], unit[16];
    uint64_t done, total;
} host_log;

static void host_begin(void *payload, const char *label, const char *unit)
{
    host_log *h = payload;
    h->begins++;
    snprintf(h->label, sizeof h->label, "%s", label);
    snprintf(h->unit, sizeof h->unit, "%s", unit);
}

static void host_update(uint64_t done, uint64_t total, void *payload)
{
    host_log *h = payload;
    h->updates++;
    h->done = done;
    h->total = total;
}

static void host_end(void *payload)
{
    ((host_log *)payload)->ends++;
}

static void test_analysis_progress(void **state)
{
    static volatile int flag;
    static host_log h;
    static sl_progress host = { host_begin, host_update, host_end, &h };
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    (void)state;
    free(src);
    lua_pushlightuserdata(L, (void *)&flag);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_INTERRUPT);
    lua_pushlightuserdata(L, &host);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_PROGRESS);
    flag = 0;

    memset(&h, 0, sizeof h);
    lua_do(s, 0, "return (...):sensitivity{vary = {'segments.x.growth', 'segments.x.tau'}}", 1);
    lua_pop(L, 1);
    assert_int_equal(h.begins, 1);
    assert_int_equal(h.ends, 1);
    assert_string_equal(h.label, "sensitivity m");
    assert_string_equal(h.unit, "runs");
    assert_int_equal(h.done, 5);
    assert_int_equal(h.total, 5);

    memset(&h, 0, sizeof h);
    lua_do(s, 0, "return (...):montecarlo{runs = 128}", 1);
    lua_pop(L, 1);
    assert_int_equal(h.ends, 1);
    assert_string_equal(h.label, "montecarlo m");
    assert_int_equal(h.done, 128);
    assert_int_equal(h.total, 128);

    memset(&h, 0, sizeof h);
    lua_do(s, 0, "return (...):optimize{objective = 'npv:a', starts = 2, "
                 "controls = {['providers.a.reinvest'] = {lower = 0.1, upper = 0.4}}}", 1);
    lua_pop(L, 1);
    assert_string_equal(h.unit, "starts");
    assert_int_equal(h.done, 2);
    assert_int_equal(h.total, 2);
    assert_int_equal(h.ends, 1);

    memset(&h, 0, sizeof h);
    lua_do(s, 0, "return (...):calibrate{params = {['segments.x.tau'] = {lower = 0.5, upper = 3}}, "
                 "data = {{time = 2024, provider = 'a', segment = 'x', metric = 'share', "
                 "value = 0.41}}}", 1);
    lua_pop(L, 1);
    assert_true(h.done > 2);
    assert_int_equal(h.total, 0);
    assert_int_equal(h.ends, 1);

    /* interrupted: what was done, the display ended */
    flag = 1;
    memset(&h, 0, sizeof h);
    lua_fails(s, 0, "return (...):sensitivity{vary = {'segments.x.growth'}}",
              "sensitivity: interrupted after 0 of 3 runs");
    assert_int_equal(h.ends, 1);
    memset(&h, 0, sizeof h);
    lua_fails(s, 0, "return (...):montecarlo{runs = 2000}", "montecarlo: interrupted after 0 of 2,000 runs");
    assert_int_equal(h.ends, 1);
    lua_fails(s, 0, "return (...):calibrate{params = {['segments.x.tau'] = {lower = 0.5, upper = 3}}, "
                    "data = {{time = 2024, provider = 'a', segment = 'x', metric = 'share', "
                    "value = 0.41}}}", "calibrate: interrupted after 1 run");
    flag = 0;
    ss_script_close(s);
}

/* Protected: push the Result of the run in the light userdata (arg 1). */
static void *push_req_s, *push_req_r;
static const char *push_req_path;
static int l_push_ok(lua_State *L)
{
    sl_push_result(L, push_req_r, ss_script_model(push_req_s, 0), push_req_path);
    return 1;
}

/* Results handed over from C. */
static void test_push_result(void **state)
{
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    (void)state;
    free(src);
    push_req_s = s;
    push_req_r = run_ok(s, 0);
    push_req_path = path;
    lua_pushcfunction(L, l_push_ok);
    assert_int_equal(sl_pcall(L, 0, 1), LUA_OK);
    lua_getfield(L, -1, "value");
    lua_pushvalue(L, -2);
    lua_pushliteral(L, "share");
    lua_pushliteral(L, "a");
    lua_pushliteral(L, "x");
    assert_int_equal(sl_pcall(L, 4, 1), LUA_OK);
    assert_true(lua_tonumber(L, -1) > 0);
    lua_pop(L, 2);
    ss_script_close(s);
}

/* A hook raising an interruption (as the REPL's Ctrl-C does) at the
 * interrupt_at-th function call after it is set. */
static int interrupt_at, calls_seen;
static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (++calls_seen == interrupt_at) {
        lua_sethook(L, NULL, 0, 0);
        sl_raise(L, SS_EINTR, "interrupted!");
    }
}

/* An interruption (the REPL's Ctrl-C hook raises one at any call) while a
 * Result is being made reaches the caller as that interruption: it was
 * once turned into "out of memory". */
static void test_push_result_interrupted(void **state)
{
    char path[128], *src = market("", "", "return base\n");
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    ss_err err;
    (void)state;
    free(src);
    push_req_s = s;
    push_req_path = path;
    /* call 1 is l_push_ok, call 2 the protected call that makes the Result
     * (sl_push_result owns and frees it then) */
    push_req_r = run_ok(s, 0);
    interrupt_at = 2;
    calls_seen = 0;
    lua_pushcfunction(L, l_push_ok);
    lua_sethook(L, interrupt_hook, LUA_MASKCALL, 0);
    assert_int_not_equal(sl_pcall(L, 0, 1), LUA_OK);
    lua_sethook(L, NULL, 0, 0);
    assert_int_equal(calls_seen, 2);
    ss_err_clear(&err);
    assert_int_equal(sl_to_err(L, LUA_ERRRUN, &err), SS_EINTR);
    assert_non_null(strstr(err.msg, "interrupted!"));
    ss_script_close(s);
}

/* Append the text of a file to *buf (malloc'ed, NUL-terminated). */
static void slurp(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "r");
    long n;
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    *buf = realloc(*buf, *len + (size_t)n + 2);
    assert_non_null(*buf);
    assert_int_equal(fread(*buf + *len, 1, (size_t)n, f), (size_t)n);
    *len += (size_t)n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = '\0';
    fclose(f);
}

/* Every _docs entry is documented in docs/ (this layer's in lua-api.md,
 * which is read first; other layers may document theirs in other pages),
 * and every method of the Result and View objects and every module
 * function of this layer has an entry. */
static void test_docs(void **state)
{
    char path[128], *src = market("", "", "return base\n"), *md = NULL;
    ss_script *s = load_ok_opts(src, NULL, path);
    lua_State *L = ss_script_state(s);
    size_t n = 0, mdlen = 0;
    (void)state;
    free(src);
    slurp("docs/lua-api.md", &md, &mdlen);
    {
        static const char *const others[] = {
            "docs/scenarios.md", "docs/analysis.md", "docs/repl.md", "docs/cli.md", NULL
        };
        size_t i;
        for (i = 0; others[i]; i++)
            if (access(others[i], R_OK) == 0)
                slurp(others[i], &md, &mdlen);
    }

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "stratsim");
    assert_int_equal(lua_getfield(L, -1, "_docs"), LUA_TTABLE);
    /* every documented name is in the docs */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        const char *k = lua_tostring(L, -2);
        char q[128];
        snprintf(q, sizeof q, "`%s", k);
        if (!strstr(md, q))
            fail_msg("docs/*.md do not document `%s`", k);
        n++;
        lua_pop(L, 1);
    }
    assert_true(n >= 40);
    /* module functions of this layer (other layers add their own entries) */
    {
        static const char *const names[] = {
            "scenario", "steps", "linear", "compare", "sparkline", "version", "_docs", NULL
        };
        size_t i;
        for (i = 0; names[i]; i++) {
            char key[96];
            snprintf(key, sizeof key, "stratsim.%s", names[i]);
            assert_int_not_equal(lua_getfield(L, -2, names[i]), LUA_TNIL);
            if (lua_getfield(L, -2, key) != LUA_TSTRING)
                fail_msg("no _docs entry for %s", key);
            lua_pop(L, 2);
        }
    }
    /* Result methods */
    luaL_getmetatable(L, SL_RESULT);
    lua_getfield(L, -1, "__index");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        char key[96];
        snprintf(key, sizeof key, "result:%s", lua_tostring(L, -2));
        if (lua_getfield(L, -5, key) != LUA_TSTRING)
            fail_msg("no _docs entry for %s", key);
        lua_pop(L, 2);
    }
    lua_pop(L, 2);
    /* View methods: the upvalue of its __index */
    luaL_getmetatable(L, SL_VIEW);
    lua_getfield(L, -1, "__index");
    assert_non_null(lua_getupvalue(L, -1, 1));
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        char key[96];
        snprintf(key, sizeof key, "view:%s", lua_tostring(L, -2));
        if (lua_getfield(L, -6, key) != LUA_TSTRING)
            fail_msg("no _docs entry for %s", key);
        lua_pop(L, 2);
    }
    lua_pop(L, 3);
    lua_getfield(L, -1, "scenario:run");
    assert_true(strncmp(lua_tostring(L, -1), "scenario:run() -> result: ", 26) == 0);
    lua_pop(L, 4);
    free(md);
    ss_script_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_equals_set_events),
        cmocka_unit_test(test_epoch_boundaries),
        cmocka_unit_test(test_epoch_order),
        cmocka_unit_test(test_view_set_errors),
        cmocka_unit_test(test_derived_metrics),
        cmocka_unit_test(test_derived_metric_errors),
        cmocka_unit_test(test_output_names),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_runaway_callbacks),
        cmocka_unit_test(test_budget_per_run),
        cmocka_unit_test(test_runaway_in_script),
        cmocka_unit_test(test_view_outside_call),
        cmocka_unit_test(test_results_api),
        cmocka_unit_test(test_plot_and_sparkline),
        cmocka_unit_test(test_write_csv),
        cmocka_unit_test(test_fast_path_and_nil_return),
        cmocka_unit_test(test_interrupt),
        cmocka_unit_test(test_analysis_progress),
        cmocka_unit_test(test_push_result),
        cmocka_unit_test(test_push_result_interrupted),
        cmocka_unit_test(test_runs_restart_random),
        cmocka_unit_test(test_docs),
    };
    return cmocka_run_group_tests_name("lua_api", tests, setup, teardown);
}
