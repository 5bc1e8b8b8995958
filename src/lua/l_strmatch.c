/*
 * l_strmatch.c - string.find, string.match, string.gmatch and string.gsub
 * for the sandbox, with the work charged to the script's instruction budget
 * (docs/robustness.md).
 *
 * Lua's count hook only fires while Lua code runs, so a backtracking
 * pattern inside the stock C matcher, such as
 * ("a"):rep(26):find(("a-"):rep(25) .. "b"), can burn CPU for hours without
 * the instruction budget ever seeing it. These replacements implement the
 * pattern language of the Lua 5.4 manual (§6.4.1: classes (and the
 * deprecated %z that Lua 5.4 still accepts), sets, the
 * quantifiers * + - ?, anchors, captures and position captures, %1-%9,
 * %bxy, %f[set]) and the four functions' documented behaviour (init, plain
 * find, gmatch's init, gsub with a string, table or function replacement
 * and a maximum count), written for this project from the manual; every
 * matching step (a pattern item tried at a subject position, a byte scanned
 * by a plain find or %b, a byte compared by a back-reference) counts as one
 * instruction. Past the budget the call raises and the script stops with
 * "instruction limit exceeded", like a Lua loop would. The results are the
 * stock library's (tests/fuzz/fuzz_strmatch.c compares the two on random
 * inputs). Recursion is bounded ("pattern too complex") as in the stock
 * library. Character classes follow the C library's <ctype.h> in the
 * current LC_CTYPE, as Lua's do.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <lauxlib.h>
#include "sl_internal.h"

#define ESC '%'
#define SPECIALS "^$*+?.([%-"
#define MAXCAP 32           /* LUA_MAXCAPTURES */
#define MAXDEPTH 200        /* recursion bound of the matcher (MAXCCALLS) */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define CHARGE_EVERY 4096   /* steps between calls to the budget */

typedef struct mstate {
    const char *s0, *se;    /* the subject: [s0, se) */
    const char *pe;         /* end of the pattern */
    lua_State *L;
    int depth;              /* recursion levels left */
    int level;              /* captures opened so far */
    size_t steps;           /* steps not yet charged */
    struct {
        const char *init;
        ptrdiff_t len;      /* or CAP_UNFINISHED / CAP_POSITION */
    } cap[MAXCAP];
} mstate;

/* ------------------------------------------------------------- budget */

static void charge_now(lua_State *L, size_t *steps)
{
    size_t n = *steps;
    *steps = 0;
    if (n > 0 && sl_charge_work(L, n) != 0)
        luaL_error(L, "instruction limit exceeded");
}

static void steps_add(mstate *ms, size_t n)
{
    ms->steps += n;
    if (ms->steps >= CHARGE_EVERY)
        charge_now(ms->L, &ms->steps);
}

#define STEP(ms) steps_add((ms), 1)

static void ms_init(mstate *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    ms->L = L;
    ms->s0 = s;
    ms->se = s + ls;
    ms->pe = p + lp;
    ms->steps = 0;
    ms->level = 0;
    ms->depth = MAXDEPTH;
}

static void ms_reset(mstate *ms)
{
    ms->level = 0;
    ms->depth = MAXDEPTH;
}

/* ------------------------------------------------------------ classes */

/* Does byte c belong to the class %cl (or equal cl if it is no letter)? */
static int class_has(int c, int cl)
{
    int r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = (c == 0); break; /* deprecated, still accepted by Lua 5.4 */
    default: return cl == c;
    }
    if (isupper(cl))
        r = !r;
    return r != 0;
}

/* The end of the single-byte class starting at p (pattern strings are
 * NUL-terminated, so reading *pe is safe). */
