/*
 * chart.c - terminal charts for the results API (result:plot(),
 * stratsim.sparkline): a line chart of one or several time series drawn
 * with Unicode braille dots (2 x 4 dots per character cell) or ASCII
 * markers, with y-axis labels (maximum, middle, minimum), a time axis with
 * the first, middle and last time, and a legend; and sparklines of block
 * characters.
 *
 * Pure C over plain arrays, writing to a caller-supplied stream (the Lua
 * layer renders into an open_memstream buffer). A series is interpolated linearly between its points in time,
 * so each character column shows the value at its time. NaN and infinite
 * values are left out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "sl_internal.h"

#define MAX_W 240
#define MAX_H 60
#define LABEL_MAX 24

static const char markers[] = "*+ox#@%&";

/* Value of series s at time t (linear between points), NaN outside. */
static double interp(const sl_chart_series *s, double t)
{
    size_t lo = 0, hi;
    if (s->n == 0 || t < s->t[0] - 1e-12 || t > s->t[s->n - 1] + 1e-12)
        return NAN;
    if (s->n == 1)
        return s->v[0];
    hi = s->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (t <= s->t[lo])
        return s->v[lo];
    if (t >= s->t[hi])
        return s->v[hi];
    return s->v[lo] + (s->v[hi] - s->v[lo]) * (t - s->t[lo]) / (s->t[hi] - s->t[lo]);
}

/* Shortest readable label of y-axis value x (at most ~10 characters). */
static void fmt_value(char *buf, size_t n, double x)
{
    snprintf(buf, n, "%.4g", x);
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, n, "0");
}

/* Label of time t (up to 7 significant digits). */
static void fmt_time(char *buf, size_t n, double t)
{
    snprintf(buf, n, "%.7g", t);
}

/* Write one braille cell (U+2800 + bits) as UTF-8. */
static void put_braille(FILE *f, unsigned bits)
{
    unsigned cp = 0x2800u + (bits & 0xffu);
    fputc((int)(0xE0u | (cp >> 12)), f);
    fputc((int)(0x80u | ((cp >> 6) & 0x3fu)), f);
    fputc((int)(0x80u | (cp & 0x3fu)), f);
}

/* Bit of the braille dot at column dx (0, 1) and row dy (0 = top .. 3). */
static unsigned braille_bit(int dx, int dy)
{
    static const unsigned left[4] = { 0x01, 0x02, 0x04, 0x40 };
    static const unsigned right[4] = { 0x08, 0x10, 0x20, 0x80 };
    return dx ? right[dy] : left[dy];
}

/* The state of one sl_chart_write: the sizes, the ranges, the y labels and
 * the plot area's cells. */
typedef struct chart {
    unsigned char cells[MAX_H][MAX_W];  /* braille bits or marker index + 1 */
    char top[LABEL_MAX], mid[LABEL_MAX], bot[LABEL_MAX];
    double ymin, ymax, tmin, tmax;
    int W, H;     /* total columns, rows of the plot area */
    int ascii;    /* 1: ASCII markers, 0: braille dots */
    int lw;       /* width of the y labels */
    int P;        /* character columns of the plot area */
    int X, Y;     /* dot columns and dot rows of the plot area */
} chart;

/* The sizes from the options (defaults 72 x 10), clamped to the cells. */
static void chart_size(chart *ch, const sl_chart_opts *o)
{
    ch->W = o && o->width > 0 ? o->width : 72;
    ch->H = o && o->height > 0 ? o->height : 10;
    ch->ascii = o ? o->ascii : 0;
    if (ch->W > MAX_W)
        ch->W = MAX_W;
    if (ch->H > MAX_H)
        ch->H = MAX_H;
    if (ch->H < 2)
        ch->H = 2;
}

/* The ranges of the values and times over the finite points of every
 * series (ymin > ymax: no such point). */
static void chart_range(chart *ch, const sl_chart_series *s, size_t ns)
{
    size_t i, j;
    ch->ymin = INFINITY;
    ch->ymax = -INFINITY;
    ch->tmin = INFINITY;
    ch->tmax = -INFINITY;
    for (i = 0; i < ns; i++)
        for (j = 0; j < s[i].n; j++) {
            if (!isfinite(s[i].v[j]) || !isfinite(s[i].t[j]))
                continue;
            if (s[i].v[j] < ch->ymin) ch->ymin = s[i].v[j];
            if (s[i].v[j] > ch->ymax) ch->ymax = s[i].v[j];
            if (s[i].t[j] < ch->tmin) ch->tmin = s[i].t[j];
            if (s[i].t[j] > ch->tmax) ch->tmax = s[i].t[j];
        }
}

