/*
 * cmd_repl.c - `stratsim repl [SCENARIO.lua]`: an interactive Lua 5.4 with
 * the stratsim module, modelled on lua.c (v5.4).
 *
 * The loop (read_chunk, run_chunk) is lua.c's: a chunk is first compiled as
 * `return <chunk>` so an expression prints its values; a syntax error whose
 * message ends in "<eof>" means the chunk is incomplete, and more lines are
 * read with the secondary prompt; the whole joined chunk goes into the
 * history. Results are printed by repl_lib.c (tables pretty-printed) through
 * the global print; errors are printed with their traceback and the loop
 * goes on. Line editing, history (~/.stratsim_history or $STRATSIM_HISTORY,
 * written after every entry) and Tab completion use libedit's readline API
 * when built with SS_HAVE_LIBEDIT (make REPL=libedit, the default when
 * pkg-config finds libedit). When stdin is not a terminal it is read as a
 * script with getline(): no prompts, no editing, same printing, so the REPL
 * can be scripted (`echo '1+1' | stratsim repl` prints 2); the exit status
 * is then 1 if any chunk failed.
 *
 * Interruption (docs/robustness.md, lua.c's laction/lstop): while a command
 * runs, SIGINT is caught by on_sigint, which only restores the fatal action
 * (a second Ctrl-C kills the process, after cli_fatal_signal has removed any
 * temporary output file), sets the flag that simulations poll
 * (registry key SL_INTERRUPT) and installs a Lua hook; the hook raises
 * "interrupted!" at the next instruction, and keeps raising until the
 * command has unwound, so a pcall inside the command cannot swallow it.
 * Between commands SIGINT ends the process, as in lua.c (through
 * cli_fatal_signal, which removes temporary output files first).
 *
 * The state comes from ss_script_open() with opts.unsafe: the full standard
 * libraries plus the script layer's deterministic math.random and memory
 * cap. There is no instruction budget: the script layer's count hook is
 * removed after loading and after every command. Every call into Lua goes
 * through sl_pcall(), and the whole loop runs inside one protected call
 * (lua.c's pmain), so a Lua API error (out of memory) never escapes; C
 * memory that lives across Lua calls (line buffers) belongs to the `repl`
 * struct in cmd_repl()'s frame and is freed there.
 * Depends on the Lua layer (src/lua/stratsim_lua.h), repl_lib.c (repl.h) and
 * libedit.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <lauxlib.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "cli/repl/repl.h"
#include "cli/progress.h"
#include "lua/stratsim_lua.h"
#if defined(SS_HAVE_LIBEDIT) /* { */
#include <editline/readline.h>
#endif /* } */

#define PROMPT1 "stratsim> "
#define PROMPT2 ">> "
#define HISTORY_MAX 1000      /* entries kept in the history file */
#define COMPLETIONS_MAX 2000  /* candidates handed to libedit */
#define EOFMARK "<eof>"
#define INCOMPLETE (-2)       /* compile(): the chunk needs more lines */

static const char repl_usage[] =
    "Usage: stratsim repl [SCENARIO.lua] [-e STAT] [-l NAME] [-i] [-v] [--max-memory MIB]\n"
    "\n"
    "Interactive Lua 5.4 with the stratsim module and the full standard\n"
    "libraries (math.random is deterministic). The scenarios the file returns\n"
    "are available as `sc` (the first) and `scenarios` (all of them).\n"
    "Expressions print their values (tables pretty-printed); a statement that\n"
    "is not finished continues on a `>>` prompt; help() lists the API and\n"
    "help(x) documents x.\n"
    "\n"
    "Keys: Tab completes names, fields and methods; Up/Down walk the history;\n"
    "Ctrl-C interrupts a running command; Ctrl-D (or os.exit()) quits.\n"
    "History: ~/.stratsim_history, or the file named by STRATSIM_HISTORY\n"
    "(empty: no history file).\n"
    "\n"
    "When standard input is not a terminal it is read as a script, line by\n"
    "line, with the same printing and no prompts; the exit status is then 1\n"
    "if any chunk failed:  echo 'sc.name' | stratsim repl scenario.lua\n"
    "\n"
    "Options (as the lua program's; -e and -l run in their order, after the\n"
    "file is loaded):\n";

