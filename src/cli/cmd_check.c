/*
 * cmd_check.c - `stratsim check`: load and validate a scenario file (every
 * scenario it returns, with --set overrides applied) without running it.
 */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"

static const char check_help[] =
    "Usage: stratsim check SCENARIO.lua [--set PATH=VALUE]... [--params FILE.lua]...\n"
    "                      [--unsafe]\n"
    "\n"
    "Load and validate every scenario the file returns, without running it.\n"
    "Prints one line per scenario; exit status 0 if all are valid, 1 if not.\n";

int cmd_check(int argc, char **argv)
{
    cli_common c = { 0 };
    const char *file = NULL;
    cli_loaded *l = NULL;
    size_t i, n;
    int rc;

    for (i = 1; i < (size_t)argc; i++) {
        int k = (int)i, r;
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(check_help, stdout);
            cli_common_free(&c);
            return EXIT_OK;
        }
        r = cli_common_option(&c, "check", argc, argv, &k);
        if (r < 0) {
            cli_common_free(&c);
            return EXIT_USAGE;
        }
        if (r == 0) {
            if (a[0] == '-' && a[1] != '\0') {
                cli_common_free(&c);
                return cli_usage_error("check", "unknown option '%s'", a);
            }
            if (file) {
                cli_common_free(&c);
                return cli_usage_error("check", "only one scenario file");
            }
            file = a;
        }
        i = (size_t)k;
    }
    if (!file) {
        cli_common_free(&c);
        return cli_usage_error("check", "missing SCENARIO.lua");
    }
    rc = cli_load(&l, file, &c);
    if (rc == EXIT_OK) {
        n = cli_loaded_count(l);
        if (n == 0)
            printf("%s: ok: the script returned no scenario (it does its own work)\n", file);
        for (i = 0; i < n; i++) {
            const ss_model *m = cli_loaded_model(l, i);
            printf("%s: ok: scenario '%s': %zu segments, %zu providers, %zu events, %.10g to %.10g step %.10g\n",
                   file, m->name, m->nseg, m->nprov, m->nev, m->t0, m->t1, m->step);
        }
        if (fflush(stdout) != 0)
            rc = cli_error("writing standard output failed");
    }
    cli_loaded_free(l);
    cli_common_free(&c);
    return rc;
}
