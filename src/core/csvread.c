/*
 * csvread.c - the CSV reader of plot, the xlsx writer and stratsim.series,
 * and the tokenizer of the calibration data reader (see csvread.h).  The
 * file is read into one buffer and split in place: unquoting only ever
 * shortens a field, so each cell is rewritten where it lies and
 * NUL-terminated, and cells are pointers into the buffer.  One pass, no
 * per-cell allocation.  One field scanner (scan_field) serves both the whole
 * file (cli_csv_parse) and the lines of calibration data
 * (cli_csv_split_line, which calibrate.c reads line by line).
 */
#include <ctype.h>
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

/* Trim all white space (isspace) in place: the unquoted fields of a loose line. */
static char *trim_space(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

enum { FIELD_UNTERMINATED = -1, FIELD_AFTER_QUOTE = -2 };

/*
 * Scan the field at *pp in place (the text ends at `end`, where a NUL is):
 * a quoted field is unquoted (doubled quotes) and may span lines (*line
 * counts them), an unquoted one ends at ',' or a line break and is trimmed;
 * either is NUL-terminated and returned in *cell, and *pp moves past the
 * delimiter.  Returns the delimiter (',', '\n', or 0 at the end), or
 * FIELD_UNTERMINATED (no closing quote) or FIELD_AFTER_QUOTE (text after
 * the closing quote).  Strict (loose = 0, the files stratsim writes): a
 * quote opens a field only as its first byte, a closing quote is followed
 * by the delimiter (or CRLF), an unquoted field loses one CR before the line
 * break and spaces and tabs around it.  Loose (calibration data lines):
 * spaces and tabs may stand around a quoted field, and an unquoted field is
 * trimmed of all white space.
 */
static int scan_field(char **pp, char *end, int loose, char **cell, size_t *line)
{
    char *p = *pp;
    int delim;
    if (loose)
        while (*p == ' ' || *p == '\t')
            p++;
    if (*p == '"') {
        char *w = ++p;
        *cell = w;
        for (;;) {
            if (p >= end)
                return FIELD_UNTERMINATED;
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
                ++*line;
            *w++ = *p++;
        }
        if (loose)
            while (*p == ' ' || *p == '\t')
                p++;
        else if (*p == '\r' && p[1] == '\n')
            p++;
        if (*p != ',' && *p != '\n' && p < end)
            return FIELD_AFTER_QUOTE;
        delim = p < end ? *p : '\0';
        *w = '\0';
    } else {
        char *c = p;
        while (p < end && *p != ',' && *p != '\n')
            p++;
        delim = p < end ? *p : '\0';
        *p = '\0';
        if (!loose && p > c && p[-1] == '\r')
            p[-1] = '\0';
        *cell = loose ? trim_space(c) : trim(c);
    }
    if (p < end)
        p++;
    *pp = p;
    return delim;
}

int cli_csv_split_line(char *line, char **fields, size_t max)
{
    char *p = line, *end = line + strlen(line);
    size_t n = 0, lines = 0;
    for (;;) {
        char *cell;
        int delim;
        if (n == max)
            return -2;
        delim = scan_field(&p, end, 1, &cell, &lines);
        if (delim < 0)
            return -1;
        fields[n++] = cell;
        if (delim != ',')
            return (int)n;
    }
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
            char *cell;
            int delim = scan_field(&p, end, 0, &cell, &line);
            if (delim == FIELD_UNTERMINATED) {
                rc = fail(msg, msgsize, "%s:%zu: unterminated quoted field", path, rec_line);
                goto done;
            }
            if (delim == FIELD_AFTER_QUOTE) {
                rc = fail(msg, msgsize, "%s:%zu: text after a closing quote", path, line);
                goto done;
            }
            if (push(&cells, cell) != 0) {
                rc = fail(msg, msgsize, "out of memory");
                goto done;
            }
            nf++;
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