static const cli_opt_spec repl_opts[] = {
    { CLI_OPT_VALUE, "-e", 0, "STAT",
      "run STAT (an expression prints its values, as at the\n"
      "prompt); then quit unless -i is given" },
    { CLI_OPT_VALUE, "-l", 0, "NAME", "require(\"NAME\") into the global NAME (-l g=NAME: into g)" },
    { CLI_OPT_SWITCH, "-i", 0, NULL, "enter the interactive session after -e" },
    { CLI_OPT_SWITCH, "-v", 0, NULL, "print the version; then quit unless -i is given" },
    { CLI_OPT_SWITCH, "--", 0, NULL, "stop handling options (the next argument is the file)" },
    { CLI_OPT_VALUE, "--max-memory", 0, "MIB", "memory limit of the session (default 512)" },
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    /* accepted as by the other verbs, or refused with a reason */
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--unsafe", 0, NULL, NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--params", 0, "FILE.lua", NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--root", 0, "DIR", NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--set", 0, "PATH=VALUE", NULL },
    { CLI_OPT_VALUE | CLI_OPT_HIDDEN, "--max-instructions", 0, "N", NULL },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static const char repl_tail[] =
    "\n"
    "Documentation: docs/repl.md.\n"
#if defined(SS_HAVE_LIBEDIT) /* { */
    "Line editing: libedit.\n";
#else /* }{ */
    "Line editing: none in this build (make REPL=none): no completion, no history.\n";
#endif /* } */

typedef struct repl {
    lua_State *L;
    ss_script *script;
    const char *file;       /* scenario file, or NULL */
    int interactive;        /* stdin is a terminal: prompts and banner */
    int edit;               /* libedit line editing, completion, history */
    int failed;             /* a chunk failed (exit status when scripted) */
    int support_ref;        /* registry ref of repl_lib's function table */
    size_t max_memory;      /* the memory cap, for messages */
    char *buf;              /* getline() buffer */
    size_t cap;
    char *eline;            /* line returned by readline(), until pushed */
    char *histfile;         /* history file, or NULL */
    char *last;             /* last history entry (skip repeats) */
    int hist_warned;
    char **args;            /* -e STAT / -l NAME in command-line order: "eSTAT", "lNAME" */
    size_t nargs;
    int quit_after_args;    /* -e or -v without -i: no session after them */
    int args_failed;        /* an -e or -l failed: exit status 1 */
} repl;

/* The state on_sigint stops: a signal handler has no user data (lua.c's
 * globalL). Set before the handler is installed. */
static lua_State *volatile sigint_L;

/* Set by on_sigint, cleared when a command starts: the flag that C loops
 * poll (scenario:run() and the analyses find it under the registry key
 * SL_INTERRUPT and stop their runs with SS_EINTR). */
static volatile int interrupt_flag;

/* ------------------------------------------------------------ signals */

/* sl_pcall's message handler (set when the session starts): lstop lets
 * it run. */
static lua_CFunction msgh_fn;