/* The y labels (a flat line centred first) and, from their width, the
 * plot area in characters and in dots; clears the cells. */
static void chart_layout(chart *ch)
{
    int H = ch->H, ascii = ch->ascii;
    if (ch->ymin == ch->ymax) {   /* a flat line: centre it */
        double d = fabs(ch->ymin) > 0 ? fabs(ch->ymin) * 0.05 : 0.5;
        ch->ymin -= d;
        ch->ymax += d;
    }
    fmt_value(ch->top, sizeof ch->top, ch->ymax);
    fmt_value(ch->bot, sizeof ch->bot, ch->ymin);
    ch->Y = ascii ? H : 4 * H;
    {   /* the middle row's label is the value at that row's centre */
        int rm = (H - 1) / 2, Y = ch->Y;
        double ym = ascii ? (double)(Y - 1 - rm) : (double)(Y - 1 - 4 * rm) - 1.5;
        fmt_value(ch->mid, sizeof ch->mid, ch->ymin + (ch->ymax - ch->ymin) * ym / (Y - 1));
    }
    ch->lw = (int)strlen(ch->top);
    if ((int)strlen(ch->bot) > ch->lw) ch->lw = (int)strlen(ch->bot);
    if (H >= 5 && (int)strlen(ch->mid) > ch->lw) ch->lw = (int)strlen(ch->mid);
    ch->P = ch->W - ch->lw - 2;
    if (ch->P < 8)
        ch->P = 8;
    ch->X = ascii ? ch->P : 2 * ch->P;
    memset(ch->cells, 0, sizeof ch->cells);
}

/* Draw series i (the i-th marker) into the cells: its value at each dot
 * column's time, joined to the previous column by a vertical run. */
static void chart_draw(chart *ch, const sl_chart_series *s, size_t i)
{
    int X = ch->X, Y = ch->Y, ascii = ch->ascii, prev = -1, x;
    double tmin = ch->tmin, tmax = ch->tmax, ymin = ch->ymin, ymax = ch->ymax;
    for (x = 0; x < X; x++) {
        double tx = X > 1 && tmax > tmin ? tmin + (tmax - tmin) * x / (X - 1) : tmin;
        double v = interp(s, tx);
        int y, y0, y1, yy;
        if (!isfinite(v)) {
            prev = -1;
            continue;
        }
        y = (int)lround((v - ymin) / (ymax - ymin) * (Y - 1));
        if (y < 0) y = 0;
        if (y > Y - 1) y = Y - 1;
        /* join to the previous column with a vertical run in this one */
        y0 = y1 = y;
        if (prev >= 0 && prev < y)
            y0 = prev + 1;
        else if (prev > y)
            y1 = prev - 1;
        for (yy = y0; yy <= y1; yy++) {
            int row = (Y - 1 - yy) / (ascii ? 1 : 4);
            int col = x / (ascii ? 1 : 2);
            if (ascii)
                ch->cells[row][col] = (unsigned char)(i % (sizeof markers - 1) + 1);
            else
                ch->cells[row][col] |= (unsigned char)braille_bit(x % 2, (Y - 1 - yy) % 4);
        }
        prev = y;
    }
}

/* The rows of the plot area (labels at the top, middle and bottom rows,
 * no trailing blanks), then the x axis line. */
