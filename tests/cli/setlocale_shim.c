/*
 * setlocale_shim.c - LD_PRELOAD shim for the locale tests: before main it
 * calls setlocale(LC_ALL, "") (as an embedding program or a library might),
 * so stratsim really runs in the locale of LC_ALL/LANG. If SHIM_REPORT names
 * a file, the decimal point then in effect is written there, so the test
 * can prove the German locale (',') was active.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void shim_force_locale(void)
{
    const char *report = getenv("SHIM_REPORT");
    setlocale(LC_ALL, "");
    if (report && *report) {
        FILE *f = fopen(report, "w");
        if (f) {
            fputs(localeconv()->decimal_point, f);
            fclose(f);
        }
    }
}