static void set_signal(int sig, void (*handler)(int))
{
    struct sigaction sa;
    sa.sa_handler = handler;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* Hook installed by on_sigint: raise "interrupted!" with its traceback. It
 * stays installed (count 1) until docall() removes it, so the error is
 * raised again after any pcall in the command that caught it.
 *
 * The error is a stratsim.Error with code SS_EINTR whose message is the
 * text lua.c prints ("stdin:1: interrupted!" and the traceback, built here
 * as the message handler would), so the session shows what it always did
 * for a Lua loop, while a scenario hook (a policy, a Lua objective) that is
 * interrupted inside an analysis stops its run as an interruption, not as a
 * failed run: the analysis then says how far it got ("montecarlo:
 * interrupted after 7,168 of 200,000 runs"), as on the command line.
 *
 * The call of (and the return from) the message handler is let through: it
 * runs for an error already on its way (an analysis that polled the Ctrl-C
 * flag and stopped with its counted message), which raising there would
 * replace. */
static void lstop(lua_State *L, lua_Debug *ar)
{
    char msg[1000];
    const char *tb;
    size_t n;
    if (ar->event == LUA_HOOKCALL || ar->event == LUA_HOOKRET) {
        int handler;
        lua_getinfo(L, "f", ar);
        handler = msgh_fn && lua_tocfunction(L, -1) == msgh_fn;
        lua_pop(L, 1);
        if (handler)
            return;
    }
    luaL_where(L, 1); /* the position, as luaL_error gives it */
    lua_pushliteral(L, "interrupted!");
    lua_concat(L, 2);
    luaL_traceback(L, L, lua_tostring(L, -1), 0);
    tb = lua_tolstring(L, -1, &n);
    if (n >= sizeof msg) { /* a deep stack: cut the traceback at a line */
        n = sizeof msg - 6;
        while (n > 0 && tb[n] != '\n')
            n--;
        memcpy(msg, tb, n);
        memcpy(msg + n, "\n\t...", 6);
    } else {
        memcpy(msg, tb, n + 1);
    }
    lua_pop(L, 2);
    sl_raise(L, SS_EINTR, "%s", msg);
}

/* SIGINT during a command: a C signal handler cannot touch a Lua state
 * beyond setting a hook (lua.c l.63-80), and a flag for C loops. The fatal
 * action comes back, so a second Ctrl-C (say, during a long computation in C
 * that does not poll the flag) kills the process. */
static void on_sigint(int sig)
{
    int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    set_signal(sig, cli_fatal_signal); /* removes temporary files, then dies */
    interrupt_flag = 1;
    lua_sethook(sigint_L, lstop, flag, 1);
}

/* sl_pcall with Ctrl-C turned into "interrupted!" while it runs. The
 * hook is removed afterwards: the interrupt hook, and the script layer's
 * instruction-budget hook if anything reinstalled it (no budget here). */
static int docall(repl *r, int narg, int nres)
{
    int status;
    sigint_L = r->L;
    interrupt_flag = 0;
    set_signal(SIGINT, on_sigint);
    status = sl_pcall(r->L, narg, nres);
    set_signal(SIGINT, cli_fatal_signal);
    lua_sethook(r->L, NULL, 0, 0);
    return status;
}

/* ------------------------------------------------------------ history */

#if defined(SS_HAVE_LIBEDIT) /* { */

/* ~/.stratsim_history, or $STRATSIM_HISTORY (empty: none). Malloc'ed. */
static char *history_path(void)
{
    const char *e = getenv("STRATSIM_HISTORY"), *home;
    char *p;
    if (e)
        return *e ? strdup(e) : NULL;
    home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    p = malloc(strlen(home) + sizeof "/.stratsim_history");
    if (p)
        sprintf(p, "%s/.stratsim_history", home);
    return p;
}

/* Rewrite the history file (through a temporary file and rename, so that
 * a crash leaves the old file or the new one; mode 0600: it may hold
 * secrets). Complains once if it cannot. */
static void history_write(repl *r)
{
    char *tmp;
    int e = 0;
    if (!r->histfile)
        return;
    tmp = malloc(strlen(r->histfile) + 32);
    if (!tmp)
        return;
    sprintf(tmp, "%s.%ld.tmp", r->histfile, (long)getpid());
    if (write_history(tmp) != 0)
        e = errno ? errno : EIO;
    else if (chmod(tmp, 0600) != 0 || rename(tmp, r->histfile) != 0)
        e = errno;
    if (e) {
        remove(tmp);
        if (!r->hist_warned)
            fprintf(stderr, "stratsim: cannot write the history file %s: %s\n", r->histfile,
                    strerror(e));
        r->hist_warned = 1;
    }
    free(tmp);
}

/* Add the chunk (string at idx) to the history unless blank or a repeat,
 * and save the file, so that nothing is lost if the process is killed. */
static void history_add(repl *r, int idx)
{
    size_t len;
    const char *s = lua_tolstring(r->L, idx, &len);
    char *copy;
    if (!r->edit || !s || len == 0 || strspn(s, " \t\r\n") == len)
        return;
    if (r->last && strcmp(r->last, s) == 0)
        return;
    add_history(s);
    copy = strdup(s);
    free(r->last);
    r->last = copy;
    history_write(r);
}

/* ---------------------------------------------------------- completion */

/* The REPL whose line libedit is editing: readline's completion callback
 * carries no user data. Set only while readline() runs. */
static repl *edit_repl;

/* Run repl_lib's complete(word) (protected); leaves the array of words. */
static int l_complete(lua_State *L)
{
    repl *r = lua_touserdata(L, 1);
    const char *text = lua_touserdata(L, 2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->support_ref);
    lua_getfield(L, -1, "complete");
    lua_pushstring(L, text);
    if (sl_pcall(L, 1, 1) != LUA_OK)
        return lua_error(L);
    return 1;
}

/* Longest common prefix of m[0..n-1] (n >= 1), malloc'ed. */
static char *common_prefix(char *const *m, size_t n)
{
    size_t k = strlen(m[0]), i, j;
    for (i = 1; i < n; i++) {
        for (j = 0; j < k && m[i][j] == m[0][j]; j++)
            ;
        k = j;
    }
    return strndup(m[0], k);
}

/* libedit's rl_attempted_completion_function: the candidates come from
 * repl_lib.c. Returns readline's array: [0] the text to insert (the common
 * prefix), then the matches, then NULL; a single match is given twice, which
 * is how libedit's own completion_matches() marks one (it reads m[2]). */
static char **complete_cb(const char *text, int start, int end)
{
    repl *r = edit_repl;
    lua_State *L;
    char **m = NULL;
    size_t n, i;
    int top;

    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (!r)
        return NULL;
    L = r->L;
    top = lua_gettop(L);
    if (!lua_checkstack(L, 8))
        return NULL;
    lua_pushcfunction(L, l_complete);
    lua_pushlightuserdata(L, r);
    lua_pushlightuserdata(L, (void *)text);
    if (sl_pcall(L, 2, 1) != LUA_OK || !lua_istable(L, -1))
        goto done;
    n = (size_t)lua_rawlen(L, -1);
    if (n == 0)
        goto done;
    if (n > COMPLETIONS_MAX)
        n = COMPLETIONS_MAX;
    m = calloc(n + 2, sizeof *m);
    if (!m)
        goto done;
    for (i = 0; i < n; i++) {
        const char *s;
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        m[i + 1] = strdup(s);
        lua_pop(L, 1);
        if (!m[i + 1])
            goto fail;
    }
    m[0] = n == 1 ? strdup(m[1]) : common_prefix(m + 1, n);
    if (!m[0])
        goto fail;
    if (n == 1) {
        m[2] = NULL; /* [match, match, NULL] */
    }
    goto done;
fail:
    for (i = 0; i < n + 2; i++)
        free(m[i]);
    free(m);
    m = NULL;
done:
    lua_settop(L, top);
    return m;
}

/* Characters that end a word for completion: not '.', ':' or '_', so that
 * "sc:w" or "stratsim.st" is completed as a whole. */
static char word_breaks[] = " \t\n\"\\'`@$><=;|&{(,)}[]+-*/%^~#";

/* Ctrl-L: clear the screen and redraw the prompt and the line. The ANSI
 * sequence works on every terminal in use, also when TERM is unset or
 * "dumb" (libedit's own ed-clear-screen then only starts a new line). */
static int clear_screen(int count, int key)
{
    (void)count;
    (void)key;
    fputs("\033[H\033[2J", stdout);
    fflush(stdout);
    rl_forced_update_display();
    return 0;
}

static void edit_init(repl *r)
{
    rl_readline_name = "stratsim"; /* for "stratsim:" lines in ~/.editrc */
    rl_initialize();
    rl_add_defun("stratsim-clear-screen", clear_screen, '\f');
    rl_basic_word_break_characters = word_breaks;
    rl_completer_word_break_characters = word_breaks;
    rl_attempted_completion_function = complete_cb;
    rl_completion_append_character = '\0';
    stifle_history(HISTORY_MAX);
    if (r->histfile)
        read_history(r->histfile); /* a missing file is fine */
}

#else /* }{ no libedit */

static void history_add(repl *r, int idx)
{
    (void)r;
    (void)idx;
}

#endif /* } */

/* -------------------------------------------------------------- reading */

/* Push the prompt: _PROMPT / _PROMPT2 if they are strings or numbers (read
 * raw: a strict-mode metatable on _G must not break the loop), or ours. */
static const char *push_prompt(lua_State *L, int first)
{
    int t;
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushstring(L, first ? "_PROMPT" : "_PROMPT2");
    t = lua_rawget(L, -2);
    lua_remove(L, -2);
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        return lua_tostring(L, -1);
    lua_pop(L, 1);
    return lua_pushstring(L, first ? PROMPT1 : PROMPT2);
}

/* Read a line (without its newline) into a new string on the stack.
 * Returns 0 at end of input. */
static int push_line(repl *r, int first)
{
    lua_State *L = r->L;
    const char *prompt = r->interactive ? push_prompt(L, first) : NULL;
    const char *line;
    size_t len;

#if defined(SS_HAVE_LIBEDIT) /* { */
    if (r->edit) {
        edit_repl = r;
        r->eline = readline(prompt);
        edit_repl = NULL;
        if (prompt)
            lua_pop(L, 1);
        if (!r->eline)
            return 0;
        line = r->eline;
        len = strlen(line);
    } else
#endif /* } */
    {
        ssize_t n;
        if (prompt) {
            fputs(prompt, stdout);
            fflush(stdout);
            lua_pop(L, 1);
        }
        n = getline(&r->buf, &r->cap, stdin);
        if (n < 0)
            return 0;
        line = r->buf;
        len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            len--;
    }
    lua_pushlstring(L, line, len);
#if defined(SS_HAVE_LIBEDIT) /* { */
    free(r->eline);
    r->eline = NULL;
#endif /* } */
    return 1;
}

/* Feeds lua_load a chunk in up to three pieces without copying them. */
typedef struct src_reader {
    const char *part[3];
    size_t len[3];
    int i;
} src_reader;

static const char *src_read(lua_State *L, void *ud, size_t *size)
{
    src_reader *rd = ud;
    (void)L;
    while (rd->i < 3) {
        int i = rd->i++;
        if (rd->len[i] > 0) {
            *size = rd->len[i];
            return rd->part[i];
        }
    }
    *size = 0;
    return NULL;
}

/* Name of the chunks compile() makes: "=stdin", "=(command line)" for -e. */
static const char *chunk_name = "=stdin";

static int l_vet(lua_State *L)
{
    sl_vet_chunk(L);
    return 1;
}

static int load_pieces(lua_State *L, const char *pre, const char *s, size_t len, const char *post)
{
    src_reader rd;
    int status;
    rd.part[0] = pre;
    rd.len[0] = strlen(pre);
    rd.part[1] = s;
    rd.len[1] = len;
    rd.part[2] = post;
    rd.len[2] = strlen(post);
    rd.i = 0;
    status = lua_load(L, src_read, &rd, chunk_name, "t");
    if (status != LUA_OK)
        return status;
    /* the Lua 5.4.4 code-generation guards, as for files */
    lua_pushcfunction(L, l_vet);
    lua_insert(L, -2);
    status = lua_pcall(L, 1, 1, 0);
    if (status != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        lua_getfield(L, -1, "msg"); /* a stratsim.Error */
        lua_remove(L, -2);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_pushliteral(L, "cannot compile the input");
        }
    }
    return status;
}

/* 1 if the error message on top of the stack says the text ended too
 * early ("... near <eof>"). */
static int at_eof(lua_State *L)
{
    size_t lmsg, lmark = sizeof EOFMARK - 1;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    return msg && lmsg >= lmark && memcmp(msg + lmsg - lmark, EOFMARK, lmark) == 0;
}

/* Compile the chunk (the string at idx): first as `return <chunk>` so an
 * expression prints its values (the newline keeps a trailing comment from
 * hiding the ';'), then as statements. Pushes the function or the error
 * message; returns LUA_OK, an error status, or INCOMPLETE when the text
 * stops early as statements or, unlike lua.c, as an expression (so that
 * `{1,` or `1 +` continue on the next line). */
static int compile(lua_State *L, int idx)
{
    size_t len;
    const char *chunk = lua_tolstring(L, idx, &len);
    int status;

    if (load_pieces(L, "return ", chunk, len, "\n;") == LUA_OK)
        return LUA_OK;
    lua_pop(L, 1);
    status = load_pieces(L, "", chunk, len, "");
    if (status != LUA_ERRSYNTAX)
        return status;
    if (at_eof(L))
        return INCOMPLETE;
    switch (load_pieces(L, "return ", chunk, len, "")) {
    case LUA_OK:            /* an expression with its own ';' */
        lua_remove(L, -2);
        return LUA_OK;
    case LUA_ERRSYNTAX:
        if (at_eof(L)) {
            lua_remove(L, -2);
            return INCOMPLETE;
        }
        break;
    default:
        break;
    }
    lua_pop(L, 1); /* keep the statement's message */
    return status;
}

/* Read and compile one chunk (lua.c's loadline + multiline): leaves the
 * function or the error message on an otherwise empty stack. Returns its
 * status, or -1 at the end of input. End of input inside an incomplete
 * chunk reports its syntax error. */
static int read_chunk(repl *r)
{
    lua_State *L = r->L;
    int status;

    lua_settop(L, 0);
    if (!push_line(r, 1))
        return -1;
    for (;;) {
        status = compile(L, 1);
        if (status != INCOMPLETE)
            break;
        if (!push_line(r, 0)) {
            status = LUA_ERRSYNTAX;
            break;
        }
        lua_remove(L, 2);           /* the "<eof>" message */
        lua_pushliteral(L, "\n");   /* chunk, line, "\n" */
        lua_insert(L, 2);           /* chunk, "\n", line */
        lua_concat(L, 3);
    }
    history_add(r, 1);
    lua_remove(L, 1);
    return status;
}

/* ------------------------------------------------------ running, output */

/* Run the function on the stack and print its results (through repl_lib's
 * show, which calls the global print). */
static int run_chunk(repl *r)
{
    lua_State *L = r->L;
    int base = lua_gettop(L), status, n;

    status = docall(r, 0, LUA_MULTRET);
    if (status != LUA_OK)
        return status;
    n = lua_gettop(L) - base + 1;
    if (n <= 0)
        return LUA_OK;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->support_ref);
    lua_getfield(L, -1, "show");
    lua_remove(L, -2);
    lua_insert(L, base);
    return docall(r, n, 0);
}

