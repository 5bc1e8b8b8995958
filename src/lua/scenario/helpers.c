/*
 * helpers.c - the small string and table helpers of the Scenario files:
 * list lookup, printable renderings of script-supplied strings (bounded,
 * or with bytes escaped), the UTF-8 text check of names, numbers and key
 * paths for messages, and raw field access.
 *
 * Ownership: none; results are written into the caller's buffers.
 * Depends on ls_internal.h and Lua (lua_rawget).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lua/scenario/ls_internal.h"

int ls_in_list(const char *const *list, const char *s, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return 1;
    return 0;
}

/* A printable, bounded rendering of a script-supplied string. */
const char *ls_show(const char *s, size_t len, char *buf, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < len && o + 4 < n; i++)
        buf[o++] = ((unsigned char)s[i] < 32 || s[i] == 127) ? '?' : s[i];
    if (i < len && n > 4) {
        memcpy(buf + (o > n - 4 ? n - 4 : o), "...", 4);
        return buf;
    }
    buf[o] = '\0';
    return buf;
}

/* s[0..len) for a message, bytes outside printable ASCII as \xHH. */
const char *ls_show_escaped(const char *s, size_t len, char *buf, size_t n)
{
    size_t i, o = 0;
    for (i = 0; i < len && o + 8 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\' || ch == '"')
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    if (i < len)
        o += (size_t)snprintf(buf + o, n - o, "...");
    buf[o < n ? o : n - 1] = '\0';
    return buf;
}

/* 0 if s[0..len) is UTF-8 text without control characters (C0, DEL,
 * C1), else 1 + the offset of the first offending byte; *what says why. */
size_t ls_unsafe_text(const char *s, size_t len, const char **what)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = (unsigned char)s[i];
        unsigned long cp;
        size_t k, n;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                *what = "a control character";
                return i + 1;
            }
            i++;
            continue;
        }
        n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? (c <= 0xef ? 3 : 0) : c >= 0xc2 ? 2 : 0;
        if (n == 0 || i + n > len) {
            *what = "invalid UTF-8";
            return i + 1;
        }
        cp = c & (0xff >> (n + 1));
        for (k = 1; k < n; k++) {
            unsigned cc = (unsigned char)s[i + k];
            if ((cc & 0xc0) != 0x80) {
                *what = "invalid UTF-8";
                return i + 1;
            }
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            *what = "invalid UTF-8";
            return i + 1;
        }
        if (cp >= 0x80 && cp <= 0x9f) {
            *what = "a control character";
            return i + 1;
        }
        i += n;
    }
    return 0;
}

size_t ls_list_len(const char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

const char *ls_fmt_num(double x, char *buf, size_t n)
{
    if (isnan(x))
        snprintf(buf, n, "nan");
    else
        snprintf(buf, n, "%.15g", x);
    return buf;
}

/* "prefix.key" (or "key"), truncated to fit; buf may not alias prefix. */
const char *ls_kpath(char *buf, size_t n, const char *prefix, const char *key)
{
    size_t o = 0;
    const char *parts[3];
    int i;
    parts[0] = prefix && *prefix ? prefix : "";
    parts[1] = prefix && *prefix ? "." : "";
    parts[2] = key;
    for (i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        if (l > n - 1 - o)
            l = n - 1 - o;
        memcpy(buf + o, parts[i], l);
        o += l;
    }
    buf[o] = '\0';
    return buf;
}

/* Push t[k] without metamethods; returns its type. t is absolute. */
int ls_rawfield(lua_State *L, int t, const char *k)
{
    lua_pushstring(L, k);
    return lua_rawget(L, t);
}
