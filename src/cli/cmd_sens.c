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

static const char sens_head[] =
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
    "Options:\n";

static const cli_opt_spec sens_opts[] = {
    { CLI_OPT_VALUE, "--method", 0, "tornado|sobol", "the analysis (default tornado)" },
    { CLI_OPT_VALUE, "--outputs", 0, "LIST",
      "selectors, e.g. share:alibaba:public@2028,npv:alibaba\n"
      "(default: NPV of the first provider and its share\n"
      "of every segment at the end)" },
    { CLI_OPT_VALUE, "--vary", 0, "LIST",
      "parameter paths to vary (default: every path of\n"
      "`uncertainty`); paths without a distribution vary\n"
      "by --range around their base value" },
    { CLI_OPT_VALUE, "--range", 0, "X",
      "relative range for paths without a distribution\n"
      "(default 0.1, i.e. +-10%)" },
    { CLI_OPT_VALUE, "--dist", 0, "PATH=DIST", "add or replace a distribution (repeatable)" },
    { CLI_OPT_VALUE, "--samples", 0, "N",
      "Sobol base sample size N (default 256; powers of\n"
      "two keep the sequence balanced)" },
    { CLI_OPT_VALUE, "--bootstrap", 0, "B", "Sobol bootstrap resamples (default 200, 0: none)" },
    { CLI_OPT_VALUE, "--seed", 0, "S", "bootstrap seed (default 1)" },
    { CLI_OPT_VALUE, "--engine", 0, "auto|scalar",
      "Sobol's runs: auto (default) runs them in the\n"
      "lanes of the batched engine when the scenario\n"
      "has no policy, derived metric, user stock or\n"
      "link and the solver is rk8pd; scalar: each on its\n"
      "own (a tornado's runs always are)" },
    { CLI_OPT_VALUE, "--threads", 0, "T",
      "worker threads of Sobol's batched engine (default:\n"
      "the number of CPUs; the output is the same for any)" },
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "CSV (tornado: parameter,output,low_value,\n"
      "high_value,output_at_low,output_at_high,swing,rank;\n"
      "sobol: parameter,output,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi)\n"
      "and its JSON sidecar; '-': CSV to standard output;\n"
      "FILE.xlsx: an Excel workbook" },
    { CLI_OPT_VALUE, "--scenario", 0, "NAME", "the scenario to analyse (files returning several)" },
    { CLI_OPT_TEXT, "--set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,", 0, NULL, NULL },
    { CLI_OPT_TEXT, "--max-instructions N, --root DIR", 0, NULL, "as for run" },
    CLI_AN_COMMON_HIDDEN,
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static void print_tornado(const ss_tornado *t, const ss_sens_param *sp, const ss_model *m,
                          double range)
{
    size_t j, r, w = ss_strings_width(t->params, t->nparam, 9);
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
    size_t i, j, r, w = ss_strings_width(s->params, s->d, 9);
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

/* The options of the analysis itself. */
typedef struct sens_args {
    char **outs, **vary;
    size_t nout, nvary, ndists;
    const char **dists;
    double range;
    unsigned long long samples;
    int sobol;
    ss_sobol_opts so;
} sens_args;

/* --outputs and --vary: comma lists, repeatable. */
static int sens_list(const char *name, char ***v, size_t *n, const char *s)
{
    if (s && add_list(v, n, s) == 0 && *n > 0)
        return EXIT_OK;
    if (s && *n > 0)
        return cli_error("out of memory");
    if (strcmp(name, "--outputs") == 0)
        return cli_usage_error("sens", "--outputs needs selectors, e.g. "
                               "npv:alibaba,share:alibaba:public@2028");
    return cli_usage_error("sens", "--vary needs parameter paths");
}

static int sens_apply(void *opts, const cli_opt_spec *o, const char *v)
{
    sens_args *sa = opts;
    unsigned long long u;
    if (cli_opt_is(o, "--method")) {
        if (v && strcmp(v, "tornado") == 0)
            sa->sobol = 0;
        else if (v && strcmp(v, "sobol") == 0)
            sa->sobol = 1;
        else
            return cli_usage_error("sens", "--method must be 'tornado' or 'sobol'");
    } else if (cli_opt_is(o, "--outputs")) {
        return sens_list(o->name, &sa->outs, &sa->nout, v);
    } else if (cli_opt_is(o, "--vary")) {
        return sens_list(o->name, &sa->vary, &sa->nvary, v);
    } else if (cli_opt_is(o, "--range")) {
        if (!v || cli_parse_num(v, &sa->range) != 0 || !(sa->range > 0) || sa->range > 1e6)
            return cli_usage_error("sens", "--range needs a positive number (0.1 = +-10%%)");
    } else if (cli_opt_is(o, "--dist")) {
        const char **nd;
        if (!v || !strchr(v, '=') || v[0] == '=')
            return cli_usage_error("sens", "--dist needs PATH=DISTRIBUTION");
        if (!(nd = realloc(sa->dists, (sa->ndists + 1) * sizeof *nd)))
            return cli_error("out of memory");
        sa->dists = nd;
        sa->dists[sa->ndists++] = v;
    } else if (cli_opt_is(o, "--samples")) {
        if (!v || cli_parse_uint(v, 1ULL << 24, &sa->samples) != 0 || sa->samples < 2)
            return cli_usage_error("sens", "--samples needs an integer >= 2");
    } else if (cli_opt_is(o, "--bootstrap")) {
        if (!v || cli_parse_uint(v, 100000, &u) != 0)
            return cli_usage_error("sens", "--bootstrap needs an integer in 0..100000");
        sa->so.nboot = (size_t)u;
    } else if (cli_opt_is(o, "--seed")) {
        if (!v || cli_parse_uint(v, (unsigned long)-1, &u) != 0)
            return cli_usage_error("sens", "--seed needs a non-negative integer");
        sa->so.seed = (unsigned long)u;
    } else if (cli_opt_is(o, "--engine")) {
        int scalar = 0, rc = cli_parse_engine("sens", v, &scalar);
        if (rc == 0)
            sa->so.engine = scalar ? SS_SOBOL_ENGINE_SCALAR : SS_SOBOL_ENGINE_AUTO;
        return rc;
    } else if (cli_opt_is(o, "--threads")) {
        return cli_parse_threads("sens", v, &sa->so.threads);
    } else {
        return CLI_AN_COMMON;
    }
    return EXIT_OK;
}

static const cli_an_verb sens_verb = { "sens", sens_opts, sens_head, NULL, sens_apply };

/* The state of one `stratsim sens`. */
typedef struct sens_cmd {
    cli_an_args a;
    sens_args sa;
    cli_an_load ld;
    ss_sens_job sj;
    ss_analysis *an;
    ss_run_opts ro;
    cli_mpi_job job;
    const ss_model *m;
    char *json;
} sens_cmd;

/* Load the file and its `uncertainty` with the --dist changes. */
static int sens_load(sens_cmd *c)
{
    ss_err err = {0};
    size_t i;
    int rc;
    if ((rc = cli_mpi_begin(&c->job, c->a.file)) != EXIT_OK ||
        (rc = cli_an_load_file(&c->ld, &c->a, "sens", 0)) != EXIT_OK)
        return rc;
    if (c->a.out) { /* no output may replace an input */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &c->a.c, c->ld.l, c->a.file);
        cli_io_add(&io, c->a.out, "-o", 1, 1);
        if ((rc = cli_io_check("sens", &io)) != EXIT_OK)
            return rc;
    }
    c->m = cli_loaded_model(c->ld.l, c->ld.first);
    if ((rc = cli_an_inputs(&c->ld, c->ld.first, SS_AN_UNCERTAINTY, &c->an)) != EXIT_OK)
        return rc;
    for (i = 0; i < c->sa.ndists; i++) {
        const char *d = c->sa.dists[i], *eq = strchr(d, '=');
        char path[512];
        ss_dist dist;
        snprintf(path, sizeof path, "%.*s", (int)(eq - d), d);
        if (ss_dist_parse(&dist, eq + 1, path, &err) != SS_OK)
            return cli_usage_error("sens", "--dist %s: %s", d, err.msg);
        if (ss_analysis_check_path(c->m, path, "varied parameter", &err) != SS_OK)
            return cli_error("--dist %s: %s", d, err.msg);
        if (ss_analysis_set_dist(c->an, path, &dist, &err) != SS_OK)
            return cli_error("out of memory");
    }
    return EXIT_OK;
}

