/*
 * batch.c - the batched Monte Carlo engine; see core/batch.h.
 *
 * Layout.  The state of lane l is sim.c's state vector, stored variable-major:
 * variable v of lane l at y[v * L + l]; every per-lane constant and auxiliary
 * has the same [item][L] layout, so the right-hand side is a sequence of loops
 * over lanes that the compiler vectorises, and exp, log and pow of a row of
 * lanes go through SLEEF (batch_vec.c; 1-ulp exp and log, pow as exp(e log x),
 * no -ffast-math).
 * Exponents equal in every busy lane take sim.c's shortcuts (0, 1, 0.5, 2) or,
 * for whole numbers 3-8, repeated multiplication; learning curves are
 * exp(-b log(V/V0)).
 *
 * Steps.  Lane l is at time t_l with the step h_l to try.  One rk8pd step
 * with h = 1 over the L * dim vector (GSL's, computed by rk_step below with
 * vectorised arithmetic, bit-identical to gsl_odeiv2_step_apply) integrates
 * dy_l/ds = h_l f(t_l + h_l s, y_l) from s = 0 to 1 in every lane: the step
 * of size h_l of each lane in its own time.  The error estimate of
 * lane l is then judged by lane l alone with GSL's standard control (the
 * scalar engine's gsl_odeiv2_driver_alloc_y_new: the largest
 * |err| / (rtol |y| + atol) over the lane's components; reject above 1.1 and
 * shrink, at most by 5; grow below 0.5, at most by 5; safety 0.9, order 8),
 * with the scalar engine's rules around it (GSL's evolve and driver): a step
 * longer than what is left of the interval is cut to end on the lane's next
 * breakpoint, where the lane applies its events, records its outputs, checks
 * its state, and restarts with the step it had (at most the interval); a cut
 * step proposes no new step size, so "the step it had" is the proposal from
 * before the cut. So each lane takes the steps the scalar engine takes for
 * that run (the step sizes differ only where an error estimate is itself
 * rounding), and its result does not depend on the other lanes.
 *
 * Inputs.  As in sim.c, an input whose schedules are all constant is computed
 * once after a change of schedules (classify); the others are revisited at
 * each of the lane's breakpoints where a knot, an event or the policy time
 * may change them (input_changes; at an output time or an epoch alone they
 * keep their values, the ones sim.c computes again there), and those that
 * vary inside the interval (a linear piece) are evaluated at each
 * right-hand-side call at the lane's own time with ss_schedule_eval's
 * formula (the formula sim.c uses). A price's price^-beta with an exponent
 * other than 0, 1/2, 1 and 2 is ss_vec_pow (exp(e log x) with SLEEF's exp
 * and log, batch_vec.c), for the prices of every lane that changed at once
 * (sim.c: libm's pow; the two differ by at most (|e ln x| + 2) ulps).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_machine.h>
#include <gsl/gsl_odeiv2.h>
#include "core/batch.h"
#include "core/finite.h"
#include "core/sim_internal.h"
#include "core/sort_doubles.h"

/* Everything below is compiled for AVX2 (4 doubles a vector, no FMA, and
 * -ffp-contract=off in the Makefile: the same roundings as plain code);
 * ss_batch_supports() (batch_vec.c) keeps the engine off CPUs without it. */
#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#elif defined(__x86_64__)
#pragma GCC target("avx2")
#endif

/* A loop over lanes whose arrays do not overlap (clang: its own checks). */
#if defined(__clang__)
#define SS_IVDEP
#else
#define SS_IVDEP _Pragma("GCC ivdep")
#endif

/* The AVX-512F copies of the right-hand side and the stage sums (8 doubles a
 * vector), with GCC (clang 14 fails on them; a clang build, such as the
 * fuzzers', runs the AVX2 code). */
#if defined(__x86_64__) && !defined(__clang__)
#define SS_BATCH_AVX512 1
#define SS_AVX512 __attribute__((target("avx512f,prefer-vector-width=512")))
#endif

#ifdef __x86_64__
#include <immintrin.h>
#endif

#define TIME_TOL 1e-9
#define SHARE_TOL 1e-9
#define ALIGN 64

/* How x^e is computed for every lane of a segment (x >= 0). */
enum { PW_ZERO, PW_ONE, PW_HALF, PW_TWO, PW_INT, PW_GEN };

enum { IN_ATT, IN_ALLOC, IN_RHO, IN_G };

/* The rk8pd stepper's stages (see "stepper" below). */
#define RK_S 13
static const unsigned char RK_USE[RK_S + 1][RK_S] = {
    [2] = { 1 },
    [3] = { 1, 2 },
    [4] = { 1, 3 },
    [5] = { 1, 3, 4 },
    [6] = { 1, 4, 5 },
    [7] = { 1, 4, 5, 6 },
    [8] = { 1, 4, 5, 6, 7 },
    [9] = { 1, 4, 5, 6, 7, 8 },
    [10] = { 1, 4, 5, 6, 7, 8, 9 },
    [11] = { 1, 4, 5, 6, 7, 8, 9, 10 },
    [12] = { 1, 4, 5, 6, 7, 8, 9, 10, 11 },
    [13] = { 1, 4, 5, 6, 7, 8, 9, 10, 11, 12 },
};
static const unsigned char RK_HI[] = { 1, 6, 7, 8, 9, 10, 11, 12, 13 };  /* 8th order */
#define RK_NHI 9
#define RK_NLO 8                                                          /* k1, k6..k12 */

typedef struct item {
    unsigned char kind;
    unsigned char lin[3];     /* IN_ATT varying inside the interval: which of participation,
                                 price and lever is a linear schedule */
    size_t idx, prov, seg;    /* IN_ATT: idx = prov * K + seg */
    long pc[3];               /* varying inside the interval: the pieces last used (sched_pc) */
    double fv[3];             /* IN_ATT: the others' values in the interval */
} item;

typedef struct lane {
    ss_model *m;              /* the run's own resolved model (NULL: idle) */
    size_t run;
    double t, ta, tend;       /* current time, start and end of the current interval */
    double h, hint;           /* step to try; the step carried across breakpoints */
    double rtol, atol, hmin;
    unsigned long nsteps, max_steps;
    int final;                /* this step ends the interval */
    ss_dvec bp, epochs, extra; /* breakpoints (sim.c's), decision epochs, scratch */
    size_t bi;
    unsigned char *chg;       /* [bp.n] inputs may change at bp.v[j] (see input_changes) */
    size_t capchg;
    size_t *evo, *evtmp, capev, capevt, evpos;
    size_t oi;                /* next output */
    size_t rec0;              /* outputs [rec0, oi) wait for the next step's first evaluation */
    double tp;                /* policy time */
    int iv_pending, reclass;
    item *var, *dyn;          /* [nitems] inputs with a non-constant schedule; those varying now */
    size_t nvar, ndyn;
    ss_result *res;
} lane;

struct ss_batch {
    size_t N, K, NK, dim, L, nitems;
    void *blk;
    size_t blk_size;
    double *y, *y0, *yerr, *din;        /* [dim][L] */
    double *bC, *bP, *bR;               /* [K][L] */
    int *mC, *mR, *iC, *iR;             /* [K] */
    double *inv_tau, *eff, *dep, *neg_b, *bass_p, *bass_q, *pot; /* [K][L] */
    unsigned char *bass;                /* [K] */
    unsigned char *learn;               /* [K] some busy lane has a learning curve */
    double *pc_p, *pc_pp;               /* [NK][L] last price and its price^-beta (pow memo) */
    size_t *pd_q, npd;                  /* [NK*L] price^-beta waiting for att_flush: where */
    double *pd_p, *pd_e, *pd_w, *pd_x;  /* [NK*L] its price, -beta, participation, lever */
    double *invV0, *om, *opex, *brand;  /* [NK][L] */
    double *fixed, *inv_rec;            /* [N][L] */
    double *r_disc, *t0;                /* [L] */
    double *fac, *invp, *alpha;         /* [NK][L] */
    double *rho, *g;                    /* [N][L], [K][L] */
    double *tgt, *rev, *margin;         /* [NK][L] */
    double *revi, *inv, *gp, *op;       /* [N][L] */
    double *M;                          /* [K][L] */
    double *s1, *s2, *s3, *s4;          /* [L] scratch */
    double *lc;                         /* [NK][L] the learning curves of an evaluation */
    double *tl, *tc, *hc, *rmax;        /* [L] stage time, step start, step size, error */
    unsigned char *bad;                 /* [L] the lane's evaluation failed */
    lane *ln;                           /* [L] */
    size_t lcap;
    /* the block's shape (the first run's model) */
    size_t nt;
    ss_dvec outs;                       /* [nt] output times */
    double gt0, gt1, gstep;
    unsigned char *gbass;
    size_t capgbass;
    char **pid, **sid;
    gsl_odeiv2_system sys;
    gsl_odeiv2_step *step;
    size_t step_dim;
    /* the stepper (rk_step): GSL's tableau, its stages' values */
    int rk_ok;                          /* 1: rk_step is GSL's step; -1: use GSL's; 0: not probed */
    int avx512;                         /* AVX-512F: rhs() and the stepper's sums use it */
    double rk_c[RK_S + 1], rk_a[RK_S + 1][RK_S], rk_hi[RK_NHI], rk_lo[RK_NLO];
    double *rk_k[RK_S + 1], *rk_tmp;    /* [dim][L]; rk_k[1] is din */
};

int ss_batch_use_avx512(ss_batch *b, int on)
{
    int was = b->avx512;
    b->avx512 = 0;
#ifdef SS_BATCH_AVX512
    __builtin_cpu_init();
    b->avx512 = on && __builtin_cpu_supports("avx512f");
#else
    (void)on;
#endif
    if (b->avx512 != was)
        b->rk_ok = 0;   /* the stepper's sums are checked again (step_all) */
    return b->avx512;
}

ss_batch *ss_batch_new(void)
{
    ss_batch *b = calloc(1, sizeof(ss_batch));
    if (b)
        (void)ss_batch_use_avx512(b, 1);
    return b;
}

static void lanes_free(ss_batch *b)
{
    size_t l;
    for (l = 0; l < b->lcap; l++) {
        lane *a = &b->ln[l];
        ss_model_free(a->m);
        ss_result_free(a->res);
        free(a->bp.v);
        free(a->epochs.v);
        free(a->extra.v);
        free(a->chg);
        free(a->evo);
        free(a->evtmp);
        free(a->var);
        free(a->dyn);
    }
    free(b->ln);
    b->ln = NULL;
    b->lcap = 0;
}

