/*
 * plot_gnuplot.c - running gnuplot for `stratsim plot` (see plot.h): PATH
 * lookup, quoting for gnuplot scripts, and the child process.  The script
 * and gnuplot's standard error go through unlinked temporary files (not
 * pipes), so a large script and a chatty gnuplot cannot deadlock; the figure
 * goes to an ss_outfile, committed only when gnuplot exits with status 0
 * and wrote something.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/plot/plot.h"

extern char **environ;

static int is_exec_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* Search PATH for name (which has no '/'); malloc'ed path or NULL. */
static char *search_path(const char *name)
{
    const char *path = getenv("PATH");
    const char *p, *e;
    size_t nlen = strlen(name);
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (p = path;; p = e + 1) {
        size_t dlen;
        char *cand;
        e = strchr(p, ':');
        if (!e)
            e = p + strlen(p);
        dlen = (size_t)(e - p);
        cand = malloc(dlen + nlen + 3);
        if (!cand)
            return NULL;
        if (dlen == 0)
            memcpy(cand, ".", 2); /* an empty PATH element is the current directory */
        else {
            memcpy(cand, p, dlen);
            cand[dlen] = '\0';
        }
        strcat(cand, "/");
        strcat(cand, name);
        if (is_exec_file(cand))
            return cand;
        free(cand);
        if (*e == '\0')
            break;
    }
    return NULL;
}

char *plot_find_gnuplot(void)
{
    const char *env = getenv("STRATSIM_GNUPLOT");
    char *p;
    if (env && *env) {
        if (strchr(env, '/')) {
            if (is_exec_file(env) && (p = strdup(env)) != NULL)
                return p;
        } else if ((p = search_path(env)) != NULL) {
            return p;
        }
        cli_error("STRATSIM_GNUPLOT: '%s' is not an executable program", env);
        return NULL;
    }
    p = search_path("gnuplot");
    if (!p)
        cli_error("gnuplot not found; install gnuplot-nox (scripts/install-deps.sh does)");
    return p;
}

void plot_gp_string(FILE *f, const char *s)
{
    putc('\'', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'')
            fputs("''", f);
        else if (c < 0x20 || c == 0x7f)
            putc(' ', f);
        else
            putc(c, f);
    }
    putc('\'', f);
}

void plot_gp_comment(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        putc(c < 0x20 || c == 0x7f || c == '`' || c == '@' ? '?' : c, f);
    }
}

void plot_gp_number(FILE *f, double x)
{
    char buf[40];
    if (!isfinite(x)) {
        fputs("NaN", f);
        return;
    }
    ss_fmt_double(buf, sizeof buf, x);
    fputs(buf, f);
}

/* Move fd out of 0..2 so dup2 onto 0..2 in the child cannot clobber it. */
static int high_fd(int fd)
{
    int n;
    if (fd > 2)
        return fd;
    n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    return n;
}

/* Print gnuplot's standard error (at most the last 4 KiB), indented. */
static void print_gnuplot_messages(FILE *ef)
{
    char buf[4096];
    long size;
    size_t n, i;
    int bol = 1;
    if (fseek(ef, 0, SEEK_END) != 0 || (size = ftell(ef)) <= 0)
        return;
    if (fseek(ef, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET) != 0)
        return;
    n = fread(buf, 1, sizeof buf - 1, ef);
    buf[n] = '\0';
    /* drop blank lines, indent the others */
    for (i = 0; i < n; i++) {
        char c = buf[i];
        if (bol) {
            size_t j = i;
            while (j < n && (buf[j] == ' ' || buf[j] == '\t' || buf[j] == '\r'))
                j++;
            if (j < n && buf[j] == '\n') {
                i = j;
                continue;
            }
            fputs("  gnuplot: ", stderr);
            bol = 0;
        }
        if (c == '\n')
            bol = 1;
        if (c != '\r')
            putc(c, stderr);
    }
    if (!bol)
        putc('\n', stderr);
}

/* Start `gnuplot -d` with the script (sfd) on standard input, the figure
 * (ofd) as standard output and efd as standard error. 0, or an exit status
 * after printing the error. */
