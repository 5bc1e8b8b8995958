/*
 * bench.c - the benchmark suite behind `make bench` (docs/performance.md).
 *
 * Measures, on the flagship scenario (scenarios/ai_public_first.lua, loaded
 * once through the Lua layer and run repeatedly with ss_sim_run): the
 * single-run cost with the default adaptive solver (rk8pd, rtol 1e-8, atol
 * 1e-10) and with fixed-step RK4; the two hand-written floors of floor.c; the
 * accuracy of the default solver on every output of every scenario in the
 * flagship's directory against rk8pd at rtol 1e-13, and the flagship with a
 * single output time (the error control's own steps: what outputs read off
 * an interpolant would cost and give at best); the SciPy version
 * (scipy_flagship.py, run with Debian's /usr/bin/python3);
 * Monte Carlo throughput with 1 and 2 threads (ss_mc_run, three uncertain
 * parameters), both engines side by side, and Sobol indices and a sweep with both; peak resident memory of Monte Carlo with 1e4, 1e5 and 1e6 runs
 * (each in a child process of this program, its own peak: VmHWM); the
 * Monte Carlo split over 1, 2 and 3 ranks (threads of this process talking
 * through an in-memory transport: CPU time per rank, merging, the speed-up
 * of 2 ranks; --only-mpi runs these rows alone); and how
 * the cost grows with model size (synthetic models of 2..50 providers and
 * 1..10 segments built in C).  Every figure is the median of repeated
 * measurements (--reps, default 7), each an average over a batch of runs in
 * one process; every comparison is the median of the ratios of measurements
 * interleaved in the same run of this program, since the machine is shared
 * and noisy.  Single-run costs are CPU time of the measuring thread
 * (CLOCK_THREAD_CPUTIME_ID; SciPy: time.process_time), which time slices
 * lost to other processes do not inflate; throughputs (runs/s) are
 * wall-clock.  Each result is also checked against stratsim's own (the floors
 * and SciPy must compute the same model).  Prints a Markdown table.
 *
 * Usage: stratsim-bench [--reps N] [--quick] [--scenario FILE] [--python EXE]
 *        [--scipy SCRIPT] [--no-scipy] [--no-mc] [--no-rss] [--no-scale] [--engines-only]
 *        [--rss-max RUNS] [--min-time SECONDS] [--only-mpi]
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_version.h>
#include "stratsim.h"
#include "lua/sl_internal.h"
#include "floor.h"

#define MAXREPS 64

/* ------------------------------------------------------------ options */

static struct {
    int reps;
    int quick;
    double min_time;          /* seconds per timed batch */
    const char *scenario;
    const char *python;
    const char *scipy;
    int scipy_on, mc_on, rss_on, scale_on, engines_only;
    double rss_max;
    const char *self;
} opt = { 7, 0, 0.25, "scenarios/ai_public_first.lua", "/usr/bin/python3",
          "tests/bench/scipy_flagship.py", 1, 1, 1, 1, 0, 1e6, NULL };

/* ------------------------------------------------------------- helpers */

/* Wall-clock seconds (throughput). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU seconds of the calling thread (single-run costs: robust to a busy machine). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double t[MAXREPS];
    int i;
    if (n <= 0)
        return NAN;
    for (i = 0; i < n; i++)
        t[i] = v[i];
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void die(const char *what, const ss_err *e)
{
    fprintf(stderr, "stratsim-bench: %s: %s\n", what, e ? e->msg : strerror(errno));
    exit(1);
}

/* ----------------------------------------------------------- the table */

typedef struct row {
    char what[96];
    char value[48];
    char ratio[48];
    char note[400];
} row;

static row rows[128];
static int nrows;