void ss_batch_free(ss_batch *b)
{
    if (!b)
        return;
    lanes_free(b);
    if (b->step)
        gsl_odeiv2_step_free(b->step);
    free(b->blk);
    free(b->outs.v);
    free(b->gbass);
    free(b->pid);
    free(b->sid);
    free(b);
}


/* ------------------------------------------------------------ vector math */

/* Inlined into each of the right-hand side's instances (rhs()). */
#define SS_INLINE static inline __attribute__((always_inline))

/* out[l] = x[l]^e[l] with the segment's mode (x >= 0), n lanes. */
SS_INLINE void v_pw(double *restrict out, const double *restrict x, int mode, int ie,
                 const double *restrict e, size_t n)
{
    size_t l;
    int q;
    switch (mode) {
    case PW_ZERO:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = 1.0;
        break;
    case PW_ONE:
        memcpy(out, x, n * sizeof *out);
        break;
    case PW_HALF:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = sqrt(x[l]);
        break;
    case PW_TWO:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = x[l] * x[l];
        break;
    case PW_INT:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = x[l] * x[l];
        for (q = 2; q < ie; q++)
            SS_IVDEP
            for (l = 0; l < n; l++)
                out[l] *= x[l];
        break;
    default:
        ss_vec_pow(out, x, e, n);
        break;
    }
}

/* v_pw of max(x, 0): the same operations on the same values, without
 * writing max(x, 0) out first. */
SS_INLINE void v_pw_pos(double *restrict out, const double *restrict x, int mode, int ie,
                        const double *restrict e, size_t n)
{
    size_t l;
    int q;
    switch (mode) {
    case PW_ZERO:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = 1.0;
        break;
    case PW_HALF:
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = sqrt(x[l] > 0.0 ? x[l] : 0.0);
        break;
    case PW_TWO:
        SS_IVDEP
        for (l = 0; l < n; l++) {
            double c = x[l] > 0.0 ? x[l] : 0.0;
            out[l] = c * c;
        }
        break;
    case PW_INT:
        SS_IVDEP
        for (l = 0; l < n; l++) {
            double c = x[l] > 0.0 ? x[l] : 0.0;
            out[l] = c * c;
        }
        for (q = 2; q < ie; q++)
            SS_IVDEP
            for (l = 0; l < n; l++)
                out[l] *= x[l] > 0.0 ? x[l] : 0.0;
        break;
    default: /* PW_ONE, PW_GEN */
        SS_IVDEP
        for (l = 0; l < n; l++)
            out[l] = x[l] > 0.0 ? x[l] : 0.0;
        if (mode == PW_GEN)
            ss_vec_pow(out, out, e, n);
        break;
    }
}

static int pw_mode1(double e)
{
    return e == 0.0 ? PW_ZERO : e == 1.0 ? PW_ONE : e == 0.5 ? PW_HALF : e == 2.0 ? PW_TWO
         : (e >= 3.0 && e <= 8.0 && e == floor(e)) ? PW_INT : PW_GEN;
}

/* x^-e for x > 0 with sim.c's pw_neg shortcuts; 0: e needs the general pow
 * (computed with ss_vec_pow in att_flush). */
static int pw_neg1(double x, double e, double *out)
{
    if (e == 0.0)
        *out = 1.0;
    else if (e == 1.0)
        *out = 1.0 / x;
    else if (e == 0.5)
        *out = 1.0 / sqrt(x);
    else if (e == 2.0)
        *out = 1.0 / (x * x);
    else
        return 0;
    return 1;
}

/* The exponent modes of every segment from the busy lanes (uniform ones take shortcuts). */
static void pw_modes(ss_batch *b)
{
    size_t L = b->L, k, l;
    for (k = 0; k < b->K; k++) {
        const double *eC = b->bC + k * L, *eR = b->bR + k * L;
        double c = NAN, r = NAN;
        int sameC = 1, sameR = 1, first = 1;
        for (l = 0; l < L; l++) {
            if (!b->ln[l].m)
                continue;
            if (first) {
                c = eC[l];
                r = eR[l];
                first = 0;
            } else {
                sameC &= eC[l] == c;
                sameR &= eR[l] == r;
            }
        }
        b->learn[k] = 0;
        for (l = 0; l < L; l++)
            b->learn[k] |= b->ln[l].m && b->neg_b[k * L + l] != 0.0;
        b->mC[k] = sameC && !first ? pw_mode1(c) : PW_GEN;
        b->mR[k] = sameR && !first ? pw_mode1(r) : PW_GEN;
        b->iC[k] = b->mC[k] == PW_INT ? (int)c : 0;
        b->iR[k] = b->mR[k] == PW_INT ? (int)r : 0;
    }
}

/* ------------------------------------------------------------------ layout */

static void *carve(unsigned char *base, size_t *off, size_t n, size_t size)
{
    void *p = base ? base + *off : NULL;
    *off += (n * size + ALIGN - 1) / ALIGN * ALIGN;
    return p;
}

static size_t layout(ss_batch *b, unsigned char *base)
{
    size_t off = 0, L = b->L, N = b->N, K = b->K, NK = b->NK, dL = b->dim * L, k;
    const size_t D = sizeof(double);
    b->y = carve(base, &off, dL, D);
    b->y0 = carve(base, &off, dL, D);
    b->yerr = carve(base, &off, dL, D);
    b->din = carve(base, &off, dL, D);
    b->rk_k[0] = NULL;
    b->rk_k[1] = b->din;
    for (k = 2; k <= RK_S; k++)
        b->rk_k[k] = carve(base, &off, dL, D);
    b->rk_tmp = carve(base, &off, dL, D);
    b->bC = carve(base, &off, K * L, D);
    b->bP = carve(base, &off, K * L, D);
    b->bR = carve(base, &off, K * L, D);
    b->mC = carve(base, &off, K, sizeof(int));
    b->mR = carve(base, &off, K, sizeof(int));
    b->iC = carve(base, &off, K, sizeof(int));
    b->iR = carve(base, &off, K, sizeof(int));
    b->inv_tau = carve(base, &off, K * L, D);
    b->eff = carve(base, &off, K * L, D);
    b->dep = carve(base, &off, K * L, D);
    b->neg_b = carve(base, &off, K * L, D);
    b->bass_p = carve(base, &off, K * L, D);
    b->bass_q = carve(base, &off, K * L, D);
    b->pot = carve(base, &off, K * L, D);
    b->bass = carve(base, &off, K, 1);
    b->learn = carve(base, &off, K, 1);
    b->pc_p = carve(base, &off, NK * L, D);
    b->pc_pp = carve(base, &off, NK * L, D);
    b->pd_q = carve(base, &off, NK * L, sizeof(size_t));
    b->pd_p = carve(base, &off, NK * L, D);
    b->pd_e = carve(base, &off, NK * L, D);
    b->pd_w = carve(base, &off, NK * L, D);
    b->pd_x = carve(base, &off, NK * L, D);
    b->invV0 = carve(base, &off, NK * L, D);
    b->om = carve(base, &off, NK * L, D);
    b->opex = carve(base, &off, NK * L, D);
    b->brand = carve(base, &off, NK * L, D);
    b->fixed = carve(base, &off, N * L, D);
    b->inv_rec = carve(base, &off, N * L, D);
    b->r_disc = carve(base, &off, L, D);
    b->t0 = carve(base, &off, L, D);
    b->fac = carve(base, &off, NK * L, D);
    b->invp = carve(base, &off, NK * L, D);
    b->alpha = carve(base, &off, NK * L, D);
    b->rho = carve(base, &off, N * L, D);
    b->g = carve(base, &off, K * L, D);
    b->tgt = carve(base, &off, NK * L, D);
    b->rev = carve(base, &off, NK * L, D);
    b->margin = carve(base, &off, NK * L, D);
    b->revi = carve(base, &off, N * L, D);
    b->inv = carve(base, &off, N * L, D);
    b->gp = carve(base, &off, N * L, D);
    b->op = carve(base, &off, N * L, D);
    b->M = carve(base, &off, K * L, D);
    b->s1 = carve(base, &off, L, D);
    b->s2 = carve(base, &off, L, D);
    b->s3 = carve(base, &off, L, D);
    b->s4 = carve(base, &off, L, D);
    b->lc = carve(base, &off, NK * L, D);
    b->tl = carve(base, &off, L, D);
    b->tc = carve(base, &off, L, D);
    b->hc = carve(base, &off, L, D);
    b->rmax = carve(base, &off, L, D);
    b->bad = carve(base, &off, L, 1);
    return off;
}

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    void *nv;
    size_t c;
    if (need <= *cap)
        return SS_OK;
    c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    nv = realloc(*v, c * size);
    if (!nv)
        return SS_ENOMEM;
    *v = nv;
    *cap = c;
    return SS_OK;
}

/* ------------------------------------------------------------------ inputs */

/*
 * The value schedule s takes inside [ta, tb] if it cannot vary there (a step
 * schedule holds its value at ta); *dyn = 1 if it can (a linear piece).
 */
static double sched_in(const ss_schedule *s, double ta, double tb, int *dyn)
{
    long i;
    *dyn = 0;
    if (s->kind == SS_SCHED_CONST)
        return s->value;
    if (s->kind == SS_SCHED_STEPS)
        return ss_schedule_eval(s, ta);
    i = ss_schedule_last_knot(s, ta);
    if (i == (long)s->n - 1)
        return s->v[s->n - 1];
    if (i < 0 && tb <= s->t[0])
        return s->v[0];
    if (i >= 0 && s->v[i + 1] == s->v[i] && tb <= s->t[i + 1])
        return s->v[i];
    *dyn = 1;
    return NAN;
}

/*
 * Attractiveness factor and 1/price of (i, k) = j in lane l from w, p, x.
 * A new price whose exponent has no shortcut waits in the pending list: its
 * price^-beta and factor are computed by att_flush, for every lane and pair
 * at once (ss_vec_pow, element by element, so a lane's value does
 * not depend on the others).
 */
static void set_att(ss_batch *b, size_t l, size_t j, size_t k, double w, double p, double x)
{
    size_t L = b->L, q = j * L + l;
    if (p != b->pc_p[q]) {
        double e = b->bP[k * L + l];
        b->pc_p[q] = p;
        b->invp[q] = 1.0 / p;
        if (!pw_neg1(p, e, &b->pc_pp[q])) {
            size_t r = b->npd++;
            b->pd_q[r] = q;
            b->pd_p[r] = p;
            b->pd_e[r] = -e;
            b->pd_w[r] = w;
            b->pd_x[r] = x;
            return;
        }
    }
    b->fac[q] = b->brand[q] * w * b->pc_pp[q] * x;
}

