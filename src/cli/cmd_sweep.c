/*
 * cmd_sweep.c - `stratsim sweep`: run a scenario at every point of a full
 * factorial grid of parameter values (--grid PATH=START:STOP:N or
 * PATH=v1,v2,...), on several threads with output identical for any thread
 * count; the long layout led by one column per swept path, or with
 * --outputs one row per point and one column per selector; JSON sidecar.
 * Scenarios with a policy, derived outputs, stocks or links get one Lua
 * state per worker thread, each run starting with math.random where the
 * script left it when it had loaded, as in `stratsim run`. The work is the
 * core's ss_sweep_job (stratsim/analysis.h), which runs ss_sweep_run
 * (sweep.h) and keeps the points.
 * Depends on cli_analysis.h and the core's sweep.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli_analysis.h"
#include "cli/cli_mpi.h"

static const char sweep_head[] =
    "Usage: stratsim sweep SCENARIO.lua --grid PATH=START:STOP:N [--grid ...]... [options]\n"
    "\n"
    "Run the scenario at every point of the full factorial grid of the --grid\n"
    "axes. START:STOP:N gives N evenly spaced values, both ends included\n"
    "(value i = START + i (STOP - START) / (N - 1); N = 1 gives START); a list\n"
    "v1,v2,... gives those values. Points are in grid order, the last --grid\n"
    "varying fastest. Each value is set like `--set` (a decision input becomes\n"
    "an intervention from time.policy). Output is byte-identical for any\n"
    "--threads. Without -o, print the selected outputs per point.\n"
    "\n"
    "Options:\n";

static const char sweep_tail[] =
    "\n"
    "Under mpirun the points are shared among the ranks (docs/scale-out.md).\n"
    "Ctrl-C stops promptly and writes nothing.\n";

static const cli_opt_spec sweep_opts[] = {
    { CLI_OPT_VALUE, "--grid", 0, "PATH=START:STOP:N", "an axis of N evenly spaced values (repeatable)" },
    { CLI_OPT_TEXT, "--grid PATH=v1,v2,...", 0, NULL, "an axis of listed values" },
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "CSV and its JSON sidecar FILE.json ('-': CSV to\n"
      "standard output): without --outputs the long layout\n"
      "PATH1,...,scenario,time,provider,segment,metric,value;\n"
      "with it PATH1,...,SELECTOR1,... one row per point" },
    { CLI_OPT_VALUE, "--outputs", 0, "LIST",
      "selectors, e.g. npv:alibaba,share:alibaba:public@2028\n"
      "(printed table default: NPV of the first provider\n"
      "and its share of every segment at the end)" },
    { CLI_OPT_VALUE, "--threads", 0, "T", "worker threads (default: the number of CPUs)" },
    { CLI_OPT_VALUE, "--engine", 0, "auto|scalar",
      "auto (default): the points in the lanes of the\n"
      "batched engine when the scenario has no policy,\n"
      "derived metric, user stock or link and the solver\n"
      "is rk8pd (within 1e-7 of `run --set`, not bit for\n"
      "bit); scalar: each point on its own, as `run`" },
    { CLI_OPT_VALUE, "--scenario", 0, "NAME", "the scenario to sweep (files returning several)" },
    { CLI_OPT_TEXT, "--set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,", 0, NULL, NULL },
    { CLI_OPT_TEXT, "--max-instructions N", 0, NULL, "as for run" },
    CLI_AN_COMMON_HIDDEN,
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

/* The options of the sweep itself. */
typedef struct sweep_args {
    ss_sweep_axis *axes;
    size_t naxes, nout;
    char **outs;
    unsigned threads;          /* 0: every online CPU */
    int engine;                /* SS_SWEEP_ENGINE_* */
} sweep_args;

static int sweep_apply(void *opts, const cli_opt_spec *o, const char *v)
{
    sweep_args *sa = opts;
    ss_err err = {0};
    if (cli_opt_is(o, "--grid")) {
        ss_sweep_axis *na;
        if (!v)
            return cli_usage_error("sweep", "--grid needs PATH=START:STOP:N or PATH=v1,v2,...");
        if (!(na = realloc(sa->axes, (sa->naxes + 1) * sizeof *na)))
            return cli_error("out of memory");
        sa->axes = na;
        if (ss_sweep_axis_parse(&sa->axes[sa->naxes], v, &err) != SS_OK)
            return err.code == SS_ENOMEM ? cli_error("out of memory")
                                         : cli_usage_error("sweep", "--grid '%s': %s", v, err.msg);
        sa->naxes++;
    } else if (cli_opt_is(o, "--outputs")) {
        char **more = NULL, **no;
        size_t nmore = 0;
        if (!v || cli_split_list(v, &more, &nmore) != 0 || nmore == 0) {
            ss_strings_free(more, nmore);
            return cli_usage_error("sweep", "--outputs needs selectors, e.g. "
                                   "npv:alibaba,share:alibaba:public@2028");
        }
        if (!(no = realloc(sa->outs, (sa->nout + nmore) * sizeof *no))) {
            ss_strings_free(more, nmore);
            return cli_error("out of memory");
        }
        sa->outs = no;
        memcpy(sa->outs + sa->nout, more, nmore * sizeof *more);
        sa->nout += nmore;
        free(more);
    } else if (cli_opt_is(o, "--threads")) {
        return cli_parse_threads("sweep", v, &sa->threads);
    } else if (cli_opt_is(o, "--engine")) {
        int scalar = 0, rc = cli_parse_engine("sweep", v, &scalar);
        if (rc == 0)
            sa->engine = scalar ? SS_SWEEP_ENGINE_SCALAR : SS_SWEEP_ENGINE_AUTO;
        return rc;
    } else {
        return CLI_AN_COMMON;
    }
    return EXIT_OK;
}

