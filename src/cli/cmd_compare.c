/*
 * cmd_compare.c - `stratsim compare A.lua B.lua ...`: run several scenario
 * files, print their key outputs side by side with deltas against the first,
 * and optionally write one CSV with a `scenario` column.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"

static const char compare_usage[] =
    "Usage: stratsim compare A.lua B.lua ... [options]\n"
    "\n"
    "Run every scenario of every file and compare them at their last output\n"
    "time: shares, revenue, gross profit, operating profit, NPV, segment size,\n"
    "each with its difference from the first scenario.\n"
    "\n"
    "Options:\n";

static const cli_opt_spec compare_opts[] = {
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "also write all results to one CSV (+ FILE.json), or\n"
      "to an Excel workbook if FILE ends in .xlsx" },
    { CLI_OPT_VALUE, "--layout", 0, "long|wide", "CSV layout (default long)" },
    { CLI_OPT_VALUE, "--set", 0, "PATH=VALUE", "override applied to every file (repeatable)" },
    { CLI_OPT_VALUE, "--params", 0, "FILE.lua", "override file applied to every file (as for 'run')" },
    { CLI_OPT_TEXT, "--unsafe, --max-memory MIB, --max-instructions N, --root DIR", 0, NULL,
      "as for 'run'" },
    CLI_OPT_LIMITS_HIDDEN,
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--help", 'h', NULL, NULL },
    { 0, NULL, 0, NULL, NULL } /* end */
};

/* One comparison: the command line, the loaded files, their results. */
typedef struct compare {
    cli_common c;
    const char **files;    /* the scenario files, in order */
    size_t nfiles;
    const char *out;       /* -o FILE, or NULL */
    ss_layout layout;
    cli_loaded **loaded;   /* per file */
    ss_result **res;       /* per scenario of every file, in order */
    size_t nres;
    const ss_model **models;
    size_t nmodels;
} compare;

#define GO_ON (-1) /* compare_parse: no exit status yet, go on */

/* The command line into cmp: the files, -o, --layout and the common
 * options. Returns GO_ON, or the exit status when the command ends here
 * (--help, a usage error). */
static int compare_parse(compare *cmp, int argc, char **argv)
{
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;
    int st;
    cli_opt_parser_init(&p, compare_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        int r;
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown("compare", v, compare_opts);
        if (st == CLI_OPT_ARG) {
            cmp->files[cmp->nfiles++] = v;
            continue;
        }
        if (cli_opt_is(o, "--help"))
            return cli_opt_usage(compare_usage, compare_opts, 24, NULL);
        r = cli_common_apply(&cmp->c, "compare", o->name, v);
        if (r == 0)
            r = cli_output_apply("compare", o->name, v, &cmp->out, &cmp->layout);
        if (r < 0)
            return EXIT_USAGE;
    }
    if (cmp->nfiles < 1)
        return cli_usage_error("compare", "give at least one scenario file (usually two or more)");
    return GO_ON;
}

/* Load every file, then make sure -o replaces none of them (nor a file
 * they include, known once they are loaded). */
static int compare_load(compare *cmp)
{
    size_t i;
    int rc;
    cmp->loaded = calloc(cmp->nfiles, sizeof *cmp->loaded);
    if (!cmp->loaded)
        return cli_error("out of memory");
    for (i = 0; i < cmp->nfiles; i++)
        if ((rc = cli_load(&cmp->loaded[i], cmp->files[i], &cmp->c)) != EXIT_OK)
            return rc;
    if (cmp->out) { /* no output may replace an input (included files are known now) */
        cli_iolist io = { 0 };
        for (i = 0; i < cmp->nfiles; i++)
            cli_io_add_inputs(&io, i == 0 ? &cmp->c : NULL, cmp->loaded[i], cmp->files[i]);
        cli_io_add(&io, cmp->out, "-o", 1, 1);
        if ((rc = cli_io_check("compare", &io)) != EXIT_OK)
            return rc;
    }
    return EXIT_OK;
}

/* Run every scenario of every file, print the comparison and write -o
 * (with the models for its sidecar). */
static int compare_run(compare *cmp)
{
    size_t i, j;
    int rc;
    for (i = 0; i < cmp->nfiles; i++)
        if ((rc = cli_run_models(cmp->loaded[i], cmp->files[i], &cmp->res, &cmp->nres)) != EXIT_OK)
            return rc;
    if (cmp->nres == 0)
        return cli_error("no scenarios to compare (the files returned none)");
    cmp->models = calloc(cmp->nres + 1, sizeof *cmp->models);
    if (!cmp->models)
        return cli_error("out of memory");
    for (i = 0; i < cmp->nfiles; i++)
        for (j = 0; j < cli_loaded_count(cmp->loaded[i]); j++)
            cmp->models[cmp->nmodels++] = cli_loaded_model(cmp->loaded[i], j);
    cli_print_compare(stdout, cmp->res, cmp->nres);
    if (fflush(stdout) != 0)
        return cli_error("writing standard output failed");
    if (cmp->out)
        return cli_write_outputs(cmp->out, cmp->layout, "compare", cmp->files[0], &cmp->c,
                                 cmp->res, cmp->nres, cmp->models, cmp->nmodels);
    return EXIT_OK;
}

/* Free what compare holds. */
static void compare_free(compare *cmp)
{
    size_t i;
    for (i = 0; i < cmp->nres; i++)
        ss_result_free(cmp->res[i]);
    free(cmp->res);
    free(cmp->models);
    if (cmp->loaded)
        for (i = 0; i < cmp->nfiles; i++)
            cli_loaded_free(cmp->loaded[i]);
    free(cmp->loaded);
    free(cmp->files);
    cli_common_free(&cmp->c);
}

int cmd_compare(int argc, char **argv)
{
    compare cmp;
    int rc;
    memset(&cmp, 0, sizeof cmp);
    cmp.layout = SS_LAYOUT_LONG;
    cmp.files = calloc((size_t)argc, sizeof *cmp.files);
    if (!cmp.files)
        return cli_error("out of memory");
    rc = compare_parse(&cmp, argc, argv);
    if (rc == GO_ON) {
        rc = compare_load(&cmp);
        if (rc == EXIT_OK)
            rc = compare_run(&cmp);
    }
    compare_free(&cmp);
    return rc;
}
