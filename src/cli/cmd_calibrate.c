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

static const char calibrate_help[] =
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
    "Options:\n"
    "  --data FILE               observations (required)\n"
    "  --write FIT.lua           write the fitted values as an override file;\n"
    "                            apply it with `stratsim run SCENARIO.lua --params\n"
    "                            FIT.lua` (any command that takes --set)\n"
    "  -o, --output FILE         residuals CSV time,provider,segment,metric,\n"
    "                            observed,weight,model,residual,weighted_residual\n"
    "                            and its JSON sidecar; '-': CSV to standard output;\n"
    "                            FILE.xlsx: an Excel workbook\n"
    "  --fit PATH=LOWER,UPPER[,START]\n"
    "                            add or replace a fitted parameter (repeatable;\n"
    "                            -inf/inf for no bound)\n"
    "  --max-iter N              solver iterations at most (default 200)\n"
    "  --central                 central-difference Jacobian (2 runs per parameter)\n"
    "  --absolute-weights        weights are 1/sigma^2: standard errors not rescaled\n"
    "  --scenario NAME           the scenario to fit (files returning several)\n"
    "  --set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,\n"
    "  --max-instructions N, --root DIR   as for run\n"
    "  -h, --help                show this help\n"
    "\n"
    "Not converging is reported, not an error (exit status 0).\n";

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

