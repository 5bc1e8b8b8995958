/*
 * cmd_mc.c - `stratsim mc`: Monte Carlo over a scenario's `uncertainty`
 * (parameter distributions) and `outages` (Poisson outage processes), on
 * several threads, with results identical for any thread count. Reads the
 * options, runs every scenario of the file through one Monte Carlo job
 * (ss_mc_job, stratsim/analysis.h) and writes its CSV of mean, sd and
 * quantiles per metric and output time with the JSON sidecar, or prints a
 * summary; --per-run streams the job's per-run rows to a file committed
 * with the rest. Scenarios with a policy or derived outputs get one Lua
 * state per worker thread (the job's prepare hook). Depends on
 * cli_analysis.h.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli_analysis.h"
#include "cli/xlsx_out.h"
#include "cli/cli_mpi.h"

static const char mc_head[] =
    "Usage: stratsim mc SCENARIO.lua [options]\n"
    "\n"
    "Monte Carlo: run the scenario many times with its `uncertainty` parameters\n"
    "drawn from their distributions and its `outages` as random Poisson events,\n"
    "and report the mean, standard deviation and quantiles of every metric at\n"
    "every output time. Run i draws from its own stream, a function of (seed, i)\n"
    "only, so the output is byte-identical for any --threads. Memory does not\n"
    "grow with --runs (streaming moments, t-digest quantile sketches); it is\n"
    "estimated before the first run, and a Monte Carlo that needs more than\n"
    "--max-memory stops there with an error that says how to reduce it.\n"
    "Without -o, print a summary at the last output time.\n"
    "\n"
    "Options:\n";

static const char mc_tail[] =
    "\n"
    "Distributions: normal(mean, sd), lognormal(mu, sigma), uniform(a, b),\n"
    "triangular(a, mode, b), beta(alpha, beta[, lo, hi]), truncnormal(mean, sd,\n"
    "lo, hi), fixed(x). Ctrl-C stops promptly and writes nothing.\n";

static const cli_opt_spec mc_opts[] = {
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "CSV scenario,time,provider,segment,metric,mean,sd,\n"
      "p05,p50,p95 and the JSON sidecar FILE.json; '-'\n"
      "writes the CSV to standard output (no sidecar);\n"
      "FILE.xlsx: an Excel workbook with fan charts" },
    { CLI_OPT_VALUE, "--runs", 0, "N", "number of runs (default 1000)" },
    { CLI_OPT_VALUE, "--seed", 0, "S", "master seed, 0..2^64-1 (default 1)" },
    { CLI_OPT_VALUE, "--threads", 0, "T", "worker threads (default: the number of CPUs)" },
    { CLI_OPT_VALUE, "--quantiles", 0, "LIST", "quantile levels, e.g. 0.05,0.5,0.95 (the default)" },
    { CLI_OPT_VALUE, "--outputs", 0, "LIST",
      "keep only these series (default: every metric at\n"
      "every output time), selectors such as\n"
      "share:alibaba:public@each (every output time),\n"
      "npv:alibaba (the last one), size:public@2028" },
    { CLI_OPT_VALUE, "--max-memory", 0, "SIZE",
      "memory the Monte Carlo may use, e.g. 512M, 2G\n"
      "(default 1G; a number alone is MiB); also the\n"
      "scenario script's memory limit" },
    { CLI_OPT_VALUE, "--dist", 0, "PATH=DIST",
      "add or replace an uncertain parameter, e.g.\n"
      "--dist 'segments.public.growth=normal(0.2, 0.03)'" },
    { CLI_OPT_SWITCH, "--no-outages", 0, NULL, "ignore the scenario's `outages` table" },
    { CLI_OPT_VALUE, "--per-run", 0, "FILE",
      "also write one row per run: the drawn parameter\n"
      "values and the --per-run-metrics (+ FILE.json)" },
    { CLI_OPT_VALUE, "--per-run-metrics", 0, "LIST",
      "selectors for --per-run, e.g.\n"
      "share:alibaba:public,npv:alibaba (default: the\n"
      "NPV of every provider)" },
    { CLI_OPT_VALUE, "--compression", 0, "C", "t-digest compression (default 200)" },
    { CLI_OPT_VALUE, "--engine", 0, "auto|scalar",
      "auto (default): the batched engine when the\n"
      "scenario has no policy, derived metric, user\n"
      "stock or link and the solver is rk8pd; scalar:\n"
      "every run on its own" },
    { CLI_OPT_VALUE, "--scenario", 0, "NAME", "analyse only this scenario of the file" },
    { CLI_OPT_VALUE, "--set", 0, "PATH=VALUE", "override a numeric input (repeatable)" },
    { CLI_OPT_VALUE, "--params", 0, "FILE.lua", "apply an override file (calibrate --write)" },
    { CLI_OPT_SWITCH, "--unsafe", 0, NULL, "run the script without the sandbox" },
    { CLI_OPT_VALUE, "--max-instructions", 0, "N", "script budget" },
    { CLI_OPT_VALUE, "--root", 0, "DIR", "files the script may read lie below DIR" },
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

/* The per-run CSV: the job streams its rows to a temporary file next to
 * the target, committed with its sidecar once every output is ready. */
