/*
 * xlsx_out.c - Excel workbooks from stratsim's CSV tables and sidecars
 * (see xlsx_out.h): metric sheets in the wide layout with share line
 * charts or Monte Carlo fan charts, or a plain table sheet; then the
 * Inputs, Sources and About sheets. libxlsxwriter writes to a file name,
 * so the workbook is built in a scratch file beside the target and copied
 * into the caller's stream (which cli_write_pair commits atomically).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>
#include <xlsxwriter.h>
#include "core/csvread.h"
#include "cli/xlsx_out.h"
#include "stratsim/io.h"

#define MAX_CHARTS 24      /* charts per sheet at most */
#define CHART_ROWS 18      /* rows between two charts */

int cli_is_xlsx(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 5 && strcasecmp(path + n - 5, ".xlsx") == 0;
}

typedef struct book {
    lxw_workbook *wb;
    lxw_format *hdr, *text, *time, *pct, *money, *fine, *general;
    lxw_worksheet *chartdata;  /* hidden sheet with the fan chart bands */
    char chartdata_name[40];
    lxw_row_t chartdata_row;
    char used[128][40];        /* sheet names so far (unique regardless of case) */
    size_t nused;
    const char *command;       /* from the sidecar, or "" */
    const char *method;        /* sens method, or NULL */
    char title[600];           /* the document's title */
} book;

/* ------------------------------------------------------------- helpers */

/* A unique valid sheet name from `want`: forbidden characters replaced,
 * no apostrophe first or last, at most 27 characters, then "~2", "~3" ...
 * (up to "~999": at most 31 characters, Excel's limit) on a clash. */
static void sheet_name(book *b, const char *want, char *out, size_t size)
{
    char base[32];
    size_t i, n = 0;
    int k;
    for (i = 0; want[i] && n < 27; i++) {
        char c = want[i];
        base[n++] = strchr("[]:*?/\\", c) || (unsigned char)c < 32 ? '_' : c;
    }
    if (n == 0)
        base[n++] = 'x';
    if (base[0] == '\'')
        base[0] = '_';
    if (base[n - 1] == '\'')
        base[n - 1] = '_';
    base[n] = '\0';
    snprintf(out, size, "%s", base);
    for (k = 2; k < 1000; k++) {
        for (i = 0; i < b->nused; i++)
            if (strcasecmp(b->used[i], out) == 0)
                break;
        if (i == b->nused || snprintf(out, size, "%s~%d", base, k) >= (int)size)
            break;
    }
    if (b->nused < sizeof b->used / sizeof b->used[0])
        snprintf(b->used[b->nused++], sizeof b->used[0], "%s", out);
}

/* A new sheet; its name (unique) into name[40] if name is not NULL. */
static lxw_worksheet *add_sheet(book *b, const char *want, char *name)
{
    char buf[40];
    if (!name)
        name = buf;
    sheet_name(b, want, name, 40);
    return workbook_add_worksheet(b->wb, name);
}

/* A cell of the CSV: a finite number as a number, anything else as text. */
static void put_cell(book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s,
                     lxw_format *fmt)
{
    double v;
    if (!s || !*s)
        return;
    if (cli_csv_number(s, &v) == 0 && isfinite(v))
        worksheet_write_number(ws, r, c, v, fmt);
    else
        worksheet_write_string(ws, r, c, cli_csv_text(s), b->text);
}

/* Display format of a metric's values. */
static lxw_format *metric_format(book *b, const char *metric)
{
    static const char *const pct[] = { "share", "target_share", "gross_margin", NULL };
    static const char *const fine[] = { "hhi", "reliability", NULL };
    static const char *const money[] = {
        "revenue", "gross_profit", "operating_profit", "investment", "npv", "size",
        "capability", NULL
    };
    size_t i;
    for (i = 0; pct[i]; i++)
        if (strcmp(metric, pct[i]) == 0)
            return b->pct;
    for (i = 0; fine[i]; i++)
        if (strcmp(metric, fine[i]) == 0)
            return b->fine;
    for (i = 0; money[i]; i++)
        if (strcmp(metric, money[i]) == 0)
            return b->money;
    return b->general; /* derived metrics: unknown scale */
}

/* ---------------------------------------------------- metric sheets */

typedef struct rowkey {
    const char *scenario, *time;
} rowkey;

typedef struct serkey {
    const char *prov, *seg;
} serkey;

/* The long layouts: column indices and the value/statistic columns. */
typedef struct pivot {
    const cli_csv *t;
    int c_scen, c_time, c_prov, c_seg, c_metric;
    int *vcols;            /* value columns: "value", or mean, sd, p05, ... */
    size_t nv;
    int mc;                /* Monte Carlo statistics */
} pivot;

/* Index of key among v[0..n), searched from the end (rows come in order);
 * appended if absent. -1 on allocation failure. */
static long find_row(rowkey **v, size_t *n, size_t *cap, const char *scen, const char *time)
{
    size_t i;
    for (i = *n; i > 0; i--)
        if (strcmp((*v)[i - 1].time, time) == 0 && strcmp((*v)[i - 1].scenario, scen) == 0)
            return (long)(i - 1);
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        rowkey *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[*n].scenario = scen;
    (*v)[*n].time = time;
    return (long)(*n)++;
}

