/*
 * ss_lua.h - the Lua layer of stratsim: the only unit that includes lua.h.
 *
 * Responsibility: run scenario scripts (SPEC §2) in a sandboxed Lua 5.4
 * state with memory and instruction budgets, provide the `stratsim` Lua
 * module (scenario, steps, linear, version, Scenario:with), turn the
 * returned scenario tables into core ss_model structs, apply `--set`
 * overrides and map core key paths back to FILE:LINE.  The CLI drives it
 * through the ss_script_* calls below; nothing else in this header is meant
 * for the CLI.  Depends on the core (include/stratsim/), Lua 5.4 and GSL
 * (the sandbox's deterministic math.random).
 *
 * Files: script.c (state, allocator, hook, protected calls, loading),
 * sandbox.c (the restricted _ENV), l_scenario.c (the stratsim module and the
 * table -> ss_model conversion), l_schedule.c (stratsim.steps/linear),
 * locate.c (key path -> source line), overrides.c (--set).
 *
 * Ownership: ss_script_open() returns a script the caller releases with
 * ss_script_close(); models returned by ss_script_model() are borrowed and
 * live as long as the script.
 */
#ifndef SS_LUA_H
#define SS_LUA_H

#include <stddef.h>
#include <lua.h>
#include "stratsim/error.h"
#include "stratsim/model.h"

/* ===================================================== API for the CLI */

/** A loaded scenario script: one Lua state plus the models it produced. */
typedef struct ss_script ss_script;

typedef struct ss_script_opts {
    int unsafe;                         /**< 1: full standard libraries, no sandbox */
    size_t max_memory;                  /**< bytes of Lua memory; 0 = 512 MiB */
    unsigned long long max_instructions;/**< Lua VM instructions; 0 = 2e9 */
} ss_script_opts;

#define SS_SCRIPT_OPTS_INIT {0, 0, 0}

#define SS_SCRIPT_DEFAULT_MEMORY ((size_t)512 * 1024 * 1024)
#define SS_SCRIPT_DEFAULT_INSTRUCTIONS 2000000000ULL

/**
 * Create a Lua state (sandboxed unless opts->unsafe) with the stratsim
 * module. `opts` may be NULL (defaults). On success *out receives a script
 * the caller frees with ss_script_close().
 */
int ss_script_open(ss_script **out, const ss_script_opts *opts, ss_err *err);

/**
 * Run the file (text chunks only), collect the returned scenario(s), apply
 * the `nsets` overrides "PATH=VALUE" to each, convert each to an ss_model
 * and resolve it. Can be called once per script. Errors: SS_EINVAL
 * (scenario problem, Lua error), SS_ELIMIT (instruction or memory budget),
 * SS_ENOMEM, SS_EIO (cannot read the file); err->msg is fully formatted
 * ("FILE:LINE: KEY.PATH: message" or the Lua message and a traceback).
 */
int ss_script_load(ss_script *s, const char *path, const char *const *sets,
                   size_t nsets, ss_err *err);

/** Number of scenarios loaded (0 before a successful ss_script_load). */
size_t ss_script_count(const ss_script *s);

/** Scenario i (0-based): borrowed, resolved, owned by the script. */
ss_model *ss_script_model(ss_script *s, size_t i);

/**
 * Push the Lua Scenario object i onto the script's stack (for later
 * extensions: policy, outputs, uncertainty... are reachable from it with
 * ss_lua_scenario_push_field()). Returns 0, or -1 if i is out of range.
 */
int ss_script_push_scenario(ss_script *s, size_t i);

/** The script's Lua state (for later extensions such as policies). */
lua_State *ss_script_state(ss_script *s);

/** Close the state and free the models. NULL-safe. */
void ss_script_close(ss_script *s);

/** stratsim.include(FILE): run another scenario file (l_include.c). */
int ss_lua_include(lua_State *L);

/** Open the stratsim module (returns the module table). */
int luaopen_stratsim(lua_State *L);

/* ============================================ internal to src/lua/ only */

/**
 * The one protected-call helper: like lua_pcall(L, nargs, nresults, h) with
 * a message handler that appends a short traceback to string errors, turns
 * any other error object into readable text, and leaves stratsim.Error
 * objects (scenario errors) untouched.
 */
int ss_lua_pcall(lua_State *L, int nargs, int nresults);

/**
 * Translate a failed ss_lua_pcall status and the error object on top of the
 * stack (popped) into an ss_err record. Returns the SS_E* code.
 */
int ss_lua_to_err(lua_State *L, int status, ss_err *err);

/**
 * Charge `bytes` of C memory (a model owned by a Lua object) to the state's
 * memory budget, collecting garbage first if it does not fit. Returns 0, or
 * -1 when the budget is exceeded (then marked exceeded for good).
 */
