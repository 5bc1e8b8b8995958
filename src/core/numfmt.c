/*
 * numfmt.c - locale-independent, round-trip exact formatting of doubles.
 *
 * ss_fmt_double() writes the shortest of %.15g, %.16g and %.17g that strtod()
 * reads back to the same bits (%.17g always does for IEEE binary64).  The
 * decimal point is always '.', whatever LC_NUMERIC says: the number is
 * formatted and checked in the current locale (printf and strtod agree with
 * each other there), then the radix sequence is replaced by '.'.  The radix is
 * found from the shape of %g output (sign, digits, radix, digits, exponent),
 * so no locale data is read and the function is thread-safe.  Non-finite
 * values are written as "nan", "inf" and "-inf"; -0.0 is written as "-0".
 * ss_parse_double() is the reverse for decimal input ('.' swapped for the
 * locale's radix, learned from printf, before strtod).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stratsim/io.h"

/* Room for "-1.2345678901234567e-308" in any locale (radix up to a few bytes). */
#define NUMFMT_TMP 64

/* Replace the locale's radix sequence (if any) in the %g output s by '.'. */
static void numfmt_fix_radix(char *s)
{
    char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '\0' || *p == 'e' || *p == 'E' || *p == '.')
        return;
    /* p starts the radix sequence: it runs to the next digit. */
    char *q = p;
    while (*q != '\0' && !(*q >= '0' && *q <= '9') && *q != 'e' && *q != 'E')
        q++;
    *p = '.';
    memmove(p + 1, q, strlen(q) + 1);
}

/* Bit-exact comparison (distinguishes -0.0 from 0.0). */
static int numfmt_same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

int ss_fmt_double(char *buf, size_t size, double x)
{
    char tmp[NUMFMT_TMP];

    if (isnan(x))
        snprintf(tmp, sizeof tmp, "nan");
    else if (isinf(x))
        snprintf(tmp, sizeof tmp, "%s", x < 0 ? "-inf" : "inf");
    else {
        int prec;
        for (prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, x);
            if (prec == 17 || numfmt_same(strtod(tmp, NULL), x))
                break;
        }
        numfmt_fix_radix(tmp);
    }

    size_t n = strlen(tmp);
    if (buf != NULL && size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return (int)n;
}

int ss_parse_double(const char *s, double *out)
{
    char buf[NUMFMT_TMP * 4], radix[8], probe[16];
    const char *p = s, *dot = NULL;
    size_t nd = 0, rl, n;
    char *end;
    double v;

    if (!s)
        return -1;
    if (*p == '+' || *p == '-')
        p++;
    while (isdigit((unsigned char)*p)) {
        p++;
        nd++;
    }
    if (*p == '.') {
        dot = p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            nd++;
        }
    }
    if (nd == 0)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p != '\0')
        return -1;
    n = strlen(s);
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    rl = strlen(probe) - 2;
    if (rl == 0 || rl >= sizeof radix || n + rl >= sizeof buf)
        return -1;
    memcpy(radix, probe + 1, rl);
    radix[rl] = '\0';
    if (dot) {
        size_t pre = (size_t)(dot - s);
        memcpy(buf, s, pre);
        memcpy(buf + pre, radix, rl);
        memcpy(buf + pre + rl, dot + 1, n - pre);
    } else {
        memcpy(buf, s, n + 1);
    }
    v = strtod(buf, &end);
    if (*end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
