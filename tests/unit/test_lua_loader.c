/*
 * test_lua_loader.c - the Lua layer (src/lua): scenario scripts written to a
 * temporary directory are loaded with ss_script_load and checked for values
 * and defaults, lists of scenarios, :with derivation, every --set path form,
 * error messages *and* their FILE:LINE, the sandbox (no os/io/require/debug/
 * string.dump/binary chunks/__gc), readable odd error objects, and the
 * instruction and memory budgets (plain, pcall/xpcall/coroutine-wrapped
 * runaway scripts, and the paths where Lua runs code with hooks off).
 */
#include "test_util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include "stratsim.h"
#include "lua/sl_internal.h"

static char tmpdir[64];
static int nfile;

/* The reference scenario; the comments give the line numbers the error
 * tests rely on. */
static const char *const BASE =
    "-- reference scenario\n"                                                  /* 1 */
    "return stratsim.scenario {\n"                                             /* 2 */
    "  name = \"base\",\n"                                                     /* 3 */
    "  time = { start = 2022, stop = 2028, step = 0.5 },\n"                    /* 4 */
    "  discount_rate = 0.08,\n"                                                /* 5 */
    "  solver = { method = \"rkf45\", max_steps = 1e5 },\n"                    /* 6 */
    "  segments = {\n"                                                         /* 7 */
    "    { id = \"public\", size = 100, growth = 0.2, tau = 1.5 },\n"          /* 8 */
    "    { id = \"private\", size = 50,\n"                                     /* 9 */
    "      growth = stratsim.steps{{2023, 0.08}, {2025, 0.05}} },\n"           /* 10 */
    "  },\n"                                                                   /* 11 */
    "  providers = {\n"                                                        /* 12 */
    "    { id = \"alibaba\", share = { public = 0.4, private = 0.2 },\n"       /* 13 */
    "      margin = { public = 0.35, private = 0.1 },\n"                       /* 14 */
    "      price = 1.1 },\n"                                                   /* 15 */
    "    { id = \"others\", share = { public = 0.6, private = 0.8 } },\n"      /* 16 */
    "  },\n"                                                                   /* 17 */
    "  events = {\n"                                                           /* 18 */
    "    { t = 2023.5, kind = \"outage\", provider = \"alibaba\", severity = 0.1 },\n" /* 19 */
    "    { t = 2024, kind = \"set\", provider = \"others\", field = \"price\",\n"      /* 20 */
    "      value = { public = 0.9 } },\n"                                      /* 21 */
    "  },\n"                                                                   /* 22 */
    "}\n";                                                                     /* 23 */

static int setup(void **state)
{
    (void)state;
    gsl_set_error_handler_off();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sslua-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char path[128];
    int i;
    (void)state;
    for (i = 1; i <= nfile; i++) {
        snprintf(path, sizeof path, "%s/t%d.lua", tmpdir, i);
        unlink(path);
    }
    rmdir(tmpdir);
    return 0;
}

