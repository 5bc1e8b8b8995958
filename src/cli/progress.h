/*
 * progress.h - the progress bar of long jobs on stderr (Monte Carlo,
 * sensitivity, calibration, optimisation, from the command line and from
 * Lua in the REPL): shown only when stderr is a terminal and the job has
 * taken more than a second, with the share done and an ETA when the total
 * is known; and the "interrupted after N of M runs" text of an interrupted
 * job. Only src/cli includes this.
 */
#ifndef SS_CLI_PROGRESS_H
#define SS_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include "stratsim.h"

typedef struct cli_progress {
    int tty;               /* stderr is a terminal */
    double t0;             /* start (monotonic seconds) */
    double last;           /* last drawing */
    int drawn;             /* a bar is on the screen */
    char label[128];       /* e.g. the scenario name */
    const char *unit;      /* "runs", "starts" */
    uint64_t done, total;  /* the last report (total 0: unknown) */
} cli_progress;

/* Start a job (label copied; `unit` borrowed until cli_progress_end). */
void cli_progress_init(cli_progress *p, const char *label, const char *unit);

/* A progress report (payload: the cli_progress): the callback of
 * ss_mc_opts.progress and ss_progress. Draws at most ten times a second. */
void cli_progress_update(uint64_t done, uint64_t total, void *payload);

/* The ss_progress of the core analyses reporting to p. */
ss_progress cli_progress_hook(cli_progress *p);

/* Erase the bar if one was drawn. */
void cli_progress_end(cli_progress *p);

/* "interrupted after 7,168 of 200,000 runs" (or "after 23 runs" when the
 * total is not known) into buf; returns buf. */
const char *cli_progress_interrupted(const cli_progress *p, char *buf, size_t size);

/* Give the Lua state's analysis methods (sc:montecarlo{} ...) this
 * progress bar (registry key SL_PROGRESS, ss_analysis.h). */
struct lua_State;
void cli_progress_lua_install(struct lua_State *L);

#endif
