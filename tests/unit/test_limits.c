/*
 * test_limits.c - the core side of the second robustness round
 * (docs/robustness.md):
 * time grids counted on integers, fixed-step counts and stability limits,
 * shares and sizes checked during a run, events ordered stably, calibration
 * data limits and non-finite statistics, and the list of temporary output
 * files that a fatal-signal handler removes.
 */
#include "test_util.h"
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include "stratsim.h"
#include "test_models.h"

static int run_model(const ss_model *m, ss_result **r, ss_err *e)
{
    ss_err_clear(e);
    *r = NULL;
    return ss_sim_run(r, m, NULL, e);
}

/* start = stop = 1e308 with step 1 looped forever; a step of a few ulps
 * would repeat times. Both are refused, naming time.step / time.epoch. */
static void test_grid_resolution(void **state)
{
    ss_model *m = test_model_new(1, 2, 1.0);
    ss_result *r;
    ss_err e;
    (void)state;
    m->t0 = m->t1 = 1e308;
    m->step = 1.0;
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_string_equal(e.path, "time.step");
    assert_non_null(strstr(e.msg, "below the resolution of times near 1e+308"));
    m->t0 = -1e17;
    m->t1 = -1e17 + 4096;
    m->step = 8; /* doubles near 1e17 are 16 apart */
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_string_equal(e.path, "time.step");
    m->step = 1024;
    m->epoch = 4;
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_string_equal(e.path, "time.epoch");
    ss_model_free(m);
}

/* Large but resolvable times: the counted grid has exactly the expected
 * times, strictly increasing, stop included. */
static void test_grid_counts(void **state)
{
    ss_model *m = test_model_new(1, 2, 1.0);
    ss_result *r;
    ss_err e;
    size_t i;
    (void)state;
    m->t0 = 1e9;
    m->t1 = 1e9 + 1.0;
    m->step = 0.1;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    assert_int_equal(r->nt, 11);
    for (i = 1; i < r->nt; i++)
        assert_true(r->t[i] > r->t[i - 1]);
    assert_true(r->t[10] == 1e9 + 1.0);
    ss_result_free(r);
    /* a step that does not divide the horizon: stop is the last output */
    m->t0 = 0;
    m->t1 = 1.05;
    m->step = 0.25;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    assert_int_equal(r->nt, 6);
    assert_true(r->t[4] == 1.0 && r->t[5] == 1.05);
    ss_result_free(r);
    ss_model_free(m);
}

/* h = 1e-300: the step count is checked before it becomes an integer. */
static void test_fixed_step_count_checked(void **state)
{
    static const double hs[] = { 1e-300, 5e-324, 1e-20 };
    ss_model *m = test_model_new(1, 2, 1.0);
    ss_result *r;
    ss_err e;
    size_t j;
    (void)state;
    m->solver.method = SS_SOLVER_RK4;
    for (j = 0; j < sizeof hs / sizeof hs[0]; j++) {
        m->solver.h = hs[j];
        assert_int_equal(run_model(m, &r, &e), SS_ELIMIT);
        assert_non_null(strstr(e.msg, "exceed solver.max_steps = 1000000"));
        assert_null(r);
    }
    m->solver.max_steps = ~0UL; /* the count must not wrap around either */
    m->solver.h = 1e-300;
    assert_int_equal(run_model(m, &r, &e), SS_ELIMIT);
    ss_model_free(m);
}

/* Euler is stable for h <= 2 tau, RK4 for h <= 2.78 tau: the boundary is
 * accepted, anything beyond refused with solver.h, the segment, the limit. */
static void test_stability_limits(void **state)
{
    ss_model *m = test_model_new(1, 2, 2.0);
    ss_result *r;
    ss_err e;
    (void)state;
    m->seg[0].tau = 0.2;
    m->solver.method = SS_SOLVER_EULER;
    m->solver.h = 0.4;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    ss_result_free(r);
    m->solver.h = 0.41;
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_string_equal(e.path, "solver.h");
    assert_non_null(strstr(e.msg, "stability limit of euler for segments.s1.tau = 0.2"));
    assert_non_null(strstr(e.msg, "h must be <= 2 * tau = 0.4"));
    m->solver.method = SS_SOLVER_RK4;
    m->solver.h = 0.55;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    ss_result_free(r);
    m->solver.h = 0.557;
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "h must be <= 2.78 * tau = 0.556"));
    /* recovery is a relaxation time too */
    m->seg[0].tau = 2;
    m->prov[1].recovery = 0.1;
    assert_int_equal(run_model(m, &r, &e), SS_EINVAL);
    assert_non_null(strstr(e.msg, "providers.p2.recovery = 0.1"));
    /* adaptive methods have no such limit */
    m->solver.method = SS_SOLVER_RKF45;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    ss_result_free(r);
    ss_model_free(m);
}