typedef struct per_run {
    ss_outfile *out;
    ss_selector *sel;         /* --per-run-metrics, parsed */
    size_t nsel;
} per_run;

/* One Lua state per worker for scenarios with a policy or derived outputs. */
typedef struct workers {
    size_t n;
    cli_loaded **l;
    ss_run_opts *ro;
    size_t index;             /* the scenario's index in each script */
    volatile int *interrupt;
} workers;

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
    cli_progress_update(done, total, payload);
}

/* prepare: give the run the run options of worker `worker`'s own Lua state
 * and reseed that state's math.random from the run's stream, so that a
 * policy drawing random numbers is reproducible for any thread count. */
static int prepare(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                   ss_run_opts *ro, void *payload, ss_err *err)
{
    workers *w = payload;
    (void)run;
    (void)model;
    if (worker >= w->n)
        return ss_err_set(err, SS_EINVAL, "", "internal error: worker %u of %zu", worker, w->n);
    *ro = w->ro[worker];
    ro->interrupt = w->interrupt;
    ss_script_reseed(cli_loaded_script(w->l[worker]), ss_analysis_run_seed(rng));
    return SS_OK;
}

static void workers_free(workers *w)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        cli_loaded_free(w->l[i]);
    free(w->l);
    free(w->ro);
    w->l = NULL;
    w->ro = NULL;
    w->n = 0;
}

/* Load the file once per worker (same overrides) for a scenario with Lua hooks. */
static int workers_load(workers *w, const cli_an_args *a, size_t index, unsigned n)
{
    size_t i;
    w->l = calloc(n, sizeof *w->l);
    w->ro = calloc(n, sizeof *w->ro);
    if (!w->l || !w->ro)
        return cli_error("out of memory");
    for (i = 0; i < n; i++) {
        ss_err err = {0};
        int rc = cli_load(&w->l[i], a->file, &a->c);
        if (rc != EXIT_OK)
            return rc;
        w->n = i + 1;
        if (ss_script_run_opts(cli_loaded_script(w->l[i]), index, &w->ro[i], &err) != SS_OK)
            return cli_error("%s: %s", a->file, err.msg);
    }
    return EXIT_OK;
}

/* One summary row: a value picked by (t, i, k) out of each statistic. */
typedef double (*pick_fn)(const ss_result *r, size_t t, size_t i, size_t k);

static double pick_share(const ss_result *r, size_t t, size_t i, size_t k)
{
    return SS_RESULT_PS(r, t, SS_PS_SHARE, i, k);
}

static double pick_op(const ss_result *r, size_t t, size_t i, size_t k)
{
    (void)k;
    return SS_RESULT_P(r, t, SS_P_OPERATING_PROFIT, i);
}

static double pick_npv(const ss_result *r, size_t t, size_t i, size_t k)
{
    (void)k;
    return SS_RESULT_P(r, t, SS_P_NPV, i);
}

/* A cell: shares in percent with two decimals as `run` shows them (the sd
 * in percentage points), other values with six significant digits. */
static const char *summary_cell(char *b, size_t n, double x, int pct)
{
    if (!pct)
        return cli_num(b, n, x, 6);
    x *= 100.0;
    if (fabs(x) < 0.005)
        x = 0.0; /* no "-0.00%" */
    snprintf(b, n, "%.2f%%", x);
    return b;
}

