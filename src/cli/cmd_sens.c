/*
 * cmd_sens.c - `stratsim sens`: sensitivity of chosen outputs to the
 * scenario's uncertain parameters. Tornado: each parameter at the 5% and
 * 95% quantiles of its distribution (or base -+ range without one), ranked
 * by swing. Sobol: first-order and total indices from Saltelli sampling of
 * a Sobol sequence through each distribution's quantile function, with
 * bootstrap intervals. Prints a ranked table; -o writes the CSV for a
 * tornado chart (or the indices) with its JSON sidecar.
 * Reads the options into an ss_sens_job (stratsim/analysis.h), which runs
 * and writes. Depends on cli_analysis.h and the core's sens.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli_analysis.h"
#include "cli/cli_mpi.h"

static const char sens_help[] =
    "Usage: stratsim sens SCENARIO.lua [options]\n"
    "\n"
    "Sensitivity of outputs to the scenario's `uncertainty` parameters.\n"
    "  tornado  one at a time: each parameter at the 5% and 95% quantiles of its\n"
    "           distribution (or base -+ --range without one), every other input\n"
    "           at its base value; ranked by swing |y(high) - y(low)|;\n"
    "           1 + 2 x parameters runs\n"
    "  sobol    global first-order (S1) and total (ST) indices: Saltelli sampling\n"
    "           of a Sobol sequence through each distribution's quantile function,\n"
    "           bootstrap confidence intervals; N x (parameters + 2) runs\n"
    "Prints a table ranked by swing (tornado) or total index (sobol).\n"
    "\n"
    "Options:\n"
    "  --method tornado|sobol    the analysis (default tornado)\n"
    "  --outputs LIST            selectors, e.g. share:alibaba:public@2028,npv:alibaba\n"
    "                            (default: NPV of the first provider and its share\n"
    "                            of every segment at the end)\n"
    "  --vary LIST               parameter paths to vary (default: every path of\n"
    "                            `uncertainty`); paths without a distribution vary\n"
    "                            by --range around their base value\n"
    "  --range X                 relative range for paths without a distribution\n"
    "                            (default 0.1, i.e. +-10%)\n"
    "  --dist PATH=DIST          add or replace a distribution (repeatable)\n"
    "  --samples N               Sobol base sample size N (default 256; powers of\n"
    "                            two keep the sequence balanced)\n"
    "  --bootstrap B             Sobol bootstrap resamples (default 200, 0: none)\n"
    "  --seed S                  bootstrap seed (default 1)\n"
    "  -o, --output FILE         CSV (tornado: parameter,output,low_value,\n"
    "                            high_value,output_at_low,output_at_high,swing,rank;\n"
    "                            sobol: parameter,output,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi)\n"
    "                            and its JSON sidecar; '-': CSV to standard output;\n"
    "                            FILE.xlsx: an Excel workbook\n"
    "  --scenario NAME           the scenario to analyse (files returning several)\n"
    "  --set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,\n"
    "  --max-instructions N, --root DIR   as for run\n"
    "  -h, --help                show this help\n";

static size_t longest(char *const *v, size_t n, size_t min)
{
    size_t i, w = min;
    for (i = 0; i < n; i++)
        if (strlen(v[i]) > w)
            w = strlen(v[i]);
    return w;
}

static void print_tornado(const ss_tornado *t, const ss_sens_param *sp, const ss_model *m,
                          double range)
{
    size_t j, r, w = longest(t->params, t->nparam, 9);
    char b[6][40];
    size_t nrange = 0;
    for (j = 0; j < t->nparam; j++)
        nrange += sp[j].from_range != 0;
    printf("Tornado: %s, %zu parameter%s, %zu runs\n", m->name, t->nparam,
           t->nparam == 1 ? "" : "s", 1 + 2 * t->nparam);
    if (nrange == 0)
        printf("low/high: the 5%% and 95%% quantiles of each distribution\n");
    else if (nrange == t->nparam)
        printf("low/high: base value -+%g%% (no distributions)\n", range * 100);
    else
        printf("low/high: the 5%% and 95%% quantiles of each distribution; base value "
               "-+%g%% for * (no distribution)\n", range * 100);
    for (j = 0; j < t->nout; j++) {
        printf("\n%s (base %s)\n", t->outputs[j], cli_num(b[0], sizeof b[0], t->base_out[j], 8));
        printf("  rank  %-*s %12s %12s %14s %14s %12s\n", (int)w + 1, "parameter", "low", "high",
               "output at low", "at high", "swing");
        for (r = 0; r < t->nparam; r++) {
            const ss_tornado_row *row = &t->rows[j * t->nparam + r];
            char name[300];
            snprintf(name, sizeof name, "%s%s", t->params[row->param],
                     sp[row->param].from_range && nrange < t->nparam ? "*" : "");
            printf("  %4zu  %-*s %12s %12s %14s %14s %12s\n", row->rank, (int)w + 1, name,
                   cli_num(b[0], sizeof b[0], row->low, 6), cli_num(b[1], sizeof b[1], row->high, 6),
                   cli_num(b[2], sizeof b[2], row->out_low, 8),
                   cli_num(b[3], sizeof b[3], row->out_high, 8),
                   cli_num(b[4], sizeof b[4], row->swing, 6));
        }
    }
}

/* x as printed with four decimals, without a "-0.0000" (a slightly negative
 * estimate of a zero index). */