/* Euler within its stability limit overshoots after a shock: a share
 * above 1 stops the run, naming it. */
static void test_share_range_checked(void **state)
{
    ss_model *m = test_model_new(1, 2, 3.0);
    ss_event ev;
    ss_result *r;
    ss_err e;
    unsigned char mask = 1;
    double zero = 0.0;
    (void)state;
    m->step = 1.0;
    m->seg[0].tau = 0.2;
    m->solver.method = SS_SOLVER_EULER;
    m->solver.h = 0.39; /* 3 steps of 1/3 per interval: h / tau = 1.67 */
    memset(&ev, 0, sizeof ev);
    ev.t = 1.0;
    ev.kind = SS_EV_SET;
    ev.provider = 1;
    ev.segment = -1;
    ev.field = SS_FIELD_PARTICIPATION;
    ev.values = &zero;
    ev.mask = &mask;
    assert_int_equal(ss_model_add_event(m, &ev, &e), SS_OK);
    assert_int_equal(run_model(m, &r, &e), SS_ENUMERIC);
    assert_non_null(strstr(e.msg, "share[p1,s1] = 1.1"));
    assert_non_null(strstr(e.msg, "is outside [0, 1]"));
    /* the same with a step small enough stays in [0, 1] */
    m->solver.h = 0.01;
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    assert_true(SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, 0, 0) <= 1.0);
    ss_result_free(r);
    ss_model_free(m);
}

/* Events out of time order, with ties: applied by time, ties in
 * declaration order (the last `set` at a time wins). */
static void test_event_order(void **state)
{
    ss_model *m = test_model_new(1, 1, 2.0);
    ss_result *r;
    ss_err e;
    size_t i;
    static const double times[] = { 1.5, 1.0, 0.5, 1.0, 1.0 };
    static const double vals[] = { 0.7, 0.1, 0.9, 0.3, 0.5 };
    (void)state;
    for (i = 0; i < 5; i++) {
        ss_event ev;
        memset(&ev, 0, sizeof ev);
        ev.t = times[i];
        ev.kind = SS_EV_SET;
        ev.provider = 0;
        ev.segment = -1;
        ev.field = SS_FIELD_REINVEST;
        ev.amount = vals[i];
        assert_int_equal(ss_model_add_event(m, &ev, &e), SS_OK);
    }
    assert_int_equal(run_model(m, &r, &e), SS_OK);
    /* outputs at 0, 0.5, 1, 1.5, 2: investment = reinvest * revenue */
    assert_rel(SS_RESULT_P(r, 1, SS_P_INVESTMENT, 0), 0.9 * SS_RESULT_P(r, 1, SS_P_REVENUE, 0), 1e-12);
    assert_rel(SS_RESULT_P(r, 2, SS_P_INVESTMENT, 0), 0.5 * SS_RESULT_P(r, 2, SS_P_REVENUE, 0), 1e-12);
    assert_rel(SS_RESULT_P(r, 3, SS_P_INVESTMENT, 0), 0.7 * SS_RESULT_P(r, 3, SS_P_REVENUE, 0), 1e-12);
    ss_result_free(r);
    ss_model_free(m);
}

static FILE *text_stream(const char *text)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(text, f);
    rewind(f);
    return f;
}

/* Observations near the largest double overflow chi2: an error. */
static void test_calibrate_nonfinite(void **state)
{
    static const ss_calib_param p[] = { { "segments.s1.tau", 0.1, 10.0, 3.0 } };
    ss_model *m = test_model_new(1, 2, 3.0);
    ss_obs_set *o = NULL;
    ss_calib_result *c = NULL;
    ss_err e = { 0 };
    FILE *f = text_stream("time,provider,segment,metric,value\n1,p1,s1,share,1e308\n2,p1,s1,share,0.5\n");
    (void)state;
    assert_int_equal(ss_obs_read_stream(&o, f, "big.csv", &e), SS_OK);
    fclose(f);
    assert_int_equal(ss_calibrate_run(&c, m, p, 1, o, NULL, NULL, &e), SS_ENUMERIC);
    assert_null(c);
    assert_non_null(strstr(e.msg, "the fit statistics are not finite"));
    assert_non_null(strstr(e.msg, "big.csv:2"));
    ss_obs_free(o);
    ss_model_free(m);
}

/* SS_OBS_MAX observations are read, one more is refused; so is a line
 * above SS_OBS_LINE_MAX bytes. */