/* The pending price^-beta of set_att() and their factors. */
static void att_flush(ss_batch *b)
{
    size_t n = b->npd, r;
    if (n == 0)
        return;
    ss_vec_pow(b->pd_p, b->pd_p, b->pd_e, n);
    for (r = 0; r < n; r++) {
        size_t q = b->pd_q[r];
        b->pc_pp[q] = b->pd_p[r];
        b->fac[q] = b->brand[q] * b->pd_w[r] * b->pc_pp[q] * b->pd_x[r];
    }
    b->npd = 0;
}

/*
 * Schedule s at time t of an interval that starts at ta, as sim.c's slots
 * give it: a step schedule holds its value at ta for the whole interval (a
 * knot at its end takes effect only there, at the next breakpoint), a linear
 * one is ss_schedule_eval at t.
 */
static double sched_at(const ss_schedule *s, double ta, double t)
{
    if (s->kind == SS_SCHED_CONST)
        return s->value;
    return ss_schedule_eval(s, s->kind == SS_SCHED_STEPS ? ta : t);
}

/*
 * sched_at() remembering, in *pc, the piece of a linear schedule last used:
 * a time inside that piece takes it without a search. The value is
 * ss_schedule_eval's (its formula; the piece of t is the same, and outside
 * the remembered one it is looked up again).
 */
static inline double sched_pc(const ss_schedule *s, double ta, double t, long *pc)
{
    long i = *pc;
    double t0, t1;
    if (s->kind != SS_SCHED_LINEAR)
        return sched_at(s, ta, t);
    if (!(i >= 0 && s->t[i] <= t && t < s->t[i + 1])) {
        i = ss_schedule_last_knot(s, t);
        if (i < 0)
            return s->v[0];
        if ((size_t)i == s->n - 1)
            return s->v[i];
        *pc = i;
    }
    t0 = s->t[i];
    t1 = s->t[i + 1];
    return s->v[i] + (t - t0) / (t1 - t0) * (s->v[i + 1] - s->v[i]);
}

/* Provider i's normalised allocation in lane l at t of the interval that
 * starts at ta (0 if it sums to <= 0). */
static int set_alloc_at(ss_batch *b, size_t l, size_t i, const ss_provider *p, double ta, double t)
{
    size_t K = b->K, L = b->L, k;
    double asum = 0.0;
    for (k = 0; k < K; k++)
        asum += sched_at(&p->allocation[k], ta, t);
    if (!(asum > 0.0))
        return 0;
    for (k = 0; k < K; k++)
        b->alpha[(i * K + k) * L + l] = sched_at(&p->allocation[k], ta, t) / asum;
    return 1;
}

/*
 * Evaluate input `it` of lane l over [ta, tb] (ta == tb: at that time).
 * Returns 1 if it varies inside the interval (left for the right-hand side),
 * 0 if done, -1 for an allocation that sums to zero.
 */
static int eval_input(ss_batch *b, size_t l, const item *it, double ta, double tb)
{
    const ss_model *m = b->ln[l].m;
    size_t L = b->L, K = b->K;
    int d0 = 0, d1 = 0, d2 = 0;
    switch (it->kind) {
    case IN_G: {
        const ss_segment *s = &m->seg[it->idx];
        double v = s->has_bass ? 0.0 : (ta == tb ? ss_schedule_eval(&s->growth, ta)
                                                 : sched_in(&s->growth, ta, tb, &d0));
        if (d0)
            return 1;
        b->g[it->idx * L + l] = v;
        return 0;
    }
    case IN_RHO: {
        const ss_schedule *s = &m->prov[it->idx].reinvest;
        double v = ta == tb ? ss_schedule_eval(s, ta) : sched_in(s, ta, tb, &d0);
        if (d0)
            return 1;
        b->rho[it->idx * L + l] = v;
        return 0;
    }
    case IN_ATT: {
        const ss_provider *p = &m->prov[it->prov];
        size_t k = it->seg;
        double w, pr, x;
        if (ta == tb) {
            w = ss_schedule_eval(&p->participation[k], ta);
            pr = ss_schedule_eval(&p->price[k], ta);
            x = ss_schedule_eval(&p->lever[k], ta);
        } else {
            w = sched_in(&p->participation[k], ta, tb, &d0);
            pr = sched_in(&p->price[k], ta, tb, &d1);
            x = sched_in(&p->lever[k], ta, tb, &d2);
            if (d0 || d1 || d2)
                return 1;
        }
        set_att(b, l, it->idx, k, w, pr, x);
        return 0;
    }
    default: {
        const ss_provider *p = &m->prov[it->idx];
        size_t k;
        int dyn = 0;
        if (ta != tb) {
            for (k = 0; k < K; k++) {
                int dk = 0;
                sched_in(&p->allocation[k], ta, tb, &dk);
                dyn |= dk;
            }
            if (dyn)
                return 1;
        }
        /* constant inside the interval: its value at ta */
        return set_alloc_at(b, l, it->idx, p, ta, ta) ? 0 : -1;
    }
    }
}

/* The inputs of lanes [lo, hi) that vary inside their interval, at their time tl[l]. */
static void eval_dyn(ss_batch *b, size_t lo, size_t hi)
{
    size_t l, d, L = b->L;
    for (l = lo; l < hi; l++) {
        lane *a = &b->ln[l];
        double t = b->tl[l], ta = a->ta;
        for (d = 0; d < a->ndyn; d++) {
            item *it = &a->dyn[d];
            const ss_model *m = a->m;
            switch (it->kind) {
            case IN_G:
                b->g[it->idx * L + l] = sched_pc(&m->seg[it->idx].growth, ta, t, &it->pc[0]);
                break;
            case IN_RHO:
                b->rho[it->idx * L + l] = sched_pc(&m->prov[it->idx].reinvest, ta, t, &it->pc[0]);
                break;
            case IN_ATT: {
                const ss_provider *p = &m->prov[it->prov];
                size_t k = it->seg;
                set_att(b, l, it->idx, k,
                        it->lin[0] ? sched_pc(&p->participation[k], ta, t, &it->pc[0]) : it->fv[0],
                        it->lin[1] ? sched_pc(&p->price[k], ta, t, &it->pc[1]) : it->fv[1],
                        it->lin[2] ? sched_pc(&p->lever[k], ta, t, &it->pc[2]) : it->fv[2]);
                break;
            }
            default:
                if (!set_alloc_at(b, l, it->idx, &m->prov[it->idx], ta, t))
                    b->bad[l] = 1;
                break;
            }
        }
    }
    att_flush(b);
}

/*
 * After a change of lane l's schedules: compute its inputs with constant
 * schedules, and list the others. Returns -1 for an allocation that sums to
 * zero, else 0.
 */
static int classify(ss_batch *b, size_t l)
{
    lane *a = &b->ln[l];
    const ss_model *m = a->m;
    size_t N = b->N, K = b->K, L = b->L, i, k;
    a->nvar = 0;
    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        if (!s->has_bass && s->growth.kind != SS_SCHED_CONST) {
            a->var[a->nvar].kind = IN_G;
            a->var[a->nvar++].idx = k;
        } else {
            b->g[k * L + l] = s->has_bass ? 0.0 : s->growth.value;
        }
    }
    for (i = 0; i < N; i++) {
        const ss_provider *p = &m->prov[i];
        int avar = 0;
        if (p->reinvest.kind != SS_SCHED_CONST) {
            a->var[a->nvar].kind = IN_RHO;
            a->var[a->nvar++].idx = i;
        } else {
            b->rho[i * L + l] = p->reinvest.value;
        }
        for (k = 0; k < K; k++) {
            if (p->participation[k].kind != SS_SCHED_CONST || p->price[k].kind != SS_SCHED_CONST ||
                p->lever[k].kind != SS_SCHED_CONST) {
                a->var[a->nvar].kind = IN_ATT;
                a->var[a->nvar].prov = i;
                a->var[a->nvar].seg = k;
                a->var[a->nvar++].idx = i * K + k;
            } else {
                set_att(b, l, i * K + k, k, p->participation[k].value, p->price[k].value,
                        p->lever[k].value);
            }
            avar |= p->allocation[k].kind != SS_SCHED_CONST;
        }
        if (avar) {
            a->var[a->nvar].kind = IN_ALLOC;
            a->var[a->nvar++].idx = i;
        } else if (!set_alloc_at(b, l, i, p, m->t0, m->t0)) {
            return -1;
        }
    }
    a->reclass = 0;
    return 0;
}

/* Input v of lane a varies inside the interval that starts at ta: into the
 * lane's list for eval_dyn, with the values of an attractiveness's parts
 * that do not vary (a step schedule holds its value at ta). */
static void add_dyn(lane *a, const item *v, double ta)
{
    item *it = &a->dyn[a->ndyn++];
    *it = *v;
    it->pc[0] = it->pc[1] = it->pc[2] = -1;
    if (it->kind == IN_ATT) {
        const ss_provider *p = &a->m->prov[it->prov];
        size_t k = it->seg;
        const ss_schedule *sc[3] = { &p->participation[k], &p->price[k], &p->lever[k] };
        int c;
        for (c = 0; c < 3; c++) {
            it->lin[c] = sc[c]->kind == SS_SCHED_LINEAR;
            it->fv[c] = it->lin[c] ? 0.0 : sched_at(sc[c], ta, ta);
        }
    }
}

/* Lane l's inputs for [ta, tb] (ta == tb: at that time). -1: zero allocation. */
static int prepare(ss_batch *b, size_t l, double ta, double tb)
{
    lane *a = &b->ln[l];
    size_t v;
    int bad = a->reclass && classify(b, l);
    a->ndyn = 0;
    for (v = 0; v < a->nvar && !bad; v++) {
        int rc = eval_input(b, l, &a->var[v], ta, tb);
        if (rc < 0)
            bad = 1;
        else if (rc > 0)
            add_dyn(a, &a->var[v], ta);
    }
    att_flush(b);
    return bad ? -1 : 0;
}

/* --------------------------------------------------------------- the model */

/* Every auxiliary of lanes [lo, hi) at (tl[l], y) (sim.c's eval_aux).
 * no-trapping-math: the selects below evaluate both sides, so that they are
 * vectorised (no FP trap is enabled; the values are the same). */