/* luaL_tolstring in a protected call: a __tostring may raise. */
static int l_tostring(lua_State *L)
{
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* Print the error on top of the stack (popped) to stderr. The message
 * handler of sl_pcall has made it a string with a traceback, except for
 * stratsim.Error objects (their __tostring gives the message) and memory
 * errors (Lua skips the handler for those). No allocation for the latter. */
static void report(repl *r, int status)
{
    lua_State *L = r->L;
    const char *msg = NULL;
    size_t len = 0;

    r->failed = 1;
    fflush(stdout);
    if (status == LUA_ERRMEM) {
        fprintf(stderr, "not enough memory (this session may use %zu MiB; see --max-memory)\n",
                r->max_memory >> 20);
        fflush(stderr);
        lua_pop(L, 1);
        return;
    }
    if (lua_type(L, -1) == LUA_TSTRING) {
        msg = lua_tolstring(L, -1, &len);
    } else if (lua_checkstack(L, 3)) {
        lua_pushcfunction(L, l_tostring);
        lua_pushvalue(L, -2);
        if (sl_pcall(L, 1, 1) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
            lua_replace(L, -2);
            msg = lua_tolstring(L, -1, &len);
        } else {
            lua_pop(L, 1);
        }
    }
    if (msg)
        fwrite(msg, 1, len, stderr);
    else
        fprintf(stderr, "(error object is a %s value)", luaL_typename(L, -1));
    fputc('\n', stderr);
    fflush(stderr);
    lua_pop(L, 1);
}

/* Globals `sc` (the first scenario of the file) and `scenarios` (all). */
static void set_scenarios(repl *r)
{
    lua_State *L = r->L;
    size_t n = ss_script_count(r->script), i;
    if (n == 0)
        return;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
        if (ss_script_push_scenario(r->script, i) != 0)
            luaL_error(L, "cannot reach scenario %d", (int)i + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawgeti(L, -1, 1);
    lua_setglobal(L, "sc");
    lua_setglobal(L, "scenarios");
}

static void banner(repl *r)
{
    size_t n = ss_script_count(r->script);
    printf("stratsim %s (%s): help() lists the API%s, Ctrl-D quits.\n", ss_version(),
           LUA_RELEASE, r->edit ? ", Tab completes" : "");
    if (n > 0)
        printf("sc = scenario '%s' from %s%s\n", ss_script_model(r->script, 0)->name, r->file,
               n > 1 ? "; all of them in `scenarios`" : "");
    else if (r->file)
        printf("ran %s (it returned no scenario: no `sc`)\n", r->file);
    fflush(stdout);
}

/* -e STAT: compiled and run like an entry at the prompt. */
static int run_stat(repl *r, const char *stat)
{
    lua_State *L = r->L;
    int status;
    lua_settop(L, 0);
    lua_pushstring(L, stat);
    chunk_name = "=(command line)";
    status = compile(L, 1);
    chunk_name = "=stdin";
    if (status == INCOMPLETE)
        status = LUA_ERRSYNTAX;
    lua_remove(L, 1);
    if (status == LUA_OK)
        status = run_chunk(r);
    return status;
}

/* -l [g=]NAME: require(NAME) into the global g (default NAME), as lua.c. */
static int run_require(repl *r, const char *arg)
{
    lua_State *L = r->L;
    const char *eq = strchr(arg, '='), *mod = eq ? eq + 1 : arg;
    int status;
    lua_settop(L, 0);
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    status = docall(r, 1, 1);
    if (status == LUA_OK) {
        if (eq)
            lua_pushlstring(L, arg, (size_t)(eq - arg));
        else
            lua_pushstring(L, arg);
        lua_insert(L, -2);
        lua_setglobal(L, lua_tostring(L, -2));
    }
    return status;
}

/* The -e and -l arguments in order; stops at the first failure. */
static int run_args(repl *r)
{
    size_t i;
    for (i = 0; i < r->nargs; i++) {
        const char *a = r->args[i];
        int status = a[0] == 'e' ? run_stat(r, a + 1) : run_require(r, a + 1);
        if (status != LUA_OK) {
            report(r, status);
            return 0;
        }
    }
    lua_settop(r->L, 0);
    return 1;
}

/* The session, in protected mode (lua.c's pmain). Arg 1: the repl. */
static int l_repl_main(lua_State *L)
{
    repl *r = lua_touserdata(L, 1);
    int status;

    lua_settop(L, 0);
    /* print to standard output, without the script layer's cap: the script
     * layer's print writes to stderr so that `stratsim run` keeps stdout for
     * its tables, but here stdout is the conversation */
    sl_push_print(L, stdout, 0);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, cli_repl_open_support);
    if (sl_pcall(L, 0, 1) != LUA_OK)
        return lua_error(L);
    r->support_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, (void *)&interrupt_flag);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_INTERRUPT);
    sl_push_msgh(L);
    msgh_fn = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    cli_progress_lua_install(L); /* a progress bar for sc:montecarlo{} ... */
    set_scenarios(r);
    if (!run_args(r)) {
        r->args_failed = 1;
        return 0;
    }
    if (r->quit_after_args)
        return 0;
    if (r->interactive)
        banner(r);
