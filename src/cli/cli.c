/*
 * cli.c - error printing, shared option parsing, and the helpers that load scenario files (through
 * the Lua layer), run them (through the core) and write outputs atomically.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "cli/xlsx_out.h"
#include "cli/progress.h"
#include "cli/cli_mpi.h"
#include "stratsim/io.h" /* ss_parse_double */
#include "lua/stratsim_lua.h"
#include "lua/ss_analysis.h" /* ss_params_read, ss_strings_free */

/* Print "stratsim: " PREFIX MSG SUFFIX to stderr in one write (stderr is
 * unbuffered): under an MPI launcher, a rank may be killed at any moment once
 * another has failed, and a message cut after its first fputs names nothing. */
static void print_error(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
    char buf[2048], *msg = buf;
    va_list aq;
    int n, k = snprintf(buf, sizeof buf, "stratsim: %s", prefix);
    va_copy(aq, ap);
    n = vsnprintf(buf + k, sizeof buf - (size_t)k, fmt, aq);
    va_end(aq);
    if (n >= 0 && (size_t)(k + n) + strlen(suffix) >= sizeof buf) {
        /* long: the whole of it from the heap (or, without memory, the cut one) */
        char *big = malloc((size_t)(k + n) + strlen(suffix) + 1);
        if (big) {
            memcpy(big, buf, (size_t)k);
            vsnprintf(big + k, (size_t)n + 1, fmt, ap);
            msg = big;
        }
    }
    if (msg == buf && strlen(buf) + strlen(suffix) >= sizeof buf)
        buf[sizeof buf - 1 - strlen(suffix)] = '\0';
    strcat(msg, suffix);
    fputs(msg, stderr);
    if (msg != buf)
        free(msg);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cli_mpi_quiet()) { /* a rank other than 0: rank 0 reports */
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        cli_mpi_keep_message(msg);
    } else {
        print_error("", fmt, ap, "\n");
    }
    va_end(ap);
    return EXIT_ERROR;
}

int cli_flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return EXIT_OK;
    if (errno == 0) /* an earlier write failed; its cause is gone */
        return cli_error("cannot write to standard output");
    return cli_error("cannot write to standard output: %s", strerror(errno));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cli_mpi_quiet()) { /* a rank other than 0: rank 0 prints the same */
        char msg[1024];
        vsnprintf(msg, sizeof msg, fmt, ap);
        cli_mpi_keep_message(msg);
    } else {
        char pre[64], post[96];
        snprintf(pre, sizeof pre, "%s%s", cmd ? cmd : "", cmd ? ": " : "");
        snprintf(post, sizeof post, "\nTry 'stratsim %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
        print_error(pre, fmt, ap, post);
    }
    va_end(ap);
    return EXIT_USAGE;
}

/* Parse a positive integer, in decimal or in exponent notation with an
 * integral value ("2000000000", "2e9", "1.5e3"); 0 on error. */
static unsigned long long parse_count(const char *s)
{
    char *end;
    unsigned long long v;
    double d;
    if (!s || !*s || *s == '-' || *s == '+')
        return 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (!errno && !*end)
        return v;
    if (ss_parse_double(s, &d) != 0 || !(d >= 1 && d < 9.2e18) || d != floor(d))
        return 0;
    return (unsigned long long)d;
}

int cli_common_apply(cli_common *c, const char *cmd, const char *name, const char *v)
{
    int missing = v == NULL;
    if (strcmp(name, "--unsafe") == 0) {
        c->unsafe = 1;
        return 1;
    }
    if (strcmp(name, "--set") == 0) {
        const char **n;
        if (missing)
            return cli_usage_error(cmd, "--set needs PATH=VALUE"), -1;
        if (!strchr(v, '=') || v[0] == '=')
            return cli_usage_error(cmd, "--set '%s': expected PATH=VALUE", v), -1;
        n = realloc(c->sets, (c->nsets + 1) * sizeof *n);
        if (!n)
            return cli_error("out of memory"), -1;
        c->sets = n;
        c->sets[c->nsets++] = v;
        return 1;
    }
    if (strcmp(name, "--params") == 0) {
        /* an override file (stratsim calibrate --write): its PATH=VALUE
         * pairs join the --set list here, in command-line order; a file
         * that cannot be read is reported by cli_load (exit 1) */
        char **pairs = NULL, **no;
        const char **ns;
        size_t np = 0, j;
        ss_err err = { 0 };
        if (missing)
            return cli_usage_error(cmd, "--params needs a file (written by calibrate --write)"), -1;
        {
            const char **pf = realloc(c->params_files, (c->nparams_files + 1) * sizeof *pf);
            if (!pf)
                return cli_error("out of memory"), -1;
            c->params_files = pf;
            c->params_files[c->nparams_files++] = v;
        }
        if (ss_params_read(v, &pairs, &np, &err) != SS_OK) {
            if (!c->params_error)
                c->params_error = strdup(err.msg[0] ? err.msg : ss_strerror(err.code));
            return 1;
        }
        ns = realloc(c->sets, (c->nsets + np + 1) * sizeof *ns);
        if (ns)
            c->sets = ns;
        no = ns ? realloc(c->owned, (c->nowned + np + 1) * sizeof *no) : NULL;
        if (no)
            c->owned = no;
        if (!ns || !no) {
            ss_strings_free(pairs, np);
            return cli_error("out of memory"), -1;
        }
        for (j = 0; j < np; j++) {
            c->owned[c->nowned++] = pairs[j];
            c->sets[c->nsets++] = pairs[j];
        }
        free(pairs);
        return 1;
    }
    if (strcmp(name, "--root") == 0) {
        struct stat st;
        if (missing || !*v)
            return cli_usage_error(cmd, "--root needs a directory"), -1;
        if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_usage_error(cmd, "--root %s: not a directory", v), -1;
        c->root = v;
        return 1;
    }
    if (strcmp(name, "--max-memory") == 0) {
        unsigned long long mib = parse_count(v);
        if (missing || mib == 0 || mib > (1ULL << 20))
            return cli_usage_error(cmd, "--max-memory needs a size in MiB (1..1048576)"), -1;
        c->max_memory = (size_t)(mib << 20);
        return 1;
    }
    if (strcmp(name, "--max-instructions") == 0) {
        c->max_instructions = parse_count(v);
        if (missing || c->max_instructions == 0)
            return cli_usage_error(cmd, "--max-instructions needs a positive integer"), -1;
        return 1;
    }
    return 0;
}

