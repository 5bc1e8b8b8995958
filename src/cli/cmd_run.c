/*
 * cmd_run.c - `stratsim run`: load a scenario file, run every scenario it
 * returns, print the summary or write CSV + JSON sidecar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"

static const char run_usage[] =
    "Usage: stratsim run SCENARIO.lua [options]\n"
    "\n"
    "Run every scenario the file returns. Without -o, print a summary table\n"
    "(shares, revenue, gross margin, operating profit, NPV at milestones).\n"
    "\n"
    "Options:\n";

static const cli_opt_spec run_opts[] = {
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "write CSV to FILE (and the JSON sidecar FILE.json);\n"
      "'-' writes CSV to standard output (no sidecar);\n"
      "FILE.xlsx writes an Excel workbook instead" },
    { CLI_OPT_VALUE, "--layout", 0, "long|wide",
      "CSV layout (default long: scenario,time,provider,\n"
      "segment,metric,value)" },
    { CLI_OPT_VALUE, "--set", 0, "PATH=VALUE",
      "override a numeric input, e.g.\n"
      "--set providers.alibaba.reinvest=0.3 (repeatable)" },
    { CLI_OPT_VALUE, "--params", 0, "FILE.lua",
      "apply an override file (as `calibrate --write` makes:\n"
      "return { [\"PATH\"] = value, ... }); with --set, in\n"
      "command-line order" },
    { CLI_OPT_SWITCH, "--unsafe", 0, NULL, "run the script without the sandbox" },
    { CLI_OPT_VALUE, "--max-memory", 0, "MIB", "memory limit of the script (default 512)" },
    { CLI_OPT_VALUE, "--max-instructions", 0, "N", "instruction limit of the script (default 2e9)" },
    { CLI_OPT_VALUE, "--root", 0, "DIR",
      "files the script may read (stratsim.include) lie\n"
      "below DIR (default: the scenario file's directory)" },
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

/* What `stratsim run` was given. */
typedef struct run_args {
    cli_common c;        /* the common options (owned: cli_common_free) */
    const char *file;    /* the scenario file */
    const char *out;     /* -o, or NULL: print the summaries */
    ss_layout layout;
} run_args;

/* Parse the arguments into a. Returns -1 to go on, or the exit status
 * (--help, a usage error). */
static int run_parse(run_args *a, int argc, char **argv)
{
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;
    int st;

    cli_opt_parser_init(&p, run_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        int r;
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown("run", v, run_opts);
        if (st == CLI_OPT_ARG) {
            if (a->file)
                return cli_usage_error("run", "only one scenario file (got '%s' and '%s'); use 'compare'",
                                       a->file, v);
            a->file = v;
            continue;
        }
        if (cli_opt_is(o, "--help"))
            return cli_opt_usage(run_usage, run_opts, 24, NULL);
        r = cli_common_apply(&a->c, "run", o->name, v);
        if (r == 0)
            r = cli_output_apply("run", o->name, v, &a->out, &a->layout);
        if (r < 0)
            return EXIT_USAGE;
    }
    if (!a->file)
        return cli_usage_error("run", "missing SCENARIO.lua");
    return -1;
}

/* Make sure -o replaces no input (the included files are known once the
 * script is loaded). */
static int run_check_output(const run_args *a, cli_loaded *l)
{
    cli_iolist io = { 0 };
    cli_io_add_inputs(&io, &a->c, l, a->file);
    cli_io_add(&io, a->out, "-o", 1, 1);
    return cli_io_check("run", &io);
}

/* Write the nres results to -o (CSV + sidecar, or xlsx) with the models
 * of every loaded scenario. */
static int run_write(const run_args *a, cli_loaded *l, ss_result **res, size_t nres)
{
    size_t n = cli_loaded_count(l), i;
    const ss_model **models = malloc((n + 1) * sizeof *models);
    int rc;
    if (!models)
        return cli_error("out of memory");
    for (i = 0; i < n; i++)
        models[i] = cli_loaded_model(l, i);
    rc = cli_write_outputs(a->out, a->layout, "run", a->file, &a->c, res, nres, models, n);
    free(models);
    return rc;
}

/* Print the summary of each result on standard output, a blank line
 * between two. */
static int run_print(const run_args *a, cli_loaded *l, ss_result **res, size_t nres)
{
    size_t i;
    for (i = 0; i < nres; i++) {
        if (i)
            putchar('\n');
        cli_print_summary(stdout, res[i], cli_loaded_model(l, i), a->file);
    }
    if (fflush(stdout) != 0)
        return cli_error("writing standard output failed");
    return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    run_args a = { .layout = SS_LAYOUT_LONG };
    cli_loaded *l = NULL;
    ss_result **res = NULL;
    size_t nres = 0, i;
    int rc = run_parse(&a, argc, argv);

    if (rc >= 0) {
        cli_common_free(&a.c);
        return rc;
    }
    if ((rc = cli_load(&l, a.file, &a.c)) != EXIT_OK)
        goto done;
    if (a.out && (rc = run_check_output(&a, l)) != EXIT_OK)
        goto done;
    if ((rc = cli_run_models(l, a.file, &res, &nres)) != EXIT_OK)
        goto done;
    if (nres == 0) { /* the script returned nothing: it did its own work */
        if (a.out)
            rc = cli_error("%s: the script returned no scenario, so there is nothing to write to %s",
                           a.file, a.out);
        goto done;
    }
    rc = a.out ? run_write(&a, l, res, nres) : run_print(&a, l, res, nres);
done:
    for (i = 0; i < nres; i++)
        ss_result_free(res[i]);
    free(res);
    cli_loaded_free(l);
    cli_common_free(&a.c);
    return rc;
}
