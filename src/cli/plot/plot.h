/*
 * plot.h - the gnuplot side of `stratsim plot`: finding the gnuplot program,
 * writing text safely into a gnuplot script, and running gnuplot on a
 * generated script so that the figure replaces the target file atomically.
 *
 * Safety: the generated script never contains a file name or a shell
 * command.  Data travels inside the script as datablocks of numbers, labels
 * as single-quoted gnuplot strings (no backquote substitution, no macro
 * expansion inside them; control characters replaced), and gnuplot writes
 * the figure to its standard output, which is a temporary file beside the
 * target (ss_outfile).  gnuplot is started with posix_spawn (no shell) and
 * `-d`, so personal or system initialisation files cannot change figures.
 * Only the files of src/cli/plot/ include this.
 */
#ifndef SS_CLI_PLOT_H
#define SS_CLI_PLOT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The gnuplot program to run: $STRATSIM_GNUPLOT if set and non-empty (a
 * path, or a name looked up on PATH), else "gnuplot" looked up on PATH.
 * Returns a malloc'ed path, or NULL after printing the error (exit 1).
 */
char *plot_find_gnuplot(void);

/* Write s as a single-quoted gnuplot string ('' for a quote; control
 * characters become spaces). */
void plot_gp_string(FILE *f, const char *s);

/* Write s into a script comment: control characters, backquotes and '@'
 * become '?'. */
void plot_gp_comment(FILE *f, const char *s);

/* Write a number for gnuplot: round-trip exact, "NaN" if not finite. */
void plot_gp_number(FILE *f, double x);

/*
 * Run `gnuplot -d` with the script on standard input and its standard
 * output going to a temporary file beside outpath; on success rename it
 * over outpath.  gnuplot's error message is printed on failure, and nothing
 * is left at outpath.  Returns an exit status (0 or 1).
 */
int plot_run_gnuplot(const char *gnuplot, const char *script, size_t len, const char *outpath);

#endif
