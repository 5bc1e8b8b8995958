/*
 * behaviour.c - behaviour checks (stratsim/behaviour.h): parse the
 * expectation, run the scenario once unchanged and once per check with its
 * changes, and compare. Depends on param, select, sim and sens (the effect
 * tolerance) only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/behaviour.h"
#include "stratsim/io.h"
#include "stratsim/param.h"
#include "stratsim/sens.h"

static const char *const op_text[] = {"<", "<=", ">", ">="};

const char *ss_expect_op_text(ss_expect_op op)
{
    return (unsigned)op <= SS_EXPECT_GE ? op_text[op] : "?";
}

/* Copy s[0, n) into buf without leading/trailing blanks; 1 if too long. */
static int trim_copy(char *buf, size_t size, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= size)
        return 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

int ss_expect_parse(ss_expect *out, const char *text, ss_err *err)
{
    char sel[SS_SELECTOR_MAX + 1], rhs[SS_SELECTOR_MAX + 1];
    const char *p, *eq;
    size_t oplen;
    int rc;

    memset(out, 0, sizeof *out);
    if (!text || trim_copy(out->text, sizeof out->text, text, strlen(text)))
        return ss_err_set(err, SS_EINVAL, "", "expectation too long (at most %d bytes)", SS_SELECTOR_MAX);
    p = strpbrk(out->text, "<>");
    eq = strchr(out->text, '=');
    if (!p || strpbrk(p + 1, "<>") || (eq && (eq != p + 1 || strchr(eq + 1, '='))))
        return ss_err_set(err, SS_EINVAL, "", "expectation '%s': expected 'SELECTOR OP base' or "
                          "'SELECTOR OP NUMBER' with OP one of <, <=, >, >=", out->text);
    oplen = p[1] == '=' ? 2 : 1;
    out->op = p[0] == '<' ? (oplen == 2 ? SS_EXPECT_LE : SS_EXPECT_LT)
                          : (oplen == 2 ? SS_EXPECT_GE : SS_EXPECT_GT);
    trim_copy(sel, sizeof sel, out->text, (size_t)(p - out->text));
    trim_copy(rhs, sizeof rhs, p + oplen, strlen(p + oplen));
    if (strcmp(rhs, "base") == 0) {
        out->vs_base = 1;
    } else if (!rhs[0] || ss_parse_double(rhs, &out->value)) {
        return ss_err_set(err, SS_EINVAL, "", "expectation '%s': '%s' after '%s' is neither 'base' "
                          "nor a finite number", out->text, rhs, op_text[out->op]);
    }
    if ((rc = ss_selector_parse(&out->sel, sel, err))) {
        if (err) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            ss_err_set(err, rc, "", "expectation '%s': %s", out->text, msg);
        }
        return rc;
    }
    if (out->sel.when == SS_SEL_EACH)
        return ss_err_set(err, SS_EINVAL, "", "expectation '%s': '@each' gives a series; a check "
                          "compares one value (use @TIME)", out->text);
    return SS_OK;
}

/* Does `v OP rhs` hold, strict comparisons beyond rounding? */
static int holds(ss_expect_op op, double v, double rhs)
{
    /* strictly below / above: by more than the tolerance (ss_moved) */
    int below = v < rhs && ss_moved(v, rhs), above = v > rhs && ss_moved(v, rhs);
    if (isnan(v) || isnan(rhs))
        return 0;
    switch (op) {
    case SS_EXPECT_LT: return below;
    case SS_EXPECT_LE: return !above;
    case SS_EXPECT_GT: return above;
    case SS_EXPECT_GE: return !below;
    }
    return 0;
}

/* Run m with the check's changes (none if c is NULL). */
static int run_one(ss_result **out, const ss_model *m, const ss_check *c,
                   const ss_run_opts *ropts, ss_err *err)
{
    ss_model *cp = ss_model_copy(m);
    size_t j;
    int rc = SS_OK;
    *out = NULL;
    if (!cp)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    for (j = 0; c && j < c->nchanges && rc == SS_OK; j++)
        rc = ss_model_set_path(cp, c->paths[j], c->values[j], err);
    if (rc == SS_OK)
        rc = ss_sim_run(out, cp, ropts, err);
    ss_model_free(cp);
    return rc;
}

/* Prefix err's message with "check 'NAME': ". */
static int check_error(ss_err *err, int rc, const char *name)
{
    char msg[sizeof err->msg], path[sizeof err->path];
    if (!err)
        return rc;
    snprintf(msg, sizeof msg, "%s", err->msg);
    snprintf(path, sizeof path, "%s", err->path);
    return ss_err_set(err, rc, path, "check '%s': %s", name ? name : "?", msg);
}

int ss_checks_run(ss_check_outcome *out, const ss_model *m, const ss_check *checks, size_t n,
                  const ss_run_opts *ropts, ss_err *err)
{
    ss_result *base = NULL, *r = NULL;
    ss_expect *e = malloc((n ? n : 1) * sizeof *e);
    size_t i;
    int rc = SS_OK;
    if (!e)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    /* every expectation parsed (once) and validated before any run */
    for (i = 0; i < n && rc == SS_OK; i++)
        if ((rc = ss_expect_parse(&e[i], checks[i].expect, err)) ||
            (rc = ss_selector_validate(&e[i].sel, m, err)))
            rc = check_error(err, rc, checks[i].name);
    if (rc == SS_OK && n)
        rc = run_one(&base, m, NULL, ropts, err);
    for (i = 0; i < n && rc == SS_OK; i++) {
        if ((rc = run_one(&r, m, &checks[i], ropts, err)) ||
            (rc = ss_selector_eval(&out[i].base, &e[i].sel, base, err)) ||
            (rc = ss_selector_eval(&out[i].value, &e[i].sel, r, err))) {
            rc = check_error(err, rc, checks[i].name);
        } else {
            out[i].rhs = e[i].vs_base ? out[i].base : e[i].value;
            out[i].pass = holds(e[i].op, out[i].value, out[i].rhs);
        }
        ss_result_free(r);
        r = NULL;
    }
    ss_result_free(base);
    free(e);
    return rc;
}
