/*
 * l_include.c - stratsim.include(FILE): run another scenario file and return
 * what it returns, so a variant can derive from a shared base file
 * (`local base = stratsim.include("baseline.lua")`) even in the sandbox,
 * which has no require/dofile.
 *
 * FILE is resolved relative to the directory of the calling chunk; it must
 * name a ".lua" file; it is loaded as text only with the caller's _ENV (the
 * sandbox environment when sandboxed) and its source is recorded so that
 * error lines inside it are located as for the main file. Includes nest up
 * to 16 deep (a cycle is reported, not followed forever). Reading is charged
 * to the instruction budget like other C-side work.
 *
 * Files are confined to a root (like Typst's --root): the directory of the
 * top-level scenario file, or --root DIR. sl_resolve_script_file() is
 * the one path check, for include and for any other function that reads a
 * file a script names (stratsim.series{file=...}); sl_read_script_file()
 * also opens (regular files only, O_NONBLOCK | O_NOFOLLOW) and reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sl_internal.h"
#include <lauxlib.h>
#include <lua.h>

#define INCLUDE_DEPTH_KEY "stratsim.include_depth"
#define INCLUDE_MAX_DEPTH 16
#define INCLUDE_MAX_BYTES (8u << 20)

/* The open file of sl_read_script_file as a to-be-closed value, so
 * that an error raised while reading (a memory error inside
 * luaL_prepbuffer) cannot leak the descriptor. */
#define INCLUDE_FILE_META "stratsim.IncludeFile"
typedef struct include_file {
    int fd;
} include_file;

static int l_include_file_close(lua_State *L)
{
    include_file *h = luaL_checkudata(L, 1, INCLUDE_FILE_META);
    if (h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
    }
    return 0;
}

#define MAIN_DIR_KEY "stratsim.main_dir"

/* Push the directory part ("dir/", or "") of file name src. */
static void push_dir_of(lua_State *L, const char *src)
{
    const char *slash = strrchr(src, '/');
    if (slash)
        lua_pushlstring(L, src, (size_t)(slash - src + 1));
    else
        lua_pushliteral(L, "");
}

/* The directory part of the nearest Lua function on the call stack whose
 * chunk is a file ("@dir/file.lua"): the file that calls stratsim.include,
 * also through pcall or a load()ed chunk. When none is left (a tail call
 * replaced it), the directory of the top-level scenario file. */
static void push_caller_dir(lua_State *L)
{
    lua_Debug ar;
    int level;
    for (level = 1; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "S", &ar) && ar.source[0] == '@') {
            push_dir_of(L, ar.source + 1);
            return;
        }
    }
    if (lua_getfield(L, LUA_REGISTRYINDEX, MAIN_DIR_KEY) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
    }
}

void sl_set_root(lua_State *L, const char *path, int is_file)
{
    char dir[PATH_MAX], real[PATH_MAX]; /* no malloc held across a raising push */
    const char *d = path;
    if (is_file) {
        const char *slash = strrchr(path, '/');
        push_dir_of(L, path);
        lua_setfield(L, LUA_REGISTRYINDEX, MAIN_DIR_KEY);
        if (lua_getfield(L, LUA_REGISTRYINDEX, SL_ROOT) != LUA_TNIL) {
            lua_pop(L, 1); /* --root was given */
            return;
        }
        lua_pop(L, 1);
        if (!slash) {
            d = ".";
        } else if (slash == path) {
            d = "/";
        } else if ((size_t)(slash - path) < sizeof dir) {
            memcpy(dir, path, (size_t)(slash - path));
            dir[slash - path] = '\0';
            d = dir;
        } else {
            d = NULL;
        }
    }
    if (d && realpath(d, real))
        lua_pushstring(L, real);
    else
        lua_pushnil(L); /* no root: every file is refused */
    lua_setfield(L, LUA_REGISTRYINDEX, SL_ROOT);
}

