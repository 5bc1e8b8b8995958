/*
 * cli_mpi.h - scale-out of the analysis verbs with MPI (docs/scale-out.md).
 *
 * The binary links Open MPI (when built with it, SS_HAVE_MPI) but calls
 * MPI_Init only when it was started by an MPI launcher (mpirun/mpiexec:
 * OMPI_COMM_WORLD_SIZE; PMIx or PMI launchers such as `srun --mpi=pmix`:
 * PMIX_RANK, PMI_SIZE). Started any other way, every function here is a
 * no-op and the verbs behave exactly as in a single process.
 *
 * A job: rank 0 reads and writes everything; every rank checks that it
 * runs the same stratsim version on a scenario file with the same SHA-256
 * (cli_mpi_begin). Work units (Monte Carlo blocks, sweep points) are owned
 * round-robin (unit u by rank u mod N); ranks other than 0 send each
 * unit's packed outcome to rank 0 in unit order, rank 0 consumes every unit
 * in order. A failure anywhere ends in one message from rank 0 and nothing
 * written; ranks exit with rank 0's status.
 *
 * Messages (all on MPI_COMM_WORLD): to rank 0 DATA (unit, bytes), FAIL
 * (status, path, message: the rank's last word) and END (the rank is done);
 * from rank 0 STOP (give up now) and FINAL (rank 0's exit status, the
 * last message). Only the calling thread calls MPI (MPI_THREAD_FUNNELED).
 *
 * The Monte Carlo (`peers`) also exchanges DATA between any two ranks (each
 * rank merges its share of the series of every block, transport.h): DATA is
 * sent without waiting (MPI_Isend, at most a few blocks' worth in flight per
 * rank), and a rank that ends sends END (or FAIL) to every other rank, then
 * receives from all of them until each has ended, so no message is left
 * in flight; then rank 0 sends FINAL.
 */
#ifndef SS_CLI_MPI_H
#define SS_CLI_MPI_H

#include <stdint.h>
#include "cli/cli.h"
#include "cli/progress.h"

typedef struct cli_mpi_job {
    const char *verb;
    int active;            /* MPI initialised for this job */
    unsigned rank, nranks; /* 0 and 1 when not active */
    int ended;             /* rank > 0: END or FAIL sent; rank 0: every rank drained */
    int stopped;           /* rank > 0: STOP received */
    unsigned char *done;   /* rank 0 (every rank with peers): [nranks] rank r sent END or FAIL */
    int peers;             /* any two ranks exchange messages (the Monte Carlo) */
    unsigned char *told;   /* with peers: [nranks] END or FAIL was sent to rank r */
    struct cli_mpi_pending *pend; /* with peers: messages still being sent */
    ss_transport tr;       /* the transport of the job's units */
    ss_transport_stats stats; /* with STRATSIM_MPI_STATS set: the Monte Carlo's, reported at the end */
} cli_mpi_job;

/* 1 if this process was started by an MPI launcher (environment only). */
int cli_mpi_launched(void);
/* The rank and number of ranks the launcher gave (environment; 0 and 1 if none). */
unsigned cli_mpi_env_rank(void);
unsigned cli_mpi_env_size(void);

/* Set up the job (no MPI call); ranks other than 0 (per the environment)
 * stop printing errors: they keep the last one for rank 0 (cli_error). */
void cli_mpi_job_init(cli_mpi_job *j, const char *verb);

/* Under a launcher: MPI_Init and the version / scenario SHA-256 check.
 * EXIT_OK, or EXIT_ERROR (printed by rank 0). */
int cli_mpi_begin(cli_mpi_job *j, const char *scenario_file);

/* The transport of the job's units, or NULL when it runs in one process. */
const ss_transport *cli_mpi_transport(cli_mpi_job *j);

/*
 * After the analysis (status st, message in err): rank 0 prints a failure
 * (cli_an_fail) or, on success, waits for every rank to end cleanly; other
 * ranks report to rank 0. EXIT_OK or EXIT_ERROR; rank 0 may write outputs
 * only after EXIT_OK.
 */
int cli_mpi_end(cli_mpi_job *j, int st, const ss_err *err, const char *file, const ss_model *m,
                const cli_progress *prog);

/* Add "ranks": N to the analysis JSON object text *json (reallocated) when
 * the job runs under MPI. 0, or -1 on allocation failure. */
int cli_mpi_sidecar_json(cli_mpi_job *j, char **json);

/* The last call of a verb: stop and drain the ranks if needed, hand rank 0's
 * exit status to every rank, MPI_Finalize. Returns the status to exit with. */
int cli_mpi_finish(cli_mpi_job *j, int rc);

/* Used by cli_error: 1 if this process must not print (rank > 0 under a
 * launcher); the message is kept as the rank's last word instead. */
int cli_mpi_quiet(void);
void cli_mpi_keep_message(const char *msg);

#endif
