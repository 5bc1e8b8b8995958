/*
 * script.c - the scenario script runner: Lua state creation with a memory
 * budget, the instruction-count hook, the one protected-call helper and its
 * message handler, translation of Lua failures into ss_err records, loading
 * a scenario file and turning the scenario(s) it returns into resolved
 * ss_models (ss_script_* API of stratsim_lua.h).
 *
 * Error model: every call into Lua goes through sl_pcall(). C code that
 * runs outside a protected call never holds Lua-raised errors; C memory
 * (the file buffer, the model array) is owned by the ss_script or by this
 * function's frame and only crosses *protected* calls, which return.
 * Scenario problems are raised as stratsim.Error tables (code + final
 * message, no traceback); other Lua errors get a short traceback.
 * Budgets (docs/robustness.md): the allocator refuses to grow beyond
 * max_memory; a count hook every 10000 instructions stops the script after
 * max_instructions and, once tripped, re-arms itself with count 1 so that a
 * pcall loop cannot swallow the error (Redis luaMaskCountHook pattern).
 * Bytes allocated also count (one instruction per 16), so copying long
 * strings over and over is bounded too (A5); strings longer than
 * SL_MAX_STRING are refused, and while long strings are alive every
 * instruction counts more (string comparisons are byte by byte). Errors a
 * script may catch but must not survive (memory, string length,
 * sl_fatal) are sticky. print is bounded (SL_PRINT_MAX).
 * Depends on sandbox.c (the environment), module.c (sl_open), scenario/
 * (Scenario objects), overrides.c (--set) and the core model API.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "sl_internal.h"

#define HOOK_EVERY 10000ULL
/* Allocation volume counts as work: one instruction per this many bytes
 * requested, so a loop whose few instructions each copy a long string
 * (`s = s .. #s`) still meets the instruction budget (docs/robustness.md). */
#define ALLOC_BYTES_PER_INSTRUCTION 16
/* Work the VM does inside one instruction on long strings (==, <, <= on
 * two strings compare them byte by byte; nothing charges it): while the
 * longest live string created by the script has S >= BIG_STRING bytes,
 * every instruction counts 1 + S / STRING_BYTES_PER_INSTRUCTION, and the
 * count hook runs correspondingly more often (docs/robustness.md). */
#define BIG_STRING 1024
#define STRING_BYTES_PER_INSTRUCTION 256

/* Live strings of at least BIG_STRING bytes: an open-addressing hash set
 * of their addresses (linear probing, backward-shift deletion). */
typedef struct bigset {
    void **key;
    size_t *size;
    size_t cap, n;   /* cap: a power of two (or 0) */
    size_t max;      /* the largest size in the set (0 when empty) */
} bigset;

/* Budgets of one state; the allocator's user data (reachable from any
 * coroutine through lua_getallocf). */
typedef struct limits {
    size_t used, max;
    size_t cbytes;            /* C memory of live models charged to the budget */
    int mem_tripped;          /* a request was refused: the budget is exceeded */
    unsigned long long count, max_instr, every;
    int instr_tripped;
    char where[320];
    size_t max_string;        /* longest string the script may create */
    size_t string_refused;    /* length of a refused string (sticky error) */
    char fatal[700];          /* sticky fatal error (sl_fatal), "" if none */
    int trusted;              /* > 0: strings made now are the host's (untracked) */
    bigset big;               /* the script's long strings */
    lua_State *running;       /* the thread running Lua code (see sl_switch_thread) */
    size_t printed;           /* bytes written by print */
    char sticky_where[320];   /* "FILE:LINE: " where memory or a string ran over */
} limits;

struct ss_script {
    limits lim;
    lua_State *L;
    int unsafe;
    int loaded;
    size_t n;
    ss_resolved **models; /* [n] owned: the scenarios with the overrides, resolved */
    int list_ref;       /* registry ref of the array of Scenario objects */
};

/* ------------------------------------------------------------ allocator */

/* Test hook (sl_test_fail_after): growing requests still to grant
 * before they fail (-1: never), and whether failing goes on afterwards. */
static long test_fail_countdown = -1;
static int test_fail_persistent;
static unsigned long test_fail_count;

unsigned long sl_test_fail_after(long n, int persistent)
{
    unsigned long injected = test_fail_count;
    test_fail_countdown = n;
    test_fail_persistent = persistent;
    test_fail_count = 0;
    return injected;
}

/* lua_Alloc with a byte budget: growth beyond `max` returns NULL; frees
 * never fail. The budget is a hard cap: the first refused request marks it
 * exceeded for good (mem_tripped) and the count hook then stops the script
 * even if it catches the memory error with pcall. (Telling a request that
 * an emergency GC could still satisfy from a real overrun is not reliable:
 * lauxlib's buffers raise without a collect-and-retry.) */
static size_t big_slot(const bigset *b, const void *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 7) & (b->cap - 1);
}

