/*
 * results_summary.c - summary() of the result objects: the tables the CLI
 * verbs (mc, sens, calibrate, optimize, sweep) print, as one string; and
 * la_gnum, the short number format they (and __tostring) use.
 *
 * Ownership: the text is built in a luaL_Buffer; nothing is allocated in C.
 * Depends on la_internal.h (the result boxes of results.c) and the core's
 * results.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "lua/analysis/la_internal.h"

static void addf(luaL_Buffer *B, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void addf(luaL_Buffer *B, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    luaL_addstring(B, buf);
}

/* A number in at most `digits` significant digits ("-0" shown as "0"). */
const char *la_gnum(double x, int digits, char *buf, size_t n)
{
    if (x == 0)
        x = 0; /* no "-0" */
    snprintf(buf, n, "%.*g", digits, x);
    return buf;
}

static void mc_summary_row(luaL_Buffer *B, const ss_mc_result *r, const char *label, int metric,
                           size_t t, size_t i, size_t k)
{
    size_t j, nq = ss_mc_result_nquantiles(r);
    char b[48];
#define MC_PICK(res) (metric == 0 ? SS_RESULT_PS(res, t, SS_PS_SHARE, i, k) \
                      : metric == 1 ? SS_RESULT_P(res, t, SS_P_OPERATING_PROFIT, i) \
                                    : SS_RESULT_P(res, t, SS_P_NPV, i))
#define MC_CELL(res) (metric == 0 ? (snprintf(b, sizeof b, "%.2f%%", 100 * MC_PICK(res) + 0.0), b) \
                      : la_gnum(MC_PICK(res), 6, b, sizeof b))
    if (MC_PICK(ss_mc_result_kept(r)) != 1.0)
        return; /* not kept (montecarlo{outputs = ...}) */
    addf(B, "  %-34s %12s", label, MC_CELL(ss_mc_result_mean(r)));
    addf(B, " %12s", MC_CELL(ss_mc_result_sd(r)));
    for (j = 0; j < nq; j++)
        addf(B, " %12s", MC_CELL(ss_mc_result_quantile(r, j)));
#undef MC_CELL
#undef MC_PICK
    luaL_addchar(B, '\n');
}

static void mc_summary(luaL_Buffer *B, const ss_mc_result *r)
{
    const ss_result *mean = ss_mc_result_mean(r);
    size_t nq = ss_mc_result_nquantiles(r), j, i, k, t = mean->nt - 1;
    char b[48], label[200];
    addf(B, "Monte Carlo: %s, %llu runs, seed %llu; values at t = %.10g\n\n", mean->scenario,
         (unsigned long long)ss_mc_result_runs(r), (unsigned long long)ss_mc_result_seed(r), mean->t[t]);
    addf(B, "  %-34s %12s %12s", "", "mean", "sd");
    for (j = 0; j < nq; j++) {
        ss_mc_quantile_name(b, sizeof b, ss_mc_result_quantile_level(r, j));
        addf(B, " %12s", b);
    }
    luaL_addchar(B, '\n');
    for (i = 0; i < mean->np; i++)
        for (k = 0; k < mean->nk; k++) {
            snprintf(label, sizeof label, "share %s %s", mean->prov_ids[i], mean->seg_ids[k]);
            mc_summary_row(B, r, label, 0, t, i, k);
        }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "operating_profit %s", mean->prov_ids[i]);
        mc_summary_row(B, r, label, 1, t, i, 0);
    }
    for (i = 0; i < mean->np; i++) {
        snprintf(label, sizeof label, "npv %s", mean->prov_ids[i]);
        mc_summary_row(B, r, label, 2, t, i, 0);
    }
}

static void tornado_summary(luaL_Buffer *B, const ss_tornado *t)
{
    size_t i, j, w = ss_strings_width(t->params, t->nparam, 9);
    char b[4][48];
    addf(B, "Tornado: %zu parameter%s x %zu output%s, %zu runs\n", t->nparam,
         t->nparam == 1 ? "" : "s", t->nout, t->nout == 1 ? "" : "s", 1 + 2 * t->nparam);
    for (j = 0; j < t->nout; j++) {
        addf(B, "\n%s (base %s)\n", t->outputs[j], la_gnum(t->base_out[j], 8, b[0], sizeof b[0]));
        addf(B, "  rank  %-*s %12s %12s %14s %14s %12s\n", (int)w, "parameter", "low", "high",
             "output@low", "output@high", "swing");
        for (i = 0; i < t->nparam * t->nout; i++) {
            const ss_tornado_row *row = &t->rows[i];
            if (row->output != j)
                continue;
            addf(B, "  %4zu  %-*s %12s %12s %14s %14s ", row->rank, (int)w, t->params[row->param],
                 la_gnum(row->low, 6, b[0], sizeof b[0]), la_gnum(row->high, 6, b[1], sizeof b[1]),
                 la_gnum(row->out_low, 8, b[2], sizeof b[2]), la_gnum(row->out_high, 8, b[3], sizeof b[3]));
            addf(B, "%12s\n", la_gnum(row->swing, 6, b[0], sizeof b[0]));
        }
    }
}