static double nz4(double x)
{
    return fabs(x) < 0.00005 ? 0.0 : x;
}

/* Sobol table for output j, ranked by the total index (largest first). */
static void print_sobol(const ss_sobol *s, const ss_model *m, const ss_sobol_opts *so)
{
    size_t i, j, r, w = longest(s->params, s->d, 9);
    size_t *order = malloc(s->d * sizeof *order);
    char b[6][40];
    printf("Sobol indices: %s, %zu parameter%s, N = %zu, %zu runs", m->name, s->d,
           s->d == 1 ? "" : "s", s->n, s->nevals);
    if (so->nboot)
        printf("; %g%% bootstrap intervals (%zu resamples)", so->level * 100, so->nboot);
    printf("\n");
    for (j = 0; j < s->nout; j++) {
        printf("\n%s (mean %s, sd %s)\n", s->outputs[j], cli_num(b[0], sizeof b[0], s->mean[j], 8),
               cli_num(b[1], sizeof b[1], sqrt(s->var[j]), 6));
        printf("  rank  %-*s %9s %21s %9s %21s\n", (int)w, "parameter", "S1", "interval", "ST",
               "interval");
        if (!order)
            break;
        for (i = 0; i < s->d; i++)
            order[i] = i;
        /* insertion sort by ST descending (NaN last), stable */
        for (i = 1; i < s->d; i++) {
            size_t x = order[i], k = i;
            double v = SS_SOBOL_AT(s, ST, x, j);
            while (k > 0) {
                double u = SS_SOBOL_AT(s, ST, order[k - 1], j);
                if (!(isnan(u) || (!isnan(v) && v > u)))
                    break;
                order[k] = order[k - 1];
                k--;
            }
            order[k] = x;
        }
        for (r = 0; r < s->d; r++) {
            size_t p = order[r];
            char i1[48], i2[48];
            snprintf(i1, sizeof i1, "[%s, %s]", cli_num(b[0], sizeof b[0], SS_SOBOL_AT(s, S1_lo, p, j), 3),
                     cli_num(b[1], sizeof b[1], SS_SOBOL_AT(s, S1_hi, p, j), 3));
            snprintf(i2, sizeof i2, "[%s, %s]", cli_num(b[2], sizeof b[2], SS_SOBOL_AT(s, ST_lo, p, j), 3),
                     cli_num(b[3], sizeof b[3], SS_SOBOL_AT(s, ST_hi, p, j), 3));
            printf("  %4zu  %-*s %9.4f %21s %9.4f %21s\n", r + 1, (int)w, s->params[p],
                   nz4(SS_SOBOL_AT(s, S1, p, j)), so->nboot ? i1 : "", nz4(SS_SOBOL_AT(s, ST, p, j)),
                   so->nboot ? i2 : "");
        }
    }
    free(order);
}

/* Append the items of a comma list to *v. */
static int add_list(char ***v, size_t *n, const char *s)
{
    char **items, **nv;
    size_t cnt, i;
    if (cli_split_list(s, &items, &cnt) != 0)
        return -1;
    if (!(nv = realloc(*v, (*n + cnt + 1) * sizeof *nv))) {
        ss_strings_free(items, cnt);
        return -1;
    }
    *v = nv;
    for (i = 0; i < cnt; i++)
        nv[(*n)++] = items[i];
    free(items);
    return 0;
}