#if defined(SS_HAVE_LIBEDIT) /* { */
    if (r->edit)
        edit_init(r);
#endif /* } */
    while ((status = read_chunk(r)) != -1) {
        if (status == LUA_OK)
            status = run_chunk(r);
        if (status != LUA_OK)
            report(r, status);
    }
    lua_settop(L, 0);
    if (r->interactive) {
        fputc('\n', stdout);
        fflush(stdout);
    }
    return 0;
}

/* ---------------------------------------------------------- the command */

#define GO_ON (-1) /* parse_args, apply_option: no exit status yet, go on */

/* -e STAT or -l NAME: kept as "eSTAT" or "lNAME" in r->args, in order; -e
 * quits after the arguments unless -i came before. */
static int add_arg(repl *r, const cli_opt_spec *o, int st, const char *a)
{
    char *v;
    if (st == CLI_OPT_MISSING)
        return cli_usage_error("repl", "%s needs an argument (%s)", o->name,
                               o->name[1] == 'e' ? "a Lua statement" : "a module name");
    if (!(v = malloc(strlen(a) + 2)))
        return cli_error("out of memory");
    v[0] = o->name[1];
    strcpy(v + 1, a);
    r->args[r->nargs++] = v;
    if (o->name[1] == 'e')
        r->quit_after_args = r->quit_after_args >= 0 ? 1 : -1;
    return GO_ON;
}

