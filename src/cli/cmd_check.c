/*
 * cmd_check.c - `stratsim check`: load and validate a scenario file (every
 * scenario it returns, with --set overrides applied) without running it;
 * with --behaviour, run each scenario's behaviour checks (`checks` table,
 * stratsim/behaviour.h) and print PASS/FAIL for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "cli/cli_analysis.h"
#include "lua/stratsim_lua.h"

static const char check_usage[] =
    "Usage: stratsim check SCENARIO.lua [--behaviour] [--set PATH=VALUE]...\n"
    "                      [--params FILE.lua]... [--unsafe] [--root DIR]\n"
    "\n"
    "Load and validate every scenario the file returns, without running it.\n"
    "Prints one line per scenario; exit status 0 if all are valid, 1 if not.\n"
    "\n";

static const cli_opt_spec check_opts[] = {
    { CLI_OPT_SWITCH, "--behaviour", 0, NULL,
      "also run each scenario's behaviour checks (its `checks`\n"
      "table): every check applies its change, runs, and compares\n"
      "the expected output with the unchanged scenario; prints\n"
      "PASS or FAIL with both values; exit status 1 if one fails." },
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--behavior", 0, NULL, NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--set", 0, "PATH=VALUE", NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--params", 0, "FILE.lua", NULL },
    CLI_OPT_LIMITS_HIDDEN,
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--help", 'h', NULL, NULL },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static const char check_tail[] =
    "\n"
    "Warns (on standard error, status still 0) about user stocks without a unit.\n";

/* The behaviour checks of scenario i: EXIT_OK if all pass, EXIT_ERROR if one
 * fails (or a run fails). */
static int run_checks(cli_loaded *l, size_t i, const char *file)
{
    cli_an_load ld;
    ss_analysis *an = NULL;
    ss_run_opts ro;
    ss_check *c = NULL;
    ss_check_outcome *o = NULL;
    ss_err err = {0};
    const ss_model *m = cli_loaded_model(l, i);
    size_t j, fails = 0;
    int rc, st;

    ld.l = l;
    ld.first = i;
    ld.count = 1;
    if ((rc = cli_an_inputs(&ld, i, SS_AN_CHECKS, &an)) != EXIT_OK)
        return rc;
    if (an->nchecks == 0) {
        printf("%s: scenario '%s': no behaviour checks (add a `checks` table)\n", file, m->name);
        ss_analysis_free(an);
        return EXIT_OK;
    }
    c = calloc(an->nchecks, sizeof *c);
    o = calloc(an->nchecks, sizeof *o);
    if (!c || !o) {
        rc = cli_error("out of memory");
        goto done;
    }
    ss_analysis_checks(an, c);
    if ((rc = cli_an_run_opts(&ld, i, file, &ro, 1)) != EXIT_OK)
        goto done;
    st = ss_checks_run(o, m, c, an->nchecks, &ro, &err);
    cli_sigint_end();
    if (st != SS_OK) {
        rc = cli_an_fail(file, m, st, &err, NULL);
        goto done;
    }
    printf("Behaviour checks of scenario '%s':\n", m->name);
    for (j = 0; j < an->nchecks; j++) {
        char b1[48], b2[48];
        printf("  %s  %s\n        %s: %s with the change, %s in the scenario\n",
               o[j].pass ? "PASS" : "FAIL", c[j].name, c[j].expect,
               cli_num(b1, sizeof b1, o[j].value, 10), cli_num(b2, sizeof b2, o[j].base, 10));
        fails += !o[j].pass;
    }
    printf("%zu of %zu check%s passed\n", an->nchecks - fails, an->nchecks, an->nchecks == 1 ? "" : "s");
    if (fails) {
        for (j = 0; j < an->nchecks; j++)
            if (!o[j].pass)
                fprintf(stderr, "stratsim: %s: scenario '%s': behaviour check failed: %s (%s)\n",
                        file, m->name, c[j].name, c[j].expect);
        rc = EXIT_ERROR;
    }
done:
    free(c);
    free(o);
    ss_analysis_free(an);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    cli_common c = { 0 };
    const char *file = NULL;
    cli_loaded *l = NULL;
    size_t i, n;
    int rc, behaviour = 0, st;
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;

    cli_opt_parser_init(&p, check_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        if (st == CLI_OPT_UNKNOWN) {
            cli_common_free(&c);
            return cli_opt_unknown("check", v, check_opts);
        }
        if (st == CLI_OPT_ARG) {
            if (file) {
                cli_common_free(&c);
                return cli_usage_error("check", "only one scenario file");
            }
            file = v;
        } else if (cli_opt_is(o, "--help")) {
            cli_common_free(&c);
            return cli_opt_usage(check_usage, check_opts, 16, check_tail);
        } else if (cli_opt_is(o, "--behaviour") || cli_opt_is(o, "--behavior")) {
            behaviour = 1;
        } else if (cli_common_apply(&c, "check", o->name, v) < 0) {
            cli_common_free(&c);
            return EXIT_USAGE;
        }
    }
    if (!file) {
        cli_common_free(&c);
        return cli_usage_error("check", "missing SCENARIO.lua");
    }
    rc = cli_load(&l, file, &c);
    if (rc == EXIT_OK) {
        n = cli_loaded_count(l);
        if (n == 0)
            printf("%s: ok: the script returned no scenario (it does its own work)\n", file);
        for (i = 0; i < n; i++) {
            const ss_model *m = cli_loaded_model(l, i);
            ss_run_opts ro;
            ss_err err = { 0 };
            size_t j;
            if (ss_script_run_opts(cli_loaded_script(l), i, &ro, &err) != SS_OK) {
                rc = cli_error("%s: %s", file, err.msg);
                break;
            }
            printf("%s: ok: scenario '%s': %zu segment%s, %zu provider%s, %zu event%s, %.10g to %.10g "
                   "step %.10g", file, m->name, m->nseg, m->nseg == 1 ? "" : "s", m->nprov,
                   m->nprov == 1 ? "" : "s", m->nev, m->nev == 1 ? "" : "s", m->t0, m->t1, m->step);
            if (ro.nstock || ro.nlink)
                printf(", %zu stock%s, %zu link%s", ro.nstock, ro.nstock == 1 ? "" : "s", ro.nlink,
                       ro.nlink == 1 ? "" : "s");
            putchar('\n');
            /* units, lightly: every stock should state one */
            for (j = 0; j < ro.nstock; j++)
                if (!ro.stock_units || !ro.stock_units[j])
                    fprintf(stderr, "%s: warning: scenario '%s': stock '%s' states no unit "
                            "(add unit = \"...\")\n", file, m->name, ro.stock_names[j]);
        }
        for (i = 0; behaviour && rc == EXIT_OK && i < n; i++)
            rc = run_checks(l, i, file);
        if (fflush(stdout) != 0 && rc == EXIT_OK)
            rc = cli_error("writing standard output failed");
    }
    cli_loaded_free(l);
    cli_common_free(&c);
    return rc;
}
