/*
 * csv.c - RFC 4180 CSV output of simulation results in the long and wide
 * layouts documented in stratsim/io.h.
 *
 * Text fields (scenario names, ids, metric and column names) go through
 * ss_csv_field(): a field is quoted when it contains a comma, a double quote,
 * CR or LF, or starts or ends with a space; inner quotes are doubled.  As a
 * defence against CSV/formula injection (OWASP), a text field that starts
 * with '=', '+', '-', '@', TAB or CR gets a leading single quote inside the
 * field, and such a field is always quoted.  Numbers never go through that
 * path: they are written with ss_fmt_double() (locale-independent, round-trip
 * exact).  Lines end in "\n".  Every write is checked; a failed write, or an
 * error reported by the final fflush(), yields SS_EIO.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stratsim/io.h"

int ss_csv_field(FILE *f, const char *s)
{
    if (s == NULL || *s == '\0')
        return SS_OK;

    int inject = (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                  s[0] == '\t' || s[0] == '\r');
    size_t len = strlen(s);
    int quote = inject || strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ' ||
                s[len - 1] == ' ';

    if (!quote)
        return fputs(s, f) == EOF ? SS_EIO : SS_OK;

    if (putc('"', f) == EOF)
        return SS_EIO;
    if (inject && putc('\'', f) == EOF)
        return SS_EIO;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' && putc('"', f) == EOF)
            return SS_EIO;
        if (putc((unsigned char)*p, f) == EOF)
            return SS_EIO;
    }
    return putc('"', f) == EOF ? SS_EIO : SS_OK;
}

/* Write a literal (separator, newline); SS_EIO on failure. */
static int csv_lit(FILE *f, const char *s)
{
    return fputs(s, f) == EOF ? SS_EIO : SS_OK;
}

int ss_csv_num(FILE *f, double x)
{
    char buf[64];
    ss_fmt_double(buf, sizeof buf, x);
    return csv_lit(f, buf);
}

/* The rest of a long-layout row after its prefix: provider,segment,metric,value\n */
static int csv_long_rest(FILE *f, const char *prov, const char *seg, const char *metric, double v)
{
    if (ss_csv_field(f, prov) || csv_lit(f, ",") || ss_csv_field(f, seg) || csv_lit(f, ",") ||
        ss_csv_field(f, metric) || csv_lit(f, ",") || ss_csv_num(f, v) || csv_lit(f, "\n"))
        return SS_EIO;
    return SS_OK;
}

/* The prefix of result r's rows: lead, then "scenario,", formatted once;
 * malloc'ed with room for a time and a comma after it (*len: its length
 * so far), NULL if out of memory. */
static char *csv_long_prefix(const char *lead, const ss_result *r, size_t *len)
{
    char *buf = NULL, *out;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    int bad;
    if (!m)
        return NULL;
    bad = fputs(lead, m) == EOF || ss_csv_field(m, r->scenario) || csv_lit(m, ",");
    if (fclose(m) != 0 || bad || !(out = realloc(buf, n + 72))) {
        free(buf);
        return NULL;
    }
    *len = n;
    return out;
}

int ss_csv_write_long_rows(FILE *f, const char *lead, const ss_result *r)
{
    size_t len, at;
    char *pre = csv_long_prefix(lead ? lead : "", r, &len);
    int rc = SS_OK;
    if (!pre)
        return SS_ENOMEM;
    /* each output time's prefix "LEAD scenario,time," once: the rows write
       it as it is (the same bytes as formatting every field of every row) */
    for (size_t ti = 0; ti < r->nt && rc == SS_OK; ti++) {
        ss_fmt_double(pre + len, 64, r->t[ti]);
        at = len + strlen(pre + len);
        pre[at] = ',';
        pre[at + 1] = '\0';
        for (size_t i = 0; i < r->np && rc == SS_OK; i++)
            for (size_t k = 0; k < r->nk && rc == SS_OK; k++)
                for (int m = 0; m < SS_NPS && rc == SS_OK; m++)
                    if (csv_lit(f, pre) || csv_long_rest(f, r->prov_ids[i], r->seg_ids[k],
                                                         ss_metric_ps_name(m),
                                                         SS_RESULT_PS(r, ti, m, i, k)))
                        rc = SS_EIO;
        for (size_t i = 0; i < r->np && rc == SS_OK; i++)
            for (int m = 0; m < SS_NP && rc == SS_OK; m++)
                if (csv_lit(f, pre) || csv_long_rest(f, r->prov_ids[i], NULL, ss_metric_p_name(m),
                                                     SS_RESULT_P(r, ti, m, i)))
                    rc = SS_EIO;
        for (size_t k = 0; k < r->nk && rc == SS_OK; k++)
            for (int m = 0; m < SS_NS && rc == SS_OK; m++)
                if (csv_lit(f, pre) || csv_long_rest(f, NULL, r->seg_ids[k], ss_metric_s_name(m),
                                                     SS_RESULT_S(r, ti, m, k)))
                    rc = SS_EIO;
        for (size_t x = 0; x < r->nextra && rc == SS_OK; x++)
            if (csv_lit(f, pre) || csv_long_rest(f, NULL, NULL, r->extra_names[x],
                                                 r->extra[ti * r->nextra + x]))
                rc = SS_EIO;
    }
    free(pre);
    return rc;
}

/* Write the wide column name "a.b.c" (b, c optional) as one text field. */
static int csv_colname(FILE *f, const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + (b ? strlen(b) + 1 : 0) + (c ? strlen(c) + 1 : 0) + 1;
    char *s = malloc(n);
    if (s == NULL)
        return SS_ENOMEM;
    snprintf(s, n, "%s%s%s%s%s", a, b ? "." : "", b ? b : "", c ? "." : "",
             c ? c : "");
    int rc = ss_csv_field(f, s);
    free(s);
    return rc;
}

