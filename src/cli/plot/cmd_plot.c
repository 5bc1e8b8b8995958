/*
 * cmd_plot.c - `stratsim plot`: its options (table, parsing, checks), the
 * choice of the chart kind from the CSV header or --kind, and the verb's
 * flow: read the file (plot_data.c), write the gnuplot script of the kind
 * (plot_chart_*.c) into memory, save it with --script, and run gnuplot on it
 * (plot_gnuplot.c), which writes the figure atomically.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "cli/plot/plot.h"
#include "cli/plot/plot_internal.h"

static const char plot_usage[] =
    "Usage: stratsim plot FILE.csv -o FIGURE.png|svg|pdf [options]\n"
    "\n"
    "Draw a chart of a CSV file with gnuplot (which must be installed). The kind\n"
    "of chart follows from the file's header:\n"
    "  long or wide results (stratsim run/compare -o)  line: a metric over time,\n"
    "                        one line per scenario, provider and segment\n"
    "  Monte Carlo summary (stratsim mc -o)           fan: median (or mean) line\n"
    "                        and the band between the lowest and highest quantile\n"
    "  tornado table (stratsim sens -o)               tornado: output swing per\n"
    "                        parameter, largest first\n"
    "  sweep (stratsim sweep -o)                      sweep: an output against the\n"
    "                        swept value (one path: lines) or a heat map over\n"
    "                        the two swept values (two paths); the long layout\n"
    "                        gives each point's value at its last output time\n"
    "  calibration data (time,provider,segment,metric,value) observed points\n"
    "\n"
    "Options:\n";

static const cli_opt_spec plot_specs[] = {
    { CLI_OPT_VALUE, "--output", 'o', "FIGURE",
      "the figure; the format follows the extension\n"
      "(.png, .svg, .pdf) unless --format is given" },
    { CLI_OPT_VALUE, "--kind", 0, "KIND",
      "line, fan, stacked (segment revenue of one\n"
      "provider, stacked), tornado or sweep" },
    { CLI_OPT_VALUE, "--metric", 0, "LIST", "metrics to plot (default share; stacked: revenue)" },
    { CLI_OPT_VALUE, "--provider", 0, "LIST", "providers to plot (default all)" },
    { CLI_OPT_VALUE, "--segment", 0, "LIST", "segments to plot (default all)" },
    { CLI_OPT_VALUE, "--scenario", 0, "LIST",
      "scenarios to plot (default all)\n"
      "LIST is comma-separated; the options repeat" },
    { CLI_OPT_VALUE, "--overlay", 0, "DATA.csv",
      "add observed points from a calibration data file\n"
      "(time,provider,segment,metric,value[,weight])" },
    { CLI_OPT_VALUE, "--select", 0, "OUTPUT",
      "tornado: the output to show when the table has several;\n"
      "sweep --outputs file: the output(s) to draw (heat\n"
      "map default: the first)" },
    { CLI_OPT_VALUE, "--base", 0, "VALUE",
      "tornado: the output at the base values (bars start\n"
      "there; default: a base column of the file, if any)" },
    { CLI_OPT_VALUE, "--title", 0, "TEXT", "the title (default derived from the data and filters)" },
    { CLI_OPT_VALUE, "--unit", 0, "TEXT",
      "unit of money values, e.g. 'CNY bn / year' (default\n"
      "none); shares, margins and reliability are in %" },
    { CLI_OPT_VALUE, "--size", 0, "WxH", "size in pixels (default 900x560; PDF: 100 px = 1 in)" },
    { CLI_OPT_VALUE, "--format", 0, "FMT", "png, svg or pdf, whatever the extension" },
    { CLI_OPT_VALUE, "--script", 0, "FILE.gp",
      "also save the gnuplot script (self-contained:\n"
      "gnuplot -d FILE.gp > FIGURE)" },
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static const char plot_tail[] =
    "\n"
    "Environment: STRATSIM_GNUPLOT names the gnuplot program (default: gnuplot\n"
    "on PATH). Exit status: 0 success, 1 data or gnuplot error, 2 usage error.\n";

static const char *const kind_names[] = { "auto", "line", "fan", "stacked", "tornado", "sweep" };

static void opts_free(plot_opts *o)
{
    size_t i;
    for (i = 0; i < o->nbufs; i++)
        free(o->bufs[i]);
    free(o->bufs);
    free(o->metric.v);
    free(o->provider.v);
    free(o->segment.v);
    free(o->scenario.v);
}

/* Split a comma-separated option value into l. 0, or an exit status. */
static int add_list(plot_opts *o, strlist *l, const char *opt, const char *val)
{
    char *copy, *p, **nb;
    size_t added = 0;
    if (!(copy = strdup(val)) || !(nb = realloc(o->bufs, (o->nbufs + 1) * sizeof *nb))) {
        free(copy);
        return cli_error("out of memory");
    }
    o->bufs = nb;
    o->bufs[o->nbufs++] = copy;
    for (p = copy; p;) {
        char *c = strchr(p, ','), *s = p, *e;
        const char **nv;
        if (c)
            *c = '\0';
        p = c ? c + 1 : NULL;
        while (*s == ' ')
            s++;
        e = s + strlen(s);
        while (e > s && e[-1] == ' ')
            *--e = '\0';
        if (!*s)
            continue;
        nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (!nv)
            return cli_error("out of memory");
        l->v = nv;
        l->v[l->n++] = s;
        added++;
    }
    if (!added)
        return cli_usage_error("plot", "%s needs a comma-separated list of names", opt);
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcasecmp(s + n - m, suf) == 0;
}

