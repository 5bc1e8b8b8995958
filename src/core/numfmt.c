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
 */
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
