/*
 * test_lua_oom.c - allocation-failure injection (docs/robustness.md):
 * make allocation k fail, for k = 0, 1, 2, ... until a run completes without
 * an injected failure, both transient (only allocation k fails) and
 * persistent (k and every later one fail), for
 *   1. Lua state creation + scenario loading, through the Lua allocator's
 *      test hook (sl_test_fail_after);
 *   2. the same, through the C allocator (malloc/calloc/realloc of stratsim's
 *      own code, wrapped with -Wl,--wrap: the Lua allocator's realloc, the
 *      models, the file buffer, the locator);
 *   3. simulation + output writing (CSV and JSON sidecar through the atomic
 *      ss_outfile; cJSON's allocations go through cJSON_InitHooks).
 * The scenario includes a second file (stratsim.include), uses :with,
 * schedules, events and a pcall'ed failing constructor (which re-reads the
 * source to locate the error). Every failed attempt must end in a clean error (SS_ENOMEM, or the Lua
 * "not enough memory" message), leave no output or temporary file, leak no
 * file descriptor (counted in /proc/self/fd) and no memory (run under ASan/LSan by `make asan`, under valgrind by `make
 * valgrind`). Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (see the Makefile); allocations inside system libraries (liblua itself,
 * GSL, libc) are not wrapped.
 */
#include "test_util.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>
#include <gsl/gsl_errno.h>
#include "stratsim.h"
#include "lua/sl_internal.h"

/* ------------------------------------------------ the wrapped allocator */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long c_countdown = -1;  /* allocations to grant before failing; -1 never */
static int c_persistent;
static unsigned long c_injected;

static int c_fail(void)
{
    if (c_countdown < 0)
        return 0;
    if (c_countdown == 0) {
        if (!c_persistent)
            c_countdown = -1;
        c_injected++;
        return 1;
    }
    c_countdown--;
    return 0;
}

static unsigned long c_fail_after(long n, int persistent)
{
    unsigned long r = c_injected;
    c_countdown = n;
    c_persistent = persistent;
    c_injected = 0;
    return r;
}

void *__wrap_malloc(size_t n)
{
    return c_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return c_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    /* shrinking and freeing never fail (like the Lua allocator contract) */
    if (p && n == 0)
        return __real_realloc(p, n);
    return c_fail() ? NULL : __real_realloc(p, n);
}

/* cJSON's hooks: the same counter. */
static void *json_malloc(size_t n)
{
    return c_fail() ? NULL : __real_malloc(n);
}

/* ----------------------------------------------------------- fixtures */

static char dir[64], scen[128], inc[128];

/* A scenario exercising schedules, events, :with, lists and error paths
 * caught by pcall (which re-read the source to locate the error). */
#define PAD64 "-- padding, so that reading the file needs more than one buffer -\n"
#define PAD1K PAD64 PAD64 PAD64 PAD64 PAD64 PAD64 PAD64 PAD64 \
              PAD64 PAD64 PAD64 PAD64 PAD64 PAD64 PAD64 PAD64
static const char INCLUDED[] =
    PAD1K PAD1K PAD1K PAD1K PAD1K PAD1K PAD1K PAD1K
    "return { growth = 0.2, tau = 1.5 }\n";
static const char SCENARIO[] =
    "local inc = stratsim.include('inc.lua')\n"
    "local ok = pcall(stratsim.scenario, { time = 5 })\n"
    "assert(not ok)\n"
    "local base = stratsim.scenario {\n"
    "  name = 'base',\n"
    "  time = { start = 2022, stop = 2024, step = 0.5 },\n"
    "  segments = { { id = 'public', size = 100, growth = inc.growth, tau = inc.tau },\n"
    "               { id = 'private', size = 50,\n"
    "                 growth = stratsim.steps{{2023, 0.08}, {2023.5, 0.05}} } },\n"
    "  providers = {\n"
    "    { id = 'alibaba', share = { public = 0.4, private = 0.2 },\n"
    "      price = { public = stratsim.linear{{2022, 1}, {2023, 0.9}} } },\n"
    "    { id = 'others', share = { public = 0.6, private = 0.8 } } },\n"
    "  events = { { t = 2023.5, kind = 'outage', provider = 'alibaba', severity = 0.1 },\n"
    "             { t = 2023, kind = 'set', provider = 'others', field = 'price',\n"
    "               value = { public = 0.9 } } },\n"
    "}\n"
    "local t = {}\n"
    "for i = 1, 50 do t[i] = ('x'):rep(i) .. i end\n"
    "return { base, base:with { name = 'high', discount_rate = 0.1 } }\n";

