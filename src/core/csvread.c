/*
 * csvread.c - the CSV reader of plot, the xlsx writer and stratsim.series
 * (see csvread.h).  The file is read into one buffer and split in place:
 * unquoting only ever shortens a field, so each cell is rewritten where it
 * lies and NUL-terminated, and cells are pointers into the buffer.  One
 * pass, no per-cell allocation.  (The calibration data reader in
 * calibrate.c reads the same format with its own line-by-line tokenizer.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/csvread.h"

static int fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return -1;
}

/* Read a whole stream; NUL-terminated. */
static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    for (;;) {
        size_t got;
        if (n + 1 >= cap) {
            char *nb;
            cap *= 2;
            nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return s;
}

/* Growable array of cell pointers. */
typedef struct cellvec {
    char **v;
    size_t n, cap;
} cellvec;

static int push(cellvec *cv, char *s)
{
    if (cv->n == cv->cap) {
        size_t nc = cv->cap ? cv->cap * 2 : 64;
        char **nv = realloc(cv->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        cv->v = nv;
        cv->cap = nc;
    }
    cv->v[cv->n++] = s;
    return 0;
}

static int parse(cli_csv **out, cli_csv *t, size_t len, char *msg, size_t msgsize);

int cli_csv_read(cli_csv **out, const char *path, char *msg, size_t msgsize)
{
    cli_csv *t;
    FILE *f;
    size_t len = 0;

    *out = NULL;
    t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(path))) {
        free(t);
        return fail(msg, msgsize, "out of memory");
    }
    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fail(msg, msgsize, "%s: %s", path, strerror(errno));
        cli_csv_free(t);
        return -1;
    }
    t->buf = slurp(f, &len);
    if (f != stdin)
        fclose(f);
    if (!t->buf) {
        fail(msg, msgsize, "%s: cannot read the file", path);
        cli_csv_free(t);
        return -1;
    }
    return parse(out, t, len, msg, msgsize);
}

int cli_csv_parse(cli_csv **out, const char *name, char *buf, size_t len, char *msg,
                  size_t msgsize)
{
    cli_csv *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t || !(t->name = strdup(name))) {
        free(t);
        free(buf);
        return fail(msg, msgsize, "out of memory");
    }
    t->buf = buf;
    return parse(out, t, len, msg, msgsize);
}

/* Split t->buf (len bytes and a NUL) into the header and rows; frees t on errors. */
static int parse(cli_csv **out, cli_csv *t, size_t len, char *msg, size_t msgsize)
{
    const char *path = t->name;
    char *p, *end;
    size_t line = 1, nlines = 0, capl = 0;
    cellvec cells = { 0 };
    size_t header_n = 0;
    int have_header = 0, rc = 0;

    if (memchr(t->buf, '\0', len)) {
        fail(msg, msgsize, "%s: not a text file (NUL byte)", path);
        cli_csv_free(t);
        return -1;
    }
    p = t->buf;
    end = t->buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;

    while (p < end) {
        /* at the start of a record: skip blank and comment lines */
        char *q = p;
        size_t rec_line = line, nf = 0;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '\n' || *q == '#' || (*q == '\r' && q[1] == '\n') || q == end) {
            char *nl = strchr(q, '\n');
            p = nl ? nl + 1 : end;
            line++;
            continue;
        }
        for (;;) {
            char *cell, delim;
            if (*p == '"') {
                char *w = ++p;
                cell = w;
                for (;;) {
                    if (p >= end) {
                        rc = fail(msg, msgsize, "%s:%zu: unterminated quoted field", path, rec_line);
                        goto done;
                    }
                    if (*p == '"') {
                        if (p[1] == '"') {
                            *w++ = '"';
                            p += 2;
                            continue;
                        }
                        p++;
                        break;
                    }
                    if (*p == '\n')
                        line++;
                    *w++ = *p++;
                }
                if (*p == '\r' && p[1] == '\n')
                    p++;
                if (*p != ',' && *p != '\n' && p < end) {
                    rc = fail(msg, msgsize, "%s:%zu: text after a closing quote", path, line);
                    goto done;
                }
                delim = p < end ? *p : '\0';
                *w = '\0';
            } else {
                cell = p;
                while (p < end && *p != ',' && *p != '\n')
                    p++;
                delim = p < end ? *p : '\0';
                *p = '\0';
                if (p > cell && p[-1] == '\r')
                    p[-1] = '\0';
                cell = trim(cell);
            }
            if (push(&cells, cell) != 0) {
                rc = fail(msg, msgsize, "out of memory");
                goto done;
            }
            nf++;
            if (p < end)
                p++;
            if (delim != ',')
                break;
        }
        line++;
        if (!have_header) {
            header_n = nf;
            have_header = 1;
        } else {
            if (nf != header_n) {
                rc = fail(msg, msgsize, "%s:%zu: %zu fields, the header has %zu", path, rec_line,
                          nf, header_n);
                goto done;
            }
            if (nlines == capl) {
                size_t nc = capl ? capl * 2 : 256;
                size_t *nl = realloc(t->line, nc * sizeof *nl);
                if (!nl) {
                    rc = fail(msg, msgsize, "out of memory");
                    goto done;
                }
                t->line = nl;
                capl = nc;
            }
            t->line[nlines++] = rec_line;
        }
    }
    if (!have_header) {
        rc = fail(msg, msgsize, "%s: empty file (no header line)", path);
        goto done;
    }
    t->ncol = header_n;
    t->nrows = nlines;
    t->cols = cells.v;
    t->cells = cells.v + header_n;
    cells.v = NULL;
    {
        size_t i;
        for (i = 0; i < header_n; i++)
            if (t->cols[i][0] == '\0') {
                rc = fail(msg, msgsize, "%s:1: column %zu has no name", path, i + 1);
                goto done;
            }
    }
done:
    free(cells.v);
    if (rc != 0) {
        cli_csv_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void cli_csv_free(cli_csv *t)
{
    if (!t)
        return;
    free(t->cols);
    free(t->line);
    free(t->buf);
    free(t->name);
    free(t);
}

int cli_csv_col(const cli_csv *t, const char *name)
{
    size_t i;
    for (i = 0; i < t->ncol; i++)
        if (strcmp(t->cols[i], name) == 0)
            return (int)i;
    return -1;
}

const char *cli_csv_cell(const cli_csv *t, size_t r, int c)
{
    if (c < 0 || (size_t)c >= t->ncol || r >= t->nrows)
        return "";
    return t->cells[r * t->ncol + (size_t)c];
}

int cli_csv_number(const char *s, double *out)
{
    char *e;
    double v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtod(s, &e);
    if (e == s || *e != '\0')
        return -1;
    /* ERANGE on underflow is fine (a tiny number); overflow gives +-HUGE_VAL = inf */
    *out = v;
    return 0;
}

const char *cli_csv_text(const char *s)
{
    if (s[0] == '\'' && (s[1] == '=' || s[1] == '+' || s[1] == '-' || s[1] == '@' ||
                         s[1] == '\t' || s[1] == '\r'))
        return s + 1;
    return s;
}
