/*
 * main.c - process entry point and the verb table: `stratsim VERB ...`
 * runs the verb's cmd_* function (cmd_VERB.c), `stratsim help VERB` and
 * `stratsim VERB --help` its help; the top-level --help and --version.
 * LC_NUMERIC is pinned to "C" first (docs/robustness.md): the core formats
 * numbers locale-independently anyway, but Lua's tostring/tonumber and
 * string.format follow LC_NUMERIC, so a locale switched on by whatever
 * runs before main (a preloaded library, an embedding wrapper) would turn
 * "0.24" into "0,24" inside scenario scripts.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static const char main_help[] =
    "Usage: stratsim COMMAND [ARGS]\n"
    "\n"
    "stratsim is a scripting-extensible strategy scenario simulator for cloud\n"
    "markets: provider shares by segment, margins with economies of scale, and\n"
    "investment shifts, integrated with GSL; scenarios are Lua 5.4 scripts.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO.lua [-o OUT.csv] [--layout long|wide] [--set PATH=VALUE]...\n"
    "                     run a scenario file; summary table, or CSV + JSON sidecar\n"
    "  check SCENARIO.lua validate a scenario file without running it\n"
    "  compare A.lua B.lua ... [-o OUT.csv]\n"
    "                     run several scenario files and compare them side by side\n"
    "  mc SCENARIO.lua [--runs N] [--seed S] [--threads T] [-o OUT.csv]\n"
    "                     Monte Carlo over the scenario's uncertainty and outages\n"
    "  sens SCENARIO.lua [--method tornado|sobol] [--outputs LIST] [-o OUT.csv]\n"
    "                     sensitivity: tornado (one at a time) or Sobol indices\n"
    "  calibrate SCENARIO.lua --data DATA.csv [--write FIT.lua] [-o RESID.csv]\n"
    "                     fit the scenario's `calibrate` parameters to observations\n"
    "  optimize SCENARIO.lua [--starts N] [-o OUT.csv]\n"
    "                     choose the `optimize` controls that maximise the objective\n"
    "  sweep SCENARIO.lua --grid PATH=START:STOP:N [--grid ...]... [-o OUT.csv]\n"
    "                     run the scenario at every point of a parameter grid\n"
    "  plot FILE.csv -o FIG.png|svg|pdf [--metric M --provider P --segment S ...]\n"
    "                     draw a chart of a CSV output with gnuplot (line, fan,\n"
    "                     stacked, tornado)\n"
    "  repl [SCENARIO.lua] interactive Lua with the stratsim module; the file's\n"
    "                     scenario is `sc` (see docs/repl.md)\n"
    "\n"
    "Options:\n"
    "  -h, --help         show help (also: stratsim COMMAND --help)\n"
    "  -V, --version      show the version\n"
    "\n"
    "Exit status: 0 success, 1 scenario, runtime or I/O error, 2 usage error.\n"
    "Documentation: README.md, docs/cli.md, docs/scenarios.md, docs/model.md.\n";

/* The verbs, in the order of the help above. */
static const struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
} verbs[] = {
    { "run", cmd_run },
    { "check", cmd_check },
    { "compare", cmd_compare },
    { "mc", cmd_mc },
    { "sens", cmd_sens },
    { "calibrate", cmd_calibrate },
    { "optimize", cmd_optimize },
    { "sweep", cmd_sweep },
    { "plot", cmd_plot },
    { "repl", cmd_repl },
};

static const struct verb *find_verb(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

int ss_cli_main(int argc, char **argv)
{
    const struct verb *v;
    const char *cmd;
    ss_global_init();
    cli_fatal_signals_install(); /* no temporary file outlives Ctrl-C or kill */
    if (argc < 2) {
        fputs(main_help, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            char *sub[] = { argv[2], (char *)"--help", NULL };
            if ((v = find_verb(argv[2])) != NULL)
                return v->run(2, sub);
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        fputs(main_help, stdout);
        return cli_flush_stdout();
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("stratsim %s\n", ss_version());
        return cli_flush_stdout();
    }
    if ((v = find_verb(cmd)) != NULL)
        return v->run(argc - 1, argv + 1);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    setlocale(LC_NUMERIC, "C");
    return ss_cli_main(argc, argv);
}