int cli_output_apply(const char *cmd, const char *name, const char *v, const char **out,
                     ss_layout *layout)
{
    int missing = v == NULL;
    if (strcmp(name, "--output") == 0) {
        if (missing || !*v)
            return cli_usage_error(cmd, "-o needs a file name (or - for standard output)"), -1;
        *out = v;
        return 1;
    }
    if (layout && strcmp(name, "--layout") == 0) {
        if (!missing && strcmp(v, "long") == 0)
            *layout = SS_LAYOUT_LONG;
        else if (!missing && strcmp(v, "wide") == 0)
            *layout = SS_LAYOUT_WIDE;
        else
            return cli_usage_error(cmd, "--layout must be 'long' or 'wide'"), -1;
        return 1;
    }
    return 0;
}

void cli_common_free(cli_common *c)
{
    free(c->sets);
    c->sets = NULL;
    c->nsets = 0;
    ss_strings_free(c->owned, c->nowned);
    c->owned = NULL;
    c->nowned = 0;
    free(c->params_error);
    c->params_error = NULL;
    free(c->params_files);
    c->params_files = NULL;
    c->nparams_files = 0;
}

struct cli_loaded {
    ss_script *script;
};

int cli_load(cli_loaded **out, const char *path, const cli_common *c)
{
    ss_script_opts so = SS_SCRIPT_OPTS_INIT;
    ss_err err = { 0 };
    cli_loaded *l = calloc(1, sizeof *l);
    int rc;
    *out = NULL;
    if (!l)
        return cli_error("out of memory");
    if (c->params_error) {
        free(l);
        return cli_error("%s", c->params_error);
    }
    so.unsafe = c->unsafe;
    so.max_memory = c->max_memory;
    so.max_instructions = c->max_instructions;
    so.root = c->root;
    rc = ss_script_open(&l->script, &so, &err);
    if (rc == SS_OK) {
        /* analyses the script runs itself (sc:optimize{} ...) show progress */
        cli_progress_lua_install(ss_script_state(l->script));
        rc = ss_script_load(l->script, path, c->sets, c->nsets, &err);
    }
    if (rc != SS_OK) {
        cli_loaded_free(l);
        return cli_error("%s", err.msg[0] ? err.msg : ss_strerror(rc));
    }
    *out = l;
    return EXIT_OK;
}

size_t cli_loaded_count(const cli_loaded *l) { return ss_script_count(l->script); }
const ss_model *cli_loaded_model(cli_loaded *l, size_t i) { return ss_script_model(l->script, i); }
ss_script *cli_loaded_script(cli_loaded *l) { return l->script; }

void cli_loaded_free(cli_loaded *l)
{
    if (!l)
        return;
    ss_script_close(l->script);
    free(l);
}

int cli_run_models(cli_loaded *l, const char *path, ss_result ***res, size_t *nres)
{
    size_t i, n = cli_loaded_count(l);
    for (i = 0; i < n; i++) {
        const ss_model *m = cli_loaded_model(l, i);
        ss_result *r = NULL, **nr;
        ss_err err = { 0 };
        /* with its policy, metrics, stocks and links; math.random starts where
           the script left it, whatever the scenarios before it drew */
        int rc = ss_script_run(l->script, i, &r, &err);
        if (rc != SS_OK) {
            /* errors in a policy or derived metric are already located in the file */
            if (strcmp(err.file, path) == 0)
                return cli_error("%s", err.msg);
            return cli_error("%s: scenario '%s': %s", path, m->name, err.msg);
        }
        nr = realloc(*res, (*nres + 1) * sizeof *nr);
        if (!nr) {
            ss_result_free(r);
            return cli_error("out of memory");
        }
        *res = nr;
        (*res)[(*nres)++] = r;
    }
    return EXIT_OK;
}

