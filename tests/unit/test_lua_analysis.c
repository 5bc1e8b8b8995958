/*
 * test_lua_analysis.c - unit tests of the analysis glue (src/lua/ss_analysis.h)
 * and of the sidecar's analysis settings (ss_sidecar_info.extra_json):
 * settings merged after "unsafe" with bit-exact numbers and rejected when
 * they are not an object, clash with a sidecar member or hold a non-finite
 * number; the ss_analysis setters keep paths sorted; the Monte Carlo
 * settings record seeds beyond 2^53 as strings; override files (--params)
 * are read sorted and exact, and bad ones are refused with the file name;
 * sensitivity parameters take distribution quantiles or base -+ range.
 */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>

#include "lua/ss_analysis.h"

static char *xstrdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

/* One segment s1, two providers p1 p2 (shares 0.4, 0.6), resolved. */
static ss_model *mk(void)
{
    ss_model *m = ss_model_new(1, 2);
    ss_err err = {0};
    assert_non_null(m);
    m->seg[0].id = xstrdup("s1");
    m->seg[0].size = 100;
    m->prov[0].id = xstrdup("p1");
    m->prov[1].id = xstrdup("p2");
    m->prov[0].share[0] = 0.4;
    m->prov[1].share[0] = 0.6;
    m->t0 = 2020;
    m->t1 = 2025;
    m->step = 0.5;
    if (ss_model_resolve(m, &err) != SS_OK)
        fail_msg("resolve: %s", err.msg);
    return m;
}

/* The sidecar of m with extra settings, as text (NULL on error, rc set). */
static char *sidecar(const ss_model *m, const char *extra, int *rc, ss_err *err)
{
    ss_sidecar_info info;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    memset(&info, 0, sizeof info);
    info.command = "mc";
    info.extra_json = extra;
    *rc = ss_sidecar_write(f, &info, &m, 1, err);
    fclose(f);
    if (*rc != SS_OK) {
        free(text);
        return NULL;
    }
    return text;
}

