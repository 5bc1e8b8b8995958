/*
 * stratsim/mc.h - Monte Carlo over a scenario (docs/analysis.md): uncertain
 * parameters drawn from distributions, stochastic outages, many runs on
 * several threads, and per series and output time the mean, the standard
 * deviation and chosen quantiles (fan charts).
 *
 * Reproducibility.  The random stream of run i is a function of (seed, i)
 * only: a generator of its own (xoshiro256**, see ss_mc_rng_type()) is
 * seeded from a splitmix64 hash of (seed, i), so no two runs of one seed
 * share a starting state.  Within a run the draws are taken in a fixed
 * order: one value per uncertain parameter (array order), then per outage
 * process (array order) the exponential inter-arrival times from t0 on, each
 * followed by its severity, then whatever opts.prepare draws.  Runs are
 * grouped in blocks of B = ss_mc_block_runs(nv) consecutive indices (1024
 * for the flagship scenario; B depends only on the output grid); a worker
 * runs a block in index order and then computes, per series and time, the
 * block's mean, sum of squared deviations and t-digest from the block's
 * values (ss_sketch_set_values()); blocks are merged into the totals
 * strictly in block order, by the workers, one at a time (Chan et al.'s
 * pairwise formula for mean and variance, ss_sketch_merge() for the
 * sketches).  Hence the result is bit-identical for any thread count.
 *
 * Quantiles come from one t-digest per series and time (sketch.h): rank
 * error about 1e-3 at the default compression; min and max are exact.
 *
 * Memory does not grow with the number of runs: besides the model and one
 * result per worker, it is about nv * (16 + sketch) bytes for the totals
 * (nv = number of kept output values of one run, see opts.outputs; a sketch
 * is at most ~10 KB at compression 200, less while it holds few values),
 * per worker a buffer of nv * B * 8 bytes (at most SS_MC_BLOCK_BYTES unless
 * B is SS_MC_BLOCK_MIN), and 2 * threads blocks in flight of about
 * nv * (16 + compressed block sketch) bytes each (a block sketch holds at
 * most B and at most about compression + 2 centroids of 16 bytes; plus B
 * kept results per block when opts.on_run is set).  Whatever opts.on_run
 * keeps per run (e.g. a per-run CSV) is the caller's and does grow with the
 * runs.  ss_mc_run() adds these up (ss_mc_estimate) after the unperturbed
 * run and before the first perturbed one, and fails with SS_ENOMEM and a
 * message that says what the estimate is made of and how to reduce it when
 * it exceeds opts.max_memory.
 *
 * Selection.  opts.outputs keeps only the selected series: a selector
 * (select.h) without `@` or with `@end` keeps the last output time, `@start`
 * the first, `@T` output time T (it must be one, within 1e-9: statistics of
 * interpolated values are not kept), `@each` every output time.  The
 * statistics of a kept value are exactly those of a Monte Carlo that keeps
 * everything (each series is summarised on its own), and the values not
 * kept are NaN in the results (ss_mc_result_kept() tells which are kept).
 *
 * Failure.  Each run works on a fresh ss_model_copy() of the scenario: the
 * uncertain values are set with ss_param_set(), the outages are appended as
 * outage events, then ss_model_resolve() validates it, so a draw outside the
 * parameter's legal range (a negative size, a share sum != 1, ...) makes the
 * run fail.  A failing run is an error of the whole Monte Carlo: it stops,
 * and the error of the lowest failing run index is returned as
 * "run N: <message>" with the key path kept (this does not depend on the
 * thread count).  Choose distributions inside the legal range (truncnormal,
 * beta on [lo, hi], lognormal for positive quantities).
 *
 * Engines.  Without Lua hooks (no opts.prepare, a run-option template
 * without on_epoch, on_output, derived metrics, user stocks or links) and
 * with the default solver (rk8pd), a block's runs are integrated by the
 * batched engine (src/core/batch.c): SS_BATCH_LANES lanes, each with its own
 * time, steps, step-size control and breakpoints (its own outages), whose
 * right-hand sides are evaluated together; a lane that finishes takes the
 * block's next run.  A run's result depends on its own inputs only (not on
 * the other lanes), and agrees with the same run done alone by the scalar
 * engine within the solver's tolerance (tests: 1e-7 relative).  A run the
 * batched engine cannot finish (it fails, or its model is not of the block's
 * shape) is run again by the scalar engine, which reports its error.
 * Otherwise (policies, derived metrics, other solvers, opts.engine =
 * SS_MC_ENGINE_SCALAR) every run is an ss_sim_run_ws() of its own.
 *
 * Threads.  ss_mc_run() starts opts.threads worker threads, which run the
 * blocks and merge them; the calling thread waits for the merged blocks in
 * order and calls opts.progress and opts.on_run; all threads are joined
 * before it returns.  Call ss_global_init() before (GSL's
 * error handler is process-wide).  The run-option template's callbacks are
 * called from the worker threads concurrently and must be thread-safe.
 */