static void print_fit(const ss_calib_result *c, const ss_model *m, const char *data,
                      const char *write_path, const char *file)
{
    size_t i, j, w = 9;
    char b[5][48];
    for (i = 0; i < c->np; i++)
        if (strlen(c->paths[i]) > w)
            w = strlen(c->paths[i]);
    printf("Calibration: %s to %s (%zu observation%s", m->name, data, c->nobs, c->nobs == 1 ? "" : "s");
    if (c->nconstructed)
        printf(", %zu met by construction at the start", c->nconstructed);
    printf(", %zu parameter%s, dof %ld)\n\n", c->np, c->np == 1 ? "" : "s", c->dof);
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
    if (c->np > 1) {
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

/* The options of this verb, for "did you mean" (cli_an_option adds the common ones). */
static const char *const calibrate_options[] = {
    "--data", "--write", "--fit", "--max-iter", "--central", "--absolute-weights", NULL
};

int cmd_calibrate(int argc, char **argv)
{
    cli_an_args a;
    cli_an_load ld;
    const char *data = NULL, *write_path = NULL;
    const char **fits = NULL;
    size_t nfits = 0, i;
    unsigned long long u;
    int rc = EXIT_OK, missing, st;
    ss_calibrate_job cj = SS_CALIBRATE_JOB_INIT;
    ss_calib_opts co = cj.co;
    cli_progress prog;
    ss_analysis *an = NULL;
    ss_run_opts ro;
    ss_crn crn;
    ss_err err = {0};
    const ss_model *m;
    char *json = NULL;

    memset(&a, 0, sizeof a);
    a.options = calibrate_options;
    memset(&ld, 0, sizeof ld);
    for (i = 1; i < (size_t)argc; i++) {
        int k = (int)i;
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(calibrate_help, stdout);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
            goto done;
        }
        if ((v = cli_opt_value("--data", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || !*v) {
                rc = cli_usage_error("calibrate", "--data needs a CSV file");
                goto done;
            }
            data = v;
        } else if ((v = cli_opt_value("--write", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || !*v || strcmp(v, "-") == 0) {
                rc = cli_usage_error("calibrate", "--write needs a file name (FIT.lua)");
                goto done;
            }
            write_path = v;
        } else if ((v = cli_opt_value("--fit", NULL, argc, argv, &k, &missing)) || missing) {
            const char **nf;
            char path[512];
            double lo, hi, start;
            if (missing || parse_fit(v, path, sizeof path, &lo, &hi, &start) != 0) {
                rc = cli_usage_error("calibrate", "--fit needs PATH=LOWER,UPPER[,START] with "
                                     "LOWER < UPPER and START in between");
                goto done;
            }
            if (!(nf = realloc(fits, (nfits + 1) * sizeof *nf))) {
                rc = cli_error("out of memory");
                goto done;
            }
            fits = nf;
            fits[nfits++] = v;
        } else if ((v = cli_opt_value("--max-iter", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 1000000, &u) != 0 || u == 0) {
                rc = cli_usage_error("calibrate", "--max-iter needs a positive integer");
                goto done;
            }
            co.max_iter = (size_t)u;
        } else if (strcmp(arg, "--central") == 0) {
            co.central = 1;
        } else if (strcmp(arg, "--absolute-weights") == 0) {
            co.absolute_weights = 1;
        } else if (cli_an_option(&a, "calibrate", argc, argv, &k) < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
        i = (size_t)k;
    }
    if (!a.file) {
        rc = cli_usage_error("calibrate", "missing SCENARIO.lua");
        goto done;
    }
    if (!data) {
        rc = cli_usage_error("calibrate", "missing --data DATA.csv");
        goto done;
    }
    if (write_path && a.out && strcmp(write_path, a.out) == 0) {
        rc = cli_usage_error("calibrate", "--write and -o name the same file");
        goto done;
    }
    if ((rc = cli_an_load_file(&ld, &a, "calibrate", 0)) != EXIT_OK)
        goto done;
    { /* no output may replace an input or another output */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &a.c, ld.l, a.file);
        cli_io_add(&io, data, "the --data file", 0, 0);
        cli_io_add(&io, a.out, "-o", 1, 1);
        cli_io_add(&io, write_path, "--write", 1, 1);
        if ((rc = cli_io_check("calibrate", &io)) != EXIT_OK)
            goto done;
    }
    m = cli_loaded_model(ld.l, ld.first);
    if ((rc = cli_an_inputs(&ld, ld.first, SS_AN_CALIBRATE, &an)) != EXIT_OK)
        goto done;
    for (i = 0; i < nfits; i++) {
        char path[512];
        double lo, hi, start;
        parse_fit(fits[i], path, sizeof path, &lo, &hi, &start);
        if (ss_analysis_check_path(m, path, "fitted parameter", &err) != SS_OK) {
            rc = cli_error("--fit %s: %s", fits[i], err.msg);
            goto done;
        }
        if (ss_analysis_set_calib(an, path, lo, hi, start, &err) != SS_OK) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    if (an->ncalib == 0) {
        rc = cli_error("%s: scenario '%s' has no `calibrate` table: add one, e.g. "
                       "calibrate = { [\"segments.public.tau\"] = { lower = 0.1, upper = 10 } }, "
                       "or use --fit PATH=LOWER,UPPER", a.file, m->name);
        goto done;
    }
    if ((st = ss_calibrate_job_read(&cj, data, &err)) != SS_OK) {
        rc = cli_error("%s", err.msg);
        goto done;
    }
    if ((rc = cli_an_run_opts(&ld, ld.first, a.file, &ro, &crn)) != EXIT_OK)
        goto done;
    cli_progress_init(&prog, m->name, "runs");
    cj.co = co;
    st = ss_calibrate_job_run(&cj, m, an, &ro, cli_progress_hook(&prog), &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if (st != SS_OK) {
        rc = cli_an_fail(a.file, m, st, &err, &prog);
        goto done;
    }
    if (!(json = ss_calibrate_job_json(&cj))) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (a.out && (rc = cli_an_write(a.out, ss_calibrate_job_write_residuals, &cj, "calibrate", &a,
                                    &m, 1, json)) != EXIT_OK)
        goto done;
    if (write_path && (rc = cli_an_write(write_path, ss_calibrate_job_write_fit, &cj,
                                         "calibrate --write", &a, &m, 1, json)) != EXIT_OK) {
        cli_an_remove_pair(a.out); /* all outputs or none */
        goto done;
    }
    if (!a.out || strcmp(a.out, "-") != 0) {
        print_fit(cj.result, m, data, write_path, a.file);
        if (fflush(stdout) != 0)
            rc = cli_error("writing standard output failed");
    }
done:
    cli_sigint_end();
    ss_calibrate_job_free(&cj);
    ss_analysis_free(an);
    free(fits);
    free(json);
    if (ld.l)
        cli_loaded_free(ld.l);
    cli_common_free(&a.c);
    return rc;
}
