/*
 * mc_rng.c - the Monte Carlo's random streams (stratsim/mc.h): the stream of
 * run i is a function of (seed, i) only, a xoshiro256** generator seeded
 * through splitmix64 and wrapped as a gsl_rng type, so that results do not
 * depend on which thread runs which run. Depends on GSL.
 */
#include "core/mc_internal.h"

/* ------------------------------------------------------ per-run streams */

#define GOLDEN 0x9E3779B97F4A7C15ULL

/* splitmix64's finaliser: a bijection of 64-bit words. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t ss_mc_run_seed(uint64_t seed, uint64_t run)
{
    /* a bijection of `run` for each seed: distinct runs, distinct seeds */
    return mix64(mix64(seed + 0xD1B54A32D192ED03ULL) ^ mix64(run + GOLDEN));
}

typedef struct xo_state {
    uint64_t s[4];
} xo_state;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna, public domain reference). */
static uint64_t xo_next(xo_state *st)
{
    uint64_t *s = st->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Fill the state from a splitmix64 sequence (never all zero). */
static void xo_seed64(xo_state *st, uint64_t x)
{
    int i;
    for (i = 0; i < 4; i++) {
        x += GOLDEN;
        st->s[i] = mix64(x);
    }
}

static void xo_set(void *vs, unsigned long seed)
{
    xo_seed64(vs, (uint64_t)seed);
}

static unsigned long xo_get(void *vs)
{
    return (unsigned long)(xo_next(vs) >> 32);
}

static double xo_get_double(void *vs)
{
    return (double)(xo_next(vs) >> 11) * 0x1.0p-53;
}

static const gsl_rng_type xo_type = {
    "xoshiro256**", 0xffffffffUL, 0, sizeof(xo_state), &xo_set, &xo_get, &xo_get_double
};

const char *ss_mc_rng_name(void) { return xo_type.name; }
const gsl_rng_type *ss_mc_rng_type(void) { return &xo_type; }

void ss_mc_rng_seed(gsl_rng *rng, uint64_t seed, uint64_t run)
{
    xo_seed64(rng->state, ss_mc_run_seed(seed, run));
}