static const char *class_end(mstate *ms, const char *p)
{
    char c = *p++;
    if (c == ESC) {
        if (p >= ms->pe)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^')
            p++;
        do { /* the first byte is a member even if it is ']' */
            if (p >= ms->pe)
                luaL_error(ms->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESC && p < ms->pe)
                p++;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

/* Is c in the set [p .. ec] (p at '[', ec at the closing ']')? */
static int set_has(int c, const char *p, const char *ec)
{
    int yes = 1;
    if (p[1] == '^') {
        yes = 0;
        p++;
    }
    while (++p < ec) {
        if (*p == ESC) {
            p++;
            if (class_has(c, (unsigned char)*p))
                return yes;
        } else if (p[1] == '-' && p + 2 < ec) {
            p += 2;
            if ((unsigned char)p[-2] <= c && c <= (unsigned char)*p)
                return yes;
        } else if ((unsigned char)*p == c) {
            return yes;
        }
    }
    return !yes;
}

/* Does the subject byte at s match the class [p, ep)? */
static int single(mstate *ms, const char *s, const char *p, const char *ep)
{
    int c;
    if (s >= ms->se)
        return 0;
    c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case ESC: return class_has(c, (unsigned char)p[1]);
    case '[': return set_has(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ------------------------------------------------------------ matcher */

static const char *do_match(mstate *ms, const char *s, const char *p);

static const char *match_balance(mstate *ms, const char *s, const char *p)
{
    int open, close, count = 1;
    if (p >= ms->pe - 1)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->se || *s != *p)
        return NULL;
    open = *p;
    close = p[1];
    while (++s < ms->se) {
        STEP(ms);
        if (*s == close) {
            if (--count == 0)
                return s + 1;
        } else if (*s == open) {
            count++;
        }
    }
    return NULL;
}

/* Greedy: the longest run of the class first, then shorter ones. */
static const char *max_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single(ms, s + i, p, ep)) {
        STEP(ms);
        i++;
    }
    for (; i >= 0; i--) {
        const char *r = do_match(ms, s + i, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

/* Lazy: the shortest run first. */
static const char *min_expand(mstate *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = do_match(ms, s, ep + 1);
        if (r)
            return r;
        if (!single(ms, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *start_capture(mstate *ms, const char *s, const char *p, ptrdiff_t what)
{
    const char *r;
    if (ms->level >= MAXCAP)
        luaL_error(ms->L, "too many captures");
    ms->cap[ms->level].init = s;
    ms->cap[ms->level].len = what;
    ms->level++;
    if ((r = do_match(ms, s, p)) == NULL)
        ms->level--;
    return r;
}

static const char *end_capture(mstate *ms, const char *s, const char *p)
{
    int l;
    const char *r;
    for (l = ms->level - 1; l >= 0; l--)
        if (ms->cap[l].len == CAP_UNFINISHED)
            break;
    if (l < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->cap[l].len = s - ms->cap[l].init;
    if ((r = do_match(ms, s, p)) == NULL)
        ms->cap[l].len = CAP_UNFINISHED;
    return r;
}

/* %1-%9: the text of a closed capture again. */
static const char *match_backref(mstate *ms, const char *s, int d)
{
    int l = d - '1';
    size_t len;
    if (l < 0 || l >= ms->level || ms->cap[l].len == CAP_UNFINISHED)
        luaL_error(ms->L, "invalid capture index %%%d in pattern", l + 1);
    len = (size_t)ms->cap[l].len; /* a position capture: huge, never matches */
    steps_add(ms, len < (size_t)(ms->se - s) ? len : (size_t)(ms->se - s));
    if ((size_t)(ms->se - s) >= len && memcmp(ms->cap[l].init, s, len) == 0)
        return s + len;
    return NULL;
}

/* Match pattern [p, pe) at subject position s: the end of the match, or
 * NULL. Tail positions loop instead of recursing. */
static const char *do_match(mstate *ms, const char *s, const char *p)
{
    if (ms->depth-- == 0)
        luaL_error(ms->L, "pattern too complex");
    for (;;) {
        const char *ep;
        STEP(ms);
        if (p == ms->pe)
            break;
        if (*p == '(') {
            s = p[1] == ')' ? start_capture(ms, s, p + 2, CAP_POSITION)
                            : start_capture(ms, s, p + 1, CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            s = end_capture(ms, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == ms->pe) {
            if (s != ms->se)
                s = NULL;
            break;
        }
        if (*p == ESC && p[1] == 'b') {
            if ((s = match_balance(ms, s, p + 2)) != NULL) {
                p += 4;
                continue;
            }
            break;
        }
        if (*p == ESC && p[1] == 'f') {
            int prev, cur;
            p += 2;
            if (*p != '[')
                luaL_error(ms->L, "missing '[' after '%%f' in pattern");
            ep = class_end(ms, p);
            prev = s == ms->s0 ? '\0' : (unsigned char)s[-1];
            cur = s < ms->se ? (unsigned char)*s : '\0';
            if (!set_has(prev, p, ep - 1) && set_has(cur, p, ep - 1)) {
                p = ep;
                continue;
            }
            s = NULL;
            break;
        }
        if (*p == ESC && p[1] >= '0' && p[1] <= '9') {
            if ((s = match_backref(ms, s, (unsigned char)p[1])) != NULL) {
                p += 2;
                continue;
            }
            break;
        }
        /* a single-byte class, maybe followed by a quantifier */
        ep = class_end(ms, p);
        if (!single(ms, s, p, ep)) {
            if (*ep == '*' || *ep == '?' || *ep == '-') {
                p = ep + 1;
                continue;
            }
            s = NULL;
            break;
        }
        if (*ep == '?') {
            const char *r = do_match(ms, s + 1, ep + 1);
            if (r) {
                s = r;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (*ep == '+') {
            s = max_expand(ms, s + 1, p, ep);
            break;
        }
        if (*ep == '*') {
            s = max_expand(ms, s, p, ep);
            break;
        }
        if (*ep == '-') {
            s = min_expand(ms, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    ms->depth++;
    return s;
}

/* ----------------------------------------------------------- captures */

/* Capture i of the match [s, e): pushes a position capture and returns
 * CAP_POSITION, else stores the text in *cap and returns its length. */
static ptrdiff_t get_capture(mstate *ms, int i, const char *s, const char *e, const char **cap)
{
    ptrdiff_t l;
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        *cap = s;
        return e - s;
    }
    l = ms->cap[i].len;
    *cap = ms->cap[i].init;
    if (l == CAP_UNFINISHED)
        luaL_error(ms->L, "unfinished capture");
    else if (l == CAP_POSITION)
        lua_pushinteger(ms->L, (ms->cap[i].init - ms->s0) + 1);
    return l;
}

static void push_capture(mstate *ms, int i, const char *s, const char *e)
{
    const char *cap;
    ptrdiff_t l = get_capture(ms, i, s, e, &cap);
    if (l != CAP_POSITION)
        lua_pushlstring(ms->L, cap, (size_t)l);
}

/* Push the captures (or the whole match if there are none and s != NULL). */
static int push_captures(mstate *ms, const char *s, const char *e)
{
    int n = (ms->level == 0 && s) ? 1 : ms->level, i;
    luaL_checkstack(ms->L, n, "too many captures");
    for (i = 0; i < n; i++)
        push_capture(ms, i, s, e);
    return n;
}

/* --------------------------------------------------------- functions */

/* 0-based start from a 1-based, possibly negative, init. */
static size_t start_at(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos;
}

static int no_specials(const char *p, size_t lp)
{
    size_t i;
    for (i = 0; i < lp; i++)
        if (p[i] != '\0' && strchr(SPECIALS, p[i]))
            return 0;
    return 1;
}

/* Plain search for [p, p+lp) in [s, s+ls); every candidate position
 * costs a step per compared byte (bounded by lp). */
static const char *plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    size_t steps = 0;
    const char *end, *q = s;
    if (lp == 0)
        return s;
    if (lp > ls)
        return NULL;
    end = s + (ls - lp) + 1; /* candidates: [s, end) */
    while (q < end) {
        const char *hit = memchr(q, *p, (size_t)(end - q));
        if (!hit)
            break;
        steps += (size_t)(hit - q) / 64 + lp;
        if (steps >= CHARGE_EVERY)
            charge_now(L, &steps);
        if (memcmp(hit + 1, p + 1, lp - 1) == 0) {
            charge_now(L, &steps);
            return hit;
        }
        q = hit + 1;
    }
    charge_now(L, &steps);
    return NULL;
}

static int find_aux(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_at(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || no_specials(p, lp))) {
        const char *hit = plain_find(L, s + init, ls - init, p, lp);
        if (hit) {
            lua_pushinteger(L, (hit - s) + 1);
            lua_pushinteger(L, (lua_Integer)((size_t)(hit - s) + lp));
            return 2;
        }
    } else {
        mstate ms;
        const char *s1 = s + init;
        int anchor = (*p == '^');
        if (anchor) {
            p++;
            lp--;
        }
        ms_init(&ms, L, s, ls, p, lp);
        do {
            const char *e;
            ms_reset(&ms);
            if ((e = do_match(&ms, s1, p)) != NULL) {
                charge_now(L, &ms.steps);
                if (find) {
                    lua_pushinteger(L, (s1 - s) + 1);
                    lua_pushinteger(L, e - s);
                    return push_captures(&ms, NULL, NULL) + 2;
                }
                return push_captures(&ms, s1, e);
            }
        } while (s1++ < ms.se && !anchor);
        charge_now(L, &ms.steps);
    }
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L)
{
    return find_aux(L, 1);
}

static int l_match(lua_State *L)
{
    return find_aux(L, 0);
}

typedef struct gmatch_state {
    const char *src;        /* where the next search starts */
    const char *p;          /* the pattern */
    const char *lastmatch;  /* end of the last match (no empty match there) */
    mstate ms;
} gmatch_state;

/* The iterator; upvalues: the subject, the pattern (kept alive), the state. */
static int gmatch_next(lua_State *L)
{
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    const char *src;
    g->ms.L = L; /* the iterator may run in another coroutine */
    for (src = g->src; src <= g->ms.se; src++) {
        const char *e;
        ms_reset(&g->ms);
        if ((e = do_match(&g->ms, src, g->p)) != NULL && e != g->lastmatch) {
            g->src = g->lastmatch = e;
            charge_now(L, &g->ms.steps);
            return push_captures(&g->ms, src, e);
        }
    }
    g->src = src;
    charge_now(L, &g->ms.steps);
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_at(luaL_optinteger(L, 3, 1), ls);
    gmatch_state *g;
    lua_settop(L, 2);
    g = lua_newuserdatauv(L, sizeof *g, 0);
    if (init > ls)
        init = ls + 1; /* start after the string's end: no match */
    ms_init(&g->ms, L, s, ls, p, lp);
    g->src = s + init;
    g->p = p;
    g->lastmatch = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* Append the replacement string (arg 3) for the match [s, e). */
static void add_string(mstate *ms, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = ms->L;
    size_t l;
    const char *r = lua_tolstring(L, 3, &l), *q;
    while ((q = memchr(r, ESC, l)) != NULL) {
        luaL_addlstring(b, r, (size_t)(q - r));
        q++; /* the byte after '%' (the string's NUL at the very end) */
        if (*q == ESC) {
            luaL_addchar(b, ESC);
        } else if (*q == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*q)) {
            const char *cap;
            ptrdiff_t n = get_capture(ms, *q - '1', s, e, &cap);
            if (n == CAP_POSITION)
                luaL_addvalue(b); /* the integer get_capture pushed */
            else
                luaL_addlstring(b, cap, (size_t)n);
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESC);
        }
        l -= (size_t)(q + 1 - r);
        r = q + 1;
    }
    luaL_addlstring(b, r, l);
}

/* Append the replacement for the match [s, e); 0 if the match was kept. */
static int add_value(mstate *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_string(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *lastmatch = NULL;
    int tr = lua_type(L, 3), anchor, changed = 0;
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1), n = 0;
    mstate ms;
    luaL_Buffer b;

    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                     tr == LUA_TTABLE, 3, "string/function/table");
    luaL_buffinit(L, &b);
    anchor = (*p == '^');
    if (anchor) {
        p++;
        lp--;
    }
    ms_init(&ms, L, src, ls, p, lp);
    while (n < max) {
        const char *e;
        ms_reset(&ms);
        if ((e = do_match(&ms, src, p)) != NULL && e != lastmatch) {
            n++;
            changed = add_value(&ms, &b, src, e, tr) | changed;
            src = lastmatch = e;
        } else if (src < ms.se) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    charge_now(L, &ms.steps);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.se - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void sl_install_strmatch(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {
        {"find", l_find}, {"match", l_match}, {"gmatch", l_gmatch}, {"gsub", l_gsub},
        {NULL, NULL}
    };
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
