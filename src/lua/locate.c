/*
 * locate.c - map a key path ("providers.alibaba.share.public",
 * "events[2].severity") to a line of the scenario source.
 *
 * Lua tables carry no line information, so when a scenario error names a key
 * path we re-read the source text: a small lexer (names, strings, numbers,
 * brackets; comments and long strings skipped) turns it into tokens with
 * line numbers and bracket depths, and the path is followed from the table
 * constructor called on the recorded line: a key is `name =` or
 * `["name"] =` among the direct children of the current table, a provider
 * or segment id is the element table holding `id = "name"` (or the key
 * `name =` in the keyed form of :with), and `[n]` is the n-th positional
 * element. The line of the deepest component found wins.
 * Pure C (no Lua calls), so it may use malloc freely; it never fails: on
 * allocation failure it just reports the constructor line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sl_internal.h"

enum { T_NAME, T_STRING, T_NUMBER, T_OPEN, T_CLOSE, T_EQ, T_SEP, T_OTHER };

typedef struct tok {
    int type;
    char ch;          /* for T_OPEN/T_CLOSE: the bracket */
    const char *s;    /* name or string contents (no escape processing) */
    size_t len;
    int line;
    int depth;        /* open brackets before this token */
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static int push(toks *ts, tok t)
{
    if (ts->n == ts->cap) {
        size_t nc = ts->cap ? ts->cap * 2 : 256;
        tok *nv = realloc(ts->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        ts->v = nv;
        ts->cap = nc;
    }
    ts->v[ts->n++] = t;
    return 0;
}

static int is_name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Length of a long bracket opener "[==[" at p (level in *lvl), or 0. */
static size_t long_open(const char *p, const char *end, int *lvl)
{
    const char *q = p + 1;
    int l = 0;
    if (p >= end || *p != '[')
        return 0;
    while (q < end && *q == '=') {
        l++;
        q++;
    }
    if (q < end && *q == '[') {
        *lvl = l;
        return (size_t)(q - p) + 1;
    }
    return 0;
}

/* Skip to the end of a long bracket of level lvl; counts newlines. */
static const char *long_close(const char *p, const char *end, int lvl, int *line)
{
    while (p < end) {
        if (*p == '\n')
            (*line)++;
        if (*p == ']') {
            const char *q = p + 1;
            int l = 0;
            while (q < end && *q == '=') {
                l++;
                q++;
            }
            if (l == lvl && q < end && *q == ']')
                return q + 1;
        }
        p++;
    }
    return end;
}

/* Tokenise the whole text. Returns 0, or -1 on allocation failure. */
static int lex(const char *text, size_t len, toks *ts)
{
    const char *p = text, *end = text + len;
    int line = 1, depth = 0;

    while (p < end) {
        tok t;
        int c = (unsigned char)*p, lvl;
        size_t n;

        memset(&t, 0, sizeof t);
        if (c == '\n') {
            line++;
            p++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            p++;
            continue;
        }
        if (c == '-' && p + 1 < end && p[1] == '-') {
            p += 2;
            if ((n = long_open(p, end, &lvl)) != 0) {
                p = long_close(p + n, end, lvl, &line);
            } else {
                while (p < end && *p != '\n')
                    p++;
            }
            continue;
        }
        t.line = line;
        t.depth = depth;
        if (is_name_start(c)) {
            t.type = T_NAME;
            t.s = p;
            while (p < end && is_name_char((unsigned char)*p))
                p++;
            t.len = (size_t)(p - t.s);
        } else if (c >= '0' && c <= '9') {
            t.type = T_NUMBER;
            while (p < end && (is_name_char((unsigned char)*p) || *p == '.' ||
                               ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E' ||
                                                             p[-1] == 'p' || p[-1] == 'P'))))
                p++;
        } else if (c == '"' || c == '\'') {
            t.type = T_STRING;
            t.s = ++p;
            while (p < end && *p != c && *p != '\n') {
                if (*p == '\\' && p + 1 < end) {
                    if (p[1] == '\n')
                        line++;
                    p++;
                }
                p++;
            }
            t.len = (size_t)(p - t.s);
            if (p < end && *p == c)
                p++;
        } else if ((n = long_open(p, end, &lvl)) != 0) {
            t.type = T_STRING;
            t.s = p + n;
            p = long_close(p + n, end, lvl, &line);
            t.len = 0; /* long strings never match an id */
        } else if (c == '{' || c == '(' || c == '[') {
            t.type = T_OPEN;
            t.ch = (char)c;
            depth++;
            p++;
        } else if (c == '}' || c == ')' || c == ']') {
            t.type = T_CLOSE;
            t.ch = (char)c;
            if (depth > 0)
                depth--;
            t.depth = depth;
            p++;
        } else if (c == '=') {
            if (p + 1 < end && p[1] == '=') {
                t.type = T_OTHER;
                p += 2;
            } else {
                t.type = T_EQ;
                p++;
            }
        } else if (c == ',' || c == ';') {
            t.type = T_SEP;
            p++;
        } else if ((c == '~' || c == '<' || c == '>') && p + 1 < end && p[1] == '=') {
            t.type = T_OTHER;
            p += 2;
        } else {
            t.type = T_OTHER;
            p++;
        }
        if (push(ts, t) != 0)
            return -1;
    }
    return 0;
}

