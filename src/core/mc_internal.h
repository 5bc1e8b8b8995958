/*
 * mc_internal.h - what the Monte Carlo's files share (src/core/mc*.c, not
 * installed): its limits, the result object's fields, the flat value
 * layout of a run, and the engine's state (the context, its workers, the
 * ring of slots and the totals) with the functions one file calls in
 * another. The engine itself is mc.c (its first comment describes the
 * threading, the stopping and the several processes); mc_rng.c holds the
 * per-run streams, mc_result.c the result object, its assembly from the
 * totals and its CSV, mc_memory.c the memory estimate and its message,
 * mc_dist.c the exchange between processes.
 */
#ifndef STRATSIM_CORE_MC_INTERNAL_H
#define STRATSIM_CORE_MC_INTERNAL_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <gsl/gsl_randist.h>
#include "stratsim/io.h"
#include "stratsim/mc.h"
#include "stratsim/param.h"
#include "stratsim/sketch.h"
#include "core/batch.h"
#include "core/sim_internal.h"
#include "core/slots.h"

#define MC_MAX_THREADS 1024
/* Blocks in flight per worker thread (the ring of slots, ss_slots_plan). */
#define MC_SLOTS_PER_THREAD 2
#define MC_MAX_QUANTILES 256
#define MC_MAX_RUNS ((uint64_t)1 << 62)
/* Runs staged run by run before they move to the series-major buffer (8 doubles: a cache line). */
#define MC_GROUP 8
/* A worker's run besides its result: the run's copy of the model and the
 * integrator's workspace (measured: about 1 KiB per provider and segment
 * pair, with a floor). */
#define MC_RUN_BYTES_PER_PAIR 1024
#define MC_RUN_BYTES_MIN ((uint64_t)256 << 10)

/* The result object (stratsim/mc.h). */
struct ss_mc_result {
    uint64_t runs, seed;
    double compression;
    size_t block;        /* runs per block */
    size_t nq;
    double *q;           /* [nq] */
    ss_result *mean, *sd, *min, *max;
    ss_result **quant;   /* [nq] */
    ss_result *kept;     /* 1 where kept, 0 elsewhere */
    int all_kept;
    ss_mc_memory mem;    /* the estimate checked before the runs */
    int batched;         /* the batched engine ran the blocks */
    size_t lanes;        /* its lanes (1: scalar) */
    uint64_t scalar_runs; /* runs it handed back to the scalar engine */
};

/* The four value arrays of a result, in the order of the flat value vector. */
typedef struct layout {
    size_t n[4];     /* ps, p, s, extra */
    size_t nv;
} layout;

void mc_layout_of(layout *l, const ss_result *r);
/* Array a (0 ps, 1 p, 2 s, 3 extra) of r. */
double *mc_result_array(const ss_result *r, int a);

/* A slot's state after SS_SLOT_DONE: the block is in the totals. */
enum { SLOT_MERGED = SS_SLOT_DONE + 1 };

/* What slot k % nslots of the ring holds for local block k. */
typedef struct mc_slot {
    size_t n;            /* runs accumulated */
    double *mean, *m2;   /* [nv] the block's mean and sum of squared deviations */
    ss_sketch **sk;      /* [nv] the block's values of each series, compressed */
    ss_result **res;     /* [B] when on_run is set */
    int rc;
    ss_err err;
} mc_slot;

typedef struct mc_ctx mc_ctx;

typedef struct mc_worker {
    mc_ctx *c;
    unsigned index;
    gsl_rng *rng;
    ss_sim_workspace *ws;    /* reused by every run of this worker */
    ss_batch *batch;         /* the batched engine's workspace (c->batched) */
    unsigned char *ok;       /* [B] the batched engine finished the block's run */
    double *grows;           /* [ngroups][MC_GROUP][nv]: finished runs' values, by group of MC_GROUP */
    size_t ngroups;          /* groups in grows (a window over the block's runs) */
    size_t *gcount;          /* [ngroups] runs of the group reported */
    size_t gbase;            /* the first group not yet in vals */
    size_t bruns;            /* runs of the block being run */
    double *vals;            /* [nv][B]: value j of the block's run r at vals[j * B + r] */
    double *rows;            /* [MC_GROUP][nv]: the latest runs' values, run by run */
    ss_sketch_plan *plan;    /* centroid sizes for the block size it was made for */
    double *sort_tmp;        /* [B] scratch of ss_sketch_set_values */
    uint32_t *sort_cnt;      /* [3 B] */
    uint64_t block;          /* block being run (for the stop test) */
    ss_run_opts ro_user;     /* this run's copy of the template (prepare may change it) */
} mc_worker;

struct mc_ctx {
    const ss_model *base;
    const ss_mc_param *params;
    size_t nparams;
    const ss_mc_outage *outages;
    const int *outage_prov;  /* [noutages] provider index */
    size_t noutages;
    const ss_mc_opts *o;
    const ss_run_opts *tmpl;
    volatile int *interrupt;
    const ss_result *shape;  /* the unperturbed run */
    layout l;                /* of every value of a run */
    size_t nv;               /* values kept per run (l.nv without a selection) */
    size_t *keep;            /* [nv] ascending flat indices of the kept values; NULL: all */
    uint64_t runs, nblocks;
    size_t blockB;           /* runs per block: ss_mc_block_runs(nv) */
    size_t B;                /* runs in the largest block (blockB, or runs if fewer) */
    unsigned nslots;
    mc_slot *slots;               /* [nslots] */
    ss_slots sl;                  /* the ring: local blocks (its mutex: "under mu" below) */
    struct mc_totals *t;          /* the totals, merged into by the workers */
    int merging;                  /* a worker is merging (merge_ready) */
    uint64_t next_merge;          /* blocks [0, next_merge) are in the totals */
    int merge_rc;                 /* a failed merge (SS_ENOMEM) */
    ss_mc_memory mem;             /* the estimate (estimate()) */
    int batched;                  /* blocks run by the batched engine (batch.c) */
    atomic_uint_fast64_t scalar_runs; /* runs it handed back to the scalar engine */
    uint64_t rank, nranks;        /* several processes (opts.dist): this one runs */
    uint64_t nlocal;              /* blocks rank + k * nranks, k < nlocal */
    ss_transport_stats *stats;    /* opts.dist->stats, or NULL */
    double worker_cpu, merge_cpu; /* with stats: the workers' CPU and their merging (under mu) */
};

/* Totals of the merge. */
typedef struct mc_totals {
    double n;
    double *mean, *m2;   /* [nv] */
    ss_sketch **sk;      /* [nv] */
} mc_totals;

/* CPU seconds of the calling thread. */
double mc_thread_cpu(void);
/* The interrupt flag is set. */
int mc_interrupted(const mc_ctx *c);
/* Merge series [lo, hi) of slot s into the totals (see mc.c). */
int mc_merge_slot(mc_totals *t, const mc_slot *s, size_t lo, size_t hi);
/* The calling thread with several processes (mc_dist.c). */
int mc_merge_all_dist(mc_ctx *c, mc_slot *scratch, ss_err *err);
/* What the Monte Carlo will take in this process, and the error when that
 * is over the limit (mc_memory.c). */
void mc_estimate(ss_mc_memory *e, const mc_ctx *c, unsigned nthreads, unsigned nslots,
                 size_t nq, double compression, int on_run);
int mc_memory_error(const ss_mc_memory *e, const mc_ctx *c, const ss_mc_opts *o, ss_err *err);
/* Turn the totals into the result object (mc_result.c). */
int mc_finish(ss_mc_result **out, mc_ctx *c, mc_totals *t, const double *q, size_t nq);

#endif
