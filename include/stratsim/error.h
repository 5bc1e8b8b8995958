/*
 * stratsim/error.h - status codes and the error record of the stratsim core.
 *
 * Every fallible core function returns an int status: SS_OK (0) on success or
 * a negative SS_E* code.  The one-line message and, where it applies, the key
 * path of the offending input ("providers.alibaba.share.public") are recorded
 * in a caller-owned ss_err, and so are the file and line the message names
 * when it is located in an input file (a scenario line, a data-file row): a
 * front end tells a located message from a bare one by `file`, never by
 * reading the message.  The core never prints and never exits.
 */
#ifndef STRATSIM_ERROR_H
#define STRATSIM_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SS_OK = 0,
    SS_EINVAL = -1,   /**< invalid scenario input (value, type, id, range) */
    SS_ENOMEM = -2,   /**< allocation failed */
    SS_ENUMERIC = -3, /**< non-finite value or failing integration step */
    SS_EIO = -4,      /**< reading or writing a file failed */
    SS_ELIMIT = -5,   /**< a resource limit (steps, memory, instructions) was hit */
    SS_EINTR = -6     /**< interrupted by the user */
};

/** Error record filled by failing core functions. Zero-initialise it. */
typedef struct ss_err {
    int code;         /**< the SS_E* code, 0 when no error was recorded */
    char path[256];   /**< key path of the offending input, "" if none */
    char msg[512];    /**< one-line message without trailing newline */
    char file[256];   /**< the file msg is located in (msg starts "FILE:LINE:"), "" if none */
    long line;        /**< its line, 0 if none */
} ss_err;

/** Record an error (printf-style message) and return `code`. `e` may be NULL. */
int ss_err_set(ss_err *e, int code, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/**
 * Record that the error in `e` (already set; its message names the place
 * itself) is located at `file`:`line`. `file` NULL or "" clears the
 * location. `e` may be NULL.
 */
void ss_err_at(ss_err *e, const char *file, long line);

/** Clear an error record. */
void ss_err_clear(ss_err *e);

/**
 * Process-wide set-up: turns GSL's default (aborting) error handler off so that
 * GSL failures come back as status codes. Call once at program start, before
 * any threads; idempotent.
 */
void ss_global_init(void);

/** Static name of a status code ("invalid input", ...). */
const char *ss_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
