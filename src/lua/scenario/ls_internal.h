/*
 * ls_internal.h - what the files of the Scenario object (src/lua/scenario/)
 * share among themselves: the Scenario userdata and its user values, the
 * conversion context, and the helpers one file defines and others call.
 * Names carry the prefix ls_; what the rest of the binding calls
 * (sl_scenario_model, sl_scenario_format, sl_open_scenario, ...) keeps its
 * sl_ name and is declared in sl_internal.h. Only the files of this folder
 * include this header.
 *
 * Files: scenario.c (the userdata: construction, metamethods, accessors),
 * convert.c (validation and conversion of a scenario table into an
 * ss_model), with.c (Scenario:with, the deep merge), errors.c (located
 * error messages: source text, origins, "FILE:LINE: PATH: message"),
 * helpers.c (small string and table helpers).
 *
 * Error model: functions that take a cv or say "raises" raise a Lua error
 * (a stratsim.Error) and may only be called from Lua code; C memory is
 * allocated only inside the Scenario userdata's lifetime (its __gc frees
 * the model), temporary arrays are Lua userdata.
 * Depends on sl_internal.h (and through it the core's model).
 */
#ifndef LS_INTERNAL_H
#define LS_INTERNAL_H

#include <stddef.h>
#include <lua.h>
#include "lua/sl_internal.h"

/* The userdata of a "stratsim.Scenario". */
typedef struct scen_ud {
    ss_model *m;      /* as written */
    ss_resolved *res; /* m resolved (what sc:run() runs) */
    size_t charged;   /* bytes of C memory charged to the state's budget */
} scen_ud;

/* Its user values: the spec (an immutable structural copy of the table the
 * script gave) and the meta table (origins, events). */
enum { UV_SPEC = 1, UV_META = 2 };

/* Conversion context. */
typedef struct cv {
    lua_State *L;
    int meta;         /* absolute index of the meta table */
    int only_newest;  /* locate errors in the newest origin only (:with input) */
    ss_model *m;
    scen_ud *u;       /* the Scenario being built (charged for C memory) */
} cv;

/* ---- helpers.c ---- */

/* 1 if s[0..len) is one of the NULL-terminated list. */
int ls_in_list(const char *const *list, const char *s, size_t len);
/* A printable, bounded rendering of a script-supplied string. */
const char *ls_show(const char *s, size_t len, char *buf, size_t n);
/* s[0..len) for a message, bytes outside printable ASCII as \xHH. */
const char *ls_show_escaped(const char *s, size_t len, char *buf, size_t n);
/* 0 if s[0..len) is UTF-8 text without control characters (C0, DEL,
 * C1), else 1 + the offset of the first offending byte; *what says why. */
size_t ls_unsafe_text(const char *s, size_t len, const char **what);
/* The length of a NULL-terminated list. */
size_t ls_list_len(const char *const *list);
/* x for a message ("%.15g", or "nan"); returns buf. */
const char *ls_fmt_num(double x, char *buf, size_t n);
/* "prefix.key" (or "key"), truncated to fit; buf may not alias prefix. */
const char *ls_kpath(char *buf, size_t n, const char *prefix, const char *key);
/* Push t[k] without metamethods; returns its type. t is absolute. */
int ls_rawfield(lua_State *L, int t, const char *k);

/* ---- convert.c ---- */

/* Report unknown keys of the table at t (the smallest, for determinism)
 * and non-string keys. Raises. */
void ls_check_keys(cv *c, int t, const char *const *allowed, const char *path);
/* Length of the array at t; anything but keys 1..n is an error. Raises. */
size_t ls_array_len(cv *c, int t, const char *path, const char *what);
/* Check the value at idx is a valid id string; returns it (anchored by
 * the value on the stack). Raises. */
const char *ls_id_at(cv *c, int idx, const char *path, const char *what);
/* Validate the spec (user value 1 of the Scenario at ud) and build its
 * model into the userdata. Raises. */
void ls_convert(cv *c, int ud);

/* ---- errors.c ---- */

/* Push the source text of chunk `src`, or nil; searching it is charged to
 * the instruction budget (raises when it runs out). */
void ls_push_source_text(lua_State *L, const char *src);
/* Format "FILE:LINE: PATH: msg" for a scenario whose meta table is at `meta`. */
void ls_format_at(lua_State *L, int meta, const char *path, const char *msg,
                  char *out, size_t size, int only_newest);

#if defined(__GNUC__)
#define LS_FAIL_ATTR __attribute__((format(printf, 3, 4)))
#else
#define LS_FAIL_ATTR
#endif

/* Raise a located scenario error. */
_Noreturn void ls_fail(cv *c, const char *path, const char *fmt, ...) LS_FAIL_ATTR;
/* Raise "out of memory". */
_Noreturn void ls_nomem(lua_State *L);

/* ---- scenario.c ---- */

/* The spec keys whose values are kept by reference, never copied. */
extern const char *const ls_byref_keys[];
/* Push a copy of the value at idx, recursing into plain tables `depth` levels. */
void ls_dcopy(lua_State *L, int idx, int depth);
/* Push {src, name, line} for the nearest Lua caller. */
void ls_push_origin(lua_State *L);
/* Append the event map entries of events 1..n of the origin at `origin`. */
void ls_map_new_events(lua_State *L, int map, int origin, size_t n);
/* Push the Scenario of spec/meta (validated, converted, resolving); a
 * variant (base non-NULL) is rebased on base. Raises. */
void ls_build(lua_State *L, int spec, int meta, const ss_model *base);

/* ---- with.c ---- */

/* base:with{...}: a new Scenario derived from base. */
int ls_scenario_with(lua_State *L);

#endif
