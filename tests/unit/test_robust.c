/*
 * test_robust.c - robustness of the core (docs/robustness.md):
 * GSL errors come back as status codes (docs/robustness.md); the one
 * parameter-path resolver checks ranges and suggests near misses; "did you
 * mean" uses an edit distance that counts transpositions; decimal input is
 * read whatever LC_NUMERIC says; the atomic output file writes devices,
 * FIFOs and symbolic links through instead of replacing them, and a full
 * device is an error.
 */
#include "test_util.h"
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_log.h>
#include "stratsim.h"
#include "stratsim/suggest.h"

#define assert_has(s, frag) do {                                                   \
        if (!strstr((s), (frag)))                                                  \
            fail_msg("'%s' lacks '%s'", (s), (frag));                              \
    } while (0)

static void set_id(char **dst, const char *id)
{
    free(*dst);
    *dst = strdup(id);
    assert_non_null(*dst);
}

/* Two segments (public, private), two providers (alibaba, others). */
static ss_model *mk(void)
{
    ss_model *m = ss_model_new(2, 2);
    assert_non_null(m);
    m->t0 = 2022;
    m->t1 = 2024;
    m->step = 0.5;
    set_id(&m->seg[0].id, "public");
    set_id(&m->seg[1].id, "private");
    set_id(&m->prov[0].id, "alibaba");
    set_id(&m->prov[1].id, "others");
    m->seg[0].size = 100;
    m->seg[1].size = 50;
    m->prov[0].share[0] = 0.4;
    m->prov[1].share[0] = 0.6;
    m->prov[0].share[1] = 0.2;
    m->prov[1].share[1] = 0.8;
    return m;
}

/* B1: with the handler off, a domain error is a status code, not abort(). */
static void test_gsl_errors_are_codes(void **state)
{
    gsl_sf_result r;
    (void)state;
    ss_global_init();
    assert_int_equal(gsl_sf_log_e(-1.0, &r), GSL_EDOM);
    assert_int_equal(gsl_sf_log_e(0.0, &r), GSL_EDOM);
}

static void test_edit_distance(void **state)
{
    char buf[96];
    static const char *const keys[] = { "start", "stop", "step", "epoch", NULL };
    (void)state;
    assert_int_equal(ss_edit_distance("tau", "tau", 2), 0);
    assert_int_equal(ss_edit_distance("tua", "tau", 2), 1);     /* transposition */
    assert_int_equal(ss_edit_distance("growht", "growth", 2), 1);
    assert_int_equal(ss_edit_distance("pubic", "public", 2), 1);
    assert_int_equal(ss_edit_distance("", "ab", 2), 2);
    assert_int_equal(ss_edit_distance("abcdef", "a", 2), 3);    /* capped */
    assert_int_equal(ss_edit_distance("x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 2), 3);
    assert_string_equal(ss_suggest("stpe", keys, (size_t)-1, buf, sizeof buf), " (did you mean 'step'?)");
    assert_string_equal(ss_suggest("colour", keys, 4, buf, sizeof buf), "");
    assert_string_equal(ss_suggest("stat", keys, 1, buf, sizeof buf), " (did you mean 'start'?)");
}

static void test_parse_double(void **state)
{
    double x = 0;
    (void)state;
    assert_int_equal(ss_parse_double("0.25", &x), 0);
    assert_close(x, 0.25, 0);
    assert_int_equal(ss_parse_double("-1e-3", &x), 0);
    assert_close(x, -1e-3, 0);
    assert_int_equal(ss_parse_double("+7", &x), 0);
    assert_close(x, 7, 0);
    assert_int_equal(ss_parse_double(".5", &x), 0);
    assert_close(x, 0.5, 0);
    assert_int_equal(ss_parse_double("nan", &x), -1);
    assert_int_equal(ss_parse_double("inf", &x), -1);
    assert_int_equal(ss_parse_double("1e999", &x), -1);
    assert_int_equal(ss_parse_double("0x10", &x), -1);
    assert_int_equal(ss_parse_double(" 1", &x), -1);
    assert_int_equal(ss_parse_double("1,5", &x), -1);
    assert_int_equal(ss_parse_double("", &x), -1);
    assert_int_equal(ss_parse_double("e5", &x), -1);
    assert_int_equal(ss_parse_double("1e", &x), -1);
    /* and in a locale with a decimal comma, if the system has one */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "de_DE.utf8")) {
        assert_int_equal(ss_parse_double("0.25", &x), 0);
        assert_close(x, 0.25, 0);
        setlocale(LC_NUMERIC, "C");
    }
}

