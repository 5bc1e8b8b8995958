/*
 * summary.c - the readable tables of results (stratsim/summary.h): one
 * scenario at a few milestone times (`stratsim run`, result:summary()) and
 * several scenarios at their last output time with differences from the
 * first (`stratsim compare`, stratsim.compare{...}).
 * Depends on result.h and model.h only.
 */
#include <math.h>
#include <stdio.h>
#include "stratsim/summary.h"

#define NMILE 5

/* x as printed with two decimals, without a "-0.00": values that round to
 * zero are zero. */
static double nz(double x)
{
    return fabs(x) < 0.005 ? 0.0 : x;
}

/* Up to NMILE output indices spread evenly over the run, first and last included. */
static size_t milestones(const ss_result *r, size_t *idx)
{
    size_t n = 0, j;
    for (j = 0; j < NMILE && r->nt > 0; j++) {
        size_t ti = (r->nt - 1) * j / (NMILE - 1);
        if (n == 0 || idx[n - 1] != ti)
            idx[n++] = ti;
    }
    return n;
}

static void header(FILE *f, const char *title, const ss_result *r, const size_t *idx, size_t n)
{
    size_t j;
    fprintf(f, "%-26s", title);
    for (j = 0; j < n; j++)
        fprintf(f, " %11.2f", r->t[idx[j]]);
    fputc('\n', f);
}

static void row_label(FILE *f, const char *a, const char *b)
{
    char buf[64];
    if (b)
        snprintf(buf, sizeof buf, "  %-12s %s", a, b);
    else
        snprintf(buf, sizeof buf, "  %s", a);
    fprintf(f, "%-26.26s", buf);
}

void ss_summary_write(FILE *f, const ss_result *r, const ss_model *m, const char *file)
{
    size_t idx[NMILE], n = milestones(r, idx), i, k, j;

    fprintf(f, "Scenario: %s  (%s)\n", r->scenario, file ? file : "");
    if (m) {
        fprintf(f, "Time %.10g to %.10g, step %.10g; discount rate %.4g; solver %s", m->t0, m->t1,
                m->step, m->discount_rate, ss_solver_name(m->solver.method));
        if (m->solver.method == SS_SOLVER_EULER || m->solver.method == SS_SOLVER_RK4)
            fprintf(f, " (h %.4g)\n\n", m->solver.h);
        else
            fprintf(f, " (rtol %.0e, atol %.0e)\n\n", m->solver.rtol, m->solver.atol);
    } else if (r->nt > 0) {
        fprintf(f, "Time %.10g to %.10g, %zu output times\n\n", r->t[0], r->t[r->nt - 1], r->nt);
    } else {
        fputc('\n', f);
    }

    header(f, "Share", r, idx, n);
    for (i = 0; i < r->np; i++)
        for (k = 0; k < r->nk; k++) {
            row_label(f, r->prov_ids[i], r->seg_ids[k]);
            for (j = 0; j < n; j++)
                fprintf(f, " %10.2f%%", nz(100.0 * SS_RESULT_PS(r, idx[j], SS_PS_SHARE, i, k)));
            fputc('\n', f);
        }
    header(f, "Revenue (per year)", r, idx, n);
    for (i = 0; i < r->np; i++) {
        row_label(f, r->prov_ids[i], NULL);
        for (j = 0; j < n; j++)
            fprintf(f, " %11.2f", nz(SS_RESULT_P(r, idx[j], SS_P_REVENUE, i)));
        fputc('\n', f);
    }
    header(f, "Gross margin (GP/revenue)", r, idx, n);
    for (i = 0; i < r->np; i++) {
        row_label(f, r->prov_ids[i], NULL);
        for (j = 0; j < n; j++) {
            double rev = SS_RESULT_P(r, idx[j], SS_P_REVENUE, i);
            if (rev > 0)
                fprintf(f, " %10.2f%%", nz(100.0 * SS_RESULT_P(r, idx[j], SS_P_GROSS_PROFIT, i) / rev));
            else
                fprintf(f, " %11s", "-");
        }
        fputc('\n', f);
    }
    header(f, "Operating profit (/year)", r, idx, n);
    for (i = 0; i < r->np; i++) {
        row_label(f, r->prov_ids[i], NULL);
        for (j = 0; j < n; j++)
            fprintf(f, " %11.2f", nz(SS_RESULT_P(r, idx[j], SS_P_OPERATING_PROFIT, i)));
        fputc('\n', f);
    }
    header(f, "NPV (cumulative)", r, idx, n);
    for (i = 0; i < r->np; i++) {
        row_label(f, r->prov_ids[i], NULL);
        for (j = 0; j < n; j++)
            fprintf(f, " %11.2f", nz(SS_RESULT_P(r, idx[j], SS_P_NPV, i)));
        fputc('\n', f);
    }
    header(f, "Segment size (per year)", r, idx, n);
    for (k = 0; k < r->nk; k++) {
        row_label(f, r->seg_ids[k], NULL);
        for (j = 0; j < n; j++)
            fprintf(f, " %11.2f", nz(SS_RESULT_S(r, idx[j], SS_S_SIZE, k)));
        fputc('\n', f);
    }
    for (j = 0; j < r->nextra; j++) {
        size_t q;
        int stock = r->extra_units && r->extra_units[j];
        if (j == 0)
            header(f, stock ? "Stocks, derived metrics" : "Derived metrics", r, idx, n);
        if (stock) {   /* a user stock: its unit next to its id */
            char lab[56];
            if (r->extra_units[j][0])
                snprintf(lab, sizeof lab, "%.30s [%.20s]", r->extra_names[j], r->extra_units[j]);
            else
                snprintf(lab, sizeof lab, "%.50s", r->extra_names[j]);
            row_label(f, lab, NULL);
        } else {
            row_label(f, r->extra_names[j], NULL);
        }
        for (q = 0; q < n; q++)
            fprintf(f, " %11.5g", r->extra[idx[q] * r->nextra + j]);
        fputc('\n', f);
    }
}

