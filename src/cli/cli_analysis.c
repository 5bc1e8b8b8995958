/*
 * cli_analysis.c - helpers shared by the analysis verbs (see
 * cli_analysis.h): common options, loading and choosing the scenario,
 * parsing, SIGINT, the progress bar, run options with policies, writing.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli_analysis.h"
#include "cli/xlsx_out.h"

int cli_an_apply(cli_an_args *a, const char *cmd, const char *name, const char *v)
{
    int r;
    if (strcmp(name, "--scenario") == 0) {
        if (!v || !*v)
            return cli_usage_error(cmd, "--scenario needs a scenario name"), -1;
        a->scenario = v;
        return 1;
    }
    if ((r = cli_output_apply(cmd, name, v, &a->out, NULL)) != 0)
        return r;
    return cli_common_apply(&a->c, cmd, name, v);
}

int cli_an_parse(cli_an_args *a, const cli_an_verb *verb, void *opts, int argc, char **argv)
{
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *v;
    int st, rc;
    cli_opt_parser_init(&p, verb->specs, argc, argv);
    while ((st = cli_opt_next(&p, &o, &v)) != CLI_OPT_DONE) {
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown(verb->name, v, verb->specs);
        if (st == CLI_OPT_ARG) {
            if (a->file)
                return cli_usage_error(verb->name, "only one scenario file (got '%s' and '%s')",
                                       a->file, v);
            a->file = v;
            continue;
        }
        if (cli_opt_is(o, "--help"))
            return cli_opt_usage(verb->help_head, verb->specs, 28, verb->help_tail);
        if ((rc = verb->apply(opts, o, v)) != CLI_AN_COMMON) {
            if (rc != EXIT_OK)
                return rc;
            continue;
        }
        if (cli_an_apply(a, verb->name, o->name, v) < 0)
            return EXIT_USAGE;
    }
    return CLI_AN_PARSED;
}

/* " NAME1 NAME2 ..." of the file's scenarios (malloc'ed), or NULL. */
static char *scenario_names(cli_loaded *l, size_t n)
{
    char *text = NULL;
    size_t len = 0, i;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    for (i = 0; i < n; i++)
        fprintf(f, " %s", cli_loaded_model(l, i)->name);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int cli_an_load_file(cli_an_load *out, const cli_an_args *a, const char *cmd, int all)
{
    size_t n, i;
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = cli_load(&out->l, a->file, &a->c)) != EXIT_OK)
        return rc;
    n = cli_loaded_count(out->l);
    if (n == 0) {
        cli_loaded_free(out->l);
        out->l = NULL;
        return cli_error("%s: the file returned no scenario", a->file);
    }
    if (a->scenario) {
        for (i = 0; i < n; i++)
            if (strcmp(cli_loaded_model(out->l, i)->name, a->scenario) == 0)
                break;
        if (i == n) {
            char *names = scenario_names(out->l, n);
            cli_error("%s: no scenario named '%s'; the file has:%s", a->file, a->scenario,
                      names ? names : " (out of memory)");
            free(names);
            cli_loaded_free(out->l);
            out->l = NULL;
            return EXIT_ERROR;
        }
        out->first = i;
        out->count = 1;
        return EXIT_OK;
    }
    if (n > 1 && !all) {
        char *names = scenario_names(out->l, n);
        /* cli_error: under mpirun only rank 0 prints it */
        cli_error("%s: %s: the file returns %zu scenarios; choose one with --scenario NAME:%s",
                  cmd, a->file, n, names ? names : " (out of memory)");
        free(names);
        cli_loaded_free(out->l);
        out->l = NULL;
        return EXIT_USAGE;
    }
    out->first = 0;
    out->count = n;
    return EXIT_OK;
}

int cli_an_inputs(cli_an_load *ld, size_t i, unsigned what, ss_analysis **out)
{
    ss_err err = {0};
    int rc = ss_script_analysis(cli_loaded_script(ld->l), i, what, out, &err);
    if (rc != SS_OK)
        return cli_error("%s", err.msg[0] ? err.msg : ss_strerror(rc));
    return EXIT_OK;
}

