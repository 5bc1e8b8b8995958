/*
 * l_docs.c - stratsim._docs: one line of documentation for every function
 * and field of the Lua API, keyed by how it is written ("stratsim.scenario",
 * "scenario:run", "result:value", "view:share", "view.t",
 * "montecarlo:stats"). The REPL's help() reads it. The entries are those of
 * docs/lua-api.md section 9, compiled in at build time (lua_api_docs.h, made
 * by scripts/gen-lua-docs.sh). Each value starts with the call's signature
 * and what it returns, then ": " and what it does.
 * Depends on nothing but Lua.
 */
#include <lauxlib.h>
#include "sl_internal.h"

/* lua_api_docs[][2] = {{name, doc}, ...}: generated at build time from the
 * one-line reference of docs/lua-api.md (section 9) by scripts/gen-lua-docs.sh,
 * so the REPL's help() and the document cannot differ. */
#include "lua_api_docs.h"

void sl_open_docs(lua_State *L)
{
    size_t i, n = sizeof lua_api_docs / sizeof lua_api_docs[0];
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, lua_api_docs[i][1]);
        lua_setfield(L, -2, lua_api_docs[i][0]);
    }
    lua_setfield(L, -2, "_docs");
}