#if defined(__GNUC__) && !defined(__clang__)
#define SS_NO_TRAPPING_MATH __attribute__((optimize("no-trapping-math")))
#else
#define SS_NO_TRAPPING_MATH /* other compilers: the selects may stay branches */
#endif
SS_NO_TRAPPING_MATH SS_INLINE
void eval_aux_in(ss_batch *b, size_t lo, size_t hi, const double *y)
{
    size_t N = b->N, K = b->K, NK = b->NK, L = b->L, n = hi - lo, i, k, l, lp;
    const double *yC = y + NK * L, *yV = y + 2 * NK * L, *yR = y + 3 * NK * L,
                 *yX = y + (3 * NK + 2 * N) * L;
    double *restrict s1 = b->s1, *restrict s2 = b->s2, *restrict sum = b->s3, *restrict isum = b->s4;

    eval_dyn(b, lo, hi);
    for (i = 0; i < N; i++)
        SS_IVDEP
        for (l = lo; l < hi; l++)
            b->revi[i * L + l] = 0.0;
    for (k = 0; k < K; k++) {
        double *restrict Mk = b->M + k * L;
        const double *x = yX + k * L;
        if (b->bass[k]) {
            const double *pot = b->pot + k * L;
            SS_IVDEP
            for (l = lo; l < hi; l++)
                Mk[l] = pot[l] * x[l];
        } else {
            SS_IVDEP
            for (l = lo; l < hi; l++)
                Mk[l] = x[l];
        }
        SS_IVDEP
        for (l = lo; l < hi; l++)
            sum[l] = 0.0;
        for (i = 0; i < N; i++) {
            size_t d = i * K + k;
            const double *C = yC + d * L, *fac = b->fac + d * L, *pr = s1;
            double *restrict a = b->tgt + d * L;
            /* capability^beta_C of max(C, 0), reliability^beta_R (R itself for 1) */
            v_pw_pos(s2 + lo, C + lo, b->mC[k], b->iC[k], b->bC + k * L + lo, n);
            if (b->mR[k] == PW_ONE)
                pr = yR + i * L;
            else
                v_pw(s1 + lo, yR + i * L + lo, b->mR[k], b->iR[k], b->bR + k * L + lo, n);
            SS_IVDEP
            for (l = lo; l < hi; l++) {
                a[l] = fac[l] * s2[l] * pr[l];
                sum[l] += a[l];
            }
        }
        SS_IVDEP
        for (l = lo; l < hi; l++)
            isum[l] = 1.0 / (sum[l] > 0.0 ? sum[l] : 1.0);   /* sim.c's inv_sum, used if sum > 0 */
        for (i = 0; i < N; i++) {
            size_t d = i * K + k;
            double *restrict a = b->tgt + d * L, *restrict rv = b->rev + d * L,
                   *restrict ri = b->revi + i * L;
            const double *s = y + d * L;
            SS_IVDEP
            for (l = lo; l < hi; l++) {
                double an = a[l] * isum[l], sl = s[l];  /* both loaded: vectorised */
                a[l] = sum[l] > 0.0 ? an : sl;
                rv[l] = Mk[l] * s[l];
                ri[l] += rv[l];
            }
        }
    }
    /* the learning curves (V/V0)^-b of every lane: with all lanes, those of
       every (provider, segment) in one log and one exp (row p of lc) */
    if (n == L) {
        size_t p = 0;
        for (i = 0; i < N; i++)
            for (k = 0; k < K; k++) {
                size_t j = i * K + k;
                const double *V = yV + j * L, *iv0 = b->invV0 + j * L;
                double *restrict c = b->lc + p * L;
                if (!b->learn[k])
                    continue;
                SS_IVDEP
                for (l = 0; l < L; l++) {
                    double r = V[l] * iv0[l];   /* loaded in every lane: vectorised */
                    c[l] = iv0[l] > 0.0 ? r : 1.0;
                }
                p++;
            }
        ss_vec_log(b->lc, b->lc, p * L);
        for (i = 0, p = 0; i < N; i++)
            for (k = 0; k < K; k++) {
                const double *nb = b->neg_b + k * L;
                double *restrict c = b->lc + p * L;
                if (!b->learn[k])
                    continue;
                SS_IVDEP
                for (l = 0; l < L; l++)
                    c[l] *= nb[l];
                p++;
            }
        ss_vec_exp(b->lc, b->lc, p * L);
    }
    for (i = 0, lp = 0; i < N; i++) {
        double *restrict gp = b->gp + i * L, *restrict opx = s1, *restrict inv = b->inv + i * L;
        const double *rho = b->rho + i * L, *ri = b->revi + i * L;
        SS_IVDEP
        for (l = lo; l < hi; l++) {
            inv[l] = rho[l] * ri[l];
            gp[l] = 0.0;
            opx[l] = 0.0;
        }
        for (k = 0; k < K; k++) {
            size_t j = i * K + k;
            const double *V = yV + j * L, *iv0 = b->invV0 + j * L, *nb = b->neg_b + k * L,
                         *om = b->om + j * L, *ip = b->invp + j * L, *rv = b->rev + j * L,
                         *ox = b->opex + j * L;
            double *restrict mg = b->margin + j * L;
            const double *cv = s2;      /* the learning curve */
            if (b->learn[k] && n == L) {
                cv = b->lc + lp++ * L;
            } else if (b->learn[k]) {
                SS_IVDEP
                for (l = lo; l < hi; l++) {
                    double r = V[l] * iv0[l];
                    s2[l] = iv0[l] > 0.0 ? r : 1.0;
                }
                ss_vec_log(s2 + lo, s2 + lo, n);
                SS_IVDEP
                for (l = lo; l < hi; l++)
                    s2[l] *= nb[l];
                ss_vec_exp(s2 + lo, s2 + lo, n);
            } else {
                SS_IVDEP
                for (l = lo; l < hi; l++)
                    s2[l] = 1.0;
            }
            SS_IVDEP
            for (l = lo; l < hi; l++) {
                mg[l] = 1.0 - om[l] * cv[l] * ip[l];
                gp[l] += rv[l] * mg[l];
                opx[l] += ox[l] * rv[l];
            }
        }
        {
            double *restrict op = b->op + i * L;
            const double *fx = b->fixed + i * L;
            SS_IVDEP
            for (l = lo; l < hi; l++)
                op[l] = gp[l] - opx[l] - fx[l] - inv[l];
        }
    }
}

/* The derivatives of every lane at (tl[l], y) (sim.c's eval_derivs), times
 * the lane's step hc[l] (the rescaled system of rhs()). */
SS_INLINE void eval_derivs(ss_batch *b, const double *y, double *f)
{
    size_t N = b->N, K = b->K, NK = b->NK, L = b->L, i, k, l, d;
    const double *yC = y + NK * L, *yR = y + 3 * NK * L, *yX = y + (3 * NK + 2 * N) * L;
    double *fS = f, *fC = f + NK * L, *fV = f + 2 * NK * L, *fR = f + 3 * NK * L;
    double *fN = fR + N * L, *fX = fN + N * L;
    double *restrict disc = b->s1;
    const double *restrict h = b->hc;
    SS_IVDEP
    for (l = 0; l < L; l++)
        disc[l] = -b->r_disc[l] * (b->tl[l] - b->t0[l]);
    ss_vec_exp(disc, disc, L);
    SS_IVDEP
    for (l = 0; l < L; l++)
        if (b->r_disc[l] == 0.0)
            disc[l] = 1.0;
    for (i = 0, d = 0; i < N; i++) {
        const double *inv = b->inv + i * L;
        for (k = 0; k < K; k++, d++) {
            const double *it = b->inv_tau + k * L, *ef = b->eff + k * L, *dp = b->dep + k * L,
                         *tg = b->tgt + d * L, *s = y + d * L, *al = b->alpha + d * L,
                         *C = yC + d * L, *rv = b->rev + d * L, *ip = b->invp + d * L;
            double *restrict a = fS + d * L, *restrict c = fC + d * L, *restrict v = fV + d * L;
            SS_IVDEP
            for (l = 0; l < L; l++) {
                a[l] = (tg[l] - s[l]) * it[l] * h[l];
                c[l] = (ef[l] * al[l] * inv[l] - dp[l] * C[l]) * h[l];
                v[l] = rv[l] * ip[l] * h[l];
            }
        }
        {
            const double *R = yR + i * L, *ir = b->inv_rec + i * L, *op = b->op + i * L;
            double *restrict r = fR + i * L, *restrict n = fN + i * L;
            SS_IVDEP
            for (l = 0; l < L; l++) {
                r[l] = (1.0 - R[l]) * ir[l] * h[l];
                n[l] = op[l] * disc[l] * h[l];
            }
        }
    }
    for (k = 0; k < K; k++) {
        double *restrict x = fX + k * L;
        const double *A = yX + k * L;
        if (b->bass[k]) {
            const double *p = b->bass_p + k * L, *q = b->bass_q + k * L;
            SS_IVDEP
            for (l = 0; l < L; l++)
                x[l] = (p[l] + q[l] * A[l]) * (1.0 - A[l]) * h[l];
        } else {
            const double *g = b->g + k * L, *Mk = b->M + k * L;
            SS_IVDEP
            for (l = 0; l < L; l++)
                x[l] = g[l] * Mk[l] * h[l];
        }
    }
}

/*
 * The rescaled system of every lane: at s, lane l is at t = tc[l] + hc[l] s
 * and its derivative is hc[l] f(t, y). A non-finite derivative makes the
 * lane's step or error estimate non-finite: step_all() fails the lane then
 * (the step of the others goes on).
 */
SS_NO_TRAPPING_MATH SS_INLINE
void rhs_in(ss_batch *b, double s, const double *y, double *dydt)
{
    size_t L = b->L, l;
    SS_IVDEP
    for (l = 0; l < L; l++)
        b->tl[l] = b->tc[l] + b->hc[l] * s;
    eval_aux_in(b, 0, L, y);
    eval_derivs(b, y, dydt);
}

/* Lanes [lo, hi) alone (a lane at the end of its run). */
SS_NO_TRAPPING_MATH
static void eval_aux(ss_batch *b, size_t lo, size_t hi, const double *y)
{
    eval_aux_in(b, lo, hi, y);
}

/* The right-hand side compiled twice: for AVX2 (4 doubles a vector, as the
 * rest of this file) and for AVX-512F (8 doubles), chosen from the CPU
 * (setup). Every operation is the same elementwise IEEE operation in both,
 * so the values are the same bit for bit. */
SS_NO_TRAPPING_MATH
static void rhs_avx2(ss_batch *b, double s, const double *y, double *dydt)
{
    rhs_in(b, s, y, dydt);
}

#ifdef SS_BATCH_AVX512
SS_NO_TRAPPING_MATH SS_AVX512
static void rhs_avx512(ss_batch *b, double s, const double *y, double *dydt)
{
    rhs_in(b, s, y, dydt);
}
#endif

static int rhs(double s, const double y[], double dydt[], void *params)
{
    ss_batch *b = params;
#ifdef SS_BATCH_AVX512
    if (b->avx512)
        rhs_avx512(b, s, y, dydt);
    else
#endif
        rhs_avx2(b, s, y, dydt);
    return GSL_SUCCESS;
}

