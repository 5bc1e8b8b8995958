/*
 * select.c - output selectors ("share:alibaba:public@2028") and constraints
 * ("share:alibaba:public@2028 >= 0.25"): parsing, validation against a model
 * and evaluation on a run result, with linear interpolation between output
 * times.  Used by the sensitivity, calibration and optimisation modules.
 * Depends on result.h (metric name tables) and model.h (ids, time grid).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/io.h"
#include "stratsim/select.h"
#include "stratsim/suggest.h"

#define TIME_EPS 1e-9


/* Copy s without leading/trailing white space into dst (size n); -1 if too long. */
static int copy_trim(char *dst, size_t n, const char *s, size_t len)
{
    while (len > 0 && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= n)
        return -1;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

/* Set the metric and kind from a name and the presence of ids. */
static int set_metric(ss_selector *o, const char *name, int has_p, int has_s, ss_err *err)
{
    int ps = ss_metric_ps_parse(name), p = ss_metric_p_parse(name), s = ss_metric_s_parse(name);
    const char *what = o->text;

    if (ps < 0 && p < 0 && s < 0 && !has_p && !has_s) {
        /* a user stock or derived metric, by name (checked on the result) */
        if (strlen(name) > SS_SELECTOR_ID_MAX)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': metric name too long", what);
        o->kind = SS_SEL_X;
        o->metric = -1;
        strcpy(o->extra, name);
        return SS_OK;
    }
    if (ps < 0 && p < 0 && s < 0) {
        static const char *const names[] = {
            "share", "target_share", "revenue", "gross_margin", "capability", "gross_profit",
            "operating_profit", "investment", "reliability", "npv", "size", "hhi", NULL
        };
        char sug[96];
        ss_suggest(name, names, (size_t)-1, sug, sizeof sug);
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': unknown metric '%s'%s "
                          "(share, target_share, revenue, gross_margin, capability, gross_profit, "
                          "operating_profit, investment, reliability, npv, size, hhi)", what, name,
                          sug);
    }
    if (has_p && has_s) {
        if (ps < 0)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': metric '%s' is not per provider "
                              "and segment; write %s:<%s>", what, name, name,
                              p >= 0 ? "provider" : "segment");
        o->kind = SS_SEL_PS;
        o->metric = ps;
    } else if (has_p) {
        if (p < 0)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': metric '%s' is not per provider; "
                              "write %s", what, name, ps >= 0 ? "METRIC:<provider>:<segment>"
                              : "METRIC:<segment>");
        o->kind = SS_SEL_P;
        o->metric = p;
    } else if (has_s) {
        if (s < 0)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': metric '%s' is not per segment; "
                              "write %s", what, name, ps >= 0 ? "METRIC:<provider>:<segment>"
                              : "METRIC:<provider>");
        o->kind = SS_SEL_S;
        o->metric = s;
    } else {
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': metric '%s' needs %s", what, name,
                          ps >= 0 ? "a provider and a segment (METRIC:<provider>:<segment>)"
                          : p >= 0 ? "a provider (METRIC:<provider>)" : "a segment (METRIC:<segment>)");
    }
    return SS_OK;
}

/* Parse the part after '@'. */
static int parse_when(ss_selector *o, const char *w, ss_err *err)
{
    if (strcmp(w, "each") == 0)
        o->when = SS_SEL_EACH;
    else if (strcmp(w, "end") == 0)
        o->when = SS_SEL_LAST;
    else if (strcmp(w, "start") == 0)
        o->when = SS_SEL_FIRST;
    else if (ss_parse_double(w, &o->t) == 0)
        o->when = SS_SEL_AT;
    else
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': time '%s' after '@' is not a number, "
                          "'each', 'start' or 'end'", o->text, w);
    return SS_OK;
}

