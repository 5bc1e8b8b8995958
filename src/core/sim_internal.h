/*
 * core/sim_internal.h - what the simulation (sim.c) shares with the batched
 * Monte Carlo engine (batch.c), so that both build a run's breakpoints,
 * order its events and change its schedules with the same code (private to
 * the core).
 */
#ifndef STRATSIM_CORE_SIM_INTERNAL_H
#define STRATSIM_CORE_SIM_INTERNAL_H

#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/sim.h"

/** A growable array of doubles (the owner frees v). */
typedef struct ss_dvec { double *v; size_t n, cap; } ss_dvec;

/** Double the capacity of d (at least 64). SS_OK or SS_ENOMEM. */
int ss_dvec_grow(ss_dvec *d);

/** Append x. SS_OK or SS_ENOMEM. */
static inline int ss_dvec_push(ss_dvec *d, double x)
{
    if (d->n == d->cap && ss_dvec_grow(d))
        return SS_ENOMEM;
    d->v[d->n++] = x;
    return SS_OK;
}

/** Append m's output grid t0 + n*step, t1 included (resolved m). */
int ss_sim_output_times(ss_dvec *d, const ss_model *m, ss_err *err);

/** Append m's decision epochs t0 + n*epoch up to t1 (resolved m). */
int ss_sim_epoch_times(ss_dvec *d, const ss_model *m, ss_err *err);

/**
 * bp: the sorted union of outs, epochs (both sorted), m's event
 * times, its schedule knots inside (t0, t1) and, with interventions, the
 * policy time and the knots of the new schedules after it; times closer
 * than 1e-9 are merged into the earliest. `extra` is scratch (its contents
 * are replaced). SS_OK or SS_ENOMEM.
 */
int ss_sim_breakpoints(ss_dvec *bp, ss_dvec *extra, const ss_model *m, const ss_dvec *outs,
                       const ss_dvec *epochs);

/** idx[0, n): the events ev[0, n) in time order, ties in declaration order
 *  (a stable bottom-up merge sort, linear when already sorted); tmp: scratch of n. */
void ss_sim_order_events(const ss_event *ev, size_t n, size_t *idx, size_t *tmp);

/** A `set` event (ev->kind SS_EV_SET) on m: the provider's field becomes
 *  the event's constant(s) from now on (the segments its mask names). */
void ss_sim_apply_set(ss_model *m, const ss_event *ev);

/* ss_sim_run_ws() on `model` itself rather than a copy: it is resolved in
 * place, changed by the run and freed in every case (the Monte Carlo's run
 * copies, which are made for one run anyway). */
int ss_sim_run_own(ss_sim_workspace *ws, ss_result **out, ss_model *model,
                   const ss_run_opts *opts, ss_err *err);

/** The interventions at the policy time: every decision schedule of m with
 *  one is replaced by it. SS_OK or SS_ENOMEM. */
int ss_sim_apply_interventions(ss_model *m);

#endif
