/*
 * cmd_sweep.c - `stratsim sweep`: run a scenario at every point of a full
 * factorial grid of parameter values (--grid PATH=START:STOP:N or
 * PATH=v1,v2,...), on several threads with output identical for any thread
 * count; the long layout led by one column per swept path, or with
 * --outputs one row per point and one column per selector; JSON sidecar.
 * Scenarios with a policy or derived outputs get one Lua state per worker
 * thread, each run starting with math.random at its default seed as in
 * `stratsim run`. The work is the core's ss_sweep_job (stratsim/analysis.h),
 * which runs ss_sweep_run (sweep.h) and keeps the points.
 * Depends on cli_analysis.h and the core's sweep.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli_analysis.h"
#include "cli/cli_mpi.h"

static const char sweep_help[] =
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
    "Options:\n"
    "  --grid PATH=START:STOP:N  an axis of N evenly spaced values (repeatable)\n"
    "  --grid PATH=v1,v2,...     an axis of listed values\n"
    "  -o, --output FILE         CSV and its JSON sidecar FILE.json ('-': CSV to\n"
    "                            standard output): without --outputs the long layout\n"
    "                            PATH1,...,scenario,time,provider,segment,metric,value;\n"
    "                            with it PATH1,...,SELECTOR1,... one row per point\n"
    "  --outputs LIST            selectors, e.g. npv:alibaba,share:alibaba:public@2028\n"
    "                            (printed table default: NPV of the first provider\n"
    "                            and its share of every segment at the end)\n"
    "  --threads T               worker threads (default: the number of CPUs)\n"
    "  --scenario NAME           the scenario to sweep (files returning several)\n"
    "  --set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,\n"
    "  --max-instructions N      as for run\n"
    "  -h, --help                show this help\n"
    "\n"
    "Under mpirun the points are shared among the ranks (docs/scale-out.md).\n"
    "Ctrl-C stops promptly and writes nothing.\n";

/* One Lua state per worker for scenarios with a policy or derived outputs. */
typedef struct sw_workers {
    size_t n;
    cli_loaded **l;
    ss_run_opts *ro;
    ss_crn *crn;
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
    free(w->crn);
    memset(w, 0, sizeof *w);
}

/* Load the file once per worker (same overrides), each run starting with
 * math.random at its default seed (common random numbers). */
