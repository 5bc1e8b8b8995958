/*
 * core/batch.h - the batched Monte Carlo engine (internal; see batch.c).
 *
 * ss_batch_run() integrates the runs of a block in L lanes.  Every lane has
 * its own time, step size, breakpoints (its outputs, epochs, events, schedule
 * knots, policy time) and its own step-size control (GSL's standard control
 * with the run's rtol/atol, the rules of the scalar engine's driver), so a
 * run's result depends on its own inputs only, never on which runs share the
 * lanes.  What is shared is the arithmetic: one GSL rk8pd step advances every
 * lane at once, in each lane's own rescaled time (t = t_l + h_l s, s in
 * [0, 1]), with the right-hand side of sim.c evaluated over the lanes in
 * structure-of-arrays loops (SLEEF for exp, log and pow).  A lane whose run
 * ends takes the next run of the block.
 *
 * No callbacks: a run here has no policy, derived metric, user stock or link.  A
 * run that fails (a non-finite value, an allocation summing to zero, a share
 * outside [0, 1], too many steps, a model of another shape) is reported to
 * io->done without a result: the caller redoes it with the scalar engine,
 * which gives its exact error.
 */
#ifndef STRATSIM_CORE_BATCH_H
#define STRATSIM_CORE_BATCH_H
#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"

/** Lanes of the batched engine in Monte Carlo. */
#define SS_BATCH_LANES 16

/** Callers choosing the engine (auto) pick the scalar one above this many
 *  values per run: a lane holds a whole result, which then costs more memory
 *  than the lockstep saves (about 1 MiB of results per lane; measured on 128
 *  providers x 32 segments, 873,792 values: batched 1.9x slower than scalar
 *  and 2.4x its peak memory). */
#define SS_BATCH_MAX_VALUES 131072

typedef struct ss_batch ss_batch;

typedef struct ss_batch_io {
    /** Run r's resolved model (0 <= r < nruns), the lane's own: the engine
     *  changes its schedules (`set` events, interventions) and frees it.
     *  Non-zero: run r fails (done(r, NULL)). */
    int (*load)(void *ctx, size_t r, ss_model **m);
    /** Run r is finished: its result (borrowed, valid during the call), or
     *  NULL if it failed. Called once per run, in no particular order. */
    void (*done)(void *ctx, size_t r, const ss_result *res);
    /** Non-zero: stop (ss_batch_run returns SS_EINTR). May be NULL. */
    int (*stop)(void *ctx);
    void *ctx;
} ss_batch_io;

ss_batch *ss_batch_new(void);
void ss_batch_free(ss_batch *b);

/** 1 if the batched engine can run m: the adaptive solver rk8pd. */
int ss_batch_supports(const ss_model *m);

/** The values of a run's result (every metric at every output time, no
 *  derived metric) of model m; SIZE_MAX if its output grid cannot be formed. */
size_t ss_batch_values(const ss_model *m);

/** 1 if runs with options r (may be NULL) need nothing the batched engine
 *  lacks: no policy, derived metric, user stock, link or start-of-run hook
 *  (an interrupt flag is the caller's to poll through io->stop). */
int ss_batch_plain_opts(const ss_run_opts *r);

/** The choice of an engine `auto` (Monte Carlo, Sobol, sweep): 1 if runs of
 *  m with options r are for the batched engine: ss_batch_plain_opts,
 *  ss_batch_supports (which also picks the vector functions: call this
 *  before any worker thread starts) and at most SS_BATCH_MAX_VALUES values
 *  a run. */
int ss_batch_suits(const ss_model *m, const ss_run_opts *r);

/**
 * Runs 0 .. nruns-1 in `lanes` lanes (lanes >= 1). Returns SS_OK (every run
 * reported to io->done), SS_EINTR (io->stop), SS_ENOMEM.
 */
int ss_batch_run(ss_batch *b, size_t lanes, size_t nruns, const ss_batch_io *io, ss_err *err);

/**
 * Whether b computes its right-hand sides and step sums with AVX-512F (8
 * doubles a vector) rather than AVX2 (4): on by default where the CPU has
 * AVX-512F, in a GCC build (a clang build has AVX2 only). The results are the same bit for bit (the same elementwise
 * operations in the same order); tests switch it off (on = 0) to check that.
 * Returns 1 if AVX-512F is now used.
 */
int ss_batch_use_avx512(ss_batch *b, int on);

/** 1 if the engine steps with its own vectorised copy of GSL's rk8pd step
 *  (it reproduced GSL's step bit for bit on a test system, with AVX-512F
 *  and AVX2 where the CPU has both); 0 if it falls
 *  back to gsl_odeiv2_step_apply (slower, same results). */
int ss_batch_own_stepper(void);

/* Element-wise exp, log and pow of arrays (batch_vec.c; out may be x).
 * ss_vec_pow is exp(e log x) for x >= 0 (1 where e is 0), libm's pow for
 * an x with its sign bit set; within (|e ln x| + 2) ulps of pow. */
void ss_vec_log(double *out, const double *x, size_t n);
void ss_vec_exp(double *out, const double *x, size_t n);
void ss_vec_pow(double *out, const double *x, const double *e, size_t n);
/** Which implementation they use ("SLEEF AVX2 (4 doubles)", ...). */
const char *ss_vec_name(void);
/** For tests, before any other thread uses them: make them work on `width`
 *  doubles at a time (2, 4, 8; 1 without SLEEF) if the CPU can; 0 if not. */
int ss_vec_width(int width);

#endif
