/*
 * overrides.c - `--set PATH=VALUE`: set one numeric input of a model by its
 * parameter path (docs/analysis.md paths plus time.*, solver.*, discount_rate).
 *
 * A thin wrapper over the core's parameter-path resolver (src/core/param.c,
 * stratsim/param.h), which owns the paths, the ranges (the same as those of
 * the scenario keys) and the "did you mean" suggestions; here a per-segment
 * provider field without `.<segment>` addresses every segment
 * (SS_PARAM_ALL_SEGMENTS), and the assignment text is parsed (the value
 * as a decimal number with '.', whatever the locale).
 * Overrides are applied to the unresolved model (after the script's own
 * checks, before ss_model_resolve); cross-checks (share sums, potential >=
 * size, event times inside the time range) are left to ss_model_resolve.
 * Pure C: no Lua here.
 */
#include <stdio.h>
#include <string.h>
#include "sl_internal.h"
#include "stratsim/io.h"
#include "stratsim/param.h"

int sl_override_set(ss_model *m, const char *path, double x, ss_err *err)
{
    ss_param p;
    int rc = ss_param_resolve(&p, m, path, SS_PARAM_ALL_SEGMENTS, err);
    if (rc != SS_OK)
        return rc;
    if ((rc = ss_param_set(&p, x, err)) != SS_OK && err)
        snprintf(err->path, sizeof err->path, "%s", path);
    return rc;
}

int sl_override_apply(ss_model *m, const char *assignment, ss_err *err)
{
    const char *eq = strchr(assignment, '=');
    char path[256];
    double x;
    size_t n;
    ss_err e;
    int rc;

    if (!eq || eq == assignment)
        return ss_err_set(err, SS_EINVAL, NULL, "--set '%s': expected PATH=VALUE", assignment);
    n = (size_t)(eq - assignment);
    if (n >= sizeof path)
        return ss_err_set(err, SS_EINVAL, NULL, "--set: path too long");
    memcpy(path, assignment, n);
    path[n] = '\0';
    if (ss_parse_double(eq + 1, &x) != 0)
        return ss_err_set(err, SS_EINVAL, path, "--set %s: value '%s' is not a finite number",
                          path, eq + 1);
    ss_err_clear(&e);
    if ((rc = sl_override_set(m, path, x, &e)) != SS_OK)
        return ss_err_set(err, rc, path, "--set %s: %s", path, e.msg);
    return SS_OK;
}