static const cli_an_verb sweep_verb = { "sweep", sweep_opts, sweep_head, sweep_tail, sweep_apply };

/* One Lua state per worker for scenarios with a policy or derived outputs. */
typedef struct sw_workers {
    size_t n;
    cli_loaded **l;
    ss_run_opts *ro;
    volatile int *interrupt;
} sw_workers;

static int prepare(unsigned worker, uint64_t point, ss_model *model, ss_run_opts *ro,
                   void *payload, ss_err *err)
{
    sw_workers *w = payload;
    (void)point;
    (void)model;
    if (!w)
        return SS_OK;
    if (worker >= w->n)
        return ss_err_set(err, SS_EINVAL, "", "internal error: worker %u of %zu", worker, w->n);
    *ro = w->ro[worker];
    ro->interrupt = w->interrupt;
    return SS_OK;
}

static void workers_free(sw_workers *w)
{
    size_t i;
    for (i = 0; i < w->n; i++)
        cli_loaded_free(w->l[i]);
    free(w->l);
    free(w->ro);
    memset(w, 0, sizeof *w);
}

/* Load the file once per worker (same overrides), each run starting with
 * math.random where the script left it (common random numbers). */
static int workers_load(sw_workers *w, const cli_an_args *a, size_t index, unsigned n)
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
        ss_script_crn_opts(cli_loaded_script(w->l[i]), &w->ro[i]);
    }
    return EXIT_OK;
}

/* The table printed without -o. */
static void print_table(const ss_sweep_job *sj, const ss_model *m, const char *file)
{
    size_t j, w = 12, naxes = sj->naxes, nsel = sj->nout;
    uint64_t p, np = sj->npoints;
    char b[64];
    for (j = 0; j < naxes; j++)
        if (strlen(sj->axes[j].path) > w)
            w = strlen(sj->axes[j].path);
    for (j = 0; j < nsel; j++)
        if (strlen(sj->sel[j].text) > w)
            w = strlen(sj->sel[j].text);
    if (w > 40)
        w = 40;
    printf("Sweep: %s  (%s), %" PRIu64 " point%s\n\n", m->name, file, np, np == 1 ? "" : "s");
    for (j = 0; j < naxes + nsel; j++)
        printf("%s%*s", j ? " " : "", (int)w, j < naxes ? sj->axes[j].path : sj->sel[j - naxes].text);
    putchar('\n');
    for (p = 0; p < np; p++) {
        for (j = 0; j < naxes + nsel; j++)
            printf("%s%*s", j ? " " : "", (int)w,
                   cli_num(b, sizeof b, j < naxes ? sj->x[p * naxes + j] : sj->y[p * nsel + j - naxes], 6));
        putchar('\n');
    }
}

/* The state of one `stratsim sweep`. */
typedef struct sweep_cmd {
    cli_an_args a;
    sweep_args sa;
    cli_an_load ld;
    ss_sweep_job sj;
    ss_run_opts ro;
    sw_workers w;
    cli_mpi_job job;
    const ss_model *m;
    char *json;
} sweep_cmd;

