/*
 * plot_internal.h - what the files of `stratsim plot` share besides the
 * gnuplot side (plot.h): the options, the rows read from the CSV file
 * (plot_data.c), the series a chart draws and their styles and labels
 * (plot_series.c), the common parts of a gnuplot script, metric names and
 * the palette (plot_script.c), and the chart kinds (plot_chart_*.c).
 * Prefix plot_.  Only the files of src/cli/plot/ include this.
 */
#ifndef SS_CLI_PLOT_INTERNAL_H
#define SS_CLI_PLOT_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include "core/csvread.h"

enum { K_AUTO, K_LINE, K_FAN, K_STACKED, K_TORNADO, K_SWEEP };
enum { F_NONE, F_PNG, F_SVG, F_PDF };
enum { L_LONG, L_DATA, L_MC, L_WIDE, L_TORNADO, L_SWEEP };
enum { C_PLAIN, C_PCT, C_MONEY, C_OTHER };

/* ------------------------------------------------------------ options */

typedef struct strlist {
    const char **v;
    size_t n;
} strlist;

typedef struct plot_opts {
    const char *file, *out, *overlay, *title, *unit, *select, *script;
    strlist metric, provider, segment, scenario;
    int kind, format, width, height, has_base;
    double base;
    char **bufs; /* copies of comma-separated option values */
    size_t nbufs;
} plot_opts;

/* ------------------------------------------------------------ data (plot_data.c) */

typedef struct rec {
    const char *scen, *prov, *seg, *metric;
    double t;
} rec;

typedef struct dataset {
    cli_csv *csv;
    int layout;
    rec *r;
    size_t n;
    double *v;          /* nv values per record */
    size_t nv;
    int imid;           /* value index of the central line (p50, mean or value) */
    int imean, isd;     /* value index of mean and sd, or -1 */
    size_t np;          /* quantile columns, by increasing level */
    double *plev;
    int *ip;
    char **pname;       /* their column names (borrowed) */
    char **owned;       /* wide layout: split column names */
    size_t nowned;
} dataset;

/* The record fields by number, for generic grouping and messages. */
enum { FLD_SCEN, FLD_PROV, FLD_SEG, FLD_METRIC };

/* The names of the L_* layouts and of the FLD_* fields, for messages. */
extern const char *const plot_layout_names[];
extern const char *const plot_fld_name[];

/* Read FILE into records; *out gets the dataset. Returns an exit status. */
int plot_load(dataset **out, const char *path);
void plot_dataset_free(dataset *d);
/* Does the CSV file have a column of that name? */
int plot_has(const cli_csv *c, const char *name);
/* Columns of a sweep written with --outputs: the number of leading parameter
 * paths, or 0 if the header is not one. */
size_t plot_sweep_sel_paths(const cli_csv *c);
/* The number in a cell (empty: NaN if allowed); 0, or an exit status after
 * printing the error. */
int plot_cell_number(const cli_csv *c, size_t row, int col, double *x, int allow_empty);
/* Is s in the list (an empty list holds everything)? */
int plot_in_list(const strlist *l, const char *s);
/* Field f (FLD_*) of a record. */
const char *plot_rec_field(const rec *r, int f);
/* Every name of a filter must occur in the data (else: exit 1, listing them). */
int plot_check_filter(const dataset *d, const char *file, const strlist *l, int f);
/* The metrics to plot: --metric, else `deflt` if present, else the only one
 * (*one holds it, out points at it). Returns an exit status. */
int plot_choose_metrics(strlist *out, const plot_opts *o, const dataset *d, const char *deflt,
                        const char **one);
/* qsort comparison of doubles. */
int plot_dbl_cmp(const void *a, const void *b);

/* ------------------------------------------------------------ series (plot_series.c) */

typedef struct pt {
    double t;
    size_t i; /* record index */
} pt;

typedef struct series {
    const char *f[4]; /* scenario, provider, segment, metric */
    pt *p;
    size_t n, cap;
    int color, dash, marker; /* marker 0: none */
} series;