/* The job's settings, outputs and parameters from the options. */
static int sens_job_setup(sens_cmd *c)
{
    ss_sens_job *sj = &c->sj;
    ss_err err = {0};
    size_t i;
    sj->sobol = c->sa.sobol;
    sj->range = c->sa.range;
    sj->samples = (size_t)c->sa.samples;
    sj->so = c->sa.so;
    sj->outputs = (const char *const *)c->sa.outs;
    sj->nout = c->sa.nout;
    sj->vary = (const char *const *)c->sa.vary;
    sj->nvary = c->sa.nvary;
    if (ss_sens_job_default_outputs(sj, c->m, &err) != SS_OK)
        return cli_error("out of memory");
    for (i = 0; i < sj->nout; i++) {
        ss_selector s;
        if (ss_selector_parse(&s, sj->outputs[i], &err) != SS_OK)
            return cli_usage_error("sens", "--outputs: %s", err.msg);
        if (ss_selector_validate(&s, c->m, &err) != SS_OK) /* an unknown id: exit 1 like --set */
            return cli_error("--outputs: %s", err.msg);
        if (s.when == SS_SEL_EACH)
            return cli_usage_error("sens", "--outputs: '%s': @each gives a series; name one time",
                                   sj->outputs[i]);
    }
    if (ss_sens_job_params(sj, c->an, c->m, &err) != SS_OK)
        return cli_error("%s: scenario '%s': %s", c->a.file, c->m->name, err.msg);
    if (sj->sobol && sj->nparams > SS_SOBOL_MAX_DIM)
        return cli_usage_error("sens", "sobol: at most %d parameters (got %zu); choose them with --vary",
                               SS_SOBOL_MAX_DIM, sj->nparams);
    return EXIT_OK;
}