int ss_lua_charge(lua_State *L, size_t bytes);
void ss_lua_uncharge(lua_State *L, size_t bytes);

/**
 * Charge `n` units of C work done for the script (bytes of source lexed to
 * locate errors) to its instruction budget. Returns 0, or -1 once the
 * budget is exceeded (the caller then raises any error; it is reported as
 * the instruction limit).
 */
int ss_lua_charge_work(lua_State *L, size_t n);

/** 1 once the instruction or memory budget of the state has been exceeded. */
int ss_lua_limit_hit(lua_State *L);

/** Reset the instruction budget of the state (for later per-call budgets). */
void ss_lua_budget_reset(lua_State *L);

/**
 * Raise a stratsim.Error: a table {code=, msg=} with a protected metatable
 * whose __tostring gives msg. Its message is final (no traceback added).
 */
int ss_lua_raise(lua_State *L, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

/** "FILE:LINE" of the Lua function at `level` (1 = caller of a C function). */
void ss_lua_where(lua_State *L, int level, char *buf, size_t size);

/** Build the restricted environment table and push it (sandbox.c). */
void ss_lua_push_sandbox_env(lua_State *L);

/** Install an xpcall whose message handler is skipped once a budget has
 * been exceeded (the handler would run with hooks off) into table `idx`. */
void ss_lua_install_xpcall(lua_State *L, int idx);

/** Install coroutine.close/wrap that never run __close handlers of a
 * coroutine killed by an exceeded budget into the coroutine table `idx`. */
void ss_lua_install_coroutine(lua_State *L, int idx);

/** Install deterministic math.random/randomseed into the table at `idx`. */
void ss_lua_install_random(lua_State *L, int idx);

/** Registry key of the table chunkname -> source text used by locate. */
#define SS_LUA_SOURCES "stratsim.sources"

/* ---- Scenario objects (l_scenario.c) ---- */

#define SS_LUA_SCENARIO "stratsim.Scenario"
#define SS_LUA_SCHEDULE "stratsim.Schedule"
#define SS_LUA_ERROR "stratsim.Error"

/** The unresolved model of the Scenario at idx (borrowed), or NULL. */
ss_model *ss_lua_scenario_model(lua_State *L, int idx);

/** Push field `key` of the scenario spec at idx (policy, outputs, ...). */
int ss_lua_scenario_push_field(lua_State *L, int idx, const char *key);

/**
 * Format a core error about the scenario at idx as "FILE:LINE: PATH: msg",
 * locating `path` in the scenario's source. Writes into out[size].
 */
void ss_lua_scenario_format(lua_State *L, int idx, const char *path,
                            const char *msg, char *out, size_t size);

/* ---- Schedules (l_schedule.c) ---- */

/** Knots of the schedule userdata at idx, or NULL if it is not one. */
typedef struct ss_lua_sched {
    int kind;        /**< SS_SCHED_STEPS or SS_SCHED_LINEAR */
    size_t n;
    double *t, *v;   /**< point into the userdata */
} ss_lua_sched;
int ss_lua_toschedule(lua_State *L, int idx, ss_lua_sched *out);
void ss_lua_open_schedule(lua_State *L); /* sets steps/linear in table at -1 */

/* ---- locate.c: key path -> line, pure C over the source text ---- */

/**
 * Find the line of `path` (e.g. "providers.alibaba.share.public",
 * "events[2].severity") in `text`, starting from the constructor call on
 * line `ctor_line`. Returns the line of the deepest component found
 * (ctor_line if none) and stores the number of components found in *depth.
 */
int ss_locate_path(const char *text, size_t len, int ctor_line,
                   const char *path, int *depth);

/**
 * Lines of the positional items of the array `key` in the constructor table
 * called on `ctor_line` (lines[i] = 0 where not found), in one pass.
 * Returns the number of items found.
 */
int ss_locate_items(const char *text, size_t len, int ctor_line, const char *key,
                    int *lines, size_t n);

/** Levenshtein distance, capped at cap+1 (for "did you mean"). */
int ss_edit_distance(const char *a, const char *b, int cap);

/* ---- overrides.c: --set ---- */

/**
 * Set the numeric input named by `path` in an unresolved model to `value`
 * (parameter paths of SPEC §4). Errors name the path in err->path; the
 * message has no prefix.
 */
int ss_override_set(ss_model *m, const char *path, double value, ss_err *err);

/**
 * Parse "PATH=VALUE" and apply it. Errors are formatted for the user:
 * "--set 'X': expected PATH=VALUE", "--set PATH: unknown provider 'x'".
 */
int ss_override_apply(ss_model *m, const char *assignment, ss_err *err);

#endif