static row *add_row(const char *what, const char *value, const char *ratio, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static row *add_row(const char *what, const char *value, const char *ratio, const char *fmt, ...)
{
    row *r = &rows[nrows < 127 ? nrows++ : 127];
    va_list ap;
    snprintf(r->what, sizeof r->what, "%s", what);
    snprintf(r->value, sizeof r->value, "%s", value);
    snprintf(r->ratio, sizeof r->ratio, "%s", ratio);
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    fprintf(stderr, "  %-52s %14s %14s  %s\n", r->what, r->value, r->ratio, r->note);
    return r;
}

static const char *fmt_num(char *buf, size_t n, double v, const char *unit)
{
    if (!isfinite(v))
        snprintf(buf, n, "n/a");
    else if (v >= 1e5)
        snprintf(buf, n, "%.0f %s", v, unit);
    else if (v >= 100)
        snprintf(buf, n, "%.1f %s", v, unit);
    else if (v >= 1)
        snprintf(buf, n, "%.2f %s", v, unit);
    else
        snprintf(buf, n, "%.3g %s", v, unit);
    return buf;
}

/* ----------------------------------------------------- timed callables */

typedef int (*run_fn)(void *ctx);

typedef struct sim_ctx {
    const ss_model *m;
    ss_sim_workspace *ws;     /* NULL: ss_sim_run */
} sim_ctx;

static int run_sim(void *p)
{
    sim_ctx *c = p;
    ss_result *r = NULL;
    ss_err e = { 0 };
    int rc = c->ws ? ss_sim_run_ws(c->ws, &r, c->m, NULL, &e) : ss_sim_run(&r, c->m, NULL, &e);
    if (rc)
        die("run", &e);
    ss_result_free(r);
    return 0;
}

typedef struct floor_ctx {
    floor_ws *w;
    double *out;
} floor_ctx;

static int run_floor(void *p)
{
    floor_ctx *c = p;
    if (floor_run(c->w, c->out))
        die("floor run failed", NULL);
    return 0;
}

/* CPU microseconds per call over a batch of n calls. */
static double batch_us(run_fn f, void *ctx, long n)
{
    double t = cpu_now();
    long i;
    for (i = 0; i < n; i++)
        f(ctx);
    return (cpu_now() - t) / (double)n * 1e6;
}

/* Batch size so that a batch lasts about `secs` (after a warm-up call). */
static long calibrate(run_fn f, void *ctx, double secs)
{
    double t = cpu_now(), one;
    long n = 1;
    f(ctx);
    one = cpu_now() - t;
    while (one * (double)n < 0.02 && n < 1000000) { /* time a few calls for short ones */
        n *= 4;
        t = cpu_now();
        batch_us(f, ctx, n);
        one = (cpu_now() - t) / (double)n;
        if (one * (double)n >= 0.02)
            break;
    }
    n = (long)(secs / (one > 0 ? one : 1e-9));
    return n < 1 ? 1 : n;
}

/* ------------------------------------------------------------- checks */

/* max |a - b| / max(1, |b|): absolute for shares, relative for money. */
static double dev(double a, double b)
{
    double s = fabs(b) > 1.0 ? fabs(b) : 1.0;
    return fabs(a - b) / s;
}

/* Compare a state vector (stratsim's layout) with output time ti of a result. */
static double cmp_state(const double *y, const ss_result *r, size_t ti, double potential)
{
    size_t i, k, N = FLOOR_N, K = FLOOR_K, NK = FLOOR_NK;
    double mx = 0.0;
    for (i = 0; i < N; i++) {
        for (k = 0; k < K; k++) {
            mx = fmax(mx, dev(y[i * K + k], SS_RESULT_PS(r, ti, SS_PS_SHARE, i, k)));
            mx = fmax(mx, dev(y[NK + i * K + k], SS_RESULT_PS(r, ti, SS_PS_CAPABILITY, i, k)));
        }
        mx = fmax(mx, dev(y[3 * NK + i], SS_RESULT_P(r, ti, SS_P_RELIABILITY, i)));
        mx = fmax(mx, dev(y[3 * NK + N + i], SS_RESULT_P(r, ti, SS_P_NPV, i)));
    }
    for (k = 0; k < K; k++)
        mx = fmax(mx, dev(k == 2 ? potential * y[3 * NK + 2 * N + k] : y[3 * NK + 2 * N + k],
                          SS_RESULT_S(r, ti, SS_S_SIZE, k)));
    return mx;
}

/* Compare a floor's states at the output times with a stratsim result. */
static double cmp_floor(const double *st, size_t nout, const ss_result *r, double potential)
{
    size_t ti;
    double mx = 0.0;
    if (r->nt != nout || r->np != FLOOR_N || r->nk != FLOOR_K)
        return INFINITY;
    for (ti = 0; ti < nout; ti++)
        mx = fmax(mx, cmp_state(st + ti * FLOOR_DIM, r, ti, potential));
    return mx;
}

/* Compare every output value of two results. */
static double cmp_results(const ss_result *a, const ss_result *b)
{
    size_t n, j;
    double mx = 0.0;
    if (a->nt != b->nt || a->np != b->np || a->nk != b->nk)
        return INFINITY;
    n = a->nt * SS_NPS * a->np * a->nk;
    for (j = 0; j < n; j++)
        mx = fmax(mx, dev(a->ps[j], b->ps[j]));
    n = a->nt * SS_NP * a->np;
    for (j = 0; j < n; j++)
        mx = fmax(mx, dev(a->p[j], b->p[j]));
    n = a->nt * SS_NS * a->nk;
    for (j = 0; j < n; j++)
        mx = fmax(mx, dev(a->s[j], b->s[j]));
    return mx;
}

static ss_result *run_once(const ss_model *m)
{
    ss_result *r = NULL;
    ss_err e = { 0 };
    if (ss_sim_run(&r, m, NULL, &e))
        die("run", &e);
    return r;
}

/* ------------------------------------------------- the flagship scenario */

static ss_script *g_script;

static ss_model *load_flagship(void)
{
    ss_err e = { 0 };
    ss_model *m;
    if (ss_script_open(&g_script, NULL, &e) || ss_script_load(g_script, opt.scenario, NULL, 0, &e))
        die(opt.scenario, &e);
    m = ss_model_copy(ss_script_model(g_script, 0));
    if (!m)
        die("copy", NULL);
    return m;
}

static ss_model *with_solver(const ss_model *m, ss_solver_method meth, double h)
{
    ss_model *c = ss_model_copy(m);
    if (!c)
        die("copy", NULL);
    c->solver.method = meth;
    if (h > 0)
        c->solver.h = h;
    return c;
}

/* ------------------------------------------------------- single runs */

static double g_sim_us = NAN;  /* median of the default solver, for the SciPy ratio */
static floor_params g_fp;      /* the flagship's numbers for the floors and SciPy */
static int g_fp_ok;
static char g_fp_why[256];

typedef struct timed {
    const char *name;
    run_fn f;
    void *ctx;
    double us[MAXREPS];
} timed;

/*
 * Time the callables interleaved (so that all see the same machine): each
 * round calls every callable `mult` times in turn, starting with a
 * different one each round; a repetition is `rounds` rounds lasting about
 * rep_secs.  With weighted = 0 every callable is called once per round;
 * with weighted = 1 a cheap one is called often enough to run for about
 * the same time as the others (up to 5 ms per round).  Fills t[j].us[rep]
 * (CPU microseconds per call) for reps repetitions; returns the number of
 * calls per repetition of t[0].
 */
static long time_interleaved_ex(timed *t, int n, int reps, double rep_secs, int weighted)
{
    double cost[64], round_us = 0.0, cmax = 0.0;
    long mult[64], rounds, it;
    int j, rep;
    if (n > 64)
        die("too many callables", NULL);
    for (j = 0; j < n; j++) {
        long b = calibrate(t[j].f, t[j].ctx, 0.02);
        cost[j] = batch_us(t[j].f, t[j].ctx, b);
        cmax = fmax(cmax, cost[j]);
    }
    for (j = 0; j < n; j++) {
        double target = fmin(cmax, 5000.0);
        mult[j] = weighted && cost[j] < target ? (long)(target / cost[j]) : 1;
        round_us += (double)mult[j] * cost[j];
    }
    rounds = (long)(rep_secs / (round_us * 1e-6));
    if (rounds < 3)
        rounds = 3;
    for (rep = 0; rep < reps; rep++) {
        double acc[64] = { 0 };
        for (it = 0; it < rounds; it++) {
            int q;
            for (q = 0; q < n; q++) { /* rotate the order: no callable always follows another */
                double c0;
                long k;
                j = (int)((it + q) % n);
                c0 = cpu_now();
                for (k = 0; k < mult[j]; k++)
                    t[j].f(t[j].ctx);
                acc[j] += cpu_now() - c0;
            }
        }
        for (j = 0; j < n; j++)
            t[j].us[rep] = acc[j] / (double)(rounds * mult[j]) * 1e6;
    }
    return rounds * mult[0];
}

static long time_interleaved(timed *t, int n)
{
    return time_interleaved_ex(t, n, opt.reps, opt.min_time * 5, 0);
}

static double median_ratio(const timed *a, const timed *b)
{
    double r[MAXREPS];
    int rep;
    for (rep = 0; rep < opt.reps; rep++)
        r[rep] = a->us[rep] / b->us[rep];
    return median(r, opt.reps);
}

static void bench_single(const ss_model *m8)
{
    ss_model *m4 = with_solver(m8, SS_SOLVER_RK4, 0);
    ss_sim_workspace *ws = ss_sim_workspace_new();
    floor_ws *fg = NULL, *fr = NULL;
    size_t nout = 0;
    double *outg = NULL, *outr = NULL;
    sim_ctx c8 = { m8, NULL }, c8w = { m8, ws }, c4 = { m4, NULL };
    floor_ctx cg = { NULL, NULL }, cr = { NULL, NULL };
    timed t[5] = {
        { "rk8pd", run_sim, &c8, { 0 } },
        { "rk8pd-ws", run_sim, &c8w, { 0 } },
        { "rk4", run_sim, &c4, { 0 } },
        { "floor-gsl", run_floor, &cg, { 0 } },
        { "floor-rk4", run_floor, &cr, { 0 } },
    };
    char b1[48], b2[48];
    long iters;

    if (!ws)
        die("out of memory", NULL);
    g_fp_ok = floor_params_from_model(&g_fp, m8, g_fp_why, sizeof g_fp_why) == 0;
    if (g_fp_ok) {
        fg = floor_new(&g_fp, 0, m8->solver.h);
        fr = floor_new(&g_fp, 1, m4->solver.h);
        nout = fg ? floor_nout(fg) : 0;
        outg = calloc(nout * FLOOR_DIM + 1, sizeof(double));
        outr = calloc(nout * FLOOR_DIM + 1, sizeof(double));
        if (!fg || !fr || !outg || !outr)
            die("out of memory", NULL);
        cg.w = fg;
        cg.out = outg;
        cr.w = fr;
        cr.out = outr;
    }
    fprintf(stderr, "single runs (%d repetitions)...\n", opt.reps);
    iters = time_interleaved(t, g_fp_ok ? 5 : 3);
    g_sim_us = median(t[0].us, opt.reps);

    add_row("flagship, default solver (rk8pd, rtol 1e-8, atol 1e-10), ss_sim_run",
            fmt_num(b1, sizeof b1, g_sim_us, "µs/run"), "",
            "CPU time; %ld runs per repetition, interleaved one by one with the rows below", iters);
    add_row("flagship, default solver, ss_sim_run_ws (reused workspace)",
            fmt_num(b1, sizeof b1, median(t[1].us, opt.reps), "µs/run"), "", "same");
    if (g_fp_ok) {
        ss_result *r8 = run_once(m8), *r4 = run_once(m4);
        floor_run(fg, outg);
        floor_run(fr, outr);
        snprintf(b2, sizeof b2, "%.2f× floor", median_ratio(&t[0], &t[3]));
        add_row("floor: hand-written C, gsl_odeiv2 rk8pd directly",
                fmt_num(b1, sizeof b1, median(t[3].us, opt.reps), "µs/run"), b2,
                "ratio = ss_sim_run / floor (target ≤ 1.5; with ss_sim_run_ws %.2f×); "
                "max dev from stratsim %.1e", median_ratio(&t[1], &t[3]),
                cmp_floor(outg, nout, r8, g_fp.potential));
        add_row("flagship, fixed-step RK4 (h = 1/128), ss_sim_run",
                fmt_num(b1, sizeof b1, median(t[2].us, opt.reps), "µs/run"), "", "same");
        snprintf(b2, sizeof b2, "%.2f× floor", median_ratio(&t[2], &t[4]));
        add_row("floor: hand-written C RK4 loop (h = 1/128)",
                fmt_num(b1, sizeof b1, median(t[4].us, opt.reps), "µs/run"), b2,
                "ratio = stratsim RK4 / floor (target ≤ 1.3); max dev from stratsim %.1e",
                cmp_floor(outr, nout, r4, g_fp.potential));
        ss_result_free(r8);
        ss_result_free(r4);
    } else {
        add_row("flagship, fixed-step RK4 (h = 1/128), ss_sim_run",
                fmt_num(b1, sizeof b1, median(t[2].us, opt.reps), "µs/run"), "", "same");
        add_row("floors (hand-written C)", "n/a", "", "%s", g_fp_why);
    }
    free(outg);
    free(outr);
    floor_free(fg);
    floor_free(fr);
    ss_sim_workspace_free(ws);
    ss_model_free(m4);
}

/* ------------------------------------------- accuracy and output times */

/* The tight reference of the accuracy rows: rk8pd at these tolerances. */
#define REF_RTOL 1e-13
#define REF_ATOL 1e-15

static ss_model *with_tol(const ss_model *m, double rtol, double atol)
{
    ss_model *c = ss_model_copy(m);
    if (!c)
        die("copy", NULL);
    if (c->solver.method == SS_SOLVER_EULER || c->solver.method == SS_SOLVER_RK4)
        c->solver.method = SS_SOLVER_RK8PD;
    c->solver.rtol = rtol;
    c->solver.atol = atol;
    return c;
}

/* max dev (|a - b| / max(1, |b|)) and max relative error (|a - b| / |b|, for
 * |b| >= 1e-6) over output time ia of a and ib of b, or every time (ia < 0). */
static void cmp_outputs(const ss_result *a, long ia, const ss_result *b, long ib, double *mdev,
                        double *mrel)
{
    size_t t0 = ia < 0 ? 0 : (size_t)ia, t1 = ia < 0 ? a->nt : (size_t)ia + 1, ti, j, n;
    *mdev = *mrel = 0.0;
    if (a->np != b->np || a->nk != b->nk || a->nextra != b->nextra || (ia < 0 && a->nt != b->nt)) {
        *mdev = *mrel = INFINITY;
        return;
    }
    for (ti = t0; ti < t1; ti++) {
        size_t tb = ia < 0 ? ti : (size_t)ib;
        const double *va[4] = { &a->ps[ti * SS_NPS * a->np * a->nk], &a->p[ti * SS_NP * a->np],
                                &a->s[ti * SS_NS * a->nk], a->extra ? &a->extra[ti * a->nextra] : NULL };
        const double *vb[4] = { &b->ps[tb * SS_NPS * b->np * b->nk], &b->p[tb * SS_NP * b->np],
                                &b->s[tb * SS_NS * b->nk], b->extra ? &b->extra[tb * b->nextra] : NULL };
        size_t len[4] = { SS_NPS * a->np * a->nk, SS_NP * a->np, SS_NS * a->nk, a->nextra };
        for (n = 0; n < 4; n++)
            for (j = 0; va[n] && j < len[n]; j++) {
                double x = va[n][j], r = vb[n][j];
                *mdev = fmax(*mdev, dev(x, r));
                if (fabs(r) >= 1e-6)
                    *mrel = fmax(*mrel, fabs(x - r) / fabs(r));
            }
    }
}

/*
 * Accuracy of the default solver against the tight reference on every output
 * of every bundled scenario (the directory of --scenario), and what stopping
 * at the output times buys: the flagship with a single output time (stop)
 * takes the steps the error control alone would take (what an integrator
 * that takes outputs from an interpolant between its steps would step at
 * best), timed side by side with the flagship, its final state compared with
 * the reference's.
 */
static void bench_accuracy(const ss_model *m8)
{
    char sdir[720], path[1024], b1[48], b2[48];
    const char *sdir_end = strrchr(opt.scenario, '/');
    DIR *d;
    struct dirent *de;
    char *names[64];
    int nn = 0, j;

    fprintf(stderr, "accuracy against rk8pd rtol %g, atol %g...\n", REF_RTOL, REF_ATOL);
    snprintf(sdir, sizeof sdir, "%.*s", sdir_end ? (int)(sdir_end - opt.scenario) : 1,
             sdir_end ? opt.scenario : ".");
    d = opendir(sdir);
    while (d && nn < 64 && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".lua") == 0 && !(names[nn] = strdup(de->d_name)))
            die("out of memory", NULL);
        else if (len > 4 && strcmp(de->d_name + len - 4, ".lua") == 0)
            nn++;
    }
    if (d)
        closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_str);
    for (j = 0; j < nn; j++) {
        ss_script *sc = NULL;
        ss_err e = { 0 };
        size_t i;
        snprintf(path, sizeof path, "%s/%s", sdir, names[j]);
        if (ss_script_open(&sc, NULL, &e) || ss_script_load(sc, path, NULL, 0, &e)) {
            add_row(names[j], "n/a", "", "%s", e.msg);
            ss_script_close(sc);
            continue;
        }
        for (i = 0; i < ss_script_count(sc); i++) {
            const ss_model *m = ss_script_model(sc, i);
            ss_model *mr;
            ss_run_opts ro;
            ss_result *r = NULL, *rr = NULL;
            double md, mrel;
            if (m->solver.method == SS_SOLVER_EULER || m->solver.method == SS_SOLVER_RK4)
                continue;
            mr = with_tol(m, REF_RTOL, REF_ATOL);
            if (ss_script_run_opts(sc, i, &ro, &e) || ss_sim_run(&r, m, &ro, &e) ||
                ss_sim_run(&rr, mr, &ro, &e)) {
                add_row(names[j], "n/a", "", "%s", e.msg);
            } else {
                cmp_outputs(r, -1, rr, -1, &md, &mrel);
                snprintf(b1, sizeof b1, "%.1e", md);
                add_row("  accuracy of the default solver vs the reference", b1, "",
                        "%s (%s, rtol %g, atol %g): max over every output of |Δ| / max(1, |ref|); "
                        "max |Δ| / |ref| (|ref| ≥ 1e-6) %.1e", names[j], m->name, m->solver.rtol,
                        m->solver.atol, mrel);
            }
            ss_result_free(r);
            ss_result_free(rr);
            ss_model_free(mr);
        }
        ss_script_close(sc);
    }
    for (j = 0; j < nn; j++)
        free(names[j]);

    /* the flagship stepping freely: one output time, at stop */
    {
        ss_model *m1 = ss_model_copy(m8), *mr = with_tol(m8, REF_RTOL, REF_ATOL);
        ss_result *r8, *r1, *rr;
        sim_ctx c8 = { m8, NULL }, c1 = { NULL, NULL };
        timed t[2] = { { "rk8pd", run_sim, &c8, { 0 } }, { "rk8pd-1out", run_sim, &c1, { 0 } } };
        double d8, d1, rel;
        if (!m1)
            die("copy", NULL);
        m1->step = m1->t1 - m1->t0;
        m1->epoch = m1->step;
        c1.m = m1;
        r8 = run_once(m8);
        r1 = run_once(m1);
        rr = run_once(mr);
        cmp_outputs(r8, (long)r8->nt - 1, rr, (long)rr->nt - 1, &d8, &rel);
        cmp_outputs(r1, (long)r1->nt - 1, rr, (long)rr->nt - 1, &d1, &rel);
        time_interleaved(t, 2);
        snprintf(b2, sizeof b2, "%.2f× faster", median_ratio(&t[0], &t[1]));
        add_row("flagship, default solver, one output time (stop): the steps of the error control alone",
                fmt_num(b1, sizeof b1, median(t[1].us, opt.reps), "µs/run"), b2,
                "vs the flagship's %zu output times, %.1f µs/run, interleaved; state at stop vs the "
                "reference: max |Δ| / max(1, |ref|) %.1e, with the %zu output times %.1e",
                r8->nt, median(t[0].us, opt.reps), d1, r8->nt, d8);
        ss_result_free(r8);
        ss_result_free(r1);
        ss_result_free(rr);
        ss_model_free(m1);
        ss_model_free(mr);
    }
}