static void summary_row(const ss_mc_result *r, const char *label, pick_fn pick, size_t t,
                        size_t i, size_t k)
{
    size_t j, nq = ss_mc_result_nquantiles(r);
    int pct = pick == pick_share;
    char b[64];
    printf("%-34s %12s", label, summary_cell(b, sizeof b, pick(ss_mc_result_mean(r), t, i, k), pct));
    printf(" %12s", summary_cell(b, sizeof b, pick(ss_mc_result_sd(r), t, i, k), pct));
    for (j = 0; j < nq; j++)
        printf(" %12s", summary_cell(b, sizeof b, pick(ss_mc_result_quantile(r, j), t, i, k), pct));
    putchar('\n');
}

/* One summary row of a kept selector (an @each one at the last output time). */
static void summary_sel(const ss_mc_result *r, const ss_selector *sel)
{
    ss_selector one = *sel;
    size_t j, nq = ss_mc_result_nquantiles(r);
    int pct = sel->kind == SS_SEL_PS && sel->metric == SS_PS_SHARE;
    char b[64];
    double v;
    if (one.when == SS_SEL_EACH)
        one.when = SS_SEL_LAST;
#define SEL_CELL(res) (ss_selector_eval(&v, &one, (res), NULL) == SS_OK ? summary_cell(b, sizeof b, v, pct) : "-")
    printf("%-34s %12s", sel->text, SEL_CELL(ss_mc_result_mean(r)));
    printf(" %12s", SEL_CELL(ss_mc_result_sd(r)));
    for (j = 0; j < nq; j++)
        printf(" %12s", SEL_CELL(ss_mc_result_quantile(r, j)));
#undef SEL_CELL
    putchar('\n');
}

/* Summary at the last output time: shares, operating profit and NPV (or,
 * with --outputs, the kept selectors). */
static void print_summary(const ss_mc_result *r, const ss_model *m, const char *file,
                          const ss_selector *sel, size_t nsel)
{
    const ss_result *mean = ss_mc_result_mean(r);
    size_t nq = ss_mc_result_nquantiles(r), j, i, k, t = mean->nt - 1;
    char b[64], label[200];
    printf("Monte Carlo: %s  (%s)\n", m->name, file);
    printf("%" PRIu64 " run%s, seed %" PRIu64 "; values at t = %.10g\n\n", ss_mc_result_runs(r),
           ss_mc_result_runs(r) == 1 ? "" : "s", ss_mc_result_seed(r), mean->t[t]);
    printf("%-34s %12s %12s", "", "mean", "sd");
    for (j = 0; j < nq; j++) {
        ss_mc_quantile_name(b, sizeof b, ss_mc_result_quantile_level(r, j));
        printf(" %12s", b);
    }
    putchar('\n');
    if (nsel) {
        for (j = 0; j < nsel; j++)
            summary_sel(r, &sel[j]);
        return;
    }
    for (i = 0; i < mean->np; i++)
        for (k = 0; k < mean->nk; k++) {
            snprintf(label, sizeof label, "share %s %s", mean->prov_ids[i], mean->seg_ids[k]);
            summary_row(r, label, pick_share, t, i, k);
        }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "operating_profit %s", mean->prov_ids[i]);
        summary_row(r, label, pick_op, t, i, 0);
    }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "npv %s", mean->prov_ids[i]);
        summary_row(r, label, pick_npv, t, i, 0);
    }
}

/* Parse --quantiles. */
static int parse_levels(const char *s, double **out, size_t *n)
{
    char **items;
    size_t cnt, i;
    double *q;
    if (cli_split_list(s, &items, &cnt) != 0)
        return -1;
    q = calloc(cnt ? cnt : 1, sizeof *q);
    for (i = 0; q && i < cnt; i++) {
        size_t j;
        int bad = cli_parse_num(items[i], &q[i]) != 0 || q[i] < 0 || q[i] > 1;
        for (j = 0; !bad && j < i; j++)
            bad = q[j] == q[i]; /* distinct levels */
        if (bad) {
            free(q);
            q = NULL;
        }
    }
    ss_strings_free(items, cnt);
    if (!q || cnt == 0) {
        free(q);
        return -1;
    }
    *out = q;
    *n = cnt;
    return 0;
}