/* ---------------------------------------------------------------- stepper */

/*
 * GSL's rk8pd step, over the L * dim values of every lane at once, with its
 * arithmetic vectorised (AVX2, same operations in the same order as GSL's
 * rk8pd_apply, no FMA: bit-identical to it). Only the step of step_all() is
 * needed: t = 0, h = 1, k1 given (so y + h*sum is y + sum and b21*h*k1 is
 * b21*k1, exactly). The tableau is not copied here: it is read from the
 * linked GSL (rk_probe) by applying its stepper to systems whose stages
 * return unit vectors; rk_verify() then compares a step of ours with GSL's
 * on a nonlinear test system bit for bit, and step_all() falls back to
 * gsl_odeiv2_step_apply() if anything differs (another GSL, another order).
 *
 * Which stages enter each combination, in GSL's order: stage s (2..13) sums
 * the k of RK_USE[s]; the 8th-order solution uses k1, k6..k13 and the 7th-
 * order one k1, k6..k12 (their difference is the error estimate).
 */
/* The probe system: stage c (k2 is c = 0) records its time and input and
 * returns the vector the probe set for it. */
typedef struct rk_probe_ctx {
    int c;
    double t[RK_S], in[RK_S][RK_S], out[RK_S][RK_S];
} rk_probe_ctx;

static int rk_probe_f(double t, const double y[], double f[], void *params)
{
    rk_probe_ctx *p = params;
    int c = p->c++;
    if (c >= RK_S - 1)
        return GSL_FAILURE;
    p->t[c] = t;
    memcpy(p->in[c], y, RK_S * sizeof *y);
    memcpy(f, p->out[c + 1], RK_S * sizeof *f);  /* out[j]: k_{j+1} */
    return GSL_SUCCESS;
}

static int rk_nterms(int s)
{
    int n = 0;
    while (n < RK_S && RK_USE[s][n])
        n++;
    return n;
}

/* b->rk_c, rk_a, rk_hi, rk_lo from GSL's rk8pd. 0 on success. */
static int rk_probe(ss_batch *b)
{
    gsl_odeiv2_step *st = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rk8pd, RK_S);
    gsl_odeiv2_system sys = { rk_probe_f, NULL, RK_S, NULL };
    rk_probe_ctx *p = calloc(1, sizeof *p);
    double y[RK_S], yerr[RK_S], d[RK_S];
    int s, j, m, rc = -1;
    if (!st || !p)
        goto done;
    sys.params = p;
    /* 1: k_j = e_(j-1): stage s's input holds its coefficients, the new y
     * the 8th-order weights, yerr their differences from the 7th-order ones */
    for (j = 0; j < RK_S; j++)
        p->out[j][j] = 1.0;
    memset(y, 0, sizeof y);
    if (gsl_odeiv2_step_apply(st, 0.0, 1.0, y, yerr, p->out[0], NULL, &sys) != GSL_SUCCESS ||
        p->c != RK_S - 1)
        goto done;
    for (s = 2; s <= RK_S; s++) {
        int n = rk_nterms(s);
        b->rk_c[s] = p->t[s - 2];
        for (j = 0; j < n; j++)
            b->rk_a[s][j] = p->in[s - 2][RK_USE[s][j] - 1];
    }
    for (j = 0; j < RK_NHI; j++)
        b->rk_hi[j] = y[RK_HI[j] - 1];
    memcpy(d, yerr, sizeof d);
    /* 2: the 7th-order weight of k_(m+1), m < 12, exactly: in component m,
     * k_(m+1) = 1 and k13 = c with hi13 c close to lo_m - hi_m, so that the
     * 8th-order sum S is close to lo_m and lo_m - S is exact (Sterbenz) */
    memset(p->out, 0, sizeof p->out);
    for (j = 0; j < RK_S - 1; j++)
        p->out[j][j] = 1.0;
    for (m = 0; m < RK_S - 1; m++)
        p->out[RK_S - 1][m] = d[m] / b->rk_hi[RK_NHI - 1];
    p->out[RK_S - 1][RK_S - 1] = 1.0;
    p->c = 0;
    gsl_odeiv2_step_reset(st);
    memset(y, 0, sizeof y);
    if (gsl_odeiv2_step_apply(st, 0.0, 1.0, y, yerr, p->out[0], NULL, &sys) != GSL_SUCCESS)
        goto done;
    for (j = 0; j < RK_NLO; j++) {
        int k = RK_HI[j] - 1;
        double hi = b->rk_hi[j], c = p->out[RK_S - 1][k], S;
        S = hi + b->rk_hi[RK_NHI - 1] * c;   /* GSL's sum in component k: hi, zeros, then hi13 c */
        b->rk_lo[j] = S + yerr[k];
        if (b->rk_lo[j] - S != yerr[k])
            goto done;
    }
    rc = 0;
done:
    if (st)
        gsl_odeiv2_step_free(st);
    free(p);
    return rc;
}

/* out = y + sum of a[j] k[use[j]], the terms added left to right; inlined
 * for each number of terms nt, so that the coefficients and pointers stay in
 * registers. */
/* The values [i, n) of rk_comb_n without vectors (the sums in the same order). */
static inline __attribute__((always_inline)) void
rk_comb_tail(double *restrict out, const double *restrict y, const double *const *kp,
             const double *a, const int nt, size_t i, size_t n)
{
    int j;
    for (; i < n; i++) {
        double s = a[0] * kp[0][i];
        for (j = 1; j < nt; j++)
            s += a[j] * kp[j][i];
        out[i] = y[i] + s;
    }
}

/* The values [i, n) of rk_final without vectors. */
static void rk_final_tail(double *restrict y, double *restrict yerr, const double *const *kp,
                          const double *hi, const double *lo, size_t i, size_t n)
{
    int j;
    for (; i < n; i++) {
        double s8 = hi[0] * kp[0][i], s7 = lo[0] * kp[0][i];
        for (j = 1; j < RK_NHI; j++)
            s8 += hi[j] * kp[j][i];
        for (j = 1; j < RK_NLO; j++)
            s7 += lo[j] * kp[j][i];
        y[i] += s8;
        yerr[i] = s7 - s8;
    }
}

static inline __attribute__((always_inline)) void
rk_comb_n(double *restrict out, const double *restrict y, double *const *k,
          const unsigned char *use, const double *a, const int nt, size_t n)
{
    const double *kp[RK_S];
    size_t i = 0;
    int j;
    for (j = 0; j < nt; j++)
        kp[j] = k[use[j]];
#ifdef __x86_64__
    {
        __m256d c[RK_S];
        for (j = 0; j < nt; j++)
            c[j] = _mm256_set1_pd(a[j]);
        for (; i + 4 <= n; i += 4) {
            __m256d s = _mm256_mul_pd(c[0], _mm256_loadu_pd(kp[0] + i));
            for (j = 1; j < nt; j++)
                s = _mm256_add_pd(s, _mm256_mul_pd(c[j], _mm256_loadu_pd(kp[j] + i)));
            _mm256_storeu_pd(out + i, _mm256_add_pd(_mm256_loadu_pd(y + i), s));
        }
    }
#endif
    rk_comb_tail(out, y, kp, a, nt, i, n);
}

#ifdef SS_BATCH_AVX512
/* rk_comb_n with 8 doubles a vector: the same sums in the same order. */
static inline __attribute__((always_inline)) SS_AVX512 void
rk_comb_n512(double *restrict out, const double *restrict y, double *const *k,
             const unsigned char *use, const double *a, const int nt, size_t n)
{
    const double *kp[RK_S];
    __m512d c[RK_S];
    size_t i = 0;
    int j;
    for (j = 0; j < nt; j++) {
        kp[j] = k[use[j]];
        c[j] = _mm512_set1_pd(a[j]);
    }
    for (; i + 8 <= n; i += 8) {
        __m512d s = _mm512_mul_pd(c[0], _mm512_loadu_pd(kp[0] + i));
        for (j = 1; j < nt; j++)
            s = _mm512_add_pd(s, _mm512_mul_pd(c[j], _mm512_loadu_pd(kp[j] + i)));
        _mm512_storeu_pd(out + i, _mm512_add_pd(_mm512_loadu_pd(y + i), s));
    }
    rk_comb_tail(out, y, kp, a, nt, i, n);
}

SS_AVX512
static void rk_comb512(double *restrict out, const double *restrict y, double *const *k,
                       const unsigned char *use, const double *a, int nt, size_t n)
{
    switch (nt) {
    case 1: rk_comb_n512(out, y, k, use, a, 1, n); break;
    case 2: rk_comb_n512(out, y, k, use, a, 2, n); break;
    case 3: rk_comb_n512(out, y, k, use, a, 3, n); break;
    case 4: rk_comb_n512(out, y, k, use, a, 4, n); break;
    case 5: rk_comb_n512(out, y, k, use, a, 5, n); break;
    case 6: rk_comb_n512(out, y, k, use, a, 6, n); break;
    case 7: rk_comb_n512(out, y, k, use, a, 7, n); break;
    case 8: rk_comb_n512(out, y, k, use, a, 8, n); break;
    case 9: rk_comb_n512(out, y, k, use, a, 9, n); break;
    default: rk_comb_n512(out, y, k, use, a, 10, n); break;
    }
}

/* rk_final with 8 doubles a vector: the same sums in the same order. */
SS_AVX512
static void rk_final512(double *restrict y, double *restrict yerr, double *const *k,
                        const double *hi, const double *lo, size_t n)
{
    const double *kp[RK_NHI];
    __m512d ch[RK_NHI], cl[RK_NLO];
    size_t i = 0;
    int j;
    for (j = 0; j < RK_NHI; j++) {
        kp[j] = k[RK_HI[j]];
        ch[j] = _mm512_set1_pd(hi[j]);
    }
    for (j = 0; j < RK_NLO; j++)
        cl[j] = _mm512_set1_pd(lo[j]);
    for (; i + 8 <= n; i += 8) {
        __m512d x = _mm512_loadu_pd(kp[0] + i);
        __m512d s8 = _mm512_mul_pd(ch[0], x), s7 = _mm512_mul_pd(cl[0], x);
        for (j = 1; j < RK_NLO; j++) {
            x = _mm512_loadu_pd(kp[j] + i);
            s8 = _mm512_add_pd(s8, _mm512_mul_pd(ch[j], x));
            s7 = _mm512_add_pd(s7, _mm512_mul_pd(cl[j], x));
        }
        for (; j < RK_NHI; j++)
            s8 = _mm512_add_pd(s8, _mm512_mul_pd(ch[j], _mm512_loadu_pd(kp[j] + i)));
        _mm512_storeu_pd(y + i, _mm512_add_pd(_mm512_loadu_pd(y + i), s8));
        _mm512_storeu_pd(yerr + i, _mm512_sub_pd(s7, s8));
    }
    rk_final_tail(y, yerr, kp, hi, lo, i, n);
}
#endif