static int tok_is(const tok *t, int type, const char *s)
{
    size_t n = strlen(s);
    return t->type == type && t->len == n && memcmp(t->s, s, n) == 0;
}

/* Index of the token closing the bracket opened at o (or n). */
static size_t match_close(const toks *ts, size_t o)
{
    size_t j;
    for (j = o + 1; j < ts->n; j++)
        if (ts->v[j].type == T_CLOSE && ts->v[j].depth == ts->v[o].depth)
            return j;
    return ts->n;
}

/* A table range: the '{' token and its matching '}'. */
typedef struct range {
    size_t open, close;
    int valid;
} range;

static range table_at(const toks *ts, size_t j)
{
    range r = {0, 0, 0};
    if (j < ts->n && ts->v[j].type == T_OPEN && ts->v[j].ch == '{') {
        r.open = j;
        r.close = match_close(ts, j);
        r.valid = 1;
    }
    return r;
}

/*
 * Find the key `name` among the direct children of r: `name =` or
 * `["name"] =`. Returns the index of the key's first token and stores the
 * index of the value's first token in *val, or returns ts->n.
 */
static size_t find_key(const toks *ts, range r, const char *name, size_t *val)
{
    size_t j;
    int d = ts->v[r.open].depth + 1;
    for (j = r.open + 1; j < r.close; j++) {
        const tok *t = &ts->v[j];
        if (t->depth != d)
            continue;
        if (j + 1 < r.close && tok_is(t, T_NAME, name) && ts->v[j + 1].type == T_EQ &&
            (j == r.open + 1 || ts->v[j - 1].type == T_SEP || ts->v[j - 1].type == T_OPEN)) {
            *val = j + 2;
            return j;
        }
        if (j + 3 < r.close && t->type == T_OPEN && t->ch == '[' &&
            tok_is(&ts->v[j + 1], T_STRING, name) && ts->v[j + 2].type == T_CLOSE &&
            ts->v[j + 3].type == T_EQ) {
            *val = j + 4;
            return j;
        }
    }
    return ts->n;
}

/*
 * Find the element table of r that holds `id = "name"`. Returns the index of
 * the `id` token and stores the element's '{' index in *val, or ts->n.
 */
static size_t find_id(const toks *ts, range r, const char *name, size_t *val)
{
    size_t j;
    int d = ts->v[r.open].depth + 1;
    for (j = r.open + 1; j < r.close; j++) {
        const tok *t = &ts->v[j];
        if (t->depth == d && t->type == T_OPEN && t->ch == '{') {
            range e = table_at(ts, j);
            size_t v, k = find_key(ts, e, "id", &v);
            if (k < ts->n && v < e.close && tok_is(&ts->v[v], T_STRING, name)) {
                *val = j;
                return k;
            }
            j = e.close;
        }
    }
    return ts->n;
}

/* The first token of the next positional (not keyed) element of r after
 * token j: j = r.open for the first one, then the previous result. */