typedef struct seriesset {
    series *s;
    size_t n, cap;
    size_t last;
} seriesset;

/*
 * Colours, dash types and markers.  When several fields vary between series,
 * each gets its own channel so that a value keeps its look across the chart:
 * provider and segment both varying: colour by provider, dash by segment
 * (and markers by scenario if the scenario varies too); otherwise the
 * scenario if it varies (else the segment, when the provider or the metric
 * varies too) gets the dash types and the rest the colours.  The chosen
 * fields are returned in st (-1: not used) for the legend.
 */
typedef struct styling {
    int dashf, markf;
    size_t ncolor, ndash, nmark;
} styling;

/* Extra data for the line and fan charts: observed points to overlay. */
typedef struct overlay {
    dataset *d;
    seriesset ss;
} overlay;

void plot_seriesset_free(seriesset *ss);
/* Select the records of the chart into series (sorted by time). */
int plot_select_series(seriesset *ss, const plot_opts *o, const dataset *d,
                       const strlist *metric, int need_segment);
/* Does field f differ between the series? */
int plot_varies(const seriesset *ss, int f);
void plot_assign_styles(seriesset *ss, styling *st);
/* All series must share one unit class; returns it or -1 after an error. */
int plot_common_class(const seriesset *ss);
/* The time span of the series. */
void plot_series_trange(const seriesset *ss, double *t0, double *t1);
/* Does the metric occur both with and without a segment (e.g. revenue)? */
int plot_mixed_segments(const seriesset *ss);
/* The legend text of series s: the parts that differ between series. */
void plot_series_label(char *buf, size_t size, const seriesset *ss, const series *s,
                       const int vary[4], int total_for_empty_segment);
/* The default title: metric(s), then what every series shares. */
void plot_default_title(char *buf, size_t size, const seriesset *ss, const int vary[4],
                        const char *suffix);
/* The y-axis label of a set of series. */
void plot_series_ylabel(char *buf, size_t size, const seriesset *ss, int cls, const plot_opts *o);
/* Load the overlay file and group the rows that match the plotted series. */
int plot_overlay_load(overlay *ov, const plot_opts *o, const strlist *metric);
void plot_overlay_free(overlay *ov);

/* ------------------------------------------------------------ script (plot_script.c) */

/* Tableau 10: distinct, colour-blind tolerant, readable on white. */
#define NPALETTE ((size_t)10)
extern const char *const plot_palette[NPALETTE];

/* A metric's class (C_*), its label (its name if unknown), and the factor
 * its values are shown with (100 for percentages). */
int plot_metric_class(const char *m);
const char *plot_metric_label(const char *m);
double plot_metric_scale(const char *m);
/* The axis label of metric m (label + unit) into buf. */
void plot_axis_label(char *buf, size_t size, const char *label, int cls, const char *unit);
/* Append to a label buffer with a separator. */
void plot_cat(char *buf, size_t size, const char *sep, const char *s);

/* `set WHAT 'S' EXTRA`. */
void plot_gp_set_string(FILE *f, const char *what, const char *s, const char *extra);
/* Script header: provenance comment, terminal, common style. */
void plot_script_head(FILE *f, const plot_opts *o, const char *kind);
/* The title: --title, else deflt. */
void plot_script_title(FILE *f, const plot_opts *o, const char *deflt);
/* x range and year tics from the plotted times. */
void plot_script_xrange(FILE *f, double t0, double t1);
/* `$NAMEk << EOD`. */
void plot_datablock_begin(FILE *f, const char *name, size_t k);

/* ------------------------------------------------------------ charts (plot_chart_*.c) */

/* Each writes the script of its kind to f; returns an exit status (after
 * printing the error). */
int plot_chart_line(FILE *f, const plot_opts *o, const dataset *d, int fan); /* line and fan */
int plot_chart_stacked(FILE *f, const plot_opts *o, const dataset *d);
int plot_chart_tornado(FILE *f, const plot_opts *o, const dataset *d);
int plot_chart_sweep(FILE *f, const plot_opts *o, const dataset *d);

#endif
