/*
 * slots.c - ordered slots (see core/slots.h): the worker-thread scaffolding
 * the Monte Carlo (mc.c) and the sweep (sweep.c) share: how many threads
 * and slots, the ring of slots claimed in unit order, the lowest failure,
 * the consumer's interruptible wait for the next unit in order, starting
 * and stopping the threads.  Depends on pthreads.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/slots.h"

#define SLOTS_POLL_NS 20000000L

void ss_slots_plan(unsigned threads, unsigned max_threads, unsigned per_thread, uint64_t units,
                   unsigned *nthreads, unsigned *nslots)
{
    unsigned th = threads, sl;
    if (!th) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        th = n < 1 ? 1u : n > max_threads ? max_threads : (unsigned)n;
    }
    if ((uint64_t)th > units)
        th = (unsigned)units;
    sl = per_thread * th;
    if ((uint64_t)sl > units)
        sl = (unsigned)units;
    *nthreads = th;
    *nslots = sl ? sl : 1;
}

int ss_slots_init(ss_slots *s, unsigned n, unsigned nthreads, uint64_t units,
                  volatile int *interrupt)
{
    unsigned i;
    memset(s, 0, sizeof *s);
    atomic_init(&s->stop, 0);
    atomic_init(&s->fail, UINT64_MAX);
    s->n = n;
    s->units = units;
    s->interrupt = interrupt;
    s->nthreads = nthreads;
    s->unit = malloc(n * sizeof *s->unit);
    s->state = calloc(n, sizeof *s->state);
    s->tid = calloc(nthreads + 1, sizeof *s->tid);
    if (!s->unit || !s->state || !s->tid)
        return SS_ENOMEM;
    for (i = 0; i < n; i++)
        s->unit[i] = UINT64_MAX;
    if (pthread_mutex_init(&s->mu, NULL))
        return SS_ENOMEM;
    if (pthread_cond_init(&s->cv_done, NULL)) {
        pthread_mutex_destroy(&s->mu);
        return SS_ENOMEM;
    }
    if (pthread_cond_init(&s->cv_free, NULL)) {
        pthread_cond_destroy(&s->cv_done);
        pthread_mutex_destroy(&s->mu);
        return SS_ENOMEM;
    }
    s->ready = 1;
    return SS_OK;
}

void ss_slots_destroy(ss_slots *s)
{
    if (s->ready) {
        pthread_cond_destroy(&s->cv_free);
        pthread_cond_destroy(&s->cv_done);
        pthread_mutex_destroy(&s->mu);
        s->ready = 0;
    }
    free(s->unit);
    free(s->state);
    free(s->tid);
    s->unit = NULL;
    s->state = NULL;
    s->tid = NULL;
}

int ss_slots_start(ss_slots *s, void *(*fn)(void *), void *workers, size_t size, ss_err *err)
{
    unsigned i;
    for (i = 0; i < s->nthreads; i++) {
        if (pthread_create(&s->tid[i], NULL, fn, (char *)workers + i * size))
            return ss_err_set(err, SS_ENOMEM, "", "cannot start worker thread %u of %u", i + 1,
                              s->nthreads);
        s->started = i + 1;
    }
    return SS_OK;
}

void ss_slots_finish(ss_slots *s)
{
    unsigned i;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->cv_free);
    pthread_mutex_unlock(&s->mu);
    for (i = 0; i < s->started; i++)
        pthread_join(s->tid[i], NULL);
    s->started = 0;
}

void ss_slots_lock(ss_slots *s) { pthread_mutex_lock(&s->mu); }
void ss_slots_unlock(ss_slots *s) { pthread_mutex_unlock(&s->mu); }

int ss_slots_claim(ss_slots *s, uint64_t *k)
{
    for (;;) {
        uint64_t u = s->next;
        if (atomic_load(&s->stop) || u >= s->units || u > atomic_load(&s->fail))
            return 0;
        if (u >= s->released + s->n) {
            pthread_cond_wait(&s->cv_free, &s->mu);
            continue;
        }
        s->next++;
        s->unit[u % s->n] = u;
        s->state[u % s->n] = SS_SLOT_BUSY;
        *k = u;
        return 1;
    }
}

void ss_slots_work(ss_slots *s, int (*unit)(void *arg, uint64_t k), void *arg)
{
    uint64_t k;
    pthread_mutex_lock(&s->mu);
    while (ss_slots_claim(s, &k)) {
        int rc;
        pthread_mutex_unlock(&s->mu);
        rc = unit(arg, k);
        pthread_mutex_lock(&s->mu);
        if (rc)
            ss_slots_fail(s, k);
        ss_slots_set(s, k, SS_SLOT_DONE);
    }
    pthread_mutex_unlock(&s->mu);
}

void ss_slots_set(ss_slots *s, uint64_t k, int state)
{
    s->state[k % s->n] = state;
    pthread_cond_broadcast(&s->cv_done);
}

void ss_slots_wake(ss_slots *s) { pthread_cond_broadcast(&s->cv_done); }

int ss_slots_state(const ss_slots *s, uint64_t k)
{
    return s->unit[k % s->n] == k ? s->state[k % s->n] : -1;
}

void ss_slots_fail(ss_slots *s, uint64_t k)
{
    uint_fast64_t cur = atomic_load(&s->fail);
    while (k < cur && !atomic_compare_exchange_weak(&s->fail, &cur, k))
        ;
}

int ss_slots_cancelled(ss_slots *s, uint64_t k)
{
    return atomic_load_explicit(&s->stop, memory_order_relaxed) ||
           k > atomic_load_explicit(&s->fail, memory_order_relaxed);
}

int ss_slots_wait(ss_slots *s, uint64_t k, int (*ready)(void *arg, uint64_t k), void *arg)
{
    pthread_mutex_lock(&s->mu);
    while (!(ready ? ready(arg, k) : ss_slots_state(s, k) == SS_SLOT_DONE)) {
        struct timespec ts;
        if (s->interrupt && __atomic_load_n(s->interrupt, __ATOMIC_RELAXED)) {
            pthread_mutex_unlock(&s->mu);
            return -1;
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += SLOTS_POLL_NS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv_done, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void ss_slots_release(ss_slots *s, uint64_t k)
{
    pthread_mutex_lock(&s->mu);
    s->state[k % s->n] = SS_SLOT_FREE;
    s->released = k + 1;
    pthread_cond_broadcast(&s->cv_free);
    pthread_mutex_unlock(&s->mu);
}