static long find_ser(serkey **v, size_t *n, size_t *cap, const char *prov, const char *seg)
{
    size_t i;
    for (i = 0; i < *n; i++)
        if (strcmp((*v)[i].prov, prov) == 0 && strcmp((*v)[i].seg, seg) == 0)
            return (long)i;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        serkey *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[*n].prov = prov;
    (*v)[*n].seg = seg;
    return (long)(*n)++;
}

/* Label of a series column: "alibaba public", "alibaba", "public", or the
 * metric itself for a derived metric. */
static void ser_label(char *buf, size_t n, const serkey *s, const char *metric, const char *stat)
{
    const char *a = *s->prov ? s->prov : s->seg, *c = *s->prov && *s->seg ? s->seg : "";
    if (!*a)
        a = metric;
    snprintf(buf, n, "%s%s%s%s%s", a, *c ? " " : "", c, stat ? " " : "", stat ? stat : "");
}

/* Is column name a quantile ("p05", "p2.5", "p50")? */
static int is_quantile(const char *name)
{
    return name[0] == 'p' && isdigit((unsigned char)name[1]);
}

/* Line charts of a values-mode share sheet: one per segment, a line per
 * provider (and scenario). */
static void share_line_charts(book *b, lxw_worksheet *ws, const char *sheet, const rowkey *rows,
                              size_t nrows, const serkey *ser, size_t nser, lxw_col_t at)
{
    size_t i, j, nchart = 0;
    int multi = nrows > 0 && strcmp(rows[0].scenario, rows[nrows - 1].scenario) != 0;
    for (j = 0; j < nser && nchart < MAX_CHARTS; j++) {
        lxw_chart *ch;
        size_t q, start;
        char title[160];
        int seen = 0;
        if (!*ser[j].seg || !*ser[j].prov)
            continue;
        for (q = 0; q < j && !seen; q++)
            seen = strcmp(ser[q].seg, ser[j].seg) == 0 && *ser[q].prov;
        if (seen)
            continue; /* this segment has its chart */
        ch = workbook_add_chart(b->wb, LXW_CHART_LINE);
        if (!ch)
            return;
        snprintf(title, sizeof title, "Share: %s", ser[j].seg);
        chart_title_set_name(ch, title);
        chart_axis_set_num_format(ch->y_axis, "0%");
        chart_axis_set_name(ch->x_axis, "time");
        chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
        /* every block of rows of one scenario, every provider of the segment */
        for (start = 0; start < nrows;) {
            size_t end = start;
            while (end < nrows && strcmp(rows[end].scenario, rows[start].scenario) == 0)
                end++;
            for (q = 0; q < nser; q++) {
                lxw_chart_series *s;
                char name[200];
                if (strcmp(ser[q].seg, ser[j].seg) != 0 || !*ser[q].prov)
                    continue;
                s = chart_add_series(ch, NULL, NULL);
                if (!s)
                    return;
                chart_series_set_categories(s, sheet, (lxw_row_t)(1 + start), 1,
                                            (lxw_row_t)end, 1);
                chart_series_set_values(s, sheet, (lxw_row_t)(1 + start), (lxw_col_t)(2 + q),
                                        (lxw_row_t)end, (lxw_col_t)(2 + q));
                snprintf(name, sizeof name, "%s%s%s", multi ? rows[start].scenario : "",
                         multi ? ": " : "", ser[q].prov);
                chart_series_set_name(s, name);
            }
            start = end;
        }
        worksheet_insert_chart(ws, (lxw_row_t)(1 + nchart * CHART_ROWS), at, ch);
        nchart++;
    }
    (void)i;
}

/* What the fan charts of one Monte Carlo share sheet share: the sheet's
 * rows, series and cells (as metric_sheet holds them) and the quantile
 * columns among the statistics. */
typedef struct fan {
    const pivot *p;
    const rowkey *rows;
    const serkey *ser;
    size_t nser;
    const char **grid;     /* cell of row r, series j, statistic k: [r * nser * nv + j * nv + k] */
    size_t qi[16], nq;     /* the quantile columns (indices into p->vcols), lowest first */
    int multi;             /* several scenarios: their names in the titles */
} fan;

/* The block of one fan chart (series j, rows [start, end)) in the hidden
 * sheet "chart data": a label row (the series' name, also put into title,
 * then the name of each band), then per output time the time, the lowest
 * quantile and the bands between successive quantiles (a missing value
 * counts as the quantile below). Returns the block's first row; the next
 * block starts one blank row after it. */
