/*
 * sidecar.c - the JSON sidecar written beside every output file (docs/cli.md).
 *
 * It records the stratsim version, how the run was made (command, scenario
 * file and its SHA-256, --set overrides, layout, sandbox state) and a full
 * dump of every resolved model: time grid, discount rate, solver settings,
 * every segment and provider field (schedules as {"kind":"const","value":x}
 * or {"kind":"steps"|"linear","knots":[[t,v],...]}, per-segment values as
 * objects keyed by segment id) and the events, plus the analysis settings a
 * caller passes as a JSON object (ss_sidecar_info.extra_json: Monte Carlo
 * seed and distributions, ...).  The document is built with
 * cJSON; numbers are inserted as raw text from ss_fmt_double() so they read
 * back bit-exactly (cJSON's own number printing keeps only 15 digits).
 * A non-finite number is an SS_EINVAL error naming its key path; an
 * allocation failure is SS_ENOMEM; a write failure is SS_EIO.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "stratsim/io.h"
#include "stratsim/sim.h"

typedef struct {
    ss_err *err;
    const char *scenario; /* name of the model being dumped, for messages */
    char path[256];       /* key path of the value being added */
    size_t len;
} sc_ctx;

/* Append to the key path; returns the previous length for sc_pop(). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static size_t sc_push(sc_ctx *c, const char *fmt, ...)
{
    size_t old = c->len;
    if (c->len < sizeof c->path) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
        va_end(ap);
        if (n > 0)
            c->len += (size_t)n;
        if (c->len >= sizeof c->path)
            c->len = sizeof c->path - 1;
    }
    return old;
}

static void sc_pop(sc_ctx *c, size_t old)
{
    c->len = old;
    c->path[old] = '\0';
}

static int sc_nomem(sc_ctx *c)
{
    return ss_err_set(c->err, SS_ENOMEM, c->path, "out of memory writing the sidecar");
}

/* Add item to an object (key != NULL) or an array; takes ownership of item. */
static int sc_attach(sc_ctx *c, cJSON *parent, const char *key, cJSON *item)
{
    if (item == NULL)
        return sc_nomem(c);
    cJSON_bool ok = key ? cJSON_AddItemToObject(parent, key, item)
                        : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        cJSON_Delete(item);
        return sc_nomem(c);
    }
    return SS_OK;
}

/* Add a number under key (or to an array), exact via ss_fmt_double(). */
static int sc_num(sc_ctx *c, cJSON *parent, const char *key, double x)
{
    size_t old = key ? sc_push(c, "%s%s", c->len ? "." : "", key) : c->len;
    int rc;
    if (!isfinite(x)) {
        rc = ss_err_set(c->err, SS_EINVAL, c->path,
                        "sidecar: non-finite value at %s in scenario '%s'",
                        c->path, c->scenario ? c->scenario : "");
    } else {
        char buf[64];
        ss_fmt_double(buf, sizeof buf, x);
        rc = sc_attach(c, parent, key, cJSON_CreateRaw(buf));
    }
    sc_pop(c, old);
    return rc;
}

