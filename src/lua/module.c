/*
 * module.c - the entry point of stratsim.so, the Lua C module that makes
 * `require "stratsim"` work from any Lua 5.4 program (the system lua5.4,
 * another embedding host).
 *
 * The host owns the state, so the module adds no sandbox and no budgets (the
 * allocator is the host's, and the budget functions of script.c do nothing
 * without theirs). luaopen_stratsim does the process-wide set-up a stratsim
 * program's main would do (GSL's aborting error handler off) and opens the
 * same module table that scenario scripts see. It is the only symbol the
 * shared object exports (the PIC build uses -fvisibility=hidden).
 * Depends on l_scenario.c (sl_open) and the core (ss_global_init).
 */
#include "sl_internal.h"

#if defined(__GNUC__)
#define SL_EXPORT __attribute__((visibility("default")))
#else
#define SL_EXPORT
#endif

SL_EXPORT int luaopen_stratsim(lua_State *L)
{
    ss_global_init();
    return sl_open(L);
}