int cli_special_target(const char *path)
{
    struct stat st;
    return ss_outfile_is_stream(path) ||
           (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
}

/* The payload of write_xlsx: the CSV writer it turns into a workbook. */
typedef struct xlsx_wrap {
    int (*write)(FILE *f, const void *payload, ss_err *err);
    const void *payload;
    const ss_sidecar_info *info;
    const ss_model *const *models;
    size_t nmodels;
    const char *target;
} xlsx_wrap;

/* Write the workbook of the CSV table and the sidecar (cli_xlsx_write). */
static int write_xlsx(FILE *f, const void *payload, ss_err *err)
{
    const xlsx_wrap *w = payload;
    char *csv = NULL, *json = NULL;
    size_t clen = 0, jlen = 0;
    FILE *m = open_memstream(&csv, &clen);
    int rc = m ? w->write(m, w->payload, err) : ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (m && fclose(m) != 0 && rc == SS_OK)
        rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (rc == SS_OK) {
        m = open_memstream(&json, &jlen);
        rc = m ? ss_sidecar_write(m, w->info, w->models, w->nmodels, err)
               : ss_err_set(err, SS_ENOMEM, "", "out of memory");
        if (m && fclose(m) != 0 && rc == SS_OK)
            rc = ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    if (rc == SS_OK)
        rc = cli_xlsx_write(f, w->target, csv, clen, json, err);
    free(csv);
    free(json);
    return rc;
}

int cli_write_pair(const char *path, int (*write)(FILE *f, const void *payload, ss_err *err),
                   const void *payload, ss_sidecar_info *info, const ss_model *const *models,
                   size_t nmodels)
{
    ss_err err = { 0 };
    char sha[65] = "";
    int rc;
    xlsx_wrap xw;

    if (cli_is_xlsx(path)) { /* a workbook instead of the CSV (xlsx_out.h) */
        if (info->scenario_file && ss_sha256_file(info->scenario_file, sha, &err) != SS_OK)
            return cli_error("%s", err.msg);
        info->scenario_sha256 = info->scenario_file ? sha : NULL;
        xw.write = write;
        xw.payload = payload;
        xw.info = info;
        xw.models = models;
        xw.nmodels = nmodels;
        xw.target = path;
        write = write_xlsx;
        payload = &xw;
    }

    if (strcmp(path, "-") == 0) {
        rc = write(stdout, payload, &err);
        if (rc == SS_OK && fflush(stdout) != 0)
            rc = ss_err_set(&err, SS_EIO, "", "writing standard output: %s", strerror(errno));
        return rc == SS_OK ? EXIT_OK : cli_error("%s", err.msg);
    }
    if (cli_special_target(path)) { /* a device or FIFO: in place, no sidecar */
        ss_outfile *o = NULL;
        rc = ss_outfile_open(&o, path, &err);
        if (rc == SS_OK)
            rc = write(ss_outfile_stream(o), payload, &err);
        if (rc == SS_OK) {
            rc = ss_outfile_commit(o, &err);
            o = NULL;
        }
        ss_outfile_abort(o);
        return rc == SS_OK ? EXIT_OK : cli_error("%s", err.msg);
    }
    if (info->scenario_file && ss_sha256_file(info->scenario_file, sha, &err) != SS_OK)
        return cli_error("%s", err.msg);
    info->scenario_sha256 = sha;
    rc = ss_analysis_write_pair(path, write, payload, info, models, nmodels, &err);
    return rc == SS_OK ? EXIT_OK : cli_error("%s", err.msg);
}

/* The payload of write_results. */
typedef struct results_out {
    ss_layout layout;
    const ss_result *const *res;
    size_t nres;
} results_out;

static int write_results(FILE *f, const void *payload, ss_err *err)
{
    const results_out *o = payload;
    return ss_csv_write(f, o->layout, o->res, o->nres, err);
}

int cli_write_outputs(const char *path, ss_layout layout, const char *command,
                      const char *scenario_file, const cli_common *c,
                      ss_result *const *res, size_t nres,
                      const ss_model *const *models, size_t nmodels)
{
    results_out o;
    ss_sidecar_info info;

    if (cli_is_xlsx(path)) /* the workbook has its own (wide) sheets */
        layout = SS_LAYOUT_LONG;
    o.layout = layout;
    o.res = (const ss_result *const *)res;
    o.nres = nres;
    memset(&info, 0, sizeof info);
    info.command = command;
    info.scenario_file = scenario_file;
    info.overrides = c->sets;
    info.noverrides = c->nsets;
    info.layout = cli_is_xlsx(path) ? "xlsx" : layout == SS_LAYOUT_WIDE ? "wide" : "long";
    info.unsafe = c->unsafe;
    info.results = o.res;
    info.nresults = nres;
    return cli_write_pair(path, write_results, &o, &info, models, nmodels);
}