/* The options of this verb, for "did you mean" (cli_an_option adds the common ones). */
static const char *const sens_options[] = {
    "--method", "--outputs", "--vary", "--range", "--dist", "--samples", "--bootstrap", "--seed", NULL
};

int cmd_sens(int argc, char **argv)
{
    cli_an_args a;
    cli_an_load ld;
    ss_sens_job sj = SS_SENS_JOB_INIT;
    char **outs = NULL, **vary = NULL, *json = NULL;
    size_t nout = 0, nvary = 0, i, ndists = 0;
    const char **dists = NULL;
    double range = sj.range;
    unsigned long long u, samples = sj.samples;
    int sobol = sj.sobol, rc = EXIT_OK, missing, st;
    ss_sobol_opts so = sj.so;
    cli_progress prog;
    ss_analysis *an = NULL;
    ss_run_opts ro;
    ss_crn crn;
    ss_err err = {0};
    const ss_model *m;
    cli_mpi_job job;

    cli_mpi_job_init(&job, "sens");
    memset(&a, 0, sizeof a);
    a.options = sens_options;
    memset(&ld, 0, sizeof ld);
    for (i = 1; i < (size_t)argc; i++) {
        int k = (int)i;
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(sens_help, stdout);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
            goto done;
        }
        if ((v = cli_opt_value("--method", NULL, argc, argv, &k, &missing)) || missing) {
            if (!missing && strcmp(v, "tornado") == 0)
                sobol = 0;
            else if (!missing && strcmp(v, "sobol") == 0)
                sobol = 1;
            else {
                rc = cli_usage_error("sens", "--method must be 'tornado' or 'sobol'");
                goto done;
            }
        } else if ((v = cli_opt_value("--outputs", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || add_list(&outs, &nout, v) != 0 || nout == 0) {
                rc = missing || nout == 0 ? cli_usage_error("sens", "--outputs needs selectors, e.g. "
                                                            "npv:alibaba,share:alibaba:public@2028")
                                          : cli_error("out of memory");
                goto done;
            }
        } else if ((v = cli_opt_value("--vary", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || add_list(&vary, &nvary, v) != 0 || nvary == 0) {
                rc = missing || nvary == 0 ? cli_usage_error("sens", "--vary needs parameter paths")
                                           : cli_error("out of memory");
                goto done;
            }
        } else if ((v = cli_opt_value("--range", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_num(v, &range) != 0 || !(range > 0) || range > 1e6) {
                rc = cli_usage_error("sens", "--range needs a positive number (0.1 = +-10%%)");
                goto done;
            }
        } else if ((v = cli_opt_value("--dist", NULL, argc, argv, &k, &missing)) || missing) {
            const char **nd;
            if (missing || !strchr(v, '=') || v[0] == '=') {
                rc = cli_usage_error("sens", "--dist needs PATH=DISTRIBUTION");
                goto done;
            }
            if (!(nd = realloc(dists, (ndists + 1) * sizeof *nd))) {
                rc = cli_error("out of memory");
                goto done;
            }
            dists = nd;
            dists[ndists++] = v;
        } else if ((v = cli_opt_value("--samples", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 1ULL << 24, &samples) != 0 || samples < 2) {
                rc = cli_usage_error("sens", "--samples needs an integer >= 2");
                goto done;
            }
        } else if ((v = cli_opt_value("--bootstrap", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 100000, &u) != 0) {
                rc = cli_usage_error("sens", "--bootstrap needs an integer in 0..100000");
                goto done;
            }
            so.nboot = (size_t)u;
        } else if ((v = cli_opt_value("--seed", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, (unsigned long)-1, &u) != 0) {
                rc = cli_usage_error("sens", "--seed needs a non-negative integer");
                goto done;
            }
            so.seed = (unsigned long)u;
        } else if (cli_an_option(&a, "sens", argc, argv, &k) < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
        i = (size_t)k;
    }
    if (!a.file) {
        rc = cli_usage_error("sens", "missing SCENARIO.lua");
        goto done;
    }
    if ((rc = cli_mpi_begin(&job, a.file)) != EXIT_OK)
        goto done;
    if ((rc = cli_an_load_file(&ld, &a, "sens", 0)) != EXIT_OK)
        goto done;
    if (a.out) { /* no output may replace an input */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &a.c, ld.l, a.file);
        cli_io_add(&io, a.out, "-o", 1, 1);
        if ((rc = cli_io_check("sens", &io)) != EXIT_OK)
            goto done;
    }
    m = cli_loaded_model(ld.l, ld.first);
    if ((rc = cli_an_inputs(&ld, ld.first, SS_AN_UNCERTAINTY, &an)) != EXIT_OK)
        goto done;
    for (i = 0; i < ndists; i++) {
        const char *eq = strchr(dists[i], '=');
        char path[512];
        ss_dist d;
        snprintf(path, sizeof path, "%.*s", (int)(eq - dists[i]), dists[i]);
        if (ss_dist_parse(&d, eq + 1, path, &err) != SS_OK) {
            rc = cli_usage_error("sens", "--dist %s: %s", dists[i], err.msg);
            goto done;
        }
        if (ss_analysis_check_path(m, path, "varied parameter", &err) != SS_OK) {
            rc = cli_error("--dist %s: %s", dists[i], err.msg);
            goto done;
        }
        if (ss_analysis_set_dist(an, path, &d, &err) != SS_OK) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    sj.sobol = sobol;
    sj.range = range;
    sj.samples = (size_t)samples;
    sj.so = so;
    sj.outputs = (const char *const *)outs;
    sj.nout = nout;
    sj.vary = (const char *const *)vary;
    sj.nvary = nvary;
    if (ss_sens_job_default_outputs(&sj, m, &err) != SS_OK) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < sj.nout; i++) {
        ss_selector s;
        if (ss_selector_parse(&s, sj.outputs[i], &err) != SS_OK) {
            rc = cli_usage_error("sens", "--outputs: %s", err.msg);
            goto done;
        }
        if (ss_selector_validate(&s, m, &err) != SS_OK) { /* an unknown id: exit 1 like --set */
            rc = cli_error("--outputs: %s", err.msg);
            goto done;
        }
        if (s.when == SS_SEL_EACH) {
            rc = cli_usage_error("sens", "--outputs: '%s': @each gives a series; name one time",
                                 sj.outputs[i]);
            goto done;
        }
    }
    if (ss_sens_job_params(&sj, an, m, &err) != SS_OK) {
        rc = cli_error("%s: scenario '%s': %s", a.file, m->name, err.msg);
        goto done;
    }
    if (sobol && sj.nparams > SS_SOBOL_MAX_DIM) {
        rc = cli_usage_error("sens", "sobol: at most %d parameters (got %zu); choose them with --vary",
                             SS_SOBOL_MAX_DIM, sj.nparams);
        goto done;
    }
    if ((rc = cli_an_run_opts(&ld, ld.first, a.file, &ro, &crn)) != EXIT_OK)
        goto done;
    cli_progress_init(&prog, m->name, "runs");
    st = ss_sens_job_run(&sj, m, &ro, cli_progress_hook(&prog), cli_mpi_transport(&job), &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if ((rc = cli_mpi_end(&job, st, &err, a.file, m, &prog)) != EXIT_OK || job.rank != 0)
        goto done; /* ranks other than 0 write nothing */
    for (i = 0; i < sj.nparams; i++)
        if (ss_sens_job_inert(&sj, i))
            fprintf(stderr, "stratsim: warning: sens: '%s' moves none of the outputs "
                    "(every %s is below %g relative)\n", sj.params[i].path,
                    sobol ? "total index" : "swing", SS_EFFECT_TOL);
    json = ss_sens_job_json(&sj);
    if (!json || cli_mpi_sidecar_json(&job, &json) != 0) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (!a.out || strcmp(a.out, "-") != 0) {
        if (sobol)
            print_sobol(sj.indices, m, &sj.so);
        else
            print_tornado(sj.tornado, sj.params, m, range);
        if (fflush(stdout) != 0) {
            rc = cli_error("writing standard output failed");
            goto done;
        }
    }
    if (a.out)
        rc = cli_an_write(a.out, ss_sens_job_write_csv, &sj, "sens", &a, &m, 1, json);
done:
    rc = cli_mpi_finish(&job, rc);
    cli_sigint_end();
    ss_sens_job_free(&sj);
    ss_analysis_free(an);
    ss_strings_free(outs, nout);
    ss_strings_free(vary, nvary);
    free(dists);
    free(json);
    if (ld.l)
        cli_loaded_free(ld.l);
    cli_common_free(&a.c);
    return rc;
}
