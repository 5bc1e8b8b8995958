/*
 * stratsim/io.h - output files: locale-independent number formatting,
 * RFC 4180 CSV in long and wide layouts, atomic file replacement, SHA-256 of
 * input files and the JSON sidecar (cJSON) that makes a run reproducible.
 *
 * Ownership: ss_outfile_open() returns a handle the caller must pass to
 * exactly one of ss_outfile_commit() or ss_outfile_abort(); until commit the
 * data lives in a temporary file beside the target, so an error never leaves
 * a partial file at the target path.
 */
#ifndef STRATSIM_IO_H
#define STRATSIM_IO_H

#include <stdio.h>
#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Format a double as the shortest of %.15g/%.16g/%.17g that reads back
 * bit-exactly, independent of the locale ('.' decimal point). Non-finite
 * values are written as "nan", "inf", "-inf". Returns the length.
 */
int ss_fmt_double(char *buf, size_t size, double x);

/**
 * Read a finite decimal number ([+-]digits[.digits][(e|E)[+-]digits], '.'
 * as the decimal point whatever LC_NUMERIC says) filling all of s.
 * Returns 0 and stores it, or -1 (nothing stored).
 */
int ss_parse_double(const char *s, double *out);

typedef enum { SS_LAYOUT_LONG = 0, SS_LAYOUT_WIDE } ss_layout;

/**
 * Write results as CSV. Long layout: header
 * `scenario,time,provider,segment,metric,value`, one row per value: for each
 * result, each output time: provider x segment metrics (provider order,
 * segment order, metric order), then provider metrics, then segment metrics,
 * then derived metrics (provider and segment empty).
 * Wide layout: header `scenario,time,` then one column per series named
 * `metric.provider.segment`, `metric.provider`, `metric.segment` or the
 * derived metric name; one row per scenario and time. Several results may be
 * written to one file only if they have the same providers/segments (wide).
 * Text fields are quoted per RFC 4180 when needed.
 */
int ss_csv_write(FILE *f, ss_layout layout, const ss_result *const *results,
                 size_t nresults, ss_err *err);

/** Write one CSV field (quoted/escaped per RFC 4180 if needed). */
int ss_csv_field(FILE *f, const char *s);

/** Write one number as a CSV field (ss_fmt_double): SS_OK, or SS_EIO if
 *  the stream fails. */
int ss_csv_num(FILE *f, double x);

/** The long-layout rows of r (no header), each led by `lead`: CSV fields
 *  already formatted, each followed by a comma ("" or NULL: none). The
 *  scenario and each output time are formatted once per result and time.
 *  SS_OK, SS_EIO (the stream failed) or SS_ENOMEM. */
int ss_csv_write_long_rows(FILE *f, const char *lead, const ss_result *r);

/** Atomic output file. */
typedef struct ss_outfile ss_outfile;

/** Create a temporary file in the directory of `path`; *out gets the handle.
 *  A device, FIFO or stream of the process (ss_outfile_is_stream) is written
 *  in place instead. */
int ss_outfile_open(ss_outfile **out, const char *path, ss_err *err);
/** 1 if path names one of the process's own open streams (/dev/stdout,
 *  /dev/stderr, /dev/fd/N, /proc/self/fd/N), whatever it is redirected to. */
int ss_outfile_is_stream(const char *path);
/** The stream to write to. */
FILE *ss_outfile_stream(ss_outfile *o);
/** Flush, fsync, close and rename over `path`; frees the handle in all cases. */
int ss_outfile_commit(ss_outfile *o, ss_err *err);
/** Close and remove the temporary file; frees the handle. NULL-safe. */
void ss_outfile_abort(ss_outfile *o);
/**
 * Remove every temporary file of an output not yet committed or aborted.
 * Async-signal-safe (only unlink()): for a fatal-signal handler, which then
 * re-raises the signal; the handles must not be used afterwards.
 */
void ss_outfile_remove_temporaries(void);

/** The six template characters mkstemp() replaces (spelt in pairs). */
#define SS_MKSTEMP_SUFFIX "XX" "XX" "XX"

/** List a scratch file the caller created (and will remove) among the
 * temporaries ss_outfile_remove_temporaries() removes; returns a handle for
 * ss_outfile_untrack(), or -1 when the table is full (the file is then not
 * listed). Create and track it with signals blocked. */
int ss_outfile_track(const char *path);

/** Take a file listed by ss_outfile_track() off the list (before removing
 * or renaming it); -1 is ignored. */
void ss_outfile_untrack(int handle);

/** SHA-256 of a memory block / a file, as 64 lowercase hex digits + NUL. */
void ss_sha256_hex(const void *data, size_t len, char out[65]);
int ss_sha256_file(const char *path, char out[65], ss_err *err);

/** Run information recorded in the sidecar. */
typedef struct ss_sidecar_info {
    const char *command;         /**< "run", "compare", ... */
    const char *scenario_file;   /**< path as given */
    const char *scenario_sha256; /**< hex digest of the file */
    const char *const *overrides;/**< --set PATH=VALUE strings */
    size_t noverrides;
    const char *layout;          /**< "long" or "wide" */
    int unsafe;                  /**< sandbox lifted */
    /** NULL, or the text of a JSON object whose members are added to the
     *  sidecar after "unsafe" (analysis settings: seeds, runs, distributions,
     *  ...). Its numbers are rewritten with ss_fmt_double() (exact for
     *  doubles; integers beyond 2^53 should be given as strings). A member
     *  whose name is already used by the sidecar, text that is not a JSON
     *  object, or a non-finite number is an SS_EINVAL error. */
    const char *extra_json;
    /** NULL, or the results written: their user stocks (ss_result.extra_units)
     *  are listed under "stocks" as {"scenario", "id", "unit"} (unit null
     *  when the stock states none). */
    const struct ss_result *const *results;
    size_t nresults;
    /** Without results: the user stocks of these run options (of the
     *  scenario models[0]) are listed the same way; NULL: none. */
    const struct ss_run_opts *run_opts;
} ss_sidecar_info;

/**
 * Write the JSON sidecar: {"stratsim_version", "command", "scenario_file",
 * "scenario_sha256", "overrides", "layout", "unsafe", the members of
 * info->extra_json if any, "scenarios": [ model
 * dump per resolved model: name, time, discount_rate, solver, segments (every
 * field), providers (every field, schedules as {"kind","value"} or
 * {"kind","knots":[[t,v],...]}, resolved allocation, capability, brand),
 * events ]}. Numbers use ss_fmt_double (round-trip exact). Non-finite
 * numbers are an error.
 */
int ss_sidecar_write(FILE *f, const ss_sidecar_info *info,
                     const ss_model *const *models, size_t nmodels, ss_err *err);

/** The stratsim version string. */
const char *ss_version(void);

#ifdef __cplusplus
}
#endif
#endif