/* ------------------------------------------------------------- SciPy */

static void bench_scipy(const ss_model *m8)
{
    char cmd[1200], line[8192], b1[48], b2[48], pfile[] = "/tmp/stratsim-bench-params-XXXXXX";
    double us = NAN, st[FLOOR_DIM], d = NAN, dall = NAN, c_before, c_after, *outs = NULL;
    size_t nouts = 0, cap = 0;
    char ver[64] = "?";
    const char *what = "same model in Python, SciPy solve_ivp DOP853 (rtol 1e-8, atol 1e-10)";
    int got_state = 0, fd;
    FILE *p, *pf;
    sim_ctx c8 = { m8, NULL };
    long n;

    fprintf(stderr, "SciPy (%s %s)...\n", opt.python, opt.scipy);
    if (!g_fp_ok) {
        add_row(what, "n/a", "", "%s", g_fp_why);
        return;
    }
    if (access(opt.python, X_OK) != 0) {
        add_row(what, "n/a", "", "%s not found", opt.python);
        return;
    }
    fd = mkstemp(pfile);
    pf = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!pf)
        die("mkstemp", NULL);
    floor_params_write_json(pf, &g_fp);
    if (fclose(pf))
        die("write", NULL);
    n = calibrate(run_sim, &c8, opt.min_time);
    c_before = batch_us(run_sim, &c8, n);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --params '%s' --reps %d --runs %d", opt.python, opt.scipy,
             pfile, opt.reps, opt.quick ? 1 : 3);
    p = popen(cmd, "r");
    if (!p) {
        unlink(pfile);
        add_row(what, "n/a", "", "cannot run %s", opt.python);
        return;
    }
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, "scipy_us_per_run ", 17) == 0) {
            us = strtod(line + 17, NULL);
        } else if (strncmp(line, "scipy_version ", 14) == 0) {
            snprintf(ver, sizeof ver, "%.*s", (int)strcspn(line + 14, "\n"), line + 14);
        } else if (strncmp(line, "state ", 6) == 0) {
            char *s = line + 6, *e;
            int j;
            for (j = 0; j < FLOOR_DIM; j++, s = e) {
                st[j] = strtod(s, &e);
                if (e == s)
                    break;
            }
            got_state = j == FLOOR_DIM;
        } else if (strncmp(line, "output ", 7) == 0) {
            /* "output I v1 v2 ...": the state at output time I */
            char *s = line + 7, *e;
            size_t oi = (size_t)strtoul(s, &e, 10);
            int j;
            if (e == s || oi != nouts)
                continue;
            if (nouts == cap) {
                double *nv = realloc(outs, (cap ? 2 * cap : 64) * FLOOR_DIM * sizeof *nv);
                if (!nv)
                    die("out of memory", NULL);
                outs = nv;
                cap = cap ? 2 * cap : 64;
            }
            for (j = 0, s = e; j < FLOOR_DIM; j++, s = e) {
                outs[nouts * FLOOR_DIM + (size_t)j] = strtod(s, &e);
                if (e == s)
                    break;
            }
            if (j == FLOOR_DIM)
                nouts++;
        }
    }
    unlink(pfile);
    if (pclose(p) != 0 || !isfinite(us)) {
        free(outs);
        add_row(what, "n/a", "", "the script failed (is python3-scipy installed?)");
        return;
    }
    c_after = batch_us(run_sim, &c8, n);
    if (got_state) {
        ss_result *r = run_once(m8);
        d = cmp_state(st, r, r->nt - 1, g_fp.potential);
        if (nouts)
            dall = cmp_floor(outs, nouts, r, g_fp.potential);
        ss_result_free(r);
    }
    free(outs);
    {
        double cs[3] = { c_before, c_after, isfinite(g_sim_us) ? g_sim_us : c_after };
        double c = median(cs, 3);
        snprintf(b2, sizeof b2, "%.0f× slower", us / c);
        add_row(what, fmt_num(b1, sizeof b1, us, "µs/run"), b2,
                "SciPy %s, CPU time; ratio = SciPy / ss_sim_run (target ≥ 100; stratsim %.1f µs/run, "
                "median of the single-run figure and batches just before and after); solve_ivp "
                "called once per stretch between discontinuities, outputs by t_eval; "
                "max dev from stratsim %.1e at the final state, %.1e over every output", ver, c, d,
                dall);
    }
}

/* ------------------------------------------------------- Monte Carlo */

static void mc_params(ss_mc_param *P)
{
    ss_err e = { 0 };
    double a[2];
    P[0].path = "segments.public.growth";
    a[0] = 0.20; a[1] = 0.03;
    if (ss_dist_make(&P[0].dist, SS_DIST_NORMAL, a, 2, NULL, &e))
        die("dist", &e);
    P[1].path = "providers.alibaba.reinvest";
    a[0] = 0.15; a[1] = 0.30;
    if (ss_dist_make(&P[1].dist, SS_DIST_UNIFORM, a, 2, NULL, &e))
        die("dist", &e);
    P[2].path = "segments.ai.bass.q";
    a[0] = 0.4; a[1] = 0.6;
    if (ss_dist_make(&P[2].dist, SS_DIST_UNIFORM, a, 2, NULL, &e))
        die("dist", &e);
}

/* CPU seconds of the whole process (user + system). */
static double proc_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* CPU seconds per wall second of the last mc_rate/sim_rate: how many cores it got. */
static double g_util;
/* > 0: two simulation threads got less than 1.7 CPUs (others used the machine). */
static double g_busy;

/* CPU seconds of the calling thread. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Of the last mc_rate: CPU µs per run of the process and of the calling thread. */
static double g_cpu_run, g_merge_run;

/* Poisson outages of the engine comparison (none when rate is 0). */
static ss_mc_outage g_outage;
static int g_engine;                 /* SS_MC_ENGINE_* of mc_rate */
static char g_engine_used[32];
static size_t g_lanes_used;

/* Runs per second of one Monte Carlo. */
static double mc_rate(const ss_model *m, uint64_t runs, unsigned threads)
{
    ss_mc_param P[3];
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *res = NULL;
    ss_err e = { 0 };
    double t, c, tc;
    mc_params(P);
    o.runs = runs;
    o.threads = threads;
    o.seed = 20231112;
    o.engine = g_engine;
    c = proc_cpu();
    tc = thread_cpu();
    t = now();
    if (ss_mc_run(&res, m, P, 3, &g_outage, g_outage.rate > 0 ? 1 : 0, &o, &e))
        die("Monte Carlo", &e);
    snprintf(g_engine_used, sizeof g_engine_used, "%s", ss_mc_result_engine(res));
    g_lanes_used = ss_mc_result_lanes(res);
    t = now() - t;
    tc = thread_cpu() - tc;
    c = proc_cpu() - c;
    g_util = c / t;
    g_cpu_run = 1e6 * c / (double)runs;
    g_merge_run = 1e6 * tc / (double)runs;
    ss_mc_result_free(res);
    return (double)runs / t;
}

static void bench_mc_one(const ss_model *m, const char *label, uint64_t runs)
{
    double r1[MAXREPS], r2[MAXREPS], sp[MAXREPS], u1[MAXREPS], u2[MAXREPS];
    double c1[MAXREPS], c2[MAXREPS], g1[MAXREPS], g2[MAXREPS];
    char b1[48], b2[48], what[96];
    int rep;
    mc_rate(m, 2 * SS_MC_BLOCK, 2); /* warm-up */
    for (rep = 0; rep < opt.reps; rep++) {
        /* alternate which thread count goes first */
        int first2 = rep & 1, k;
        for (k = 0; k < 2; k++) {
            if ((k == 0) != first2) {
                r1[rep] = mc_rate(m, runs, 1);
                u1[rep] = g_util;
                c1[rep] = g_cpu_run;
                g1[rep] = g_merge_run;
            } else {
                r2[rep] = mc_rate(m, runs, 2);
                u2[rep] = g_util;
                c2[rep] = g_cpu_run;
                g2[rep] = g_merge_run;
            }
        }
        sp[rep] = r2[rep] / r1[rep];
    }
    if (median(u2, opt.reps) < 1.7)
        g_busy = fmax(g_busy, 2.0 - median(u2, opt.reps));
    snprintf(what, sizeof what, "Monte Carlo, 1 thread, %s", label);
    add_row(what, fmt_num(b1, sizeof b1, median(r1, opt.reps), "runs/s"), "",
            "wall clock; %llu runs per measurement, 3 uncertain parameters; the process used "
            "%.2f CPUs, %.1f µs CPU per run, of which the calling thread (it waits while the "
            "workers run and merge the blocks) %.1f µs", (unsigned long long)runs, median(u1, opt.reps), median(c1, opt.reps),
            median(g1, opt.reps));
    snprintf(what, sizeof what, "Monte Carlo, 2 threads, %s", label);
    snprintf(b2, sizeof b2, "%.2f× speed-up", median(sp, opt.reps));
    add_row(what, fmt_num(b1, sizeof b1, median(r2, opt.reps), "runs/s"), b2,
            "targets: speed-up ≥ 1.8, ≥ 20000 runs/s; the process used %.2f CPUs, %.1f µs CPU per "
            "run, of which the calling thread %.1f µs", median(u2, opt.reps), median(c2, opt.reps),
            median(g2, opt.reps));
}

