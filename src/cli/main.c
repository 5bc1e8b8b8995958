/*
 * main.c - process entry point; everything happens in ss_cli_main (cli.c).
 * LC_NUMERIC is pinned to "C" first (docs/robustness.md): the core formats
 * numbers locale-independently anyway, but Lua's tostring/tonumber and
 * string.format follow LC_NUMERIC, so a locale switched on by whatever
 * runs before main (a preloaded library, an embedding wrapper) would turn
 * "0.24" into "0,24" inside scenario scripts.
 */
#include <locale.h>
#include "cli/cli.h"

int main(int argc, char **argv)
{
    setlocale(LC_NUMERIC, "C");
    return ss_cli_main(argc, argv);
}
