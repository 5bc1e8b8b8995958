/*
 * progress.c - the progress bar on stderr (see progress.h): a bar, the
 * share done, the count and an ETA; or, when the total is not known, the
 * count and the time so far. Nothing unless stderr is a terminal and the
 * job has run for a second.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lua.h>
#include <lauxlib.h>
#include "cli/progress.h"
#include "lua/ss_analysis.h"

#define BAR_WIDTH 30

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, const char *label, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->t0 = now_seconds();
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->unit = unit ? unit : "runs";
}

/* "12s", "3m05s", "2h07m" */
static const char *duration(char *buf, size_t n, double s)
{
    long t = (long)(s + 0.5);
    if (t < 60)
        snprintf(buf, n, "%lds", t);
    else if (t < 3600)
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    return buf;
}

void cli_progress_update(uint64_t done, uint64_t total, void *payload)
{
    cli_progress *p = payload;
    double t, el;
    char a[32], b[32], d[32];
    if (!p)
        return;
    p->done = done;
    p->total = total;
    if (!p->tty)
        return;
    t = now_seconds();
    el = t - p->t0;
    if (el < 1.0 || (p->drawn && t - p->last < 0.1 && !(total && done >= total)))
        return;
    fprintf(stderr, "\r%s%s", p->label, *p->label ? " " : "");
    if (total > 0) {
        double frac = done >= total ? 1.0 : (double)done / (double)total;
        int i, fill = (int)(frac * BAR_WIDTH);
        fputc('[', stderr);
        for (i = 0; i < BAR_WIDTH; i++)
            fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %3d%% %s/%s %s", (int)(frac * 100), ss_fmt_count(a, sizeof a, done),
                ss_fmt_count(b, sizeof b, total), p->unit);
        if (done > 0 && done < total)
            fprintf(stderr, " ETA %s", duration(d, sizeof d, el * (1 - frac) / frac));
    } else {
        fprintf(stderr, "%s %s, %s", ss_fmt_count(a, sizeof a, done), p->unit,
                duration(d, sizeof d, el));
    }
    fputs("\033[K", stderr); /* clear the rest of the line */
    fflush(stderr);
    p->drawn = 1;
    p->last = t;
}

ss_progress cli_progress_hook(cli_progress *p)
{
    ss_progress h;
    h.fn = cli_progress_update;
    h.payload = p;
    return h;
}

void cli_progress_end(cli_progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->drawn = 0;
    }
}

const char *cli_progress_interrupted(const cli_progress *p, char *buf, size_t size)
{
    char a[32], b[32];
    /* "1 run", "2 runs": the unit agrees with the number before it */
    int one = (p->total ? p->total : p->done) == 1;
    int ulen = (int)strlen(p->unit) - one;
    if (p->total > 0)
        snprintf(buf, size, "interrupted after %s of %s %.*s", ss_fmt_count(a, sizeof a, p->done),
                 ss_fmt_count(b, sizeof b, p->total), ulen, p->unit);
    else
        snprintf(buf, size, "interrupted after %s %.*s", ss_fmt_count(a, sizeof a, p->done), ulen,
                 p->unit);
    return buf;
}

/* ------------------------------------------- the display of Lua analyses */

static cli_progress lua_bar;

static void lua_begin(void *payload, const char *label, const char *unit)
{
    cli_progress_init(payload, label, unit);
}

static void lua_end(void *payload)
{
    cli_progress_end(payload);
}

static sl_progress lua_hook = { lua_begin, cli_progress_update, lua_end, &lua_bar };

void cli_progress_lua_install(struct lua_State *L)
{
    lua_pushlightuserdata(L, &lua_hook);
    lua_setfield(L, LUA_REGISTRYINDEX, SL_PROGRESS);
}