/* Simulation only: `threads` threads each running the model with its own workspace. */
typedef struct sim_thr {
    const ss_model *m;
    long runs;
} sim_thr;

static void *sim_thread(void *p)
{
    sim_thr *a = p;
    ss_sim_workspace *ws = ss_sim_workspace_new();
    sim_ctx c = { a->m, ws };
    long i;
    if (!ws)
        die("out of memory", NULL);
    for (i = 0; i < a->runs; i++)
        run_sim(&c);
    ss_sim_workspace_free(ws);
    return NULL;
}

static double sim_rate(const ss_model *m, unsigned threads, long runs)
{
    pthread_t th[8];
    sim_thr a = { m, runs };
    double c = proc_cpu(), t = now();
    unsigned i;
    for (i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, sim_thread, &a))
            die("pthread_create", NULL);
    for (i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    t = now() - t;
    g_util = (proc_cpu() - c) / t;
    return (double)threads * (double)runs / t;
}

static void bench_sim_threads(const ss_model *m, const char *label)
{
    double r1[MAXREPS], r2[MAXREPS], sp[MAXREPS], u2[MAXREPS];
    char b1[48], b2[48], what[128];
    sim_ctx c = { m, NULL };
    long n = calibrate(run_sim, &c, opt.min_time);
    int rep;
    for (rep = 0; rep < opt.reps; rep++) {
        r1[rep] = sim_rate(m, 1, n);
        r2[rep] = sim_rate(m, 2, n);
        u2[rep] = g_util;
        sp[rep] = r2[rep] / r1[rep];
    }
    if (median(u2, opt.reps) < 1.7)
        g_busy = fmax(g_busy, 2.0 - median(u2, opt.reps));
    snprintf(what, sizeof what, "simulation only (no Monte Carlo layer), 2 threads, %s", label);
    snprintf(b2, sizeof b2, "%.2f× speed-up", median(sp, opt.reps));
    add_row(what, fmt_num(b1, sizeof b1, median(r2, opt.reps), "runs/s"), b2,
            "ss_sim_run_ws in 2 pthreads, %ld runs each, wall clock; 1 thread: %.0f runs/s; "
            "used %.2f CPUs; the ceiling for Monte Carlo", n, median(r1, opt.reps), median(u2, opt.reps));
}

/*
 * Sobol indices of the flagship's three uncertain inputs (mc_params) on three
 * outputs, N = SOBOL_N, no bootstrap: the scalar engine, the batched engine
 * on 1 thread and on 2 (interleaved, the order rotating); CPU time of the
 * first two, wall-clock time of the batched engine on 1 and 2 threads, and
 * the largest difference of an index between the engines.
 */
#define SOBOL_N 2048

static double sobol_inv(int i, double u, void *payload)
{
    const ss_mc_param *P = payload;
    return ss_dist_quantile(&P[i].dist, u);
}

static ss_sobol *sobol_once(const ss_model *m, ss_mc_param *P, int engine, unsigned threads,
                            double *cpu, double *wall)
{
    const char *paths[3] = { P[0].path, P[1].path, P[2].path };
    const char *outs[3] = { "npv:alibaba", "share:alibaba:public", "share:alibaba:ai@2027" };
    ss_sobol_opts o = SS_SOBOL_OPTS_INIT;
    ss_sobol *s = NULL;
    ss_err e = { 0 };
    double c0, w0;
    o.nboot = 0;
    o.engine = engine;
    o.threads = threads;
    c0 = cpu_now();
    w0 = now();
    if (ss_sobol_model(&s, m, paths, 3, sobol_inv, P, outs, 3, SOBOL_N, NULL, &o, &e))
        die("Sobol", &e);
    *cpu = cpu_now() - c0;
    *wall = now() - w0;
    return s;
}

static void bench_sobol(const ss_model *m)
{
    ss_mc_param P[3];
    double cpu[3][MAXREPS], wall[3][MAXREPS], ratio[MAXREPS], sp[MAXREPS], dev = 0.0;
    char b1[48], b2[48], used[16] = "";
    int rep, k;
    size_t j;
    fprintf(stderr, "Sobol indices...\n");
    mc_params(P);
    for (rep = 0; rep < opt.reps; rep++) {
        ss_sobol *s[3];
        for (k = 0; k < 3; k++) {
            int q = (k + rep) % 3;  /* 0: scalar, 1: batched, 2: batched on 2 threads */
            s[q] = sobol_once(m, P, q ? SS_SOBOL_ENGINE_AUTO : SS_SOBOL_ENGINE_SCALAR, q == 2 ? 2 : 1,
                              &cpu[q][rep], &wall[q][rep]);
        }
        if (memcmp(s[1]->S1, s[2]->S1, s[1]->d * s[1]->nout * sizeof *s[1]->S1) ||
            memcmp(s[1]->ST, s[2]->ST, s[1]->d * s[1]->nout * sizeof *s[1]->ST))
            die("Sobol indices differ between 1 and 2 threads", NULL);
        for (j = 0; j < s[0]->d * s[0]->nout; j++)
            dev = fmax(dev, fmax(fabs(s[1]->S1[j] - s[0]->S1[j]), fabs(s[1]->ST[j] - s[0]->ST[j])));
        snprintf(used, sizeof used, "%s", s[1]->engine);
        ratio[rep] = cpu[0][rep] / cpu[1][rep];
        sp[rep] = wall[1][rep] / wall[2][rep];
        for (k = 0; k < 3; k++)
            ss_sobol_free(s[k]);
    }
    add_row("Sobol indices, scalar engine", fmt_num(b1, sizeof b1, median(cpu[0], opt.reps), "s"), "",
            "CPU time; flagship, the 3 uncertain inputs of the MC rows, 3 outputs, N = %d: %d runs, "
            "no bootstrap; every run on its own", SOBOL_N, SOBOL_N * 5);
    snprintf(b2, sizeof b2, "%.2f× faster", median(ratio, opt.reps));
    add_row("Sobol indices, auto engine, 1 thread", fmt_num(b1, sizeof b1, median(cpu[1], opt.reps), "s"),
            b2, "the same with --engine auto (here: %s); largest difference of an index %.1e", used,
            dev);
    snprintf(b2, sizeof b2, "%.2f× speed-up", median(sp, opt.reps));
    add_row("Sobol indices, auto engine, 2 threads", fmt_num(b1, sizeof b1, median(wall[2], opt.reps), "s"),
            b2, "wall clock (1 thread: %.3f s); the same indices bit for bit (checked)",
            median(wall[1], opt.reps));
}

/*
 * The batched engine against the scalar one: the flagship (4
 * providers x 3 segments, default solver rk8pd rtol 1e-8) with the three
 * uncertain inputs of mc_params, with and without Poisson outages of
 * alibaba; runs/s of both engines with 1 and 2 threads, interleaved in the
 * same repetitions, and the worst deviation of a batched run from the same
 * run done by the scalar engine.
 */
typedef struct keep_runs {
    ss_result **r;
    uint64_t n;
} keep_runs;

static int keep_one(uint64_t run, const ss_result *r, void *payload, ss_err *err)
{
    keep_runs *k = payload;
    ss_result *c = ss_result_copy(r);
    (void)run;
    (void)err;
    if (!c)
        die("out of memory", NULL);
    k->r[k->n++] = c;
    return SS_OK;
}

static void keep_mc(const ss_model *m, uint64_t runs, int engine, keep_runs *k)
{
    ss_mc_param P[3];
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_mc_result *res = NULL;
    ss_err e = { 0 };
    mc_params(P);
    o.runs = runs;
    o.threads = 2;
    o.seed = 20231112;
    o.engine = engine;
    o.on_run = keep_one;
    o.payload = k;
    k->r = calloc(runs, sizeof *k->r);
    k->n = 0;
    if (!k->r)
        die("out of memory", NULL);
    if (ss_mc_run(&res, m, P, 3, &g_outage, g_outage.rate > 0 ? 1 : 0, &o, &e))
        die("Monte Carlo", &e);
    ss_mc_result_free(res);
}

/* Worst |a - b| / max(|a|, |b|, 1e-3 x the series' scale, 1e-9) over every output of two
   results of one run (an NPV's scale includes the horizon times the largest operating profit,
   as in tests/unit/test_batch.c). */
static double run_dev(const ss_result *x, const ss_result *y)
{
    const double *arr[3][2] = { { x->ps, y->ps }, { x->p, y->p }, { x->s, y->s } };
    size_t width[3] = { SS_NPS * x->np * x->nk, SS_NP * x->np, SS_NS * x->nk }, q, j, ti;
    double w = 0.0;
    for (q = 0; q < 3; q++)
        for (j = 0; j < width[q]; j++) {
            double scale = 0.0;
            for (ti = 0; ti < x->nt; ti++) {
                scale = fmax(scale, fmax(fabs(arr[q][0][ti * width[q] + j]),
                                         fabs(arr[q][1][ti * width[q] + j])));
                if (q == 1 && j / x->np == SS_P_NPV)
                    scale = fmax(scale, (x->t[x->nt - 1] - x->t[0]) *
                                            fabs(SS_RESULT_P(x, ti, SS_P_OPERATING_PROFIT, j % x->np)));
            }
            for (ti = 0; ti < x->nt; ti++) {
                double u = arr[q][0][ti * width[q] + j], v = arr[q][1][ti * width[q] + j];
                double sc = fmax(fmax(fabs(u), fabs(v)), fmax(1e-3 * scale, 1e-9));
                w = fmax(w, fabs(u - v) / sc);
            }
        }
    return w;
}

static void keep_free(keep_runs *k)
{
    uint64_t r;
    for (r = 0; r < k->n; r++)
        ss_result_free(k->r[r]);
    free(k->r);
    k->r = NULL;
    k->n = 0;
}

/* The worst run_dev of a batched Monte Carlo's runs from the same runs by the scalar engine. */
static double worst_batched_dev(const ss_model *m, uint64_t runs, int engine)
{
    keep_runs a, b;
    double w = 0.0;
    uint64_t r;
    keep_mc(m, runs, engine, &a);
    keep_mc(m, runs, SS_MC_ENGINE_SCALAR, &b);
    for (r = 0; r < runs; r++)
        w = fmax(w, run_dev(a.r[r], b.r[r]));
    keep_free(&a);
    keep_free(&b);
    return w;
}