/* --per-run: parse --per-run-metrics (without it the job writes the NPV of
 * every provider) and open the file's temporary. */
static int per_run_open(per_run *p, const char *path, const char *metrics, const ss_model *m)
{
    char **names = NULL;
    size_t nn = 0, j;
    ss_err err = {0};
    int rc = EXIT_OK;
    if (metrics && cli_split_list(metrics, &names, &nn) != 0)
        return cli_error("out of memory");
    if (metrics && nn == 0)
        rc = cli_usage_error("mc", "--per-run-metrics: no selector given");
    else if (nn && !(p->sel = calloc(nn, sizeof *p->sel)))
        rc = cli_error("out of memory");
    for (j = 0; rc == EXIT_OK && j < nn; j++) {
        if (ss_selector_parse(&p->sel[j], names[j], &err) != SS_OK)
            rc = cli_usage_error("mc", "--per-run-metrics: %s", err.msg);
        else if (ss_selector_validate(&p->sel[j], m, &err) != SS_OK) /* an unknown id: exit 1 */
            rc = cli_error("--per-run-metrics: %s", err.msg);
        else if (p->sel[j].when == SS_SEL_EACH)
            rc = cli_usage_error("mc", "--per-run-metrics: '%s': @each gives a series, not one "
                                 "value", names[j]);
    }
    ss_strings_free(names, nn);
    p->nsel = nn;
    if (rc == EXIT_OK && ss_outfile_open(&p->out, path, &err) != SS_OK)
        rc = cli_error("%s", err.msg);
    return rc;
}

/* Commit the per-run CSV and write its sidecar; on failure neither is left. */
static int per_run_commit(per_run *p, const char *path, const cli_an_args *a, const ss_model *m,
                          const char *json)
{
    ss_outfile *so = NULL;
    ss_sidecar_info info;
    ss_err err = {0};
    char sha[65] = "", *side = malloc(strlen(path) + 6);
    int rc;
    if (!side)
        return cli_error("out of memory");
    if (cli_special_target(path)) { /* a device or FIFO: written in place, no sidecar */
        free(side);
        rc = ss_outfile_commit(p->out, &err);
        p->out = NULL;
        return rc == SS_OK ? EXIT_OK : cli_error("%s", err.msg);
    }
    sprintf(side, "%s.json", path);
    memset(&info, 0, sizeof info);
    info.command = "mc --per-run";
    info.scenario_file = a->file;
    info.scenario_sha256 = ss_sha256_file(a->file, sha, &err) == SS_OK ? sha : NULL;
    info.overrides = a->c.sets;
    info.noverrides = a->c.nsets;
    info.unsafe = a->c.unsafe;
    info.extra_json = json;
    ss_err_clear(&err);
    if ((rc = ss_outfile_open(&so, side, &err)) != SS_OK ||
        (rc = ss_sidecar_write(ss_outfile_stream(so), &info, &m, 1, &err)) != SS_OK) {
        ss_outfile_abort(so);
        free(side);
        return cli_error("%s", err.msg);
    }
    rc = ss_outfile_commit(p->out, &err);
    p->out = NULL;
    if (rc != SS_OK) {
        ss_outfile_abort(so);
        free(side);
        return cli_error("%s", err.msg);
    }
    if (ss_outfile_commit(so, &err) != SS_OK) {
        cli_an_remove_pair(path); /* never a CSV without its sidecar */
        free(side);
        return cli_error("%s", err.msg);
    }
    free(side);
    return EXIT_OK;
}

/* The options of the Monte Carlo itself. */
typedef struct mc_args {
    ss_mc_opts *o;             /* the job's: runs, seed, threads, engine, compression,
                                  max_memory */
    cli_common *c;             /* --max-memory is the script's limit too */
    double *levels;            /* --quantiles */
    size_t nlevels, ndists, nout;
    const char **dists;
    char **outs;               /* --outputs */
    const char *per_run_path, *metrics;
    int no_outages;
} mc_args;