static int workers_load(sw_workers *w, const cli_an_args *a, size_t index, unsigned n)
{
    size_t i;
    w->l = calloc(n, sizeof *w->l);
    w->ro = calloc(n, sizeof *w->ro);
    w->crn = calloc(n, sizeof *w->crn);
    if (!w->l || !w->ro || !w->crn)
        return cli_error("out of memory");
    for (i = 0; i < n; i++) {
        ss_err err = {0};
        int rc = cli_load(&w->l[i], a->file, &a->c);
        if (rc != EXIT_OK)
            return rc;
        w->n = i + 1;
        if (ss_script_run_opts(cli_loaded_script(w->l[i]), index, &w->ro[i], &err) != SS_OK)
            return cli_error("%s: %s", a->file, err.msg);
        sl_crn_opts(&w->crn[i], ss_script_state(cli_loaded_script(w->l[i])), &w->ro[i]);
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

int cmd_sweep(int argc, char **argv)
{
    cli_an_args a;
    cli_an_load ld;
    ss_sweep_axis *axes = NULL;
    size_t naxes = 0, nout = 0, i;
    char **outs = NULL, *json = NULL;
    ss_sweep_job sj = SS_SWEEP_JOB_INIT;
    unsigned threads = 0;
    unsigned long long u;
    int rc = EXIT_OK, missing, st;
    ss_run_opts ro;
    ss_crn crn;
    ss_err err = {0};
    sw_workers w;
    cli_progress prog;
    cli_mpi_job job;
    const ss_model *m = NULL;
    uint64_t npoints = 0;

    memset(&a, 0, sizeof a);
    memset(&ld, 0, sizeof ld);
    memset(&w, 0, sizeof w);
    cli_mpi_job_init(&job, "sweep");
    for (i = 1; i < (size_t)argc; i++) {
        int k = (int)i;
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(sweep_help, stdout);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
            goto done;
        }
        if ((v = cli_opt_value("--grid", NULL, argc, argv, &k, &missing)) || missing) {
            ss_sweep_axis *na;
            if (missing) {
                rc = cli_usage_error("sweep", "--grid needs PATH=START:STOP:N or PATH=v1,v2,...");
                goto done;
            }
            if (!(na = realloc(axes, (naxes + 1) * sizeof *na))) {
                rc = cli_error("out of memory");
                goto done;
            }
            axes = na;
            if (ss_sweep_axis_parse(&axes[naxes], v, &err) != SS_OK) {
                rc = err.code == SS_ENOMEM ? cli_error("out of memory")
                                           : cli_usage_error("sweep", "--grid '%s': %s", v, err.msg);
                goto done;
            }
            naxes++;
        } else if ((v = cli_opt_value("--outputs", NULL, argc, argv, &k, &missing)) || missing) {
            char **more = NULL, **no;
            size_t nmore = 0;
            if (missing || cli_split_list(v, &more, &nmore) != 0 || nmore == 0) {
                ss_strings_free(more, nmore);
                rc = cli_usage_error("sweep", "--outputs needs selectors, e.g. "
                                     "npv:alibaba,share:alibaba:public@2028");
                goto done;
            }
            if (!(no = realloc(outs, (nout + nmore) * sizeof *no))) {
                ss_strings_free(more, nmore);
                rc = cli_error("out of memory");
                goto done;
            }
            outs = no;
            memcpy(outs + nout, more, nmore * sizeof *more);
            nout += nmore;
            free(more);
        } else if ((v = cli_opt_value("--threads", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 1024, &u) != 0 || u == 0) {
                rc = cli_usage_error("sweep", "--threads needs an integer in 1..1024");
                goto done;
            }
            threads = (unsigned)u;
        } else if (cli_an_option(&a, "sweep", argc, argv, &k) < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
        i = (size_t)k;
    }
    if (!a.file) {
        rc = cli_usage_error("sweep", "missing SCENARIO.lua");
        goto done;
    }
    if (naxes == 0) {
        rc = cli_usage_error("sweep", "missing --grid PATH=START:STOP:N");
        goto done;
    }
    if ((rc = cli_mpi_begin(&job, a.file)) != EXIT_OK)
        goto done;
    if ((rc = cli_an_load_file(&ld, &a, "sweep", 0)) != EXIT_OK)
        goto done;
    m = cli_loaded_model(ld.l, ld.first);
    if (ss_sweep_check(m, axes, naxes, &err) != SS_OK) {
        rc = err.code == SS_ENOMEM ? cli_error("out of memory")
                                   : cli_usage_error("sweep", "--grid %s", err.msg);
        goto done;
    }
    npoints = ss_sweep_npoints(axes, naxes);
    sj.axes = axes;
    sj.naxes = naxes;
    sj.outputs = (const char *const *)outs;
    sj.nout = nout;
    sj.in_memory = !a.out; /* the printed table */
    if (nout == 0 && !a.out && ss_sweep_job_default_outputs(&sj, m, &err) != SS_OK) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < sj.nout; i++) {
        ss_selector sel;
        if (ss_selector_parse(&sel, sj.outputs[i], &err) != SS_OK ||
            ss_selector_validate(&sel, m, &err) != SS_OK) {
            rc = cli_usage_error("sweep", "--outputs: %s", err.msg);
            goto done;
        }
        if (sel.when == SS_SEL_EACH) {
            rc = cli_usage_error("sweep", "--outputs: '%s': @each gives a series, not one value",
                                 sj.outputs[i]);
            goto done;
        }
    }
    /* rank 0 keeps the points (the others send theirs) */
    if (job.rank == 0 && ss_sweep_job_alloc(&sj, &err) != SS_OK) {
        rc = cli_error("%s", err.msg);
        goto done;
    }

    if ((rc = cli_an_run_opts(&ld, ld.first, a.file, &ro, &crn)) != EXIT_OK)
        goto done;
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)(c > 1024 ? 1024 : c) : 1;
    }
    sj.so.threads = threads;
    sj.so.run_opts = &ro;
    sj.so.interrupt = ro.interrupt;
    if (ro.on_epoch || ro.on_output) {
        /* Lua runs at every point: one state per worker thread */
        unsigned nw = (uint64_t)threads < npoints ? threads : (unsigned)npoints;
        if ((rc = workers_load(&w, &a, ld.first, nw)) != EXIT_OK)
            goto done;
        w.interrupt = ro.interrupt;
        sj.prepare = prepare;
        sj.payload = &w;
    }
    sj.so.dist = cli_mpi_transport(&job);
    cli_progress_init(&prog, m->name, "points");
    sj.progress = cli_progress_hook(&prog);
    st = ss_sweep_job_run(&sj, m, &err);
    cli_progress_end(&prog);
    if ((rc = cli_mpi_end(&job, st, &err, a.file, m, &prog)) != EXIT_OK || job.rank != 0)
        goto done;
    cli_sigint_end();

    if (!(json = ss_sweep_job_json(&sj, a.out != NULL)) || cli_mpi_sidecar_json(&job, &json) != 0) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (a.out) {
        rc = cli_an_write(a.out, ss_sweep_job_write_csv, &sj, "sweep", &a, &m, 1, json);
    } else {
        print_table(&sj, m, a.file);
        if (fflush(stdout) != 0)
            rc = cli_error("writing standard output failed");
    }
done:
    rc = cli_mpi_finish(&job, rc);
    cli_sigint_end();
    workers_free(&w);
    ss_sweep_job_free(&sj);
    ss_strings_free(outs, nout);
    for (i = 0; i < naxes; i++)
        ss_sweep_axis_free(&axes[i]);
    free(axes);
    free(json);
    if (ld.l)
        cli_loaded_free(ld.l);
    cli_common_free(&a.c);
    return rc;
}
