/*
 * test_util.h - shared helpers for the cmocka unit tests: includes in the
 * order cmocka 1.1 needs, a float comparison that fails on NaN and prints
 * both values and the tolerance, and the repetition count of heavy checks.
 */
#ifndef SS_TEST_UTIL_H
#define SS_TEST_UTIL_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

/* n, or q when SS_TEST_QUICK is set (by `make valgrind`, where a test runs
 * some 50 times slower): fewer repetitions of a heavy check, same checks. */
static inline int test_quick(int n, int q)
{
    const char *s = getenv("SS_TEST_QUICK");
    return s && *s && *s != '0' ? q : n;
}

/* |a - b| <= tol, and both finite. */
#define assert_close(a, b, tol) do {                                              \
        double a_ = (a), b_ = (b), t_ = (tol);                                    \
        if (!isfinite(a_) || !isfinite(b_) || !(fabs(a_ - b_) <= t_))             \
            fail_msg("%s = %.17g, expected %s = %.17g (tol %g, diff %g)",         \
                     #a, a_, #b, b_, t_, fabs(a_ - b_));                          \
    } while (0)

/* |a - b| <= rel * max(|b|, 1e-300). */
#define assert_rel(a, b, rel) assert_close(a, b, (rel) * fmax(fabs(b), 1e-300))

#endif
