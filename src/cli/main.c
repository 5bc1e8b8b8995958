/*
 * main.c - process entry point; everything happens in ss_cli_main (cli.c).
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return ss_cli_main(argc, argv);
}
