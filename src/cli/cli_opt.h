/*
 * cli_opt.h - option-spec tables for the verbs (after libgit2's src/cli
 * opt.h): a verb declares its options once, in a table of cli_opt_spec, and
 * the parser, the option list of `stratsim VERB --help` and the "did you
 * mean" of a mistyped option all come from that table.  The verb still
 * checks values itself (messages name the option), through the shared
 * cli_common_apply / cli_output_apply of cli.h where an option is common;
 * the analysis verbs parse through cli_an_parse (cli_analysis.h).
 */
#ifndef SS_CLI_OPT_H
#define SS_CLI_OPT_H

#include <stdio.h>

typedef enum cli_opt_type {
    CLI_OPT_SWITCH = 1, /* --name, no value */
    CLI_OPT_VALUE = 2,  /* --name VALUE, --name=VALUE (and -x VALUE for its short name) */
    CLI_OPT_TEXT = 3,   /* not an option: a line of --help (name, then help;
                         * without help, the name alone) */
    CLI_OPT_HIDDEN = 16 /* or-ed to SWITCH or VALUE: parsed, not listed by --help
                         * (an alternative spelling, or options a TEXT line names) */
} cli_opt_type;

/* One option of a verb; a table ends with an entry whose name is NULL. */
typedef struct cli_opt_spec {
    int type;               /* a cli_opt_type, maybe | CLI_OPT_HIDDEN */
    const char *name;       /* its name with the dashes: "--output" (or "-e" for an
                             * option with a short name only, "--" for the end of options) */
    char alias;             /* short name ('o' for -o), or 0 */
    const char *value_name; /* what --help shows after the name ("FILE"), or NULL */
    const char *help;       /* help text; each '\n' starts an indented line (a
                             * first '\n': the help starts below the names) */
} cli_opt_spec;

/* Entries for the scenario limits every verb that loads a scenario file
 * takes, parsed but not listed (for a help that names them in a line of
 * its own, or not at all). */
#define CLI_OPT_LIMITS_HIDDEN                                                \
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--unsafe", 0, NULL, NULL },          \
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--max-memory", 0, "MIB", NULL },      \
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--max-instructions", 0, "N", NULL },  \
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--root", 0, "DIR", NULL }

/* The state of a parse of argv[1, argc) (argv[0] is the verb). */
typedef struct cli_opt_parser {
    const cli_opt_spec *specs;
    int argc;
    char **argv;
    int i;                  /* next argument */
} cli_opt_parser;

enum {
    CLI_OPT_DONE = 0,       /* no argument left */
    CLI_OPT_FOUND,          /* *spec matched; *value is its value (NULL for a switch) */
    CLI_OPT_MISSING,        /* *spec takes a value and none followed (*value NULL) */
    CLI_OPT_ARG,            /* a positional argument in *value ("-" is one) */
    CLI_OPT_UNKNOWN         /* *value starts with '-' and is no option of the table */
};

void cli_opt_parser_init(cli_opt_parser *p, const cli_opt_spec *specs, int argc, char **argv);
/* The next argument: one of the CLI_OPT_* codes above. */
int cli_opt_next(cli_opt_parser *p, const cli_opt_spec **spec, const char **value);
/* 1 if spec is the option `name` ("--output"). */
int cli_opt_is(const cli_opt_spec *spec, const char *name);

/*
 * Write the option list of a --help: per option (not hidden), two spaces,
 * "-x, " when it has a short name, the name and the value name, then the
 * help text from column `col` (two spaces after the names if they reach
 * it), every further line of the help indented to `col`.
 */
void cli_opt_help(FILE *f, const cli_opt_spec *specs, int col);

/* A verb's whole --help on standard output: `head`, the option list,
 * `tail` (either may be NULL); returns as cli_flush_stdout. */
int cli_opt_usage(const char *head, const cli_opt_spec *specs, int col, const char *tail);

/* The usage error for an unknown option `arg` of verb `cmd`, with "did you
 * mean" from the table's long names; returns EXIT_USAGE. */
int cli_opt_unknown(const char *cmd, const char *arg, const cli_opt_spec *specs);

#endif
