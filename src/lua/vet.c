/*
 * vet.c - guards against two code-generation bugs of Lua 5.4.4 (fixed in
 * 5.4.5), applied to every chunk stratsim compiles: scenario files,
 * included files, --params files, the REPL's input and the sandbox's load().
 *
 * The compiled function is dumped (lua_dump, with debug information) and
 * its bytecode walked, recursively over nested functions:
 *
 *  - "'break' may not properly close variable in a 'for' loop": leaving a
 *    generic for loop by break or goto, when the body creates a closure,
 *    emits the loop's CLOSE with the wrong level, so the loop's closing
 *    value (its 4th value, a to-be-closed variable) is not closed and
 *    stays in the thread's list of to-be-closed variables; a later
 *    to-be-closed variable below it makes Lua write out of bounds (a
 *    crash). The walker finds a CLOSE right after TFORLOOP whose level
 *    lies above the loop's base and sets it to the base (what Lua 5.4.5
 *    emits); the patched dump is loaded back in place of the function.
 *  - "Wrong code generation for constants in bitwise operations": in a
 *    function with more than 255 constants, `1 ~ (a or b)` loads the
 *    integer constant in code that a jump of the right operand skips, so
 *    the operation reads a stale register (a wrong result). The walker
 *    finds a BAND/BOR/BXOR whose first operand was loaded by LOADI/LOADK
 *    past which an earlier jump lands, and refuses the chunk with
 *    "FILE:LINE: ... miscompiled by Lua 5.4.4".
 *
 * The dump format is Lua 5.4's (ldump.c): header, then per function the
 * source, line range, flags, code, constants, upvalues, nested functions
 * and debug information, sizes as MSB-first 7-bit varints.
 */
#include <stdint.h>
#include <string.h>
#include <lauxlib.h>
#include "sl_internal.h"

enum {
    OP_LOADI = 1, OP_LOADF = 2, OP_LOADK = 3, OP_LOADKX = 4,
    OP_BAND = 41, OP_BOR = 42, OP_BXOR = 43,
    OP_CLOSE = 54, OP_JMP = 56, OP_TFORLOOP = 77
};
#define HEADER_SIZE 31 /* signature 4, version, format, LUAC_DATA 6, 3 sizes, int, num */
#define ABSLINEINFO (-0x80)

typedef struct rd {
    unsigned char *p;
    size_t n, i;
    int bad;
    int patched;
    int bug_line;       /* line of a miscompiled bitwise operation (0: none) */
    char bug_src[200];
} rd;

static unsigned byte_(rd *r)
{
    if (r->i >= r->n) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->i++];
}

static size_t varint(rd *r)
{
    size_t x = 0;
    unsigned b;
    do {
        b = byte_(r);
        if (x >> (sizeof x * 8 - 8)) {
            r->bad = 1;
            return 0;
        }
        x = (x << 7) | (b & 0x7f);
    } while (!(b & 0x80) && !r->bad);
    return x;
}

static void skip(rd *r, size_t n)
{
    if (n > r->n - r->i)
        r->bad = 1;
    else
        r->i += n;
}

/* A dumped string: its offset and length (len = (size_t)-1 for NULL). */
static void string_(rd *r, size_t *off, size_t *len)
{
    size_t n = varint(r);
    *off = r->i;
    *len = n ? n - 1 : (size_t)-1;
    if (n)
        skip(r, n - 1);
}

static uint32_t insn(const rd *r, size_t code, size_t pc)
{
    uint32_t v;
    memcpy(&v, r->p + code + 4 * pc, 4);
    return v;
}

#define OPC(i) ((int)((i) & 0x7f))
#define ARG_A(i) ((int)(((i) >> 7) & 0xff))
#define ARG_B(i) ((int)(((i) >> 16) & 0xff))
#define ARG_SJ(i) ((long)(((i) >> 7) & 0x1ffffff) - 0xffffffL)

/* Line of instruction pc (luaG_getfuncline over the dumped line info). */
static int line_of(rd *r, int linedefined, size_t lineinfo, size_t nline, size_t abs,
                   size_t nabs, size_t pc)
{
    size_t k, save = r->i;
    long line = linedefined;
    for (k = 0; k <= pc && k < nline; k++) {
        signed char d = (signed char)r->p[lineinfo + k];
        if (d == ABSLINEINFO) {
            size_t j;
            r->i = abs;
            for (j = 0; j < nabs && !r->bad; j++) {
                size_t apc = varint(r), aline = varint(r);
                if (apc == k) {
                    line = (long)aline;
                    break;
                }
            }
        } else {
            line += d;
        }
    }
    r->i = save;
    return (int)line;
}