int cli_an_run_opts(cli_an_load *ld, size_t i, const char *file, ss_run_opts *ro, int crn)
{
    ss_err err = {0};
    int rc = ss_script_run_opts(cli_loaded_script(ld->l), i, ro, &err);
    if (rc != SS_OK)
        return cli_error("%s: %s", file, err.msg);
    ro->interrupt = cli_sigint_begin();
    if (crn)
        ss_script_crn_opts(cli_loaded_script(ld->l), ro);
    return EXIT_OK;
}

int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end && strspn(s, "0123456789.eE+-") == strlen(s)) {
        /* a whole number written as a decimal, like integers in scenario
         * files: 1e3, 2.5e5, 1000.0 (exact up to 2^53) */
        double d = strtod(s, &end);
        if (*end || !isfinite(d) || d < 0 || d != floor(d) || d > 9007199254740992.0)
            return -1;
        errno = 0;
        v = (unsigned long long)d;
    }
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_threads(const char *cmd, const char *v, unsigned *out)
{
    unsigned long long u;
    if (!v || cli_parse_uint(v, 1024, &u) != 0 || u == 0)
        return cli_usage_error(cmd, "--threads needs an integer in 1..1024");
    *out = (unsigned)u;
    return 0;
}

int cli_parse_engine(const char *cmd, const char *v, int *scalar)
{
    if (!v || (strcmp(v, "auto") != 0 && strcmp(v, "scalar") != 0))
        return cli_usage_error(cmd, "--engine needs auto or scalar");
    *scalar = strcmp(v, "scalar") == 0;
    return 0;
}