int ss_selector_parse(ss_selector *out, const char *text, ss_err *err)
{
    char buf[SS_SELECTOR_MAX + 1], *at, *parts[4], *p;
    int n = 0, i, rc;

    memset(out, 0, sizeof *out);
    out->when = SS_SEL_LAST;
    if (!text || copy_trim(out->text, sizeof out->text, text, strlen(text)))
        return ss_err_set(err, SS_EINVAL, "", "selector too long (at most %d bytes)", SS_SELECTOR_MAX);
    if (!out->text[0])
        return ss_err_set(err, SS_EINVAL, "", "empty selector (expected METRIC:ID[:ID][@TIME])");
    strcpy(buf, out->text);
    at = strchr(buf, '@');
    if (at) {
        char when[SS_SELECTOR_MAX + 1];
        *at = '\0';
        copy_trim(when, sizeof when, at + 1, strlen(at + 1));
        if (!when[0])
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': nothing after '@' "
                              "(a time, 'each', 'start' or 'end')", out->text);
        if ((rc = parse_when(out, when, err)))
            return rc;
    }
    p = buf;
    while (n < 4) {
        parts[n++] = p;
        p = strchr(p, ':');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (p || (n < 2 && (ss_metric_ps_parse(parts[0]) >= 0 || ss_metric_p_parse(parts[0]) >= 0 ||
                        ss_metric_s_parse(parts[0]) >= 0)))
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': expected METRIC:PROVIDER:SEGMENT, "
                          "METRIC:PROVIDER or METRIC:SEGMENT, optionally followed by @TIME", out->text);
    for (i = 0; i < n; i++) {
        char tmp[SS_SELECTOR_MAX + 1];
        copy_trim(tmp, sizeof tmp, parts[i], strlen(parts[i]));
        if (!tmp[0])
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': empty %s", out->text,
                              i == 0 ? "metric name" : "id");
        if (i > 0 && strlen(tmp) > SS_SELECTOR_ID_MAX)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': id too long", out->text);
        strcpy(parts[i], tmp);
    }
    if (n == 3) {
        strcpy(out->provider, parts[1]);
        strcpy(out->segment, parts[2]);
        return set_metric(out, parts[0], 1, 1, err);
    }
    /* one id: a provider or a segment, depending on the metric */
    if (ss_metric_p_parse(parts[0]) >= 0) {
        strcpy(out->provider, parts[1]);
        return set_metric(out, parts[0], 1, 0, err);
    }
    if (ss_metric_s_parse(parts[0]) >= 0) {
        strcpy(out->segment, parts[1]);
        return set_metric(out, parts[0], 0, 1, err);
    }
    /* no id: a user stock or derived metric; an unknown metric with an id is an error */
    return set_metric(out, parts[0], 0, n == 2 && ss_metric_ps_parse(parts[0]) < 0, err);
}

int ss_selector_make(ss_selector *out, const char *metric, const char *provider,
                     const char *segment, ss_sel_when when, double t, ss_err *err)
{
    int has_p = provider && *provider, has_s = segment && *segment, len;
    char tbuf[64];

    memset(out, 0, sizeof *out);
    if (!metric || !*metric)
        return ss_err_set(err, SS_EINVAL, "", "empty metric name");
    if ((has_p && strlen(provider) > SS_SELECTOR_ID_MAX) || (has_s && strlen(segment) > SS_SELECTOR_ID_MAX))
        return ss_err_set(err, SS_EINVAL, "", "id too long (at most %d bytes)", SS_SELECTOR_ID_MAX);
    if (has_p)
        strcpy(out->provider, provider);
    if (has_s)
        strcpy(out->segment, segment);
    out->when = when;
    out->t = t;
    switch (when) {
    case SS_SEL_AT: snprintf(tbuf, sizeof tbuf, "@%.10g", t); break;
    case SS_SEL_EACH: snprintf(tbuf, sizeof tbuf, "@each"); break;
    case SS_SEL_FIRST: snprintf(tbuf, sizeof tbuf, "@start"); break;
    default: tbuf[0] = '\0'; break;
    }
    len = snprintf(out->text, sizeof out->text, "%s%s%s%s%s%s", metric,
                   has_p ? ":" : "", has_p ? provider : "", has_s ? ":" : "",
                   has_s ? segment : "", tbuf);
    if (len < 0 || (size_t)len >= sizeof out->text)
        return ss_err_set(err, SS_EINVAL, "", "selector too long (at most %d bytes)", SS_SELECTOR_MAX);
    if (when == SS_SEL_AT && !isfinite(t))
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': time must be finite", out->text);
    return set_metric(out, metric, has_p, has_s, err);
}

/* " (did you mean 'x'?)" for the closest provider or segment id of m. */
static const char *suggest_id(char *buf, size_t size, const ss_model *m, int providers,
                              const char *name)
{
    size_t i, n = providers ? m->nprov : m->nseg;
    int best = 3;
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *id = providers ? m->prov[i].id : m->seg[i].id;
        int d = id ? ss_edit_distance(name, id, 2) : 3;
        if (d < best) {
            best = d;
            snprintf(buf, size, " (did you mean '%s'?)", id);
        }
    }
    return buf;
}