/* Walk one function (and its nested ones). */
static void function_(rd *r, const char *psrc, size_t psrclen, int depth)
{
    size_t srcoff, srclen, code, ncode, n, k, lineinfo, nline, abs, nabs;
    const char *src = psrc;
    int linedefined;

    if (depth > 250) {
        r->bad = 1;
        return;
    }
    string_(r, &srcoff, &srclen);
    if (srclen != (size_t)-1) {
        src = (const char *)r->p + srcoff;
        psrclen = srclen;
    }
    linedefined = (int)varint(r);
    varint(r); /* lastlinedefined */
    skip(r, 3);
    ncode = varint(r);
    code = r->i;
    if (ncode > (r->n - r->i) / 4) {
        r->bad = 1;
        return;
    }
    skip(r, 4 * ncode);
    n = varint(r); /* constants */
    for (k = 0; k < n && !r->bad; k++) {
        unsigned tt = byte_(r);
        size_t o, l;
        if (tt == 0x03 || tt == 0x13)
            skip(r, 8);
        else if (tt == 0x04 || tt == 0x14)
            string_(r, &o, &l);
    }
    skip(r, 3 * varint(r)); /* upvalues */
    n = varint(r);          /* nested functions */
    for (k = 0; k < n && !r->bad; k++)
        function_(r, src, psrclen, depth + 1);
    nline = varint(r);
    lineinfo = r->i;
    skip(r, nline);
    nabs = varint(r);
    abs = r->i;
    for (k = 0; k < nabs && !r->bad; k++) {
        varint(r);
        varint(r);
    }
    n = varint(r); /* local variables */
    for (k = 0; k < n && !r->bad; k++) {
        size_t o, l;
        string_(r, &o, &l);
        varint(r);
        varint(r);
    }
    n = varint(r); /* upvalue names */
    for (k = 0; k < n && !r->bad; k++) {
        size_t o, l;
        string_(r, &o, &l);
    }
    if (r->bad)
        return;

    for (k = 0; k < ncode; k++) {
        uint32_t i = insn(r, code, k);
        int op = OPC(i);
        if (op == OP_TFORLOOP && k + 1 < ncode) {
            uint32_t c = insn(r, code, k + 1);
            if (OPC(c) == OP_CLOSE && ARG_A(c) > ARG_A(i)) {
                c = (c & ~((uint32_t)0xff << 7)) | ((uint32_t)ARG_A(i) << 7);
                memcpy(r->p + code + 4 * (k + 1), &c, 4);
                r->patched = 1;
            }
        } else if ((op == OP_BAND || op == OP_BOR || op == OP_BXOR) && !r->bug_line) {
            int b = ARG_B(i);
            size_t l = k, j;
            /* the instruction that last set the first operand */
            while (l > 0) {
                uint32_t w = insn(r, code, --l);
                if (ARG_A(w) == b)
                    break;
            }
            if (l < k && ARG_A(insn(r, code, l)) == b) {
                int lop = OPC(insn(r, code, l));
                if (lop == OP_LOADI || lop == OP_LOADF || lop == OP_LOADK || lop == OP_LOADKX) {
                    for (j = 0; j < l; j++) {
                        uint32_t w = insn(r, code, j);
                        long t = (long)j + 1 + ARG_SJ(w);
                        if (OPC(w) == OP_JMP && t > (long)l && t <= (long)k) {
                            r->bug_line = line_of(r, linedefined, lineinfo, nline, abs, nabs, k);
                            if (src) {
                                size_t m = psrclen < sizeof r->bug_src - 1 ? psrclen
                                                                           : sizeof r->bug_src - 1;
                                memcpy(r->bug_src, src, m);
                                r->bug_src[m] = '\0';
                            }
                            break;
                        }
                    }
                }
            }
        }
    }
}

typedef struct dumpst {
    int init;
    luaL_Buffer b;
} dumpst;

/* As lstrlib's str_dump: the buffer starts above the dumped function. */
static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud)
{
    dumpst *st = ud;
    if (!st->init) {
        st->init = 1;
        luaL_buffinit(L, &st->b);
    }
    luaL_addlstring(&st->b, p, sz);
    return 0;
}

typedef struct reload {
    const char *p;
    size_t n;
} reload;

static const char *reload_reader(lua_State *L, void *ud, size_t *size)
{
    reload *r = ud;
    (void)L;
    *size = r->n;
    r->n = 0;
    return *size ? r->p : NULL;
}

void sl_vet_chunk(lua_State *L)
{
    int f = lua_gettop(L);
    dumpst st;
    rd r;
    size_t len;
    const char *d;
    unsigned char *copy;

    luaL_checkstack(L, 6, NULL);
    st.init = 0;
    sl_trusted(L, 1); /* the host's own strings: not the script's */
    if (lua_dump(L, dump_writer, &st, 0) != 0 || !st.init)
        luaL_error(L, "cannot check the compiled chunk");
    luaL_pushresult(&st.b);
    sl_trusted(L, 0);
    d = lua_tolstring(L, -1, &len);
    if (sl_charge_work(L, len / 16) != 0)
        luaL_error(L, "instruction limit exceeded");
    copy = lua_newuserdatauv(L, len ? len : 1, 0);
    memcpy(copy, d, len);
    memset(&r, 0, sizeof r);
    r.p = copy;
    r.n = len;
    r.i = HEADER_SIZE + 1;
    function_(&r, NULL, 0, 0);
    if (r.bad)
        luaL_error(L, "cannot check the compiled chunk (unexpected bytecode format)");
    if (r.bug_line) {
        const char *s = r.bug_src[0] == '@' || r.bug_src[0] == '=' ? r.bug_src + 1 : r.bug_src;
        sl_raise(L, SS_EINVAL,
                     "%s:%d: this bitwise operation (&, | or ~ with an integer constant on the "
                     "left, in a function with more than 255 constants) is miscompiled by Lua "
                     "5.4.4; put the constant on the right or in a local variable",
                     s, r.bug_line);
    }
    if (r.patched) {
        reload rl;
        rl.p = (const char *)copy;
        rl.n = len;
        if (lua_load(L, reload_reader, &rl, "=patched", "b") != LUA_OK)
            lua_error(L);
        /* lua_load gave the new main function the global table as _ENV:
         * give it the original's first upvalue instead (the sandbox) */
        if (lua_getupvalue(L, f, 1)) {
            if (!lua_setupvalue(L, -2, 1))
                lua_pop(L, 1);
        }
        lua_replace(L, f);
    }
    lua_settop(L, f);
}
