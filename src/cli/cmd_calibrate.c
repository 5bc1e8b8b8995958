/*
 * cmd_calibrate.c - `stratsim calibrate`: fit the parameters of the
 * scenario's `calibrate` table (bounds, start) to observations read from
 * --data by weighted nonlinear least squares (ss_calibrate_run: GSL
 * trust-region Levenberg-Marquardt). Prints fitted values with standard
 * errors, the correlation matrix, RMSE, iterations and status, and the
 * --set strings that apply the fit; --write FIT.lua writes the override
 * file that `--params FIT.lua` applies; -o writes the residuals CSV.
 * Reads the options into an ss_calibrate_job (stratsim/analysis.h), which
 * runs and writes. Depends on cli_analysis.h and the core's calibrate.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli_analysis.h"

static const char calibrate_head[] =
    "Usage: stratsim calibrate SCENARIO.lua --data DATA.csv [options]\n"
    "\n"
    "Fit the parameters of the scenario's `calibrate` table,\n"
    "  calibrate = { [\"segments.public.tau\"] = { lower = 0.1, upper = 10, start = 2 } },\n"
    "to observed values by weighted nonlinear least squares (GSL trust region,\n"
    "Levenberg-Marquardt, bounds by a change of variable). DATA.csv has the\n"
    "columns time,provider,segment,metric,value[,weight] (a long-layout output\n"
    "of `stratsim run` works as is). Prints the fitted values with standard\n"
    "errors, their correlation matrix, RMSE, iterations and status, and the\n"
    "--set arguments that apply the fit.\n"
    "\n"
    "Options:\n";

static const char calibrate_tail[] =
    "\n"
    "Not converging is reported, not an error (exit status 0).\n";

static const cli_opt_spec calibrate_opts[] = {
    { CLI_OPT_VALUE, "--data", 0, "FILE", "observations (required)" },
    { CLI_OPT_VALUE, "--write", 0, "FIT.lua",
      "write the fitted values as an override file;\n"
      "apply it with `stratsim run SCENARIO.lua --params\n"
      "FIT.lua` (any command that takes --set)" },
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "residuals CSV time,provider,segment,metric,\n"
      "observed,weight,model,residual,weighted_residual\n"
      "and its JSON sidecar; '-': CSV to standard output;\n"
      "FILE.xlsx: an Excel workbook" },
    { CLI_OPT_VALUE, "--fit", 0, "PATH=LOWER,UPPER[,START]",
      "\nadd or replace a fitted parameter (repeatable;\n"
      "-inf/inf for no bound)" },
    { CLI_OPT_VALUE, "--max-iter", 0, "N", "solver iterations at most (default 200)" },
    { CLI_OPT_SWITCH, "--central", 0, NULL, "central-difference Jacobian (2 runs per parameter)" },
    { CLI_OPT_SWITCH, "--absolute-weights", 0, NULL,
      "weights are 1/sigma^2: standard errors not rescaled" },
    { CLI_OPT_VALUE, "--scenario", 0, "NAME", "the scenario to fit (files returning several)" },
    { CLI_OPT_TEXT, "--set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,", 0, NULL, NULL },
    { CLI_OPT_TEXT, "--max-instructions N, --root DIR", 0, NULL, "as for run" },
    CLI_AN_COMMON_HIDDEN,
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

/* "PATH=LOWER,UPPER[,START]" */
static int parse_fit(const char *s, char *path, size_t n, double *lo, double *hi, double *start)
{
    const char *eq = strchr(s, '=');
    char **items = NULL;
    size_t cnt = 0, i;
    double v[3];
    int ok;
    if (!eq || eq == s || (size_t)(eq - s) >= n)
        return -1;
    snprintf(path, n, "%.*s", (int)(eq - s), s);
    if (cli_split_list(eq + 1, &items, &cnt) != 0)
        return -1;
    ok = cnt == 2 || cnt == 3;
    for (i = 0; ok && i < cnt; i++) {
        if (strcmp(items[i], "-inf") == 0)
            v[i] = -INFINITY;
        else if (strcmp(items[i], "inf") == 0 || strcmp(items[i], "+inf") == 0)
            v[i] = INFINITY;
        else
            ok = cli_parse_num(items[i], &v[i]) == 0;
    }
    ss_strings_free(items, cnt);
    if (!ok || !(v[0] < v[1]) || (cnt == 3 && (!isfinite(v[2]) || v[2] < v[0] || v[2] > v[1])))
        return -1;
    *lo = v[0];
    *hi = v[1];
    *start = cnt == 3 ? v[2] : NAN;
    return 0;
}