/* Add p (a string of `size` bytes); 0, or -1 when out of memory. */
static int big_add(bigset *b, void *p, size_t size)
{
    size_t i;
    if ((b->n + 1) * 2 > b->cap) {
        bigset nb = { 0 };
        size_t j;
        nb.cap = b->cap ? b->cap * 2 : 64;
        nb.key = calloc(nb.cap, sizeof *nb.key);
        nb.size = calloc(nb.cap, sizeof *nb.size);
        if (!nb.key || !nb.size) {
            free(nb.key);
            free(nb.size);
            return -1;
        }
        for (j = 0; j < b->cap; j++)
            if (b->key[j]) {
                for (i = big_slot(&nb, b->key[j]); nb.key[i]; i = (i + 1) & (nb.cap - 1))
                    ;
                nb.key[i] = b->key[j];
                nb.size[i] = b->size[j];
            }
        nb.n = b->n;
        nb.max = b->max;
        free(b->key);
        free(b->size);
        *b = nb;
    }
    for (i = big_slot(b, p); b->key[i]; i = (i + 1) & (b->cap - 1))
        ;
    b->key[i] = p;
    b->size[i] = size;
    b->n++;
    if (size > b->max)
        b->max = size;
    return 0;
}

/* Remove p if it is in the set. */
static void big_remove(bigset *b, void *p)
{
    size_t i, j, size;
    if (!b->n)
        return;
    for (i = big_slot(b, p); b->key[i] != p; i = (i + 1) & (b->cap - 1))
        if (!b->key[i])
            return;
    size = b->size[i];
    b->key[i] = NULL;
    b->n--;
    /* backward-shift the following cluster */
    for (j = (i + 1) & (b->cap - 1); b->key[j]; j = (j + 1) & (b->cap - 1)) {
        size_t home = big_slot(b, b->key[j]);
        /* move j to i unless its home lies cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            b->key[i] = b->key[j];
            b->size[i] = b->size[j];
            b->key[j] = NULL;
            i = j;
        }
    }
    if (size == b->max) {
        b->max = 0;
        for (j = 0; b->n && j < b->cap; j++)
            if (b->key[j] && b->size[j] > b->max)
                b->max = b->size[j];
    }
}

/* The length of a string from the size of its block (a TString header of
 * 24 bytes on 64-bit targets, the bytes and a terminating NUL). */
static size_t string_len(size_t block)
{
    return block > 25 ? block - 25 : 0;
}

/* Instructions one VM instruction counts as (see BIG_STRING). */
static unsigned long long instr_unit(const limits *lim)
{
    return 1 + lim->big.max / STRING_BYTES_PER_INSTRUCTION;
}

/* Instructions between two calls of the count hook. */
static int hook_interval(const limits *lim)
{
    unsigned long long e = lim->every / instr_unit(lim);
    return e ? (int)e : 1;
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* "FILE:LINE: " of the innermost Lua function of thread L with a line, or
 * "" (reads the call stack only: lua_getstack/lua_getinfo "Sl" allocate
 * nothing, so this may run inside the allocator). */
static void where_of(lua_State *L, char *buf, size_t n)
{
    lua_Debug ar;
    int lv;
    buf[0] = '\0';
    for (lv = 0; L && lua_getstack(L, lv, &ar); lv++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            const char *src = (ar.source[0] == '@' || ar.source[0] == '=') ? ar.source + 1 : ar.short_src;
            snprintf(buf, n, "%s:%d: ", src, ar.currentline);
            return;
        }
    }
}

/* Remember where the script was when memory or a string ran over. */
static void note_where(limits *lim)
{
    if (!lim->sticky_where[0])
        where_of(lim->running, lim->sticky_where, sizeof lim->sticky_where);
}

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    limits *lim = ud;
    size_t old = ptr ? osize : 0;
    void *np;
    size_t inuse = lim->used + lim->cbytes;

    if (nsize == 0) {
        if (ptr && osize >= BIG_STRING)
            big_remove(&lim->big, ptr);
        free(ptr);
        lim->used -= old;
        return NULL;
    }
    if (nsize > old && test_fail_countdown >= 0 && test_fail_countdown-- == 0) {
        if (test_fail_persistent)
            test_fail_countdown = 0;
        test_fail_count++;
        return NULL; /* injected failure: not a budget overrun */
    }
    if (nsize > old && (inuse > lim->max || nsize - old > lim->max - inuse)) {
        lim->mem_tripped = 1;
        note_where(lim);
        return NULL;
    }
    if (!ptr && osize == LUA_TSTRING && nsize > lim->max_string && !lim->trusted) {
        lim->string_refused = nsize; /* sticky, like the memory budget */
        note_where(lim);
        return NULL;
    }
    np = realloc(ptr, nsize);
    if (!np)
        return NULL;
    if (!ptr && osize == LUA_TSTRING && nsize >= BIG_STRING && !lim->trusted) {
        if (big_add(&lim->big, np, nsize) != 0) {
            free(np);
            return NULL;
        }
        /* make the running thread's hook adapt now, not after up to
         * HOOK_EVERY instructions of comparisons (lua_sethook may be
         * called asynchronously, as from a signal handler) */
        if (lim->running && !lim->instr_tripped && lua_gethook(lim->running) == count_hook)
            lua_sethook(lim->running, count_hook, LUA_MASKCOUNT, 1);
    }
    lim->used = lim->used - old + nsize;
    if (nsize > old) /* checked by the count hook at its next call */
        lim->count += (nsize - old) / ALLOC_BYTES_PER_INSTRUCTION;
    return np;
}

static limits *get_limits(lua_State *L)
{
    void *ud = NULL;
    return lua_getallocf(L, &ud) == budget_alloc ? ud : NULL;
}

/* Text for a budget: "512 MiB", or bytes when not a whole number of MiB. */
static const char *budget_text(size_t max, char *buf, size_t n)
{
    if (max % (1024 * 1024) == 0)
        snprintf(buf, n, "%zu MiB", max / (1024 * 1024));
    else
        snprintf(buf, n, "%zu bytes", max);
    return buf;
}

int sl_charge(lua_State *L, size_t bytes)
{
    limits *lim = get_limits(L);
    if (!lim)
        return 0;
    if (lim->used + lim->cbytes > lim->max || bytes > lim->max - lim->used - lim->cbytes) {
        lua_gc(L, LUA_GCCOLLECT); /* garbage scenarios give their models back */
        if (lim->used + lim->cbytes > lim->max || bytes > lim->max - lim->used - lim->cbytes) {
            lim->mem_tripped = 1;
            return -1;
        }
    }
    lim->cbytes += bytes;
    return 0;
}

void sl_uncharge(lua_State *L, size_t bytes)
{
    limits *lim = get_limits(L);
    if (lim)
        lim->cbytes -= bytes < lim->cbytes ? bytes : lim->cbytes;
}

/* ----------------------------------------------------------------- hook */

static void record_where(lua_State *L, lua_Debug *ar, limits *lim)
{
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        const char *src = (ar->source[0] == '@' || ar->source[0] == '=') ? ar->source + 1 : ar->short_src;
        snprintf(lim->where, sizeof lim->where, "%s:%d: ", src, ar->currentline);
    } else {
        lim->where[0] = '\0';
    }
}

