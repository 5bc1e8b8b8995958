/*
 * schedule.c - constant, step (right-continuous) and linear schedules.
 * Evaluation is a binary search over the knots: O(log n) per lookup, which
 * for the handful of knots a scenario has is a few comparisons.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/schedule.h"

void ss_schedule_clear(ss_schedule *s)
{
    if (s->t || s->v) { /* most schedules are constants: no call to free */
        free(s->t);
        free(s->v);
    }
    s->t = s->v = NULL;
    s->n = 0;
    s->kind = SS_SCHED_CONST;
    s->value = 0.0;
}

void ss_schedule_set_const(ss_schedule *s, double v)
{
    ss_schedule_clear(s);
    s->value = v;
}

int ss_schedule_set_knots(ss_schedule *s, ss_sched_kind kind, size_t n,
                          const double *t, const double *v,
                          const char *path, ss_err *err)
{
    double *nt, *nv;
    size_t i;

    if (kind == SS_SCHED_CONST || n == 0)
        return ss_err_set(err, SS_EINVAL, path, "a schedule needs at least one knot");
    for (i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !isfinite(v[i]))
            return ss_err_set(err, SS_EINVAL, path, "knot %zu: time and value must be finite", i + 1);
        if (i > 0 && !(t[i] > t[i - 1]))
            return ss_err_set(err, SS_EINVAL, path,
                              "knot %zu: times must be strictly increasing (%g after %g)",
                              i + 1, t[i], t[i - 1]);
    }
    nt = malloc(n * sizeof *nt);
    nv = malloc(n * sizeof *nv);
    if (!nt || !nv) {
        free(nt);
        free(nv);
        return ss_err_set(err, SS_ENOMEM, path, "out of memory");
    }
    memcpy(nt, t, n * sizeof *nt);
    memcpy(nv, v, n * sizeof *nv);
    ss_schedule_clear(s);
    s->kind = kind;
    s->n = n;
    s->t = nt;
    s->v = nv;
    s->value = nv[0];
    return SS_OK;
}

int ss_schedule_copy(ss_schedule *dst, const ss_schedule *src)
{
    *dst = *src;
    dst->t = dst->v = NULL;
    if (src->kind != SS_SCHED_CONST && src->n > 0) {
        dst->t = malloc(src->n * sizeof *dst->t);
        dst->v = malloc(src->n * sizeof *dst->v);
        if (!dst->t || !dst->v) {
            free(dst->t);
            free(dst->v);
            dst->t = dst->v = NULL;
            dst->n = 0;
            dst->kind = SS_SCHED_CONST;
            return SS_ENOMEM;
        }
        memcpy(dst->t, src->t, src->n * sizeof *dst->t);
        memcpy(dst->v, src->v, src->n * sizeof *dst->v);
    }
    return SS_OK;
}

long ss_schedule_last_knot(const ss_schedule *s, double t)
{
    long lo = 0, hi = (long)s->n - 1, ans = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (s->t[mid] <= t) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

double ss_schedule_eval(const ss_schedule *s, double t)
{
    long i;

    if (s->kind == SS_SCHED_CONST)
        return s->value;
    i = ss_schedule_last_knot(s, t);
    if (i < 0)
        return s->v[0];
    if (s->kind == SS_SCHED_STEPS || (size_t)i == s->n - 1)
        return s->v[i];
    {
        double t0 = s->t[i], t1 = s->t[i + 1];
        double w = (t - t0) / (t1 - t0);
        return s->v[i] + w * (s->v[i + 1] - s->v[i]);
    }
}

double ss_schedule_eval_in(const ss_schedule *s, double ta, double t)
{
    if (s->kind == SS_SCHED_STEPS)
        return ss_schedule_eval(s, ta);
    return ss_schedule_eval(s, t);
}

double ss_schedule_min(const ss_schedule *s)
{
    double m;
    size_t i;
    if (s->kind == SS_SCHED_CONST)
        return s->value;
    m = s->v[0];
    for (i = 1; i < s->n; i++)
        if (s->v[i] < m)
            m = s->v[i];
    return m;
}

double ss_schedule_max(const ss_schedule *s)
{
    double m;
    size_t i;
    if (s->kind == SS_SCHED_CONST)
        return s->value;
    m = s->v[0];
    for (i = 1; i < s->n; i++)
        if (s->v[i] > m)
            m = s->v[i];
    return m;
}

int ss_schedule_is_const(const ss_schedule *s)
{
    return s->kind == SS_SCHED_CONST;
}
