/*
 * module.c - the stratsim Lua module: sl_open, the hub that builds the
 * module table every state gets (ss_script_open's `require "stratsim"`,
 * and stratsim.so), and luaopen_stratsim, the entry point of stratsim.so,
 * the Lua C module that makes `require "stratsim"` work from any Lua 5.4
 * program (the system lua5.4, another embedding host).
 *
 * sl_open registers the Scenario metatable (scenario/scenario.c) and sets
 * stratsim.scenario, steps/linear (l_schedule.c), version, the View
 * (l_policy.c), the Result functions (l_result.c), _docs (l_docs.c), and
 * the distributions and analysis methods (analysis/methods.c), in that
 * order.
 *
 * The host owns the state, so the module adds no sandbox and no budgets (the
 * allocator is the host's, and the budget functions of script.c do nothing
 * without theirs). luaopen_stratsim does the process-wide set-up a stratsim
 * program's main would do (GSL's aborting error handler off) and opens the
 * same module table that scenario scripts see. It is the only symbol the
 * shared object exports (the PIC build uses -fvisibility=hidden).
 * Ownership: none; everything is in the Lua state.
 * Depends on sl_internal.h (the sl_open_* of the files above) and the core
 * (ss_global_init, ss_version).
 */
#include <lauxlib.h>
#include "sl_internal.h"
#include "stratsim/io.h" /* ss_version */

#if defined(__GNUC__)
#define SL_EXPORT __attribute__((visibility("default")))
#else
#define SL_EXPORT
#endif

int sl_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"scenario", sl_scenario_new},
        {NULL, NULL}
    };
    sl_open_scenario(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    sl_open_schedule(L);
    lua_pushstring(L, ss_version());
    lua_setfield(L, -2, "version");
    sl_open_policy(L);
    sl_open_results(L);
    sl_open_docs(L);
    sl_open_analysis(L); /* distributions, Scenario:montecarlo/... (analysis/) */
    return 1;
}

SL_EXPORT int luaopen_stratsim(lua_State *L)
{
    ss_global_init();
    return sl_open(L);
}