static void test_sidecar_extra(void **state)
{
    ss_model *m = mk();
    ss_err err = {0};
    int rc;
    char *text;
    cJSON *root, *mc, *item;
    (void)state;

    text = sidecar(m, "{\"mc\": {\"runs\": 1000, \"x\": 0.30000000000000004, "
                      "\"seed\": \"18446744073709551615\", \"q\": [0.05, 0.5]}}", &rc, &err);
    if (!text)
        fail_msg("sidecar: %s", err.msg);
    assert_non_null(strstr(text, "0.30000000000000004"));
    root = cJSON_Parse(text);
    assert_non_null(root);
    /* after "unsafe", before "scenarios" */
    for (item = root->child; item && strcmp(item->string, "unsafe") != 0; item = item->next)
        ;
    assert_non_null(item);
    assert_non_null(item->next);
    assert_string_equal(item->next->string, "mc");
    assert_string_equal(item->next->next->string, "scenarios");
    mc = cJSON_GetObjectItemCaseSensitive(root, "mc");
    assert_true(cJSON_GetObjectItemCaseSensitive(mc, "runs")->valuedouble == 1000);
    assert_true(cJSON_GetObjectItemCaseSensitive(mc, "x")->valuedouble == 0.1 + 0.2);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mc, "seed")->valuestring,
                        "18446744073709551615");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(mc, "q")), 2);
    cJSON_Delete(root);
    free(text);

    assert_null(sidecar(m, "[1, 2]", &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_non_null(strstr(err.msg, "not a JSON object"));
    assert_null(sidecar(m, "{\"mc\": 1", &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_null(sidecar(m, "{\"command\": \"x\"}", &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_non_null(strstr(err.msg, "'command'"));
    assert_null(sidecar(m, "{\"mc\": {\"v\": 1e999}}", &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_non_null(strstr(err.msg, "non-finite"));
    ss_model_free(m);
}

static void test_setters_sorted(void **state)
{
    ss_analysis *a = ss_analysis_new();
    ss_err err = {0};
    ss_dist d;
    double p[2] = {0, 1};
    (void)state;
    assert_non_null(a);
    assert_int_equal(a->minimize, -1);
    assert_int_equal(ss_dist_make(&d, SS_DIST_UNIFORM, p, 2, NULL, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.tau", &d, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "providers.p1.reinvest", &d, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.growth", &d, &err), SS_OK);
    p[1] = 2;
    assert_int_equal(ss_dist_make(&d, SS_DIST_UNIFORM, p, 2, NULL, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.tau", &d, &err), SS_OK); /* replaces */
    assert_int_equal(a->nparams, 3);
    assert_string_equal(a->params[0].path, "providers.p1.reinvest");
    assert_string_equal(a->params[1].path, "segments.s1.growth");
    assert_string_equal(a->params[2].path, "segments.s1.tau");
    assert_true(a->params[2].dist.p[1] == 2);
    assert_int_equal(ss_analysis_find_dist(a, "segments.s1.growth"), 1);
    assert_int_equal(ss_analysis_find_dist(a, "segments.s1.size"), -1);
    assert_int_equal(ss_analysis_set_control(a, "b", 0, 1, &err), SS_OK);
    assert_int_equal(ss_analysis_set_control(a, "a", 0, 2, &err), SS_OK);
    assert_string_equal(a->controls[0].path, "a");
    assert_int_equal(ss_analysis_set_calib(a, "x", -INFINITY, INFINITY, NAN, &err), SS_OK);
    assert_int_equal(ss_analysis_add_constraint(a, "npv:p1 >= 0", &err), SS_OK);
    assert_int_equal(ss_analysis_set_objective(a, "npv:p1", &err), SS_OK);
    ss_analysis_free(a);
    ss_analysis_free(NULL);
}

static void test_check_path(void **state)
{
    ss_model *m = mk();
    ss_err err = {0};
    (void)state;
    assert_int_equal(ss_analysis_check_path(m, "segments.s1.tau", "control", &err), SS_OK);
    assert_int_equal(ss_analysis_check_path(m, "time.stop", "control", &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "time.*"));
    assert_int_equal(ss_analysis_check_path(m, "providers.p9.reinvest", "control", &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "p9"));
    ss_model_free(m);
}

static void test_mc_settings(void **state)
{
    ss_analysis *a = ss_analysis_new();
    const ss_analysis *as[1];
    const char *names[1] = {"sc"};
    ss_mc_opts o = SS_MC_OPTS_INIT;
    double q[2] = {0.05, 0.95};
    ss_err err = {0};
    ss_dist d;
    double p[2] = {0.2, 0.03};
    size_t blocks[1] = {512};
    char *json;
    cJSON *root, *mc;
    (void)state;
    assert_int_equal(ss_dist_make(&d, SS_DIST_NORMAL, p, 2, NULL, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.growth", &d, &err), SS_OK);
    as[0] = a;
    o.runs = 5000;
    o.seed = 18446744073709551615ULL;
    o.threads = 3;
    json = ss_analysis_json_mc(as, names, 1, &o, q, 2, blocks, NULL);
    assert_non_null(json);
    root = cJSON_Parse(json);
    assert_non_null(root);
    mc = cJSON_GetObjectItemCaseSensitive(root, "mc");
    assert_non_null(mc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mc, "seed")->valuestring, "18446744073709551615");
    assert_true(cJSON_GetObjectItemCaseSensitive(mc, "runs")->valuedouble == 5000);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(mc, "rng")->valuestring, "xoshiro256**");
    assert_true(cJSON_GetObjectItemCaseSensitive(mc, "block")->valuedouble == 512);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(mc, "uncertainty"), "segments.s1.growth")->valuestring,
                        "normal(0.2, 0.03)");
    cJSON_Delete(root);
    free(json);
    ss_analysis_free(a);
}

/* Write text to a temporary file; returns its malloc'ed name. */
static char *tmpfile_with(const char *text)
{
    char *name = xstrdup("/tmp/ss_params_XXXXXX");
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return name;
}

static void test_params_read(void **state)
{
    char *f, **v = NULL;
    size_t n = 0;
    ss_err err = {0};
    (void)state;
    f = tmpfile_with("-- fit\nreturn {\n  [\"segments.s1.tau\"] = 1.4999999999999998,\n"
                     "  [\"providers.p1.reinvest\"] = 0.3,\n  [\"a.b\"] = -2 }\n");
    assert_int_equal(ss_params_read(f, &v, &n, &err), SS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "a.b=-2");
    assert_string_equal(v[1], "providers.p1.reinvest=0.3");
    assert_string_equal(v[2], "segments.s1.tau=1.4999999999999998");
    ss_strings_free(v, n);
    unlink(f);
    free(f);

    f = tmpfile_with("return { x = 'fast' }\n");
    assert_int_equal(ss_params_read(f, &v, &n, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, f));
    assert_non_null(strstr(err.msg, "expected a finite number"));
    unlink(f);
    free(f);

    f = tmpfile_with("return 42\n");
    assert_int_equal(ss_params_read(f, &v, &n, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "expected the file to return a table"));
    unlink(f);
    free(f);

    f = tmpfile_with("return { [\"x\"] = os.exit() }\n"); /* sandboxed: no os */
    assert_int_equal(ss_params_read(f, &v, &n, &err), SS_EINVAL);
    unlink(f);
    free(f);

    f = tmpfile_with("while true do end\n");
    assert_int_equal(ss_params_read(f, &v, &n, &err), SS_ELIMIT);
    unlink(f);
    free(f);

    assert_int_equal(ss_params_read("/nonexistent/fit.lua", &v, &n, &err), SS_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/fit.lua"));
}

static void test_sens_params(void **state)
{
    ss_model *m = mk();
    ss_analysis *a = ss_analysis_new();
    ss_sens_param *sp = NULL;
    size_t n = 0;
    ss_err err = {0};
    ss_dist d;
    double p[2] = {1, 3};
    const char *vary[] = {"segments.s1.tau", "segments.s1.size"};
    (void)state;
    assert_int_equal(ss_dist_make(&d, SS_DIST_UNIFORM, p, 2, NULL, &err), SS_OK);
    assert_int_equal(ss_analysis_set_dist(a, "segments.s1.tau", &d, &err), SS_OK);
    /* every uncertain parameter */
    assert_int_equal(ss_sens_params(&sp, &n, a, m, NULL, 0, 0.1, 0.05, 0.95, &err), SS_OK);
    assert_int_equal(n, 1);
    assert_close(sp[0].low, 1.1, 1e-12);
    assert_close(sp[0].high, 2.9, 1e-12);
    assert_int_equal(sp[0].from_range, 0);
    free(sp);
    /* a named path without a distribution: base -+ range */
    assert_int_equal(ss_sens_params(&sp, &n, a, m, vary, 2, 0.1, 0.05, 0.95, &err), SS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sp[1].from_range, 1);
    assert_close(sp[1].base, 100, 0);
    assert_close(sp[1].low, 90, 1e-12);
    assert_close(sp[1].high, 110, 1e-12);
    assert_int_equal(sp[1].dist.kind, SS_DIST_UNIFORM);
    free(sp);
    /* base 0 gives no range */
    vary[1] = "providers.p1.fixed_cost";
    assert_int_equal(ss_sens_params(&sp, &n, a, m, vary, 2, 0.1, 0.05, 0.95, &err), SS_EINVAL);
    assert_non_null(strstr(err.msg, "base value is 0"));
    /* nothing to vary */
    ss_analysis_free(a);
    a = ss_analysis_new();
    assert_int_equal(ss_sens_params(&sp, &n, a, m, NULL, 0, 0.1, 0.05, 0.95, &err), SS_EINVAL);
    ss_analysis_free(a);
    ss_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sidecar_extra),
        cmocka_unit_test(test_setters_sorted),
        cmocka_unit_test(test_check_path),
        cmocka_unit_test(test_mc_settings),
        cmocka_unit_test(test_params_read),
        cmocka_unit_test(test_sens_params),
    };
    ss_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