/* An option other than "--": -e, -l, -i, -v (*show_version), --help
 * (printed here), the refused --set, --params and --max-instructions, and the
 * common options into c. Returns GO_ON, or the exit status when the
 * command ends here. */
static int apply_option(repl *r, cli_common *c, const cli_opt_spec *o, int st, const char *a,
                        int *show_version)
{
    if (cli_opt_is(o, "-e") || cli_opt_is(o, "-l"))
        return add_arg(r, o, st, a);
    if (cli_opt_is(o, "-i")) {
        r->quit_after_args = -1; /* never quit after the arguments */
    } else if (cli_opt_is(o, "-v")) {
        *show_version = 1;
        if (r->quit_after_args >= 0)
            r->quit_after_args = 1;
    } else if (cli_opt_is(o, "--help")) {
        fputs(repl_usage, stdout);
        cli_opt_help(stdout, repl_opts, 21);
        fputs(repl_tail, stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
    } else if (cli_opt_is(o, "--set") || cli_opt_is(o, "--params")) {
        return cli_usage_error("repl", "%s is not available here: derive variants "
                               "with sc:with{...}", o->name);
    } else if (cli_opt_is(o, "--max-instructions")) {
        return cli_usage_error("repl", "the REPL has no instruction limit "
                               "(Ctrl-C interrupts a running command)");
    } else if (cli_common_apply(c, "repl", o->name, a) < 0) {
        return EXIT_USAGE;
    }
    return GO_ON;
}

/* The command line into r and c: the scenario file (one, also after
 * "--"), the options (apply_option); *show_version for -v. Returns GO_ON,
 * or the exit status when the command ends here. */
static int parse_args(repl *r, cli_common *c, int argc, char **argv, int *show_version)
{
    cli_opt_parser p;
    const cli_opt_spec *o;
    const char *a;
    int st, rc;
    cli_opt_parser_init(&p, repl_opts, argc, argv);
    while ((st = cli_opt_next(&p, &o, &a)) != CLI_OPT_DONE) {
        if (st == CLI_OPT_UNKNOWN)
            return cli_opt_unknown("repl", a, repl_opts);
        if (st == CLI_OPT_ARG) {
            if (r->file)
                return cli_usage_error("repl", "only one scenario file (got '%s' and '%s')",
                                       r->file, a);
            r->file = a;
            continue;
        }
        if (cli_opt_is(o, "--")) {
            if (p.i < argc) {
                if (r->file || p.i + 1 < argc)
                    return cli_usage_error("repl", "only one scenario file after --");
                r->file = argv[p.i];
            }
            break;
        }
        if ((rc = apply_option(r, c, o, st, a, show_version)) != GO_ON)
            return rc;
    }
    return GO_ON;
}

/* Before the session: the version (-v), the mode (a terminal, line
 * editing), the Lua state (full libraries, memory cap, no instruction
 * budget) and the scenario file loaded in it, Ctrl-C interrupting the
 * load; the history file. Returns the exit status so far. */
static int open_session(repl *r, const cli_common *c, int show_version)
{
    ss_script_opts so = SS_SCRIPT_OPTS_INIT;
    ss_err err = { 0 };
    int status;
    if (r->quit_after_args < 0)
        r->quit_after_args = 0;
    if (show_version) {
        printf("stratsim %s (%s)\n", ss_version(), LUA_RELEASE);
        fflush(stdout);
    }
    r->interactive = isatty(STDIN_FILENO);
#if defined(SS_HAVE_LIBEDIT) /* { */
    r->edit = r->interactive && !r->quit_after_args;
#endif /* } */
    r->max_memory = c->max_memory ? c->max_memory : SS_SCRIPT_DEFAULT_MEMORY;
    so.unsafe = 1;
    so.root = c->root ? c->root : "/"; /* the REPL reads any file (it has io) unless --root */
    so.max_memory = c->max_memory;
    so.max_instructions = ULLONG_MAX; /* no budget: Ctrl-C instead */
    if (ss_script_open(&r->script, &so, &err) != SS_OK)
        return cli_error("%s", err.msg[0] ? err.msg : "cannot create the Lua state");
    r->L = ss_script_state(r->script);
    if (r->file) {
        sigint_L = r->L;
        set_signal(SIGINT, on_sigint);
        status = ss_script_load(r->script, r->file, NULL, 0, &err);
        set_signal(SIGINT, cli_fatal_signal);
        if (status != SS_OK)
            return cli_error("%s", err.msg);
    }
    lua_sethook(r->L, NULL, 0, 0); /* the script layer's budget: not here */
#if defined(SS_HAVE_LIBEDIT) /* { */
    if (r->edit)
        r->histfile = history_path();
#endif /* } */
    return EXIT_OK;
}

/* The session in protected mode (l_repl_main), then the history file
 * written. Returns the exit status: 1 for an error that ended the
 * session, a failed -e or -l, or (scripted) a failed chunk. */
static int run_session(repl *r)
{
    int rc = EXIT_OK, status;
    lua_pushcfunction(r->L, l_repl_main);
    lua_pushlightuserdata(r->L, r);
    status = sl_pcall(r->L, 1, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(r->L, -1);
        rc = cli_error("repl: %s", status == LUA_ERRMEM ? "not enough memory"
                                   : msg ? msg : "unexpected error");
        lua_pop(r->L, 1);
    } else if (r->args_failed || (!r->interactive && r->failed && !r->quit_after_args)) {
        rc = EXIT_ERROR;
    }
#if defined(SS_HAVE_LIBEDIT) /* { */
    if (r->edit)
        history_write(r);
#endif /* } */
    return rc;
}

int cmd_repl(int argc, char **argv)
{
    cli_common c = { 0 };
    repl r;
    int rc, show_version = 0;

    memset(&r, 0, sizeof r);
    r.support_ref = LUA_NOREF;
    if (!(r.args = calloc((size_t)argc, sizeof *r.args))) {
        cli_common_free(&c);
        return cli_error("out of memory");
    }
    rc = parse_args(&r, &c, argc, argv, &show_version);
    if (rc == GO_ON) {
        rc = open_session(&r, &c, show_version);
        if (rc == EXIT_OK)
            rc = run_session(&r);
        if (rc == EXIT_OK) /* what was printed reached standard output (not a full disk) */
            rc = cli_flush_stdout();
        ss_script_close(r.script);
        free(r.buf);
        free(r.eline);
        free(r.histfile);
        free(r.last);
    }
    while (r.nargs > 0)
        free(r.args[--r.nargs]);
    free(r.args);
    cli_common_free(&c);
    return rc;
}