/* The options that set one number of the Monte Carlo. */
static int mc_apply_number(mc_args *ma, const cli_opt_spec *o, const char *v)
{
    unsigned long long u;
    if (cli_opt_is(o, "--runs")) {
        if (!v || cli_parse_uint(v, 1ULL << 48, &u) != 0 || u == 0)
            return cli_usage_error("mc", "--runs needs a positive integer");
        ma->o->runs = u;
    } else if (cli_opt_is(o, "--seed")) {
        if (!v || cli_parse_uint(v, UINT64_MAX, &u) != 0)
            return cli_usage_error("mc", "--seed needs an integer in 0..18446744073709551615");
        ma->o->seed = u;
    } else if (cli_opt_is(o, "--threads")) {
        return cli_parse_threads("mc", v, &ma->o->threads);
    } else if (cli_opt_is(o, "--engine")) {
        int scalar = 0, rc = cli_parse_engine("mc", v, &scalar);
        if (rc == 0)
            ma->o->engine = scalar ? SS_MC_ENGINE_SCALAR : SS_MC_ENGINE_AUTO;
        return rc;
    } else if (cli_opt_is(o, "--compression")) {
        if (!v || cli_parse_num(v, &ma->o->compression) != 0 || ma->o->compression < 10 ||
            ma->o->compression > 1e5)
            return cli_usage_error("mc", "--compression needs a number in [10, 100000]");
    } else if (cli_opt_is(o, "--max-memory")) {
        uint64_t bytes;
        /* the Monte Carlo's limit, and the script's (in MiB, as for every verb) */
        if (!v || ss_mc_parse_bytes(v, (uint64_t)1 << 20, &bytes) != 0 || bytes > ((uint64_t)1 << 50))
            return cli_usage_error("mc", "--max-memory needs a size such as 512M, 2G or 1.5GiB "
                                   "(a number alone is MiB; at most 1P)");
        ma->o->max_memory = bytes;
        ma->c->max_memory = bytes < ((uint64_t)1 << 20) ? (size_t)1 << 20 : (size_t)bytes;
    } else {
        return CLI_AN_COMMON;
    }
    return EXIT_OK;
}

/* --outputs LIST: more selectors (repeatable). */
static int mc_add_outputs(mc_args *ma, const char *v)
{
    char **items = NULL, **no;
    size_t cnt = 0, j;
    if (!v || cli_split_list(v, &items, &cnt) != 0 || cnt == 0) {
        ss_strings_free(items, cnt);
        return cli_usage_error("mc", "--outputs needs selectors, e.g. "
                               "share:alibaba:public@each,npv:alibaba");
    }
    if (!(no = realloc(ma->outs, (ma->nout + cnt + 1) * sizeof *no))) {
        ss_strings_free(items, cnt);
        return cli_error("out of memory");
    }
    ma->outs = no;
    for (j = 0; j < cnt; j++)
        ma->outs[ma->nout++] = items[j];
    free(items);
    return EXIT_OK;
}

static int mc_apply(void *opts, const cli_opt_spec *o, const char *v)
{
    mc_args *ma = opts;
    if (cli_opt_is(o, "--quantiles")) {
        free(ma->levels);
        ma->levels = NULL;
        if (!v || parse_levels(v, &ma->levels, &ma->nlevels) != 0)
            return cli_usage_error("mc", "--quantiles needs distinct levels in [0, 1], e.g. "
                                   "0.05,0.5,0.95");
    } else if (cli_opt_is(o, "--dist")) {
        const char **nd;
        if (!v || !strchr(v, '=') || v[0] == '=')
            return cli_usage_error("mc", "--dist needs PATH=DISTRIBUTION, e.g. "
                                   "'segments.public.growth=normal(0.2, 0.03)'");
        if (!(nd = realloc(ma->dists, (ma->ndists + 1) * sizeof *nd)))
            return cli_error("out of memory");
        ma->dists = nd;
        ma->dists[ma->ndists++] = v;
    } else if (cli_opt_is(o, "--outputs")) {
        return mc_add_outputs(ma, v);
    } else if (cli_opt_is(o, "--no-outages")) {
        ma->no_outages = 1;
    } else if (cli_opt_is(o, "--per-run")) {
        if (!v || !*v || strcmp(v, "-") == 0)
            return cli_usage_error("mc", "--per-run needs a file name");
        if (cli_is_xlsx(v)) /* streamed run by run: CSV only */
            return cli_usage_error("mc", "--per-run writes CSV, not a workbook ('%s')", v);
        ma->per_run_path = v;
    } else if (cli_opt_is(o, "--per-run-metrics")) {
        if (!v || !*v)
            return cli_usage_error("mc", "--per-run-metrics needs selectors, e.g. npv:alibaba");
        ma->metrics = v;
    } else {
        return mc_apply_number(ma, o, v);
    }
    return EXIT_OK;
}

