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

int cmd_run(int argc, char **argv)
{
    cli_common c = { 0 };
    const char *file = NULL, *out = NULL;
    ss_layout layout = SS_LAYOUT_LONG;
    cli_loaded *l = NULL;
    ss_result **res = NULL;
    size_t nres = 0, i;
    int rc = EXIT_OK;

    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;
    int st;

    cli_opt_parser_init(&p, run_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        int r;
        if (st == CLI_OPT_UNKNOWN) {
            cli_common_free(&c);
            return cli_opt_unknown("run", v, run_opts);
        }
        if (st == CLI_OPT_ARG) {
            if (file) {
                cli_common_free(&c);
                return cli_usage_error("run", "only one scenario file (got '%s' and '%s'); use 'compare'", file, v);
            }
            file = v;
            continue;
        }
        if (cli_opt_is(o, "--help")) {
            cli_common_free(&c);
            return cli_opt_usage(run_usage, run_opts, 24, NULL);
        }
        r = cli_common_apply(&c, "run", o->name, v);
        if (r == 0)
            r = cli_output_apply("run", o->name, v, &out, &layout);
        if (r < 0) {
            cli_common_free(&c);
            return EXIT_USAGE;
        }
    }
    if (!file) {
        cli_common_free(&c);
        return cli_usage_error("run", "missing SCENARIO.lua");
    }

    if ((rc = cli_load(&l, file, &c)) != EXIT_OK)
        goto done;
    if (out) { /* no output may replace an input (included files are known now) */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &c, l, file);
        cli_io_add(&io, out, "-o", 1, 1);
        if ((rc = cli_io_check("run", &io)) != EXIT_OK)
            goto done;
    }
    if ((rc = cli_run_models(l, file, &res, &nres)) != EXIT_OK)
        goto done;
    if (nres == 0) { /* the script returned nothing: it did its own work */
        if (out)
            rc = cli_error("%s: the script returned no scenario, so there is nothing to write to %s",
                           file, out);
        goto done;
    }
    if (out) {
        size_t n = cli_loaded_count(l);
        const ss_model **models = malloc((n + 1) * sizeof *models);
        if (!models) {
            rc = cli_error("out of memory");
            goto done;
        }
        for (i = 0; i < n; i++)
            models[i] = cli_loaded_model(l, i);
        rc = cli_write_outputs(out, layout, "run", file, &c, res, nres, models, n);
        free(models);
    } else {
        for (i = 0; i < nres; i++) {
            if (i)
                putchar('\n');
            cli_print_summary(stdout, res[i], cli_loaded_model(l, i), file);
        }
        if (fflush(stdout) != 0)
            rc = cli_error("writing standard output failed");
    }
done:
    for (i = 0; i < nres; i++)
        ss_result_free(res[i]);
    free(res);
    cli_loaded_free(l);
    cli_common_free(&c);
    return rc;
}