static lxw_row_t fan_block(book *b, const fan *f, size_t j, size_t start, size_t end, char *title,
                           size_t tsize)
{
    const pivot *p = f->p;
    lxw_row_t r0 = b->chartdata_row;
    size_t k, r;
    snprintf(title, tsize, "%s%s%s %s", f->multi ? f->rows[start].scenario : "",
             f->multi ? ": " : "", f->ser[j].prov, f->ser[j].seg);
    worksheet_write_string(b->chartdata, r0, 0, title, NULL);
    for (k = 0; k < f->nq; k++) {
        char band[80];
        if (k == 0)
            snprintf(band, sizeof band, "%s", p->t->cols[p->vcols[f->qi[0]]]);
        else
            snprintf(band, sizeof band, "%s-%s", p->t->cols[p->vcols[f->qi[k - 1]]],
                     p->t->cols[p->vcols[f->qi[k]]]);
        worksheet_write_string(b->chartdata, r0, (lxw_col_t)(1 + k), band, NULL);
    }
    for (r = start; r < end; r++) {
        double prev = 0, v;
        const char *tcell = f->rows[r].time;
        if (cli_csv_number(tcell, &v) == 0)
            worksheet_write_number(b->chartdata, (lxw_row_t)(r0 + 1 + r - start), 0, v, NULL);
        for (k = 0; k < f->nq; k++) {
            const char *c = f->grid[r * f->nser * p->nv + j * p->nv + f->qi[k]];
            double x = 0;
            if (!c || cli_csv_number(c, &x) != 0 || !isfinite(x))
                x = prev;
            worksheet_write_number(b->chartdata, (lxw_row_t)(r0 + 1 + r - start),
                                   (lxw_col_t)(1 + k), k == 0 ? x : x - prev, NULL);
            prev = x;
        }
    }
    b->chartdata_row = (lxw_row_t)(r0 + 2 + (end - start));
    return r0;
}

/* The look of band k (0: the base up to the lowest quantile) of a fan of
 * nq quantiles: no outline; the base unfilled, the bands darker towards
 * the middle of the fan. */
static void fan_band_style(lxw_chart_series *s, size_t k, size_t nq)
{
    lxw_chart_fill fill;
    lxw_chart_line none;
    memset(&fill, 0, sizeof fill);
    memset(&none, 0, sizeof none);
    none.none = 1;
    if (k == 0) {
        fill.none = 1; /* the base up to the lowest quantile */
    } else {
        /* darker towards the middle of the fan */
        size_t d = k - 1 < nq - 1 - k ? k - 1 : nq - 1 - k;
        fill.color = 0x2E75B6;
        fill.transparency = (uint8_t)(d >= 3 ? 20 : 70 - 20 * d);
    }
    chart_series_set_fill(s, &fill);
    chart_series_set_line(s, &none);
}

/* The stacked area chart of the block at row r0 of "chart data" (n output
 * times), titled after the block's label (title, completed here with the
 * quantile range), inserted into ws as its chart number nchart in column
 * at. -1 if libxlsxwriter failed (no chart inserted). */
static int fan_chart(book *b, lxw_worksheet *ws, const fan *f, lxw_row_t r0, size_t n,
                     char *title, size_t tsize, size_t nchart, lxw_col_t at)
{
    const pivot *p = f->p;
    lxw_chart *ch = workbook_add_chart(b->wb, LXW_CHART_AREA_STACKED);
    char sname[40];
    size_t k;
    int16_t hide[] = { 0, -1 };
    if (!ch)
        return -1;
    snprintf(title + strlen(title), tsize - strlen(title), ": share, %s to %s",
             p->t->cols[p->vcols[f->qi[0]]], p->t->cols[p->vcols[f->qi[f->nq - 1]]]);
    chart_title_set_name(ch, title);
    chart_axis_set_num_format(ch->y_axis, "0%");
    chart_axis_set_name(ch->x_axis, "time");
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    snprintf(sname, sizeof sname, "%s", b->chartdata_name);
    for (k = 0; k < f->nq; k++) {
        lxw_chart_series *s = chart_add_series(ch, NULL, NULL);
        if (!s)
            return -1;
        chart_series_set_categories(s, sname, r0 + 1, 0, (lxw_row_t)(r0 + n), 0);
        chart_series_set_values(s, sname, r0 + 1, (lxw_col_t)(1 + k), (lxw_row_t)(r0 + n),
                                (lxw_col_t)(1 + k));
        chart_series_set_name_range(s, sname, r0, (lxw_col_t)(1 + k));
        fan_band_style(s, k, f->nq);
    }
    chart_legend_delete_series(ch, hide);
    worksheet_insert_chart(ws, (lxw_row_t)(1 + nchart * CHART_ROWS), at, ch);
    return 0;
}

/* Fan charts of a Monte Carlo share sheet: per scenario and series, a
 * stacked area of the lowest quantile (invisible) and the bands between
 * successive quantiles, computed into the hidden sheet "chart data". */
static void share_fan_charts(book *b, lxw_worksheet *ws, const pivot *p, const rowkey *rows,
                             size_t nrows, const serkey *ser, size_t nser, const char **grid,
                             lxw_col_t at)
{
    fan f;
    size_t k, j, start, nchart = 0;
    memset(&f, 0, sizeof f);
    f.p = p;
    f.rows = rows;
    f.ser = ser;
    f.nser = nser;
    f.grid = grid;
    f.multi = nrows > 0 && strcmp(rows[0].scenario, rows[nrows - 1].scenario) != 0;
    for (k = 0; k < p->nv && f.nq < 16; k++)
        if (is_quantile(p->t->cols[p->vcols[k]]))
            f.qi[f.nq++] = k;
    if (f.nq < 2)
        return;
    if (!b->chartdata) {
        b->chartdata = add_sheet(b, "chart data", b->chartdata_name);
        if (!b->chartdata)
            return;
        worksheet_hide(b->chartdata);
    }
    for (start = 0; start < nrows && nchart < MAX_CHARTS;) {
        size_t end = start;
        while (end < nrows && strcmp(rows[end].scenario, rows[start].scenario) == 0)
            end++;
        for (j = 0; j < nser && nchart < MAX_CHARTS; j++) {
            char title[240];
            lxw_row_t r0;
            if (!*ser[j].prov || !*ser[j].seg)
                continue;
            r0 = fan_block(b, &f, j, start, end, title, sizeof title);
            if (fan_chart(b, ws, &f, r0, end - start, title, sizeof title, nchart, at) != 0)
                return;
            nchart++;
        }
        start = end;
    }
}