/* Raise the sticky error of a budget or fatal condition, if any, after
 * re-arming the hook with count 1 so that every further instruction raises
 * it again. Returns if there is none. */
static int sticky_msg(lua_State *L, limits *lim, char *msg, size_t size)
{
    char b[48];
    if (!lim->fatal[0] && !lim->string_refused && !lim->mem_tripped)
        return 0;
    if (!lim->sticky_where[0])
        where_of(L, lim->sticky_where, sizeof lim->sticky_where);
    if (lim->fatal[0])
        snprintf(msg, size, "%s", lim->fatal);
    else if (lim->string_refused)
        snprintf(msg, size, "%sa string of %zu bytes: longer than the %s limit on strings",
                 lim->sticky_where, string_len(lim->string_refused),
                 budget_text(lim->max_string, b, sizeof b));
    else
        snprintf(msg, size, "%sscenario exceeded %s of memory", lim->sticky_where,
                 budget_text(lim->max, b, sizeof b));
    return 1;
}

static void raise_sticky(lua_State *L, limits *lim)
{
    char msg[720];
    if (!sticky_msg(L, lim, msg, sizeof msg))
        return;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_pushstring(L, msg);
    lua_error(L);
}

/* Count hook: charge the instructions run since the last call (each
 * counting instr_unit() while long strings are alive); past the
 * instruction budget (or once the memory budget was exceeded) raise an
 * error and re-arm with count 1 so every further instruction raises again
 * (a pcall loop cannot swallow it). */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    limits *lim = get_limits(L);
    char msg[400];

    if (!lim)
        return;
    lim->running = L;
    lim->trusted = 0; /* script code runs: any trusted push is over */
    raise_sticky(L, lim);
    if (!lim->instr_tripped) {
        int want;
        lim->count += (unsigned long long)lua_gethookcount(L) * instr_unit(lim);
        if (lim->count < lim->max_instr) {
            want = hook_interval(lim);
            if (want != lua_gethookcount(L))
                lua_sethook(L, count_hook, LUA_MASKCOUNT, want);
            return;
        }
        lim->instr_tripped = 1;
        record_where(L, ar, lim);
    }
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    snprintf(msg, sizeof msg, "%sinstruction limit exceeded (%llu instructions)",
             lim->where, lim->max_instr);
    lua_pushstring(L, msg);
    lua_error(L);
}

void sl_fatal(lua_State *L, const char *fmt, ...)
{
    limits *lim = get_limits(L);
    char where[300], msg[360];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_where(L, 1, where, sizeof where);
    if (lim) {
        if (!lim->fatal[0])
            snprintf(lim->fatal, sizeof lim->fatal, "%s: %s", where, msg);
        raise_sticky(L, lim);
    }
    luaL_error(L, "%s", msg);
    abort(); /* not reached */
}

lua_State *sl_switch_thread(lua_State *L, lua_State *to)
{
    limits *lim = get_limits(L);
    lua_State *prev;
    if (!lim)
        return NULL;
    prev = lim->running;
    lim->running = to;
    if (to && lua_gethook(to) == count_hook && !sl_limit_hit(L) &&
        lua_gethookcount(to) > hook_interval(lim))
        lua_sethook(to, count_hook, LUA_MASKCOUNT, hook_interval(lim));
    return prev;
}

void sl_trusted(lua_State *L, int on)
{
    limits *lim = get_limits(L);
    if (lim)
        lim->trusted += on ? 1 : -1;
}

int sl_charge_work(lua_State *L, size_t n)
{
    limits *lim = get_limits(L);
    if (!lim)
        return 0;
    if (!lim->instr_tripped) {
        lim->count += n;
        if (lim->count < lim->max_instr)
            return 0;
        char w[300];
        lim->instr_tripped = 1;
        sl_where(L, 1, w, sizeof w);
        if (snprintf(lim->where, sizeof lim->where, "%s: ", w) < 0)
            lim->where[0] = '\0';
    }
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    return -1;
}