static int sc_str(sc_ctx *c, cJSON *parent, const char *key, const char *s)
{
    return sc_attach(c, parent, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

static int sc_bool(sc_ctx *c, cJSON *parent, const char *key, int b)
{
    return sc_attach(c, parent, key, cJSON_CreateBool(b != 0));
}

/* Create an empty object/array and attach it; *out gets it (owned by parent). */
static int sc_container(sc_ctx *c, cJSON *parent, const char *key, int array,
                        cJSON **out)
{
    cJSON *o = array ? cJSON_CreateArray() : cJSON_CreateObject();
    *out = o;
    return sc_attach(c, parent, key, o);
}

static const char *sc_sched_kind(ss_sched_kind k)
{
    switch (k) {
    case SS_SCHED_CONST: return "const";
    case SS_SCHED_STEPS: return "steps";
    case SS_SCHED_LINEAR: return "linear";
    }
    return "unknown";
}

static int sc_sched(sc_ctx *c, cJSON *parent, const char *key, const ss_schedule *s)
{
    cJSON *o, *knots, *pair;
    size_t old = sc_push(c, "%s%s", c->len ? "." : "", key);
    int rc = sc_container(c, parent, key, 0, &o);
    if (rc == SS_OK && s->kind != SS_SCHED_CONST && s->kind != SS_SCHED_STEPS &&
        s->kind != SS_SCHED_LINEAR)
        rc = ss_err_set(c->err, SS_EINVAL, c->path,
                        "sidecar: unknown schedule kind %d at %s", (int)s->kind, c->path);
    if (rc == SS_OK)
        rc = sc_str(c, o, "kind", sc_sched_kind(s->kind));
    if (rc == SS_OK && s->kind == SS_SCHED_CONST)
        rc = sc_num(c, o, "value", s->value);
    else if (rc == SS_OK) {
        rc = sc_container(c, o, "knots", 1, &knots);
        for (size_t i = 0; rc == SS_OK && i < s->n; i++) {
            size_t o2 = sc_push(c, ".knots[%zu]", i);
            rc = sc_container(c, knots, NULL, 1, &pair);
            if (rc == SS_OK)
                rc = sc_num(c, pair, NULL, s->t[i]);
            if (rc == SS_OK)
                rc = sc_num(c, pair, NULL, s->v[i]);
            sc_pop(c, o2);
        }
    }
    sc_pop(c, old);
    return rc;
}

/* Per-segment values as an object keyed by segment id. */
static int sc_segnums(sc_ctx *c, cJSON *parent, const char *key,
                      const ss_model *m, const double *v)
{
    cJSON *o;
    size_t old = sc_push(c, "%s%s", c->len ? "." : "", key);
    int rc = sc_container(c, parent, key, 0, &o);
    for (size_t k = 0; rc == SS_OK && k < m->nseg; k++)
        rc = sc_num(c, o, m->seg[k].id, v[k]);
    sc_pop(c, old);
    return rc;
}

static int sc_segscheds(sc_ctx *c, cJSON *parent, const char *key,
                        const ss_model *m, const ss_schedule *s)
{
    cJSON *o;
    size_t old = sc_push(c, "%s%s", c->len ? "." : "", key);
    int rc = sc_container(c, parent, key, 0, &o);
    for (size_t k = 0; rc == SS_OK && k < m->nseg; k++)
        rc = sc_sched(c, o, m->seg[k].id, &s[k]);
    sc_pop(c, old);
    return rc;
}

static int sc_segbools(sc_ctx *c, cJSON *parent, const char *key,
                       const ss_model *m, const unsigned char *b)
{
    cJSON *o;
    int rc = sc_container(c, parent, key, 0, &o);
    for (size_t k = 0; rc == SS_OK && k < m->nseg; k++)
        rc = sc_bool(c, o, m->seg[k].id, b ? b[k] : 0);
    return rc;
}

static int sc_segment(sc_ctx *c, cJSON *arr, const ss_segment *s)
{
    cJSON *o, *bass;
    size_t old = sc_push(c, "segments.%s", s->id);
    int rc = sc_container(c, arr, NULL, 0, &o);
    if (rc == SS_OK) rc = sc_str(c, o, "id", s->id);
    if (rc == SS_OK) rc = sc_num(c, o, "size", s->size);
    if (rc == SS_OK) rc = sc_sched(c, o, "growth", &s->growth);
    if (rc == SS_OK && s->has_bass) {
        size_t o2 = sc_push(c, ".bass");
        rc = sc_container(c, o, "bass", 0, &bass);
        if (rc == SS_OK) rc = sc_num(c, bass, "p", s->bass_p);
        if (rc == SS_OK) rc = sc_num(c, bass, "q", s->bass_q);
        if (rc == SS_OK) rc = sc_num(c, bass, "potential", s->bass_potential);
        sc_pop(c, o2);
    }
    if (rc == SS_OK) rc = sc_num(c, o, "tau", s->tau);
    if (rc == SS_OK) rc = sc_num(c, o, "beta_capability", s->beta_capability);
    if (rc == SS_OK) rc = sc_num(c, o, "beta_price", s->beta_price);
    if (rc == SS_OK) rc = sc_num(c, o, "beta_reliability", s->beta_reliability);
    if (rc == SS_OK) rc = sc_num(c, o, "learning", s->learning);
    if (rc == SS_OK) rc = sc_num(c, o, "efficiency", s->efficiency);
    if (rc == SS_OK) rc = sc_num(c, o, "depreciation", s->depreciation);
    sc_pop(c, old);
    return rc;
}

static int sc_provider(sc_ctx *c, cJSON *arr, const ss_model *m, const ss_provider *p)
{
    cJSON *o;
    size_t old = sc_push(c, "providers.%s", p->id);
    int rc = sc_container(c, arr, NULL, 0, &o);
    if (rc == SS_OK) rc = sc_str(c, o, "id", p->id);
    if (rc == SS_OK) rc = sc_segnums(c, o, "share", m, p->share);
    if (rc == SS_OK) rc = sc_segnums(c, o, "margin", m, p->margin);
    if (rc == SS_OK) rc = sc_segnums(c, o, "opex", m, p->opex);
    if (rc == SS_OK) rc = sc_num(c, o, "fixed_cost", p->fixed_cost);
    if (rc == SS_OK) rc = sc_sched(c, o, "reinvest", &p->reinvest);
    if (rc == SS_OK) rc = sc_segscheds(c, o, "allocation", m, p->allocation);
    if (rc == SS_OK) rc = sc_bool(c, o, "allocation_given", p->allocation_given);
    if (rc == SS_OK) rc = sc_segscheds(c, o, "price", m, p->price);
    if (rc == SS_OK) rc = sc_segscheds(c, o, "participation", m, p->participation);
    if (rc == SS_OK) rc = sc_segscheds(c, o, "lever", m, p->lever);
    if (rc == SS_OK) rc = sc_num(c, o, "reliability", p->reliability);
    if (rc == SS_OK) rc = sc_num(c, o, "recovery", p->recovery);
    if (rc == SS_OK) rc = sc_segnums(c, o, "capability", m, p->capability);
    if (rc == SS_OK) rc = sc_segbools(c, o, "capability_given", m, p->capability_given);
    if (rc == SS_OK) rc = sc_segnums(c, o, "brand", m, p->brand);
    if (rc == SS_OK) rc = sc_segbools(c, o, "brand_given", m, p->brand_given);
    if (rc == SS_OK) rc = sc_num(c, o, "experience", p->experience);
    sc_pop(c, old);
    return rc;
}

static int sc_event(sc_ctx *c, cJSON *arr, const ss_model *m, size_t j)
{
    const ss_event *e = &m->ev[j];
    cJSON *o, *vals;
    size_t old = sc_push(c, "events[%zu]", j);
    int rc = sc_container(c, arr, NULL, 0, &o);
    int need_prov = e->kind == SS_EV_OUTAGE || e->kind == SS_EV_SET;

    if (rc == SS_OK && e->kind != SS_EV_OUTAGE && e->kind != SS_EV_SET &&
        e->kind != SS_EV_MARKET)
        rc = ss_err_set(c->err, SS_EINVAL, c->path, "sidecar: %s: unknown event kind %d",
                        c->path, (int)e->kind);
    if (rc == SS_OK && need_prov && (e->provider < 0 || (size_t)e->provider >= m->nprov))
        rc = ss_err_set(c->err, SS_EINVAL, c->path, "sidecar: %s: bad provider index %d",
                        c->path, e->provider);
    if (rc == SS_OK && e->kind == SS_EV_MARKET &&
        (e->segment < 0 || (size_t)e->segment >= m->nseg))
        rc = ss_err_set(c->err, SS_EINVAL, c->path, "sidecar: %s: bad segment index %d",
                        c->path, e->segment);
    if (rc == SS_OK && e->kind == SS_EV_SET &&
        ((int)e->field < 0 || (int)e->field >= SS_NFIELDS))
        rc = ss_err_set(c->err, SS_EINVAL, c->path, "sidecar: %s: bad field %d",
                        c->path, (int)e->field);

    if (rc == SS_OK) rc = sc_num(c, o, "t", e->t);
    if (rc != SS_OK)
        goto out;
    switch (e->kind) {
    case SS_EV_OUTAGE:
        rc = sc_str(c, o, "kind", "outage");
        if (rc == SS_OK) rc = sc_str(c, o, "provider", m->prov[e->provider].id);
        if (rc == SS_OK) rc = sc_num(c, o, "severity", e->amount);
        break;
    case SS_EV_MARKET:
        rc = sc_str(c, o, "kind", "market");
        if (rc == SS_OK) rc = sc_str(c, o, "segment", m->seg[e->segment].id);
        if (rc == SS_OK) rc = sc_num(c, o, "factor", e->amount);
        break;
    case SS_EV_SET:
        rc = sc_str(c, o, "kind", "set");
        if (rc == SS_OK) rc = sc_str(c, o, "provider", m->prov[e->provider].id);
        if (rc == SS_OK) rc = sc_str(c, o, "field", ss_field_name(e->field));
        if (rc == SS_OK && e->field == SS_FIELD_REINVEST)
            rc = sc_num(c, o, "value", e->amount);
        else if (rc == SS_OK) {
            size_t o2 = sc_push(c, ".value");
            rc = sc_container(c, o, "value", 0, &vals);
            for (size_t k = 0; rc == SS_OK && e->values && k < m->nseg; k++)
                if (e->mask == NULL || e->mask[k])
                    rc = sc_num(c, vals, m->seg[k].id, e->values[k]);
            sc_pop(c, o2);
        }
        break;
    }
    if (rc == SS_OK && e->line > 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", e->line);
        rc = sc_attach(c, o, "line", cJSON_CreateRaw(buf));
    }
out:
    sc_pop(c, old);
    return rc;
}

/* One intervention: its parameter path, the base schedule and the new one. */
static int sc_intervention(sc_ctx *c, cJSON *arr, const ss_model *m, size_t i, size_t j)
{
    ss_provider *p = (ss_provider *)&m->prov[i];
    cJSON *o;
    char path[512];
    int k, rc;
    ss_field f = ss_decision_field(j, m->nseg, &k);
    size_t old = sc_push(c, "interventions[%d]", cJSON_GetArraySize(arr));
    if (k < 0)
        snprintf(path, sizeof path, "providers.%s.%s", p->id, ss_field_name(f));
    else
        snprintf(path, sizeof path, "providers.%s.%s.%s", p->id, ss_field_name(f), m->seg[k].id);
    rc = sc_container(c, arr, NULL, 0, &o);
    if (rc == SS_OK) rc = sc_str(c, o, "path", path);
    if (rc == SS_OK) rc = sc_sched(c, o, "base", ss_provider_decision(p, j, m->nseg));
    if (rc == SS_OK) rc = sc_sched(c, o, "value", &p->iv[j]);
    sc_pop(c, old);
    return rc;
}

static int sc_model(sc_ctx *c, cJSON *arr, const ss_model *m)
{
    cJSON *o, *t, *sv, *a;
    int rc;
    char buf[32];

    c->scenario = m->name;
    for (size_t k = 0; k < m->nseg; k++)
        if (m->seg[k].id == NULL)
            return ss_err_set(c->err, SS_EINVAL, "", "sidecar: segment %zu has no id", k + 1);
    for (size_t i = 0; i < m->nprov; i++)
        if (m->prov[i].id == NULL)
            return ss_err_set(c->err, SS_EINVAL, "", "sidecar: provider %zu has no id", i + 1);

    rc = sc_container(c, arr, NULL, 0, &o);
    if (rc == SS_OK) rc = sc_str(c, o, "name", m->name);
    if (rc == SS_OK) {
        size_t old = sc_push(c, "time");
        rc = sc_container(c, o, "time", 0, &t);
        if (rc == SS_OK) rc = sc_num(c, t, "start", m->t0);
        if (rc == SS_OK) rc = sc_num(c, t, "stop", m->t1);
        if (rc == SS_OK) rc = sc_num(c, t, "step", m->step);
        if (rc == SS_OK) rc = sc_num(c, t, "epoch", m->epoch);
        if (rc == SS_OK && (m->policy_given || ss_model_interventions(m) > 0))
            rc = sc_num(c, t, "policy", ss_model_policy_time(m));
        sc_pop(c, old);
    }
    if (rc == SS_OK) rc = sc_num(c, o, "discount_rate", m->discount_rate);
    if (rc == SS_OK) {
        size_t old = sc_push(c, "solver");
        const char *name = ss_solver_name(m->solver.method);
        rc = sc_container(c, o, "solver", 0, &sv);
        if (rc == SS_OK) rc = sc_str(c, sv, "method", name ? name : "unknown");
        if (rc == SS_OK) rc = sc_num(c, sv, "rtol", m->solver.rtol);
        if (rc == SS_OK) rc = sc_num(c, sv, "atol", m->solver.atol);
        if (rc == SS_OK) rc = sc_num(c, sv, "h", m->solver.h);
        if (rc == SS_OK) rc = sc_num(c, sv, "hmin", m->solver.hmin);
        if (rc == SS_OK) {
            snprintf(buf, sizeof buf, "%lu", m->solver.max_steps);
            rc = sc_attach(c, sv, "max_steps", cJSON_CreateRaw(buf));
        }
        sc_pop(c, old);
    }
    if (rc == SS_OK) rc = sc_bool(c, o, "resolved", m->resolved);
    if (rc == SS_OK) rc = sc_container(c, o, "segments", 1, &a);
    for (size_t k = 0; rc == SS_OK && k < m->nseg; k++)
        rc = sc_segment(c, a, &m->seg[k]);
    if (rc == SS_OK) rc = sc_container(c, o, "providers", 1, &a);
    for (size_t i = 0; rc == SS_OK && i < m->nprov; i++)
        rc = sc_provider(c, a, m, &m->prov[i]);
    if (rc == SS_OK) rc = sc_container(c, o, "events", 1, &a);
    for (size_t j = 0; rc == SS_OK && j < m->nev; j++)
        rc = sc_event(c, a, m, j);
    if (rc == SS_OK) rc = sc_container(c, o, "interventions", 1, &a);
    for (size_t i = 0; rc == SS_OK && i < m->nprov; i++)
        for (size_t j = 0; rc == SS_OK && j < SS_DECISION_SLOTS(m->nseg); j++)
            if (m->prov[i].iv_on[j])
                rc = sc_intervention(c, a, m, i, j);
    return rc;
}

/* Rewrite every number below `item` as raw ss_fmt_double() text (cJSON's
 * own printer is only accurate to about 1 ulp and follows the locale). */
static int sc_exact_numbers(sc_ctx *c, cJSON *item)
{
    cJSON *child = item->child;
    while (child != NULL) {
        cJSON *next = child->next;
        if (cJSON_IsNumber(child)) {
            char buf[64];
            cJSON *raw;
            if (!isfinite(child->valuedouble))
                return ss_err_set(c->err, SS_EINVAL, "", "sidecar: non-finite number in the "
                                  "analysis settings%s%s", child->string ? " at " : "",
                                  child->string ? child->string : "");
            ss_fmt_double(buf, sizeof buf, child->valuedouble);
            raw = cJSON_CreateRaw(buf);
            if (raw == NULL)
                return sc_nomem(c);
            /* the member name moves to the replacement (ViaPointer keeps none) */
            raw->string = child->string;
            raw->type |= child->type & cJSON_StringIsConst;
            child->string = NULL;
            if (!cJSON_ReplaceItemViaPointer(item, child, raw)) {
                child->string = raw->string;
                raw->string = NULL;
                cJSON_Delete(raw);
                return sc_nomem(c);
            }
        } else if (cJSON_IsArray(child) || cJSON_IsObject(child)) {
            int rc = sc_exact_numbers(c, child);
            if (rc != SS_OK)
                return rc;
        }
        child = next;
    }
    return SS_OK;
}

/* Merge the members of the JSON object text `json` into root (after the
 * fixed members); a name already present is an error. */
static int sc_extra(sc_ctx *c, cJSON *root, const char *json)
{
    const char *end = NULL;
    cJSON *extra = cJSON_ParseWithLengthOpts(json, strlen(json) + 1, &end, 1); /* with the NUL */
    int rc;
    if (extra == NULL || !cJSON_IsObject(extra)) {
        cJSON_Delete(extra);
        return ss_err_set(c->err, SS_EINVAL, "", "sidecar: the analysis settings are not a "
                          "JSON object (at offset %ld)", end ? (long)(end - json) : 0L);
    }
    rc = sc_exact_numbers(c, extra);
    while (rc == SS_OK && extra->child != NULL) {
        cJSON *item = cJSON_DetachItemViaPointer(extra, extra->child);
        if (item->string == NULL || cJSON_GetObjectItemCaseSensitive(root, item->string)) {
            rc = ss_err_set(c->err, SS_EINVAL, "", "sidecar: analysis setting '%s' is already "
                            "a sidecar member", item->string ? item->string : "");
            cJSON_Delete(item);
        } else if (!cJSON_AddItemToObject(root, item->string, item)) {
            cJSON_Delete(item);
            rc = sc_nomem(c);
        }
    }
    cJSON_Delete(extra);
    return rc;
}

/* One {"scenario", "id", "unit"} of "stocks" (*arr created on first use;
 * unit null when NULL or empty). */
static int sc_stock(sc_ctx *c, cJSON *root, cJSON **arr, const char *scenario, const char *id,
                    const char *unit)
{
    cJSON *o;
    int rc;
    if (!*arr && (rc = sc_container(c, root, "stocks", 1, arr)) != SS_OK)
        return rc;
    if (!(o = cJSON_CreateObject()))
        return sc_nomem(c);
    cJSON_AddItemToArray(*arr, o);
    if (!cJSON_AddStringToObject(o, "scenario", scenario ? scenario : "") ||
        !cJSON_AddStringToObject(o, "id", id ? id : "") ||
        !(unit && unit[0] ? cJSON_AddStringToObject(o, "unit", unit) : cJSON_AddNullToObject(o, "unit")))
        return sc_nomem(c);
    return SS_OK;
}

/* "stocks": the user stocks of the results (the derived metrics have no
 * unit entry), else those of info's run options, with their units. */
static int sc_stocks(sc_ctx *c, cJSON *root, const ss_sidecar_info *info, const ss_model *m)
{
    const ss_run_opts *ro = info->results ? NULL : info->run_opts;
    cJSON *arr = NULL;
    size_t i, j;
    int rc = SS_OK;
    for (i = 0; rc == SS_OK && info->results && i < info->nresults; i++) {
        const ss_result *r = info->results[i];
        for (j = 0; rc == SS_OK && r && r->extra_units && j < r->nextra; j++)
            if (r->extra_units[j])
                rc = sc_stock(c, root, &arr, r->scenario, r->extra_names[j], r->extra_units[j]);
    }
    for (j = 0; rc == SS_OK && ro && m && j < ro->nstock; j++)
        rc = sc_stock(c, root, &arr, m->name, ro->stock_names[j],
                      ro->stock_units ? ro->stock_units[j] : NULL);
    return rc;
}

int ss_sidecar_write(FILE *f, const ss_sidecar_info *info,
                     const ss_model *const *models, size_t nmodels, ss_err *err)
{
    sc_ctx c;
    cJSON *root, *ov, *arr;
    int rc;

    memset(&c, 0, sizeof c);
    c.err = err;
    if (f == NULL || (nmodels > 0 && models == NULL))
        return ss_err_set(err, SS_EINVAL, "", "ss_sidecar_write: no stream or models");

    root = cJSON_CreateObject();
    if (root == NULL)
        return sc_nomem(&c);
    rc = sc_str(&c, root, "stratsim_version", ss_version());
    if (rc == SS_OK) rc = sc_str(&c, root, "created_by", "stratsim");
    if (rc == SS_OK) rc = sc_str(&c, root, "command", info ? info->command : NULL);
    if (rc == SS_OK) rc = sc_str(&c, root, "scenario_file", info ? info->scenario_file : NULL);
    if (rc == SS_OK)
        rc = sc_str(&c, root, "scenario_sha256", info ? info->scenario_sha256 : NULL);
    if (rc == SS_OK) rc = sc_container(&c, root, "overrides", 1, &ov);
    for (size_t j = 0; rc == SS_OK && info && info->overrides && j < info->noverrides; j++)
        rc = sc_str(&c, ov, NULL, info->overrides[j]);
    if (rc == SS_OK) rc = sc_str(&c, root, "layout", info ? info->layout : NULL);
    if (rc == SS_OK) rc = sc_bool(&c, root, "unsafe", info ? info->unsafe : 0);
    if (rc == SS_OK && info && info->extra_json) rc = sc_extra(&c, root, info->extra_json);
    if (rc == SS_OK && info) rc = sc_stocks(&c, root, info, nmodels ? models[0] : NULL);
    if (rc == SS_OK) rc = sc_container(&c, root, "scenarios", 1, &arr);
    for (size_t j = 0; rc == SS_OK && j < nmodels; j++) {
        if (models[j] == NULL)
            rc = ss_err_set(err, SS_EINVAL, "", "ss_sidecar_write: model %zu is NULL", j);
        else
            rc = sc_model(&c, arr, models[j]);
    }
    if (rc != SS_OK) {
        cJSON_Delete(root);
        return rc;
    }

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL)
        return sc_nomem(&c);
    errno = 0;
    int bad = fputs(text, f) == EOF || fputs("\n", f) == EOF || fflush(f) == EOF ||
              ferror(f);
    int e = errno;
    cJSON_free(text);
    if (bad)
        return ss_err_set(err, SS_EIO, "", "writing the sidecar failed: %s",
                          e ? strerror(e) : "write error");
    return SS_OK;
}