static void sobol_summary(luaL_Buffer *B, const ss_sobol *s)
{
    size_t i, j, w = ss_strings_width(s->params, s->d, 9);
    char b[4][48];
    addf(B, "Sobol indices: %zu parameter%s x %zu output%s, N = %zu, %zu runs\n", s->d,
         s->d == 1 ? "" : "s", s->nout, s->nout == 1 ? "" : "s", s->n, s->nevals);
    for (j = 0; j < s->nout; j++) {
        addf(B, "\n%s (mean %s, sd %s)\n", s->outputs[j], la_gnum(s->mean[j], 8, b[0], sizeof b[0]),
             la_gnum(sqrt(s->var[j]), 6, b[1], sizeof b[1]));
        addf(B, "  %-*s %9s %21s %9s %21s\n", (int)w, "parameter", "S1", "interval", "ST", "interval");
        for (i = 0; i < s->d; i++) {
            char i1[64], i2[64];
            snprintf(i1, sizeof i1, "[%.3f, %.3f]", SS_SOBOL_AT(s, S1_lo, i, j) + 0.0,
                     SS_SOBOL_AT(s, S1_hi, i, j) + 0.0);
            snprintf(i2, sizeof i2, "[%.3f, %.3f]", SS_SOBOL_AT(s, ST_lo, i, j) + 0.0,
                     SS_SOBOL_AT(s, ST_hi, i, j) + 0.0);
            addf(B, "  %-*s %9.4f %21s %9.4f %21s\n", (int)w, s->params[i],
                 SS_SOBOL_AT(s, S1, i, j) + 0.0, i1, SS_SOBOL_AT(s, ST, i, j) + 0.0, i2);
        }
    }
}

static void calib_summary(luaL_Buffer *B, const ss_calib_result *c)
{
    size_t i, w = ss_strings_width(c->paths, c->np, 9);
    char b[3][48], bounds[120];
    addf(B, "Calibration: %zu observation%s, %zu parameter%s, dof %ld\n\n", c->nobs,
         c->nobs == 1 ? "" : "s", c->np, c->np == 1 ? "" : "s", (long)c->dof);
    addf(B, "  %-*s %16s %12s %12s   %s\n", (int)w, "parameter", "value", "+- se", "start", "bounds");
    for (i = 0; i < c->np; i++) {
        snprintf(bounds, sizeof bounds, "[%s, %s]", la_gnum(c->lower[i], 6, b[0], sizeof b[0]),
                 la_gnum(c->upper[i], 6, b[1], sizeof b[1]));
        addf(B, "  %-*s %16s ", (int)w, c->paths[i], la_gnum(c->value[i], 10, b[0], sizeof b[0]));
        addf(B, "%12s %12s   %s%s\n", la_gnum(c->se[i], 4, b[1], sizeof b[1]),
             la_gnum(c->start[i], 6, b[2], sizeof b[2]), bounds, c->at_bound[i] ? "  at a bound" : "");
    }
    addf(B, "\n  RMSE %s, chi2 %s, residual sd %s\n", la_gnum(c->rmse, 6, b[0], sizeof b[0]),
         la_gnum(c->chi2, 6, b[1], sizeof b[1]), la_gnum(c->sigma, 6, b[2], sizeof b[2]));
    addf(B, "  status: %s after %zu iteration%s (%zu model runs)\n", c->status, c->iterations,
         c->iterations == 1 ? "" : "s", c->nevals);
}