static void chart_put_rows(FILE *f, const chart *ch)
{
    int H = ch->H, lw = ch->lw, P = ch->P, ascii = ch->ascii, r, c, last;
    for (r = 0; r < H; r++) {
        const char *lab = r == 0 ? ch->top : r == H - 1 ? ch->bot
                          : (H >= 5 && r == (H - 1) / 2) ? ch->mid : "";
        fprintf(f, "%*s %s", lw, lab, ascii ? "|" : *lab ? "\xE2\x94\xA4" : "\xE2\x94\x82");
        for (last = P; last > 0 && !ch->cells[r][last - 1]; last--)
            ;   /* no trailing blanks */
        for (c = 0; c < last; c++) {
            if (ascii)
                fputc(ch->cells[r][c] ? markers[ch->cells[r][c] - 1] : ' ', f);
            else if (ch->cells[r][c])
                put_braille(f, ch->cells[r][c]);
            else
                fputc(' ', f);
        }
        fputc('\n', f);
    }
    fprintf(f, "%*s %s", lw, "", ascii ? "+" : "\xE2\x94\x94");
    for (c = 0; c < P; c++)
        fputs(ascii ? "-" : "\xE2\x94\x80", f);
    fputc('\n', f);
}

/* The time labels: first at the left, last at the right, middle centred
 * (each only where it fits). */
static void chart_put_times(FILE *f, const chart *ch)
{
    char tl[3][32], line[MAX_W + 64];
    int lw = ch->lw, P = ch->P, len, l0, l1, l2, m0;
    fmt_time(tl[0], sizeof tl[0], ch->tmin);
    fmt_time(tl[1], sizeof tl[1], (ch->tmin + ch->tmax) / 2);
    fmt_time(tl[2], sizeof tl[2], ch->tmax);
    len = lw + 2 + P;
    l0 = (int)strlen(tl[0]);
    l1 = (int)strlen(tl[1]);
    l2 = (int)strlen(tl[2]);
    m0 = lw + 2 + P / 2 - l1 / 2;
    memset(line, ' ', (size_t)len);
    line[len] = '\0';
    memcpy(line + lw + 2, tl[0], (size_t)l0);
    if (ch->tmax > ch->tmin) {
        if (len - l2 >= lw + 2 + l0 + 1)
            memcpy(line + len - l2, tl[2], (size_t)l2);
        if (m0 > lw + 2 + l0 + 1 && m0 + l1 < len - l2 - 1)
            memcpy(line + m0, tl[1], (size_t)l1);
    }
    while (len > 0 && line[len - 1] == ' ')
        line[--len] = '\0';
    fprintf(f, "%s\n", line);
}

/* The legend (several series, or one with a label): a marker and the label
 * of each series, wrapped at the total width. */
static void chart_put_legend(FILE *f, const chart *ch, const sl_chart_series *s, size_t ns)
{
    int col = 0;
    size_t i;
    if (!(ns > 1 || (ns == 1 && s[0].label && *s[0].label)))
        return;
    for (i = 0; i < ns; i++) {
        const char *lab = s[i].label ? s[i].label : "";
        int w = (int)strlen(lab) + 4;
        if (col > 0 && col + w > ch->W) {
            fputc('\n', f);
            col = 0;
        }
        if (ch->ascii)
            fprintf(f, "%s%c %s", col ? "  " : "  ", markers[i % (sizeof markers - 1)], lab);
        else
            fprintf(f, "  \xE2\xA3\xBF %s", lab);
        col += w;
    }
    fputc('\n', f);
}

void sl_chart_write(FILE *f, const sl_chart_series *s, size_t ns, const sl_chart_opts *o)
{
    chart ch;
    size_t i;

    chart_size(&ch, o);
    chart_range(&ch, s, ns);
    if (o && o->title && *o->title)
        fprintf(f, "%s\n", o->title);
    if (!(ch.ymin <= ch.ymax)) {
        fputs("(no data)\n", f);
        return;
    }
    chart_layout(&ch);
    for (i = 0; i < ns; i++)
        chart_draw(&ch, &s[i], i);
    chart_put_rows(f, &ch);
    chart_put_times(f, &ch);
    chart_put_legend(f, &ch, s, ns);
}

void sl_sparkline_write(FILE *f, const double *v, size_t n)
{
    static const char *const blocks[8] = {
        "\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
        "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88"
    };
    double lo = INFINITY, hi = -INFINITY;
    size_t i;
    for (i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    for (i = 0; i < n; i++) {
        int b;
        if (!isfinite(v[i])) {
            fputc(' ', f);
            continue;
        }
        b = hi > lo ? (int)lround((v[i] - lo) / (hi - lo) * 7) : 3;
        if (b < 0) b = 0;
        if (b > 7) b = 7;
        fputs(blocks[b], f);
    }
}