static const cli_an_verb mc_verb = { "mc", mc_opts, mc_head, mc_tail, mc_apply };

/* The state of one `stratsim mc`. */
typedef struct mc_cmd {
    cli_an_args a;
    mc_args ma;
    cli_an_load ld;
    ss_selector *sel;          /* the --outputs, parsed */
    ss_analysis **an;          /* per scenario: its uncertainty and outages */
    ss_mc_job mj;              /* the Monte Carlo of every scenario */
    ss_run_opts ro;
    per_run pr;
    workers w;
    cli_progress prog;
    cli_mpi_job job;
    char *json;
} mc_cmd;

/* The checks of the options among themselves. */
static int mc_check(const mc_cmd *c)
{
    const mc_args *ma = &c->ma;
    if (!c->a.file)
        return cli_usage_error("mc", "missing SCENARIO.lua");
    if (ma->metrics && !ma->per_run_path)
        return cli_usage_error("mc", "--per-run-metrics needs --per-run FILE");
    if (c->a.out && ma->per_run_path && strcmp(c->a.out, ma->per_run_path) == 0)
        return cli_usage_error("mc", "-o and --per-run name the same file");
    if (ma->per_run_path && cli_mpi_launched() && cli_mpi_env_size() > 1)
        return cli_usage_error("mc", "--per-run is not available with several MPI ranks");
    return EXIT_OK;
}

/* Load the file, check the outputs against the inputs, parse --outputs. */
static int mc_load(mc_cmd *c)
{
    const mc_args *ma = &c->ma;
    ss_err err = {0};
    size_t i, j;
    int rc;
    if ((rc = cli_mpi_begin(&c->job, c->a.file)) != EXIT_OK ||
        (rc = cli_an_load_file(&c->ld, &c->a, "mc", 1)) != EXIT_OK)
        return rc;
    { /* no output may replace an input or another output */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &c->a.c, c->ld.l, c->a.file);
        cli_io_add(&io, c->a.out, "-o", 1, 1);
        cli_io_add(&io, ma->per_run_path, "--per-run", 1, 1);
        if ((rc = cli_io_check("mc", &io)) != EXIT_OK)
            return rc;
    }
    if (ma->per_run_path && c->ld.count > 1)
        return cli_usage_error("mc", "--per-run needs one scenario: choose it with --scenario NAME");
    if (!ma->nout) /* syntax: a usage error; ids unknown to a scenario: its error (exit 1) */
        return EXIT_OK;
    if (!(c->sel = calloc(ma->nout, sizeof *c->sel)))
        return cli_error("out of memory");
    for (j = 0; j < ma->nout; j++)
        if (ss_selector_parse(&c->sel[j], ma->outs[j], &err) != SS_OK)
            return cli_usage_error("mc", "--outputs: %s", err.msg);
    for (i = 0; i < c->ld.count; i++)
        for (j = 0; j < ma->nout; j++)
            if (ss_selector_validate(&c->sel[j], cli_loaded_model(c->ld.l, c->ld.first + i), &err) != SS_OK)
                return cli_error("--outputs: %s", err.msg);
    return EXIT_OK;
}

