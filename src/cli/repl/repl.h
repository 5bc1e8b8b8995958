/*
 * repl.h - internals of `stratsim repl` shared by cmd_repl.c (the read-eval-
 * print loop, line editing, history, signals) and repl_lib.c (its Lua side:
 * the result printer, completion candidates and help()). Only those two
 * files include it. Depends on Lua 5.4 (lua.h).
 */
#ifndef SS_CLI_REPL_H
#define SS_CLI_REPL_H

#include <lua.h>

/*
 * lua_CFunction, run in protected mode: load the REPL's Lua support chunk,
 * set the global help(), and push its table of functions:
 *   show(...)        print values as the REPL does (through the global print)
 *   complete(word)   array of completions of word ("sc:w" -> "sc:with(")
 *   help([x])        the help() global
 *   tostring(v)      tostring that never raises
 * Raises on failure (out of memory).
 */
int cli_repl_open_support(lua_State *L);

#endif