/* 1 if the resolved path p lies inside the directory root. */
static int inside(const char *root, const char *p)
{
    size_t n = strlen(root);
    if (strcmp(root, "/") == 0)
        return p[0] == '/';
    return strncmp(p, root, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

const char *sl_resolve_script_file(lua_State *L, const char *name, const char *what)
{
    const char *shown, *root;
    char real[PATH_MAX];
    int e;

    if (name[0] == '/') {
        shown = lua_pushstring(L, name);
    } else {
        push_caller_dir(L);
        lua_pushstring(L, name);
        lua_concat(L, 2);
        shown = lua_tostring(L, -1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, SL_ROOT);
    root = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays anchored in the registry */
    errno = 0;
    if (!realpath(shown, real)) {
        e = errno;
        return luaL_error(L, "%s: cannot open %s: %s", what, shown, strerror(e)), NULL;
    }
    if (!root || !inside(root, real)) {
        return luaL_error(L, "%s: %s is outside %s%s (files may only be read from the "
                          "directory of the scenario file and below; widen it with --root DIR)",
                          what, shown, root ? "the root " : "any root", root ? root : ""), NULL;
    }
    lua_pushstring(L, real);
    return shown;
}

const char *sl_read_script_file(lua_State *L, const char *name, const char *what,
                                    size_t max_bytes)
{
    luaL_Buffer b;
    include_file *h;
    struct stat st;
    size_t total = 0;
    int slot;
    const char *shown = sl_resolve_script_file(L, name, what);
    const char *real = lua_tostring(L, -1);

    h = lua_newuserdatauv(L, sizeof *h, 0);
    h->fd = -1;
    if (luaL_newmetatable(L, INCLUDE_FILE_META)) {
        lua_pushcfunction(L, l_include_file_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_include_file_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    slot = lua_gettop(L);
    lua_toclose(L, slot);
    /* never block (a FIFO), never follow a link swapped in after realpath */
    h->fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (h->fd < 0)
        luaL_error(L, "%s: cannot open %s: %s", what, shown, strerror(errno));
    if (fstat(h->fd, &st) != 0)
        luaL_error(L, "%s: cannot read %s: %s", what, shown, strerror(errno));
    if (!S_ISREG(st.st_mode))
        luaL_error(L, "%s: %s is not a regular file", what, shown);
    if ((uintmax_t)st.st_size > max_bytes)
        luaL_error(L, "%s: %s is larger than %zu bytes", what, shown, max_bytes);
    luaL_buffinit(L, &b);
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        ssize_t got = read(h->fd, p, LUAL_BUFFERSIZE);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            luaL_error(L, "%s: cannot read %s: %s", what, shown, strerror(errno));
        if (got == 0)
            break;
        luaL_addsize(&b, (size_t)got);
        total += (size_t)got;
        if (total > max_bytes)
            luaL_error(L, "%s: %s is larger than %zu bytes", what, shown, max_bytes);
    }
    sl_trusted(L, 1); /* the host's copy: neither limited nor charged */
    luaL_pushresult(&b);
    sl_trusted(L, 0);
    lua_closeslot(L, slot); /* close now; the slot becomes nil */
    lua_remove(L, slot);
    lua_remove(L, -2); /* the real path */
    return shown;
}

int sl_include(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    size_t n = strlen(name), len;
    const char *path, *text;
    lua_Integer depth;
    int status, base;

    if (n < 5 || strcmp(name + n - 4, ".lua") != 0)
        return luaL_argerror(L, 1, "expected the name of a .lua scenario file");
    lua_getfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    depth = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (depth >= INCLUDE_MAX_DEPTH)
        return luaL_error(L, "stratsim.include: more than %d nested includes (a cycle?) at %s",
                          INCLUDE_MAX_DEPTH, name);
    path = sl_read_script_file(L, name, "stratsim.include", INCLUDE_MAX_BYTES);
    text = lua_tolstring(L, -1, &len);
    if (sl_charge_work(L, len) != 0)
        return luaL_error(L, "instruction limit exceeded");
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    /* record the source for key-path line lookup */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, SL_SOURCES);
    lua_pushfstring(L, "@%s", path);
    sl_trusted(L, 1);
    lua_pushlstring(L, text, len);
    sl_trusted(L, 0);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushfstring(L, "@%s", path);
    status = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    if (status != LUA_OK)
        return lua_error(L);
    sl_vet_chunk(L);
    sl_bind_env(L); /* the included chunk shares the caller's environment */
    lua_pushinteger(L, depth + 1);
    lua_setfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    base = lua_gettop(L) - 1;
    lua_call(L, 0, LUA_MULTRET);
    lua_pushinteger(L, depth);
    lua_setfield(L, LUA_REGISTRYINDEX, INCLUDE_DEPTH_KEY);
    return lua_gettop(L) - base;
}