static void bench_engines_one(const ss_model *m, const char *label, uint64_t runs, int engine)
{
    double r[4][MAXREPS], sp1[MAXREPS], sp2[MAXREPS], th[MAXREPS];
    char b1[48], b2[48], what[96], used[40], picked[32];
    size_t lanes;
    int rep, k;
    g_engine = engine;
    mc_rate(m, 256, 1); /* warm-up; learns the engine auto picks */
    snprintf(picked, sizeof picked, "%s", g_engine_used);
    snprintf(used, sizeof used, "%s%s", engine == SS_MC_ENGINE_AUTO ? "auto: " : "", picked);
    lanes = g_lanes_used;
    for (rep = 0; rep < opt.reps; rep++) {
        for (k = 0; k < 4; k++) {
            int q = (k + rep) % 4;   /* rotate the order */
            g_engine = q < 2 ? SS_MC_ENGINE_SCALAR : engine;
            r[q][rep] = mc_rate(m, runs, q % 2 ? 2 : 1);
        }
        sp1[rep] = r[2][rep] / r[0][rep];
        sp2[rep] = r[3][rep] / r[1][rep];
        th[rep] = r[3][rep] / r[2][rep];
    }
    g_engine = SS_MC_ENGINE_AUTO;
    snprintf(what, sizeof what, "MC engines, %s: scalar, 1 thread", label);
    add_row(what, fmt_num(b1, sizeof b1, median(r[0], opt.reps), "runs/s"), "",
            "%llu runs per measurement; rk8pd rtol 1e-8; every run on its own (ss_sim_run_ws)",
            (unsigned long long)runs);
    snprintf(what, sizeof what, "MC engines, %s: scalar, 2 threads", label);
    add_row(what, fmt_num(b1, sizeof b1, median(r[1], opt.reps), "runs/s"), "", "%s", "the same");
    snprintf(what, sizeof what, "MC engines, %s: %s, 1 thread", label, used);
    snprintf(b2, sizeof b2, "%.2f× scalar", median(sp1, opt.reps));
    add_row(what, fmt_num(b1, sizeof b1, median(r[2], opt.reps), "runs/s"), b2,
            "%zu lanes, each with its own steps (engine chosen by auto)", lanes);
    snprintf(what, sizeof what, "MC engines, %s: %s, 2 threads", label, used);
    snprintf(b2, sizeof b2, "%.2f× scalar", median(sp2, opt.reps));
    add_row(what, fmt_num(b1, sizeof b1, median(r[3], opt.reps), "runs/s"), b2,
            "targets: ≥ 20000 runs/s, ≥ 3× scalar, ≥ 1.8× from 1 to 2 threads (here %.2f×)",
            median(th, opt.reps));
    if (strcmp(picked, "batched") == 0) {
        snprintf(what, sizeof what, "MC engines, %s: worst deviation", label);
        snprintf(b1, sizeof b1, "%.1e", worst_batched_dev(m, opt.quick ? 256 : 1024, engine));
        add_row(what, b1, "", "every output of every run, batched vs the same run by the scalar "
                "engine, relative (target ≤ 1e-7; see docs/performance.md for the measure)");
    }
}

/*
 * A sweep of the flagship over the three paths of mc_params (a grid of
 * SWEEP_N points), each point's result kept by on_point and nothing else:
 * the scalar engine and the batched one on 1 thread (CPU time of the
 * process: the points run on a worker thread) and the batched one on 2
 * (wall clock), interleaved, the order rotating; the worst run_dev of a
 * batched point from the same point by the scalar engine, and the 1- and
 * 2-thread results compared bit for bit.
 */
static int sweep_keep(uint64_t p, const double *x, const ss_result *r, void *payload, ss_err *err)
{
    (void)x;
    return keep_one(p, r, payload, err);
}

static void sweep_once(const ss_model *m, const ss_sweep_axis *ax, int engine, unsigned threads,
                       keep_runs *k, double *cpu, double *wall)
{
    ss_sweep_opts o = SS_SWEEP_OPTS_INIT;
    ss_sweep_info info;
    ss_err e = { 0 };
    double c0, w0;
    uint64_t n = ss_sweep_npoints(ax, 3);
    k->r = calloc(n, sizeof *k->r);
    k->n = 0;
    if (!k->r)
        die("out of memory", NULL);
    o.threads = threads;
    o.engine = engine;
    o.on_point = sweep_keep;
    o.payload = k;
    o.info = &info;
    c0 = proc_cpu();
    w0 = now();
    if (ss_sweep_run(m, ax, 3, &o, &e))
        die("sweep", &e);
    *cpu = proc_cpu() - c0;
    *wall = now() - w0;
    if (strcmp(info.engine, engine == SS_SWEEP_ENGINE_SCALAR ? "scalar" : "batched") != 0)
        die("sweep: not the engine asked for", NULL);
}

static void bench_sweep(const ss_model *m)
{
    ss_sweep_axis ax[3];
    ss_err e = { 0 };
    const char *spec[3] = { "segments.public.growth=0.15:0.25:16",
                            "providers.alibaba.reinvest=0.15:0.3:16",
                            opt.quick ? "segments.ai.bass.q=0.4:0.6:2" : "segments.ai.bass.q=0.4:0.6:8" };
    double cpu[3][MAXREPS], wall[3][MAXREPS], ratio[MAXREPS], sp[MAXREPS], dev = 0.0;
    char b1[48], b2[48];
    uint64_t n, p;
    int rep, k;
    fprintf(stderr, "Sweep engines...\n");
    for (k = 0; k < 3; k++)
        if (ss_sweep_axis_parse(&ax[k], spec[k], &e))
            die("sweep grid", &e);
    n = ss_sweep_npoints(ax, 3);
    for (rep = 0; rep < opt.reps; rep++) {
        keep_runs kr[3];
        for (k = 0; k < 3; k++) {
            int q = (k + rep) % 3;  /* 0: scalar, 1: batched, 2: batched on 2 threads */
            sweep_once(m, ax, q ? SS_SWEEP_ENGINE_AUTO : SS_SWEEP_ENGINE_SCALAR, q == 2 ? 2 : 1,
                       &kr[q], &cpu[q][rep], &wall[q][rep]);
        }
        for (p = 0; p < n; p++) {
            const ss_result *a = kr[1].r[p], *b = kr[2].r[p];
            if (memcmp(a->ps, b->ps, a->nt * SS_NPS * a->np * a->nk * sizeof *a->ps) ||
                memcmp(a->p, b->p, a->nt * SS_NP * a->np * sizeof *a->p) ||
                memcmp(a->s, b->s, a->nt * SS_NS * a->nk * sizeof *a->s))
                die("sweep: 1 and 2 threads differ", NULL);
            dev = fmax(dev, run_dev(kr[1].r[p], kr[0].r[p]));
        }
        ratio[rep] = cpu[0][rep] / cpu[1][rep];
        sp[rep] = wall[1][rep] / wall[2][rep];
        for (k = 0; k < 3; k++)
            keep_free(&kr[k]);
    }
    add_row("Sweep, scalar engine", fmt_num(b1, sizeof b1, median(cpu[0], opt.reps), "s"), "",
            "CPU time of the process; flagship, a grid of %llu points over the 3 paths of the MC "
            "rows, each point's result kept; every point on its own (--engine scalar)",
            (unsigned long long)n);
    snprintf(b2, sizeof b2, "%.2f× faster", median(ratio, opt.reps));
    add_row("Sweep, auto engine, 1 thread", fmt_num(b1, sizeof b1, median(cpu[1], opt.reps), "s"), b2,
            "the same with --engine auto (here: batched); worst deviation of a point %.1e (target "
            "≤ 1e-7)", dev);
    snprintf(b2, sizeof b2, "%.2f× speed-up", median(sp, opt.reps));
    add_row("Sweep, auto engine, 2 threads", fmt_num(b1, sizeof b1, median(wall[2], opt.reps), "s"), b2,
            "wall clock (1 thread: %.3f s); the same results bit for bit (checked)",
            median(wall[1], opt.reps));
    for (k = 0; k < 3; k++)
        ss_sweep_axis_free(&ax[k]);
}

static void bench_engines(const ss_model *m8)
{
    ss_dist sev;
    ss_err e = { 0 };
    double a[2] = { 0.02, 0.12 };
    /* 16 blocks of 1,024 runs (4 with --quick): the first block of every
     * thread also touches its block buffer's fresh memory (tens of ms on a
     * virtual machine), a cost per Monte Carlo, not per run */
    uint64_t runs = opt.quick ? 4096 : 16384;
    fprintf(stderr, "Monte Carlo engines...\n");
    if (ss_dist_make(&sev, SS_DIST_UNIFORM, a, 2, NULL, &e))
        die("dist", &e);
    g_outage.provider = "alibaba";
    g_outage.severity = sev;
    g_outage.rate = 0.0;
    bench_engines_one(m8, "no outages", runs, SS_MC_ENGINE_AUTO);
    g_outage.rate = 1.0;
    bench_engines_one(m8, "outages 1/yr", runs, SS_MC_ENGINE_AUTO);
    g_outage.rate = 0.0;
    bench_sobol(m8);
    bench_sweep(m8);
}

/* The fixed step of the throughput setting: one RK4 step per quarter. */
#define MC_FAST_H (1.0 / 4)

static void bench_mc(const ss_model *m8)
{
    ss_model *mf = with_solver(m8, SS_SOLVER_RK4, MC_FAST_H);
    ss_model *m16 = with_solver(m8, SS_SOLVER_RK4, 1.0 / 16);
    ss_result *ref = run_once(m8), *fast = run_once(mf), *r16 = run_once(m16);
    uint64_t runs = opt.quick ? 4 * SS_MC_BLOCK : 8 * SS_MC_BLOCK;
    fprintf(stderr, "Monte Carlo throughput...\n");
    g_busy = 0.0;
    bench_engines(m8);
    bench_mc_one(m8, "rk8pd rtol 1e-8", runs);
    bench_mc_one(mf, "RK4 h = 1/4", 2 * runs);
    bench_sim_threads(m8, "rk8pd rtol 1e-8");
    bench_sim_threads(mf, "RK4 h = 1/4");
    add_row("  accuracy of RK4 h = 1/4 vs rk8pd rtol 1e-8", "", "",
            "max over every output of \\|Δ\\| / max(1, \\|ref\\|): %.1e", cmp_results(fast, ref));
    add_row("  accuracy of RK4 h = 1/16 vs rk8pd rtol 1e-8", "", "",
            "max over every output of \\|Δ\\| / max(1, \\|ref\\|): %.1e", cmp_results(r16, ref));
    if (g_busy > 0.0)
        add_row("WARNING: the machine was busy", "", "", "two threads got only %.2f CPUs: "
                "other processes used the cores, so the runs/s and speed-up rows above understate "
                "what 2 free cores give; re-run `make bench` on an idle machine", 2.0 - g_busy);
    ss_result_free(ref);
    ss_result_free(fast);
    ss_result_free(r16);
    ss_model_free(mf);
    ss_model_free(m16);
}

/* ------------------------------------------------ the MPI work split */

/*
 * An in-memory transport between N ranks that are threads of this process
 * (the split of transport.h without MPI's message costs): one queue of
 * messages per (sender, receiver) pair. Each rank's ss_mc_run keeps its
 * CPU time, merging, packing and bytes in its ss_transport_stats, so the
 * ranks' work is measured by CPU time whatever the machine's load.
 */
#define SPLIT_MAX 4

typedef struct split_msg {
    struct split_msg *next;
    void *data;
    size_t len;
    int rc;
} split_msg;

typedef struct split_net {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    split_msg *head[SPLIT_MAX][SPLIT_MAX], *tail[SPLIT_MAX][SPLIT_MAX]; /* [from][to] */
} split_net;