static void rk_comb(double *restrict out, const double *restrict y, double *const *k,
                    const unsigned char *use, const double *a, int nt, size_t n)
{
    switch (nt) {
    case 1: rk_comb_n(out, y, k, use, a, 1, n); break;
    case 2: rk_comb_n(out, y, k, use, a, 2, n); break;
    case 3: rk_comb_n(out, y, k, use, a, 3, n); break;
    case 4: rk_comb_n(out, y, k, use, a, 4, n); break;
    case 5: rk_comb_n(out, y, k, use, a, 5, n); break;
    case 6: rk_comb_n(out, y, k, use, a, 6, n); break;
    case 7: rk_comb_n(out, y, k, use, a, 7, n); break;
    case 8: rk_comb_n(out, y, k, use, a, 8, n); break;
    case 9: rk_comb_n(out, y, k, use, a, 9, n); break;
    default: rk_comb_n(out, y, k, use, a, 10, n); break;   /* RK_USE has at most 10 */
    }
}

/* y += the 8th-order sum; yerr = the 7th-order sum - the 8th-order sum. */
static void rk_final(double *restrict y, double *restrict yerr, double *const *k,
                     const double *hi, const double *lo, size_t n)
{
    const double *kp[RK_NHI];
    size_t i = 0;
    int j;
    for (j = 0; j < RK_NHI; j++)
        kp[j] = k[RK_HI[j]];
#ifdef __x86_64__
    {
        __m256d ch[RK_NHI], cl[RK_NLO];
        for (j = 0; j < RK_NHI; j++)
            ch[j] = _mm256_set1_pd(hi[j]);
        for (j = 0; j < RK_NLO; j++)
            cl[j] = _mm256_set1_pd(lo[j]);
        for (; i + 4 <= n; i += 4) {
            __m256d x = _mm256_loadu_pd(kp[0] + i);
            __m256d s8 = _mm256_mul_pd(ch[0], x), s7 = _mm256_mul_pd(cl[0], x);
            for (j = 1; j < RK_NLO; j++) {
                x = _mm256_loadu_pd(kp[j] + i);
                s8 = _mm256_add_pd(s8, _mm256_mul_pd(ch[j], x));
                s7 = _mm256_add_pd(s7, _mm256_mul_pd(cl[j], x));
            }
            for (; j < RK_NHI; j++)
                s8 = _mm256_add_pd(s8, _mm256_mul_pd(ch[j], _mm256_loadu_pd(kp[j] + i)));
            _mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_loadu_pd(y + i), s8));
            _mm256_storeu_pd(yerr + i, _mm256_sub_pd(s7, s8));
        }
    }
#endif
    rk_final_tail(y, yerr, kp, hi, lo, i, n);
}

/* One step of size 1 from s = 0 of dy/ds = f(s, y) over n values, with
 * k1 = f(0, y) given; k[1..13] (k[1] = k1) and tmp: scratch of n. */
static int rk_step(const ss_batch *b, size_t n, double *y, double *yerr, double *const *k,
                   double *tmp, int (*f)(double, const double *, double *, void *), void *par)
{
    int s;
    for (s = 2; s <= RK_S; s++) {
#ifdef SS_BATCH_AVX512
        if (b->avx512)
            rk_comb512(tmp, y, k, RK_USE[s], b->rk_a[s], rk_nterms(s), n);
        else
#endif
            rk_comb(tmp, y, k, RK_USE[s], b->rk_a[s], rk_nterms(s), n);
        if (f(b->rk_c[s], tmp, k[s], par) != GSL_SUCCESS)
            return GSL_FAILURE;
    }
#ifdef SS_BATCH_AVX512
    if (b->avx512)
        rk_final512(y, yerr, k, b->rk_hi, b->rk_lo, n);
    else
#endif
        rk_final(y, yerr, k, b->rk_hi, b->rk_lo, n);
    return GSL_SUCCESS;
}

/* A nonlinear test system for rk_verify. */
static int rk_test_f(double t, const double y[], double f[], void *params)
{
    size_t i, n = *(const size_t *)params;
    for (i = 0; i < n; i++)
        f[i] = sin(3.0 * y[i] + t) - 0.7 * y[(i + 1) % n] * y[i] + 0.1 * (double)i;
    return GSL_SUCCESS;
}

/* 0 if rk_step gives GSL's step bit for bit on the test system. */
static int rk_verify(const ss_batch *b)
{
    enum { n = 37 };
    size_t dim = n, i;
    gsl_odeiv2_step *st = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rk8pd, n);
    gsl_odeiv2_system sys = { rk_test_f, NULL, n, &dim };
    double *w = malloc((RK_S + 6) * n * sizeof *w), *k[RK_S + 1];
    int rc = -1, s;
    if (!st || !w)
        goto done;
    for (s = 1; s <= RK_S; s++)
        k[s] = w + (size_t)(s - 1) * n;
    {
        double *y = w + RK_S * n, *y2 = y + n, *e = y2 + n, *e2 = e + n, *tmp = e2 + n,
               *din = tmp + n;
        for (i = 0; i < n; i++)
            y[i] = y2[i] = 0.3 * sin(1.7 * (double)i + 0.2) + 1e-3 * (double)i;
        rk_test_f(0.0, y, din, &dim);
        memcpy(k[1], din, n * sizeof *din);
        if (gsl_odeiv2_step_apply(st, 0.0, 1.0, y, e, din, NULL, &sys) != GSL_SUCCESS ||
            rk_step(b, n, y2, e2, k, tmp, rk_test_f, &dim) != GSL_SUCCESS)
            goto done;
        if (memcmp(y, y2, n * sizeof *y) == 0 && memcmp(e, e2, n * sizeof *e) == 0)
            rc = 0;
    }
done:
    if (st)
        gsl_odeiv2_step_free(st);
    free(w);
    return rc;
}

int ss_batch_own_stepper(void)
{
    ss_batch *b = ss_batch_new();
    int ok = b && rk_probe(b) == 0 && rk_verify(b) == 0;
    /* and the AVX2 sums where the AVX-512F ones were checked */
    if (ok && b->avx512) {
        (void)ss_batch_use_avx512(b, 0);
        ok = rk_verify(b) == 0;
    }
    ss_batch_free(b);
    return ok;
}

/* ----------------------------------------------------------------- lanes */

/* Constants and the initial state of lane l (sim.c's init_run). */
static void init_lane(ss_batch *b, size_t l)
{
    const ss_model *m = b->ln[l].m;
    size_t L = b->L, N = b->N, K = b->K, NK = b->NK, i, k;
    b->r_disc[l] = m->discount_rate;
    b->t0[l] = m->t0;
    for (k = 0; k < K; k++) {
        const ss_segment *s = &m->seg[k];
        size_t q = k * L + l;
        b->bC[q] = s->beta_capability;
        b->bP[q] = s->beta_price;
        b->bR[q] = s->beta_reliability;
        b->inv_tau[q] = 1.0 / s->tau;
        b->eff[q] = s->efficiency;
        b->dep[q] = s->depreciation;
        b->neg_b[q] = -s->learning;
        b->bass_p[q] = s->bass_p;
        b->bass_q[q] = s->bass_q;
        b->pot[q] = s->bass_potential;
        b->y[(3 * NK + 2 * N + k) * L + l] = s->has_bass ? s->size / s->bass_potential : s->size;
    }
    for (i = 0; i < N; i++) {
        const ss_provider *p = &m->prov[i];
        for (k = 0; k < K; k++) {
            size_t j = i * K + k;
            double rev = m->seg[k].size * p->share[k];
            double V0 = p->experience * rev;
            b->y[j * L + l] = p->share[k];
            b->y[(NK + j) * L + l] = p->capability[k];
            b->y[(2 * NK + j) * L + l] = V0;
            b->invV0[j * L + l] = V0 > 0.0 ? 1.0 / V0 : 0.0;
            b->om[j * L + l] = 1.0 - p->margin[k];
            b->opex[j * L + l] = p->opex[k];
            b->brand[j * L + l] = p->brand[k];
            b->pc_p[j * L + l] = NAN; /* never equal: the first lookup computes pow */
        }
        b->y[(3 * NK + i) * L + l] = p->reliability;
        b->y[(3 * NK + N + i) * L + l] = 0.0;
        b->fixed[i * L + l] = p->fixed_cost;
        b->inv_rec[i * L + l] = 1.0 / p->recovery;
    }
}

/*
 * Where lane a's inputs may change: chg[j] = 1 if an event time, a knot of a
 * schedule or the policy time (a->extra, sorted by ss_sim_breakpoints) lies
 * strictly between breakpoints j - 1 and j + 1. Breakpoint j merges the
 * times in [bp[j], bp[j + 1]), so an x of that range marks j, and j + 1
 * too if x > bp[j] (a knot merged into bp[j] from a little later takes
 * effect at bp[j + 1]). Elsewhere (an output time or an epoch only, which
 * change no input), the next interval's inputs are the last one's:
 * prepare() would compute the same values, the same inputs varying inside
 * the interval (their schedules' pieces reach past both intervals) and the
 * same values held, so arrive() keeps them.
 */
static int input_changes(lane *a)
{
    size_t n = a->bp.n, j = 0, q;
    if (grow((void **)&a->chg, &a->capchg, n + 1, 1))
        return SS_ENOMEM;
    memset(a->chg, 0, n + 1);
    for (q = 0; q < a->extra.n && n > 0; q++) {
        double x = a->extra.v[q];
        while (j + 1 < n && a->bp.v[j + 1] <= x)
            j++;
        a->chg[j] = 1;
        if (x > a->bp.v[j])
            a->chg[j + 1] = 1;
    }
    return SS_OK;
}

/* Lane a's breakpoints (sim.c's). SS_OK, SS_ENOMEM, or SS_EINVAL: the
 * epochs cannot be formed (the scalar engine reports it). */
static int breakpoints(ss_batch *b, lane *a)
{
    ss_err e;
    int rc;
    ss_err_clear(&e);
    a->epochs.n = 0;
    if ((rc = ss_sim_epoch_times(&a->epochs, a->m, &e)))
        return rc;
    if ((rc = ss_sim_breakpoints(&a->bp, &a->extra, a->m, &b->outs, &a->epochs)))
        return rc;
    return input_changes(a);
}

