/*
 * stratsim/model.h - the scenario description (docs/model.md): segments,
 * providers, events, time grid and solver settings.
 *
 * ss_model is a transparent description (like an options struct): the Lua
 * layer or a C program fills it, ss_model_resolve() validates it and fills in
 * every defaulted quantity (allocation, capability, brand), after which it is
 * fully explicit and can be recorded in a sidecar.  All arrays indexed by
 * segment have nseg entries.  ss_model_new() allocates every array and sets
 * every documented default (docs/model.md §4); ss_model_free() releases everything, ids included.
 * A provider's per-segment arrays share one allocation: fill them in place,
 * never free or replace one of them.
 */
#ifndef STRATSIM_MODEL_H
#define STRATSIM_MODEL_H

#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_segment {
    char *id;                 /**< owned */
    double size;              /**< M_k(t0) > 0 */
    ss_schedule growth;       /**< g_k(t), per year, default 0 */
    int has_bass;             /**< 1: Bass diffusion instead of growth */
    double bass_p, bass_q, bass_potential;
    double tau;               /**< default 2 */
    double beta_capability, beta_price, beta_reliability; /**< default 1 */
    double learning;          /**< b_k, default 0 */
    double efficiency;        /**< e_k, default 1 */
    double depreciation;      /**< d_k, default 0.2 */
} ss_segment;

typedef struct ss_provider {
    char *id;                    /**< owned */
    double *share;               /**< [nseg] s_ik(t0) */
    double *margin;              /**< [nseg] m0_ik, default 0.3 */
    double *opex;                /**< [nseg] default 0 */
    double fixed_cost;           /**< per year, default 0 */
    ss_schedule reinvest;        /**< rho_i(t), default 0.2 */
    ss_schedule *allocation;     /**< [nseg] alpha_ik(t), raw (normalised over k at use) */
    int allocation_given;        /**< 0: default, proportional to initial revenue */
    ss_schedule *price;          /**< [nseg] default 1 */
    ss_schedule *participation;  /**< [nseg] default 1 */
    ss_schedule *lever;          /**< [nseg] default 1 */
    double reliability;          /**< R_i(t0) in (0,1], default 1 */
    double recovery;             /**< years, default 0.5 */
    double *capability;          /**< [nseg] C_ik(t0) */
    unsigned char *capability_given; /**< [nseg] 0: steady-state default */
    double *brand;               /**< [nseg] */
    unsigned char *brand_given;  /**< [nseg] 0: equilibrium default */
    double experience;           /**< years, default 1 */
    /** Interventions (docs/model.md §6): new decision schedules that replace
     *  the ones above from the model's policy time on, exactly as a `set`
     *  event at that time would, while the initial state is resolved from
     *  the schedules above (the base). Indexed by ss_decision_slot();
     *  iv_on[j] says whether slot j is an intervention. */
    ss_schedule *iv;             /**< [SS_DECISION_SLOTS(nseg)] */
    unsigned char *iv_on;        /**< [SS_DECISION_SLOTS(nseg)] */
} ss_provider;

/** Number of decision slots of a provider: reinvest, then allocation,
 *  price, participation and lever for every segment. */
#define SS_DECISION_SLOTS(nseg) (1 + 4 * (nseg))

typedef enum { SS_EV_OUTAGE = 0, SS_EV_SET, SS_EV_MARKET } ss_event_kind;

typedef enum {
    SS_FIELD_REINVEST = 0, SS_FIELD_ALLOCATION, SS_FIELD_PRICE,
    SS_FIELD_PARTICIPATION, SS_FIELD_LEVER, SS_NFIELDS
} ss_field;

typedef struct ss_event {
    double t;
    ss_event_kind kind;
    int provider;            /**< index, outage/set; -1 otherwise */
    int segment;             /**< index, market; -1 otherwise */
    double amount;           /**< severity (outage), factor (market), value (set reinvest) */
    ss_field field;          /**< set */
    double *values;          /**< [nseg] set of a per-segment field (owned) */
    unsigned char *mask;     /**< [nseg] which segments the set names (owned) */
    int line;                /**< source line, 0 if unknown */
} ss_event;

typedef enum {
    SS_SOLVER_RK8PD = 0, SS_SOLVER_RKF45, SS_SOLVER_RKCK, SS_SOLVER_RK2,
    SS_SOLVER_MSADAMS, SS_SOLVER_EULER, SS_SOLVER_RK4, SS_NSOLVERS
} ss_solver_method;