typedef struct split_rank {
    split_net *net;
    unsigned rank;
    ss_transport tr;
    ss_transport_stats st;
    const ss_model *m;
    uint64_t runs;
    ss_mc_result *res;
    double wall;
} split_rank;

static int split_post(unsigned to, uint64_t unit, int rc, const ss_err *perr, void *data, size_t len,
                      void *payload, ss_err *err)
{
    split_rank *r = payload;
    split_net *n = r->net;
    split_msg *msg = calloc(1, sizeof *msg);
    (void)unit;
    (void)perr;
    if (!msg) {
        free(data);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    msg->data = data;
    msg->len = len;
    msg->rc = rc;
    pthread_mutex_lock(&n->mu);
    if (n->tail[r->rank][to])
        n->tail[r->rank][to]->next = msg;
    else
        n->head[r->rank][to] = msg;
    n->tail[r->rank][to] = msg;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    return rc;
}

static int split_fetch(unsigned from, uint64_t unit, void **data, size_t *len, void *payload, ss_err *err)
{
    split_rank *r = payload;
    split_net *n = r->net;
    split_msg *msg;
    int rc;
    (void)unit;
    pthread_mutex_lock(&n->mu);
    while (!(msg = n->head[from][r->rank]))
        pthread_cond_wait(&n->cv, &n->mu);
    if (!(n->head[from][r->rank] = msg->next))
        n->tail[from][r->rank] = NULL;
    pthread_mutex_unlock(&n->mu);
    *data = msg->data;
    *len = msg->len;
    rc = msg->rc;
    free(msg);
    return rc ? ss_err_set(err, rc, "", "split: rank %u failed", from) : SS_OK;
}

static void *split_main(void *p)
{
    split_rank *r = p;
    ss_mc_param P[3];
    ss_mc_opts o = SS_MC_OPTS_INIT;
    ss_err e = { 0 };
    double t = now();
    mc_params(P);
    o.runs = r->runs;
    o.threads = 1;
    o.seed = 20231112;
    o.dist = &r->tr;
    if (ss_mc_run(&r->res, r->m, P, 3, NULL, 0, &o, &e))
        die("Monte Carlo split", &e);
    r->wall = now() - t;
    return NULL;
}

/* One Monte Carlo on `nranks` in-memory ranks of 1 thread each, run at the
 * same time; rk[] receives each rank's figures, the return the wall time. */
static double split_job(const ss_model *m, uint64_t runs, unsigned nranks, split_rank *rk)
{
    split_net net;
    pthread_t th[SPLIT_MAX];
    unsigned i;
    double t = now();
    memset(&net, 0, sizeof net);
    pthread_mutex_init(&net.mu, NULL);
    pthread_cond_init(&net.cv, NULL);
    for (i = 0; i < nranks; i++) {
        memset(&rk[i], 0, sizeof rk[i]);
        rk[i].net = &net;
        rk[i].rank = i;
        rk[i].m = m;
        rk[i].runs = runs;
        rk[i].tr.rank = i;
        rk[i].tr.nranks = nranks;
        rk[i].tr.post = split_post;
        rk[i].tr.fetch = split_fetch;
        rk[i].tr.payload = &rk[i];
        rk[i].tr.stats = &rk[i].st;
        if (pthread_create(&th[i], NULL, split_main, &rk[i]))
            die("pthread_create", NULL);
    }
    for (i = 0; i < nranks; i++)
        pthread_join(th[i], NULL);
    t = now() - t;
    pthread_cond_destroy(&net.cv);
    pthread_mutex_destroy(&net.mu);
    return t;
}

/* 1 if a and b hold the same bits (means and quantiles). */
static int same_mc(const ss_mc_result *one, const ss_mc_result *r0)
{
    const ss_result *a = ss_mc_result_mean(one), *b = ss_mc_result_mean(r0);
    size_t n = a->nt * SS_NPS * a->np * a->nk, j;
    int same = memcmp(a->ps, b->ps, n * sizeof *a->ps) == 0;
    for (j = 0; j < ss_mc_result_nquantiles(one); j++) {
        a = ss_mc_result_quantile(one, j);
        b = ss_mc_result_quantile(r0, j);
        same = same && memcmp(a->ps, b->ps, n * sizeof *a->ps) == 0;
    }
    return same;
}

/*
 * The Monte Carlo on 1, 2 and 3 ranks (in-memory transport, ranks run at
 * the same time, 1 thread each), 10^6 runs of the flagship with RK4 h = 1/4
 * (10^5 with --quick): per rank its CPU time and what it spent merging
 * (its share of the series of every block), packing and unpacking, and, on
 * rank 0, collecting the ranks' shares of the totals at the end (the only
 * merge step that is serial on rank 0); the speed-up of 2 ranks by CPU time
 * (one process / the busier rank) and by wall clock (side by side on this
 * machine). One repetition (the job is long).
 */
static void bench_split(const ss_model *m8)
{
    ss_model *mf = with_solver(m8, SS_SOLVER_RK4, MC_FAST_H);
    uint64_t runs = opt.quick ? 100000 : 1000000;
    split_rank rk[3][SPLIT_MAX];
    double wall[3], busiest[3];
    unsigned n, i;
    int same = 1;
    char b1[48], b2[64], what[128];
    for (n = 1; n <= 3; n++) {
        fprintf(stderr, "Monte Carlo on %u in-memory rank%s, %llu runs...\n", n, n > 1 ? "s" : "",
                (unsigned long long)runs);
        wall[n - 1] = split_job(mf, runs, n, rk[n - 1]);
        busiest[n - 1] = 0.0;
        for (i = 0; i < n; i++)
            busiest[n - 1] = fmax(busiest[n - 1], rk[n - 1][i].st.cpu);
        if (n > 1)
            same = same && same_mc(rk[0][0].res, rk[n - 1][0].res);
    }
    for (n = 1; n <= 3; n++) {
        const split_rank *r = rk[n - 1];
        double merge = 0.0, pack = 0.0, cpu = 0.0;
        uint64_t bytes = 0;
        for (i = 0; i < n; i++) {
            merge = fmax(merge, r[i].st.merge_cpu);
            pack = fmax(pack, r[i].st.pack_cpu);
            cpu += r[i].st.cpu;
            bytes += r[i].st.bytes_out;
        }
        snprintf(what, sizeof what, "MPI split, %u rank%s: CPU s of the busiest rank", n, n > 1 ? "s" : "");
        if (n == 1)
            snprintf(b2, sizeof b2, "%s", "");
        else
            snprintf(b2, sizeof b2, "%.2f× CPU, %.2f× wall", busiest[0] / busiest[n - 1],
                     wall[0] / wall[n - 1]);
        add_row(what, fmt_num(b1, sizeof b1, busiest[n - 1], "s"), b2,
                "%llu flagship runs, RK4 h = 1/4, 1 thread per rank (in-memory transport, ranks "
                "at the same time; one repetition); wall %.1f s; CPU of all ranks %.1f s; merging per rank up to "
                "%.2f s (%.1f%% of the busiest rank; each rank merges 1/%u of the series of every "
                "block), packing and unpacking up to %.2f s (%.1f%%), %.1f MB sent%s",
                (unsigned long long)runs, wall[n - 1], cpu, merge, 100.0 * merge / busiest[n - 1], n,
                pack, 100.0 * pack / busiest[n - 1], (double)bytes / 1e6,
                n == 1 ? "" : same ? "; results bit-identical to 1 rank" : "; results DIFFER from 1 rank");
    }
    for (n = 2; n <= 3; n++) {
        const split_rank *r = rk[n - 1];
        snprintf(what, sizeof what, "MPI merge on rank 0 alone, %u ranks", n);
        add_row(what, fmt_num(b1, sizeof b1, 1e3 * r[0].st.gather_cpu, "ms"), "",
                "rank 0 taking the other ranks' shares of the totals after the last block (serial, "
                "grows with the ranks): %.4f%% of the busiest rank's CPU, %.4f%% of the job's wall "
                "time", 100.0 * r[0].st.gather_cpu / busiest[n - 1], 100.0 * r[0].st.gather_cpu / wall[n - 1]);
    }
    for (n = 1; n <= 3; n++)
        for (i = 0; i < n; i++)
            ss_mc_result_free(rk[n - 1][i].res);
    ss_model_free(mf);
}

/*
 * The peak resident set of this process's own memory (VmHWM of
 * /proc/self/status), in KiB; -1 if unknown. Not getrusage's ru_maxrss:
 * Linux keeps in it the peak of the memory the process had before exec,
 * i.e. of the forked copy of the bench.
 */
static long own_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* Child process: one Monte Carlo, then print the figures. */
static int mc_child(uint64_t runs, unsigned threads, int fast)
{
    ss_model *m8 = load_flagship(), *m = fast ? with_solver(m8, SS_SOLVER_RK4, MC_FAST_H) : m8;
    double rate = mc_rate(m, runs, threads);
    printf("rate %.1f maxrss_kb %ld\n", rate, own_peak_kb());
    return 0;
}

static void bench_rss(void)
{
    double sizes[3] = { 1e4, 1e5, 1e6 }, kb[3] = { NAN, NAN, NAN }, rate[3] = { NAN, NAN, NAN };
    double lo = INFINITY, hi = 0;
    char b1[48], what[96];
    int s;
    fprintf(stderr, "Monte Carlo peak memory (child processes)...\n");
    for (s = 0; s < 3; s++) {
        char runs[32], line[256];
        int fd[2], status;
        pid_t pid;
        struct rusage ru;
        FILE *f;
        if (sizes[s] > opt.rss_max)
            continue;
        snprintf(runs, sizeof runs, "%.0f", sizes[s]);
        if (pipe(fd))
            die("pipe", NULL);
        pid = fork();
        if (pid < 0)
            die("fork", NULL);
        if (pid == 0) {
            dup2(fd[1], 1);
            close(fd[0]);
            close(fd[1]);
            execl(opt.self, opt.self, "--mc-child", runs, "2", "fast", "--scenario", opt.scenario,
                  (char *)NULL);
            _exit(127);
        }
        close(fd[1]);
        f = fdopen(fd[0], "r");
        while (f && fgets(line, sizeof line, f)) {
            double r;
            long k;
            if (sscanf(line, "rate %lf maxrss_kb %ld", &r, &k) == 2) {
                rate[s] = r;
                kb[s] = (double)k;
            }
        }
        if (f)
            fclose(f);
        if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            add_row("Monte Carlo peak RSS", "failed", "", "child for %s runs failed", runs);
            continue;
        }
        if (!(kb[s] > 0)) {
            add_row("Monte Carlo peak RSS", "failed", "", "child for %s runs: no VmHWM", runs);
            continue;
        }
        lo = fmin(lo, kb[s]);
        hi = fmax(hi, kb[s]);
        snprintf(what, sizeof what, "Monte Carlo peak RSS, %s runs", runs);
        add_row(what, fmt_num(b1, sizeof b1, kb[s] / 1024.0, "MiB"), "",
                "RK4 h = 1/4, 2 threads, 3 parameters; %.0f runs/s; the child's VmHWM", rate[s]);
    }
    if (hi > 0) {
        char b2[48];
        snprintf(b2, sizeof b2, "+%.1f%%", (hi / lo - 1.0) * 100.0);
        add_row("Monte Carlo peak RSS, largest / smallest", "", b2, "target ≤ +10%%");
    }
}

