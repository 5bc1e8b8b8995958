/*
 * outfile.c - atomic replacement of an output file.
 *
 * ss_outfile_open() creates ".<basename>.<six random characters>" with mkstemp() in the
 * directory of the target, so the final rename() stays within one file
 * system, and gives it the permissions a new file would get (0666 & ~umask).
 * The caller writes through the FILE stream.  ss_outfile_commit() flushes,
 * checks the stream's error flag, fsyncs, closes (checked), renames the
 * temporary file over the target and fsyncs the directory; any failure is
 * reported as SS_EIO with a message naming the target and the system error,
 * and the temporary file is removed.  ss_outfile_abort() discards it.  So a
 * failed run never leaves a partial file at the target path.
 * A symbolic link as the target is followed: the file it points to is
 * replaced, the link stays. A target that exists and is not a regular file
 * (a character device such as /dev/null or /dev/full, a FIFO, a terminal)
 * cannot be replaced, and must never be (as root, renaming over /dev/full
 * would swap the device node for a file): it is opened and written directly,
 * with every write, the flush and the close checked; a directory is an
 * error. A name of one of the process's own open streams (/dev/stdout,
 * /dev/stderr, /dev/fd/N, /proc/self/fd/N: ss_outfile_is_stream) is written
 * in place too, appending, whatever it is redirected to: replacing the file
 * behind a redirection (`-o /dev/stdout > out.csv`) would cut it from the
 * shell's descriptor, and `>>` must append.
 * Every temporary file is listed, from its creation (signals blocked
 * around mkstemp and the listing) until it is renamed or removed, in a
 * fixed table that ss_outfile_remove_temporaries() walks with nothing but
 * unlink(): a program's fatal-signal handler calls it so that Ctrl-C or
 * kill leaves no temporary file behind (the CLI does, cli/cleanup.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stratsim/io.h"

/* The six-character suffix mkstemp() requires and replaces. */

struct ss_outfile {
    char *path;   /* target */
    char *tmp;    /* temporary file beside it (NULL when direct) */
    char *dir;    /* directory of both (NULL when direct) */
    FILE *f;
    int direct;   /* writing straight into a device or FIFO */
    int slot;     /* index in live[], or -1 */
};

/* The temporary files that exist now, for ss_outfile_remove_temporaries()
 * (a signal handler): a slot is claimed (FREE -> BUSY), filled, then made
 * LIVE; the handler reads only LIVE slots. More than OUTFILE_SLOTS open at
 * once (never the case in stratsim) are written as before but not listed. */
#define OUTFILE_SLOTS 64
enum { SLOT_FREE = 0, SLOT_BUSY, SLOT_LIVE };
static struct {
    int state;
    char path[PATH_MAX];
} live[OUTFILE_SLOTS];

