/*
 * cli_mpi.c - the MPI transport and job protocol of the analysis verbs (see
 * cli_mpi.h and docs/scale-out.md). Built with MPI when SS_HAVE_MPI is
 * defined (make MPI=openmpi, the default when pkg-config finds ompi-c);
 * without it, or when the process was not started by an MPI launcher, every
 * job runs in one process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli_analysis.h"
#include "cli/cli_mpi.h"
#ifdef SS_HAVE_MPI
#include <mpi.h>
#endif

static int quiet;              /* rank > 0 under a launcher: keep errors */
static char last_word[1024];   /* the last error of this rank */

int cli_mpi_launched(void)
{
#ifdef SS_HAVE_MPI
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
#else
    return 0;
#endif
}

unsigned cli_mpi_env_rank(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK" };
    size_t i;
    if (!cli_mpi_launched())
        return 0;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return (unsigned)strtoul(v, NULL, 10);
    }
    return 0;
}

unsigned cli_mpi_env_size(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE" };
    size_t i;
    if (!cli_mpi_launched())
        return 1;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v && strtoul(v, NULL, 10) > 0)
            return (unsigned)strtoul(v, NULL, 10);
    }
    return 1;
}

int cli_mpi_quiet(void) { return quiet; }

void cli_mpi_keep_message(const char *msg)
{
    snprintf(last_word, sizeof last_word, "%s", msg);
}

void cli_mpi_job_init(cli_mpi_job *j, const char *verb)
{
    memset(j, 0, sizeof *j);
    j->verb = verb;
    j->nranks = 1;
    /* the Monte Carlo reduces its block statistics across all ranks (each
     * merges its share of the series), so any two ranks talk */
    j->peers = strcmp(verb, "mc") == 0;
    quiet = cli_mpi_env_rank() > 0;
}

const ss_transport *cli_mpi_transport(cli_mpi_job *j)
{
    return j->active && j->nranks > 1 ? &j->tr : NULL;
}

int cli_mpi_sidecar_json(cli_mpi_job *j, char **json)
{
    char *n;
    size_t len;
    if (!j->active || !*json)
        return 0;
    /* {"verb":{...}} -> {"verb":{...},"ranks":N} */
    len = strlen(*json);
    if (len < 2 || (*json)[len - 1] != '}')
        return 0;
    if (!(n = malloc(len + 32)))
        return -1;
    memcpy(n, *json, len - 1);
    snprintf(n + len - 1, 33, ",\"ranks\":%u}", j->nranks);
    free(*json);
    *json = n;
    return 0;
}

#ifndef SS_HAVE_MPI

int cli_mpi_begin(cli_mpi_job *j, const char *scenario_file)
{
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    (void)scenario_file;
    if (!n)
        n = getenv("PMI_SIZE");
    if (n && strtoul(n, NULL, 10) > 1) /* N copies would each do the whole job */
        return cli_error("%s: started by an MPI launcher with %s processes, but this stratsim "
                         "was built without MPI (make MPI=openmpi; docs/scale-out.md)", j->verb, n);
    return EXIT_OK;
}

int cli_mpi_end(cli_mpi_job *j, int st, const ss_err *err, const char *file, const ss_model *m,
                const cli_progress *prog)
{
    (void)j;
    return st == SS_OK ? EXIT_OK : cli_an_fail(file, m, st, err, prog);
}

int cli_mpi_finish(cli_mpi_job *j, int rc)
{
    (void)j;
    return rc;
}

#else /* SS_HAVE_MPI */

enum { TAG_DATA = 1, TAG_FAIL, TAG_END, TAG_STOP, TAG_FINAL, TAG_GO };

/*
 * Waiting without spinning. Open MPI's blocking calls poll in a loop and keep
 * a core busy while they wait, which here would take it from the rank's own
 * worker threads (a rank waits for the other ranks' blocks while its workers
 * compute). So a rank waits by testing, and sleeping between tests: 20 µs at
 * first, doubling up to 1 ms (a block takes tens of milliseconds or more).
 */
