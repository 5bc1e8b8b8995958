/*
 * xlsx_out.h - Excel workbooks for `-o FILE.xlsx` (libxlsxwriter).
 *
 * One job: turn a table as stratsim writes it as CSV, plus the text of its
 * JSON sidecar, into a workbook. The table decides the layout:
 *   - the long result layout (scenario,time,provider,segment,metric,value:
 *     run, compare) and the Monte Carlo summary (scenario,time,provider,
 *     segment,metric,mean,sd,p05,...): one sheet per metric in the wide
 *     layout (a row per scenario and time, a column per provider/segment,
 *     and per statistic for Monte Carlo), with line charts of the shares
 *     (one per segment) or fan charts (one per share series: the bands
 *     between the quantiles);
 *   - any other table (tornado, Sobol, calibration, optimisation, sweeps):
 *     one sheet with the table as is.
 * Then the sheets "Inputs" (every input of every scenario, from the
 * sidecar, by parameter path), "Sources" (the scenario file's lines marked
 * "-- seed:", "-- source:", "-- assumption:" or "-- fitted:", if any) and
 * "About" (the sidecar's provenance: version, command, file and SHA-256,
 * overrides, seed and the analysis settings). Numbers are numbers (the
 * CSV's exact values) with display formats; header rows are frozen.
 *
 * A verb gets a workbook by passing a path ending in ".xlsx" to
 * cli_write_pair() (cli.h) with its usual CSV writer: the workbook replaces
 * the CSV, atomically, with the usual sidecar FILE.xlsx.json beside it.
 * Only src/cli includes this.
 */
#ifndef SS_CLI_XLSX_OUT_H
#define SS_CLI_XLSX_OUT_H

#include <stddef.h>
#include <stdio.h>
#include "stratsim.h"

/* 1 if path ends in ".xlsx" (any case). */
int cli_is_xlsx(const char *path);

/*
 * Build the workbook of `csv` (len bytes) and `sidecar_json` (may be NULL)
 * and write its bytes to f. `target` is the final path: the scratch file
 * libxlsxwriter needs is made beside it (and removed), and messages name
 * it. SS_OK, or SS_EIO / SS_ENOMEM / SS_EINVAL with a message.
 */
int cli_xlsx_write(FILE *f, const char *target, const char *csv, size_t len,
                   const char *sidecar_json, ss_err *err);

#endif