/* The resolver: ranges of the scenario keys, suggestions, every-segment
 * addressing only when asked for, knots, whole numbers. */
static void test_param_resolver(void **state)
{
    ss_model *m = mk();
    ss_param p;
    ss_err e = { 0 };
    double t[] = { 2022, 2023 }, v[] = { 1.0, 0.9 };
    (void)state;

    /* ranges */
    assert_int_equal(ss_param_resolve(&p, m, "segments.public.tau", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, -1, &e), SS_EINVAL);
    assert_string_equal(e.msg, "must be > 0, got -1");
    assert_int_equal(ss_param_set(&p, NAN, &e), SS_EINVAL);
    assert_has(e.msg, "must be finite");
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.margin.public", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 1, &e), SS_EINVAL);
    assert_has(e.msg, "must be < 1");
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.reliability", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 0, &e), SS_EINVAL);
    assert_has(e.msg, "in (0, 1]");
    assert_int_equal(ss_param_set(&p, 1, &e), SS_OK);
    assert_int_equal(ss_param_resolve(&p, m, "providers.others.participation.private", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 1.5, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "solver.max_steps", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 2.5, &e), SS_EINVAL);
    assert_has(e.msg, "whole number");
    assert_int_equal(ss_param_set(&p, 500, &e), SS_OK);
    assert_int_equal(m->solver.max_steps, 500);
    assert_close(ss_param_get(&p, m), 500, 0);
    assert_int_equal(ss_model_set_path(m, "segments.private.size", 0, &e), SS_EINVAL);
    assert_has(e.msg, "'segments.private.size': must be > 0");

    /* suggestions */
    assert_int_equal(ss_param_resolve(&p, m, "segments.pubic.tau", 0, &e), SS_EINVAL);
    assert_string_equal(e.msg, "unknown segment 'pubic' (did you mean 'public'?)");
    assert_string_equal(e.path, "segments.pubic.tau");
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.reinvst", 0, &e), SS_EINVAL);
    assert_has(e.msg, "(did you mean 'reinvest'?)");
    assert_int_equal(ss_param_resolve(&p, m, "time.stpe", 0, &e), SS_EINVAL);
    assert_has(e.msg, "unknown time field 'stpe' (did you mean 'step'?)");
    assert_int_equal(ss_param_resolve(&p, m, "solver.rtoll", 0, &e), SS_EINVAL);
    assert_has(e.msg, "(did you mean 'rtol'?)");
    assert_int_equal(ss_param_resolve(&p, m, "discount", 0, &e), SS_EINVAL);
    assert_has(e.msg, "unknown parameter 'discount' (did you mean 'discount_rate'?)");
    assert_int_equal(ss_param_lookup(&p, m, "segments.public.tua", &e), SS_EINVAL);
    assert_string_equal(e.msg, "'segments.public.tua': unknown segment field 'tua' (did you mean 'tau'?)");

    /* every segment at once only with the flag; share never */
    assert_int_equal(ss_param_resolve(&p, m, "providers.others.price", 0, &e), SS_EINVAL);
    assert_has(e.msg, "needs a segment: providers.others.price.<segment>");
    assert_int_equal(ss_param_resolve(&p, m, "providers.others.price", SS_PARAM_ALL_SEGMENTS, &e), SS_OK);
    assert_int_equal(p.count, 2);
    assert_int_equal(ss_param_set(&p, 1.2, &e), SS_OK);
    /* interventions on both segments (docs/model.md §6) */
    assert_close(ss_schedule_eval(&m->prov[1].iv[ss_decision_slot(SS_FIELD_PRICE, 0, 2)], 2023), 1.2, 0);
    assert_close(ss_schedule_eval(&m->prov[1].iv[ss_decision_slot(SS_FIELD_PRICE, 1, 2)], 2023), 1.2, 0);
    assert_true(m->prov[1].iv_on[ss_decision_slot(SS_FIELD_PRICE, 1, 2)]);
    assert_int_equal(ss_param_resolve(&p, m, "providers.others.share", SS_PARAM_ALL_SEGMENTS, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.allocation", SS_PARAM_ALL_SEGMENTS, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 0.5, &e), SS_OK);
    assert_false(m->prov[0].allocation_given);
    assert_true(m->prov[0].iv_on[ss_decision_slot(SS_FIELD_ALLOCATION, 1, 2)]);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.allocation",
                                      SS_PARAM_ALL_SEGMENTS | SS_PARAM_BASE, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, 0.5, &e), SS_OK);
    assert_true(m->prov[0].allocation_given);

    /* knots */
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].price[1], SS_SCHED_STEPS, 2, t, v, "x", NULL), SS_OK);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.price.private#2", 0, &e), SS_OK);
    assert_int_equal(ss_param_set(&p, -0.5, &e), SS_EINVAL); /* a knot keeps the range */
    assert_int_equal(ss_param_set(&p, 0.7, &e), SS_OK);
    assert_close(ss_schedule_eval(&m->prov[0].iv[ss_decision_slot(SS_FIELD_PRICE, 1, 2)], 2023.5), 0.7, 0);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.price.private#0", 0, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.price.private#+1", 0, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.price#1", SS_PARAM_ALL_SEGMENTS, &e), SS_EINVAL);
    assert_has(e.msg, "one segment");

    /* bass/growth exclusivity, shapes */
    assert_int_equal(ss_param_resolve(&p, m, "segments.public.bass.p", 0, &e), SS_EINVAL);
    assert_has(e.msg, "has no bass diffusion");
    m->seg[0].has_bass = 1;
    assert_int_equal(ss_param_resolve(&p, m, "segments.public.growth", 0, &e), SS_EINVAL);
    assert_has(e.msg, "uses bass diffusion");
    assert_int_equal(ss_param_resolve(&p, m, "segments.public.bass.q", 0, &e), SS_OK);
    assert_int_equal(ss_param_resolve(&p, m, "a.b.c.d.e.f", 0, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "time", 0, &e), SS_EINVAL);
    assert_int_equal(ss_param_resolve(&p, m, "providers.alibaba.recovery.public", 0, &e), SS_EINVAL);
    assert_has(e.msg, "takes no segment");
    {
        char longpath[400];
        memset(longpath, 'x', sizeof longpath - 1);
        longpath[sizeof longpath - 1] = '\0';
        assert_int_equal(ss_param_resolve(&p, m, longpath, 0, &e), SS_EINVAL);
        assert_has(e.msg, "too long");
    }
    ss_model_free(m);
}

