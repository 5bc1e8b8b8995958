/*
 * core/slots.h - ordered slots (internal to the core; see slots.c): worker
 * threads claim units of work 0, 1, 2, ... in increasing order into a ring
 * of slots, and one consumer (the calling thread) takes the finished units
 * in unit order.  The Monte Carlo (mc.c, a unit is a block of runs), the
 * sweep (sweep.c, a unit is a grid point, or a chunk of consecutive points
 * with the batched engine) and Sobol's design (sobol_chunks.c, a unit is a
 * chunk of rows) share it.
 *
 * Unit k lives in slot k % n and may be claimed only once unit k - n has
 * been released, so at most n units are in flight and memory is bounded by
 * the ring.  What a slot holds (results, statistics) is the caller's: an
 * array of n of its own structs indexed like the ring.  A failed unit is
 * recorded as the lowest failure (an atomic minimum) and no later unit is
 * claimed; stop ends all claiming.  The consumer's waits poll the interrupt
 * flag (timed waits of 20 ms).
 *
 * Locking: one mutex (mu) guards next, released and the slots' units and
 * states.  Functions marked "mu held" expect the caller to hold it
 * (ss_slots_lock); the others take it themselves.
 */
#ifndef STRATSIM_CORE_SLOTS_H
#define STRATSIM_CORE_SLOTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "stratsim/error.h"

/* States of a slot; a user may add its own after SS_SLOT_DONE. */
enum { SS_SLOT_FREE = 0, SS_SLOT_BUSY, SS_SLOT_DONE };

typedef struct ss_slots {
    pthread_mutex_t mu;
    pthread_cond_t cv_done;     /* a slot changed state: the consumer waits on it */
    pthread_cond_t cv_free;     /* a slot was released, or stop: the workers wait on it */
    int ready;                  /* mu and the conditions exist */
    unsigned n;                 /* slots in the ring */
    uint64_t units;             /* units to claim: [0, units) */
    uint64_t next;              /* the next unit to claim (mu) */
    uint64_t released;          /* units [0, released) were released (mu) */
    uint64_t *unit;             /* [n] the unit each slot holds, UINT64_MAX: none yet (mu) */
    int *state;                 /* [n] SS_SLOT_* (mu) */
    atomic_int stop;            /* claim nothing more */
    atomic_uint_fast64_t fail;  /* the lowest failed unit, UINT64_MAX if none */
    volatile int *interrupt;    /* polled while the consumer waits; may be NULL */
    pthread_t *tid;             /* [nthreads] */
    unsigned nthreads, started;
} ss_slots;

/*
 * The one rule of how many threads and slots run `units` units: `threads`
 * threads (0: every online CPU, at most max_threads), no more than there are
 * units; `per_thread` slots a thread, no more than there are units, and at
 * least one.
 */
void ss_slots_plan(unsigned threads, unsigned max_threads, unsigned per_thread, uint64_t units,
                   unsigned *nthreads, unsigned *nslots);

/* A ring of n slots for `units` units and up to nthreads threads: SS_OK or
 * SS_ENOMEM.  ss_slots_destroy() is safe after either (and on a zeroed struct). */
int ss_slots_init(ss_slots *s, unsigned n, unsigned nthreads, uint64_t units,
                  volatile int *interrupt);
void ss_slots_destroy(ss_slots *s);

/* Start nthreads threads, thread i running fn on the i-th of the workers
 * (an array of elements of `size` bytes at `workers`).  SS_OK, or SS_ENOMEM
 * with "cannot start worker thread I of N" (the threads started keep running
 * until ss_slots_finish). */
int ss_slots_start(ss_slots *s, void *(*fn)(void *), void *workers, size_t size, ss_err *err);
/* Stop all claiming and wait for every started thread. */
void ss_slots_finish(ss_slots *s);

void ss_slots_lock(ss_slots *s);
void ss_slots_unlock(ss_slots *s);

/* mu held: wait until the next unit may be claimed and claim it (its slot
 * BUSY): 1 and the unit in *k, or 0 when there is nothing more to claim
 * (stop, every unit claimed, or an earlier unit failed). */
int ss_slots_claim(ss_slots *s, uint64_t *k);
/* A worker thread's whole loop when a unit needs nothing but its own slot:
 * claim units in order, run unit(arg, k) on each without the lock (it
 * fills unit k's slot; a non-zero return records k as failed), then mark
 * it DONE; until nothing is left to claim. */
void ss_slots_work(ss_slots *s, int (*unit)(void *arg, uint64_t k), void *arg);
/* mu held: unit k's slot takes `state`; the consumer is woken. */
void ss_slots_set(ss_slots *s, uint64_t k, int state);
/* mu held: wake the consumer (something it waits for changed). */
void ss_slots_wake(ss_slots *s);
/* The state of unit k (mu held, or by the consumer for a unit it waited
 * for): SS_SLOT_*, or -1 while its slot holds another unit. */
int ss_slots_state(const ss_slots *s, uint64_t k);

/* Record unit k as failed (any thread, no lock): no later unit is claimed. */
void ss_slots_fail(ss_slots *s, uint64_t k);
/* 1 if a unit before k failed, or stop was asked (any thread, no lock). */
int ss_slots_cancelled(ss_slots *s, uint64_t k);

/*
 * The consumer: wait until ready(arg, k) (called with mu held), or, when
 * ready is NULL, until unit k is DONE.  0, or -1 if the interrupt flag was
 * raised first.
 */
int ss_slots_wait(ss_slots *s, uint64_t k, int (*ready)(void *arg, uint64_t k), void *arg);
/* The consumer: release unit k (the next in order); its slot is free for
 * unit k + n. */
void ss_slots_release(ss_slots *s, uint64_t k);

#endif
