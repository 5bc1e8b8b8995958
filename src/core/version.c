/*
 * version.c - the library version string (set by the Makefile as SS_VERSION).
 */
#include "stratsim/io.h"

#ifndef SS_VERSION
#define SS_VERSION "0.0.0-unknown"
#endif

const char *ss_version(void)
{
    return SS_VERSION;
}