static void nap(long *ns)
{
    struct timespec ts = { 0, *ns };
    nanosleep(&ts, NULL);
    if (*ns < 1000000L)
        *ns *= 2;
}

/* MPI_Probe (any tag) of `from` (or MPI_ANY_SOURCE), sleeping while nothing came. */
static void probe_wait(int from, MPI_Status *st)
{
    long ns = 20000L;
    int flag = 0;
    for (;;) {
        MPI_Iprobe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st);
        if (flag)
            return;
        nap(&ns);
    }
}

/* With peers: the sends still in flight, oldest first, and the
 * communicator of FINAL (so that receiving everything else from any rank
 * never takes FINAL). */
struct cli_mpi_pending {
    size_t n, cap, most;   /* in flight, room, most DATA in flight before waiting */
    MPI_Request *req;
    void **buf;
    MPI_Comm fin;
};

/* Wait for the oldest sends until at most `keep` are in flight. */
static void pend_wait(cli_mpi_job *j, size_t keep)
{
    struct cli_mpi_pending *q = j->pend;
    size_t i, k;
    if (q->n <= keep)
        return;
    k = q->n - keep;
    {
        long ns = 20000L;
        int flag = 0;
        for (;;) {
            MPI_Testall((int)k, q->req, &flag, MPI_STATUSES_IGNORE);
            if (flag)
                break;
            nap(&ns);
        }
    }
    for (i = 0; i < k; i++)
        free(q->buf[i]);
    memmove(q->req, q->req + k, keep * sizeof *q->req);
    memmove(q->buf, q->buf + k, keep * sizeof *q->buf);
    q->n = keep;
}

/* Start sending buf[0, n) (malloc'ed or NULL; freed once sent) to rank `to`. */
static void pend_isend(cli_mpi_job *j, void *buf, int n, unsigned to, int tag)
{
    struct cli_mpi_pending *q = j->pend;
    if (q->n == q->cap)
        pend_wait(j, q->cap / 2);
    MPI_Isend(buf, n, MPI_BYTE, (int)to, tag, MPI_COMM_WORLD, &q->req[q->n]);
    q->buf[q->n++] = buf;
}

/* A FAIL message (see send_fail) to rank `to`, without waiting. */
static void pend_fail(cli_mpi_job *j, unsigned to, int rc, const char *path, const char *msg)
{
    size_t np = strlen(path) + 1, nm = strlen(msg) + 1;
    char *buf = malloc(4 + np + nm);
    int32_t r = rc;
    if (!buf) {
        if (!(buf = malloc(4)))
            MPI_Abort(MPI_COMM_WORLD, 1);
        memcpy(buf, &r, 4);
        pend_isend(j, buf, 4, to, TAG_FAIL);
        return;
    }
    memcpy(buf, &r, 4);
    memcpy(buf + 4, path, np);
    memcpy(buf + 4 + np, msg, nm);
    pend_isend(j, buf, (int)(4 + np + nm), to, TAG_FAIL);
}

/* FAIL payload: int32 status, then "path\0message\0". */
static void send_fail(int rc, const char *path, const char *msg)
{
    size_t np = strlen(path) + 1, nm = strlen(msg) + 1;
    char *buf = malloc(4 + np + nm);
    int32_t r = rc;
    if (!buf) { /* still end the rank */
        MPI_Send(&r, 4, MPI_BYTE, 0, TAG_FAIL, MPI_COMM_WORLD);
        return;
    }
    memcpy(buf, &r, 4);
    memcpy(buf + 4, path, np);
    memcpy(buf + 4 + np, msg, nm);
    MPI_Send(buf, (int)(4 + np + nm), MPI_BYTE, 0, TAG_FAIL, MPI_COMM_WORLD);
    free(buf);
}