/* Write src to a fresh file; its path goes to path[128]. */
static void write_file(const char *src, size_t len, char *path)
{
    FILE *f;
    snprintf(path, 128, "%s/t%d.lua", tmpdir, ++nfile);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(src, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* BASE with the first occurrence of `from` replaced by `to` (malloc'ed). */
static char *subst(const char *src, const char *from, const char *to)
{
    const char *at = strstr(src, from);
    size_t n;
    char *out;
    if (!at)
        fail_msg("'%s' not in the source", from);
    n = strlen(src) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    assert_non_null(out);
    memcpy(out, src, (size_t)(at - src));
    strcpy(out + (at - src), to);
    strcat(out, at + strlen(from));
    return out;
}

/* Load src; on success return the script (caller closes). */
static ss_script *load_opts(const char *src, const char *const *sets, size_t nsets,
                            const ss_script_opts *opts, int *rc, ss_err *err, char *path)
{
    ss_script *s = NULL;
    write_file(src, strlen(src), path);
    ss_err_clear(err);
    *rc = ss_script_open(&s, opts, err);
    assert_int_equal(*rc, SS_OK);
    *rc = ss_script_load(s, path, sets, nsets, err);
    return s;
}

static ss_script *load_ok(const char *src, const char *const *sets, size_t nsets)
{
    char path[128];
    ss_err err;
    int rc;
    ss_script *s = load_opts(src, sets, nsets, NULL, &rc, &err, path);
    if (rc != SS_OK)
        fail_msg("load failed (%d): %s", rc, err.msg);
    return s;
}

/* Load src expecting status `code`, a message containing `frag`, and, if
 * line > 0, starting with "PATH:LINE: ". */
static void expect_err_opts(const char *src, const ss_script_opts *opts, int code,
                            const char *frag, int line)
{
    char path[128], prefix[160];
    ss_err err;
    int rc;
    ss_script *s = load_opts(src, NULL, 0, opts, &rc, &err, path);
    if (rc != code)
        fail_msg("expected status %d, got %d: %s", code, rc, err.msg);
    if (!strstr(err.msg, frag))
        fail_msg("message '%s' lacks '%s'", err.msg, frag);
    if (line > 0) {
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
        if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
            fail_msg("message '%s' does not start with '%s'", err.msg, prefix);
    }
    assert_int_equal(ss_script_count(s), 0);
    ss_script_close(s);
}

static void expect_err(const char *src, int code, const char *frag, int line)
{
    expect_err_opts(src, NULL, code, frag, line);
}

/* BASE with one substitution must fail with frag at line. */
static void expect_subst_err(const char *from, const char *to, const char *frag, int line)
{
    char *src = subst(BASE, from, to);
    expect_err(src, SS_EINVAL, frag, line);
    free(src);
}

/* ------------------------------------------------------------- values */

static void test_values_and_defaults(void **state)
{
    ss_script *s = load_ok(BASE, NULL, 0);
    const ss_model *m;
    const ss_provider *a, *o;
    (void)state;

    assert_int_equal(ss_script_count(s), 1);
    m = ss_script_model(s, 0);
    assert_non_null(m);
    assert_true(m->resolved);
    assert_string_equal(m->name, "base");
    assert_close(m->t0, 2022, 0);
    assert_close(m->t1, 2028, 0);
    assert_close(m->step, 0.5, 0);
    assert_close(m->epoch, 0.5, 0); /* default: the step */
    assert_close(m->discount_rate, 0.08, 0);
    assert_int_equal(m->solver.method, SS_SOLVER_RKF45);
    assert_int_equal(m->solver.max_steps, 100000);
    assert_close(m->solver.rtol, 1e-8, 0);

    assert_int_equal(m->nseg, 2);
    assert_string_equal(m->seg[0].id, "public");
    assert_close(m->seg[0].size, 100, 0);
    assert_close(m->seg[0].tau, 1.5, 0);
    assert_close(m->seg[1].tau, 2, 0);            /* default */
    assert_close(m->seg[1].depreciation, 0.2, 0); /* default */
    assert_close(m->seg[1].beta_price, 1, 0);
    assert_int_equal(m->seg[0].growth.kind, SS_SCHED_CONST);
    assert_close(m->seg[0].growth.value, 0.2, 0);
    assert_int_equal(m->seg[1].growth.kind, SS_SCHED_STEPS);
    assert_int_equal(m->seg[1].growth.n, 2);
    assert_close(m->seg[1].growth.t[0], 2023, 0);
    assert_close(m->seg[1].growth.v[0], 0.08, 0);
    assert_close(m->seg[1].growth.t[1], 2025, 0);
    assert_close(m->seg[1].growth.v[1], 0.05, 0);

    assert_int_equal(m->nprov, 2);
    a = &m->prov[0];
    o = &m->prov[1];
    assert_string_equal(a->id, "alibaba");
    assert_close(a->share[0], 0.4, 0);
    assert_close(a->margin[1], 0.1, 0);
    assert_close(o->margin[0], 0.3, 0);           /* default */
    assert_int_equal(a->reinvest.kind, SS_SCHED_CONST);
    assert_close(a->reinvest.value, 0.2, 0);      /* default */
    assert_close(a->price[0].value, 1.1, 0);      /* one number: every segment */
    assert_close(a->price[1].value, 1.1, 0);
    assert_close(o->price[0].value, 1, 0);
    assert_close(a->reliability, 1, 0);
    assert_close(a->recovery, 0.5, 0);
    assert_int_equal(a->allocation_given, 0);
    assert_int_equal(a->capability_given[0], 0);

    assert_int_equal(m->nev, 2);
    assert_int_equal(m->ev[0].kind, SS_EV_OUTAGE);
    assert_int_equal(m->ev[0].provider, 0);
    assert_close(m->ev[0].amount, 0.1, 0);
    assert_int_equal(m->ev[0].line, 19);
    assert_int_equal(m->ev[1].kind, SS_EV_SET);
    assert_int_equal(m->ev[1].field, SS_FIELD_PRICE);
    assert_int_equal(m->ev[1].provider, 1);
    assert_non_null(m->ev[1].mask);
    assert_int_equal(m->ev[1].mask[0], 1);
    assert_int_equal(m->ev[1].mask[1], 0);
    assert_close(m->ev[1].values[0], 0.9, 0);
    assert_int_equal(m->ev[1].line, 20);
    ss_script_close(s);
}

static void test_given_fields(void **state)
{
    static const char *const src =
        "return stratsim.scenario {\n"
        "  time = { start = 0, stop = 4, step = 1, epoch = 0.25 },\n"
        "  segments = { { id = \"a\", size = 10, bass = { p = 0.03, q = 0.4, potential = 100 } },\n"
        "               { id = \"b\", size = 5, depreciation = 0 } },\n"
        "  providers = {\n"
        "    { id = \"x\", share = { a = 1, b = 1 }, allocation = { a = 2 },\n"
        "      capability = { a = 3, b = 4 }, brand = { b = 2 },\n"
        "      reinvest = stratsim.linear{{0, 0.1}, {2, 0.3}},\n"
        "      participation = { b = 0.5 }, fixed_cost = -1, opex = 0.1 },\n"
        "  },\n"
        "}\n";
    ss_script *s = load_ok(src, NULL, 0);
    const ss_model *m = ss_script_model(s, 0);
    const ss_provider *x = &m->prov[0];
    (void)state;
    assert_string_equal(m->name, "scenario"); /* default */
    assert_close(m->epoch, 0.25, 0);
    assert_int_equal(m->seg[0].has_bass, 1);
    assert_close(m->seg[0].bass_q, 0.4, 0);
    assert_close(m->seg[0].bass_potential, 100, 0);
    assert_int_equal(x->allocation_given, 1);
    assert_close(x->allocation[0].value, 2, 0);
    assert_close(x->allocation[1].value, 0, 0); /* not named: 0 */
    assert_int_equal(x->capability_given[1], 1);
    assert_close(x->capability[1], 4, 0);
    assert_int_equal(x->brand_given[0], 0);
    assert_int_equal(x->brand_given[1], 1);
    assert_int_equal(x->reinvest.kind, SS_SCHED_LINEAR);
    assert_close(x->participation[0].value, 1, 0);
    assert_close(x->participation[1].value, 0.5, 0);
    assert_close(x->fixed_cost, -1, 0);
    assert_close(x->opex[1], 0.1, 0);
    ss_script_close(s);
}

static void test_list(void **state)
{
    char *src = subst(BASE, "return stratsim.scenario {", "local base = stratsim.scenario {");
    char *full = malloc(strlen(src) + 200);
    ss_script *s;
    (void)state;
    assert_non_null(full);
    sprintf(full, "%sreturn { base, base:with { name = \"high\", discount_rate = 0.12 } }\n", src);
    s = load_ok(full, NULL, 0);
    assert_int_equal(ss_script_count(s), 2);
    assert_string_equal(ss_script_model(s, 0)->name, "base");
    assert_string_equal(ss_script_model(s, 1)->name, "high");
    assert_close(ss_script_model(s, 1)->discount_rate, 0.12, 0);
    assert_null(ss_script_model(s, 2));
    assert_int_equal(ss_script_push_scenario(s, 1), 0);
    assert_non_null(sl_scenario_model(ss_script_state(s), -1));
    lua_pop(ss_script_state(s), 1);
    ss_script_close(s);
    free(src);
    free(full);
}

static void test_with(void **state)
{
    char *src = subst(BASE, "return stratsim.scenario {", "local base = stratsim.scenario {");
    char *full = malloc(strlen(src) + 1000);
    ss_script *s;
    const ss_model *b, *v, *w;
    (void)state;
    assert_non_null(full);
    sprintf(full, "%s"
            "local v = base:with {\n"                                                   /* 24 */
            "  name = \"v\", time = { stop = 2030 },\n"                                 /* 25 */
            "  providers = { alibaba = { margin = { public = 0.5 }, price = { private = 2 } },\n"
            "                { id = \"newco\", share = { public = 0, private = 0 } } },\n"
            "  events = { { t = 2029, kind = \"market\", segment = \"public\", factor = 1.5 } },\n"
            "}\n"
            "local w = v:with { name = \"w\", replace_events = true, solver = { rtol = 1e-6 } }\n"
            "assert(tostring(v):find(\"'v'\"), tostring(v))\n"
            "assert(v.time.stop == 2030 and base.time.stop == 2028)\n"
            "return { base, v, w }\n", src);
    s = load_ok(full, NULL, 0);
    assert_int_equal(ss_script_count(s), 3);
    b = ss_script_model(s, 0);
    v = ss_script_model(s, 1);
    w = ss_script_model(s, 2);
    /* base untouched */
    assert_close(b->t1, 2028, 0);
    assert_close(b->prov[0].margin[0], 0.35, 0);
    assert_int_equal(b->nprov, 2);
    assert_int_equal(b->nev, 2);
    /* v: only what it states */
    assert_close(v->t0, 2022, 0);
    assert_close(v->t1, 2030, 0);
    assert_close(v->step, 0.5, 0);
    assert_close(v->discount_rate, 0.08, 0);
    assert_int_equal(v->solver.method, SS_SOLVER_RKF45);
    assert_close(v->prov[0].margin[0], 0.5, 0);
    assert_close(v->prov[0].margin[1], 0.1, 0);
    assert_close(v->prov[0].price[0].value, 1.1, 0); /* the base's "every segment" */
    /* a decision input the variant changes is an intervention on the
       base's schedule, which stays the base (docs/model.md §6) */
    assert_close(v->prov[0].price[1].value, 1.1, 0);
    assert_true(v->prov[0].iv_on[ss_decision_slot(SS_FIELD_PRICE, 1, 2)]);
    assert_close(v->prov[0].iv[ss_decision_slot(SS_FIELD_PRICE, 1, 2)].value, 2, 0);
    assert_false(v->prov[0].iv_on[ss_decision_slot(SS_FIELD_PRICE, 0, 2)]);
    assert_int_equal(ss_model_interventions(b), 0);
    assert_close(v->prov[0].share[0], 0.4, 0);
    assert_int_equal(v->nprov, 3);
    assert_string_equal(v->prov[2].id, "newco");
    assert_int_equal(v->nseg, 2);
    assert_close(v->seg[1].growth.v[1], 0.05, 0);
    assert_int_equal(v->nev, 3);
    assert_int_equal(v->ev[0].line, 19);
    assert_int_equal(v->ev[2].kind, SS_EV_MARKET);
    assert_int_equal(v->ev[2].line, 28);
    /* w: events replaced (none given), solver merged key-wise */
    assert_int_equal(w->nev, 0);
    assert_close(w->solver.rtol, 1e-6, 0);
    assert_int_equal(w->solver.method, SS_SOLVER_RKF45);
    assert_close(w->prov[0].margin[0], 0.5, 0);
    ss_script_close(s);

    /* an error introduced by :with is reported at the :with's line */
    sprintf(full, "%s"
            "return base:with {\n"                                            /* 24 */
            "  name = \"bad\",\n"                                             /* 25 */
            "  providers = { others = { margin = { private = 1.5 } } },\n"    /* 26 */
            "}\n", src);
    expect_err(full, SS_EINVAL, "providers.others.margin.private: must be < 1", 26);
    sprintf(full, "%sreturn base:with { nmae = \"x\" }\n", src);
    expect_err(full, SS_EINVAL, "nmae: unknown key 'nmae' (did you mean 'name'?)", 24);
    sprintf(full, "%sreturn { base, base:with { discount_rate = 0 } }\n", src);
    expect_err(full, SS_EINVAL, "both named 'base'", 0);
    free(src);
    free(full);
}

/* ------------------------------------------------------------ --set */

static void test_set_paths(void **state)
{
    static const char *const sets[] = {
        "discount_rate=0.05", "time.stop=2030", "time.epoch=1", "solver.rtol=1e-6",
        "solver.max_steps=500", "segments.public.tau=3", "segments.private.growth=0.1",
        "providers.alibaba.reinvest=0.3", "providers.alibaba.recovery=1",
        "providers.alibaba.margin=0.2", "providers.others.price.public=1.2",
        "providers.others.capability.private=5", "providers.alibaba.allocation.public=3",
    };
    static const char *const bass_src =
        "return stratsim.scenario { time = { start = 0, stop = 2, step = 1 },\n"
        "  segments = { { id = \"ai\", size = 1, bass = { p = 0.1, q = 0.3, potential = 10 } } },\n"
        "  providers = { { id = \"x\", share = { ai = 1 } } } }\n";
    static const char *const bass_set[] = {"segments.ai.bass.q=0.5", "segments.ai.bass.potential=20"};
    ss_script *s = load_ok(BASE, sets, sizeof sets / sizeof sets[0]);
    const ss_model *m = ss_script_model(s, 0);
    (void)state;
    assert_close(m->discount_rate, 0.05, 0);
    assert_close(m->t1, 2030, 0);
    assert_close(m->epoch, 1, 0);
    assert_close(m->solver.rtol, 1e-6, 0);
    assert_int_equal(m->solver.max_steps, 500);
    assert_close(m->seg[0].tau, 3, 0);
    assert_int_equal(m->seg[1].growth.kind, SS_SCHED_CONST);
    assert_close(m->seg[1].growth.value, 0.1, 0);
    /* decision inputs: interventions on top of the base (docs/model.md §6) */
    assert_close(m->prov[0].reinvest.value, 0.2, 0);
    assert_true(m->prov[0].iv_on[0]);
    assert_close(m->prov[0].iv[0].value, 0.3, 0);
    assert_close(m->prov[0].recovery, 1, 0);
    assert_close(m->prov[0].margin[0], 0.2, 0);
    assert_close(m->prov[0].margin[1], 0.2, 0);
    assert_close(m->prov[1].price[0].value, 1, 0);
    assert_true(m->prov[1].iv_on[ss_decision_slot(SS_FIELD_PRICE, 0, 2)]);
    assert_close(m->prov[1].iv[ss_decision_slot(SS_FIELD_PRICE, 0, 2)].value, 1.2, 0);
    assert_false(m->prov[1].iv_on[ss_decision_slot(SS_FIELD_PRICE, 1, 2)]);
    assert_int_equal(m->prov[1].capability_given[1], 1);
    assert_close(m->prov[1].capability[1], 5, 0);
    /* the base allocation stays the default (shares of initial revenue);
       the named segment gets an intervention, the other keeps the default */
    assert_int_equal(m->prov[0].allocation_given, 0);
    assert_close(m->prov[0].allocation[1].value, 10.0 / 50.0, 1e-12);
    assert_true(m->prov[0].iv_on[ss_decision_slot(SS_FIELD_ALLOCATION, 0, 2)]);
    assert_close(m->prov[0].iv[ss_decision_slot(SS_FIELD_ALLOCATION, 0, 2)].value, 3, 0);
    assert_false(m->prov[0].iv_on[ss_decision_slot(SS_FIELD_ALLOCATION, 1, 2)]);
    ss_script_close(s);

    s = load_ok(bass_src, bass_set, 2);
    m = ss_script_model(s, 0);
    assert_close(m->seg[0].bass_q, 0.5, 0);
    assert_close(m->seg[0].bass_potential, 20, 0);
    ss_script_close(s);
}

static void expect_set_err(const char *set, int code, const char *frag)
{
    char path[128];
    ss_err err;
    int rc;
    const char *sets[1];
    ss_script *s;
    sets[0] = set;
    s = load_opts(BASE, sets, 1, NULL, &rc, &err, path);
    if (rc != code)
        fail_msg("--set %s: expected status %d, got %d: %s", set, code, rc, err.msg);
    if (!strstr(err.msg, frag))
        fail_msg("message '%s' lacks '%s'", err.msg, frag);
    ss_script_close(s);
}

static void test_set_errors(void **state)
{
    (void)state;
    expect_set_err("providers.nobody.margin=0.1", SS_EINVAL,
                   "--set providers.nobody.margin: unknown provider 'nobody'");
    expect_set_err("segments.pubic.tau=1", SS_EINVAL, "unknown segment 'pubic' (did you mean 'public'?)");
    expect_set_err("providers.alibaba.prise.public=1", SS_EINVAL, "unknown provider field 'prise'");
    expect_set_err("time.stop", SS_EINVAL, "--set 'time.stop': expected PATH=VALUE");
    expect_set_err("time.stop=soon", SS_EINVAL, "value 'soon' is not a finite number");
    expect_set_err("time.stop=nan", SS_EINVAL, "is not a finite number");
    expect_set_err("providers.alibaba.margin.public=1", SS_EINVAL, "must be < 1");
    expect_set_err("providers.alibaba.share=0.5", SS_EINVAL, "needs a segment");
    expect_set_err("segments.public.bass.p=1", SS_EINVAL, "has no bass diffusion");
    expect_set_err("solver.max_steps=0.5", SS_EINVAL, "whole number");
    /* a cross-check failing because of an override: located, and said so */
    expect_set_err("providers.alibaba.share.public=0.5", SS_EINVAL, "(after --set overrides)");
    expect_set_err("time.stop=2023.6", SS_EINVAL, ":20: events[2].t");
}

/* ----------------------------------------------------------- errors */

static void test_scenario_errors(void **state)
{
    (void)state;
    expect_subst_err("tau = 1.5", "tua = 1.5",
                     "segments.public.tua: unknown key 'tua' (did you mean 'tau'?)", 8);
    expect_subst_err("discount_rate = 0.08", "discount_rat = 0.08",
                     "discount_rat: unknown key 'discount_rat' (did you mean 'discount_rate'?)", 5);
    expect_subst_err("size = 50,", "size = \"50\",", "segments.private.size: expected a number, got string", 9);
    expect_subst_err("size = 50,", "", "segments.private.size: missing (required)", 9);
    expect_subst_err("id = \"others\"", "id = \"alibaba\"",
                     "providers[2].id: duplicate provider id 'alibaba'", 16);
    expect_subst_err("public = 0.6,", "public = 0.5,", "shares of segment 'public' sum to 0.9", 12);
    expect_subst_err("private = 0.1 }", "private = 1 }", "providers.alibaba.margin.private: must be < 1, got 1", 14);
    expect_subst_err("public = 0.6, private = 0.8", "public = 0.6, privat = 0.8",
                     "providers.others.share.privat: unknown segment 'privat' (did you mean 'private'?)", 16);
    expect_subst_err("kind = \"outage\"", "kind = \"outrage\"",
                     "events[1].kind: unknown event kind 'outrage' (did you mean 'outage'?)", 19);
    expect_subst_err("kind = \"outage\"", "kind = \"strike\"",
                     "unknown event kind 'strike' (expected outage, set or market)", 19);
    expect_subst_err("provider = \"others\"", "provider = \"other\"",
                     "events[2].provider: unknown provider 'other' (did you mean 'others'?)", 20);
    expect_subst_err("field = \"price\"", "field = \"prize\"",
                     "events[2].field: unknown field 'prize' (did you mean 'price'?)", 20);
    expect_subst_err("t = 2024,", "t = 2030,", "events[2].t: time 2030 is outside the scenario's time range", 20);
    expect_subst_err("severity = 0.1", "severity = 1", "events[1].severity: must be in (0, 1), got 1", 19);
    expect_subst_err("value = { public = 0.9 }", "value = { public = -1 }",
                     "events[2].value.public: must be > 0", 21);
    expect_subst_err("{2025, 0.05}", "{2022, 0.05}",
                     "stratsim.steps: knot 2: times must be strictly increasing", 10);
    expect_subst_err("size = 100", "size = 0/0", "segments.public.size: must be finite, got nan", 8);
    expect_subst_err("method = \"rkf45\"", "method = \"rk45\"",
                     "solver.method: unknown solver method 'rk45' (did you mean 'rkf45'?)", 6);
    expect_subst_err("max_steps = 1e5", "max_steps = 10.5", "solver.max_steps: must be a whole number", 6);
    expect_subst_err("growth = 0.2,", "growth = 0.2, bass = { p = 0.1, q = 0, potential = 200 },",
                     "segments.public.bass: growth and bass are exclusive", 8);
    expect_subst_err("segments = {", "segments = { x = 1,", "segments: expected an array", 7);
}

static void test_lua_errors(void **state)
{
    (void)state;
    /* syntax error: Lua's own message and line */
    expect_subst_err("discount_rate = 0.08,", "discount_rate = 0.08", "'}' expected (to close '{' at line 2)", 6);
    /* runtime error: message, line and a traceback */
    expect_subst_err("-- reference scenario", "local t = nil; local y = t.field",
                     "attempt to index a nil value (local 't')", 1);
    expect_subst_err("-- reference scenario", "local t = nil; local y = t.field", "stack traceback:", 1);
    /* odd error objects give readable messages */
    expect_err("error({})\n", SS_EINVAL, "(error object is a table value)", 1);
    expect_err("error(nil)\n", SS_EINVAL, "(error object is a nil value)", 1);
    expect_err("error(setmetatable({}, {__tostring = function() error('x') end}))\n", SS_EINVAL,
               "whose __tostring failed", 1);
    expect_err("error(setmetatable({}, {__tostring = function() return 'custom' end}))\n",
               SS_EINVAL, "custom", 0);
    /* what the chunk returns */
    expect_err("return 42\n", SS_EINVAL, "must return stratsim.scenario{...} or a list of them, got number", 0);
    expect_err("return {}\n", SS_EINVAL, "empty list", 0);
    expect_err("return stratsim.scenario(1)\n", SS_EINVAL, "stratsim.scenario: expected a table, got number", 1);
}

static void test_missing_file(void **state)
{
    ss_script *s = NULL;
    ss_err err;
    (void)state;
    ss_err_clear(&err);
    assert_int_equal(ss_script_open(&s, NULL, &err), SS_OK);
    assert_int_equal(ss_script_load(s, "/nonexistent/x.lua", NULL, 0, &err), SS_EIO);
    assert_non_null(strstr(err.msg, "cannot open /nonexistent/x.lua"));
    ss_script_close(s);
    ss_script_close(NULL);
}

/* ----------------------------------------------------------- sandbox */

static void test_sandbox(void **state)
{
    static const char binary[] = "\x1bLuaT\x00\x19\x93\r\n\x1a\n";
    char path[128];
    ss_script *s = NULL;
    ss_err err;
    (void)state;
    expect_err("os.execute('true')\n", SS_EINVAL,
               "'os' is not available in the sandbox (run with --unsafe to allow it)", 1);
    expect_err("io.popen('true')\n", SS_EINVAL, "'io' is not available in the sandbox", 1);
    expect_err("require('os')\n", SS_EINVAL, "'require' is not available in the sandbox", 1);
    expect_err("debug.getinfo(1)\n", SS_EINVAL, "'debug' is not available in the sandbox", 1);
    expect_err("package.loadlib('x', 'y')\n", SS_EINVAL, "'package' is not available in the sandbox", 1);
    expect_err("dofile('/etc/passwd')\n", SS_EINVAL, "'dofile' is not available in the sandbox", 1);
    expect_err("loadfile('/etc/passwd')\n", SS_EINVAL, "'loadfile' is not available in the sandbox", 1);
    /* the names are really absent, other unknown globals stay nil, and the
     * environment's metatable cannot be removed */
    expect_err("assert(rawget(_G, 'os') == nil and rawget(_G, 'io') == nil and nosuch == nil)\n"
               "setmetatable(_G, nil)\n", SS_EINVAL, "cannot change a protected metatable", 2);
    expect_err("string.dump(print)\n", SS_EINVAL, "attempt to call a nil value (field 'dump')", 1);
    expect_err("local d = ('x').dump; d(print)\n", SS_EINVAL, "attempt to call a nil value (local 'd')", 1);
    expect_err("assert(load('\\27LuaT\\0'))\n", SS_EINVAL, "attempt to load a binary chunk (mode is 't')", 1);
    expect_err("collectgarbage('stop')\n", SS_EINVAL, "not available in the sandbox", 1);
    expect_err("setmetatable({}, {__gc = function() end})\n", SS_EINVAL,
               "__gc metamethods are not available in the sandbox", 1);
    expect_err("getmetatable('').__index.rep = nil\n", SS_EINVAL, "attempt to index a boolean value", 1);

    /* a binary chunk file is refused */
    write_file(binary, sizeof binary - 1, path);
    ss_err_clear(&err);
    assert_int_equal(ss_script_open(&s, NULL, &err), SS_OK);
    assert_int_equal(ss_script_load(s, path, NULL, 0, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "attempt to load a binary chunk"));
    ss_script_close(s);
}

/* math.random is the same in two runs (fixed seed), and load() works on text. */
static void test_deterministic_random(void **state)
{
    static const char *const src =
        "local n = math.random(1000000000)\n"
        "assert(load('return 1 + 1')() == 2)\n"
        "return stratsim.scenario { name = 'r' .. n, time = { start = 0, stop = 1, step = 1 },\n"
        "  segments = { { id = 'a', size = 1 } }, providers = { { id = 'p', share = { a = 1 } } } }\n";
    ss_script *s1 = load_ok(src, NULL, 0), *s2 = load_ok(src, NULL, 0);
    (void)state;
    assert_string_equal(ss_script_model(s1, 0)->name, ss_script_model(s2, 0)->name);
    ss_script_close(s1);
    ss_script_close(s2);
}

static void test_unsafe(void **state)
{
    static const char *const src =
        "assert(type(os) == 'table' and type(io) == 'table' and type(require) == 'function')\n"
        "assert(require('stratsim') == stratsim)\n"
        "return stratsim.scenario { time = { start = 0, stop = 1, step = 1 },\n"
        "  segments = { { id = 'a', size = 1 } }, providers = { { id = 'p', share = { a = 1 } } } }\n";
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    char path[128];
    ss_err err;
    int rc;
    ss_script *s;
    (void)state;
    o.unsafe = 1;
    s = load_opts(src, NULL, 0, &o, &rc, &err, path);
    if (rc != SS_OK)
        fail_msg("unsafe load failed: %s", err.msg);
    assert_int_equal(ss_script_count(s), 1);
    ss_script_close(s);
}

/* ------------------------------------------------------------ limits */

/* Time limits are for a plain build; `make valgrind` runs the tests
 * several tens of times slower and sets SS_TEST_TIME_SCALE accordingly. */
static double time_limit(double seconds)
{
    const char *e = getenv("SS_TEST_TIME_SCALE");
    double k = e ? atof(e) : 1.0;
    return seconds * (k > 1.0 ? k : 1.0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_instruction_limit(void **state)
{
    static const char *const loops[] = {
        "while true do end\n",
        "while true do pcall(function() while true do end end) end\n",
        "while true do pcall(coroutine.wrap(function() while true do end end)) end\n",
        "local x <close> = setmetatable({}, {__close = function() while true do end end})\n",
        /* Lua runs these with hooks off when the hook's error unwinds: */
        "while true do xpcall(function() while true do end end, function() while true do end end) end\n",
        ("local co = coroutine.create(function() local x <close> = setmetatable({}, "
         "{__close = function() while true do end end}) while true do end end)\n"
         "coroutine.resume(co) coroutine.close(co)\n"),
        ("coroutine.wrap(function() local x <close> = setmetatable({}, "
         "{__close = function() while true do end end}) while true do end end)()\n"),
    };
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    size_t i;
    (void)state;
    o.max_instructions = 5000000;
    for (i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        double t = now();
        expect_err_opts(loops[i], &o, SS_ELIMIT, "instruction limit exceeded (5000000 instructions)", 1);
        if (now() - t > time_limit(5.0))
            fail_msg("loop %zu took %.1f s to stop", i, now() - t);
    }
    /* locating errors re-reads the source: that work counts too, so a pcall
     * loop of failing constructors in a large file stops as well */
    {
        static const char *const tail =
            "\nfor i = 1, 1e9 do pcall(stratsim.scenario, { time = 5 }) end\n";
        size_t n = 200000;
        char *src = malloc(n + strlen(tail) + 1);
        double t = now();
        assert_non_null(src);
        memset(src, 'x', n);
        src[0] = src[1] = '-';
        strcpy(src + n, tail);
        expect_err_opts(src, &o, SS_ELIMIT, "instruction limit exceeded", 2);
        if (now() - t > time_limit(5.0))
            fail_msg("the constructor loop took %.1f s to stop", now() - t);
        free(src);
    }
}

static void test_memory_limit(void **state)
{
    static const char *const bombs[] = {
        "local t = {} while true do t[#t+1] = ('x'):rep(1e6) .. #t end\n",
        "while true do pcall(function() local t = {} while true do t[#t+1] = ('x'):rep(1e6) .. #t end end) end\n",
        "local s = 'x' while true do s = s .. s end\n",
        "local x = ('x'):rep(2^30)\n",
    };
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    size_t i;
    ss_script *s;
    (void)state;
    o.max_memory = 16u * 1024 * 1024;
    o.max_instructions = 100000000;
    for (i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        double t = now();
        expect_err_opts(bombs[i], &o, SS_ELIMIT, "scenario exceeded 16 MiB of memory", 0);
        if (now() - t > time_limit(10.0))
            fail_msg("bomb %zu took %.1f s to stop", i, now() - t);
    }
    /* and a normal script still runs in a fresh state afterwards */
    s = load_ok(BASE, NULL, 0);
    assert_int_equal(ss_script_count(s), 1);
    ss_script_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_and_defaults),
        cmocka_unit_test(test_given_fields),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_with),
        cmocka_unit_test(test_set_paths),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_scenario_errors),
        cmocka_unit_test(test_lua_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_sandbox),
        cmocka_unit_test(test_deterministic_random),
        cmocka_unit_test(test_unsafe),
        cmocka_unit_test(test_instruction_limit),
        cmocka_unit_test(test_memory_limit),
    };
    return cmocka_run_group_tests_name("lua_loader", tests, setup, teardown);
}