typedef struct ss_solver {
    ss_solver_method method; /**< default SS_SOLVER_RK8PD (adaptive) */
    double rtol;             /**< default 1e-8 */
    double atol;             /**< default 1e-10 */
    double h;                /**< fixed step (euler/rk4) or initial step; default 1/128 */
    double hmin;             /**< adaptive: smallest step, default 1e-12 */
    unsigned long max_steps; /**< per integration interval, default 1000000 */
} ss_solver;

typedef struct ss_model {
    char *name;              /**< owned */
    double t0, t1, step;     /**< time = {start, stop, step} */
    double epoch;            /**< decision epoch, default = step */
    double policy;           /**< policy time of interventions (time.policy) */
    unsigned char policy_given; /**< 0: the policy time is t0 */
    double discount_rate;    /**< r, default 0 */
    ss_solver solver;
    size_t nseg, nprov, nev;
    ss_segment *seg;         /**< [nseg] */
    ss_provider *prov;       /**< [nprov] */
    ss_event *ev;            /**< [nev] in declaration order */
    int resolved;            /**< set by ss_model_resolve() (recorded in the sidecar) */
} ss_model;

/** Allocate a model with nseg segments and nprov providers, all at the documented defaults. */
ss_model *ss_model_new(size_t nseg, size_t nprov);

/** Release a model and everything it owns. NULL-safe. */
void ss_model_free(ss_model *m);

/** Deep copy. Returns NULL on allocation failure. */
ss_model *ss_model_copy(const ss_model *m);

/** Append an event (deep-copied, values/mask of nseg entries if non-NULL). */
int ss_model_add_event(ss_model *m, const ss_event *ev, ss_err *err);

/** The decision slot of field f (segment k; ignored for reinvest). */
size_t ss_decision_slot(ss_field f, size_t k, size_t nseg);

/** The field and segment of decision slot j (segment -1 for reinvest). */
ss_field ss_decision_field(size_t j, size_t nseg, int *segment);

/** The base schedule of provider p's decision slot j. */
ss_schedule *ss_provider_decision(ss_provider *p, size_t j, size_t nseg);

/** The policy time: time.policy if given, else t0. */
double ss_model_policy_time(const ss_model *m);

/** Number of decision slots with an intervention, over every provider. */
size_t ss_model_interventions(const ss_model *m);

/**
 * Make `v` a variant of `base` (docs/model.md §6): for every provider and
 * segment that both have (matched by id), every decision input of `v` that
 * differs from the one `base` applies (its intervention, else its base
 * schedule) becomes an intervention of `v`; an input equal to it keeps
 * base's intervention if base has one; and `v`'s base decision inputs become
 * base's, so that `v` starts from base's initial state unless it changes an
 * input that defines the base. A provider or segment that `base` lacks
 * keeps its own inputs as its base.
 */
int ss_model_rebase(ss_model *v, const ss_model *base, ss_err *err);

/** Index of a segment/provider id, or -1. */
int ss_model_segment_index(const ss_model *m, const char *id);
int ss_model_provider_index(const ss_model *m, const char *id);

/** Canonical names: "reinvest", ... and "rk8pd", ...; parse returns -1 if unknown. */
const char *ss_field_name(ss_field f);
int ss_field_parse(const char *name);
const char *ss_solver_name(ss_solver_method m);
int ss_solver_parse(const char *name);

/**
 * Validate every input (ranges, share sums, ids, events, time grid) and fill
 * in the defaults that depend on other inputs: allocation (proportional to the
 * initial revenue by segment), capability (steady state) and brand
 * (equilibrium). Idempotent. Errors name the key path.
 */
int ss_model_resolve(ss_model *m, ss_err *err);

/**
 * A resolved model: a scenario as written, validated and with every default
 * filled in (ss_model_resolve), made once and afterwards only read. A
 * simulation of it (ss_sim_run_resolved) neither checks nor resolves it
 * again; a change to an input (an override, a drawn value) needs a new one.
 * Opaque so that nobody changes it behind its back.
 */
typedef struct ss_resolved ss_resolved;

/** A resolved copy of `m` (m is not modified): ss_model_resolve's errors. */
int ss_resolved_new(ss_resolved **out, const ss_model *m, ss_err *err);
/** Resolve `m` and keep it (ownership moves in, also on failure, when it
 *  is freed). */
int ss_resolved_adopt(ss_resolved **out, ss_model *m, ss_err *err);
/** The resolved model (owned by r, read only). */
const ss_model *ss_resolved_model(const ss_resolved *r);
/** Release. NULL-safe. */
void ss_resolved_free(ss_resolved *r);

#ifdef __cplusplus
}
#endif
#endif
