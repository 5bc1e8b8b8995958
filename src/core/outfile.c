/*
 * outfile.c - atomic replacement of an output file.
 *
 * ss_outfile_open() creates ".<basename>.XXXXXX" with mkstemp() in the
 * directory of the target, so the final rename() stays within one file
 * system, and gives it the permissions a new file would get (0666 & ~umask).
 * The caller writes through the FILE stream.  ss_outfile_commit() flushes,
 * checks the stream's error flag, fsyncs, closes (checked), renames the
 * temporary file over the target and fsyncs the directory; any failure is
 * reported as SS_EIO with a message naming the target and the system error,
 * and the temporary file is removed.  ss_outfile_abort() discards it.  So a
 * failed run never leaves a partial file at the target path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stratsim/io.h"

struct ss_outfile {
    char *path;   /* target */
    char *tmp;    /* temporary file beside it */
    char *dir;    /* directory of both */
    FILE *f;
};

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

int ss_outfile_open(ss_outfile **out, const char *path, ss_err *err)
{
    *out = NULL;
    if (path == NULL || *path == '\0')
        return ss_err_set(err, SS_EIO, "", "empty output file name");

    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return ss_err_set(err, SS_EIO, "", "cannot write '%s': not a file name", path);

    ss_outfile *o = calloc(1, sizeof *o);
    if (o == NULL)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
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
    snprintf(o->tmp, tlen, "%s/.%s.XXXXXX", o->dir, base);

    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", path, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    if (fchmod(fd, 0666 & ~outfile_umask()) != 0) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", path, strerror(e));
        outfile_free(o);
        return SS_EIO;
    }
    o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        int e = errno;
        close(fd);
        unlink(o->tmp);
        ss_err_set(err, SS_EIO, "", "cannot write '%s': %s", path, strerror(e));
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
    if (e != 0) {
        unlink(o->tmp);
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
    unlink(o->tmp);
    outfile_free(o);
}