static void opt_summary(luaL_Buffer *B, const ss_opt_result *r, const char *objective)
{
    size_t i, w = ss_opt_label_width(r, 9);
    char b[3][48];
    if (strlen(objective) > w)
        w = strlen(objective);
    addf(B, "Optimisation: %s over %zu control%s, %zu start%s, %zu runs\n\n", objective,
         r->ncontrols, r->ncontrols == 1 ? "" : "s", r->nstarts, r->nstarts == 1 ? "" : "s", r->nevals);
    addf(B, "  %-*s %16s %16s   %s\n", (int)w, "control", "best", "initial", "bounds");
    for (i = 0; i < r->ncontrols; i++) {
        addf(B, "  %-*s %16s ", (int)w, r->paths[i], la_gnum(r->x[i], 10, b[0], sizeof b[0]));
        addf(B, "%16s   [%s, ", la_gnum(r->x0[i], 10, b[0], sizeof b[0]), la_gnum(r->lower[i], 6, b[1], sizeof b[1]));
        addf(B, "%s]\n", la_gnum(r->upper[i], 6, b[2], sizeof b[2]));
    }
    addf(B, "\n  %-*s %16s %16s\n", (int)w, "objective", "best", "initial");
    addf(B, "  %-*s %16s ", (int)w, objective, la_gnum(r->objective, 10, b[0], sizeof b[0]));
    addf(B, "%16s\n", la_gnum(r->objective0, 10, b[0], sizeof b[0]));
    if (r->nconstraints) {
        addf(B, "\n  %-*s %16s %16s  %s\n", (int)w, "constraint", "value", "violation", "holds");
        for (i = 0; i < r->nconstraints; i++) {
            addf(B, "  %-*s %16s ", (int)w, r->cons_text[i], la_gnum(r->cons_value[i], 10, b[0], sizeof b[0]));
            addf(B, "%16s  %s\n", la_gnum(r->cons_violation[i], 3, b[0], sizeof b[0]),
                 r->cons_holds[i] ? "yes" : "NO");
        }
    }
    addf(B, "\n  %s; the best start (%zu of %zu) %s\n",
         r->nconstraints == 0 ? "no constraints"
         : r->feasible ? "feasible: every constraint holds"
                       : "INFEASIBLE: no start satisfied every constraint (least violation shown)",
         r->best_start + 1, r->nstarts, r->converged ? "converged" : "did not converge");
}

/* The outputs per point, as `stratsim sweep` without -o prints them. */
static void sweep_summary(luaL_Buffer *B, const sweep_res *r)
{
    const ss_sweep_job *sj = &r->job;
    size_t j, w = 12, nc = r->naxes + sj->nout;
    uint64_t p;
    char b[48];
    for (j = 0; j < r->naxes; j++)
        if (strlen(r->axes[j].path) > w)
            w = strlen(r->axes[j].path);
    for (j = 0; j < sj->nout; j++)
        if (strlen(sj->sel[j].text) > w)
            w = strlen(sj->sel[j].text);
    if (w > 40)
        w = 40;
    addf(B, "Sweep: %llu point%s\n\n", (unsigned long long)sj->npoints, sj->npoints == 1 ? "" : "s");
    for (j = 0; j < nc; j++)
        addf(B, "%s%*s", j ? " " : "", (int)w, j < r->naxes ? r->axes[j].path : sj->sel[j - r->naxes].text);
    addf(B, "\n");
    for (p = 0; p < sj->npoints; p++) {
        for (j = 0; j < nc; j++)
            addf(B, "%s%*s", j ? " " : "", (int)w,
                 la_gnum(j < r->naxes ? sj->x[p * r->naxes + j] : sj->y[p * sj->nout + j - r->naxes], 6,
                         b, sizeof b));
        addf(B, "\n");
    }
}

/* r:summary() -> string: the result as the table its CLI verb prints. */
int la_rbox_summary(lua_State *L)
{
    rbox *b = la_any_rbox(L, 1);
    luaL_Buffer B;
    lua_settop(L, 1);
    if (!b->res)
        luaL_argerror(L, 1, "result already closed");
    lua_getiuservalue(L, 1, RV_OBJECTIVE);
    luaL_buffinit(L, &B);
    switch (b->kind) {
    case R_MC: mc_summary(&B, b->res); break;
    case R_TORNADO: tornado_summary(&B, b->res); break;
    case R_SOBOL: sobol_summary(&B, b->res); break;
    case R_CALIB: calib_summary(&B, b->res); break;
    case R_SWEEP: sweep_summary(&B, b->res); break;
    default: opt_summary(&B, b->res, lua_isstring(L, 2) ? lua_tostring(L, 2) : "objective"); break;
    }
    luaL_pushresult(&B);
    return 1;
}