int sl_limit_hit(lua_State *L)
{
    limits *lim = get_limits(L);
    return lim && (lim->instr_tripped || lim->mem_tripped || lim->string_refused || lim->fatal[0]);
}

void sl_budget_reset(lua_State *L)
{
    limits *lim = get_limits(L);
    if (!lim)
        return;
    lim->count = 0;
    lim->instr_tripped = 0;
    lim->running = L;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, hook_interval(lim));
}

/* ------------------------------------------------------ errors and pcall */

/* __tostring of stratsim.Error: its message. */
static int l_error_tostring(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE && lua_getfield(L, 1, "msg") == LUA_TSTRING)
        return 1;
    lua_pushliteral(L, "stratsim error");
    return 1;
}

static void push_error_meta(lua_State *L)
{
    if (luaL_newmetatable(L, SL_ERROR)) {
        lua_pushcfunction(L, l_error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, SL_ERROR);
        lua_setfield(L, -2, "__metatable");
    }
}

/* 1 if the value at idx is a stratsim.Error (its metatable is protected, so
 * scripts cannot forge one). */
static int is_ss_error(lua_State *L, int idx)
{
    int r;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, SL_ERROR);
    r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return r;
}

int sl_raise(lua_State *L, int code, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, buf);
    lua_setfield(L, -2, "msg");
    push_error_meta(L);
    lua_setmetatable(L, -2);
    lua_error(L);
    abort(); /* not reached: lua_error does not return */
}

void sl_where(lua_State *L, int level, char *buf, size_t size)
{
    lua_Debug ar;
    int lv;
    for (lv = level; lua_getstack(L, lv, &ar); lv++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            const char *src = (ar.source[0] == '@' || ar.source[0] == '=') ? ar.source + 1 : ar.short_src;
            snprintf(buf, size, "%s:%d", src, ar.currentline);
            return;
        }
    }
    snprintf(buf, size, "?");
}

const char *sl_tname(lua_State *L, int idx)
{
    int t = luaL_getmetafield(L, idx, "__name");
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1); /* anchored in the metatable */
        lua_pop(L, 1);
        return s;
    }
    if (t != LUA_TNIL)
        lua_pop(L, 1);
    return luaL_typename(L, idx);
}

