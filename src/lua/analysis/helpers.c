/*
 * helpers.c - the small helpers of the Lua analysis files: list lookup,
 * numbers for messages, and raising "out of memory" and a method's core
 * failure as Lua errors.
 *
 * Ownership: none (nothing is allocated here).
 * Depends on sl_internal.h (sl_raise, sl_where) and the core (ss_fmt_double,
 * ss_strerror); declared in la_internal.h.
 */
#include <string.h>
#include "lua/analysis/la_internal.h"

int la_in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Number formatted for messages (shortest exact form). */
const char *la_fnum(double x, char *buf, size_t n)
{
    ss_fmt_double(buf, n, x);
    return buf;
}

_Noreturn void la_nomem(lua_State *L)
{
    sl_raise(L, SS_ENOMEM, "out of memory");
}

/* Raise a core failure of a method as "FILE:LINE: name: message". */
_Noreturn void la_core_fail(lua_State *L, const char *fname, int rc, const ss_err *err)
{
    char where[300];
    sl_where(L, 1, where, sizeof where);
    sl_raise(L, rc == SS_EINTR || rc == SS_ENOMEM || rc == SS_ELIMIT ? rc : SS_EINVAL,
                 "%s: %s: %s", where, fname, err->msg[0] ? err->msg : ss_strerror(rc));
}

