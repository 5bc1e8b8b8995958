/*
 * floor.h - the two "floors" of the benchmark: the flagship scenario
 * (scenarios/ai_public_first.lua) written out by hand as a minimal C
 * program, integrated with gsl_odeiv2 directly (rk8pd, rtol 1e-8, atol 1e-10)
 * or with a hand-written fixed-step RK4 loop.  No scenario layer, no
 * generality: the equations, the structure (4 providers x 3 segments, which
 * inputs are step or linear schedules, the outage and the two `set` events)
 * and the breakpoints are written for this one scenario; they show what
 * stratsim's abstractions cost.  The numbers (sizes, exponents, shares,
 * resolved brand and capability, knot times and values, event times and
 * values - what the JSON sidecar of `stratsim run` lists) are copied once
 * into a floor_params struct from the resolved model, so that the floor stays
 * the same model when someone edits a number in the scenario file; a
 * structural change makes floor_params_from_model() fail with the reason.
 * The state layout is stratsim's (see src/core/sim.c).
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stddef.h>
#include <stdio.h>
#include "stratsim/model.h"

#define FLOOR_N 4                 /* providers: alibaba, huawei, tencent, others */
#define FLOOR_K 3                 /* segments: public, private, ai */
#define FLOOR_NK (FLOOR_N * FLOOR_K)
#define FLOOR_DIM (3 * FLOOR_NK + 2 * FLOOR_N + FLOOR_K)
#define FLOOR_MAXKNOTS 8

/* A step schedule (n knots; n = 0: the constant v[0]). */
typedef struct floor_steps {
    int n;
    double t[FLOOR_MAXKNOTS], v[FLOOR_MAXKNOTS];
} floor_steps;

/* The flagship's numbers (see the file comment). Segment 2 (ai) is Bass. */
typedef struct floor_params {
    double t0, t1, step, discount;
    double size0[FLOOR_K], growth[2], bass_p, bass_q, potential;
    double tau[FLOOR_K], beta_cap[FLOOR_K], beta_price[FLOOR_K], beta_rel[FLOOR_K];
    double learning[FLOOR_K], efficiency[FLOOR_K], depreciation[FLOOR_K];
    double share0[FLOOR_N][FLOOR_K], margin0[FLOOR_N][FLOOR_K], opex[FLOOR_N][FLOOR_K];
    double capability0[FLOOR_N][FLOOR_K], brand[FLOOR_N][FLOOR_K];
    double fixed_cost[FLOOR_N], reliability0[FLOOR_N], recovery[FLOOR_N], experience[FLOOR_N];
    floor_steps reinvest[FLOOR_N];            /* alibaba: constant; rivals: steps */
    floor_steps alloc[FLOOR_N][FLOOR_K];      /* raw allocation (steps or constant) */
    double price_t[2], price_v[2];            /* rivals' public price, linear */
    double part_t[2], part_v[2];              /* alibaba's private participation, linear */
    double lever_t[2], lever_v[2];            /* alibaba's ai lever, linear */
    double outage_t, outage_severity;         /* alibaba */
    double set_t, set_reinvest, set_alloc[FLOOR_K]; /* alibaba, both `set` events at set_t */
} floor_params;

/** Copy the numbers from the resolved flagship model; 0, or -1 with the reason in why. */
int floor_params_from_model(floor_params *p, const ss_model *m, char *why, size_t size);

/** Write p as JSON (read by scipy_flagship.py). */
void floor_params_write_json(FILE *f, const floor_params *p);

typedef struct floor_ws floor_ws;

/** A floor: rk4 = 0 for gsl_odeiv2 rk8pd (rtol 1e-8, atol 1e-10, first step h),
 *  1 for the hand-written RK4 loop with step h. */
floor_ws *floor_new(const floor_params *p, int rk4, double h);
void floor_free(floor_ws *w);

/** Number of output times (the flagship's quarterly grid). */
size_t floor_nout(const floor_ws *w);

/** One run; the state at every output time goes to out[nout][FLOOR_DIM]. 0 on success. */
int floor_run(floor_ws *w, double *out);

#endif