void sl_push_numbers(lua_State *L, const double *v, size_t n)
{
    size_t i;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

void sl_push_strings(lua_State *L, char *const *v, size_t n)
{
    size_t i;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* luaL_tolstring in a protected call (a __tostring may raise). */
static int l_safe_tostring(lua_State *L)
{
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* Message handler: stratsim.Errors pass unchanged; anything else becomes a
 * string (never raising, whatever the object) plus a traceback. */
static int msgh(lua_State *L)
{
    const char *msg;
    char where[320];
    if (is_ss_error(L, 1))
        return 1;
    sl_where(L, 1, where, sizeof where);
    msg = lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER ? lua_tostring(L, 1) : NULL;
    if (!msg) {
        if (luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushcfunction(L, l_safe_tostring);
            lua_pushvalue(L, 1);
            if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
                msg = lua_tostring(L, -1);
            } else {
                lua_pop(L, 1);
                msg = lua_pushfstring(L, "%s: (error object is a %s value whose __tostring failed)",
                                      where, luaL_typename(L, 1));
            }
        } else {
            msg = lua_pushfstring(L, "%s: (error object is a %s value)", where, luaL_typename(L, 1));
        }
    } else if (strcmp(where, "?") != 0 && (strcmp(msg, "C stack overflow") == 0 || strcmp(msg, "not enough memory") == 0 ||
             strcmp(msg, "error in error handling") == 0)) {
        /* raised inside a C function (gsub calling itself through its
         * replacement function...): Lua adds no position */
        msg = lua_pushfstring(L, "%s: %s", where, msg);
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

void sl_push_msgh(lua_State *L)
{
    lua_pushcfunction(L, msgh);
}

static int l_push_msg(lua_State *L)
{
    lua_pushstring(L, lua_touserdata(L, 1));
    return 1;
}

static int sticky_set(const limits *lim)
{
    return lim && (lim->fatal[0] || lim->string_refused || lim->mem_tripped);
}

int sl_pcall(lua_State *L, int nargs, int nresults)
{
    int base = lua_gettop(L) - nargs, status;
    limits *lim = get_limits(L);
    int had = sticky_set(lim);
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (status == LUA_OK && !had && sticky_set(lim)) {
        /* a sticky error the script caught (pcall, coroutine.close) and
         * finished before the count hook raised it again (the REPL, which
         * goes on after a memory error, only sees it once) */
        char msg[720];
        if (sticky_msg(L, lim, msg, sizeof msg)) {
            lua_settop(L, base - 1);
            /* pushing may fail when memory is exhausted: protected (Lua
             * then leaves its preallocated "not enough memory") */
            lua_pushcfunction(L, l_push_msg);
            lua_pushlightuserdata(L, msg);
            lua_pcall(L, 1, 1, 0);
            status = LUA_ERRRUN;
        }
    }
    return status;
}

static int lua_to_err(lua_State *L, int status, ss_err *err);

/* Copy a possibly long message (with traceback) into err->msg, cutting the
 * traceback at a line boundary if it does not fit. */
static void copy_msg(ss_err *err, const char *msg)
{
    size_t n = strlen(msg), cap = sizeof err->msg;
    if (n < cap) {
        memcpy(err->msg, msg, n + 1);
        return;
    }
    n = cap - 6;
    while (n > 0 && msg[n] != '\n')
        n--;
    if (n == 0)
        n = cap - 6;
    memcpy(err->msg, msg, n);
    memcpy(err->msg + n, "\n\t...", 6);
}

/* Lua reports an error as a string that luaL_where (or the binding, naming
 * a scenario line) starts with "FILE:LINE: "; this is where that location is
 * read back into err->file and err->line, once, so that callers test
 * err->file rather than the message. */
static void locate_msg(ss_err *err)
{
    const char *m, *c;
    if (!err)
        return;
    for (m = err->msg; (c = strchr(m, ':')) != NULL; m = c + 1) {
        const char *d = c + 1;
        long line = 0;
        if (*d == ' ' || *d == '\n' || c == err->msg)
            break; /* "word: message": not located */
        while (*d >= '0' && *d <= '9' && line < 100000000)
            line = line * 10 + (*d++ - '0');
        if (d > c + 1 && *d == ':') {
            char file[sizeof err->file];
            size_t n = (size_t)(c - err->msg);
            if (n >= sizeof file || memchr(err->msg, '\n', n))
                return;
            memcpy(file, err->msg, n);
            file[n] = '\0';
            ss_err_at(err, file, line);
            return;
        }
    }
}

int sl_to_err(lua_State *L, int status, ss_err *err)
{
    int rc = lua_to_err(L, status, err);
    locate_msg(err);
    return rc;
}

static int lua_to_err(lua_State *L, int status, ss_err *err)
{
    limits *lim = get_limits(L);
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int code = SS_EINVAL;

    if (lim && lim->fatal[0]) {
        lua_pop(L, 1);
        return ss_err_set(err, SS_ELIMIT, NULL, "%s", lim->fatal);
    }
    if (lim && lim->string_refused && !lim->mem_tripped) {
        char b[48];
        lua_pop(L, 1);
        return ss_err_set(err, SS_ELIMIT, NULL, "%sa string of %zu bytes: longer than the %s limit on strings",
                          lim->sticky_where, string_len(lim->string_refused),
                          budget_text(lim->max_string, b, sizeof b));
    }
    if (lim && lim->instr_tripped && !lim->mem_tripped) {
        ss_err_set(err, SS_ELIMIT, NULL, "%sinstruction limit exceeded (%llu instructions)",
                   lim->where, lim->max_instr);
        lua_pop(L, 1);
        return SS_ELIMIT;
    }
    if (status == LUA_ERRMEM || (lim && lim->mem_tripped)) {
        lua_pop(L, 1);
        if (lim && lim->mem_tripped) {
            char b[48];
            return ss_err_set(err, SS_ELIMIT, NULL, "%sscenario exceeded %s of memory",
                              lim->sticky_where, budget_text(lim->max, b, sizeof b));
        }
        return ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
    }
    if (is_ss_error(L, -1)) {
        lua_getfield(L, -1, "code");
        if (lua_isinteger(L, -1)) {
            lua_Integer c = lua_tointeger(L, -1);
            if (c < 0 && c >= SS_EINTR)
                code = (int)c;
        }
        lua_pop(L, 1);
        lua_getfield(L, -1, "msg");
        ss_err_set(err, code, NULL, "%s", lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error");
        lua_pop(L, 2);
        return code;
    }
    ss_err_set(err, code, NULL, "%s", "");
    copy_msg(err, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
    return code;
}

/* --------------------------------------------------------- state set-up */

/* Last resort: an error outside any protected call (should never happen). */
static int panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    fprintf(stderr, "stratsim: PANIC: unprotected error in Lua: %s\n", msg);
    return 0;
}

/* print() writing to the stream of upvalue 1 (lengths, not strlen: strings
 * may hold NULs; flushed per call, like lua.c's lua_writeline). When
 * upvalue 2 is true, at most SL_PRINT_MAX bytes per state (a note on
 * standard error says when output is dropped), each byte charged like
 * allocation (one instruction per 16). */
static int l_print(lua_State *L)
{
    FILE *out = lua_touserdata(L, lua_upvalueindex(1));
    limits *lim = lua_toboolean(L, lua_upvalueindex(2)) ? get_limits(L) : NULL;
    int n = lua_gettop(L), i;
    size_t room;
    if (lim && lim->printed >= SL_PRINT_MAX)
        return 0;
    room = lim ? SL_PRINT_MAX - lim->printed : (size_t)-1;
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        size_t w = (i > 1) + len + (i == n);
        if (lim && sl_charge_work(L, w / ALLOC_BYTES_PER_INSTRUCTION) != 0)
            return luaL_error(L, "instruction limit exceeded");
        if (i > 1 && room > 0) {
            fputc('\t', out);
            room--;
        }
        fwrite(s, 1, len < room ? len : room, out);
        room -= len < room ? len : room;
        lua_pop(L, 1);
        if (room == 0 && lim) {
            lim->printed = SL_PRINT_MAX;
            if (out != stderr)
                fflush(out);
            fprintf(stderr, "\n[print: output limit of %u MiB reached; "
                            "further print output is dropped]\n",
                    (unsigned)(SL_PRINT_MAX >> 20));
            fflush(stderr);
            return 0;
        }
    }
    if (n == 0 || room > 0) {
        fputc('\n', out);
        if (room > 0)
            room--;
    }
    if (lim)
        lim->printed = SL_PRINT_MAX - room;
    fflush(out);
    return 0;
}

void sl_push_print(lua_State *L, FILE *stream, int capped)
{
    lua_pushlightuserdata(L, stream);
    lua_pushboolean(L, capped);
    lua_pushcclosure(L, l_print, 2);
}

/* Open the libraries and build the environment (run under sl_pcall:
 * library opening can raise memory errors). Arg 1: unsafe flag. */
static int l_script_open(lua_State *L)
{
    int unsafe = lua_toboolean(L, 1);
    const char *root = lua_touserdata(L, 2);

    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
    lua_pop(L, 1);
    push_error_meta(L);
    lua_pop(L, 1);
    if (unsafe) {
        luaL_openlibs(L);
        luaL_requiref(L, "stratsim", sl_open, 1);
        lua_pushcfunction(L, sl_include);
        lua_setfield(L, -2, "include");
        lua_pop(L, 1);
        lua_pushglobaltable(L);
        sl_push_print(L, stderr, 1); /* stdout stays clean for the summary table */
        lua_setfield(L, -2, "print");
        sl_install_xpcall(L, -1);
        lua_getfield(L, -1, "coroutine");
        sl_install_coroutine(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, -1, "math");
        sl_install_random(L, -1);
        lua_pop(L, 2);
    } else {
        luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
        luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 0);
        luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
        luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
        luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
        luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
        luaL_requiref(L, "stratsim", sl_open, 0);
        lua_pushcfunction(L, sl_include);
        lua_setfield(L, -2, "include");
        lua_pop(L, 7);
        sl_push_print(L, stderr, 1); /* stdout stays clean for the summary table */
        lua_setfield(L, LUA_REGISTRYINDEX, "stratsim.print");
        sl_push_sandbox_env(L);
        lua_setfield(L, LUA_REGISTRYINDEX, "stratsim.env");
    }
    if (root)
        sl_set_root(L, root, 0);
    return 0;
}

int ss_script_open(ss_script **out, const ss_script_opts *opts, ss_err *err)
{
    ss_script *s;
    int status;

    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
    s->unsafe = opts ? opts->unsafe : 0;
    s->lim.max = opts && opts->max_memory ? opts->max_memory : SS_SCRIPT_DEFAULT_MEMORY;
    s->lim.max_instr = opts && opts->max_instructions ? opts->max_instructions
                                                      : SS_SCRIPT_DEFAULT_INSTRUCTIONS;
    s->lim.every = s->lim.max_instr < HOOK_EVERY ? s->lim.max_instr : HOOK_EVERY;
    s->lim.max_string = SL_MAX_STRING < s->lim.max ? SL_MAX_STRING : s->lim.max;
    s->list_ref = LUA_NOREF;
    s->L = lua_newstate(budget_alloc, &s->lim);
    if (!s->L) {
        int limit = s->lim.mem_tripped;
        size_t max = s->lim.max;
        char b[48];
        free(s);
        return limit ? ss_err_set(err, SS_ELIMIT, NULL, "scenario exceeded %s of memory",
                                  budget_text(max, b, sizeof b))
                     : ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
    }
    lua_atpanic(s->L, panic);
    lua_pushcfunction(s->L, l_script_open);
    lua_pushboolean(s->L, s->unsafe);
    lua_pushlightuserdata(s->L, (void *)(opts ? opts->root : NULL));
    status = sl_pcall(s->L, 2, 0);
    if (status != LUA_OK) {
        int rc = sl_to_err(s->L, status, err);
        ss_script_close(s);
        return rc;
    }
    s->lim.running = s->L;
    lua_sethook(s->L, count_hook, LUA_MASKCOUNT, (int)s->lim.every);
    *out = s;
    return SS_OK;
}

void ss_script_close(ss_script *s)
{
    size_t i;
    if (!s)
        return;
    if (s->L) {
        /* finalizers written in Lua must not run unbounded at close */
        s->lim.instr_tripped = 1;
        s->lim.running = NULL;
        lua_sethook(s->L, count_hook, LUA_MASKCOUNT, 1);
        lua_close(s->L);
    }
    free(s->lim.big.key);
    free(s->lim.big.size);
    for (i = 0; i < s->n; i++)
        ss_resolved_free(s->models[i]);
    free(s->models);
    free(s);
}

lua_State *ss_script_state(ss_script *s)
{
    return s->L;
}

size_t ss_script_count(const ss_script *s)
{
    return s ? s->n : 0;
}

const ss_model *ss_script_model(const ss_script *s, size_t i)
{
    return s && i < s->n ? ss_resolved_model(s->models[i]) : NULL;
}

const ss_resolved *ss_script_resolved(const ss_script *s, size_t i)
{
    return s && i < s->n ? s->models[i] : NULL;
}

int ss_script_push_scenario(ss_script *s, size_t i)
{
    if (!s || i >= s->n || !lua_checkstack(s->L, 2))
        return -1;
    lua_rawgeti(s->L, LUA_REGISTRYINDEX, s->list_ref);
    lua_rawgeti(s->L, -1, (lua_Integer)i + 1);
    lua_remove(s->L, -2);
    return 0;
}

/* -------------------------------------------------------------- loading */

typedef struct chunk {
    const char *path;
    const char *text;   /* file contents after a UTF-8 BOM */
    size_t len;
    int part;           /* reader state */
} chunk;

/* Reader: "--" first when the file starts with "#" (so a #! line becomes
 * a comment and line numbers stay right), then the text. */
static const char *chunk_reader(lua_State *L, void *ud, size_t *size)
{
    chunk *c = ud;
    (void)L;
    if (c->part == 0) {
        c->part = 1;
        if (c->len > 0 && c->text[0] == '#') {
            *size = 2;
            return "--";
        }
    }
    if (c->part == 1) {
        c->part = 2;
        *size = c->len;
        return c->text;
    }
    *size = 0;
    return NULL;
}

void sl_bind_env(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, "stratsim.env") == LUA_TTABLE) {
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
    }
}

/* Compile the file (text only), remember its source for locate, and give
 * it the sandbox _ENV. Returns the function, or nil, message, status. */
static int l_script_compile(lua_State *L)
{
    chunk *c = lua_touserdata(L, 1);
    int status;

    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
    lua_pushfstring(L, "@%s", c->path);
    sl_trusted(L, 1); /* the host's copy: neither limited nor charged */
    lua_pushlstring(L, c->text, c->len);
    sl_trusted(L, 0);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushfstring(L, "@%s", c->path);
    status = lua_load(L, chunk_reader, c, lua_tostring(L, -1), "t");
    if (status != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        lua_pushinteger(L, status);
        return 3;
    }
    sl_vet_chunk(L);
    sl_bind_env(L);
    /* files the script names must lie below its directory, unless --root */
    sl_set_root(L, c->path, 1);
    return 1;
}

/* Check the chunk's result (arg 1; arg 2 the path as a light userdata): a
 * Scenario or a non-empty array of them with distinct names, or nothing (a
 * script that did its own work: no scenario); store the array in the
 * registry. Returns its length and the registry reference. */
static int l_script_collect(lua_State *L)
{
    char where[300];
    const char *path = lua_touserdata(L, 2);
    lua_Integer n, i, j;

    snprintf(where, sizeof where, "%s", path ? path : "?");
    if (lua_isnoneornil(L, 1)) {
        lua_createtable(L, 0, 0); /* no scenario: the script did its own work */
    } else if (sl_scenario_model(L, 1)) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, 1);
        lua_rawseti(L, -2, 1);
    } else if (lua_type(L, 1) == LUA_TTABLE && !lua_getmetatable(L, 1)) {
        n = (lua_Integer)lua_rawlen(L, 1);
        if (n == 0)
            sl_raise(L, SS_EINVAL, "%s: the script returned an empty list "
                         "(expected stratsim.scenario{...} or a list of them)", where);
        lua_createtable(L, (int)n, 0);
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, 1, i);
            if (!sl_scenario_model(L, -1))
                sl_raise(L, SS_EINVAL, "%s: element %d of the returned list is a %s, "
                             "expected a scenario (stratsim.scenario{...})",
                             where, (int)i, luaL_typename(L, -1));
            lua_rawseti(L, -2, i);
        }
    } else {
        sl_raise(L, SS_EINVAL, "%s: the script must return stratsim.scenario{...} "
                     "or a list of them, got %s", where, luaL_typename(L, 1));
    }
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= n; i++) {
        ss_model *a;
        lua_rawgeti(L, -1, i);
        a = sl_scenario_model(L, -1);
        lua_pop(L, 1);
        for (j = 1; j < i; j++) {
            ss_model *b;
            lua_rawgeti(L, -1, j);
            b = sl_scenario_model(L, -1);
            lua_pop(L, 1);
            if (strcmp(a->name, b->name) == 0)
                sl_raise(L, SS_EINVAL, "%s: scenarios %d and %d are both named '%s' "
                             "(give each a distinct name)", where, (int)j, (int)i, a->name);
        }
    }
    lua_pushinteger(L, n);
    lua_insert(L, -2);
    lua_pushinteger(L, luaL_ref(L, LUA_REGISTRYINDEX));
    return 2;
}