/* ------------------------------------------------------- model size */

static char *xstrdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (!d)
        die("out of memory", NULL);
    return strcpy(d, s);
}

/*
 * A synthetic model of N providers and K segments on the flagship's time
 * grid: uneven shares, learning in every segment, a price cut of the odd
 * providers (linear schedules), a reinvestment build-out of provider 1
 * (steps), an outage and a `set` of provider 0: the flagship's features.
 * Every segment has the same features, so the mix of work does not change
 * with the size.
 */
static ss_model *synthetic(size_t N, size_t K)
{
    ss_model *m = ss_model_new(K, N);
    ss_err e = { 0 };
    ss_event ev;
    char buf[32];
    size_t i, k;
    double pt[2] = { 2022.0, 2022.5 }, pv[2] = { 1.0, 0.85 };
    double rt[3] = { 2021.75, 2022.0, 2024.0 }, rv[3] = { 0.2, 0.35, 0.2 };
    if (!m)
        die("out of memory", NULL);
    free(m->name);
    m->name = xstrdup("synthetic");
    m->t0 = 2021.75;
    m->t1 = 2030.0;
    m->step = 0.25;
    m->epoch = 0.25;
    m->discount_rate = 0.08;
    for (k = 0; k < K; k++) {
        ss_segment *s = &m->seg[k];
        snprintf(buf, sizeof buf, "s%zu", k + 1);
        s->id = xstrdup(buf);
        s->size = 50.0 + 20.0 * (double)k;
        ss_schedule_set_const(&s->growth, 0.05 + 0.02 * (double)(k % 5));
        s->tau = 1.0 + 0.5 * (double)(k % 3);
        s->beta_capability = 0.5;
        s->beta_price = 2.0;
        s->learning = 0.1;
        s->depreciation = 0.25;
    }
    for (i = 0; i < N; i++) {
        ss_provider *p = &m->prov[i];
        snprintf(buf, sizeof buf, "p%zu", i + 1);
        p->id = xstrdup(buf);
        for (k = 0; k < K; k++) {
            size_t j;
            double sum = 0.0;
            for (j = 0; j < N; j++)
                sum += 1.0 + (double)((j + k) % 4);
            p->share[k] = (1.0 + (double)((i + k) % 4)) / sum;
            p->margin[k] = 0.2 + 0.05 * (double)(k % 3);
            if (i % 2 == 1 &&
                ss_schedule_set_knots(&p->price[k], SS_SCHED_LINEAR, 2, pt, pv, "price", &e))
                die("schedule", &e);
        }
        if (i == 1 && ss_schedule_set_knots(&p->reinvest, SS_SCHED_STEPS, 3, rt, rv, "reinvest", &e))
            die("schedule", &e);
    }
    memset(&ev, 0, sizeof ev);
    ev.t = 2023.863;
    ev.kind = SS_EV_OUTAGE;
    ev.provider = 0;
    ev.segment = -1;
    ev.amount = 0.05;
    if (ss_model_add_event(m, &ev, &e))
        die("event", &e);
    ev.t = 2023.87;
    ev.kind = SS_EV_SET;
    ev.field = SS_FIELD_REINVEST;
    ev.amount = 0.3;
    if (ss_model_add_event(m, &ev, &e))
        die("event", &e);
    if (ss_model_resolve(m, &e))
        die("synthetic model", &e);
    return m;
}

/*
 * Least squares t = a + b N + c K + d N K (GSL): linear growth means the fit
 * explains every point (small residuals); a superlinear cost would not fit.
 */
static void fit_row(const char *label, double (*xs)[2], const double *t, size_t n)
{
    gsl_matrix *X = gsl_matrix_alloc(n, 4), *cov = gsl_matrix_alloc(4, 4);
    gsl_vector *y = gsl_vector_alloc(n), *w = gsl_vector_alloc(n), *c = gsl_vector_alloc(4);
    gsl_multifit_linear_workspace *ws = gsl_multifit_linear_alloc(n, 4);
    double chisq, worst = 0.0;
    char what[96], b2[64];
    size_t i;
    if (!X || !cov || !y || !w || !c || !ws)
        die("out of memory", NULL);
    for (i = 0; i < n; i++) {
        gsl_matrix_set(X, i, 0, 1.0);
        gsl_matrix_set(X, i, 1, xs[i][0]);
        gsl_matrix_set(X, i, 2, xs[i][1]);
        gsl_matrix_set(X, i, 3, xs[i][0] * xs[i][1]);
        gsl_vector_set(y, i, t[i]);
        gsl_vector_set(w, i, 1.0 / (t[i] * t[i])); /* relative residuals */
    }
    gsl_multifit_wlinear(X, w, y, c, cov, &chisq, ws);
    for (i = 0; i < n; i++) {
        double f = gsl_vector_get(c, 0) + gsl_vector_get(c, 1) * xs[i][0] +
                   gsl_vector_get(c, 2) * xs[i][1] + gsl_vector_get(c, 3) * xs[i][0] * xs[i][1];
        worst = fmax(worst, fabs(f - t[i]) / t[i]);
    }
    snprintf(what, sizeof what, "cost model µs/run = a + b·N + c·K + d·N·K, %s", label);
    snprintf(b2, sizeof b2, "max residual %.1f%%", 100.0 * worst);
    add_row(what, "", b2, "a = %.1f, b = %.2f, c = %.2f, d = %.2f µs (weighted least squares over the %zu sizes)",
            gsl_vector_get(c, 0), gsl_vector_get(c, 1), gsl_vector_get(c, 2), gsl_vector_get(c, 3), n);
    gsl_multifit_linear_free(ws);
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(y);
    gsl_vector_free(w);
    gsl_vector_free(c);
}

static void bench_scale(void)
{
    enum { NA = 5, NB = 4, NPTS = NA * NB };
    static const size_t Ns[NA] = { 2, 5, 10, 20, 50 }, Ks[NB] = { 1, 2, 5, 10 };
    ss_model *m8[NPTS], *m4[NPTS];
    sim_ctx c8[NPTS], c4[NPTS];
    timed t[2 * NPTS];
    double xs[NPTS][2], t8[NPTS], t4[NPTS];
    double lo8 = INFINITY, hi8 = 0, lo4 = INFINITY, hi4 = 0;
    int reps = opt.reps < 5 ? opt.reps : 5;
    size_t a, b, q;
    fprintf(stderr, "model size (%d repetitions, all sizes interleaved)...\n", reps);
    memset(t, 0, sizeof t);
    for (a = 0; a < NA; a++) {
        for (b = 0; b < NB; b++) {
            q = a * NB + b;
            m8[q] = synthetic(Ns[a], Ks[b]);
            m4[q] = with_solver(m8[q], SS_SOLVER_RK4, 0);
            c8[q].m = m8[q];
            c8[q].ws = NULL;
            c4[q].m = m4[q];
            c4[q].ws = NULL;
            t[2 * q].f = run_sim;
            t[2 * q].ctx = &c8[q];
            t[2 * q + 1].f = run_sim;
            t[2 * q + 1].ctx = &c4[q];
        }
    }
    time_interleaved_ex(t, 2 * NPTS, reps, opt.quick ? 1.0 : 2.0, 1);
    for (a = 0; a < NA; a++) {
        for (b = 0; b < NB; b++) {
            size_t N = Ns[a], K = Ks[b];
            double x8, x4, nk = (double)(N * K);
            char what[96], b1[48], b2[48];
            q = a * NB + b;
            x8 = median(t[2 * q].us, reps);
            x4 = median(t[2 * q + 1].us, reps);
            xs[q][0] = (double)N;
            xs[q][1] = (double)K;
            t8[q] = x8;
            t4[q] = x4;
            if (N * K >= 20) {
                lo8 = fmin(lo8, x8 / nk); hi8 = fmax(hi8, x8 / nk);
                lo4 = fmin(lo4, x4 / nk); hi4 = fmax(hi4, x4 / nk);
            }
            snprintf(what, sizeof what, "size N = %zu providers × K = %zu segments", N, K);
            snprintf(b1, sizeof b1, "%.1f µs/run", x8);
            snprintf(b2, sizeof b2, "%.3f µs/(run·NK)", x8 / nk);
            add_row(what, b1, b2, "rk8pd; RK4 h = 1/128: %.1f µs/run, %.3f µs/(run·NK)", x4, x4 / nk);
            ss_model_free(m8[q]);
            ss_model_free(m4[q]);
        }
    }
    {
        char b2[64];
        snprintf(b2, sizeof b2, "%.2f× (RK4 %.2f×)", hi8 / lo8, hi4 / lo4);
        add_row("µs/(run·NK) spread, largest / smallest, N·K ≥ 20", "", b2,
                "1.0 would be pure N·K cost; per-provider and per-segment terms and the per-run "
                "overhead weigh more in small models");
        fit_row("rk8pd", xs, t8, NPTS);
        fit_row("RK4 h = 1/128", xs, t4, NPTS);
    }
}

/* ---------------------------------------------------------- the Lua cost */

#ifndef BENCH_NO_LUA_HOOKS
/*
 * Variants of the flagship written next to a copy of it in a temporary
 * directory (stratsim.include resolves relative to the including file):
 * a policy that reads the state every quarter and cuts Alibaba's public
 * price at 2024.0, the same cut as a `set` event, and two derived metrics.
 */
static const char *const lua_variants[][2] = {
    { "bench_events.lua",
      "return stratsim.include('ai_public_first.lua'):with{ name = 'bench_events',\n"
      "  events = { { t = 2024.0, kind = 'set', provider = 'alibaba', field = 'price',\n"
      "               value = { public = 0.95 } } } }\n" },
    { "bench_policy.lua",
      "return stratsim.include('ai_public_first.lua'):with{ name = 'bench_policy',\n"
      "  policy = function(view)\n"
      "    if view.t == 2024.0 and view:share('alibaba', 'public') > 0 then\n"
      "      view:set('alibaba', 'price', { public = 0.95 })\n"
      "    end\n"
      "  end }\n" },
    { "bench_outputs.lua",
      "return stratsim.include('ai_public_first.lua'):with{ name = 'bench_outputs',\n"
      "  outputs = {\n"
      "    alibaba_total_share = function(view)\n"
      "      return view:revenue('alibaba') / (view:size('public') + view:size('private') + view:size('ai'))\n"
      "    end,\n"
      "    alibaba_public_margin = function(view) return view:margin('alibaba', 'public') end } }\n" },
    { "bench_stock.lua",
      "return stratsim.include('ai_public_first.lua'):with{ name = 'bench_stock',\n"
      "  stocks = { { id = 'gpu', init = 10, unit = 'EFLOPS',\n"
      "    rate = function(v) return 0.2 * v:investment('alibaba') - 0.25 * v:stock('gpu') end } },\n"
      "  links = { ['providers.huawei.lever.ai'] = function(v)\n"
      "    return math.min(1.5, 0.5 + v:stock('gpu') / 20) end } }\n" },
};

