/*
 * stratsim/summary.h - the readable text tables of results: the summary of
 * one run (what `stratsim run` prints without -o, and result:summary() in
 * Lua) and the side-by-side comparison of several runs (`stratsim compare`,
 * stratsim.compare{...} in Lua).
 *
 * Both write plain text to a caller-supplied stream and never fail on their
 * own: the caller checks the stream (ferror/fflush).  Numbers are formatted
 * with printf in the C locale the program runs in.
 */
#ifndef STRATSIM_SUMMARY_H
#define STRATSIM_SUMMARY_H

#include <stdio.h>
#include <stddef.h>
#include "stratsim/model.h"
#include "stratsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write the summary of one result: a title line, the run settings of `m`
 * (time grid, discount rate, solver; the line is left out when `m` is
 * NULL), then shares, revenue, gross margin, operating profit, NPV, segment
 * sizes and derived metrics at up to five milestone times (first and last
 * output time included). `file` is shown in the title (may be NULL).
 */
void ss_summary_write(FILE *f, const ss_result *r, const ss_model *m, const char *file);

/**
 * Write the comparison of n >= 1 results at their last output time: shares,
 * revenue, gross and operating profit, NPV and segment size of the first
 * result's providers and segments, each later column with its difference
 * from the first ("-" where a result lacks the provider or segment).
 */
void ss_summary_compare(FILE *f, const ss_result *const *res, size_t n);

#ifdef __cplusplus
}
#endif
#endif