/* One comparison cell: the value, and for columns after the first its delta. */
static void cell(FILE *f, double v, double base, int first, int pct)
{
    char buf[64];
    if (isnan(v)) {
        fprintf(f, " %24s", "-");
        return;
    }
    if (pct) {
        if (first || isnan(base))
            snprintf(buf, sizeof buf, "%.2f%%", nz(100.0 * v));
        else
            snprintf(buf, sizeof buf, "%.2f%% (%+.2f pp)", nz(100.0 * v), nz(100.0 * (v - base)));
    } else {
        if (first || isnan(base))
            snprintf(buf, sizeof buf, "%.2f", nz(v));
        else
            snprintf(buf, sizeof buf, "%.2f (%+.2f)", nz(v), nz(v - base));
    }
    fprintf(f, " %24s", buf);
}

void ss_summary_compare(FILE *f, const ss_result *const *res, size_t n)
{
    const ss_result *b = res[0];
    size_t i, k, c;
    static const int pm[] = { SS_P_REVENUE, SS_P_GROSS_PROFIT, SS_P_OPERATING_PROFIT, SS_P_NPV };

    fprintf(f, "%-30s", "At the last output time");
    for (c = 0; c < n; c++)
        fprintf(f, " %24.24s", res[c]->scenario);
    fputc('\n', f);
    fprintf(f, "%-30s", "  time");
    for (c = 0; c < n; c++)
        fprintf(f, " %24.10g", res[c]->t[res[c]->nt - 1]);
    fputc('\n', f);

    fprintf(f, "share\n");
    for (i = 0; i < b->np; i++)
        for (k = 0; k < b->nk; k++) {
            double base = SS_RESULT_PS(b, b->nt - 1, SS_PS_SHARE, i, k);
            char lab[64];
            snprintf(lab, sizeof lab, "  %s %s", b->prov_ids[i], b->seg_ids[k]);
            fprintf(f, "%-30.30s", lab);
            for (c = 0; c < n; c++) {
                const ss_result *r = res[c];
                long ii = ss_result_id_index(r->prov_ids, r->np, b->prov_ids[i]);
                long kk = ss_result_id_index(r->seg_ids, r->nk, b->seg_ids[k]);
                double v = (ii < 0 || kk < 0) ? NAN : SS_RESULT_PS(r, r->nt - 1, SS_PS_SHARE, ii, kk);
                cell(f, v, base, c == 0, 1);
            }
            fputc('\n', f);
        }
    for (c = 0; c < sizeof pm / sizeof pm[0]; c++) {
        int m = pm[c];
        fprintf(f, "%s\n", ss_metric_p_name(m));
        for (i = 0; i < b->np; i++) {
            double base = SS_RESULT_P(b, b->nt - 1, m, i);
            size_t q;
            fprintf(f, "  %-28.28s", b->prov_ids[i]);
            for (q = 0; q < n; q++) {
                const ss_result *r = res[q];
                long ii = ss_result_id_index(r->prov_ids, r->np, b->prov_ids[i]);
                cell(f, ii < 0 ? NAN : SS_RESULT_P(r, r->nt - 1, m, ii), base, q == 0, 0);
            }
            fputc('\n', f);
        }
    }
    fprintf(f, "size\n");
    for (k = 0; k < b->nk; k++) {
        double base = SS_RESULT_S(b, b->nt - 1, SS_S_SIZE, k);
        fprintf(f, "  %-28.28s", b->seg_ids[k]);
        for (c = 0; c < n; c++) {
            const ss_result *r = res[c];
            long kk = ss_result_id_index(r->seg_ids, r->nk, b->seg_ids[k]);
            cell(f, kk < 0 ? NAN : SS_RESULT_S(r, r->nt - 1, SS_S_SIZE, kk), base, c == 0, 0);
        }
        fputc('\n', f);
    }
    /* the user stocks of the first scenario (nan where another has none of that id) */
    for (k = 0; b->extra_units && k < b->nextra; k++) {
        char lab[64];
        if (!b->extra_units[k])
            continue;
        if (k == 0)
            fprintf(f, "stocks\n");
        if (b->extra_units[k][0])
            snprintf(lab, sizeof lab, "  %.30s [%.20s]", b->extra_names[k], b->extra_units[k]);
        else
            snprintf(lab, sizeof lab, "  %.50s", b->extra_names[k]);
        fprintf(f, "%-30.30s", lab);
        for (c = 0; c < n; c++) {
            const ss_result *r = res[c];
            long x = ss_result_id_index(r->extra_names, r->nextra, b->extra_names[k]);
            cell(f, x < 0 ? NAN : r->extra[(r->nt - 1) * r->nextra + (size_t)x],
                 b->extra[(b->nt - 1) * b->nextra + k], c == 0, 0);
        }
        fputc('\n', f);
    }
}