static int spawn_gnuplot(const char *gnuplot, int sfd, int ofd, int efd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    char *argv[3];
    int rc = EXIT_ERROR;

    if (posix_spawn_file_actions_init(&fa) != 0)
        return cli_error("out of memory");
    if (posix_spawn_file_actions_adddup2(&fa, sfd, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, ofd, 1) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, efd, 2) != 0 ||
        posix_spawn_file_actions_addclose(&fa, sfd) != 0 ||
        posix_spawn_file_actions_addclose(&fa, ofd) != 0 ||
        posix_spawn_file_actions_addclose(&fa, efd) != 0) {
        cli_error("out of memory");
        goto done;
    }
    argv[0] = (char *)"gnuplot";
    argv[1] = (char *)"-d"; /* no initialisation files: figures do not depend on ~/.gnuplot */
    argv[2] = NULL;
    fflush(stdout);
    fflush(stderr);
    errno = posix_spawn(pid, gnuplot, &fa, NULL, argv, environ);
    if (errno != 0) {
        cli_error("plot: cannot run %s: %s", gnuplot, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Wait for gnuplot; it must exit with status 0 and have written a figure
 * (ofd). 0, or an exit status after printing the error and gnuplot's
 * messages (ef). */
static int wait_gnuplot(pid_t pid, int ofd, FILE *ef)
{
    struct stat st;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return cli_error("plot: waiting for gnuplot: %s", strerror(errno));
    }
    if (WIFSIGNALED(status))
        cli_error("plot: gnuplot was killed by signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        cli_error("plot: gnuplot failed (exit status %d):", WEXITSTATUS(status));
    else if (fstat(ofd, &st) != 0 || st.st_size == 0)
        cli_error("plot: gnuplot wrote no figure");
    else
        return 0;
    print_gnuplot_messages(ef);
    return EXIT_ERROR;
}

int plot_run_gnuplot(const char *gnuplot, const char *script, size_t len, const char *outpath)
{
    ss_outfile *out = NULL;
    ss_err err = { 0 };
    FILE *sf = NULL, *ef = NULL, *of;
    int sfd = -1, efd = -1, ofd = -1, rc = EXIT_ERROR;
    pid_t pid;

    if (ss_outfile_open(&out, outpath, &err) != SS_OK)
        return cli_error("%s", err.msg);
    of = ss_outfile_stream(out);
    sf = tmpfile();
    ef = tmpfile();
    if (!sf || !ef) {
        cli_error("plot: cannot create a temporary file: %s", strerror(errno));
        goto done;
    }
    if (fwrite(script, 1, len, sf) != len || fflush(sf) != 0 || fflush(of) != 0) {
        cli_error("plot: writing the gnuplot script: %s", strerror(errno));
        goto done;
    }
    rewind(sf);
    sfd = high_fd(fileno(sf));
    efd = high_fd(fileno(ef));
    ofd = high_fd(fileno(of));
    if (sfd < 0 || efd < 0 || ofd < 0 || lseek(sfd, 0, SEEK_SET) != 0) {
        cli_error("plot: %s", strerror(errno));
        goto done;
    }
    if (spawn_gnuplot(gnuplot, sfd, ofd, efd, &pid) != 0 || wait_gnuplot(pid, ofd, ef) != 0)
        goto done;
    if (ofd != fileno(of))
        close(ofd);
    ofd = -1;
    /* the stream has buffered nothing; its file already holds the figure */
    rc = ss_outfile_commit(out, &err) == SS_OK ? EXIT_OK : cli_error("%s", err.msg);
    out = NULL;
done:
    /* descriptors high_fd() duplicated */
    if (sfd >= 0 && sf && sfd != fileno(sf))
        close(sfd);
    if (efd >= 0 && ef && efd != fileno(ef))
        close(efd);
    if (ofd >= 0 && out && ofd != fileno(of))
        close(ofd);
    ss_outfile_abort(out);
    if (sf)
        fclose(sf);
    if (ef)
        fclose(ef);
    return rc;
}
