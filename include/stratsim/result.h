/*
 * stratsim/result.h - the output of one simulation run: every metric of
 * docs/model.md §10 at every output time.
 *
 * A result owns copies of the scenario name and ids, so it outlives the model.
 * Values are stored densely; use the accessor macros or functions.  Metric
 * names are part of the interface (CSV columns, Lua API).
 */
#ifndef STRATSIM_RESULT_H
#define STRATSIM_RESULT_H

#include <stddef.h>
#include "stratsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Metrics per provider and segment. */
typedef enum {
    SS_PS_SHARE = 0, SS_PS_TARGET_SHARE, SS_PS_REVENUE, SS_PS_GROSS_MARGIN,
    SS_PS_CAPABILITY, SS_NPS
} ss_metric_ps;

/** Metrics per provider. */
typedef enum {
    SS_P_REVENUE = 0, SS_P_GROSS_PROFIT, SS_P_OPERATING_PROFIT, SS_P_INVESTMENT,
    SS_P_RELIABILITY, SS_P_NPV, SS_NP
} ss_metric_p;

/** Metrics per segment. */
typedef enum { SS_S_SIZE = 0, SS_S_HHI, SS_NS } ss_metric_s;

typedef struct ss_result {
    char *scenario;      /**< owned */
    size_t nt, np, nk;   /**< output times, providers, segments */
    char **prov_ids;     /**< [np] owned */
    char **seg_ids;      /**< [nk] owned */
    double *t;           /**< [nt] */
    double *ps;          /**< [nt][SS_NPS][np][nk] */
    double *p;           /**< [nt][SS_NP][np] */
    double *s;           /**< [nt][SS_NS][nk] */
    /* user-defined (derived) metrics, one scalar per output time each */
    size_t nextra;
    char **extra_names;  /**< [nextra] owned */
    double *extra;       /**< [nt][nextra] */
    /** [nextra] owned, or NULL: units of the user stocks (which come first
     *  among the extra metrics; "" for a stock without a unit); NULL entries
     *  for derived metrics. */
    char **extra_units;
} ss_result;

#define SS_RESULT_PS(r, ti, m, i, k) \
    ((r)->ps[(((size_t)(ti) * SS_NPS + (size_t)(m)) * (r)->np + (size_t)(i)) * (r)->nk + (size_t)(k)])
#define SS_RESULT_P(r, ti, m, i) \
    ((r)->p[((size_t)(ti) * SS_NP + (size_t)(m)) * (r)->np + (size_t)(i)])
#define SS_RESULT_S(r, ti, m, k) \
    ((r)->s[((size_t)(ti) * SS_NS + (size_t)(m)) * (r)->nk + (size_t)(k)])

/** Allocate a zeroed result; ids and name are copied. */
ss_result *ss_result_new(const char *scenario, size_t nt, size_t np,
                         char *const *prov_ids, size_t nk, char *const *seg_ids);
void ss_result_free(ss_result *r);
/** A result with the shape, times, ids and derived metrics' names and units
 *  of `like`, every value zero; NULL if out of memory. */
ss_result *ss_result_like(const ss_result *like);
/** A deep copy of r (names, ids, values, derived metrics); NULL if out of memory. */
ss_result *ss_result_copy(const ss_result *r);

/** Metric names ("share", ...), and lookup: returns the enum or -1. */
const char *ss_metric_ps_name(int m);
const char *ss_metric_p_name(int m);
const char *ss_metric_s_name(int m);
int ss_metric_ps_parse(const char *name);
int ss_metric_p_parse(const char *name);
int ss_metric_s_parse(const char *name);

/** Index of the output time equal to t (within 1e-9), or -1. */
long ss_result_time_index(const ss_result *r, double t);

/** Index of id among ids[0..n) (a result's prov_ids or seg_ids), or -1. */
long ss_result_id_index(char *const *ids, size_t n, const char *id);

#ifdef __cplusplus
}
#endif
#endif