/* Receive the message at hand from `from` (probed: tag and size). */
static int recv_probed(int from, MPI_Status *st, char **buf, int *n)
{
    MPI_Get_count(st, MPI_BYTE, n);
    *buf = malloc((size_t)*n + 1);
    if (!*buf)
        return -1;
    MPI_Recv(*buf, *n, MPI_BYTE, from, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    (*buf)[*n] = '\0';
    return 0;
}

/* A FAIL payload into err; returns its status. */
static int parse_fail(const char *buf, int n, unsigned from, ss_err *err)
{
    int32_t r = SS_EINVAL;
    const char *path = "", *msg = "";
    if (n >= 4) {
        memcpy(&r, buf, 4);
        if (n > 4) {
            path = buf + 4;
            msg = path + strlen(path) + 1;
            if (msg >= buf + n)
                msg = "";
        }
    }
    if (r == SS_OK)
        r = SS_EINVAL;
    if (!*msg)
        return ss_err_set(err, r, path, "rank %u failed", from);
    return ss_err_set(err, r, path, "%s", msg);
}

/* Rank > 0: did rank 0 say STOP? (consumes it) */
static int stop_asked(cli_mpi_job *j)
{
    int flag = 0;
    if (j->stopped)
        return 1;
    MPI_Iprobe(0, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        char c;
        MPI_Recv(&c, 1, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        j->stopped = 1;
    }
    return j->stopped;
}

static int tr_send(uint64_t unit, int rc, const ss_err *perr, const void *data, size_t len,
                   void *payload, ss_err *err)
{
    cli_mpi_job *j = payload;
    char *buf;
    if (j->ended)
        return ss_err_set(err, SS_EINTR, "", "stopped");
    if (rc != SS_OK) {
        if (stop_asked(j)) {
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_END, MPI_COMM_WORLD);
        } else {
            send_fail(rc, perr ? perr->path : "", perr && perr->msg[0] ? perr->msg : ss_strerror(rc));
        }
        j->ended = 1;
        return rc;
    }
    if (stop_asked(j)) {
        MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_END, MPI_COMM_WORLD);
        j->ended = 1;
        return ss_err_set(err, SS_EINTR, "", "stopped by rank 0");
    }
    if (len > (size_t)0x7ffffff0 - 8)
        return ss_err_set(err, SS_ENOMEM, "", "a work unit of %zu bytes is too large to send", len);
    if (!(buf = malloc(len + 8)))
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    memcpy(buf, &unit, 8);
    if (len)
        memcpy(buf + 8, data, len);
    MPI_Send(buf, (int)(len + 8), MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD);
    free(buf);
    return SS_OK;
}

static int tr_recv(uint64_t unit, void **data, size_t *len, void *payload, ss_err *err)
{
    cli_mpi_job *j = payload;
    int from = (int)(unit % j->nranks), n = 0;
    MPI_Status st;
    char *buf = NULL;
    uint64_t got;
    *data = NULL;
    *len = 0;
    if (j->done[from])
        return ss_err_set(err, SS_EINVAL, "", "rank %d ended before sending unit %llu", from,
                          (unsigned long long)unit);
    probe_wait(from, &st);
    if (recv_probed(from, &st, &buf, &n) != 0)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (st.MPI_TAG == TAG_FAIL || st.MPI_TAG == TAG_END) {
        int rc;
        j->done[from] = 1;
        rc = st.MPI_TAG == TAG_FAIL ? parse_fail(buf, n, (unsigned)from, err)
                                    : ss_err_set(err, SS_EINVAL, "", "rank %d ended early", from);
        free(buf);
        return rc;
    }
    if (st.MPI_TAG != TAG_DATA || n < 8) {
        free(buf);
        return ss_err_set(err, SS_EINVAL, "", "unexpected message from rank %d", from);
    }
    memcpy(&got, buf, 8);
    if (got != unit) {
        free(buf);
        return ss_err_set(err, SS_EINVAL, "", "rank %d sent unit %llu where %llu was due", from,
                          (unsigned long long)got, (unsigned long long)unit);
    }
    memmove(buf, buf + 8, (size_t)n - 8);
    *data = buf;
    *len = (size_t)n - 8;
    return SS_OK;
}