#ifndef STRATSIM_MC_H
#define STRATSIM_MC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <gsl/gsl_rng.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"
#include "stratsim/dist.h"
#include "stratsim/select.h"
#include "stratsim/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most runs per block (the unit of work of a thread and of the ordered merge). */
#define SS_MC_BLOCK 1024
/** Fewest runs per block. */
#define SS_MC_BLOCK_MIN 64
/** Budget of one worker's block buffer (values of one run x runs per block x 8 bytes). */
#define SS_MC_BLOCK_BYTES ((size_t)32 << 20)

/**
 * Runs per block for runs with nv output values each: SS_MC_BLOCK, halved
 * while nv * runs per block * 8 bytes would exceed SS_MC_BLOCK_BYTES, but
 * not below SS_MC_BLOCK_MIN. It depends on the output grid only (never on
 * the thread count), so results stay identical for any thread count.
 */
size_t ss_mc_block_runs(size_t nv);

/** Default memory limit of a Monte Carlo (ss_mc_opts.max_memory): 1 GiB. */
#define SS_MC_MAX_MEMORY ((uint64_t)1 << 30)

/** Severity draws are clamped to [SS_MC_SEVERITY_MIN, 1 - SS_MC_SEVERITY_MIN]. */
#define SS_MC_SEVERITY_MIN 1e-9

/** Most outages one outage process may expect over the horizon (rate * (t1 - t0)). */
#define SS_MC_MAX_EXPECTED_OUTAGES 10000.0

/** An uncertain input: the parameter at `path` (see param.h) is drawn from `dist`. */
typedef struct ss_mc_param {
    const char *path;   /**< borrowed; `time.*` paths are rejected (the output grid must not vary) */
    ss_dist dist;
} ss_mc_param;

/** A stochastic outage process of one provider: Poisson arrivals over [t0, t1]. */
typedef struct ss_mc_outage {
    const char *provider; /**< provider id, borrowed */
    double rate;          /**< expected outages per year, >= 0 */
    ss_dist severity;     /**< reliability loss per outage, clamped to (0, 1) */
} ss_mc_outage;