/* The fit's parameter table: value, standard error, start and bounds. */
static void print_params(const ss_calib_result *c, size_t w)
{
    size_t i;
    char b[5][48];
    printf("  %-*s %22s %12s %12s   %s\n", (int)w, "parameter", "value", "+- se", "start", "bounds");
    for (i = 0; i < c->np; i++) {
        snprintf(b[3], sizeof b[3], "[%s, %s]", cli_num(b[0], sizeof b[0], c->lower[i], 6),
                 cli_num(b[1], sizeof b[1], c->upper[i], 6));
        printf("  %-*s %22s %12s %12s   %s%s\n", (int)w, c->paths[i],
               cli_num(b[0], sizeof b[0], c->value[i], 12),
               c->identified[i] && isfinite(c->se[i]) ? cli_num(b[1], sizeof b[1], c->se[i], 3) : "-",
               cli_num(b[2], sizeof b[2], c->start[i], 6), b[3],
               !c->identified[i] ? "  (not identified: no observation depends on it)"
               : c->at_bound[i] ? "  (at a bound: se not meaningful)" : "");
    }
}

/* What the table needs said (observations met by construction, no degree
 * of freedom, parameters not identified) and the correlation matrix. */
static void print_notes(const ss_calib_result *c, size_t w)
{
    size_t i, j;
    if (c->nconstructed)
        printf("\n  %zu observation%s at the start (the initial value is an input) fit%s by "
               "construction and %s not counted as degrees of freedom.\n",
               c->nconstructed, c->nconstructed == 1 ? "" : "s", c->nconstructed == 1 ? "s" : "",
               c->nconstructed == 1 ? "is" : "are");
    if (c->dof <= 0)
        printf("\n  No standard errors: the fit has no degree of freedom left (as many informative\n"
               "  observations as identified parameters).\n");
    for (i = 0; i < c->np; i++)
        if (!c->identified[i])
            fprintf(stderr, "stratsim: warning: calibrate: %s is not identified: moving it to its "
                    "bounds changes no model value at the observations\n", c->paths[i]);
    if (c->np < 2)
        return;
    printf("\n  correlation\n  %*s", (int)w + 4, "");
    for (j = 0; j < c->np; j++)
        printf(" %8zu", j + 1);
    putchar('\n');
    for (i = 0; i < c->np; i++) {
        printf("  %2zu  %-*s", i + 1, (int)w, c->paths[i]);
        for (j = 0; j < c->np; j++)
            printf(" %8.4f", c->corr[i * c->np + j]);
        putchar('\n');
    }
}

/* The fit as `stratsim calibrate` prints it: heading, parameters, notes,
 * goodness of fit, and how to apply it. */
static void print_fit(const ss_calib_result *c, const ss_model *m, const char *data,
                      const char *write_path, const char *file)
{
    size_t i, w = ss_strings_width(c->paths, c->np, 9);
    char b[3][48];
    printf("Calibration: %s to %s (%zu observation%s", m->name, data, c->nobs, c->nobs == 1 ? "" : "s");
    if (c->nconstructed)
        printf(", %zu met by construction at the start", c->nconstructed);
    printf(", %zu parameter%s, dof %ld)\n\n", c->np, c->np == 1 ? "" : "s", c->dof);
    print_params(c, w);
    print_notes(c, w);
    printf("\n  RMSE %s, chi2 %s, residual sd %s\n", cli_num(b[0], sizeof b[0], c->rmse, 6),
           cli_num(b[1], sizeof b[1], c->chi2, 6), cli_num(b[2], sizeof b[2], c->sigma, 6));
    printf("  status: %s after %zu iteration%s (%zu model run%s)\n", c->status, c->iterations,
           c->iterations == 1 ? "" : "s", c->nevals, c->nevals == 1 ? "" : "s");
    printf("\nApply the fit with:");
    for (i = 0; i < c->np; i++) {
        char set[700];
        ss_calibrate_set_string(set, sizeof set, c, i);
        printf(" --set %s", set);
    }
    putchar('\n');
    if (write_path)
        printf("or: stratsim run %s --params %s\n", file, write_path);
}

