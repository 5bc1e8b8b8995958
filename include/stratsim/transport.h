/*
 * stratsim/transport.h - how the analyses that split their work into
 * independent units (Monte Carlo blocks, sweep points) run across several
 * processes: process `rank` of `nranks` runs the units u with u mod nranks
 * == rank; a process other than rank 0 hands the packed outcome of each of
 * its units, in unit order, to send(); rank 0 takes the other processes'
 * units from recv() as it consumes every unit in order, so what rank 0
 * computes from them is exactly what one process computes.  The core never
 * links a message-passing library: the caller provides the transport
 * (src/cli/cli_mpi.c does it with MPI).
 *
 * The Monte Carlo also reduces its block statistics across the processes
 * (docs/scale-out.md, "How the work is split"): every process merges its own
 * share of the output series, so it exchanges messages with every other
 * process through post() and fetch() (process to process, in unit order
 * between any two), rather than only with rank 0.
 */
#ifndef STRATSIM_TRANSPORT_H
#define STRATSIM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include "stratsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_transport {
    unsigned rank, nranks;
    /** Rank > 0: hand over the packed outcome of `unit` (rc == SS_OK), or
     *  this process's failure there (rc != SS_OK, data NULL, message in
     *  `perr`). A non-zero return (e.g. rank 0 asked to stop) stops this
     *  process's work with that status. */
    int (*send)(uint64_t unit, int rc, const ss_err *perr, const void *data, size_t len,
                void *payload, ss_err *err);
    /** Rank 0: what the owner of `unit` sent for it: *data malloc'ed (the
     *  caller frees it) on SS_OK; a remote failure returns its status with
     *  its message in err. */
    int (*recv)(uint64_t unit, void **data, size_t *len, void *payload, ss_err *err);
    /** Any rank: hand `data` (malloc'ed, len bytes; the transport owns it
     *  from now on, even on failure, and frees it) for `unit` to process
     *  `to` (!= rank) without waiting for `to` to take it; or, with rc !=
     *  SS_OK (data NULL, message in `perr`), tell `to` that this process
     *  failed there and sends it nothing more. Messages from one process to
     *  another arrive in the order they were posted. Non-zero return: this
     *  process cannot go on. */
    int (*post)(unsigned to, uint64_t unit, int rc, const ss_err *perr, void *data, size_t len,
                void *payload, ss_err *err);
    /** Any rank: the next message from process `from` (!= rank), which must
     *  be for `unit`: *data malloc'ed (the caller frees it) on SS_OK; a
     *  failure `from` posted, or its end, returns a non-zero status with its
     *  message in err. */
    int (*fetch)(unsigned from, uint64_t unit, void **data, size_t *len, void *payload, ss_err *err);
    void *payload;
    /** Optional (NULL: not kept): what the analysis spent on its side of the
     *  transport, added to by the Monte Carlo (tests/bench, docs/performance.md). */
    struct ss_transport_stats *stats;
    /** Optional (NULL: each process decides for itself). Called once by
     *  every process, before any unit starts, with the process's own
     *  status of its preparations (e.g. a memory check); returns rank 0's
     *  status on every process, so that rank 0 decides whether the work
     *  starts. A collective operation: every process must call it. */
    int (*agree)(int rc, void *payload);
} ss_transport;

/** Seconds are CPU seconds of the threads named (CLOCK_THREAD_CPUTIME_ID). */
typedef struct ss_transport_stats {
    double cpu;          /**< every thread of the analysis in this process (calling thread and workers) */
    double merge_cpu;    /**< merging block statistics into the totals (the calling thread, or
                          *   in one process the workers, who merge there) */
    double pack_cpu;     /**< calling thread: packing and unpacking what travels */
    double gather_cpu;   /**< calling thread, after the last block: collecting the totals on rank 0
                          *   (rank 0: unpacking every rank's share; others: packing theirs) */
    uint64_t bytes_out;  /**< bytes this process posted */
    uint64_t bytes_in;   /**< bytes it fetched */
} ss_transport_stats;

#ifdef __cplusplus
}
#endif
#endif