/* With peers (transport.h post): DATA to any rank, without waiting for it,
 * but with at most pend->most messages in flight (the oldest are waited
 * for: a rank working on later blocks has taken them or will). */
static int tr_post(unsigned to, uint64_t unit, int rc, const ss_err *perr, void *data, size_t len,
                   void *payload, ss_err *err)
{
    cli_mpi_job *j = payload;
    (void)unit;
    if (to >= j->nranks || to == j->rank || j->told[to]) {
        free(data);
        return rc != SS_OK ? rc : ss_err_set(err, SS_EINVAL, "", "rank %u may not be sent more", to);
    }
    if (rc != SS_OK) {
        free(data);
        pend_fail(j, to, rc, perr ? perr->path : "", perr && perr->msg[0] ? perr->msg : ss_strerror(rc));
        j->told[to] = 1;
        return rc;
    }
    if (len > (size_t)0x7fffffff) {
        free(data);
        return ss_err_set(err, SS_ENOMEM, "", "a message of %zu bytes is too large to send", len);
    }
    pend_isend(j, data, (int)len, to, TAG_DATA);
    pend_wait(j, j->pend->most);
    return SS_OK;
}

/* With peers (transport.h fetch): the next message from rank `from`. */
static int tr_fetch(unsigned from, uint64_t unit, void **data, size_t *len, void *payload, ss_err *err)
{
    cli_mpi_job *j = payload;
    MPI_Status st;
    char *buf = NULL;
    int n = 0, rc;
    *data = NULL;
    *len = 0;
    if (from >= j->nranks || from == j->rank)
        return ss_err_set(err, SS_EINVAL, "", "no messages from rank %u", from);
    if (j->done[from])
        return ss_err_set(err, SS_EINVAL, "", "rank %u ended before sending unit %llu", from,
                          (unsigned long long)unit);
    probe_wait((int)from, &st);
    if (recv_probed((int)from, &st, &buf, &n) != 0)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    if (st.MPI_TAG == TAG_DATA) {
        *data = buf;
        *len = (size_t)n;
        return SS_OK;
    }
    if (st.MPI_TAG == TAG_FAIL || st.MPI_TAG == TAG_END) {
        j->done[from] = 1;
        rc = st.MPI_TAG == TAG_FAIL ? parse_fail(buf, n, from, err)
                                    : ss_err_set(err, SS_EINVAL, "", "rank %u ended early", from);
    } else {
        rc = ss_err_set(err, SS_EINVAL, "", "unexpected message from rank %u", from);
    }
    free(buf);
    return rc;
}

/*
 * With peers, the end of this rank's part: END (st == SS_OK) or FAIL (path,
 * msg) to every rank not yet told, then receive from any rank until every
 * rank has ended (the first FAIL goes into e when `keep`; its status is
 * returned), then wait for the sends to complete. Every rank does this, so
 * no message is left in flight whatever happened.
 */
static int peer_end(cli_mpi_job *j, int st, const char *path, const char *msg, int keep, ss_err *e)
{
    unsigned r, left = 0;
    int rc = SS_OK;
    if (j->ended)
        return SS_OK;
    for (r = 0; r < j->nranks; r++) {
        if (r == j->rank)
            continue;
        if (!j->told[r]) {
            if (st != SS_OK)
                pend_fail(j, r, st, path, msg);
            else
                pend_isend(j, NULL, 0, r, TAG_END);
            j->told[r] = 1;
        }
        left += !j->done[r];
    }
    while (left > 0) {
        MPI_Status s;
        char *buf = NULL;
        int n = 0;
        probe_wait(MPI_ANY_SOURCE, &s);
        r = (unsigned)s.MPI_SOURCE;
        if (recv_probed((int)r, &s, &buf, &n) != 0)
            MPI_Abort(MPI_COMM_WORLD, 1);
        if ((s.MPI_TAG == TAG_END || s.MPI_TAG == TAG_FAIL) && !j->done[r]) {
            j->done[r] = 1;
            left--;
            if (s.MPI_TAG == TAG_FAIL && keep && rc == SS_OK)
                rc = parse_fail(buf, n, r, e);
        }
        free(buf);
    }
    pend_wait(j, 0);
    j->ended = 1;
    return rc;
}