/* One metric's sheet in the making: its rows (scenario, time), its series
 * (provider, segment) and its cells. */
typedef struct msheet {
    const pivot *p;
    const char *metric;
    rowkey *rows;
    serkey *ser;
    size_t nrows, caprows, nser, capser;
    size_t ncol;           /* value columns: nser * p->nv */
    const char **grid;     /* cell of row r, series j, statistic k: [r * ncol + j * nv + k] */
} msheet;

/* The rows and series of the metric, in order of appearance, and a check
 * that its sheet fits in a worksheet. */
static int metric_keys(msheet *m, ss_err *err)
{
    const pivot *p = m->p;
    const cli_csv *t = p->t;
    size_t r;
    for (r = 0; r < t->nrows; r++) {
        if (strcmp(cli_csv_cell(t, r, p->c_metric), m->metric) != 0)
            continue;
        if (find_row(&m->rows, &m->nrows, &m->caprows, cli_csv_cell(t, r, p->c_scen),
                     cli_csv_cell(t, r, p->c_time)) < 0 ||
            find_ser(&m->ser, &m->nser, &m->capser, cli_csv_cell(t, r, p->c_prov),
                     cli_csv_cell(t, r, p->c_seg)) < 0)
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    m->ncol = m->nser * p->nv;
    if (m->nrows + 1 > LXW_ROW_MAX || m->ncol + 2 > LXW_COL_MAX)
        return ss_err_set(err, SS_EINVAL, "", "metric '%s': %zu rows and %zu columns do not fit "
                          "in a worksheet (at most %d and %d); write CSV instead", m->metric,
                          m->nrows + 1, m->ncol + 2, LXW_ROW_MAX, LXW_COL_MAX);
    return SS_OK;
}

/* The cells of the metric into m->grid (text of the CSV, NULL where the
 * table has none), each in the row and series metric_keys found. */
static int metric_grid(msheet *m, ss_err *err)
{
    const pivot *p = m->p;
    const cli_csv *t = p->t;
    size_t r, k, last = 0;
    if (!(m->grid = calloc(m->nrows * m->ncol + 1, sizeof *m->grid)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (r = 0; r < t->nrows; r++) {
        long ri, si;
        size_t n0 = m->nrows, s0 = m->nser;
        if (strcmp(cli_csv_cell(t, r, p->c_metric), m->metric) != 0)
            continue;
        /* the row of the previous cell first: rows come in order */
        if (strcmp(m->rows[last].scenario, cli_csv_cell(t, r, p->c_scen)) == 0 &&
            strcmp(m->rows[last].time, cli_csv_cell(t, r, p->c_time)) == 0)
            ri = (long)last;
        else
            ri = find_row(&m->rows, &m->nrows, &m->caprows, cli_csv_cell(t, r, p->c_scen),
                          cli_csv_cell(t, r, p->c_time));
        si = find_ser(&m->ser, &m->nser, &m->capser, cli_csv_cell(t, r, p->c_prov),
                      cli_csv_cell(t, r, p->c_seg));
        if (ri < 0 || si < 0 || m->nrows != n0 || m->nser != s0)
            return ss_err_set(err, SS_EINVAL, "", "workbook: inconsistent table");
        last = (size_t)ri;
        for (k = 0; k < p->nv; k++)
            m->grid[(size_t)ri * m->ncol + (size_t)si * p->nv + k] = cli_csv_cell(t, r, p->vcols[k]);
    }
    return SS_OK;
}

/* The metric's sheet: a header row (scenario, time, a column per series
 * and statistic), a row per scenario and time, frozen panes, and for the
 * shares the charts beside the table. */
static int metric_write(book *b, const msheet *m, ss_err *err)
{
    const pivot *p = m->p;
    lxw_format *fmt = metric_format(b, m->metric);
    lxw_worksheet *ws;
    char name[40];
    size_t r, j, k, wscen = 8;
    if (!(ws = add_sheet(b, m->metric, name)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    worksheet_write_string(ws, 0, 0, "scenario", b->hdr);
    worksheet_write_string(ws, 0, 1, "time", b->hdr);
    for (j = 0; j < m->nser; j++)
        for (k = 0; k < p->nv; k++) {
            char label[300];
            ser_label(label, sizeof label, &m->ser[j], m->metric,
                      p->mc ? p->t->cols[p->vcols[k]] : NULL);
            worksheet_write_string(ws, 0, (lxw_col_t)(2 + j * p->nv + k), label, b->hdr);
        }
    for (r = 0; r < m->nrows; r++) {
        worksheet_write_string(ws, (lxw_row_t)(r + 1), 0, cli_csv_text(m->rows[r].scenario),
                               b->text);
        put_cell(b, ws, (lxw_row_t)(r + 1), 1, m->rows[r].time, b->time);
        if (strlen(m->rows[r].scenario) > wscen)
            wscen = strlen(m->rows[r].scenario);
        for (j = 0; j < m->ncol; j++)
            put_cell(b, ws, (lxw_row_t)(r + 1), (lxw_col_t)(2 + j), m->grid[r * m->ncol + j], fmt);
    }
    worksheet_set_column(ws, 0, 0, (double)(wscen > 40 ? 40 : wscen) + 1, NULL);
    worksheet_set_column(ws, 1, 1, 9, NULL);
    if (m->ncol)
        worksheet_set_column(ws, 2, (lxw_col_t)(1 + m->ncol), p->mc ? 18 : 16, NULL);
    worksheet_freeze_panes(ws, 1, 2);
    if (strcmp(m->metric, "share") == 0 && m->nrows > 1) {
        lxw_col_t at = (lxw_col_t)(3 + m->ncol);
        if (p->mc)
            share_fan_charts(b, ws, p, m->rows, m->nrows, m->ser, m->nser, m->grid, at);
        else
            share_line_charts(b, ws, name, m->rows, m->nrows, m->ser, m->nser, at);
    }
    return SS_OK;
}

/* One metric: its sheet (and charts for the shares). */
static int metric_sheet(book *b, const pivot *p, const char *metric, ss_err *err)
{
    msheet m;
    int rc;
    memset(&m, 0, sizeof m);
    m.p = p;
    m.metric = metric;
    /* rows and series first, then the cells */
    rc = metric_keys(&m, err);
    if (rc == SS_OK)
        rc = metric_grid(&m, err);
    if (rc == SS_OK)
        rc = metric_write(b, &m, err);
    free(m.rows);
    free(m.ser);
    free(m.grid);
    return rc;
}

/* The long layouts: one sheet per metric, in order of appearance. */
static int metric_sheets(book *b, pivot *p, ss_err *err)
{
    const char **metrics = NULL;
    size_t nm = 0, r, i;
    int rc = SS_OK;
    if (!(metrics = calloc(p->t->nrows + 1, sizeof *metrics)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (r = 0; r < p->t->nrows; r++) {
        const char *m = cli_csv_cell(p->t, r, p->c_metric);
        for (i = nm; i > 0; i--)
            if (strcmp(metrics[i - 1], m) == 0)
                break;
        if (i == 0)
            metrics[nm++] = m;
    }
    for (i = 0; rc == SS_OK && i < nm; i++)
        rc = metric_sheet(b, p, metrics[i], err);
    free(metrics);
    return rc;
}

/* Any other table: one sheet as is. */
static int table_sheet(book *b, const cli_csv *t, ss_err *err)
{
    const char *name = b->method ? b->method : *b->command ? b->command : "table";
    lxw_worksheet *ws;
    size_t r, c;
    if (t->nrows + 1 > LXW_ROW_MAX || t->ncol > LXW_COL_MAX)
        return ss_err_set(err, SS_EINVAL, "", "%zu rows and %zu columns do not fit in a worksheet "
                          "(at most %d and %d); write CSV instead", t->nrows + 1, t->ncol,
                          LXW_ROW_MAX, LXW_COL_MAX);
    if (!(ws = add_sheet(b, name, NULL)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (c = 0; c < t->ncol; c++) {
        worksheet_write_string(ws, 0, (lxw_col_t)c, t->cols[c], b->hdr);
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c,
                             strlen(t->cols[c]) > 14 ? (double)strlen(t->cols[c]) + 2 : 16, NULL);
    }
    for (r = 0; r < t->nrows; r++)
        for (c = 0; c < t->ncol; c++)
            put_cell(b, ws, (lxw_row_t)(r + 1), (lxw_col_t)c, cli_csv_cell(t, r, (int)c), b->general);
    worksheet_freeze_panes(ws, 1, 0);
    return SS_OK;
}

/* -------------------------------------------- Inputs, Sources, About */

typedef struct kv_sheet {
    book *b;
    lxw_worksheet *ws;
    lxw_row_t row;
    const char *scenario;  /* Inputs: the first column */
    lxw_col_t col;         /* column of the key */
} kv_sheet;

static void kv_put(kv_sheet *s, const char *key, const cJSON *v)
{
    lxw_col_t c = s->col;
    s->row++;
    if (s->scenario)
        worksheet_write_string(s->ws, s->row, 0, s->scenario, s->b->text);
    worksheet_write_string(s->ws, s->row, c, key, s->b->text);
    if (cJSON_IsNumber(v))
        worksheet_write_number(s->ws, s->row, c + 1, v->valuedouble, s->b->general);
    else if (cJSON_IsString(v))
        worksheet_write_string(s->ws, s->row, c + 1, v->valuestring, s->b->text);
    else if (cJSON_IsBool(v))
        worksheet_write_boolean(s->ws, s->row, c + 1, cJSON_IsTrue(v), NULL);
}

/* A schedule {"kind": ..., "value" | "knots"} as text "steps: t v; t v". */
static int schedule_text(const cJSON *o, char *buf, size_t n)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *knots = cJSON_GetObjectItemCaseSensitive(o, "knots"), *kn;
    size_t len;
    if (!cJSON_IsString(kind) || !cJSON_IsArray(knots))
        return 0;
    len = (size_t)snprintf(buf, n, "%s:", kind->valuestring);
    cJSON_ArrayForEach(kn, knots) {
        const cJSON *a = cJSON_GetArrayItem(kn, 0), *v = cJSON_GetArrayItem(kn, 1);
        char ta[40], tv[40];
        if (len < n && cJSON_IsNumber(a) && cJSON_IsNumber(v)) {
            ss_fmt_double(ta, sizeof ta, a->valuedouble);
            ss_fmt_double(tv, sizeof tv, v->valuedouble);
            len += (size_t)snprintf(buf + len, n - len, "%s %s -> %s",
                                    kn == knots->child ? "" : ";", ta, tv);
        }
    }
    return 1;
}

/* Rows "path value" for every leaf of v: objects by key, lists of objects
 * with an "id" by id (the --set paths), other lists by [index] from 1,
 * schedules as their value (constant) or knots (text). */
static void flatten(kv_sheet *s, const char *path, const cJSON *v)
{
    char key[512], text[2048];
    const cJSON *c;
    if (cJSON_IsObject(v)) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(v, "value");
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, "const") == 0 && value) {
            kv_put(s, path, value);
            return;
        }
        if (schedule_text(v, text, sizeof text)) {
            cJSON *str = cJSON_CreateString(text);
            kv_put(s, path, str);
            cJSON_Delete(str);
            return;
        }
        cJSON_ArrayForEach(c, v) {
            if (strcmp(c->string, "id") == 0 && *path)
                continue;
            snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", c->string);
            flatten(s, key, c);
        }
    } else if (cJSON_IsArray(v)) {
        int i = 0, scalars = 1;
        cJSON_ArrayForEach(c, v) scalars = scalars && !cJSON_IsObject(c) && !cJSON_IsArray(c);
        if (scalars) {
            /* a list of strings or numbers: one cell */
            size_t len = 0;
            text[0] = '\0';
            cJSON_ArrayForEach(c, v) {
                if (len >= sizeof text)
                    break;
                if (cJSON_IsString(c))
                    len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? "; " : "",
                                            c->valuestring);
                else if (cJSON_IsNumber(c)) {
                    char num[40];
                    ss_fmt_double(num, sizeof num, c->valuedouble);
                    len += (size_t)snprintf(text + len, sizeof text - len, "%s%s", len ? "; " : "",
                                            num);
                }
            }
            c = cJSON_CreateString(text);
            kv_put(s, path, c);
            cJSON_Delete((cJSON *)c);
            return;
        }
        cJSON_ArrayForEach(c, v) {
            const cJSON *id = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "id") : NULL;
            i++;
            if (cJSON_IsString(id))
                snprintf(key, sizeof key, "%s.%s", path, id->valuestring);
            else
                snprintf(key, sizeof key, "%s[%d]", path, i);
            flatten(s, key, c);
        }
    } else {
        kv_put(s, path, v);
    }
}

static int inputs_sheet(book *b, const cJSON *side, ss_err *err)
{
    const cJSON *scen = cJSON_GetObjectItemCaseSensitive(side, "scenarios"), *m;
    kv_sheet s;
    if (!cJSON_IsArray(scen) || !scen->child)
        return SS_OK;
    memset(&s, 0, sizeof s);
    s.b = b;
    if (!(s.ws = add_sheet(b, "Inputs", NULL)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    s.col = 1;
    worksheet_write_string(s.ws, 0, 0, "scenario", b->hdr);
    worksheet_write_string(s.ws, 0, 1, "input (--set path)", b->hdr);
    worksheet_write_string(s.ws, 0, 2, "value", b->hdr);
    worksheet_set_column(s.ws, 0, 0, 18, NULL);
    worksheet_set_column(s.ws, 1, 1, 44, NULL);
    worksheet_set_column(s.ws, 2, 2, 24, NULL);
    worksheet_freeze_panes(s.ws, 1, 0);
    cJSON_ArrayForEach(m, scen) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name"), *c;
        s.scenario = cJSON_IsString(name) ? name->valuestring : "";
        cJSON_ArrayForEach(c, m) {
            if (strcmp(c->string, "name") == 0 || strcmp(c->string, "resolved") == 0)
                continue;
            flatten(&s, c->string, c);
        }
    }
    return SS_OK;
}

static int about_sheet(book *b, const cJSON *side, ss_err *err)
{
    const cJSON *c;
    kv_sheet s;
    memset(&s, 0, sizeof s);
    s.b = b;
    if (!(s.ws = add_sheet(b, "About", NULL)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    worksheet_write_string(s.ws, 0, 0, "provenance (the JSON sidecar)", b->hdr);
    worksheet_write_string(s.ws, 0, 1, "value", b->hdr);
    worksheet_set_column(s.ws, 0, 0, 40, NULL);
    worksheet_set_column(s.ws, 1, 1, 70, NULL);
    if (!side)
        return SS_OK;
    cJSON_ArrayForEach(c, side) {
        if (strcmp(c->string, "scenarios") == 0)
            continue;
        flatten(&s, c->string, c);
    }
    return SS_OK;
}

/* Lines of the scenario file with a "-- seed:", "-- source:",
 * "-- assumption:" or "-- fitted:" comment (any case; the colon may be
 * left out when nothing follows). */
static int sources_sheet(book *b, const char *file, ss_err *err)
{
    static const char *const kinds[] = { "seed", "source", "sources", "assumption", "fitted", NULL };
    FILE *f = file ? fopen(file, "r") : NULL;
    char line[4096];
    lxw_worksheet *ws = NULL;
    lxw_row_t row = 0;
    long no = 0;
    if (!f)
        return SS_OK;
    while (fgets(line, sizeof line, f)) {
        char *dash = strstr(line, "--"), *p, *e;
        size_t i, n;
        no++;
        if (!dash)
            continue;
        for (p = dash + 2; *p == ' ' || *p == '\t'; p++)
            ;
        for (i = 0; kinds[i]; i++) {
            n = strlen(kinds[i]);
            if (strncasecmp(p, kinds[i], n) == 0 &&
                (p[n] == ':' || p[n] == '\0' || p[n] == '\n' || p[n] == '\r'))
                break;
        }
        if (!kinds[i])
            continue;
        if (!ws) {
            if (!(ws = add_sheet(b, "Sources", NULL))) {
                fclose(f);
                return ss_err_set(err, SS_ENOMEM, "", "out of memory");
            }
            worksheet_write_string(ws, 0, 0, "file", b->hdr);
            worksheet_write_string(ws, 0, 1, "line", b->hdr);
            worksheet_write_string(ws, 0, 2, "kind", b->hdr);
            worksheet_write_string(ws, 0, 3, "note", b->hdr);
            worksheet_write_string(ws, 0, 4, "code", b->hdr);
            worksheet_set_column(ws, 0, 0, 28, NULL);
            worksheet_set_column(ws, 1, 2, 10, NULL);
            worksheet_set_column(ws, 3, 3, 70, NULL);
            worksheet_set_column(ws, 4, 4, 60, NULL);
            worksheet_freeze_panes(ws, 1, 0);
        }
        row++;
        for (e = line + strlen(line); e > p && isspace((unsigned char)e[-1]); e--)
            *(e - 1) = '\0';
        worksheet_write_string(ws, row, 0, file, b->text);
        worksheet_write_number(ws, row, 1, (double)no, NULL);
        {
            char k[16];
            snprintf(k, sizeof k, "%s", kinds[i]);
            if (strcmp(k, "sources") == 0)
                k[6] = '\0';
            worksheet_write_string(ws, row, 2, k, b->text);
        }
        for (p += strlen(kinds[i]) + (p[strlen(kinds[i])] == ':'); *p == ' ' || *p == '\t'; p++)
            ;
        worksheet_write_string(ws, row, 3, p, b->text);
        *dash = '\0';
        for (e = dash; e > line && isspace((unsigned char)e[-1]); e--)
            *(e - 1) = '\0';
        for (p = line; *p == ' ' || *p == '\t'; p++)
            ;
        if (*p)
            worksheet_write_string(ws, row, 4, p, b->text);
    }
    fclose(f);
    return SS_OK;
}

/* ------------------------------------------------------------ the book */

static int col_index(const cli_csv *t, const char *name)
{
    return cli_csv_col(t, name);
}

static int build(book *b, const cli_csv *t, const cJSON *side, ss_err *err)
{
    pivot p;
    int rc;
    memset(&p, 0, sizeof p);
    p.t = t;
    p.c_scen = col_index(t, "scenario");
    p.c_time = col_index(t, "time");
    p.c_prov = col_index(t, "provider");
    p.c_seg = col_index(t, "segment");
    p.c_metric = col_index(t, "metric");
    if (p.c_scen == 0 && p.c_time == 1 && p.c_prov == 2 && p.c_seg == 3 && p.c_metric == 4 &&
        ((t->ncol == 6 && strcmp(t->cols[5], "value") == 0) ||
         (t->ncol > 7 && strcmp(t->cols[5], "mean") == 0 && strcmp(t->cols[6], "sd") == 0))) {
        size_t k;
        p.mc = t->ncol > 6;
        if (!(p.vcols = calloc(t->ncol, sizeof *p.vcols)))
            return ss_err_set(err, SS_ENOMEM, "", "out of memory");
        for (k = 5; k < t->ncol; k++)
            p.vcols[p.nv++] = (int)k;
        rc = metric_sheets(b, &p, err);
        free(p.vcols);
    } else {
        rc = table_sheet(b, t, err);
    }
    if (rc == SS_OK && side)
        rc = inputs_sheet(b, side, err);
    if (rc == SS_OK && side) {
        const cJSON *file = cJSON_GetObjectItemCaseSensitive(side, "scenario_file");
        rc = sources_sheet(b, cJSON_IsString(file) ? file->valuestring : NULL, err);
    }
    if (rc == SS_OK)
        rc = about_sheet(b, side, err);
    return rc;
}

static lxw_format *fmt(lxw_workbook *wb, const char *num)
{
    lxw_format *f = workbook_add_format(wb);
    if (f && num)
        format_set_num_format(f, num);
    return f;
}

/* Copy the scratch file into f. */
static int copy_into(FILE *f, const char *path, const char *target, ss_err *err)
{
    FILE *in = fopen(path, "rb");
    char buf[65536];
    size_t n;
    if (!in)
        return ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", target, strerror(errno));
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, f) != n) {
            fclose(in);
            return ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", target,
                              errno ? strerror(errno) : "write error");
        }
    n = (size_t)ferror(in);
    fclose(in);
    if (n)
        return ss_err_set(err, SS_EIO, "", "cannot write '%s': reading the workbook failed", target);
    return SS_OK;
}

/* The CSV text (copied: the parser splits it in place) as a table, and
 * the sidecar (if any) as JSON. On failure nothing is left to free. */
static int read_inputs(const char *target, const char *csv, size_t len, const char *sidecar_json,
                       cli_csv **t, cJSON **side, ss_err *err)
{
    char msg[512], *buf;
    if (!(buf = malloc(len + 1)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    memcpy(buf, csv, len);
    buf[len] = '\0';
    if (cli_csv_parse(t, "the table", buf, len, msg, sizeof msg) != 0)
        return ss_err_set(err, SS_EINVAL, "", "workbook '%s': %s", target, msg);
    if (sidecar_json && !(*side = cJSON_Parse(sidecar_json))) {
        cli_csv_free(*t);
        return ss_err_set(err, SS_EINVAL, "", "workbook '%s': unreadable sidecar", target);
    }
    return SS_OK;
}

/* The scratch file beside the target, ".NAME.xlsx-" and mkstemp's six
 * characters: created (empty) and listed for the fatal-signal clean-up
 * with signals blocked; its name into *scratch (malloc'ed), its entry in
 * that list into *track. On failure nothing is left. */
static int make_scratch(const char *target, char **scratch, int *track, ss_err *err)
{
    const char *slash = strrchr(target, '/');
    size_t dlen = slash ? (size_t)(slash - target) + 1 : 0;
    sigset_t all, old;
    int fd, rc;
    if (!(*scratch = malloc(dlen + strlen(target + dlen) + 16)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    sprintf(*scratch, "%.*s.%s-" SS_MKSTEMP_SUFFIX, (int)dlen, target, target + dlen);
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    fd = mkstemp(*scratch);
    if (fd >= 0)
        *track = ss_outfile_track(*scratch);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        rc = ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", target, strerror(errno));
        free(*scratch);
        *scratch = NULL;
        return rc;
    }
    close(fd);
    return SS_OK;
}

/* The document properties from the sidecar (title "stratsim COMMAND FILE",
 * the version as comments, author stratsim), and what the sheets need of
 * it: the command and, for sens, the method that names the sheet. */
static void book_properties(book *b, const cJSON *side)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(side, "command");
    /* the analysis settings {"sens": {"method": "tornado", ...}} */
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(side, cJSON_IsString(c) ? c->valuestring : ""), "method");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(side, "scenario_file");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(side, "stratsim_version");
    lxw_doc_properties props;
    b->command = cJSON_IsString(c) ? c->valuestring : "";
    /* sens: the sheet is named after the method (tornado, sobol) */
    b->method = cJSON_IsString(m) && strcmp(b->command, "sens") == 0 ? m->valuestring : NULL;
    snprintf(b->title, sizeof b->title, "stratsim %s %s", b->command,
             cJSON_IsString(file) ? file->valuestring : "");
    memset(&props, 0, sizeof props);
    props.title = b->title;
    props.comments = cJSON_IsString(ver) ? ver->valuestring : NULL;
    props.author = (char *)"stratsim";
    workbook_set_properties(b->wb, &props);
}

/* The cell formats of the book: bold underlined headers, times, shares
 * as percentages, money, fine ratios; text and the general format are
 * libxlsxwriter's default. */
static void book_formats(book *b)
{
    b->hdr = workbook_add_format(b->wb);
    if (b->hdr) {
        format_set_bold(b->hdr);
        format_set_bottom(b->hdr, LXW_BORDER_THIN);
    }
    b->text = NULL;
    b->time = fmt(b->wb, "0.00");
    b->pct = fmt(b->wb, "0.00%");
    b->money = fmt(b->wb, "#,##0.00");
    b->fine = fmt(b->wb, "0.0000");
    b->general = NULL;
}

/* The workbook of table t (and sidecar side) written to the scratch file,
 * then copied into f. */
static int write_book(FILE *f, const char *target, const char *scratch, const cli_csv *t,
                      const cJSON *side, ss_err *err)
{
    lxw_workbook_options opt;
    lxw_error le;
    book b;
    int rc;
    memset(&b, 0, sizeof b);
    memset(&opt, 0, sizeof opt);
    b.wb = workbook_new_opt(scratch, &opt);
    if (!b.wb)
        return ss_err_set(err, SS_EIO, "", "cannot write '%s': libxlsxwriter failed", target);
    book_properties(&b, side);
    book_formats(&b);
    rc = build(&b, t, side, err);
    le = workbook_close(b.wb); /* writes the scratch file, frees the workbook */
    if (rc == SS_OK && le != LXW_NO_ERROR)
        rc = ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", target, lxw_strerror(le));
    if (rc == SS_OK)
        rc = copy_into(f, scratch, target, err);
    return rc;
}

int cli_xlsx_write(FILE *f, const char *target, const char *csv, size_t len,
                   const char *sidecar_json, ss_err *err)
{
    cli_csv *t = NULL;
    cJSON *side = NULL;
    char *scratch;
    int rc, track = -1;

    if ((rc = read_inputs(target, csv, len, sidecar_json, &t, &side, err)) != SS_OK)
        return rc;
    if ((rc = make_scratch(target, &scratch, &track, err)) != SS_OK) {
        cli_csv_free(t);
        cJSON_Delete(side);
        return rc;
    }
    rc = write_book(f, target, scratch, t, side, err);
    ss_outfile_untrack(track);
    unlink(scratch);
    free(scratch);
    cli_csv_free(t);
    cJSON_Delete(side);
    return rc;
}