/* The options of the fit itself. */
typedef struct calibrate_args {
    const char *data, *write_path;
    const char **fits;
    size_t nfits;
    ss_calib_opts co;
} calibrate_args;

static int calibrate_apply(void *opts, const cli_opt_spec *o, const char *v)
{
    calibrate_args *ca = opts;
    unsigned long long u;
    if (cli_opt_is(o, "--data")) {
        if (!v || !*v)
            return cli_usage_error("calibrate", "--data needs a CSV file");
        ca->data = v;
    } else if (cli_opt_is(o, "--write")) {
        if (!v || !*v || strcmp(v, "-") == 0)
            return cli_usage_error("calibrate", "--write needs a file name (FIT.lua)");
        ca->write_path = v;
    } else if (cli_opt_is(o, "--fit")) {
        const char **nf;
        char path[512];
        double lo, hi, start;
        if (!v || parse_fit(v, path, sizeof path, &lo, &hi, &start) != 0)
            return cli_usage_error("calibrate", "--fit needs PATH=LOWER,UPPER[,START] with "
                                   "LOWER < UPPER and START in between");
        if (!(nf = realloc(ca->fits, (ca->nfits + 1) * sizeof *nf)))
            return cli_error("out of memory");
        ca->fits = nf;
        ca->fits[ca->nfits++] = v;
    } else if (cli_opt_is(o, "--max-iter")) {
        if (!v || cli_parse_uint(v, 1000000, &u) != 0 || u == 0)
            return cli_usage_error("calibrate", "--max-iter needs a positive integer");
        ca->co.max_iter = (size_t)u;
    } else if (cli_opt_is(o, "--central")) {
        ca->co.central = 1;
    } else if (cli_opt_is(o, "--absolute-weights")) {
        ca->co.absolute_weights = 1;
    } else {
        return CLI_AN_COMMON;
    }
    return EXIT_OK;
}

static const cli_an_verb calibrate_verb = {
    "calibrate", calibrate_opts, calibrate_head, calibrate_tail, calibrate_apply
};

/* The state of one `stratsim calibrate`. */
typedef struct calibrate_cmd {
    cli_an_args a;
    calibrate_args ca;
    cli_an_load ld;
    ss_calibrate_job cj;
    ss_analysis *an;
    ss_run_opts ro;
    const ss_model *m;
    char *json;
} calibrate_cmd;