static int parse_format(const char *s)
{
    if (strcasecmp(s, "png") == 0)
        return F_PNG;
    if (strcasecmp(s, "svg") == 0)
        return F_SVG;
    if (strcasecmp(s, "pdf") == 0)
        return F_PDF;
    return F_NONE;
}

static int parse_size(const char *s, int *w, int *h)
{
    char *e;
    long a, b;
    errno = 0;
    a = strtol(s, &e, 10);
    if (e == s || (*e != 'x' && *e != 'X' && *e != ','))
        return -1;
    s = e + 1;
    b = strtol(s, &e, 10);
    if (e == s || *e || errno || a < 100 || b < 100 || a > 10000 || b > 10000)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

/* Apply option opt with value v; 0, or an exit status. */
static int apply_option(plot_opts *o, const cli_opt_spec *opt, const char *v)
{
#define OPT(name) cli_opt_is(opt, name)
    if (OPT("--output")) {
        if (!*v)
            return cli_usage_error("plot", "-o needs a file name");
        o->out = v;
    } else if (OPT("--kind")) {
        size_t k;
        o->kind = -1;
        for (k = 1; k < sizeof kind_names / sizeof kind_names[0]; k++)
            if (strcmp(v, kind_names[k]) == 0)
                o->kind = (int)k;
        if (o->kind < 0)
            return cli_usage_error("plot", "--kind must be line, fan, stacked, tornado or sweep "
                                   "(not '%s')", v);
    } else if (OPT("--metric")) {
        return add_list(o, &o->metric, "--metric", v);
    } else if (OPT("--provider")) {
        return add_list(o, &o->provider, "--provider", v);
    } else if (OPT("--segment")) {
        return add_list(o, &o->segment, "--segment", v);
    } else if (OPT("--scenario")) {
        return add_list(o, &o->scenario, "--scenario", v);
    } else if (OPT("--overlay")) {
        if (o->overlay)
            return cli_usage_error("plot", "only one --overlay file");
        o->overlay = v;
    } else if (OPT("--select")) {
        o->select = v;
    } else if (OPT("--base")) {
        char *e;
        o->base = strtod(v, &e);
        if (e == v || *e || !isfinite(o->base))
            return cli_usage_error("plot", "--base needs a finite number (not '%s')", v);
        o->has_base = 1;
    } else if (OPT("--title")) {
        o->title = v;
    } else if (OPT("--unit")) {
        o->unit = v;
    } else if (OPT("--size")) {
        if (parse_size(v, &o->width, &o->height) != 0)
            return cli_usage_error("plot", "--size needs WIDTHxHEIGHT in pixels, 100 to 10000 (not '%s')", v);
    } else if (OPT("--format")) {
        if ((o->format = parse_format(v)) == F_NONE)
            return cli_usage_error("plot", "--format must be png, svg or pdf (not '%s')", v);
    } else if (OPT("--script")) {
        o->script = v;
    }
#undef OPT
    return 0;
}

/* The checks after the options: file, figure and its format, options that
 * do not go together, no output replacing an input or another output.
 * -1 to go on, else an exit status. */
static int check_args(plot_opts *o)
{
    cli_iolist io = { 0 };
    if (!o->file)
        return cli_usage_error("plot", "missing FILE.csv");
    if (!o->out)
        return cli_usage_error("plot", "missing -o FIGURE.png|svg|pdf");
    if (strcmp(o->out, "-") == 0)
        return cli_usage_error("plot", "-o needs a file name (a figure is not written to standard output)");
    if (o->format == F_NONE) {
        if (ends_with(o->out, ".png"))
            o->format = F_PNG;
        else if (ends_with(o->out, ".svg"))
            o->format = F_SVG;
        else if (ends_with(o->out, ".pdf"))
            o->format = F_PDF;
        else
            return cli_usage_error("plot", "cannot tell the format of '%s': use .png, .svg or .pdf, or --format", o->out);
    }
    if (o->overlay && (o->kind == K_STACKED || o->kind == K_TORNADO))
        return cli_usage_error("plot", "--overlay goes with line and fan charts");
    if (((o->select && o->kind != K_SWEEP) || o->has_base) && o->kind != K_AUTO && o->kind != K_TORNADO)
        return cli_usage_error("plot", "--select and --base go with tornado charts (--select also "
                               "with sweeps)");
    cli_io_add(&io, o->file, "the CSV file", 0, 0);
    cli_io_add(&io, o->overlay, "the --overlay file", 0, 0);
    cli_io_add(&io, o->out, "-o", 1, 0);
    cli_io_add(&io, o->script, "--script", 1, 0);
    if (cli_io_check("plot", &io) != EXIT_OK)
        return EXIT_USAGE;
    return -1;
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int parse_args(plot_opts *o, int argc, char **argv)
{
    cli_opt_parser p;
    const cli_opt_spec *opt;
    const char *v;
    int st, r;
    o->width = 900;
    o->height = 560;
    cli_opt_parser_init(&p, plot_specs, argc, argv);
    while ((st = cli_opt_next(&p, &opt, &v)) != CLI_OPT_DONE) {
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown("plot", v, plot_specs);
        if (st == CLI_OPT_ARG) {
            if (o->file)
                return cli_usage_error("plot", "only one CSV file (got '%s' and '%s')", o->file, v);
            o->file = v;
            continue;
        }
        if (cli_opt_is(opt, "--help")) {
            fputs(plot_usage, stdout);
            cli_opt_help(stdout, plot_specs, 24);
            fputs(plot_tail, stdout);
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
        }
        if (st == CLI_OPT_MISSING)
            return cli_usage_error("plot", "%s needs a value",
                                   cli_opt_is(opt, "--output") ? "-o" : opt->name);
        if ((r = apply_option(o, opt, v)) != 0)
            return r;
    }
    return check_args(o);
}

/* Write the script to path atomically. */
static int save_script(const char *path, const char *script, size_t len)
{
    ss_outfile *out = NULL;
    ss_err err = { 0 };
    if (ss_outfile_open(&out, path, &err) != SS_OK)
        return cli_error("%s", err.msg);
    if (fwrite(script, 1, len, ss_outfile_stream(out)) != len) {
        ss_outfile_abort(out);
        return cli_error("%s: write error", path);
    }
    if (ss_outfile_commit(out, &err) != SS_OK)
        return cli_error("%s", err.msg);
    return EXIT_OK;
}

/* The chart kind: --kind, else the one of the file's layout; it must fit
 * the file and the options. An exit status. */
static int choose_kind(const plot_opts *o, const dataset *d, int *out)
{
    int kind = o->kind;
    if (kind == K_AUTO)
        kind = d->layout == L_TORNADO ? K_TORNADO : d->layout == L_MC ? K_FAN :
               d->layout == L_SWEEP ? K_SWEEP : K_LINE;
    if ((kind == K_TORNADO) != (d->layout == L_TORNADO) || (kind == K_FAN && d->layout != L_MC) ||
        (kind == K_SWEEP) != (d->layout == L_SWEEP))
        return cli_usage_error("plot", "a %s chart cannot be drawn from %s: it is a %s file",
                               kind_names[kind], o->file, plot_layout_names[d->layout]);
    if (kind == K_TORNADO && (o->metric.n || o->provider.n || o->segment.n || o->scenario.n))
        return cli_usage_error("plot", "a tornado chart takes --select, not --metric, --provider, "
                               "--segment or --scenario");
    if ((kind != K_TORNADO && o->has_base) || (kind != K_TORNADO && kind != K_SWEEP && o->select))
        return cli_usage_error("plot", "--select and --base go with tornado charts");
    if (kind == K_SWEEP && o->overlay)
        return cli_usage_error("plot", "--overlay goes with line and fan charts");
    if (o->overlay && kind != K_LINE && kind != K_FAN)
        return cli_usage_error("plot", "--overlay goes with line and fan charts");
    *out = kind;
    return EXIT_OK;
}

int cmd_plot(int argc, char **argv)
{
    plot_opts o;
    dataset *d = NULL;
    char *script = NULL, *gnuplot = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int rc, kind = K_AUTO;

    memset(&o, 0, sizeof o);
    if ((rc = parse_args(&o, argc, argv)) >= 0)
        goto done;
    if ((rc = plot_load(&d, o.file)) != EXIT_OK)
        goto done;
    if ((rc = choose_kind(&o, d, &kind)) != EXIT_OK)
        goto done;
    if (!(f = open_memstream(&script, &len))) {
        rc = cli_error("out of memory");
        goto done;
    }
    switch (kind) {
    case K_FAN: rc = plot_chart_line(f, &o, d, 1); break;
    case K_STACKED: rc = plot_chart_stacked(f, &o, d); break;
    case K_TORNADO: rc = plot_chart_tornado(f, &o, d); break;
    case K_SWEEP: rc = plot_chart_sweep(f, &o, d); break;
    default: rc = plot_chart_line(f, &o, d, 0); break;
    }
    if (fclose(f) != 0 && rc == EXIT_OK)
        rc = cli_error("out of memory");
    f = NULL;
    if (rc != EXIT_OK)
        goto done;
    if (o.script && (rc = save_script(o.script, script, len)) != EXIT_OK)
        goto done;
    if (!(gnuplot = plot_find_gnuplot())) {
        rc = EXIT_ERROR;
        goto done;
    }
    rc = plot_run_gnuplot(gnuplot, script, len, o.out);
done:
    if (f)
        fclose(f);
    free(script);
    free(gnuplot);
    plot_dataset_free(d);
    opts_free(&o);
    return rc;
}
