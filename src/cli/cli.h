/*
 * cli.h - internals shared by the stratsim command-line front end: exit
 * codes, error printing, option parsing helpers, loading and running
 * scenario files, the summary tables.  Only src/cli includes this.
 * Depends on the core (stratsim.h) and the Lua layer (src/lua/stratsim_lua.h).
 */
#ifndef SS_CLI_H
#define SS_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "stratsim.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

/* Print "stratsim: <msg>" on stderr and return EXIT_ERROR / EXIT_USAGE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush standard output; on failure (a full disk, a closed pipe) print
 * "stratsim: cannot write to standard output: REASON" and return
 * EXIT_ERROR, else EXIT_OK. For --help and --version. */
int cli_flush_stdout(void);

/* Options shared by the commands that load scenario files. */
typedef struct cli_common {
    const char **sets;      /* --set PATH=VALUE, in order */
    size_t nsets;
    int unsafe;             /* --unsafe */
    size_t max_memory;      /* --max-memory MiB (bytes here), 0 = default */
    unsigned long long max_instructions; /* --max-instructions N, 0 = default */
    char **owned;           /* "PATH=VALUE" strings read from --params files (owned) */
    size_t nowned;
    char *params_error;     /* a --params file that failed; cli_load reports it (exit 1) */
    const char *root;       /* --root DIR: files scripts may read lie below it */
    const char **params_files; /* the --params files, in order (for cli_io_check) */
    size_t nparams_files;
} cli_common;

void cli_common_free(cli_common *c);
/* Apply common option `name` ("--set", ...; "--unsafe" takes any non-NULL
 * v) with value v (NULL: none was given): 1 if applied, 0 if `name` is not
 * a common option, -1 after printing a usage error. For verbs with a
 * cli_opt_spec table (cli_opt.h). */
int cli_common_apply(cli_common *c, const char *cmd, const char *name, const char *v);
/* The same for -o/--output and, unless layout is NULL, --layout. */
int cli_output_apply(const char *cmd, const char *name, const char *v, const char **out,
                     ss_layout *layout);
/* A loaded scenario file: its resolved models (borrowed from the script). */
typedef struct cli_loaded cli_loaded;
int cli_load(cli_loaded **out, const char *path, const cli_common *c);
size_t cli_loaded_count(const cli_loaded *l);
const ss_model *cli_loaded_model(cli_loaded *l, size_t i);
void cli_loaded_free(cli_loaded *l);
/* The script of a loaded file (borrowed; for the analysis verbs). */
struct ss_script *cli_loaded_script(cli_loaded *l);

/* Run every model of a loaded file; appends to *res (realloc'ed). Prints errors. */
int cli_run_models(cli_loaded *l, const char *path, ss_result ***res, size_t *nres);

/*
 * 1 if path names an existing device, FIFO or socket (e.g. /dev/null), or
 * one of the process's own streams (/dev/stdout, /dev/fd/1, ...) whatever it
 * is redirected to (ss_outfile_is_stream): such targets are written in
 * place and get no JSON sidecar.
 */
int cli_special_target(const char *path);

/*
 * Write CSV `path` with `write` plus its JSON sidecar path.json (`info`,
 * whose scenario_sha256 is set here from scenario_file, and the models)
 * atomically; "-" writes the CSV to standard output and a special target
 * is written in place, both without a sidecar. Prints errors.
 */
int cli_write_pair(const char *path, int (*write)(FILE *f, const void *payload, ss_err *err),
                   const void *payload, ss_sidecar_info *info, const ss_model *const *models,
                   size_t nmodels);

/* cli_write_pair for the results of run and compare. */
int cli_write_outputs(const char *path, ss_layout layout, const char *command,
                      const char *scenario_file, const cli_common *c,
                      ss_result *const *res, size_t nres,
                      const ss_model *const *models, size_t nmodels);

/*
 * Outputs must not replace inputs or each other (outguard.c). A verb lists
 * its files - inputs (the scenario file, --params files, included files,
 * data files) and outputs (with `sidecar` when PATH.json is written too) -
 * and cli_io_check() compares them by device and inode, before anything is
 * written: a clash prints a usage error naming both files and returns
 * EXIT_USAGE. `role` names the option ("-o", "the --data file"); paths and
 * roles are borrowed until the check, which empties the list.
 */
typedef struct cli_io {
    const char *path;
    char *owned;       /* path, when the list owns it */
    const char *role;
    int output, sidecar;
} cli_io;
typedef struct cli_iolist {
    cli_io *v;
    size_t n, cap;
    int oom;
} cli_iolist;
void cli_io_add(cli_iolist *l, const char *path, const char *role, int output, int sidecar);
/* The --params files of c, `file` and, if ld is not NULL, every file the
 * loaded script read (its includes). */
void cli_io_add_inputs(cli_iolist *l, const cli_common *c, cli_loaded *ld, const char *file);
int cli_io_check(const char *cmd, cli_iolist *l);

/* The readable summary of one result. */
void cli_print_summary(FILE *f, const ss_result *r, const ss_model *m, const char *file);
/* Side-by-side comparison of several results at their last output time. */
void cli_print_compare(FILE *f, ss_result *const *res, size_t n);

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_mc(int argc, char **argv);
int cmd_sens(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_repl(int argc, char **argv);

/* Fatal signals (cleanup.c): installed by ss_cli_main, the handler removes
 * every temporary output file, then ends the process with the signal. */
void cli_fatal_signals_install(void);
void cli_fatal_signal(int sig);

/* The dispatcher over the verb table (main.c); main() only calls it. */
int ss_cli_main(int argc, char **argv);

#endif