/* Load the file, its `calibrate` table with the --fit changes, and the data. */
static int calibrate_load(calibrate_cmd *c)
{
    const calibrate_args *ca = &c->ca;
    ss_err err = {0};
    size_t i;
    int rc;
    if ((rc = cli_an_load_file(&c->ld, &c->a, "calibrate", 0)) != EXIT_OK)
        return rc;
    { /* no output may replace an input or another output */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &c->a.c, c->ld.l, c->a.file);
        cli_io_add(&io, ca->data, "the --data file", 0, 0);
        cli_io_add(&io, c->a.out, "-o", 1, 1);
        cli_io_add(&io, ca->write_path, "--write", 1, 1);
        if ((rc = cli_io_check("calibrate", &io)) != EXIT_OK)
            return rc;
    }
    c->m = cli_loaded_model(c->ld.l, c->ld.first);
    if ((rc = cli_an_inputs(&c->ld, c->ld.first, SS_AN_CALIBRATE, &c->an)) != EXIT_OK)
        return rc;
    for (i = 0; i < ca->nfits; i++) {
        char path[512];
        double lo, hi, start;
        parse_fit(ca->fits[i], path, sizeof path, &lo, &hi, &start);
        if (ss_analysis_check_path(c->m, path, "fitted parameter", &err) != SS_OK)
            return cli_error("--fit %s: %s", ca->fits[i], err.msg);
        if (ss_analysis_set_calib(c->an, path, lo, hi, start, &err) != SS_OK)
            return cli_error("out of memory");
    }
    if (c->an->ncalib == 0)
        return cli_error("%s: scenario '%s' has no `calibrate` table: add one, e.g. "
                         "calibrate = { [\"segments.public.tau\"] = { lower = 0.1, upper = 10 } }, "
                         "or use --fit PATH=LOWER,UPPER", c->a.file, c->m->name);
    if (ss_calibrate_job_read(&c->cj, ca->data, &err) != SS_OK)
        return cli_error("%s", err.msg);
    return EXIT_OK;
}

/* Write -o and --write (all or none), print the fit (unless -o -). */
static int calibrate_output(calibrate_cmd *c)
{
    const char *out = c->a.out, *write_path = c->ca.write_path;
    int rc;
    if (!(c->json = ss_calibrate_job_json(&c->cj)))
        return cli_error("out of memory");
    if (out && (rc = cli_an_write(out, ss_calibrate_job_write_residuals, &c->cj, "calibrate",
                                  &c->a, c->m, c->json, &c->ro)) != EXIT_OK)
        return rc;
    if (write_path &&
        (rc = cli_an_write(write_path, ss_calibrate_job_write_fit, &c->cj, "calibrate --write",
                           &c->a, c->m, c->json, &c->ro)) != EXIT_OK) {
        cli_an_remove_pair(out); /* all outputs or none */
        return rc;
    }
    if (!out || strcmp(out, "-") != 0) {
        print_fit(c->cj.result, c->m, c->ca.data, write_path, c->a.file);
        if (fflush(stdout) != 0)
            return cli_error("writing standard output failed");
    }
    return EXIT_OK;
}

/* After the options: the fit, then the outputs. */
static int calibrate_main(calibrate_cmd *c)
{
    cli_progress prog;
    ss_err err = {0};
    int rc, st;
    if (!c->a.file)
        return cli_usage_error("calibrate", "missing SCENARIO.lua");
    if (!c->ca.data)
        return cli_usage_error("calibrate", "missing --data DATA.csv");
    if (c->ca.write_path && c->a.out && strcmp(c->ca.write_path, c->a.out) == 0)
        return cli_usage_error("calibrate", "--write and -o name the same file");
    if ((rc = calibrate_load(c)) != EXIT_OK ||
        (rc = cli_an_run_opts(&c->ld, c->ld.first, c->a.file, &c->ro, 1)) != EXIT_OK)
        return rc;
    cli_progress_init(&prog, c->m->name, "runs");
    c->cj.co = c->ca.co;
    st = ss_calibrate_job_run(&c->cj, c->m, c->an, &c->ro, cli_progress_hook(&prog), &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if (st != SS_OK)
        return cli_an_fail(c->a.file, c->m, st, &err, &prog);
    return calibrate_output(c);
}

int cmd_calibrate(int argc, char **argv)
{
    calibrate_cmd c = { .cj = SS_CALIBRATE_JOB_INIT };
    int rc;
    c.ca.co = c.cj.co;
    rc = cli_an_parse(&c.a, &calibrate_verb, &c.ca, argc, argv);
    if (rc == CLI_AN_PARSED)
        rc = calibrate_main(&c);
    cli_sigint_end();
    ss_calibrate_job_free(&c.cj);
    ss_analysis_free(c.an);
    free(c.ca.fits);
    free(c.json);
    if (c.ld.l)
        cli_loaded_free(c.ld.l);
    cli_common_free(&c.a.c);
    return rc;
}