/* Fill the borrowed (unresolved) model pointers of the collected list. */
static int l_script_models(lua_State *L)
{
    ss_script *s = lua_touserdata(L, 1);
    ss_model **out = lua_touserdata(L, 2);
    size_t i;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->list_ref);
    for (i = 0; i < s->n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        out[i] = sl_scenario_model(L, -1);
        lua_pop(L, 1);
    }
    return 0;
}

typedef struct fmt_req {
    ss_script *s;
    size_t i;
    ss_err *err;
    const char *suffix;
} fmt_req;

/* Rewrite err->msg as "FILE:LINE: PATH: msg" for scenario i. */
static int l_script_format(lua_State *L)
{
    fmt_req *r = lua_touserdata(L, 1);
    char msg[sizeof r->err->msg], out[sizeof r->err->msg];
    snprintf(msg, sizeof msg, "%s%s", r->err->msg, r->suffix);
    ss_script_push_scenario(r->s, r->i);
    sl_scenario_format(L, -1, r->err->path, msg, out, sizeof out);
    memcpy(r->err->msg, out, sizeof out);
    return 0;
}

/* Read the whole file into a malloc'ed buffer (at most `max` bytes). */
static int read_file(const char *path, size_t max, char **out, size_t *len, ss_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    if (!f)
        return ss_err_set(err, SS_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *nb;
            if (cap > max) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ELIMIT, NULL, "%s: file larger than the memory budget", path);
            }
            nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                return ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
            }
            buf = nb;
            cap = nc;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return ss_err_set(err, SS_EIO, NULL, "cannot read %s: %s", path, strerror(e));
    }
    fclose(f);
    *out = buf;
    *len = n;
    return SS_OK;
}