typedef struct ss_mc_opts {
    int version;
    uint64_t runs;                /**< number of runs, >= 1 */
    uint64_t seed;                /**< master seed */
    unsigned threads;             /**< worker threads; 0: the number of online CPUs */
    const double *quantiles;      /**< levels in [0, 1], distinct; NULL: 0.05, 0.5, 0.95 */
    size_t nquantiles;
    double compression;           /**< sketch compression; 0: SS_SKETCH_COMPRESSION */
    /** Template of the options of every run (derived metrics, policy); may be
     *  NULL. Its `interrupt` is used if opts.interrupt is NULL. */
    const ss_run_opts *run_opts;
    /** If non-NULL and set (by a signal handler, say), the Monte Carlo stops
     *  and returns SS_EINTR: runs in flight stop at their next decision epoch
     *  (every `epoch` years of model time), the calling thread notices within
     *  20 ms. Read with relaxed atomic loads. */
    volatile int *interrupt;
    /** Called in the calling thread after each merged block (with several
     *  processes: on rank 0 only). */
    void (*progress)(uint64_t done, uint64_t total, void *payload);
    /** Called in the calling thread for every run in run-index order with
     *  that run's result (borrowed, valid during the call only). A non-zero
     *  return stops the Monte Carlo with that status (message in err). */
    int (*on_run)(uint64_t run, const ss_result *result, void *payload, ss_err *err);
    /** Called in worker thread `worker` before run `run`, after the draws
     *  were applied to `model` (the run's own copy, not yet resolved); it may
     *  change the model, draw more from `rng` (the run's stream) and adjust
     *  `ro`, the run's own copy of the run-option template (e.g. point its
     *  payload at per-worker state). Results stay reproducible only if what
     *  it does depends on (run, rng) and not on `worker`. Non-zero return
     *  fails the run. */
    int (*prepare)(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                   ss_run_opts *ro, void *payload, ss_err *err);
    void *payload;                /**< passed to progress, on_run and prepare */
    /** Several processes (transport.h; NULL: one). The units are the blocks:
     *  process `rank` runs blocks b with b mod nranks == rank. Every process
     *  merges its own share of the output series (nv * r / nranks to
     *  nv * (r + 1) / nranks) of every block in block order (its own blocks
     *  and the shares the other processes post it), then the other ranks
     *  send rank 0 their share of the totals: rank 0's result is
     *  bit-identical to one process's; the others return SS_OK with *out
     *  NULL. Needs the transport's post and fetch. on_run is not available
     *  with several processes. */
    const ss_transport *dist;
    /** The series kept (see "Selection" above; parsed, borrowed); NULL or
     *  noutputs 0: every series at every output time. Unknown ids or a
     *  time that is not an output time are SS_EINVAL. */
    const ss_selector *outputs;
    size_t noutputs;
    /** Bytes this process may use for the Monte Carlo (ss_mc_estimate);
     *  a larger estimate fails before the first run (SS_ENOMEM). 0: no limit.
     *  With several processes rank 0 decides for every process
     *  (transport.h, agree). */
    uint64_t max_memory;
    /** How the memory error names the options (NULL: "outputs" and
     *  "max_memory", the Lua names; the command line gives its own). */
    const char *name_outputs, *name_max_memory;
    /** SS_MC_ENGINE_AUTO (0): the batched engine when it applies (see
     *  Engines above), else the scalar one; SS_MC_ENGINE_SCALAR: always the
     *  scalar one. */
    int engine;
} ss_mc_opts;

enum { SS_MC_ENGINE_AUTO = 0, SS_MC_ENGINE_SCALAR = 1 };

#define SS_MC_OPTS_INIT { 1, 1000, 0, 1, NULL, 0, 0.0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
                          NULL, 0, SS_MC_MAX_MEMORY, NULL, NULL, \
                          SS_MC_ENGINE_AUTO }

/** What the memory of a Monte Carlo is made of (bytes, one process). */
typedef struct ss_mc_memory {
    size_t nt, np, nk, nextra; /**< output times, providers, segments, stocks and derived metrics */
    size_t nv_all;             /**< values of one run */
    size_t nv;                 /**< values kept (opts.outputs) */
    size_t block;              /**< runs per block */
    unsigned threads, slots;   /**< worker threads, blocks in flight */
    uint64_t totals;           /**< the merged statistics and sketches of the kept values */
    uint64_t blocks;           /**< the blocks in flight (statistics, sketches, per-run results) */
    uint64_t per_run;          /**< of which the runs' results kept for opts.on_run */
    uint64_t transfer;         /**< of which buffers for the exchange between processes (0 in one
                                *   process; not in the sidecar, which is the same for any number
                                *   of processes) */
    uint64_t workers;          /**< per thread: block buffer, one run's result, workspace */
    uint64_t results;          /**< the unperturbed run and the final statistics */
    uint64_t total;            /**< the sum */
} ss_mc_memory;

/** Results of a Monte Carlo (opaque). */
typedef struct ss_mc_result ss_mc_result;

/**
 * Run the Monte Carlo. `m` (resolved or not) is not modified; it is first
 * run once unperturbed in the calling thread (with opts->run_opts) to
 * validate it and to learn the output grid. On success *out receives results
 * the caller frees with ss_mc_result_free(). Errors: SS_EINVAL (bad options,
 * paths, distributions, or a failing run, see above), SS_ENOMEM, SS_ENUMERIC
 * (a failing run), SS_EINTR (interrupted: no results), or the status an
 * opts->on_run or opts->prepare callback returned.
 */
int ss_mc_run(ss_mc_result **out, const ss_model *m,
              const ss_mc_param *params, size_t nparams,
              const ss_mc_outage *outages, size_t noutages,
              const ss_mc_opts *opts, ss_err *err);

/** Release results. NULL-safe. */
void ss_mc_result_free(ss_mc_result *r);

/**
 * Write into buf the size `bytes` as "4.2 GiB", "512 MiB", "10 KiB" or
 * "100 bytes" (three significant digits at most, binary units).
 */
void ss_mc_format_bytes(char *buf, size_t size, uint64_t bytes);