/* The uncertain inputs of scenario i with the --dist and --no-outages changes. */
static int mc_inputs(mc_cmd *c, size_t i)
{
    const mc_args *ma = &c->ma;
    size_t si = c->ld.first + i, j;
    const ss_model *m = cli_loaded_model(c->ld.l, si);
    ss_analysis *an;
    int rc;
    if ((rc = cli_an_inputs(&c->ld, si, SS_AN_UNCERTAINTY, &c->an[i])) != EXIT_OK)
        return rc;
    an = c->an[i];
    for (j = 0; j < ma->ndists; j++) {
        const char *eq = strchr(ma->dists[j], '=');
        char path[512];
        ss_dist d;
        ss_err err = {0};
        snprintf(path, sizeof path, "%.*s", (int)(eq - ma->dists[j]), ma->dists[j]);
        if (ss_dist_parse(&d, eq + 1, path, &err) != SS_OK)
            return cli_usage_error("mc", "--dist %s: %s", ma->dists[j], err.msg);
        if (ss_analysis_check_path(m, path, "uncertain parameter", &err) != SS_OK)
            return cli_error("--dist %s: %s", ma->dists[j], err.msg);
        if (ss_analysis_set_dist(an, path, &d, &err) != SS_OK)
            return cli_error("out of memory");
    }
    if (ma->no_outages)
        ss_analysis_drop_outages(an);
    if (an->nparams == 0 && an->noutages == 0)
        fprintf(stderr, "stratsim: note: %s: scenario '%s' has no uncertainty%s, so every run "
                "is the same (give it an `uncertainty` or `outages` table, or --dist "
                "PATH=DIST)\n", c->a.file, m->name, ma->no_outages ? " (outages ignored: --no-outages)"
                : " and no outages");
    return EXIT_OK;
}

/* The Monte Carlo options shared by the scenarios. */
static void mc_opts_set(mc_cmd *c)
{
    ss_mc_opts *o = &c->mj.o;
    if (o->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = n > 0 ? (unsigned)(n > 1024 ? 1024 : n) : 1;
    }
    o->quantiles = c->ma.levels;
    o->nquantiles = c->ma.nlevels;
    o->outputs = c->sel;
    o->noutputs = c->ma.nout;
    o->name_outputs = "--outputs";
    o->name_max_memory = "--max-memory";
    o->interrupt = cli_sigint_begin();
    o->dist = cli_mpi_transport(&c->job);
    c->mj.progress.fn = on_progress;
    c->mj.progress.payload = &c->prog;
}

/* The Monte Carlo of scenario i (on this rank). */
static int mc_run_one(mc_cmd *c, size_t i)
{
    ss_mc_job *j = &c->mj;
    size_t si = c->ld.first + i;
    const ss_model *m = cli_loaded_model(c->ld.l, si);
    ss_err err = {0};
    int rc, st;
    if ((rc = cli_an_run_opts(&c->ld, si, c->a.file, &c->ro, 0)) != EXIT_OK)
        return rc;
    j->prepare = NULL;
    workers_free(&c->w);
    if (ss_run_opts_active(&c->ro)) { /* Lua runs in every run: one state per worker thread */
        if ((rc = workers_load(&c->w, &c->a, si, ss_mc_job_workers(j))) != EXIT_OK)
            return rc;
        c->w.interrupt = j->o.interrupt;
        j->prepare = prepare;
        j->payload = &c->w;
    }
    if (c->ma.per_run_path) {
        if ((rc = per_run_open(&c->pr, c->ma.per_run_path, c->ma.metrics, m)) != EXIT_OK)
            return rc;
        j->per_run = ss_outfile_stream(c->pr.out);
        j->per_run_sel = c->pr.sel;
        j->nper_run = c->pr.nsel;
    }
    cli_progress_init(&c->prog, m->name, "runs");
    c->prog.total = j->o.runs; /* known before the first report */
    st = ss_mc_job_run(j, m, c->an[i], &c->ro, &err);
    cli_progress_end(&c->prog);
    if (st != SS_OK)
        return cli_mpi_end(&c->job, st, &err, c->a.file, m, &c->prog);
    if (c->job.rank == 0) /* the warning once, from rank 0 */
        return cli_an_warn_inert("mc", c->a.file, m, c->an[i], &c->ro);
    return EXIT_OK;
}

/* The sidecar's settings (the quantile levels used, the block sizes). */
static int mc_json(mc_cmd *c)
{
    c->json = ss_mc_job_json(&c->mj);
    return c->json && cli_mpi_sidecar_json(&c->job, &c->json) == 0 ? EXIT_OK
                                                                    : cli_error("out of memory");
}