int cli_parse_num(const char *s, double *out)
{
    char *end;
    double v;
    if (!s || !*s || *s == ' ')
        return -1;
    errno = 0;
    v = strtod(s, &end); /* the C locale: stratsim never calls setlocale */
    if (errno || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_split_list(const char *s, char ***out, size_t *n)
{
    char **v = NULL;
    size_t cnt = 0;
    const char *p = s;
    *out = NULL;
    *n = 0;
    while (*p) {
        const char *e = strchr(p, ','), *b = p, *z;
        char **nv;
        if (!e)
            e = p + strlen(p);
        z = e;
        while (b < z && (*b == ' ' || *b == '\t'))
            b++;
        while (z > b && (z[-1] == ' ' || z[-1] == '\t'))
            z--;
        if (z > b) {
            if (!(nv = realloc(v, (cnt + 1) * sizeof *v)))
                goto nomem;
            v = nv;
            if (!(v[cnt] = malloc((size_t)(z - b) + 1)))
                goto nomem;
            memcpy(v[cnt], b, (size_t)(z - b));
            v[cnt++][z - b] = '\0';
        }
        p = *e ? e + 1 : e;
    }
    *out = v;
    *n = cnt;
    return 0;
nomem:
    ss_strings_free(v, cnt);
    return -1;
}

/* ---------------------------------------------------------------- SIGINT */

/* Written by the handler, read by the core with relaxed atomic loads; an
 * int is what the core's interrupt pointers take (sig_atomic_t is int on
 * every platform stratsim builds on). */
static volatile int interrupt_flag;
static struct sigaction old_action;
static int installed;

static void on_sigint(int sig)
{
    if (interrupt_flag) /* the second Ctrl-C: remove temporary files and end */
        cli_fatal_signal(sig);
    interrupt_flag = 1;
}

volatile int *cli_sigint_begin(void)
{
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; /* a second Ctrl-C kills (on_sigint) */
        interrupt_flag = 0;
        if (sigaction(SIGINT, &sa, &old_action) == 0)
            installed = 1;
    }
    return &interrupt_flag;
}

void cli_sigint_end(void)
{
    if (installed) {
        sigaction(SIGINT, &old_action, NULL);
        installed = 0;
    }
}

/* ----------------------------------------------------------------- output */

/* The sidecar's common part for the analyses. */
static void an_info(ss_sidecar_info *info, const char *path, const char *command,
                    const cli_an_args *a, const char *extra_json)
{
    memset(info, 0, sizeof *info);
    info->command = command;
    info->scenario_file = a->file;
    info->overrides = a->c.sets;
    info->noverrides = a->c.nsets;
    info->layout = cli_is_xlsx(path) ? "xlsx" : strcmp(command, "mc") == 0 ? "long"
                 : NULL; /* the others are tables */
    info->unsafe = a->c.unsafe;
    info->extra_json = extra_json;
}

int cli_an_write_results(const char *path, ss_an_writer write, const void *payload,
                         const char *command, const cli_an_args *a,
                         const ss_model *const *models, size_t nmodels, const char *extra_json,
                         const ss_result *const *results, size_t nresults)
{
    ss_sidecar_info info;
    an_info(&info, path, command, a, extra_json);
    info.results = results;
    info.nresults = nresults;
    return cli_write_pair(path, write, payload, &info, models, nmodels);
}

int cli_an_write(const char *path, ss_an_writer write, const void *payload, const char *command,
                 const cli_an_args *a, const ss_model *m, const char *extra_json,
                 const ss_run_opts *ro)
{
    ss_sidecar_info info;
    an_info(&info, path, command, a, extra_json);
    info.run_opts = ro;
    return cli_write_pair(path, write, payload, &info, &m, 1);
}

/* Remove a file written by cli_an_write: the file a symbolic link points
 * to (the writer replaced that file, not the link); never a device or FIFO,
 * which was written in place and must stay (/dev/stdout, /dev/null). */
static void remove_written(const char *path)
{
    char *real;
    if (cli_special_target(path))
        return;
    real = realpath(path, NULL);
    remove(real ? real : path);
    free(real);
}

void cli_an_remove_pair(const char *path)
{
    char *side;
    if (!path || strcmp(path, "-") == 0 || cli_special_target(path))
        return; /* standard output or a device: written in place, no sidecar */
    remove_written(path);
    if ((side = malloc(strlen(path) + 6))) {
        sprintf(side, "%s.json", path);
        remove_written(side);
        free(side);
    }
}

int cli_an_fail(const char *file, const ss_model *m, int rc, const ss_err *err,
                const cli_progress *p)
{
    if (rc == SS_EINTR) {
        char what[160];
        if (p)
            return cli_error("%s; nothing was written", cli_progress_interrupted(p, what, sizeof what));
        /* the message says "interrupted ..." itself, or is empty */
        return cli_error("%s; nothing was written",
                         strncmp(err->msg, "interrupted", 11) == 0 ? err->msg : "interrupted");
    }
    if (strcmp(err->file, file) == 0)
        return cli_error("%s", err->msg);
    return cli_error("%s: scenario '%s': %s", file, m->name, err->msg[0] ? err->msg : ss_strerror(rc));
}

const char *cli_num(char *buf, size_t n, double x, int digits)
{
    snprintf(buf, n, "%.*g", digits, x);
    return buf;
}

int cli_an_warn_inert(const char *verb, const char *file, const ss_model *m,
                      const ss_analysis *an, const ss_run_opts *ro)
{
    size_t j;
    for (j = 0; j < an->nparams; j++) {
        const ss_mc_param *p = &an->params[j];
        double lo = ss_dist_quantile(&p->dist, 0.05), hi = ss_dist_quantile(&p->dist, 0.95), ch;
        ss_err err = {0};
        int st;
        if (!(lo < hi))
            continue;
        if ((st = ss_effect_probe(m, p->path, lo, hi, ro, &ch, &err)) != SS_OK)
            return cli_an_fail(file, m, st, &err, NULL);
        if (ch <= SS_EFFECT_TOL)
            fprintf(stderr, "stratsim: warning: %s: uncertain input '%s' moves none of the outputs "
                    "(from its 5%% to its 95%% quantile every output changes by less than %g relative)\n",
                    verb, p->path, SS_EFFECT_TOL);
    }
    return EXIT_OK;
}

int cli_an_warn_inert_controls(const char *file, const ss_model *m, const ss_opt_control *c,
                               size_t n, const ss_run_opts *ro)
{
    size_t j;
    for (j = 0; j < n; j++) {
        double ch;
        ss_err err = {0};
        int st;
        if (!(c[j].lower < c[j].upper))
            continue;
        if ((st = ss_effect_probe(m, c[j].path, c[j].lower, c[j].upper, ro, &ch, &err)) != SS_OK)
            return cli_an_fail(file, m, st, &err, NULL);
        if (ch <= SS_EFFECT_TOL)
            fprintf(stderr, "stratsim: warning: optimize: control '%s' has no effect on the "
                    "objective or the constraints (from its lower to its upper bound no output "
                    "changes by more than %g relative)\n", c[j].path, SS_EFFECT_TOL);
    }
    return EXIT_OK;
}
