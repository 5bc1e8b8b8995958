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
    void *payload;
    /** Optional (NULL: each process decides for itself). Called once by
     *  every process, before any unit starts, with the process's own
     *  status of its preparations (e.g. a memory check); returns rank 0's
     *  status on every process, so that rank 0 decides whether the work
     *  starts. A collective operation: every process must call it. */
    int (*agree)(int rc, void *payload);
} ss_transport;

#ifdef __cplusplus
}
#endif
#endif