static int live_add(const char *tmp)
{
    size_t len = strlen(tmp);
    int i;
    if (len >= PATH_MAX)
        return -1;
    for (i = 0; i < OUTFILE_SLOTS; i++) {
        int expect = SLOT_FREE;
        if (__atomic_compare_exchange_n(&live[i].state, &expect, SLOT_BUSY, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            memcpy(live[i].path, tmp, len + 1);
            __atomic_store_n(&live[i].state, SLOT_LIVE, __ATOMIC_RELEASE);
            return i;
        }
    }
    return -1;
}

static void live_remove(ss_outfile *o)
{
    if (o->slot >= 0)
        __atomic_store_n(&live[o->slot].state, SLOT_FREE, __ATOMIC_RELEASE);
    o->slot = -1;
}

int ss_outfile_track(const char *path)
{
    return path ? live_add(path) : -1;
}

void ss_outfile_untrack(int handle)
{
    if (handle >= 0 && handle < OUTFILE_SLOTS)
        __atomic_store_n(&live[handle].state, SLOT_FREE, __ATOMIC_RELEASE);
}

void ss_outfile_remove_temporaries(void)
{
    int i;
    for (i = 0; i < OUTFILE_SLOTS; i++)
        if (__atomic_load_n(&live[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE)
            unlink(live[i].path);
}

/* The process umask, read without changing it where possible (Linux
 * /proc/self/status), else by the classic set-and-restore. */
static mode_t outfile_umask(void)
{
    FILE *st = fopen("/proc/self/status", "r");
    if (st != NULL) {
        char line[256];
        while (fgets(line, sizeof line, st) != NULL) {
            if (strncmp(line, "Umask:", 6) == 0) {
                char *end;
                unsigned long v = strtoul(line + 6, &end, 8);
                fclose(st);
                if (end != line + 6)
                    return (mode_t)(v & 0777);
                st = NULL;
                break;
            }
        }
        if (st != NULL)
            fclose(st);
    }
    mode_t m = umask(022);
    umask(m);
    return m;
}

static void outfile_free(ss_outfile *o)
{
    if (o == NULL)
        return;
    free(o->path);
    free(o->tmp);
    free(o->dir);
    free(o);
}

int ss_outfile_is_stream(const char *path)
{
    return path && (strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/stderr") == 0 ||
                    strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0);
}

/* The target is an existing non-regular file or a stream of the process:
 * write it in place (appending to a stream). */
static int outfile_open_direct(ss_outfile **out, const char *path, const char *shown, ss_err *err)
{
    ss_outfile *o = calloc(1, sizeof *o);
    if (o == NULL || (o->path = strdup(shown)) == NULL) {
        free(o);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    o->direct = 1;
    o->slot = -1;
    o->f = fopen(path, ss_outfile_is_stream(shown) ? "a" : "w");
    if (o->f == NULL) {
        int e = errno;
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", shown, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    *out = o;
    return SS_OK;
}

static int outfile_open_at(ss_outfile **out, const char *path, const char *shown, ss_err *err);

int ss_outfile_open(ss_outfile **out, const char *path, ss_err *err)
{
    struct stat st;
    *out = NULL;
    if (path == NULL || *path == '\0')
        return ss_err_set(err, SS_EIO, "", "empty output file name");
    if (ss_outfile_is_stream(path))
        return outfile_open_direct(out, path, path, err);
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* replace what the link points to, not the link */
        char *real = realpath(path, NULL);
        int rc;
        if (real == NULL) /* dangling: create the file through the link */
            return outfile_open_direct(out, path, path, err);
        rc = outfile_open_at(out, real, path, err);
        free(real);
        return rc;
    }
    return outfile_open_at(out, path, path, err);
}

/* Open a temporary file beside `path` (already free of symbolic links in
 * its last component); messages name `shown`, the path the user gave. */
static int outfile_open_at(ss_outfile **out, const char *path, const char *shown, ss_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return ss_err_set(err, SS_EIO, "", "cannot write '%s': Is a directory", shown);
        return outfile_open_direct(out, path, shown, err);
    }

    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return ss_err_set(err, SS_EIO, "", "cannot write '%s': not a file name", shown);

    ss_outfile *o = calloc(1, sizeof *o);
    if (o == NULL)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    o->slot = -1;
    size_t dlen = slash ? (size_t)(slash - path) : 1;
    if (slash == path)
        dlen = 1; /* "/name": the root directory */
    o->path = strdup(path);
    o->dir = malloc(dlen + 1);
    size_t tlen = dlen + strlen(base) + 16;
    o->tmp = malloc(tlen);
    if (o->path == NULL || o->dir == NULL || o->tmp == NULL) {
        outfile_free(o);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    if (slash) {
        memcpy(o->dir, path, dlen);
        o->dir[dlen] = '\0';
    } else {
        strcpy(o->dir, ".");
    }
    /* mkstemp() template: the name followed by six 'X' it replaces */
    snprintf(o->tmp, tlen, "%s/.%s.%s", o->dir, base, SS_MKSTEMP_SUFFIX);

    /* no signal between creating the file and listing it */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int fd = mkstemp(o->tmp);
    if (fd >= 0)
        o->slot = live_add(o->tmp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        int e = errno;
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", shown, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    if (fchmod(fd, 0666 & ~outfile_umask()) != 0 || (o->f = fdopen(fd, "w")) == NULL) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        live_remove(o);
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", shown, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    *out = o;
    return SS_OK;
}

FILE *ss_outfile_stream(ss_outfile *o)
{
    return o ? o->f : NULL;
}

/* Fsync the directory after the rename. File systems that cannot sync a
 * directory (EINVAL, ENOTSUP) and directories we may not open are skipped:
 * the rename itself has already happened. */
static int outfile_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS)
        rc = errno;
    close(fd);
    return rc;
}

int ss_outfile_commit(ss_outfile *o, ss_err *err)
{
    if (o == NULL)
        return ss_err_set(err, SS_EIO, "", "no output file");

    int e = 0;
    const char *what = "cannot write";
    errno = 0;
    if (o->direct) {
        /* a device or FIFO: nothing to sync or rename, but every error counts */
        if (fflush(o->f) == EOF || ferror(o->f))
            e = errno ? errno : EIO;
        if (fclose(o->f) != 0 && e == 0)
            e = errno ? errno : EIO;
        o->f = NULL;
        if (e != 0)
            ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", o->path, strerror(e));
        outfile_free(o);
        return e != 0 ? SS_EIO : SS_OK;
    }
    if (fflush(o->f) == EOF)
        e = errno ? errno : EIO;
    else if (ferror(o->f))
        e = errno ? errno : EIO;
    else if (fsync(fileno(o->f)) != 0)
        e = errno;
    if (fclose(o->f) != 0 && e == 0)
        e = errno ? errno : EIO;
    o->f = NULL;
    if (e == 0 && rename(o->tmp, o->path) != 0) {
        e = errno;
        what = "cannot replace";
    }
    if (e != 0)
        unlink(o->tmp);
    live_remove(o); /* renamed or removed: nothing left to clean up */
    if (e != 0) {
        ss_err_set(err, SS_EIO, "", "%s '%s': %s", what, o->path, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    e = outfile_sync_dir(o->dir);
    if (e != 0) {
        ss_err_set(err, SS_EIO, "", "wrote '%s' but could not sync its directory: %s",
                   o->path, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    outfile_free(o);
    return SS_OK;
}

void ss_outfile_abort(ss_outfile *o)
{
    if (o == NULL)
        return;
    if (o->f != NULL)
        fclose(o->f);
    if (!o->direct)
        unlink(o->tmp);
    live_remove(o);
    outfile_free(o);
}