/* Compile and run the file; leaves the chunk's first result on the stack. */
static int run_file(ss_script *s, const char *path, ss_err *err)
{
    lua_State *L = s->L;
    chunk c;
    char *buf;
    size_t len = 0;
    int rc, status;

    if ((rc = read_file(path, s->lim.max, &buf, &len, err)) != SS_OK)
        return rc;
    c.path = path;
    c.text = buf;
    c.len = len;
    c.part = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        c.text += 3;
        c.len -= 3;
    }
    lua_pushcfunction(L, l_script_compile);
    lua_pushlightuserdata(L, &c);
    status = sl_pcall(L, 1, 3);
    free(buf);
    if (status != LUA_OK)
        return sl_to_err(L, status, err);
    if (lua_isnil(L, -3)) {
        int lstatus = (int)lua_tointeger(L, -1);
        const char *msg = lua_tostring(L, -2);
        lua_pop(L, 1);
        lua_remove(L, -2);
        if (lstatus == LUA_ERRMEM)
            return sl_to_err(L, LUA_ERRMEM, err);
        /* syntax errors already start with "path:line:"; the binary-chunk
         * refusal does not */
        if (msg && strncmp(msg, path, strlen(path)) != 0)
            ss_err_set(err, SS_EINVAL, NULL, "%s: %s", path, msg);
        else
            ss_err_set(err, SS_EINVAL, NULL, "%s", msg ? msg : "cannot load chunk");
        locate_msg(err);
        lua_pop(L, 1);
        return SS_EINVAL;
    }
    lua_pop(L, 2);
    sl_budget_reset(L);
    status = sl_pcall(L, 0, 1);
    if (status != LUA_OK)
        return sl_to_err(L, status, err);
    return SS_OK;
}