static int csv_wide_header(FILE *f, const ss_result *r)
{
    int rc = csv_lit(f, "scenario,time");
    if (rc || r == NULL)
        return rc ? rc : csv_lit(f, "\n");
    for (size_t i = 0; i < r->np; i++)
        for (size_t k = 0; k < r->nk; k++)
            for (int m = 0; m < SS_NPS; m++)
                if ((rc = csv_lit(f, ",")) ||
                    (rc = csv_colname(f, ss_metric_ps_name(m), r->prov_ids[i],
                                      r->seg_ids[k])))
                    return rc;
    for (size_t i = 0; i < r->np; i++)
        for (int m = 0; m < SS_NP; m++)
            if ((rc = csv_lit(f, ",")) ||
                (rc = csv_colname(f, ss_metric_p_name(m), r->prov_ids[i], NULL)))
                return rc;
    for (size_t k = 0; k < r->nk; k++)
        for (int m = 0; m < SS_NS; m++)
            if ((rc = csv_lit(f, ",")) ||
                (rc = csv_colname(f, ss_metric_s_name(m), r->seg_ids[k], NULL)))
                return rc;
    for (size_t x = 0; x < r->nextra; x++)
        if ((rc = csv_lit(f, ",")) || (rc = ss_csv_field(f, r->extra_names[x])))
            return rc;
    return csv_lit(f, "\n");
}

static int csv_write_wide(FILE *f, const ss_result *r)
{
    for (size_t ti = 0; ti < r->nt; ti++) {
        if (ss_csv_field(f, r->scenario) || csv_lit(f, ",") || ss_csv_num(f, r->t[ti]))
            return SS_EIO;
        for (size_t i = 0; i < r->np; i++)
            for (size_t k = 0; k < r->nk; k++)
                for (int m = 0; m < SS_NPS; m++)
                    if (csv_lit(f, ",") || ss_csv_num(f, SS_RESULT_PS(r, ti, m, i, k)))
                        return SS_EIO;
        for (size_t i = 0; i < r->np; i++)
            for (int m = 0; m < SS_NP; m++)
                if (csv_lit(f, ",") || ss_csv_num(f, SS_RESULT_P(r, ti, m, i)))
                    return SS_EIO;
        for (size_t k = 0; k < r->nk; k++)
            for (int m = 0; m < SS_NS; m++)
                if (csv_lit(f, ",") || ss_csv_num(f, SS_RESULT_S(r, ti, m, k)))
                    return SS_EIO;
        for (size_t x = 0; x < r->nextra; x++)
            if (csv_lit(f, ",") || ss_csv_num(f, r->extra[ti * r->nextra + x]))
                return SS_EIO;
        if (csv_lit(f, "\n"))
            return SS_EIO;
    }
    return SS_OK;
}

static int csv_str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* 1 if results a and b have the same columns in the wide layout. */
static int csv_same_columns(const ss_result *a, const ss_result *b)
{
    if (a->np != b->np || a->nk != b->nk || a->nextra != b->nextra)
        return 0;
    for (size_t i = 0; i < a->np; i++)
        if (!csv_str_eq(a->prov_ids[i], b->prov_ids[i]))
            return 0;
    for (size_t k = 0; k < a->nk; k++)
        if (!csv_str_eq(a->seg_ids[k], b->seg_ids[k]))
            return 0;
    for (size_t x = 0; x < a->nextra; x++)
        if (!csv_str_eq(a->extra_names[x], b->extra_names[x]))
            return 0;
    return 1;
}

int ss_csv_write(FILE *f, ss_layout layout, const ss_result *const *results,
                 size_t nresults, ss_err *err)
{
    int rc = SS_OK;

    errno = 0;
    if (f == NULL || (nresults > 0 && results == NULL))
        return ss_err_set(err, SS_EINVAL, "", "ss_csv_write: no stream or results");
    for (size_t j = 0; j < nresults; j++)
        if (results[j] == NULL)
            return ss_err_set(err, SS_EINVAL, "", "ss_csv_write: result %zu is NULL", j);

    if (layout == SS_LAYOUT_WIDE) {
        for (size_t j = 1; j < nresults; j++)
            if (!csv_same_columns(results[0], results[j]))
                return ss_err_set(err, SS_EINVAL, "",
                                  "wide CSV: scenario '%s' has other providers, "
                                  "segments or derived metrics than '%s'; use the long layout",
                                  results[j]->scenario ? results[j]->scenario : "",
                                  results[0]->scenario ? results[0]->scenario : "");
        rc = csv_wide_header(f, nresults > 0 ? results[0] : NULL);
        for (size_t j = 0; rc == SS_OK && j < nresults; j++)
            rc = csv_write_wide(f, results[j]);
    } else if (layout == SS_LAYOUT_LONG) {
        rc = csv_lit(f, "scenario,time,provider,segment,metric,value\n");
        for (size_t j = 0; rc == SS_OK && j < nresults; j++)
            rc = ss_csv_write_long_rows(f, "", results[j]);
    } else {
        return ss_err_set(err, SS_EINVAL, "", "unknown CSV layout %d", (int)layout);
    }

    if (rc == SS_ENOMEM)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory writing CSV");
    if (rc == SS_OK && fflush(f) == EOF)
        rc = SS_EIO;
    if (rc == SS_OK && ferror(f))
        rc = SS_EIO;
    if (rc != SS_OK) {
        int e = errno;
        return ss_err_set(err, SS_EIO, "", "writing CSV failed: %s",
                          e ? strerror(e) : "write error");
    }
    return SS_OK;
}