static size_t next_positional(const toks *ts, range r, size_t j)
{
    int d = ts->v[r.open].depth + 1, start = j == r.open;
    for (j++; j < r.close; j++) {
        const tok *t = &ts->v[j];
        if (t->depth != d)
            continue;
        if (t->type == T_SEP) {
            start = 1;
            continue;
        }
        if (start) {
            int keyed = (t->type == T_NAME && j + 1 < r.close && ts->v[j + 1].type == T_EQ) ||
                        (t->type == T_OPEN && t->ch == '[');
            start = 0;
            if (!keyed)
                return j;
        }
    }
    return ts->n;
}

/* The n-th (1-based) positional element of r: index of its first token. */
static size_t find_index(const toks *ts, range r, long n)
{
    size_t j = r.open;
    long count = 0;
    while ((j = next_positional(ts, r, j)) < ts->n)
        if (++count == n)
            return j;
    return ts->n;
}

/* Find the table opened by the constructor call on `line`. */
static range ctor_table(const toks *ts, int line)
{
    range none = {0, 0, 0};
    size_t j, first = ts->n;
    for (j = 0; j < ts->n && ts->v[j].line <= line; j++) {
        const tok *t = &ts->v[j];
        if (t->line != line)
            continue;
        if (first == ts->n && t->type == T_OPEN && t->ch == '{')
            first = j;
        if ((tok_is(t, T_NAME, "scenario") || tok_is(t, T_NAME, "with")) && j + 1 < ts->n) {
            const tok *u = &ts->v[j + 1];
            if (u->type == T_OPEN && u->ch == '{')
                return table_at(ts, j + 1);
            if (u->type == T_OPEN && u->ch == '(' && j + 2 < ts->n)
                return table_at(ts, j + 2);
        }
    }
    if (first < ts->n)
        return table_at(ts, first);
    return none;
}

int sl_locate_path(const char *text, size_t len, int ctor_line, const char *path, int *depth)
{
    toks ts = {NULL, 0, 0};
    range r;
    int line = ctor_line, found = 0, comp = 0;
    const char *p = path;
    char prev[128] = "";

    *depth = 0;
    if (!text || ctor_line <= 0 || lex(text, len, &ts) != 0 || ts.n == 0) {
        free(ts.v);
        return ctor_line;
    }
    r = ctor_table(&ts, ctor_line);
    while (r.valid && *p) {
        char name[128];
        size_t n = 0, k = ts.n, val = ts.n;
        long index = -1;

        if (*p == '[') {
            index = strtol(p + 1, NULL, 10);
            while (*p && *p != ']')
                p++;
            if (*p)
                p++;
        } else {
            while (*p && *p != '.' && *p != '[' && n + 1 < sizeof name)
                name[n++] = *p++;
            while (*p && *p != '.' && *p != '[')
                p++;
        }
        name[n] = '\0';
        if (*p == '.')
            p++;
        if (index >= 0) {
            k = find_index(&ts, r, index);
            val = k;
        } else {
            if (comp == 1 && (strcmp(prev, "segments") == 0 || strcmp(prev, "providers") == 0))
                k = find_id(&ts, r, name, &val);
            if (k == ts.n)
                k = find_key(&ts, r, name, &val);
        }
        if (k == ts.n)
            break;
        line = ts.v[k].line;
        found++;
        comp++;
        snprintf(prev, sizeof prev, "%s", index >= 0 ? "" : name);
        r = table_at(&ts, val);
    }
    free(ts.v);
    *depth = found;
    return line;
}

int sl_locate_items(const char *text, size_t len, int ctor_line, const char *key,
                    int *lines, size_t n)
{
    toks ts = {NULL, 0, 0};
    range r;
    size_t i, j, val = 0, count = 0;

    for (i = 0; i < n; i++)
        lines[i] = 0;
    if (!text || ctor_line <= 0 || n == 0 || lex(text, len, &ts) != 0 || ts.n == 0) {
        free(ts.v);
        return 0;
    }
    r = ctor_table(&ts, ctor_line);
    if (r.valid && find_key(&ts, r, key, &val) < ts.n)
        r = table_at(&ts, val);
    else
        r.valid = 0;
    if (r.valid) /* one pass over the direct children: positional items in order */
        for (j = r.open; count < n && (j = next_positional(&ts, r, j)) < ts.n;)
            lines[count++] = ts.v[j].line;
    free(ts.v);
    return (int)count;
}
