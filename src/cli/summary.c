/*
 * summary.c - the readable tables printed by `run` and `compare`: thin
 * wrappers over the core's formatter (src/core/summary.c), which the Lua
 * results API (result:summary(), stratsim.compare) shares, so the CLI and
 * scripts print the same text.
 */
#include <stdio.h>
#include "cli/cli.h"
#include "stratsim/summary.h"

void cli_print_summary(FILE *f, const ss_result *r, const ss_model *m, const char *file)
{
    ss_summary_write(f, r, m, file);
}

void cli_print_compare(FILE *f, ss_result *const *res, size_t n)
{
    ss_summary_compare(f, (const ss_result *const *)res, n);
}