/* Lane a's events in time order, ties in declaration order (sim.c's). */
static int order_events(lane *a)
{
    size_t n = a->m->nev;
    if (grow((void **)&a->evo, &a->capev, n + 1, sizeof *a->evo) ||
        grow((void **)&a->evtmp, &a->capevt, n + 1, sizeof *a->evtmp))
        return SS_ENOMEM;
    ss_sim_order_events(a->m->ev, n, a->evo, a->evtmp);
    a->evpos = 0;
    return SS_OK;
}

/* Apply lane l's events due at tb (sim.c's apply_event). Returns 1 if any. */
static int apply_events(ss_batch *b, size_t l, double tb)
{
    lane *a = &b->ln[l];
    ss_model *m = a->m;
    size_t L = b->L, N = b->N, NK = b->NK;
    int any = 0;
    while (a->evpos < m->nev && m->ev[a->evo[a->evpos]].t <= tb + TIME_TOL) {
        const ss_event *ev = &m->ev[a->evo[a->evpos++]];
        any = 1;
        switch (ev->kind) {
        case SS_EV_OUTAGE:
            b->y[(3 * NK + (size_t)ev->provider) * L + l] *= 1.0 - ev->amount;
            break;
        case SS_EV_MARKET:
            b->y[(3 * NK + 2 * N + (size_t)ev->segment) * L + l] *= ev->amount;
            break;
        case SS_EV_SET:
            ss_sim_apply_set(m, ev);
            a->reclass = 1;
            break;
        }
    }
    return any;
}

/* sim.c's apply_interventions for lane l. */
static int apply_iv(ss_batch *b, size_t l)
{
    if (ss_sim_apply_interventions(b->ln[l].m) != SS_OK)
        return SS_ENOMEM;
    b->ln[l].reclass = 1;
    return SS_OK;
}

/* sim.c's check_state for lane l: 0 if its state is finite, its shares in
 * [0, 1] and its sizes non-negative. */
static int state_ok(const ss_batch *b, size_t l)
{
    size_t L = b->L, NK = b->NK, v;
    const double *y = b->y + l;
    int bad = 0; /* the checks or-ed, without a branch per value */
    for (v = 0; v < b->dim; v++)
        bad |= !(fabs(y[v * L]) <= DBL_MAX); /* infinite or NaN */
    for (v = 0; v < NK; v++)
        bad |= (y[v * L] < -SHARE_TOL) | (y[v * L] > 1.0 + SHARE_TOL);
    for (v = 3 * NK + 2 * b->N; v < b->dim; v++)
        bad |= y[v * L] < 0.0;
    return !bad;
}

/* Record lane l's outputs at output ti from the auxiliaries at its time. 0: not finite. */
static int record(ss_batch *b, size_t l, size_t ti)
{
    size_t N = b->N, K = b->K, NK = b->NK, L = b->L, i, k;
    ss_result *res = b->ln[l].res;
    res->t[ti] = b->outs.v[ti];
    for (k = 0; k < K; k++) {
        double hhi = 0.0;
        for (i = 0; i < N; i++) {
            size_t q = (i * K + k) * L + l;
            double s = b->y[q];
            SS_RESULT_PS(res, ti, SS_PS_SHARE, i, k) = s;
            SS_RESULT_PS(res, ti, SS_PS_TARGET_SHARE, i, k) = b->tgt[q];
            SS_RESULT_PS(res, ti, SS_PS_REVENUE, i, k) = b->rev[q];
            SS_RESULT_PS(res, ti, SS_PS_GROSS_MARGIN, i, k) = b->margin[q];
            SS_RESULT_PS(res, ti, SS_PS_CAPABILITY, i, k) = b->y[(NK + i * K + k) * L + l];
            hhi += s * s;
        }
        SS_RESULT_S(res, ti, SS_S_SIZE, k) = b->M[k * L + l];
        SS_RESULT_S(res, ti, SS_S_HHI, k) = hhi;
    }
    for (i = 0; i < N; i++) {
        size_t q = i * L + l;
        SS_RESULT_P(res, ti, SS_P_REVENUE, i) = b->revi[q];
        SS_RESULT_P(res, ti, SS_P_GROSS_PROFIT, i) = b->gp[q];
        SS_RESULT_P(res, ti, SS_P_OPERATING_PROFIT, i) = b->op[q];
        SS_RESULT_P(res, ti, SS_P_INVESTMENT, i) = b->inv[q];
        SS_RESULT_P(res, ti, SS_P_RELIABILITY, i) = b->y[(3 * NK + i) * L + l];
        SS_RESULT_P(res, ti, SS_P_NPV, i) = b->y[(3 * NK + N + i) * L + l];
    }
    return ss_all_finite(&SS_RESULT_PS(res, ti, 0, 0, 0), K * N * SS_NPS) &&
           ss_all_finite(&SS_RESULT_P(res, ti, 0, 0), N * SS_NP);
}

/* 1 if m has the block's shape (providers, segments, Bass segments, output grid). */
static int same_shape(const ss_batch *b, const ss_model *m)
{
    size_t k;
    if (!m->resolved || m->nprov != b->N || m->nseg != b->K || m->t0 != b->gt0 || m->t1 != b->gt1 ||
        m->step != b->gstep || !ss_batch_supports(m))
        return 0;
    for (k = 0; k < b->K; k++)
        if ((unsigned char)m->seg[k].has_bass != b->gbass[k])
            return 0;
    return 1;
}

/* Lane l leaves its run: report it (with its result if ok). */
static void finish_lane(ss_batch *b, size_t l, const ss_batch_io *io, int ok)
{
    lane *a = &b->ln[l];
    io->done(io->ctx, a->run, ok ? a->res : NULL);
    ss_model_free(a->m);
    a->m = NULL;
}

/*
 * Lane l is at breakpoint a->bi: events, interventions, state check,
 * outputs; then either the next interval starts, or the run is done.
 * Returns 1 if the lane goes on, 0 if its run ended (ok or failed),
 * SS_ENOMEM as a negative value.
 */
static int arrive(ss_batch *b, size_t l, const ss_batch_io *io)
{
    lane *a = &b->ln[l];
    double tb = a->bp.v[a->bi], tn;
    int jumped = apply_events(b, l, tb);
    a->t = a->ta = tb;
    if (a->iv_pending && a->tp <= tb + TIME_TOL) {
        if (apply_iv(b, l))
            return -1;
        a->iv_pending = 0;
        jumped = 1;
    }
    if ((a->bi == 0 || jumped) && !state_ok(b, l))
        goto fail;
    a->rec0 = a->oi;
    while (a->oi < b->nt && b->outs.v[a->oi] <= tb + TIME_TOL)
        a->oi++;
    if (a->bi + 1 >= a->bp.n) {
        /* the end: the outputs here from an evaluation of this lane alone */
        if (a->rec0 < a->oi) {
            if (prepare(b, l, tb, tb))
                goto fail;
            b->tl[l] = tb;
            b->bad[l] = 0;
            eval_aux(b, l, l + 1, b->y);
            if (b->bad[l])
                goto fail;
            for (; a->rec0 < a->oi; a->rec0++)
                if (!record(b, l, a->rec0))
                    goto fail;
        }
        finish_lane(b, l, io, a->oi == b->nt);
        return 0;
    }
    tn = a->bp.v[a->bi + 1];
    /* the inputs of [tb, tn]: the last interval's unless something changed */
    if ((a->bi == 0 || jumped || a->reclass || a->chg[a->bi]) && prepare(b, l, tb, tn))
        goto fail;
    a->tend = tn;
    a->h = a->hint < tn - tb ? a->hint : tn - tb;
    a->nsteps = 0;
    return 1;
fail:
    finish_lane(b, l, io, 0);
    return 0;
}