static int setup(void **state)
{
    FILE *f;
    (void)state;
    gsl_set_error_handler_off();
    snprintf(dir, sizeof dir, "/tmp/ssoom-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(scen, sizeof scen, "%s/s.lua", dir);
    snprintf(inc, sizeof inc, "%s/inc.lua", dir);
    f = fopen(scen, "w");
    if (!f || fwrite(SCENARIO, 1, sizeof SCENARIO - 1, f) != sizeof SCENARIO - 1 || fclose(f) != 0)
        return -1;
    f = fopen(inc, "w");
    if (!f || fwrite(INCLUDED, 1, sizeof INCLUDED - 1, f) != sizeof INCLUDED - 1 || fclose(f) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char p[160];
    (void)state;
    unlink(scen);
    unlink(inc);
    snprintf(p, sizeof p, "%s/out.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/out.csv.json", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}

/* Open file descriptors of the process (a FILE leaked on an error path is
 * still reachable through libc's list of streams, so LSan cannot see it). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* An allocation failure must surface as a clean out-of-memory error. */
static void check_oom_error(int rc, const ss_err *err, long k, const char *what)
{
    if (rc == SS_ENOMEM)
        return;
    if (rc == SS_EINVAL && (strstr(err->msg, "not enough memory") || strstr(err->msg, "out of memory")))
        return;
    fail_msg("%s: failing allocation %ld gave status %d: %s", what, k, rc, err->msg);
}

/* Load the scenario with failure injection set up by `arm`; returns the
 * status, with the script closed. */
static int load_once(ss_err *err)
{
    static const char *const sets[] = { "providers.alibaba.reinvest=0.3",
                                        "providers.others.price=1.05" };
    ss_script *s = NULL;
    int rc;
    ss_err_clear(err);
    rc = ss_script_open(&s, NULL, err);
    if (rc == SS_OK) {
        rc = ss_script_load(s, scen, sets, 2, err);
        if (rc == SS_OK && (ss_script_count(s) != 2 || !ss_script_model(s, 1)->resolved))
            fail_msg("loaded, but with %zu scenarios", ss_script_count(s));
    } else if (s != NULL) {
        fail_msg("ss_script_open failed but returned a script");
    }
    ss_script_close(s);
    return rc;
}

/* 1. The Lua allocator fails at request k. */
static void test_lua_allocator_failures(void **state)
{
    int persistent, fds = open_fds();
    (void)state;
    for (persistent = 0; persistent <= 1; persistent++) {
        long k;
        for (k = 0;; k++) {
            ss_err err;
            int rc;
            unsigned long injected;
            sl_test_fail_after(k, persistent);
            rc = load_once(&err);
            injected = sl_test_fail_after(-1, 0);
            if (injected == 0) {
                if (rc != SS_OK)
                    fail_msg("no failure injected at %ld, yet: %s", k, err.msg);
                printf("lua allocator (%s): %ld failure points\n",
                       persistent ? "persistent" : "transient", k);
                break;
            }
            if (rc != SS_OK)
                check_oom_error(rc, &err, k, "lua allocator");
            if (open_fds() != fds)
                fail_msg("lua allocator: failing allocation %ld leaked a file descriptor", k);
            if (k > 1000000)
                fail_msg("runaway: more than 1e6 allocations");
        }
    }
}

/* 2. The C allocator (wrapped) fails at call k during open + load. */
static void test_c_allocator_failures_load(void **state)
{
    int persistent, fds = open_fds();
    (void)state;
    for (persistent = 0; persistent <= 1; persistent++) {
        long k;
        for (k = 0;; k++) {
            ss_err err;
            int rc;
            unsigned long injected;
            c_fail_after(k, persistent);
            rc = load_once(&err);
            injected = c_fail_after(-1, 0);
            if (injected == 0) {
                if (rc != SS_OK)
                    fail_msg("no failure injected at %ld, yet: %s", k, err.msg);
                printf("C allocator, load (%s): %ld failure points\n",
                       persistent ? "persistent" : "transient", k);
                break;
            }
            if (rc != SS_OK)
                check_oom_error(rc, &err, k, "C allocator, load");
            if (open_fds() != fds)
                fail_msg("C allocator: failing allocation %ld leaked a file descriptor", k);
            if (k > 1000000)
                fail_msg("runaway: more than 1e6 allocations");
        }
    }
}

/* No file other than s.lua (and out.csv/.json after a success) in dir. */
static void check_dir(int success)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "s.lua") == 0 || strcmp(e->d_name, "inc.lua") == 0)
            continue;
        if (success && (strcmp(e->d_name, "out.csv") == 0 || strcmp(e->d_name, "out.csv.json") == 0))
            continue;
        closedir(d);
        fail_msg("unexpected file '%s' left in %s", e->d_name, dir);
    }
    closedir(d);
}