/* Load the file, check the grid and the selectors; rank 0 keeps the points. */
static int sweep_setup(sweep_cmd *c)
{
    ss_err err = {0};
    size_t i;
    int rc;
    if ((rc = cli_mpi_begin(&c->job, c->a.file)) != EXIT_OK ||
        (rc = cli_an_load_file(&c->ld, &c->a, "sweep", 0)) != EXIT_OK)
        return rc;
    c->m = cli_loaded_model(c->ld.l, c->ld.first);
    if (ss_sweep_check(c->m, c->sa.axes, c->sa.naxes, &err) != SS_OK)
        return err.code == SS_ENOMEM ? cli_error("out of memory")
                                     : cli_usage_error("sweep", "--grid %s", err.msg);
    c->sj.axes = c->sa.axes;
    c->sj.naxes = c->sa.naxes;
    c->sj.outputs = (const char *const *)c->sa.outs;
    c->sj.nout = c->sa.nout;
    c->sj.in_memory = !c->a.out; /* the printed table */
    if (c->sa.nout == 0 && !c->a.out && ss_sweep_job_default_outputs(&c->sj, c->m, &err) != SS_OK)
        return cli_error("out of memory");
    for (i = 0; i < c->sj.nout; i++) {
        ss_selector sel;
        if (ss_selector_parse(&sel, c->sj.outputs[i], &err) != SS_OK ||
            ss_selector_validate(&sel, c->m, &err) != SS_OK)
            return cli_usage_error("sweep", "--outputs: %s", err.msg);
        if (sel.when == SS_SEL_EACH)
            return cli_usage_error("sweep", "--outputs: '%s': @each gives a series, not one value",
                                   c->sj.outputs[i]);
    }
    /* rank 0 keeps the points (the others send theirs) */
    if (c->job.rank == 0 && ss_sweep_job_alloc(&c->sj, &err) != SS_OK)
        return cli_error("%s", err.msg);
    return EXIT_OK;
}

/* Run every point (on this rank) on the worker threads. */
static int sweep_run(sweep_cmd *c)
{
    ss_err err = {0};
    cli_progress prog;
    unsigned threads = c->sa.threads;
    uint64_t npoints = ss_sweep_npoints(c->sa.axes, c->sa.naxes);
    int rc, st;
    if ((rc = cli_an_run_opts(&c->ld, c->ld.first, c->a.file, &c->ro, 1)) != EXIT_OK)
        return rc;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)(n > 1024 ? 1024 : n) : 1;
    }
    c->sj.so.threads = threads;
    c->sj.so.engine = c->sa.engine;
    c->sj.so.run_opts = &c->ro;
    c->sj.so.interrupt = c->ro.interrupt;
    if (ss_run_opts_active(&c->ro)) {
        /* Lua runs at every point (policy, metrics, stocks or links): one state per worker thread */
        unsigned nw = (uint64_t)threads < npoints ? threads : (unsigned)npoints;
        if ((rc = workers_load(&c->w, &c->a, c->ld.first, nw)) != EXIT_OK)
            return rc;
        c->w.interrupt = c->ro.interrupt;
        c->sj.prepare = prepare;
        c->sj.payload = &c->w;
    }
    c->sj.so.dist = cli_mpi_transport(&c->job);
    cli_progress_init(&prog, c->m->name, "points");
    c->sj.progress = cli_progress_hook(&prog);
    st = ss_sweep_job_run(&c->sj, c->m, &err);
    cli_progress_end(&prog);
    return cli_mpi_end(&c->job, st, &err, c->a.file, c->m, &prog);
}

/* After the options: run the sweep, then write or print (rank 0). */
static int sweep_main(sweep_cmd *c)
{
    int rc;
    if (!c->a.file)
        return cli_usage_error("sweep", "missing SCENARIO.lua");
    if (c->sa.naxes == 0)
        return cli_usage_error("sweep", "missing --grid PATH=START:STOP:N");
    if ((rc = sweep_setup(c)) != EXIT_OK || (rc = sweep_run(c)) != EXIT_OK || c->job.rank != 0)
        return rc; /* ranks other than 0 write nothing */
    cli_sigint_end();
    if (!(c->json = ss_sweep_job_json(&c->sj, c->a.out != NULL)) ||
        cli_mpi_sidecar_json(&c->job, &c->json) != 0)
        return cli_error("out of memory");
    if (c->a.out)
        return cli_an_write(c->a.out, ss_sweep_job_write_csv, &c->sj, "sweep", &c->a, c->m,
                            c->json, &c->ro);
    print_table(&c->sj, c->m, c->a.file);
    if (fflush(stdout) != 0)
        return cli_error("writing standard output failed");
    return EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_cmd c = { .sj = SS_SWEEP_JOB_INIT };
    size_t i;
    int rc;
    cli_mpi_job_init(&c.job, "sweep");
    rc = cli_an_parse(&c.a, &sweep_verb, &c.sa, argc, argv);
    if (rc == CLI_AN_PARSED)
        rc = sweep_main(&c);
    rc = cli_mpi_finish(&c.job, rc);
    cli_sigint_end();
    workers_free(&c.w);
    ss_sweep_job_free(&c.sj);
    ss_strings_free(c.sa.outs, c.sa.nout);
    for (i = 0; i < c.sa.naxes; i++)
        ss_sweep_axis_free(&c.sa.axes[i]);
    free(c.sa.axes);
    free(c.json);
    if (c.ld.l)
        cli_loaded_free(c.ld.l);
    cli_common_free(&c.a.c);
    return rc;
}