static void test_obs_limits(void **state)
{
    ss_obs_set *o = NULL;
    ss_err e = { 0 };
    FILE *f = tmpfile();
    long i;
    char *line;
    (void)state;
    assert_non_null(f);
    fputs("time,provider,segment,metric,value\n", f);
    for (i = 0; i < SS_OBS_MAX; i++)
        fputs("1,p1,s1,share,0.5\n", f);
    rewind(f);
    assert_int_equal(ss_obs_read_stream(&o, f, "d.csv", &e), SS_OK);
    assert_int_equal(o->n, SS_OBS_MAX);
    ss_obs_free(o);
    fseek(f, 0, SEEK_END);
    fputs("1,p1,s1,share,0.5\n", f);
    rewind(f);
    o = NULL;
    assert_int_equal(ss_obs_read_stream(&o, f, "d.csv", &e), SS_ELIMIT);
    assert_null(o);
    assert_non_null(strstr(e.msg, "d.csv:100002: more than 100000 observations"));
    fclose(f);
    line = malloc(SS_OBS_LINE_MAX + 64);
    assert_non_null(line);
    memset(line, 'x', SS_OBS_LINE_MAX + 63);
    line[SS_OBS_LINE_MAX + 63] = '\0';
    f = tmpfile();
    assert_non_null(f);
    fprintf(f, "time,provider,segment,metric,value,note\n1,p1,s1,share,0.5,%s\n", line);
    rewind(f);
    assert_int_equal(ss_obs_read_stream(&o, f, "d.csv", &e), SS_ELIMIT);
    assert_non_null(strstr(e.msg, "d.csv:2: line longer than 65536 bytes"));
    fclose(f);
    free(line);
}

/* Entries of a directory whose names start with '.', other than . and .. */
static int count_hidden(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] == '.' && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* What a fatal-signal handler calls: every temporary file still open goes,
 * committed and aborted ones are no longer listed, targets are untouched. */
static void test_outfile_remove_temporaries(void **state)
{
    char dir[] = "/tmp/ss-limits-XXXXXX", a[64], b[64], c[64];
    ss_outfile *oa = NULL, *ob = NULL, *oc = NULL;
    ss_err e = { 0 };
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    snprintf(c, sizeof c, "%s/c.csv", dir);
    assert_int_equal(ss_outfile_open(&oa, a, &e), SS_OK);
    assert_int_equal(ss_outfile_open(&ob, b, &e), SS_OK);
    assert_int_equal(ss_outfile_open(&oc, c, &e), SS_OK);
    fputs("x\n", ss_outfile_stream(oa));
    assert_int_equal(count_hidden(dir), 3);
    assert_int_equal(ss_outfile_commit(oc, &e), SS_OK); /* c.csv is done */
    assert_int_equal(count_hidden(dir), 2);
    ss_outfile_remove_temporaries();
    assert_int_equal(count_hidden(dir), 0);
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(c, F_OK), 0);
    /* the handles are still released cleanly (as at exit) */
    ss_outfile_abort(oa);
    ss_outfile_abort(ob);
    /* slots are reused: many more files than the table holds, one at a time */
    {
        int i;
        for (i = 0; i < 200; i++) {
            assert_int_equal(ss_outfile_open(&oa, a, &e), SS_OK);
            ss_outfile_abort(oa);
        }
        assert_int_equal(ss_outfile_open(&oa, a, &e), SS_OK);
        ss_outfile_remove_temporaries();
        assert_int_equal(count_hidden(dir), 0);
        ss_outfile_abort(oa);
    }
    unlink(c);
    rmdir(dir);
}

/* A scratch file listed with ss_outfile_track (the xlsx writer's) is removed
 * by the signal clean-up; once untracked it is left alone. */
static void test_outfile_track(void **state)
{
    char a[] = "/tmp/sstrackA-XXXXXX", b[] = "/tmp/sstrackB-XXXXXX";
    int fa = mkstemp(a), fb = mkstemp(b), ha, hb;
    (void)state;
    assert_true(fa >= 0 && fb >= 0);
    close(fa);
    close(fb);
    ha = ss_outfile_track(a);
    hb = ss_outfile_track(b);
    assert_true(ha >= 0 && hb >= 0);
    ss_outfile_untrack(hb);
    ss_outfile_remove_temporaries();
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(b, F_OK), 0);
    ss_outfile_untrack(ha);
    ss_outfile_untrack(-1);
    unlink(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_resolution),
        cmocka_unit_test(test_grid_counts),
        cmocka_unit_test(test_fixed_step_count_checked),
        cmocka_unit_test(test_stability_limits),
        cmocka_unit_test(test_share_range_checked),
        cmocka_unit_test(test_event_order),
        cmocka_unit_test(test_calibrate_nonfinite),
        cmocka_unit_test(test_obs_limits),
        cmocka_unit_test(test_outfile_remove_temporaries),
        cmocka_unit_test(test_outfile_track),
    };
    ss_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