/* -o: every scenario's statistics in one CSV + sidecar. */
static int mc_write(mc_cmd *c)
{
    size_t n = c->ld.count, i;
    const ss_model **models = calloc(n, sizeof *models);
    const ss_result **means = calloc(n, sizeof *means);   /* names and units of the stocks */
    int rc;
    if (!models || !means) {
        free(models);
        free(means);
        return cli_error("out of memory");
    }
    for (i = 0; i < n; i++) {
        models[i] = cli_loaded_model(c->ld.l, c->ld.first + i);
        means[i] = ss_mc_result_mean(c->mj.res[i]);
    }
    rc = cli_an_write_results(c->a.out, ss_mc_job_write_csv, &c->mj, "mc", &c->a, models, n,
                              c->json, means, n);
    free(models);
    free(means);
    return rc;
}

/* Write -o (or print the summary) and --per-run: all outputs or none. */
static int mc_output(mc_cmd *c)
{
    size_t i;
    int rc;
    if ((rc = mc_json(c)) != EXIT_OK)
        return rc;
    if (c->a.out) {
        if ((rc = mc_write(c)) != EXIT_OK)
            return rc;
    } else {
        for (i = 0; i < c->ld.count; i++) {
            if (i)
                putchar('\n');
            print_summary(c->mj.res[i], cli_loaded_model(c->ld.l, c->ld.first + i), c->a.file, c->sel,
                          c->ma.nout);
        }
        if (fflush(stdout) != 0)
            return cli_error("writing standard output failed");
    }
    if (c->ma.per_run_path &&
        (rc = per_run_commit(&c->pr, c->ma.per_run_path, &c->a, cli_loaded_model(c->ld.l, c->ld.first),
                             c->json)) != EXIT_OK)
        cli_an_remove_pair(c->a.out); /* all outputs or none */
    return rc;
}

/* After the options: every scenario's Monte Carlo, then the outputs (rank 0). */
static int mc_main(mc_cmd *c)
{
    size_t n, i;
    int rc;
    if ((rc = mc_check(c)) != EXIT_OK || (rc = mc_load(c)) != EXIT_OK)
        return rc;
    n = c->ld.count;
    if (!(c->an = calloc(n, sizeof *c->an)))
        return cli_error("out of memory");
    for (i = 0; i < n; i++)
        if ((rc = mc_inputs(c, i)) != EXIT_OK)
            return rc;
    mc_opts_set(c);
    for (i = 0; i < n; i++)
        if ((rc = mc_run_one(c, i)) != EXIT_OK)
            return rc;
    if ((rc = cli_mpi_end(&c->job, SS_OK, NULL, c->a.file, cli_loaded_model(c->ld.l, c->ld.first),
                          NULL)) != EXIT_OK || c->job.rank != 0)
        return rc; /* ranks other than 0 write nothing */
    cli_sigint_end();
    return mc_output(c);
}

int cmd_mc(int argc, char **argv)
{
    mc_cmd c;
    size_t i;
    int rc;
    memset(&c, 0, sizeof c);
    ss_mc_job_init(&c.mj);
    c.mj.o.threads = 0; /* every online CPU */
    c.ma.o = &c.mj.o;
    c.ma.c = &c.a.c;
    cli_mpi_job_init(&c.job, "mc");
    rc = cli_an_parse(&c.a, &mc_verb, &c.ma, argc, argv);
    if (rc == CLI_AN_PARSED)
        rc = mc_main(&c);
    rc = cli_mpi_finish(&c.job, rc);
    cli_sigint_end();
    if (c.pr.out)
        ss_outfile_abort(c.pr.out);
    free(c.pr.sel);
    free(c.sel);
    ss_strings_free(c.ma.outs, c.ma.nout);
    workers_free(&c.w);
    ss_mc_job_free(&c.mj);
    for (i = 0; c.an && i < c.ld.count; i++)
        ss_analysis_free(c.an[i]);
    free(c.an);
    free(c.json);
    free(c.ma.levels);
    free(c.ma.dists);
    if (c.ld.l)
        cli_loaded_free(c.ld.l);
    cli_common_free(&c.a.c);
    return rc;
}
