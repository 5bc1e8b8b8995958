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

int cmd_compare(int argc, char **argv)
{
    cli_common c = { 0 };
    const char **files = NULL, *out = NULL;
    size_t nfiles = 0, i, j;
    ss_layout layout = SS_LAYOUT_LONG;
    cli_loaded **loaded = NULL;
    ss_result **res = NULL;
    const ss_model **models = NULL;
    size_t nres = 0, nmodels = 0;
    int rc = EXIT_OK, st;
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;

    files = calloc((size_t)argc, sizeof *files);
    if (!files)
        return cli_error("out of memory");
    cli_opt_parser_init(&p, compare_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        int r;
        if (st == CLI_OPT_UNKNOWN) {
            rc = cli_opt_unknown("compare", v, compare_opts);
            goto done;
        }
        if (st == CLI_OPT_ARG) {
            files[nfiles++] = v;
            continue;
        }
        if (cli_opt_is(o, "--help")) {
            rc = cli_opt_usage(compare_usage, compare_opts, 24, NULL);
            goto done;
        }
        r = cli_common_apply(&c, "compare", o->name, v);
        if (r == 0)
            r = cli_output_apply("compare", o->name, v, &out, &layout);
        if (r < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (nfiles < 1) {
        rc = cli_usage_error("compare", "give at least one scenario file (usually two or more)");
        goto done;
    }
    loaded = calloc(nfiles, sizeof *loaded);
    if (!loaded) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < nfiles; i++)
        if ((rc = cli_load(&loaded[i], files[i], &c)) != EXIT_OK)
            goto done;
    if (out) { /* no output may replace an input (included files are known now) */
        cli_iolist io = { 0 };
        for (i = 0; i < nfiles; i++)
            cli_io_add_inputs(&io, i == 0 ? &c : NULL, loaded[i], files[i]);
        cli_io_add(&io, out, "-o", 1, 1);
        if ((rc = cli_io_check("compare", &io)) != EXIT_OK)
            goto done;
    }
    for (i = 0; i < nfiles; i++)
        if ((rc = cli_run_models(loaded[i], files[i], &res, &nres)) != EXIT_OK)
            goto done;
    if (nres == 0) {
        rc = cli_error("no scenarios to compare (the files returned none)");
        goto done;
    }
    models = calloc(nres + 1, sizeof *models);
    if (!models) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < nfiles; i++)
        for (j = 0; j < cli_loaded_count(loaded[i]); j++)
            models[nmodels++] = cli_loaded_model(loaded[i], j);
    cli_print_compare(stdout, res, nres);
    if (fflush(stdout) != 0) {
        rc = cli_error("writing standard output failed");
        goto done;
    }
    if (out)
        rc = cli_write_outputs(out, layout, "compare", files[0], &c, res, nres, models, nmodels);
done:
    for (i = 0; i < nres; i++)
        ss_result_free(res[i]);
    free(res);
    free(models);
    if (loaded)
        for (i = 0; i < nfiles; i++)
            cli_loaded_free(loaded[i]);
    free(loaded);
    free(files);
    cli_common_free(&c);
    return rc;
}
