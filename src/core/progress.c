/*
 * progress.c - counts for progress and interrupt messages
 * (stratsim/progress.h): thousands separators, no locale.
 */
#include <stdio.h>
#include <string.h>
#include "stratsim/progress.h"

const char *ss_fmt_count(char *buf, size_t size, uint64_t n)
{
    char digits[32], out[48];
    size_t len, i, o = 0;
    if (size == 0)
        return buf;
    len = (size_t)snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    for (i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
    return buf;
}