/* Rank 0: tell every rank still running to stop. */
static void stop_all(cli_mpi_job *j)
{
    unsigned r;
    char c = 0;
    for (r = 1; r < j->nranks; r++)
        if (!j->done[r])
            MPI_Send(&c, 1, MPI_BYTE, (int)r, TAG_STOP, MPI_COMM_WORLD);
}

/* The transport's agree: rank 0 decides whether the work starts and tells
 * every rank (GO, or STOP as when it gives up); the others wait for its word.
 * Point to point rather than a broadcast, so that a rank that failed before
 * (and never calls this) does not block rank 0: it discards the word while
 * it waits for FINAL. */
static int tr_agree(int rc, void *payload)
{
    cli_mpi_job *j = payload;
    unsigned r;
    char c = 0;
    if (j->rank == 0) {
        if (rc != SS_OK) {
            stop_all(j);
            return rc;
        }
        for (r = 1; r < j->nranks; r++)
            if (!j->done[r])
                MPI_Send(&c, 1, MPI_BYTE, (int)r, TAG_GO, MPI_COMM_WORLD);
        return SS_OK;
    }
    for (;;) {
        MPI_Status st;
        probe_wait(0, &st);
        if (st.MPI_TAG == TAG_GO) {
            MPI_Recv(&c, 1, MPI_BYTE, 0, TAG_GO, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            return SS_OK;
        }
        if (st.MPI_TAG == TAG_STOP) {
            MPI_Recv(&c, 1, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            j->stopped = 1;
            return SS_EINTR;
        }
        return SS_EINVAL; /* FINAL: rank 0 is done (it failed before the work) */
    }
}

/* Rank 0: receive from every rank until its END or FAIL. The first FAIL
 * (lowest rank) goes into err and returns its status when `keep`. */
static int drain(cli_mpi_job *j, int keep, ss_err *err)
{
    unsigned r;
    int rc = SS_OK;
    for (r = 1; r < j->nranks; r++) {
        while (!j->done[r]) {
            MPI_Status st;
            char *buf = NULL;
            int n = 0;
            probe_wait((int)r, &st);
            if (recv_probed((int)r, &st, &buf, &n) != 0) {
                /* cannot hold it: receive into nothing is not possible; give up */
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            if (st.MPI_TAG == TAG_END || st.MPI_TAG == TAG_FAIL) {
                j->done[r] = 1;
                if (st.MPI_TAG == TAG_FAIL && keep && rc == SS_OK)
                    rc = parse_fail(buf, n, r, err);
            }
            free(buf);
        }
    }
    j->ended = 1;
    return rc;
}

/* The transport of a started job (rank, size, its functions, the
 * statistics if STRATSIM_MPI_STATS asks for them) and what the protocol
 * keeps per rank: which ranks ended (rank 0, and every rank with peers)
 * and, with peers, which were told and the sends in flight. */
static void setup_transport(cli_mpi_job *j, int size)
{
    j->tr.rank = j->rank;
    j->tr.nranks = j->nranks;
    j->tr.send = tr_send;
    j->tr.recv = tr_recv;
    j->tr.post = tr_post;
    j->tr.fetch = tr_fetch;
    j->tr.agree = tr_agree;
    j->tr.payload = j;
    {
        const char *v = getenv("STRATSIM_MPI_STATS"); /* docs/scale-out.md */
        if (v && *v && strcmp(v, "0") != 0)
            j->tr.stats = &j->stats;
    }
    if ((j->rank == 0 || j->peers) && !(j->done = calloc((size_t)size, 1)))
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (j->peers) {
        struct cli_mpi_pending *q = calloc(1, sizeof *q);
        /* four blocks' worth of DATA in flight, and room for END or FAIL to every rank */
        if (!q || !(j->told = calloc((size_t)size, 1)))
            MPI_Abort(MPI_COMM_WORLD, 1);
        q->most = 4 * (size_t)(size - 1);
        q->cap = q->most + 2 * (size_t)size + 2;
        q->req = malloc(q->cap * sizeof *q->req);
        q->buf = malloc(q->cap * sizeof *q->buf);
        if (!q->req || !q->buf)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Comm_dup(MPI_COMM_WORLD, &q->fin);
        j->pend = q;
    }
}

/* Rank 0: the error for rank r, whose "VERSION SHA-256" (other) differs
 * from rank 0's (mine): another build, or another scenario file. */
static void report_mismatch(const cli_mpi_job *j, unsigned r, const char *mine, const char *other,
                            const char *scenario_file)
{
    char v0[64], v1[64], s0[72], s1[72];
    sscanf(mine, "%63s %71s", v0, s0);
    sscanf(other, "%63s %71s", v1, s1);
    if (strcmp(v0, v1) != 0)
        cli_error("%s: rank %u runs stratsim %s, rank 0 runs %s: use one build on "
                  "every node", j->verb, r, v1, v0);
    else
        cli_error("%s: %s: the scenario file differs between ranks (SHA-256 %s on "
                  "rank %u, %s on rank 0)", j->verb, scenario_file, s1, r, s0);
}

/* The same binary version and the same scenario bytes on every rank:
 * rank 0 gathers "VERSION SHA-256" of every rank, reports the first
 * that differs, and tells every rank. Returns 1 if all agree. */
static int same_everywhere(cli_mpi_job *j, const char *scenario_file)
{
    char id[160], *all = NULL, sha[65];
    ss_err err = {0};
    unsigned r;
    int ok = 1;
    if (ss_sha256_file(scenario_file, sha, &err) != SS_OK)
        snprintf(sha, sizeof sha, "unreadable");
    memset(id, 0, sizeof id);
    {
        /* test-only (docs/scale-out.md): the version this rank reports, so
         * that tests/cli/test_mpi.sh can run ranks that disagree */
        const char *v = getenv("STRATSIM_TEST_MPI_VERSION");
        snprintf(id, sizeof id, "%s %s", v && *v && !strchr(v, ' ') ? v : ss_version(), sha);
    }
    if (j->rank == 0 && !(all = malloc((size_t)j->nranks * sizeof id)))
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Gather(id, (int)sizeof id, MPI_CHAR, all, (int)sizeof id, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (j->rank == 0) {
        for (r = 1; r < j->nranks && ok; r++) {
            const char *o = all + r * sizeof id;
            if (strcmp(o, id) != 0) {
                ok = 0;
                report_mismatch(j, r, id, o, scenario_file);
            }
        }
    }
    free(all);
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return ok;
}

int cli_mpi_begin(cli_mpi_job *j, const char *scenario_file)
{
    int provided, size, rank;
    if (!cli_mpi_launched())
        return EXIT_OK;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cli_error("%s: MPI_Init failed", j->verb);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    j->active = 1;
    j->rank = (unsigned)rank;
    j->nranks = (unsigned)size;
    quiet = rank > 0;
    setup_transport(j, size);
    if (!same_everywhere(j, scenario_file)) {
        j->ended = 1; /* nothing was started: only FINAL remains */
        if (j->done)
            memset(j->done, 1, j->nranks);
        if (j->told)
            memset(j->told, 1, j->nranks);
        return EXIT_ERROR;
    }
    return EXIT_OK;
}

int cli_mpi_end(cli_mpi_job *j, int st, const ss_err *err, const char *file, const ss_model *m,
                const cli_progress *prog)
{
    ss_err e = {0};
    if (!j->active)
        return st == SS_OK ? EXIT_OK : cli_an_fail(file, m, st, err, prog);
    if (j->peers) {
        int rc = peer_end(j, st, st != SS_OK ? err->path : "",
                          st == SS_OK ? "" : err->msg[0] ? err->msg : ss_strerror(st),
                          j->rank == 0 && st == SS_OK, &e);
        if (st != SS_OK)
            return j->rank == 0 ? cli_an_fail(file, m, st, err, prog) : EXIT_ERROR;
        if (rc != SS_OK)
            return j->rank == 0 ? cli_an_fail(file, m, rc, &e, prog) : EXIT_ERROR;
        return EXIT_OK;
    }
    if (j->rank > 0) {
        if (!j->ended) {
            if (st != SS_OK && !stop_asked(j))
                send_fail(st, err->path, err->msg[0] ? err->msg : ss_strerror(st));
            else
                MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_END, MPI_COMM_WORLD);
            j->ended = 1;
        }
        return st == SS_OK ? EXIT_OK : EXIT_ERROR;
    }
    if (st != SS_OK) {
        stop_all(j);
        drain(j, 0, NULL);
        return cli_an_fail(file, m, st, err, prog);
    }
    if ((st = drain(j, 1, &e)) != SS_OK) {
        stop_all(j);
        drain(j, 0, NULL);
        return cli_an_fail(file, m, st, &e, prog);
    }
    return EXIT_OK;
}

/* With peers, rank 0's end: its END (or FAIL, when it failed) to the ranks
 * not yet told, and their ends received, unless done already (a rank's
 * FAIL is reported when rank 0 did not fail itself); then FINAL with the
 * exit status to every rank. Returns that status. */
static int peer_finish_rank0(cli_mpi_job *j, int rc)
{
    struct cli_mpi_pending *q = j->pend;
    int final = rc;
    unsigned r;
    ss_err e = {0};
    if (!j->ended &&
        peer_end(j, rc == EXIT_OK ? SS_OK : SS_EINVAL, "", "rank 0 failed", rc == EXIT_OK, &e) != SS_OK) {
        cli_error("%s", e.msg);
        final = EXIT_ERROR;
    }
    for (r = 1; r < j->nranks; r++)
        MPI_Send(&final, 1, MPI_INT, (int)r, TAG_FINAL, q->fin);
    return final;
}

/* With peers, the end of a rank > 0: its END (or FAIL with its last
 * error) to the ranks not yet told and their ends received, then rank 0's
 * FINAL, waited for without spinning (rank 0 may still be writing the
 * outputs). Returns the exit status rank 0 sent. */
static int peer_finish_other(cli_mpi_job *j, int rc)
{
    struct cli_mpi_pending *q = j->pend;
    int final = rc, flag = 0;
    long ns = 20000L;
    peer_end(j, rc == EXIT_OK ? SS_OK : SS_EINVAL, "",
             last_word[0] ? last_word : "failed before the analysis", 0, NULL);
    for (;;) { /* rank 0 may still be writing the outputs */
        MPI_Iprobe(0, TAG_FINAL, q->fin, &flag, MPI_STATUS_IGNORE);
        if (flag)
            break;
        nap(&ns);
    }
    MPI_Recv(&final, 1, MPI_INT, 0, TAG_FINAL, q->fin, MPI_STATUS_IGNORE);
    return final;
}

/* STRATSIM_MPI_STATS: this rank's figures, one line on stderr (every rank
 * reports, docs/scale-out.md). */
static void print_stats(const cli_mpi_job *j)
{
    struct timespec ts;
    const ss_transport_stats *t = j->tr.stats;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    fprintf(stderr, "stratsim: %s: rank %u of %u: %.3f s CPU in all, %.3f s in the Monte "
            "Carlo, of which merging %.3f s, packing and unpacking %.3f s, collecting "
            "the totals %.4f s; sent %.1f MB, received %.1f MB\n", j->verb, j->rank,
            j->nranks, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec, t->cpu, t->merge_cpu,
            t->pack_cpu, t->gather_cpu, (double)t->bytes_out / 1e6, (double)t->bytes_in / 1e6);
}

/* With peers: the end on this rank, the figures if asked for, what the
 * protocol kept freed, and MPI finalised. Returns the exit status. */
static int peer_finish(cli_mpi_job *j, int rc)
{
    struct cli_mpi_pending *q = j->pend;
    int final = j->rank == 0 ? peer_finish_rank0(j, rc) : peer_finish_other(j, rc);
    if (j->tr.stats) /* asked for: every rank reports (docs/scale-out.md) */
        print_stats(j);
    MPI_Comm_free(&q->fin);
    free(q->req);
    free(q->buf);
    free(q);
    j->pend = NULL;
    free(j->told);
    j->told = NULL;
    free(j->done);
    j->done = NULL;
    j->active = 0;
    MPI_Finalize();
    return final;
}

/* Ranks talking to rank 0 only, rank 0's end: unless the job ended
 * already, STOP to every rank still running and their messages drained
 * (a rank's FAIL reported when rank 0 did not fail itself, as an earlier
 * failure of rank 0 was printed); then FINAL with the exit status to every
 * rank. Returns that status. */
static int finish_rank0(cli_mpi_job *j, int rc)
{
    int final = rc;
    unsigned r;
    if (!j->ended) {
        ss_err e = {0};
        stop_all(j);
        /* an earlier failure of rank 0 was printed; otherwise report a rank's */
        if (drain(j, rc == EXIT_OK, &e) != SS_OK) {
            cli_error("%s", e.msg);
            final = EXIT_ERROR;
        }
    }
    for (r = 1; r < j->nranks; r++)
        MPI_Send(&final, 1, MPI_INT, (int)r, TAG_FINAL, MPI_COMM_WORLD);
    return final;
}

/* Ranks talking to rank 0 only, the end of a rank > 0: its END (or FAIL
 * with its last error, unless rank 0 said STOP) if not sent yet, then
 * rank 0's FINAL; the STOPs still queued before it are discarded.
 * Returns the exit status rank 0 sent. */
static int finish_other(cli_mpi_job *j, int rc)
{
    int final = rc;
    if (!j->ended) {
        if (rc != EXIT_OK && !stop_asked(j))
            send_fail(SS_EINVAL, "", last_word[0] ? last_word : "failed before the analysis");
        else
            MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_END, MPI_COMM_WORLD);
        j->ended = 1;
    }
    for (;;) { /* STOPs may still be queued before FINAL */
        MPI_Status st;
        probe_wait(0, &st);
        if (st.MPI_TAG == TAG_FINAL) {
            MPI_Recv(&final, 1, MPI_INT, 0, TAG_FINAL, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            break;
        }
        {
            char *buf = NULL;
            int n;
            if (recv_probed(0, &st, &buf, &n) != 0)
                MPI_Abort(MPI_COMM_WORLD, 1);
            free(buf);
        }
    }
    return final;
}

/*
 * A rank > 0 that fails before the job began (a usage error, a scenario that
 * does not load): every rank checks the same arguments and file, so rank 0
 * reports the same error. Exiting at once would let the launcher kill rank 0
 * while it prints (Open MPI ends the whole job at the first non-zero exit
 * status), so this rank waits for rank 0 to end the job, and only if it has
 * not after RANK0_WAIT_S seconds (rank 0 did not fail the same way) prints its
 * own error, naming its rank.
 */
#define RANK0_WAIT_S 10
static int wait_for_rank0(int rc)
{
    long ns = 1000000L;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        nap(&ns);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < RANK0_WAIT_S);
    quiet = 0;
    cli_error("rank %u: %s", cli_mpi_env_rank(), last_word[0] ? last_word : "failed");
    return rc;
}

int cli_mpi_finish(cli_mpi_job *j, int rc)
{
    int final;
    if (!j->active)
        return quiet && rc != EXIT_OK ? wait_for_rank0(rc) : rc;
    if (j->peers)
        return peer_finish(j, rc);
    final = j->rank == 0 ? finish_rank0(j, rc) : finish_other(j, rc);
    free(j->done);
    j->done = NULL;
    j->active = 0;
    MPI_Finalize();
    return final;
}

#endif /* SS_HAVE_MPI */