int ss_selector_validate(const ss_selector *sel, const ss_model *m, ss_err *err)
{
    char sug[96];
    if (sel->kind == SS_SEL_X) {
        if (sel->when == SS_SEL_AT && (sel->t < m->t0 - TIME_EPS || sel->t > m->t1 + TIME_EPS))
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': time %.10g is outside the "
                              "simulated range [%.10g, %.10g]", sel->text, sel->t, m->t0, m->t1);
        return SS_OK;
    }
    if (sel->kind != SS_SEL_S && ss_model_provider_index(m, sel->provider) < 0)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': unknown provider '%s'%s",
                          sel->text, sel->provider, suggest_id(sug, sizeof sug, m, 1, sel->provider));
    if (sel->kind != SS_SEL_P && ss_model_segment_index(m, sel->segment) < 0)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': unknown segment '%s'%s",
                          sel->text, sel->segment, suggest_id(sug, sizeof sug, m, 0, sel->segment));
    if (sel->when == SS_SEL_AT && (sel->t < m->t0 - TIME_EPS || sel->t > m->t1 + TIME_EPS))
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': time %.10g is outside the "
                          "simulated range [%.10g, %.10g]", sel->text, sel->t, m->t0, m->t1);
    return SS_OK;
}

/* Provider and segment indices of the selector in result r. */
static int indices(long *pi, long *ki, const ss_selector *sel, const ss_result *r, ss_err *err)
{
    *pi = *ki = 0;
    if (sel->kind == SS_SEL_X) {
        *pi = ss_result_id_index(r->extra_names, r->nextra, sel->extra);
        if (*pi < 0)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': unknown metric '%s' (not a built-in "
                              "metric, user stock or derived metric of the scenario)", sel->text,
                              sel->extra);
        if (r->nt == 0)
            return ss_err_set(err, SS_EINVAL, "", "selector '%s': the result has no output times", sel->text);
        return SS_OK;
    }
    if (sel->kind != SS_SEL_S && (*pi = ss_result_id_index(r->prov_ids, r->np, sel->provider)) < 0)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': the result has no provider '%s'",
                          sel->text, sel->provider);
    if (sel->kind != SS_SEL_P && (*ki = ss_result_id_index(r->seg_ids, r->nk, sel->segment)) < 0)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': the result has no segment '%s'",
                          sel->text, sel->segment);
    if (r->nt == 0)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': the result has no output times", sel->text);
    return SS_OK;
}

static double value_at(const ss_selector *sel, const ss_result *r, size_t ti, long i, long k)
{
    switch (sel->kind) {
    case SS_SEL_PS: return SS_RESULT_PS(r, ti, sel->metric, i, k);
    case SS_SEL_P: return SS_RESULT_P(r, ti, sel->metric, i);
    case SS_SEL_X: return r->extra[ti * r->nextra + (size_t)i];
    default: return SS_RESULT_S(r, ti, sel->metric, k);
    }
}