/* Write a few bytes through ss_outfile to `path`; returns the status. */
static int write_through(const char *path, ss_err *e)
{
    ss_outfile *o = NULL;
    int rc = ss_outfile_open(&o, path, e);
    if (rc != SS_OK)
        return rc;
    if (fputs("a,b\n1,2\n", ss_outfile_stream(o)) < 0) {
        ss_outfile_abort(o);
        return SS_EIO;
    }
    return ss_outfile_commit(o, e);
}

/* C1/C2: a symbolic link is followed (the link stays), a FIFO or device is
 * written in place, /dev/full is an error, a directory is refused. */
static void test_outfile_special_targets(void **state)
{
    char dir[64], path[128], target[128], buf[64];
    struct stat st;
    ss_err e = { 0 };
    FILE *f;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ssrob-XXXXXX");
    assert_non_null(mkdtemp(dir));

    snprintf(target, sizeof target, "%s/target.csv", dir);
    snprintf(path, sizeof path, "%s/link.csv", dir);
    assert_int_equal(symlink("target.csv", path), 0);
    assert_int_equal(write_through(path, &e), SS_OK); /* dangling: created through */
    assert_int_equal(write_through(path, &e), SS_OK); /* existing: replaced atomically */
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    f = fopen(target, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    assert_string_equal(buf, "a,b\n");
    fclose(f);
    unlink(path);
    unlink(target);

    assert_int_equal(write_through(dir, &e), SS_EIO);
    assert_has(e.msg, "Is a directory");

    assert_int_equal(write_through("/dev/full", &e), SS_EIO);
    assert_has(e.msg, "No space left on device");
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(write_through("/dev/null", &e), SS_OK);
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));

    snprintf(path, sizeof path, "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    {
        int rd = open(path, O_RDONLY | O_NONBLOCK); /* a reader, so open for writing succeeds */
        assert_true(rd >= 0);
        assert_int_equal(write_through(path, &e), SS_OK);
        assert_int_equal((int)read(rd, buf, sizeof buf), 8);
        close(rd);
    }
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    unlink(path);
    assert_int_equal(rmdir(dir), 0); /* no temporary file left */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gsl_errors_are_codes),
        cmocka_unit_test(test_edit_distance),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_param_resolver),
        cmocka_unit_test(test_outfile_special_targets),
    };
    ss_global_init();
    return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