typedef struct lua_ctx {
    ss_script *s;
    const ss_model *m;
    ss_run_opts ro;
} lua_ctx;

static int run_lua(void *p)
{
    lua_ctx *c = p;
    ss_result *r = NULL;
    ss_err e = { 0 };
    if (ss_sim_run(&r, c->m, &c->ro, &e))
        die("run", &e);
    ss_result_free(r);
    return 0;
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wb") : NULL;
    char buf[8192];
    size_t n;
    int ok = a && b;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0)
        ok = fwrite(buf, 1, n, b) == n;
    if (a)
        fclose(a);
    if (b && fclose(b))
        ok = 0;
    return ok ? 0 : -1;
}

static int variant_load(lua_ctx *c, const char *dir, const char *file)
{
    char path[1024];
    ss_err e = { 0 };
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (ss_script_open(&c->s, NULL, &e) || ss_script_load(c->s, path, NULL, 0, &e) ||
        ss_script_count(c->s) < 1 || ss_script_run_opts(c->s, 0, &c->ro, &e)) {
        fprintf(stderr, "  %s: %s\n", file, e.msg);
        return -1;
    }
    c->m = ss_script_model(c->s, 0);
    return 0;
}

static void bench_lua(void)
{
    char dir[] = "/tmp/stratsim-bench-XXXXXX", src[1024], dst[1024], b1[48], b2[48];
    const char *sdir_end = strrchr(opt.scenario, '/');
    lua_ctx c[5];
    const char *files[5] = { NULL, "bench_events.lua", "bench_policy.lua", "bench_outputs.lua",
                             "bench_stock.lua" };
    double us[5][MAXREPS], rp[MAXREPS], ro[MAXREPS], rs[MAXREPS];
    int ok = 1, j, rep;
    long n;
    ss_result *ra = NULL, *rb = NULL;
    ss_err e = { 0 };

    fprintf(stderr, "cost of Lua (policy, derived metrics)...\n");
    memset(c, 0, sizeof c);
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    /* copy the scenario directory's .lua files (the flagship includes baseline.lua) */
    {
        char sdir[720];
        DIR *d;
        struct dirent *de;
        snprintf(sdir, sizeof sdir, "%.*s", sdir_end ? (int)(sdir_end - opt.scenario) : 1,
                 sdir_end ? opt.scenario : ".");
        d = opendir(sdir);
        while (d && ok && (de = readdir(d))) {
            size_t len = strlen(de->d_name);
            if (len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0)
                continue;
            snprintf(src, sizeof src, "%.700s/%.255s", sdir, de->d_name);
            snprintf(dst, sizeof dst, "%s/%s", dir, de->d_name);
            if (copy_file(src, dst))
                ok = 0;
        }
        if (!d)
            ok = 0;
        else
            closedir(d);
    }
    for (j = 0; ok && j < 4; j++) {
        FILE *f;
        snprintf(dst, sizeof dst, "%s/%s", dir, lua_variants[j][0]);
        f = fopen(dst, "w");
        if (!f || fputs(lua_variants[j][1], f) < 0 || fclose(f))
            ok = 0;
    }
    snprintf(src, sizeof src, "%s", sdir_end ? sdir_end + 1 : opt.scenario);
    files[0] = src;
    for (j = 0; ok && j < 5; j++)
        if (variant_load(&c[j], dir, files[j]))
            ok = 0;
    if (!ok) {
        add_row("cost of Lua: policy-driven vs the same scenario with events", "n/a", "",
                "could not load the variants (see above)");
    } else {
        /* the policy and the event must give the same result */
        if (ss_sim_run(&ra, c[1].m, &c[1].ro, &e) || ss_sim_run(&rb, c[2].m, &c[2].ro, &e))
            die("run", &e);
        n = calibrate(run_lua, &c[2], opt.min_time / 4);
        for (rep = 0; rep < opt.reps; rep++) {
            double acc[5] = { 0 };
            long it;
            for (it = 0; it < n; it++) {
                int q;
                for (q = 0; q < 5; q++) {
                    double c0;
                    j = (int)((it + q) % 5);
                    c0 = cpu_now();
                    run_lua(&c[j]);
                    acc[j] += cpu_now() - c0;
                }
            }
            for (j = 0; j < 5; j++)
                us[j][rep] = acc[j] / (double)n * 1e6;
            rp[rep] = us[2][rep] / us[1][rep];
            ro[rep] = us[3][rep] / us[0][rep];
            rs[rep] = us[4][rep] / us[0][rep];
        }
        snprintf(b2, sizeof b2, "%.2f× events", median(rp, opt.reps));
        add_row("cost of Lua: policy (reads the state every quarter, one view:set)",
                fmt_num(b1, sizeof b1, median(us[2], opt.reps), "µs/run"), b2,
                "vs the same price cut as a `set` event: %.1f µs/run; results differ by %.1e",
                median(us[1], opt.reps), cmp_results(ra, rb));
        snprintf(b2, sizeof b2, "%.2f× none", median(ro, opt.reps));
        add_row("cost of Lua: two derived metrics (outputs)",
                fmt_num(b1, sizeof b1, median(us[3], opt.reps), "µs/run"), b2,
                "vs the flagship without outputs: %.1f µs/run (no policy, no outputs: no Lua calls)",
                median(us[0], opt.reps));
        snprintf(b2, sizeof b2, "%.2f× none", median(rs, opt.reps));
        add_row("cost of Lua: one user stock and one link (in every RHS evaluation)",
                fmt_num(b1, sizeof b1, median(us[4], opt.reps), "µs/run"), b2,
                "vs the flagship without them: %.1f µs/run; target ≤ 3×", median(us[0], opt.reps));
    }
    ss_result_free(ra);
    ss_result_free(rb);
    for (j = 0; j < 5; j++)
        ss_script_close(c[j].s);
    {
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(dst, sizeof dst, "%s/%s", dir, de->d_name);
            unlink(dst);
        }
        if (d)
            closedir(d);
        rmdir(dir);
    }
}
#else
static void bench_lua(void)
{
    add_row("cost of Lua: policy-driven vs the same scenario with events", "n/a", "",
            "n/a until policies land (built without the Lua policy layer)");
    add_row("cost of Lua: derived metrics vs none", "n/a", "",
            "n/a until policies land (built without the Lua policy layer)");
}
#endif

/* ------------------------------------------------------------------ main */

/* The 1-minute load average (other processes compete for the 2 cores). */
static double loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = NAN;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = NAN;
        fclose(f);
    }
    return l;
}

static double g_load0;

static void machine(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256], model[160] = "?";
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c)
                snprintf(model, sizeof model, "%.*s", (int)strcspn(c + 2, "\n"), c + 2);
            break;
        }
    }
    if (f)
        fclose(f);
    printf("Machine: %s, %ld online CPUs; GSL %s; compiler %s; stratsim %s\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), GSL_VERSION, __VERSION__, SS_VERSION);
    printf("Each figure: median of %d repetitions; ratios: median of same-repetition ratios.\n",
           opt.reps);
    printf("Load average (1 min) at the start: %.2f, at the end: %.2f.\n\n", g_load0, loadavg());
}

static void usage(void)
{
    fputs("usage: stratsim-bench [--reps N] [--quick] [--scenario FILE] [--python EXE]\n"
          "         [--scipy SCRIPT] [--no-scipy] [--no-mc] [--no-rss] [--no-scale]\n"
          "         [--engines-only]\n"
          "         [--rss-max RUNS] [--min-time SECONDS] [--only-mpi]\n", stderr);
    exit(2);
}

/* A Markdown table cell: a '|' of the text (|Δ|) escaped, once. */
static void md_cell(const char *s)
{
    const char *p;
    for (p = s; *p; p++) {
        if (*p == '|' && (p == s || p[-1] != '\\'))
            putchar('\\');
        putchar(*p);
    }
}

int main(int argc, char **argv)
{
    int only_mpi = 0; /* --only-mpi: the MPI split rows alone */
    ss_model *m8;
    int i;
    ss_global_init();
    opt.self = argv[0];
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--mc-child") == 0 && i + 3 < argc) {
            uint64_t runs = (uint64_t)strtod(argv[i + 1], NULL);
            unsigned th = (unsigned)atoi(argv[i + 2]);
            int fast = strcmp(argv[i + 3], "fast") == 0;
            int j;
            for (j = i + 4; j + 1 < argc; j++)
                if (strcmp(argv[j], "--scenario") == 0)
                    opt.scenario = argv[j + 1];
            return mc_child(runs, th, fast);
        } else if (strcmp(a, "--reps") == 0 && i + 1 < argc) {
            opt.reps = atoi(argv[++i]);
        } else if (strcmp(a, "--quick") == 0) {
            opt.quick = 1;
            opt.reps = 3;
            opt.min_time = 0.1;
            opt.rss_max = 1e5;
        } else if (strcmp(a, "--scenario") == 0 && i + 1 < argc) {
            opt.scenario = argv[++i];
        } else if (strcmp(a, "--python") == 0 && i + 1 < argc) {
            opt.python = argv[++i];
        } else if (strcmp(a, "--scipy") == 0 && i + 1 < argc) {
            opt.scipy = argv[++i];
        } else if (strcmp(a, "--no-scipy") == 0) {
            opt.scipy_on = 0;
        } else if (strcmp(a, "--engines-only") == 0) {
            opt.engines_only = 1;
        } else if (strcmp(a, "--no-mc") == 0) {
            opt.mc_on = 0;
        } else if (strcmp(a, "--only-mpi") == 0) {
            only_mpi = 1;
        } else if (strcmp(a, "--no-rss") == 0) {
            opt.rss_on = 0;
        } else if (strcmp(a, "--no-scale") == 0) {
            opt.scale_on = 0;
        } else if (strcmp(a, "--rss-max") == 0 && i + 1 < argc) {
            opt.rss_max = strtod(argv[++i], NULL);
        } else if (strcmp(a, "--min-time") == 0 && i + 1 < argc) {
            opt.min_time = strtod(argv[++i], NULL);
        } else {
            usage();
        }
    }
    if (opt.reps < 1 || opt.reps > MAXREPS)
        usage();
    g_load0 = loadavg();
    m8 = load_flagship();
    if (only_mpi) {
        bench_split(m8);
        goto table;
    }
    if (opt.engines_only) {
        bench_engines(m8);
        goto table;
    }
    bench_single(m8);
    bench_accuracy(m8);
    if (opt.scipy_on)
        bench_scipy(m8);
    if (opt.mc_on) {
        bench_mc(m8);
        bench_split(m8);
    }
    if (opt.rss_on)
        bench_rss();
    bench_lua();
    if (opt.scale_on)
        bench_scale();

table:
    machine();
    printf("| measurement | value | ratio | notes |\n|---|---:|---:|---|\n");
    for (i = 0; i < nrows; i++) {
        printf("| ");
        md_cell(rows[i].what);
        printf(" | ");
        md_cell(rows[i].value);
        printf(" | ");
        md_cell(rows[i].ratio);
        printf(" | ");
        md_cell(rows[i].note);
        printf(" |\n");
    }
    ss_model_free(m8);
    ss_script_close(g_script);
    return 0;
}