/* Run both models and write CSV + sidecar atomically (as the CLI does). */
static int run_and_write(ss_script *s, const char *out, const char *side, ss_err *err)
{
    ss_result *res[2] = { NULL, NULL };
    const ss_model *models[2];
    ss_outfile *csv = NULL, *sc = NULL;
    ss_sidecar_info info;
    size_t i;
    int rc = SS_OK;

    memset(&info, 0, sizeof info);
    info.command = "run";
    info.scenario_file = scen;
    info.scenario_sha256 = "0";
    info.layout = "long";
    for (i = 0; i < 2 && rc == SS_OK; i++) {
        models[i] = ss_script_model(s, i);
        rc = ss_sim_run(&res[i], models[i], NULL, err);
    }
    if (rc == SS_OK &&
        ((rc = ss_outfile_open(&csv, out, err)) ||
         (rc = ss_csv_write(ss_outfile_stream(csv), SS_LAYOUT_LONG, (const ss_result *const *)res, 2, err)) ||
         (rc = ss_outfile_open(&sc, side, err)) ||
         (rc = ss_sidecar_write(ss_outfile_stream(sc), &info, models, 2, err)))) {
        ss_outfile_abort(csv);
        ss_outfile_abort(sc);
    } else if (rc == SS_OK) {
        rc = ss_outfile_commit(csv, err);
        if (rc == SS_OK)
            rc = ss_outfile_commit(sc, err);
        else
            ss_outfile_abort(sc);
        if (rc != SS_OK)
            unlink(out);
    }
    for (i = 0; i < 2; i++)
        ss_result_free(res[i]);
    return rc;
}

/* 3. Simulation and output writing with allocation k failing. */
static void test_output_failures(void **state)
{
    cJSON_Hooks hooks = { json_malloc, free };
    char out[160], side[160];
    ss_script *s = NULL;
    ss_err err;
    int persistent, fds = open_fds();
    (void)state;

    snprintf(out, sizeof out, "%s/out.csv", dir);
    snprintf(side, sizeof side, "%s/out.csv.json", dir);
    ss_err_clear(&err);
    assert_int_equal(ss_script_open(&s, NULL, &err), SS_OK);
    if (ss_script_load(s, scen, NULL, 0, &err) != SS_OK)
        fail_msg("%s", err.msg);
    cJSON_InitHooks(&hooks);
    for (persistent = 0; persistent <= 1; persistent++) {
        long k;
        for (k = 0;; k++) {
            int rc;
            unsigned long injected;
            ss_err_clear(&err);
            c_fail_after(k, persistent);
            rc = run_and_write(s, out, side, &err);
            injected = c_fail_after(-1, 0);
            if (injected == 0) {
                if (rc != SS_OK)
                    fail_msg("no failure injected at %ld, yet: %s", k, err.msg);
                check_dir(1);
                printf("C allocator, run + output (%s): %ld failure points\n",
                       persistent ? "persistent" : "transient", k);
                break;
            }
            if (open_fds() != fds)
                fail_msg("run + output: failing allocation %ld leaked a file descriptor", k);
            if (rc != SS_OK) {
                check_oom_error(rc, &err, k, "run + output");
                check_dir(0);
            } else {
                check_dir(1);
                unlink(out);
                unlink(side);
            }
            if (k > 1000000)
                fail_msg("runaway: more than 1e6 allocations");
        }
        unlink(out);
        unlink(side);
    }
    cJSON_InitHooks(NULL);
    ss_script_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_allocator_failures),
        cmocka_unit_test(test_c_allocator_failures_load),
        cmocka_unit_test(test_output_failures),
    };
    return cmocka_run_group_tests_name("lua_oom", tests, setup, teardown);
}