/**
 * Parse a memory size: a number with an optional unit K, M, G, T (powers of
 * 1024; KiB, MiB, ... and KB, MB, ... mean the same; B: bytes), e.g.
 * "512M", "2G", "1.5GiB"; a number without a unit is multiplied by `unit`
 * (the command line's MiB: 1 << 20). 0 on success, -1 if malformed, below
 * one byte, or above 2^60 bytes.
 */
int ss_mc_parse_bytes(const char *s, uint64_t unit, uint64_t *out);

/** The memory estimate the run was checked against (see ss_mc_memory). */
const ss_mc_memory *ss_mc_result_memory(const ss_mc_result *r);

/** Number of runs, the master seed, the sketch compression and the runs per block used. */
uint64_t ss_mc_result_runs(const ss_mc_result *r);
uint64_t ss_mc_result_seed(const ss_mc_result *r);
double ss_mc_result_compression(const ss_mc_result *r);
size_t ss_mc_result_block(const ss_mc_result *r);
/**
 * The engine that ran the blocks: "batched" (batch.c, see Engines above) or
 * "scalar" (ss_sim_run_ws run by run); its lanes (1 for the scalar engine);
 * and how many runs the batched engine handed back to the scalar one (every
 * run for the scalar engine).
 */
const char *ss_mc_result_engine(const ss_mc_result *r);
size_t ss_mc_result_lanes(const ss_mc_result *r);
uint64_t ss_mc_result_scalar_runs(const ss_mc_result *r);

/**
 * Statistics shaped like one run's result (same times, ids, metrics and
 * derived metrics; use the SS_RESULT_* macros). Borrowed: valid until
 * ss_mc_result_free(). The standard deviation is the sample one (n - 1
 * denominator; 0 for a single run); min and max are exact.
 */
const ss_result *ss_mc_result_mean(const ss_mc_result *r);
const ss_result *ss_mc_result_sd(const ss_mc_result *r);
const ss_result *ss_mc_result_min(const ss_mc_result *r);
const ss_result *ss_mc_result_max(const ss_mc_result *r);

/**
 * Which values were kept (opts.outputs): a result shaped like the others
 * whose values are 1 where kept and 0 where not (all 1 without a selection).
 * Borrowed, like the statistics.
 */
const ss_result *ss_mc_result_kept(const ss_mc_result *r);

/** 1 if every value was kept (no selection). */
int ss_mc_result_all_kept(const ss_mc_result *r);

/** Number of quantile levels, level j, and the estimate of quantile j (borrowed). */
size_t ss_mc_result_nquantiles(const ss_mc_result *r);
double ss_mc_result_quantile_level(const ss_mc_result *r, size_t j);
const ss_result *ss_mc_result_quantile(const ss_mc_result *r, size_t j);

/**
 * Column name of quantile level q: "p" followed by 100 q, two digits at
 * least for whole numbers: 0.05 -> "p05", 0.5 -> "p50", 0.99 -> "p99",
 * 0.025 -> "p2.5". Returns the length (like snprintf).
 */
int ss_mc_quantile_name(char *buf, size_t size, double q);

/**
 * Write the results as CSV with the header
 * `scenario,time,provider,segment,metric,mean,sd,<quantile names>`, rows in
 * the order of the long layout of ss_csv_write() (provider x segment
 * metrics, provider metrics, segment metrics, derived metrics, per time);
 * only the kept values have rows. SS_EIO if a write fails.
 */
int ss_mc_write_csv(FILE *f, const ss_mc_result *r, ss_err *err);

/* ---- the per-run random streams ---- */

/** Name of the per-run generator, for sidecars: "xoshiro256**". */
const char *ss_mc_rng_name(void);

/**
 * The per-run generator as a GSL generator type: gsl_rng_alloc() it, then
 * ss_mc_rng_seed() it. get() returns 32 bits, get_double() 53 bits.
 */
const gsl_rng_type *ss_mc_rng_type(void);

/** 64-bit seed of run `run` (splitmix64 mixing; distinct runs of one seed get distinct values). */
uint64_t ss_mc_run_seed(uint64_t seed, uint64_t run);

/** Put `rng` (of ss_mc_rng_type()) at the start of the stream of run `run` of `seed`. */
void ss_mc_rng_seed(gsl_rng *rng, uint64_t seed, uint64_t run);

#ifdef __cplusplus
}
#endif
#endif
