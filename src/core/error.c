/*
 * error.c - the ss_err record: set, clear, and names of status codes.
 * Used by every core module; depends on nothing else.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "stratsim/error.h"

void ss_global_init(void)
{
    gsl_set_error_handler_off();
}

int ss_err_set(ss_err *e, int code, const char *path, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        e->code = code;
        e->file[0] = '\0';
        e->line = 0;
        snprintf(e->path, sizeof e->path, "%s", path ? path : "");
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void ss_err_at(ss_err *e, const char *file, long line)
{
    if (e) {
        snprintf(e->file, sizeof e->file, "%s", file ? file : "");
        e->line = e->file[0] ? line : 0;
    }
}

void ss_err_clear(ss_err *e)
{
    if (e) {
        e->code = 0;
        e->path[0] = '\0';
        e->msg[0] = '\0';
        e->file[0] = '\0';
        e->line = 0;
    }
}

const char *ss_strerror(int code)
{
    switch (code) {
    case SS_OK: return "success";
    case SS_EINVAL: return "invalid input";
    case SS_ENOMEM: return "out of memory";
    case SS_ENUMERIC: return "numerical failure";
    case SS_EIO: return "input/output error";
    case SS_ELIMIT: return "resource limit exceeded";
    case SS_EINTR: return "interrupted";
    default: return "unknown error";
    }
}