/* Print the table (unless -o -) and write -o. */
static int sens_output(sens_cmd *c)
{
    size_t i;
    for (i = 0; i < c->sj.nparams; i++)
        if (ss_sens_job_inert(&c->sj, i))
            fprintf(stderr, "stratsim: warning: sens: '%s' moves none of the outputs "
                    "(every %s is below %g relative)\n", c->sj.params[i].path,
                    c->sj.sobol ? "total index" : "swing", SS_EFFECT_TOL);
    c->json = ss_sens_job_json(&c->sj);
    if (!c->json || cli_mpi_sidecar_json(&c->job, &c->json) != 0)
        return cli_error("out of memory");
    if (!c->a.out || strcmp(c->a.out, "-") != 0) {
        if (c->sj.sobol)
            print_sobol(c->sj.indices, c->m, &c->sj.so);
        else
            print_tornado(c->sj.tornado, c->sj.params, c->m, c->sj.range);
        if (fflush(stdout) != 0)
            return cli_error("writing standard output failed");
    }
    if (c->a.out)
        return cli_an_write(c->a.out, ss_sens_job_write_csv, &c->sj, "sens", &c->a, c->m,
                            c->json, &c->ro);
    return EXIT_OK;
}

/* After the options: the analysis, then the table and -o (rank 0). */
static int sens_main(sens_cmd *c)
{
    cli_progress prog;
    ss_err err = {0};
    int rc, st;
    if (!c->a.file)
        return cli_usage_error("sens", "missing SCENARIO.lua");
    if ((rc = sens_load(c)) != EXIT_OK || (rc = sens_job_setup(c)) != EXIT_OK ||
        (rc = cli_an_run_opts(&c->ld, c->ld.first, c->a.file, &c->ro, 1)) != EXIT_OK)
        return rc;
    cli_progress_init(&prog, c->m->name, "runs");
    st = ss_sens_job_run(&c->sj, c->m, &c->ro, cli_progress_hook(&prog), cli_mpi_transport(&c->job),
                         &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if ((rc = cli_mpi_end(&c->job, st, &err, c->a.file, c->m, &prog)) != EXIT_OK || c->job.rank != 0)
        return rc; /* ranks other than 0 write nothing */
    return sens_output(c);
}

int cmd_sens(int argc, char **argv)
{
    sens_cmd c = { .sj = SS_SENS_JOB_INIT };
    int rc;
    c.sa.sobol = c.sj.sobol;
    c.sa.range = c.sj.range;
    c.sa.samples = c.sj.samples;
    c.sa.so = c.sj.so;
    c.sa.so.threads = 0; /* every online CPU */
    cli_mpi_job_init(&c.job, "sens");
    rc = cli_an_parse(&c.a, &sens_verb, &c.sa, argc, argv);
    if (rc == CLI_AN_PARSED)
        rc = sens_main(&c);
    rc = cli_mpi_finish(&c.job, rc);
    cli_sigint_end();
    ss_sens_job_free(&c.sj);
    ss_analysis_free(c.an);
    ss_strings_free(c.sa.outs, c.sa.nout);
    ss_strings_free(c.sa.vary, c.sa.nvary);
    free(c.sa.dists);
    free(c.json);
    if (c.ld.l)
        cli_loaded_free(c.ld.l);
    cli_common_free(&c.a.c);
    return rc;
}
