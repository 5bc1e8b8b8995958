/*
 * outguard.c - refuse outputs that would destroy inputs or each other:
 * `run s.lua -o s.lua`, -o onto a --params file or an included file,
 * `calibrate --data d.csv -o d.csv`, `--per-run pr.csv -o ./pr.csv`, an
 * output that is another output's JSON sidecar, ... Files are compared by
 * what they are, not by how they are spelt: an existing file by device and
 * inode (so ./x, x, a hard link and a symbolic link to x are all x), a file
 * still to be created by the device and inode of its directory and its
 * name. Each output that gets a sidecar is compared with its would-be
 * sidecar PATH.json as well. Standard output ("-") and targets written in
 * place (devices, FIFOs: /dev/null, /dev/stdout) are never replaced, so
 * they are not compared. The check runs once all inputs are known (after
 * the scenario file has been loaded, for its includes) and before anything
 * is written; a clash is a usage error (exit 2) naming both files.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/cli.h"
#include "lua/stratsim_lua.h"

void cli_io_add(cli_iolist *l, const char *path, const char *role, int output, int sidecar)
{
    cli_io *nv;
    if (!path || l->oom)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 8;
        if (!(nv = realloc(l->v, nc * sizeof *nv))) {
            l->oom = 1;
            return;
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n].path = path;
    l->v[l->n].owned = NULL;
    l->v[l->n].role = role;
    l->v[l->n].output = output;
    l->v[l->n].sidecar = sidecar;
    l->n++;
}

void cli_io_add_inputs(cli_iolist *l, const cli_common *c, cli_loaded *ld, const char *file)
{
    size_t i, n = 0;
    char **files = NULL;
    ss_err err = { 0 };
    for (i = 0; c && i < c->nparams_files; i++)
        cli_io_add(l, c->params_files[i], "the --params file", 0, 0);
    if (file)
        cli_io_add(l, file, "the scenario file", 0, 0);
    if (!ld)
        return;
    if (ss_script_files(cli_loaded_script(ld), &files, &n, &err) != SS_OK) {
        l->oom = 1;
        return;
    }
    for (i = 0; i < n; i++) {
        size_t before = l->n;
        size_t len = strlen(files[i]);
        const char *role = file && strcmp(files[i], file) == 0 ? "the scenario file"
                         : len > 4 && strcmp(files[i] + len - 4, ".csv") == 0 ? "the series file"
                         : "the included file";
        cli_io_add(l, files[i], role, 0, 0);
        if (l->n > before)
            l->v[before].owned = files[i];
        else
            free(files[i]);
    }
    free(files);
}

/* What a path names: nothing to compare, an existing file, or a name to
 * be created in a directory. */
typedef struct fid {
    enum { FID_NONE, FID_FILE, FID_NEW } kind;
    dev_t dev;
    ino_t ino;
    char *name; /* FID_NEW: the last component (owned) */
} fid;

/* The identity of `path` (following symbolic links, dangling ones to where
 * the file would be created, as the output writer does). */
static void file_id(const char *path, fid *out)
{
    char *p = strdup(path);
    int hops;
    struct stat st;
    memset(out, 0, sizeof *out);
    out->kind = FID_NONE;
    for (hops = 0; p && hops < 40; hops++) {
        char *slash, *dir, *link;
        ssize_t len;
        if (stat(p, &st) == 0) {
            if (S_ISREG(st.st_mode)) {
                out->kind = FID_FILE;
                out->dev = st.st_dev;
                out->ino = st.st_ino;
            }
            break; /* devices, FIFOs, directories: not compared */
        }
        if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
            /* dangling link: the file is created where it points */
            if (!(link = malloc(PATH_MAX)) || (len = readlink(p, link, PATH_MAX - 1)) < 0) {
                free(link);
                break;
            }
            link[len] = '\0';
            slash = strrchr(p, '/');
            if (link[0] != '/' && slash) {
                size_t dl = (size_t)(slash - p) + 1;
                char *np = malloc(dl + (size_t)len + 1);
                if (np) {
                    memcpy(np, p, dl);
                    memcpy(np + dl, link, (size_t)len + 1);
                }
                free(link);
                link = np;
            }
            free(p);
            p = link;
            continue;
        }
        /* to be created: the directory's identity and the name */
        slash = strrchr(p, '/');
        if (slash) {
            *slash = '\0';
            dir = *p ? p : (char *)"/";
        } else {
            dir = (char *)".";
        }
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
            (out->name = strdup(slash ? slash + 1 : p)) != NULL) {
            out->kind = FID_NEW;
            out->dev = st.st_dev;
            out->ino = st.st_ino;
        }
        break;
    }
    free(p);
}

static int same_file(const fid *a, const fid *b)
{
    if (a->kind == FID_NONE || a->kind != b->kind || a->dev != b->dev || a->ino != b->ino)
        return 0;
    return a->kind == FID_FILE || strcmp(a->name, b->name) == 0;
}

/* One name to compare: a listed file, or the sidecar of a listed output. */
typedef struct entry {
    const cli_io *io;
    char *path;     /* the sidecar's path (owned), or NULL: io->path */
    fid id;
} entry;

/* "-o x.csv", "the sidecar x.csv.json of -o x.csv", "the --data file d.csv" */
static void describe(char *buf, size_t n, const entry *e)
{
    if (e->path)
        snprintf(buf, n, "the sidecar %s of %s %s", e->path, e->io->role, e->io->path);
    else
        snprintf(buf, n, "%s %s", e->io->role, e->io->path);
}

int cli_io_check(const char *cmd, cli_iolist *l)
{
    entry *e = NULL;
    size_t i, j, ne = 0;
    int rc = EXIT_OK;

    if (l->oom) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (!(e = calloc(2 * l->n + 1, sizeof *e))) {
        rc = cli_error("out of memory");
        goto done;
    }
    for (i = 0; i < l->n; i++) {
        const cli_io *io = &l->v[i];
        if (io->output && (strcmp(io->path, "-") == 0 || cli_special_target(io->path)))
            continue; /* standard output, devices and FIFOs are written in place */
        e[ne].io = io;
        file_id(io->path, &e[ne].id);
        ne++;
        if (io->output && io->sidecar) {
            size_t len = strlen(io->path);
            char *side = malloc(len + 6);
            if (!side) {
                rc = cli_error("out of memory");
                goto done;
            }
            memcpy(side, io->path, len);
            memcpy(side + len, ".json", 6);
            e[ne].io = io;
            e[ne].path = side;
            file_id(side, &e[ne].id);
            ne++;
        }
    }
    /* every output (or sidecar) against every input and every other output */
    for (i = 0; i < ne && rc == EXIT_OK; i++) {
        if (!e[i].io->output)
            continue;
        for (j = 0; j < ne; j++) {
            char a[1200], b[1200];
            if (j == i || (e[j].io->output && j < i) || !same_file(&e[i].id, &e[j].id))
                continue;
            describe(a, sizeof a, &e[i]);
            describe(b, sizeof b, &e[j]);
            if (e[j].io->output)
                rc = cli_usage_error(cmd, "%s and %s are the same file: give them different names",
                                     a, b);
            else
                rc = cli_usage_error(cmd, "%s would overwrite %s (the same file): choose another "
                                     "output name", a, b);
            break;
        }
    }
done:
    for (i = 0; e && i < ne; i++) {
        free(e[i].path);
        free(e[i].id.name);
    }
    free(e);
    for (i = 0; i < l->n; i++)
        free(l->v[i].owned);
    free(l->v);
    memset(l, 0, sizeof *l);
    return rc;
}