/* Value at time t: exact at an output time, else linear between neighbours. */
static int interp(double *out, const ss_selector *sel, const ss_result *r, long i, long k,
                  double t, ss_err *err)
{
    size_t lo, hi;
    long ti = ss_result_time_index(r, t);
    double w;

    if (ti >= 0) {
        *out = value_at(sel, r, (size_t)ti, i, k);
        return SS_OK;
    }
    if (!(t >= r->t[0] && t <= r->t[r->nt - 1]))
        return ss_err_set(err, SS_EINVAL, "", "selector '%s': time %.10g is outside the output "
                          "range [%.10g, %.10g]", sel->text, t, r->t[0], r->t[r->nt - 1]);
    lo = 0;
    hi = r->nt - 1;
    while (hi - lo > 1) {          /* r->t[lo] < t < r->t[hi] */
        size_t mid = lo + (hi - lo) / 2;
        if (r->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    w = (t - r->t[lo]) / (r->t[hi] - r->t[lo]);
    *out = (1.0 - w) * value_at(sel, r, lo, i, k) + w * value_at(sel, r, hi, i, k);
    return SS_OK;
}

int ss_selector_eval_at(double *out, const ss_selector *sel, const ss_result *r,
                        double t, ss_err *err)
{
    long i, k;
    int rc = indices(&i, &k, sel, r, err);
    if (rc)
        return rc;
    return interp(out, sel, r, i, k, t, err);
}

int ss_selector_eval(double *out, const ss_selector *sel, const ss_result *r, ss_err *err)
{
    long i, k;
    int rc;
    if (sel->when == SS_SEL_EACH)
        return ss_err_set(err, SS_EINVAL, "", "selector '%s' gives one value per output time "
                          "where a single value is needed", sel->text);
    if ((rc = indices(&i, &k, sel, r, err)))
        return rc;
    if (sel->when == SS_SEL_LAST)
        *out = value_at(sel, r, r->nt - 1, i, k);
    else if (sel->when == SS_SEL_FIRST)
        *out = value_at(sel, r, 0, i, k);
    else
        return interp(out, sel, r, i, k, sel->t, err);
    return SS_OK;
}

int ss_selector_eval_series(double *out, const ss_selector *sel, const ss_result *r,
                            ss_err *err)
{
    long i, k;
    size_t ti;
    int rc = indices(&i, &k, sel, r, err);
    if (rc)
        return rc;
    for (ti = 0; ti < r->nt; ti++)
        out[ti] = value_at(sel, r, ti, i, k);
    return SS_OK;
}

int ss_constraint_parse(ss_constraint *out, const char *text, ss_err *err)
{
    char buf[SS_SELECTOR_MAX + 1], num[SS_SELECTOR_MAX + 1];
    const char *ge, *le, *op;
    int rc;

    memset(out, 0, sizeof *out);
    if (!text || copy_trim(out->text, sizeof out->text, text, strlen(text)))
        return ss_err_set(err, SS_EINVAL, "", "constraint too long (at most %d bytes)", SS_SELECTOR_MAX);
    ge = strstr(out->text, ">=");
    le = strstr(out->text, "<=");
    if ((ge && le) || (!ge && !le))
        return ss_err_set(err, SS_EINVAL, "", "constraint '%s': expected 'SELECTOR >= VALUE' or "
                          "'SELECTOR <= VALUE'", out->text);
    op = ge ? ge : le;
    out->op = ge ? SS_CMP_GE : SS_CMP_LE;
    copy_trim(buf, sizeof buf, out->text, (size_t)(op - out->text));
    copy_trim(num, sizeof num, op + 2, strlen(op + 2));
    if (!num[0] || ss_parse_double(num, &out->bound))
        return ss_err_set(err, SS_EINVAL, "", "constraint '%s': '%s' after '%s' is not a finite number",
                          out->text, num, ge ? ">=" : "<=");
    if ((rc = ss_selector_parse(&out->sel, buf, err))) {
        char msg[sizeof err->msg];
        if (err) {
            snprintf(msg, sizeof msg, "%s", err->msg);
            ss_err_set(err, rc, "", "constraint '%s': %s", out->text, msg);
        }
        return rc;
    }
    return SS_OK;
}

int ss_constraint_validate(const ss_constraint *c, const ss_model *m, ss_err *err)
{
    return ss_selector_validate(&c->sel, m, err);
}

/* Violation of one value (>= 0). */
static double violation(const ss_constraint *c, double v)
{
    double d = c->op == SS_CMP_GE ? c->bound - v : v - c->bound;
    return d > 0.0 ? d : 0.0;
}

int ss_constraint_eval(ss_constraint_value *out, const ss_constraint *c,
                       const ss_result *r, ss_err *err)
{
    int rc;
    if (c->sel.when == SS_SEL_EACH) {
        double *v = malloc((r->nt ? r->nt : 1) * sizeof *v), worst;
        size_t ti;
        if (!v)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        if ((rc = ss_selector_eval_series(v, &c->sel, r, err))) {
            free(v);
            return rc;
        }
        worst = NAN;
        out->sq = 0.0;
        for (ti = 0; ti < r->nt; ti++) {
            double d = violation(c, v[ti]);
            out->sq += d * d;
            if (ti == 0 || (c->op == SS_CMP_GE ? v[ti] < worst : v[ti] > worst))
                worst = v[ti];
        }
        free(v);
        out->value = worst;
        out->violation = violation(c, worst);
        return SS_OK;
    }
    if ((rc = ss_selector_eval(&out->value, &c->sel, r, err)))
        return rc;
    out->violation = violation(c, out->value);
    out->sq = out->violation * out->violation;
    return SS_OK;
}

int ss_constraint_holds(const ss_constraint_value *v, double tol)
{
    return v->violation <= tol;
}