int ss_script_load(ss_script *s, const char *path, const char *const *sets,
                   size_t nsets, ss_err *err)
{
    lua_State *L = s->L;
    ss_model **borrowed = NULL;
    size_t i, j, n;
    int rc, status, top = lua_gettop(L);

    if (s->loaded)
        return ss_err_set(err, SS_EINVAL, NULL, "a script can be loaded only once");
    s->loaded = 1;
    if ((rc = run_file(s, path, err)) != SS_OK)
        goto done;
    lua_pushcfunction(L, l_script_collect);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, (void *)path); /* never allocates */
    status = sl_pcall(L, 2, 2);
    if (status != LUA_OK) {
        rc = sl_to_err(L, status, err);
        goto done;
    }
    n = (size_t)lua_tointeger(L, -2);
    s->list_ref = (int)lua_tointeger(L, -1);
    lua_pop(L, 2);

    borrowed = calloc(n ? n : 1, sizeof *borrowed);
    s->models = calloc(n ? n : 1, sizeof *s->models);
    if (!borrowed || !s->models) {
        rc = ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
        goto done;
    }
    s->n = n;
    lua_pushcfunction(L, l_script_models);
    lua_pushlightuserdata(L, s);
    lua_pushlightuserdata(L, borrowed);
    status = sl_pcall(L, 2, 0);
    if (status != LUA_OK) {
        rc = sl_to_err(L, status, err);
        goto done;
    }
    for (i = 0; i < n; i++) {
        ss_model *m = ss_model_copy(borrowed[i]);
        if (!m) {
            rc = ss_err_set(err, SS_ENOMEM, NULL, "out of memory");
            goto done;
        }
        for (j = 0; j < nsets; j++)
            if ((rc = sl_override_apply(m, sets[j], err)) != SS_OK) {
                ss_model_free(m);
                goto done;
            }
        if ((rc = ss_resolved_adopt(&s->models[i], m, err)) != SS_OK) {
            fmt_req r;
            r.s = s;
            r.i = i;
            r.err = err;
            r.suffix = nsets ? " (after --set overrides)" : "";
            lua_pushcfunction(L, l_script_format);
            lua_pushlightuserdata(L, &r);
            status = sl_pcall(L, 1, 0);
            if (status != LUA_OK)
                lua_pop(L, 1); /* keep the unlocated message */
            goto done;
        }
    }
    sl_random_mark(L); /* where every run of an analysis starts (sl_crn_opts) */
    rc = SS_OK;
done:
    free(borrowed);
    if (rc != SS_OK) {
        if (rc == SS_ELIMIT && (strncmp(err->msg, "scenario exceeded", 17) == 0 ||
                                strncmp(err->msg, "a string of", 11) == 0)) {
            char msg[sizeof err->msg];
            if (snprintf(msg, sizeof msg, "%s: %s", path, err->msg) >= 0)
                memcpy(err->msg, msg, sizeof msg);
        }
        for (i = 0; i < s->n; i++)
            ss_resolved_free(s->models[i]);
        free(s->models);
        s->models = NULL;
        s->n = 0;
    }
    lua_settop(L, top);
    return rc;
}