/* Lane l takes the next run (*next) of the block, if any. Negative: SS_ENOMEM. */
static int load(ss_batch *b, size_t l, size_t *next, size_t nruns, const ss_batch_io *io)
{
    lane *a = &b->ln[l];
    while (*next < nruns) {
        size_t r = (*next)++;
        ss_model *m = NULL;
        int rc;
        a->run = r;
        if (io->load(io->ctx, r, &m) || !m) {
            ss_model_free(m);
            io->done(io->ctx, r, NULL);
            continue;
        }
        a->m = m;
        if (!same_shape(b, m)) {
            finish_lane(b, l, io, 0);
            continue;
        }
        if ((rc = breakpoints(b, a)) == SS_OK)
            rc = order_events(a);
        if (rc == SS_ENOMEM)
            return -1;
        if (rc) {
            finish_lane(b, l, io, 0);
            continue;
        }
        init_lane(b, l);
        a->rtol = m->solver.rtol;
        a->atol = m->solver.atol;
        a->hmin = m->solver.hmin;
        a->max_steps = m->solver.max_steps;
        a->hint = m->solver.h;
        a->bi = 0;
        a->oi = 0;
        a->tp = ss_model_policy_time(m);
        a->iv_pending = ss_model_interventions(m) > 0;
        a->reclass = 1;
        a->ndyn = a->nvar = 0;
        pw_modes(b);
        rc = arrive(b, l, io);
        if (rc < 0)
            return -1;
        if (rc > 0)
            return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------- run */

/* The block's shape from run 0's model; the lanes' arrays. */
static int setup(ss_batch *b, size_t L, const ss_model *m)
{
    size_t need, l, k;
    ss_err e;
    int rc;
    ss_err_clear(&e);
    b->N = m->nprov;
    b->K = m->nseg;
    b->NK = b->N * b->K;
    b->dim = 3 * b->NK + 2 * b->N + b->K;
    b->L = L;
    b->nitems = b->K + 2 * b->N + b->NK;
    b->gt0 = m->t0;
    b->gt1 = m->t1;
    b->gstep = m->step;
    /* the output grid (sim.c's) */
    b->outs.n = 0;
    if ((rc = ss_sim_output_times(&b->outs, m, &e)))
        return rc;
    b->nt = b->outs.n;
    if (grow((void **)&b->gbass, &b->capgbass, b->K + 1, 1))
        return SS_ENOMEM;
    for (k = 0; k < b->K; k++)
        b->gbass[k] = (unsigned char)m->seg[k].has_bass;
    need = layout(b, NULL);
    if (need > b->blk_size) {
        void *nb = NULL;
        free(b->blk);
        b->blk = NULL;
        b->blk_size = 0;
        if (posix_memalign(&nb, ALIGN, need) != 0)
            return SS_ENOMEM;
        b->blk = nb;
        b->blk_size = need;
    }
    layout(b, b->blk);
    memset(b->blk, 0, need);
    b->npd = 0;
    for (k = 0; k < b->K; k++)
        b->bass[k] = b->gbass[k];
    /* every lane starts with a harmless state (idle lanes are integrated too) */
    for (l = 0; l < L; l++) {
        for (k = 0; k < b->NK; k++) {
            b->brand[k * L + l] = 1.0;
            b->invp[k * L + l] = 1.0;
        }
        for (k = 0; k < b->N; k++) {
            b->y[(3 * b->NK + k) * L + l] = 1.0;
            b->inv_rec[k * L + l] = 1.0;
        }
        for (k = 0; k < b->K; k++) {
            b->inv_tau[k * L + l] = 1.0;
            b->bC[k * L + l] = b->bP[k * L + l] = b->bR[k * L + l] = 1.0;
        }
    }
    free(b->pid);
    free(b->sid);
    b->pid = malloc((b->N + 1) * sizeof *b->pid);
    b->sid = malloc((b->K + 1) * sizeof *b->sid);
    if (!b->pid || !b->sid)
        return SS_ENOMEM;
    for (l = 0; l < b->N; l++)
        b->pid[l] = m->prov[l].id;
    for (l = 0; l < b->K; l++)
        b->sid[l] = m->seg[l].id;
    lanes_free(b);
    b->ln = calloc(L, sizeof *b->ln);
    if (!b->ln)
        return SS_ENOMEM;
    b->lcap = L;
    for (l = 0; l < L; l++) {
        lane *a = &b->ln[l];
        a->var = malloc(b->nitems * sizeof *a->var);
        a->dyn = malloc(b->nitems * sizeof *a->dyn);
        a->res = ss_result_new(m->name, b->nt, b->N, b->pid, b->K, b->sid);
        if (!a->var || !a->dyn || !a->res)
            return SS_ENOMEM;
    }
    if (b->step && b->step_dim != b->dim * L) {
        gsl_odeiv2_step_free(b->step);
        b->step = NULL;
    }
    if (!b->step) {
        b->step = gsl_odeiv2_step_alloc(gsl_odeiv2_step_rk8pd, b->dim * L);
        if (!b->step)
            return SS_ENOMEM;
        b->step_dim = b->dim * L;
    }
    gsl_odeiv2_step_reset(b->step);
    if (b->rk_ok == 0)
        b->rk_ok = rk_probe(b) == 0 && rk_verify(b) == 0 ? 1 : -1;
    b->sys.function = rhs;
    b->sys.jacobian = NULL;
    b->sys.dimension = b->dim * L;
    b->sys.params = b;
    return SS_OK;
}

/* One step of every busy lane; lanes that reach their breakpoint move on. */
static int step_all(ss_batch *b, size_t *next, size_t nruns, const ss_batch_io *io)
{
    size_t L = b->L, dim = b->dim, l, v;
    int st;
    SS_IVDEP
    for (l = 0; l < L; l++) {
        lane *a = &b->ln[l];
        b->bad[l] = 0;
        if (!a->m) {
            b->tc[l] = b->tl[l] = 0.0;
            b->hc[l] = 0.0;
            continue;
        }
        /* as GSL's evolve: only a step longer than what is left of the
           interval is cut to end on it; one exactly as long is an ordinary
           step (its end is a->t + a->h) */
        a->final = a->h > a->tend - a->t;
        b->tc[l] = a->t;
        b->hc[l] = a->final ? a->tend - a->t : a->h;
    }
    memcpy(b->y0, b->y, dim * L * sizeof *b->y);
    rhs(0.0, b->y, b->din, b);
    /* outputs at the lanes' breakpoints: the auxiliaries of this evaluation
       are those at the breakpoint (the interval's inputs at its start are
       the schedules' values there), as sim.c's first step reuses record's */
    SS_IVDEP
    for (l = 0; l < L; l++) {
        lane *a = &b->ln[l];
        if (!a->m || b->bad[l])
            continue;
        for (; a->rec0 < a->oi; a->rec0++)
            if (!record(b, l, a->rec0)) {
                b->bad[l] = 1;
                break;
            }
    }
    if (b->rk_ok > 0)
        st = rk_step(b, dim * L, b->y, b->yerr, b->rk_k, b->rk_tmp, rhs, b);
    else
        st = gsl_odeiv2_step_apply(b->step, 0.0, 1.0, b->y, b->yerr, b->din, NULL, &b->sys);
    if (st != GSL_SUCCESS)
        return -1;
    /* the standard control of each lane (a_y = 1, a_dydt = 0) */
    SS_IVDEP
    for (l = 0; l < L; l++) {
        b->rmax[l] = GSL_DBL_MIN;
        b->s4[l] = 0.0;
        /* an idle lane's error is measured against 1: no 0 / 0 */
        b->tl[l] = b->ln[l].m ? b->ln[l].rtol : 1.0;
        b->s3[l] = b->ln[l].m ? b->ln[l].atol : 1.0;
    }
    for (v = 0; v < dim; v++) {
        const double *restrict y = b->y + v * L, *restrict e = b->yerr + v * L;
        const double *restrict rt = b->tl, *restrict at = b->s3;
        double *restrict rm = b->rmax, *restrict z = b->s4;
        SS_IVDEP
        for (l = 0; l < L; l++) {
            double D0 = rt[l] * fabs(y[l]) + at[l];
            double r = fabs(e[l]) / fabs(D0);
            rm[l] = r > rm[l] ? r : rm[l];
            z[l] += y[l] * 0.0 + e[l] * 0.0;   /* NaN if either is not finite */
        }
    }
    SS_IVDEP
    for (l = 0; l < L; l++) {
        lane *a = &b->ln[l];
        double h_old = b->hc[l], rmax = b->rmax[l], h_new = h_old, t_new;
        int rc;
        if (!a->m)
            continue;
        if (b->bad[l] || b->s4[l] != 0.0 || !(rmax <= GSL_DBL_MAX)) {
            finish_lane(b, l, io, 0);
            goto reload;
        }
        t_new = a->final ? a->tend : a->t + h_old;
        if (rmax > 1.1) {
            double r = 0.9 / pow(rmax, 1.0 / 8.0);
            if (r < 0.2)
                r = 0.2;
            h_new = r * h_old;
            if (fabs(h_new) < fabs(h_old) && t_new + h_new != t_new) {
                /* rejected: back to the start of the step, smaller */
                for (v = 0; v < dim; v++)
                    b->y[v * L + l] = b->y0[v * L + l];
                a->h = h_new;
                continue;
            }
            /* no smaller step moves t: GSL's evolve fails the run here */
            finish_lane(b, l, io, 0);
            goto reload;
        } else if (rmax < 0.5) {
            double r = 0.9 / pow(rmax, 1.0 / 9.0);
            if (r > 5.0)
                r = 5.0;
            if (r < 1.0)
                r = 1.0;
            h_new = r * h_old;
        }
        a->t = t_new;
        /* as GSL's evolve: a step cut short to end the interval proposes no
           new step size (it may be tiny), so the one before it carries over
           to the next interval as its hint */
        if (!a->final)
            a->h = h_new;
        if (++a->nsteps > a->max_steps || (!a->final && h_new < a->hmin)) {
            finish_lane(b, l, io, 0);
            goto reload;
        }
        if (!a->final && t_new < a->tend)
            continue;
        /* at the lane's next breakpoint */
        if (!state_ok(b, l)) {
            finish_lane(b, l, io, 0);
            goto reload;
        }
        if (a->h > 0.0)
            a->hint = a->h;
        a->bi++;
        rc = arrive(b, l, io);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
    reload:
        if (load(b, l, next, nruns, io))
            return -1;
        if (!a->m)
            pw_modes(b);
    }
    return 0;
}

int ss_batch_run(ss_batch *b, size_t L, size_t nruns, const ss_batch_io *io, ss_err *err)
{
    size_t next = 0, l, busy, nstep = 0;
    ss_model *m0 = NULL;
    int rc;

    if (nruns == 0)
        return SS_OK;
    if (L < 1)
        L = 1;
    if (L > nruns)
        L = nruns;
    /* the shape: run 0's model */
    if (io->load(io->ctx, 0, &m0) || !m0 || !m0->resolved || !ss_batch_supports(m0)) {
        ss_model_free(m0);
        io->done(io->ctx, 0, NULL);
        next = 1;
        if (nruns == 1)
            return SS_OK;
        /* find a model that gives the shape */
        while (next < nruns) {
            m0 = NULL;
            if (!io->load(io->ctx, next, &m0) && m0 && m0->resolved && ss_batch_supports(m0))
                break;
            ss_model_free(m0);
            m0 = NULL;
            io->done(io->ctx, next++, NULL);
        }
        if (!m0)
            return SS_OK;
    }
    if ((rc = setup(b, L, m0))) {
        ss_model_free(m0);
        if (rc == SS_ENOMEM)
            return ss_err_set(err, rc, "", "out of memory");
        /* no output grid (resolve checks it): the scalar engine reports why */
        for (; next < nruns; next++)
            io->done(io->ctx, next, NULL);
        return SS_OK;
    }
    /* lane 0 starts with the model just loaded */
    {
        lane *a = &b->ln[0];
        a->run = next++;
        a->m = m0;
        if ((rc = breakpoints(b, a)) == SS_OK)
            rc = order_events(a);
        if (rc == SS_ENOMEM)
            goto nomem;
        if (rc) {
            finish_lane(b, 0, io, 0);
            if (load(b, 0, &next, nruns, io))
                goto nomem;
            goto rest;
        }
        init_lane(b, 0);
        a->rtol = m0->solver.rtol;
        a->atol = m0->solver.atol;
        a->hmin = m0->solver.hmin;
        a->max_steps = m0->solver.max_steps;
        a->hint = m0->solver.h;
        a->tp = ss_model_policy_time(m0);
        a->iv_pending = ss_model_interventions(m0) > 0;
        a->reclass = 1;
        pw_modes(b);
        rc = arrive(b, 0, io);
        if (rc < 0)
            goto nomem;
        if (rc == 0 && load(b, 0, &next, nruns, io))
            goto nomem;
    }
rest:
    for (l = 1; l < L; l++)
        if (load(b, l, &next, nruns, io))
            goto nomem;
    for (;;) {
        for (l = 0, busy = 0; l < L; l++)
            busy += b->ln[l].m != NULL;
        if (!busy)
            break;
        if ((++nstep & 63) == 0 && io->stop && io->stop(io->ctx)) {
            for (l = 0; l < L; l++) {
                ss_model_free(b->ln[l].m);
                b->ln[l].m = NULL;
            }
            return ss_err_set(err, SS_EINTR, "", "stopped");
        }
        if (step_all(b, &next, nruns, io))
            goto nomem;
    }
    return SS_OK;
nomem:
    for (l = 0; l < b->lcap; l++) {
        ss_model_free(b->ln[l].m);
        b->ln[l].m = NULL;
    }
    return ss_err_set(err, SS_ENOMEM, "", "out of memory");
}

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute pop
#endif
