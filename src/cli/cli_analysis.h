/*
 * cli_analysis.h - helpers shared by the analysis verbs (mc, sens,
 * calibrate, optimize, sweep; cmd_mc.c ... cmd_sweep.c): parsing their
 * option tables and the options every one of them takes, loading the scenario file with its analysis tables,
 * number and list parsing, SIGINT handling, the progress bar, run options
 * that attach a scenario's policy, and writing CSV + JSON sidecar.
 * Only src/cli includes this. Depends on cli.h and src/lua/ss_analysis.h.
 */
#ifndef SS_CLI_ANALYSIS_H
#define SS_CLI_ANALYSIS_H

#include <stdint.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "lua/ss_analysis.h"
#include "cli/progress.h"

/* Options common to the analysis verbs. */
typedef struct cli_an_args {
    cli_common c;          /* --set, --params, --unsafe, budgets */
    const char *file;      /* SCENARIO.lua */
    const char *out;       /* -o FILE */
    const char *scenario;  /* --scenario NAME */
} cli_an_args;

/*
 * An analysis verb's command line: its option table (cli_opt.h) lists its
 * own options and the common ones (-o, --scenario, --set, --params,
 * --unsafe, --max-memory, --max-instructions, --root, -h/--help), which
 * the verb's --help may show as lines of their own or name in a TEXT line
 * (then CLI_AN_COMMON_HIDDEN parses them).
 */
typedef struct cli_an_verb {
    const char *name;             /* "mc" */
    const cli_opt_spec *specs;
    const char *help_head, *help_tail; /* --help: head, the option list (from column 28), tail */
    /* Apply the verb's own option o with value v (NULL: none followed) to
     * `opts`: EXIT_OK, CLI_AN_COMMON if o is a common option, or an exit
     * code after printing an error. */
    int (*apply)(void *opts, const cli_opt_spec *o, const char *v);
} cli_an_verb;

enum { CLI_AN_COMMON = -1, CLI_AN_PARSED = -1 };

/* Hidden table entries for the common options a TEXT line names. */
#define CLI_AN_COMMON_HIDDEN                                                 \
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--set", 0, "PATH=VALUE", NULL },      \
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--params", 0, "FILE.lua", NULL },     \
    CLI_OPT_LIMITS_HIDDEN

/*
 * Parse argv[1, argc) against verb->specs into `a` (the scenario file and
 * the common options) and, through verb->apply, `opts`. Returns
 * CLI_AN_PARSED, or the verb's exit code: EXIT_OK after --help, EXIT_USAGE
 * after a usage error (an unknown option gets "did you mean" from the
 * table), EXIT_ERROR (out of memory).
 */
int cli_an_parse(cli_an_args *a, const cli_an_verb *verb, void *opts, int argc, char **argv);

/* Apply common option `name` with value v (NULL: none followed): 1 if
 * applied, 0 if not a common option, -1 after printing a usage error. */
int cli_an_apply(cli_an_args *a, const char *cmd, const char *name, const char *v);

/* A loaded file and the scenarios to analyse. */
typedef struct cli_an_load {
    cli_loaded *l;
    size_t first, count;   /* scenarios first .. first + count - 1 */
} cli_an_load;

/*
 * Load a->file (exit 1 on errors, printed) and select --scenario NAME, or
 * every scenario if `all`, or the only one (more than one without
 * --scenario is a usage error, exit 2).
 */
int cli_an_load_file(cli_an_load *out, const cli_an_args *a, const char *cmd, int all);

/* The analysis inputs (tables `what`, SS_AN_*) of scenario i; prints errors. */
int cli_an_inputs(cli_an_load *ld, size_t i, unsigned what, ss_analysis **out);

/*
 * Run options for scenario i: its policy, derived metrics, stocks and links (a run then
 * executes Lua in the file's state: one thread only), with the interrupt
 * flag set; with `crn` non-zero every run starts with math.random where
 * the script left it when it had loaded (ss_script_crn_opts). Prints errors.
 */
int cli_an_run_opts(cli_an_load *ld, size_t i, const char *file, ss_run_opts *ro, int crn);

/* Number parsing: 0 and *out set, or -1. cli_parse_uint takes a whole
 * number in decimal or exponent notation (1000, 1e3, 1000.0). */
int cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out);
int cli_parse_num(const char *s, double *out);
/* The value of --threads (1..1024) and of --engine (auto or scalar: *scalar
 * 0 or 1) of `cmd`: 0 and the value set, or a usage error printed and its
 * exit status returned. */
int cli_parse_threads(const char *cmd, const char *v, unsigned *out);
int cli_parse_engine(const char *cmd, const char *v, int *scalar);
/* Split a comma-separated list into n malloc'ed trimmed strings (non-empty
 * items only); free with ss_strings_free. -1 on allocation failure. */
int cli_split_list(const char *s, char ***out, size_t *n);

/* SIGINT: while installed, Ctrl-C sets the returned flag (the analyses stop
 * promptly and write nothing); a second Ctrl-C kills the process. */
volatile int *cli_sigint_begin(void);
void cli_sigint_end(void);


/*
 * Write CSV `path` with `write` plus the JSON sidecar path.json (command,
 * scenario file and hash, overrides, the model `m`, extra_json, and the user
 * stocks of `ro` with their units, if any) atomically; "-" writes the CSV to
 * standard output without a sidecar. Prints errors.
 */
int cli_an_write(const char *path, ss_an_writer write, const void *payload, const char *command,
                 const cli_an_args *a, const ss_model *m, const char *extra_json,
                 const ss_run_opts *ro);
/* The same for the models of `models`, listing the user stocks of `results`
 * (with their units) in the sidecar. */
int cli_an_write_results(const char *path, ss_an_writer write, const void *payload,
                         const char *command, const cli_an_args *a,
                         const ss_model *const *models, size_t nmodels, const char *extra_json,
                         const ss_result *const *results, size_t nresults);

/* Remove an output written by cli_an_write and its sidecar (after a later
 * failure: all outputs or none); nothing for NULL or "-". */
void cli_an_remove_pair(const char *path);

/* Error "FILE: scenario 'NAME': msg" (or msg alone when it already starts
 * with FILE:) for a failing analysis; for SS_EINTR "interrupted after 7,168
 * of 200,000 runs; nothing was written" from the job's progress `p` (may be
 * NULL: the core's message). */
int cli_an_fail(const char *file, const ss_model *m, int rc, const ss_err *err,
                const cli_progress *p);

/* Warn on stderr about each uncertain input of `an` (mc) that moves none of
 * the outputs: probed at its 5% and 95% quantiles with ss_effect_probe.
 * Returns EXIT_OK, or the exit code of a failing probe run. */
int cli_an_warn_inert(const char *verb, const char *file, const ss_model *m,
                      const ss_analysis *an, const ss_run_opts *ro);

/* The same for optimisation controls, probed at their bounds. */
int cli_an_warn_inert_controls(const char *file, const ss_model *m, const ss_opt_control *c,
                               size_t n, const ss_run_opts *ro);

/* A number for the tables: %.*g with `digits` significant digits. */
const char *cli_num(char *buf, size_t n, double x, int digits);

#endif
