/*
 * dist.c - distributions of uncertain inputs: validation, the name table,
 * the text form, sampling, quantiles and analytic moments.
 *
 * Sampling uses GSL's gsl_ran_* generators where they exist (normal,
 * lognormal, beta) and the inverse CDF otherwise (uniform, triangular,
 * truncated normal), with the caller's gsl_rng.  The truncated normal is
 * standardised and, when the interval lies above the mean, reflected so that
 * the work happens in the lower tail where Phi is accurate; beyond 30 sd it
 * switches to log space (log Phi from gsl_sf_log_erfc, solved by Newton's
 * method, which converges monotonically because log Phi is concave).  Its
 * moments use Mills ratios in log space, continued fractions for intervals
 * more than 5 sd out, and Simpson's rule for intervals so narrow that the
 * closed form would cancel.  Depends on GSL and numfmt.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_erf.h>
#include "stratsim/dist.h"
#include "stratsim/io.h"

/* Names, parameter names and counts, indexed by ss_dist_kind. */
static const struct {
    const char *name;
    size_t nmin, nmax;
    const char *pnames[SS_DIST_MAXPARAMS];
    const char *signature;
} kinds[SS_NDISTS] = {
    { "fixed", 1, 1, { "value" }, "fixed(value)" },
    { "normal", 2, 2, { "mean", "sd" }, "normal(mean, sd)" },
    { "lognormal", 2, 2, { "mu", "sigma" }, "lognormal(mu, sigma)" },
    { "uniform", 2, 2, { "a", "b" }, "uniform(a, b)" },
    { "triangular", 3, 3, { "a", "mode", "b" }, "triangular(a, mode, b)" },
    { "beta", 2, 4, { "alpha", "beta", "lo", "hi" }, "beta(alpha, beta[, lo, hi])" },
    { "truncnormal", 4, 4, { "mean", "sd", "lo", "hi" }, "truncnormal(mean, sd, lo, hi)" },
};

#define LOG_SQRT_2PI 0.91893853320467274178
#define SQRT1_2 0.70710678118654752440
#define LN2 0.69314718055994530942
/* Below this standardised upper bound the truncated normal works in log space. */
#define TN_LOG_SPACE (-30.0)

static int valid_kind(ss_dist_kind k)
{
    return (int)k >= 0 && k < SS_NDISTS;
}

const char *ss_dist_kind_name(ss_dist_kind kind)
{
    return valid_kind(kind) ? kinds[kind].name : "?";
}

int ss_dist_kind_parse(const char *name)
{
    int k;
    for (k = 0; name && k < SS_NDISTS; k++)
        if (strcmp(kinds[k].name, name) == 0)
            return k;
    return -1;
}

size_t ss_dist_nparams_min(ss_dist_kind kind)
{
    return valid_kind(kind) ? kinds[kind].nmin : 0;
}

size_t ss_dist_nparams_max(ss_dist_kind kind)
{
    return valid_kind(kind) ? kinds[kind].nmax : 0;
}

/* ------------------------------------------------------------ validation */

/* Record "normal(mean, sd): sd must be > 0 (got -1)". */
static int bad_param(const ss_dist *d, int j, const char *path, ss_err *err, const char *what)
{
    char num[40];
    ss_fmt_double(num, sizeof num, d->p[j]);
    return ss_err_set(err, SS_EINVAL, path, "%s: %s %s (got %s)", kinds[d->kind].signature,
                      kinds[d->kind].pnames[j], what, num);
}

/* Record "uniform(a, b): a must be < b (got 2 and 1)". */
static int bad_order(const ss_dist *d, int i, int j, const char *rel, const char *path, ss_err *err)
{
    char x[40], y[40];
    ss_fmt_double(x, sizeof x, d->p[i]);
    ss_fmt_double(y, sizeof y, d->p[j]);
    return ss_err_set(err, SS_EINVAL, path, "%s: %s must be %s %s (got %s and %s)",
                      kinds[d->kind].signature, kinds[d->kind].pnames[i], rel,
                      kinds[d->kind].pnames[j], x, y);
}

int ss_dist_validate(const ss_dist *d, const char *path, ss_err *err)
{
    size_t j, n;
    if (!valid_kind(d->kind))
        return ss_err_set(err, SS_EINVAL, path, "unknown distribution kind %d", (int)d->kind);
    n = kinds[d->kind].nmax;
    for (j = 0; j < n; j++) {
        int bound = d->kind == SS_DIST_TRUNCNORMAL && j >= 2;
        if (isnan(d->p[j]) || (!bound && !isfinite(d->p[j])))
            return bad_param(d, (int)j, path, err, bound ? "must not be NaN" : "must be finite");
    }
    switch (d->kind) {
    case SS_DIST_FIXED:
        break;
    case SS_DIST_NORMAL:
    case SS_DIST_LOGNORMAL:
        if (!(d->p[1] > 0))
            return bad_param(d, 1, path, err, "must be > 0 (use fixed(x) for a constant)");
        break;
    case SS_DIST_UNIFORM:
        if (!(d->p[0] < d->p[1]))
            return bad_order(d, 0, 1, "<", path, err);
        break;
    case SS_DIST_TRIANGULAR:
        if (!(d->p[0] < d->p[2]))
            return bad_order(d, 0, 2, "<", path, err);
        if (!(d->p[0] <= d->p[1]))
            return bad_order(d, 0, 1, "<=", path, err);
        if (!(d->p[1] <= d->p[2]))
            return bad_order(d, 1, 2, "<=", path, err);
        break;
    case SS_DIST_BETA:
        if (!(d->p[0] > 0))
            return bad_param(d, 0, path, err, "must be > 0");
        if (!(d->p[1] > 0))
            return bad_param(d, 1, path, err, "must be > 0");
        if (!(d->p[2] < d->p[3]))
            return bad_order(d, 2, 3, "<", path, err);
        break;
    case SS_DIST_TRUNCNORMAL:
        if (!(d->p[1] > 0))
            return bad_param(d, 1, path, err, "must be > 0");
        if (!(d->p[2] < d->p[3]))
            return bad_order(d, 2, 3, "<", path, err);
        break;
    default:
        break;
    }
    return SS_OK;
}

int ss_dist_make(ss_dist *out, ss_dist_kind kind, const double *params, size_t n,
                 const char *path, ss_err *err)
{
    ss_dist d;
    size_t j;
    int rc;
    if (!valid_kind(kind))
        return ss_err_set(err, SS_EINVAL, path, "unknown distribution kind %d", (int)kind);
    if (n < kinds[kind].nmin || n > kinds[kind].nmax || (kind == SS_DIST_BETA && n == 3)) {
        if (kinds[kind].nmin == kinds[kind].nmax)
            return ss_err_set(err, SS_EINVAL, path, "%s takes %zu parameter%s, got %zu (%s)",
                              kinds[kind].name, kinds[kind].nmin, kinds[kind].nmin == 1 ? "" : "s",
                              n, kinds[kind].signature);
        return ss_err_set(err, SS_EINVAL, path, "%s takes %zu or %zu parameters, got %zu (%s)",
                          kinds[kind].name, kinds[kind].nmin, kinds[kind].nmax, n,
                          kinds[kind].signature);
    }
    memset(&d, 0, sizeof d);
    d.kind = kind;
    if (kind == SS_DIST_BETA)
        d.p[3] = 1.0;
    for (j = 0; j < n; j++)
        d.p[j] = params[j];
    if ((rc = ss_dist_validate(&d, path, err)))
        return rc;
    *out = d;
    return SS_OK;
}

/* ------------------------------------------------------------ text form */

/*
 * strtod() follows LC_NUMERIC; find the locale's radix from the shape of
 * "%.1f" output (as numfmt.c does) so "0.5" parses whatever the locale.
 */
static int parse_number(const char *tok, double *out)
{
    char probe[16], radix[8], buf[96], *end;
    const char *p;
    size_t rl, n = 0;
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    rl = strlen(probe) >= 3 ? strlen(probe) - 2 : 1;
    if (rl >= sizeof radix)
        rl = 1;
    memcpy(radix, probe + 1, rl);
    radix[rl] = '\0';
    for (p = tok; *p; p++) {
        if (*p == '.') {
            if (n + rl >= sizeof buf)
                return -1;
            memcpy(buf + n, radix, rl);
            n += rl;
        } else {
            if (n + 1 >= sizeof buf)
                return -1;
            buf[n++] = *p;
        }
    }
    buf[n] = '\0';
    if (n == 0)
        return -1;
    *out = strtod(buf, &end);
    return *end == '\0' ? 0 : -1;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

int ss_dist_parse(ss_dist *out, const char *text, const char *path, ss_err *err)
{
    char name[32], tok[64];
    double v[SS_DIST_MAXPARAMS + 1];
    size_t n = 0, len;
    const char *s = skip_ws(text ? text : "");
    int kind;

    for (len = 0; (s[len] >= 'a' && s[len] <= 'z') || s[len] == '_'; len++)
        if (len + 1 >= sizeof name)
            break;
    memcpy(name, s, len);
    name[len] = '\0';
    kind = ss_dist_kind_parse(name);
    if (kind < 0)
        return ss_err_set(err, SS_EINVAL, path,
                          "'%s': unknown distribution (expected fixed, normal, lognormal, uniform, "
                          "triangular, beta or truncnormal)", text ? text : "");
    s = skip_ws(s + len);
    if (*s != '(')
        return ss_err_set(err, SS_EINVAL, path, "'%s': expected '(' after '%s'", text, name);
    s = skip_ws(s + 1);
    for (;;) {
        size_t t = 0;
        while (s[t] && s[t] != ',' && s[t] != ')' && s[t] != ' ' && s[t] != '\t')
            t++;
        if (t == 0 || t >= sizeof tok)
            return ss_err_set(err, SS_EINVAL, path, "'%s': expected a number", text);
        memcpy(tok, s, t);
        tok[t] = '\0';
        if (n > SS_DIST_MAXPARAMS || parse_number(tok, &v[n]))
            return ss_err_set(err, SS_EINVAL, path, "'%s': '%s' is not a number", text, tok);
        n++;
        s = skip_ws(s + t);
        if (*s == ',') {
            s = skip_ws(s + 1);
            continue;
        }
        if (*s == ')')
            break;
        return ss_err_set(err, SS_EINVAL, path, "'%s': expected ',' or ')'", text);
    }
    s = skip_ws(s + 1);
    if (*s)
        return ss_err_set(err, SS_EINVAL, path, "'%s': unexpected text after ')'", text);
    return ss_dist_make(out, (ss_dist_kind)kind, v, n, path, err);
}

int ss_dist_format(char *buf, size_t size, const ss_dist *d)
{
    char tmp[256], num[40];
    size_t j, n, len;
    if (!valid_kind(d->kind)) {
        snprintf(tmp, sizeof tmp, "?");
    } else {
        n = kinds[d->kind].nmax;
        if (d->kind == SS_DIST_BETA && d->p[2] == 0.0 && d->p[3] == 1.0 && !signbit(d->p[2]))
            n = 2;
        snprintf(tmp, sizeof tmp, "%s(", kinds[d->kind].name);
        for (j = 0; j < n; j++) {
            ss_fmt_double(num, sizeof num, d->p[j]);
            len = strlen(tmp);
            snprintf(tmp + len, sizeof tmp - len, "%s%s", j ? ", " : "", num);
        }
        len = strlen(tmp);
        snprintf(tmp + len, sizeof tmp - len, ")");
    }
    len = strlen(tmp);
    if (buf && size > 0) {
        size_t c = len < size - 1 ? len : size - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return (int)len;
}

/* ------------------------------------------------------ truncated normal */

/* log Phi(x), accurate in the lower tail; -inf at -inf, 0 at +inf. */
static double log_Phi(double x)
{
    if (x == -INFINITY)
        return -INFINITY;
    if (x == INFINITY)
        return 0.0;
    return gsl_sf_log_erfc(-x * SQRT1_2) - LN2;
}

static double log_phi(double x)
{
    return -0.5 * x * x - LOG_SQRT_2PI;
}

/*
 * Standardised bounds of a truncnormal, reflected (z -> -z) when the whole
 * interval lies above the mean, so that a <= 0 or both bounds are negative.
 */
static void tn_standardise(const ss_dist *d, double *a, double *b, int *refl)
{
    double lo = (d->p[2] - d->p[0]) / d->p[1], hi = (d->p[3] - d->p[0]) / d->p[1];
    *refl = lo > 0;
    if (*refl) {
        *a = -hi;
        *b = -lo;
    } else {
        *a = lo;
        *b = hi;
    }
}

/* Standard normal truncated to [a, b] (a < b, a <= 0 or b < 0): quantile at u. */
static double tn_std_quantile(double a, double b, double u)
{
    double z;
    if (u <= 0)
        return a;
    if (u >= 1)
        return b;
    if (b >= TN_LOG_SPACE) {
        double pa = gsl_cdf_ugaussian_P(a), pb = gsl_cdf_ugaussian_P(b);
        z = gsl_cdf_ugaussian_Pinv(pa + u * (pb - pa));
    } else {
        /* both bounds far out in the lower tail: solve log Phi(z) = T */
        double la = log_Phi(a), lb = log_Phi(b), r = exp(la - lb);
        double T = lb + log(r + u * (1.0 - r));
        int it;
        z = b;
        for (it = 0; it < 200; it++) {
            double lz = log_Phi(z), slope = exp(log_phi(z) - lz);
            double dz = (T - lz) / slope;
            double zn = z + dz;
            if (zn < a)
                zn = a;
            if (zn > b)
                zn = b;
            if (fabs(zn - z) <= 1e-15 * fmax(1.0, fabs(z))) {
                z = zn;
                break;
            }
            z = zn;
        }
    }
    if (!(z >= a))
        z = a;
    if (z > b)
        z = b;
    return z;
}

static double tn_quantile(const ss_dist *d, double u)
{
    double a, b, z, x;
    int refl;
    tn_standardise(d, &a, &b, &refl);
    z = tn_std_quantile(a, b, refl ? 1.0 - u : u);
    x = refl ? d->p[0] - d->p[1] * z : d->p[0] + d->p[1] * z;
    if (x < d->p[2])
        x = d->p[2];
    if (x > d->p[3])
        x = d->p[3];
    return x;
}

/* K = 1/(x + L) and L = 2/(x + 3/(x + ...)), the tails of the continued
 * fraction of the reciprocal Mills ratio x + K; accurate for x >= 5. */
static void mills_cf(double x, double *K, double *L)
{
    double T = 0.0;
    int j;
    *L = 0.0;
    for (j = 400; j >= 1; j--) {
        T = j / (x + T);
        if (j == 2)
            *L = T;
    }
    *K = T;
}

/*
 * Mean and variance of the standard normal truncated to [a, b] (after
 * tn_standardise: a <= 0, or both bounds negative).  Three regimes: an
 * interval narrow compared with the scale on which the density changes
 * (Simpson's rule on centred moments), an interval beyond 5 sd (continued
 * fractions), otherwise the closed form with Mills ratios in log space.
 * Measured against 60-digit mpmath: relative error <= 1e-12 for the
 * variance, <= 1e-15 for the mean, from the centre to 100 sd out.
 */
static void tn_std_moments(double a, double b, double *mean, double *var)
{
    double w = b - a;
    if (isfinite(w) && w * (1.0 + fmax(fabs(a), fabs(b))) < 1.0) {
        const int n = 400;
        double m = 0.5 * (a + b), h = w / n, s0 = 0, s1 = 0, s2 = 0, mu;
        int i;
        for (i = 0; i <= n; i++) {
            double t = -0.5 * w + h * i;
            double f = exp(-m * t - 0.5 * t * t) * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
            s0 += f;
            s1 += f * t;
            s2 += f * t * t;
        }
        mu = s1 / s0;
        *mean = m + mu;
        *var = fmax(s2 / s0 - mu * mu, 0.0);
        return;
    }
    if (b <= -5.0) {
        /*
         * Lower tail, near bound b, far bound a: mirrored, Z' = -Z lies in
         * [x, y] = [-b, -a], x >= 5.  With the reciprocal Mills ratio
         * lambda(x) = x + K(x), K = 1/(x + L), L = 2/(x + 3/(x + ...))
         * (continued fraction), the moments of Y = Z' - x are
         *   (1 - rho) E[Y]   = K_x - r lambda_x (w + K_y) / lambda_y
         *   (1 - rho) E[Y^2] = L_x K_x - r lambda_x (w^2 + (2w + L_y) K_y) / lambda_y
         * with w = y - x, r = phi(y)/phi(x), rho = r lambda_x / lambda_y
         * (r = rho = 0 for y = inf): no cancellation of large terms, unlike
         * the closed form, whose variance would lose ~4 log10(x) digits.
         */
        double x = -b, y = -a, Kx, Lx, ey, ey2; /* w = y - x */
        mills_cf(x, &Kx, &Lx);
        if (isinf(y)) {
            ey = Kx;
            ey2 = Lx * Kx;
        } else {
            double Ky, Ly, lx, ly, r, rho;
            mills_cf(y, &Ky, &Ly);
            lx = x + Kx;
            ly = y + Ky;
            r = exp(-0.5 * w * (x + y));
            rho = r * lx / ly;
            ey = (Kx - r * lx * (w + Ky) / ly) / (1.0 - rho);
            ey2 = (Lx * Kx - r * lx * (w * w + (2.0 * w + Ly) * Ky) / ly) / (1.0 - rho);
        }
        *mean = -(x + ey);
        *var = fmax(ey2 - ey * ey, 0.0);
        return;
    }
    {
        double la = log_Phi(a), lb = log_Phi(b);
        double Zr = -expm1(la - lb); /* Z / Phi(b) */
        double A = isfinite(a) ? exp(log_phi(a) - lb) / Zr : 0.0;   /* phi(a)/Z */
        double B = isfinite(b) ? exp(log_phi(b) - lb) / Zr : 0.0;   /* phi(b)/Z */
        double mz = A - B;
        double v = 1.0 + (isfinite(a) ? a * A : 0.0) - (isfinite(b) ? b * B : 0.0) - mz * mz;
        *mean = mz;
        *var = fmax(v, 0.0);
    }
}

/* -------------------------------------------------------------- sampling */

static double tri_quantile(const ss_dist *d, double q)
{
    double a = d->p[0], c = d->p[1], b = d->p[2], x;
    double fc = (c - a) / (b - a);
    if (q < fc)
        x = a + sqrt(q * (b - a) * (c - a));
    else
        x = b - sqrt((1.0 - q) * (b - a) * (b - c));
    return fmin(fmax(x, a), b);
}

double ss_dist_sample(const ss_dist *d, gsl_rng *rng)
{
    switch (d->kind) {
    case SS_DIST_FIXED:
        return d->p[0];
    case SS_DIST_NORMAL:
        return d->p[0] + gsl_ran_gaussian(rng, d->p[1]);
    case SS_DIST_LOGNORMAL:
        return gsl_ran_lognormal(rng, d->p[0], d->p[1]);
    case SS_DIST_UNIFORM:
        return gsl_ran_flat(rng, d->p[0], d->p[1]);
    case SS_DIST_TRIANGULAR:
        return tri_quantile(d, gsl_rng_uniform_pos(rng));
    case SS_DIST_BETA:
        return d->p[2] + (d->p[3] - d->p[2]) * gsl_ran_beta(rng, d->p[0], d->p[1]);
    case SS_DIST_TRUNCNORMAL:
        return tn_quantile(d, gsl_rng_uniform_pos(rng));
    default:
        return NAN;
    }
}

double ss_dist_quantile(const ss_dist *d, double q)
{
    if (!(q >= 0.0 && q <= 1.0))
        return NAN;
    switch (d->kind) {
    case SS_DIST_FIXED:
        return d->p[0];
    case SS_DIST_NORMAL:
        return d->p[0] + gsl_cdf_gaussian_Pinv(q, d->p[1]);
    case SS_DIST_LOGNORMAL:
        return gsl_cdf_lognormal_Pinv(q, d->p[0], d->p[1]);
    case SS_DIST_UNIFORM:
        return gsl_cdf_flat_Pinv(q, d->p[0], d->p[1]);
    case SS_DIST_TRIANGULAR:
        return tri_quantile(d, q);
    case SS_DIST_BETA: {
        double x = d->p[2] + (d->p[3] - d->p[2]) * gsl_cdf_beta_Pinv(q, d->p[0], d->p[1]);
        return fmin(fmax(x, d->p[2]), d->p[3]);
    }
    case SS_DIST_TRUNCNORMAL:
        return tn_quantile(d, q);
    default:
        return NAN;
    }
}

double ss_dist_mean(const ss_dist *d)
{
    const double *p = d->p;
    switch (d->kind) {
    case SS_DIST_FIXED:
        return p[0];
    case SS_DIST_NORMAL:
        return p[0];
    case SS_DIST_LOGNORMAL:
        return exp(p[0] + 0.5 * p[1] * p[1]);
    case SS_DIST_UNIFORM:
        return 0.5 * (p[0] + p[1]);
    case SS_DIST_TRIANGULAR:
        return (p[0] + p[1] + p[2]) / 3.0;
    case SS_DIST_BETA:
        return p[2] + (p[3] - p[2]) * p[0] / (p[0] + p[1]);
    case SS_DIST_TRUNCNORMAL: {
        double a, b, mz, vz;
        int refl;
        tn_standardise(d, &a, &b, &refl);
        tn_std_moments(a, b, &mz, &vz);
        return refl ? p[0] - p[1] * mz : p[0] + p[1] * mz;
    }
    default:
        return NAN;
    }
}

double ss_dist_variance(const ss_dist *d)
{
    const double *p = d->p;
    switch (d->kind) {
    case SS_DIST_FIXED:
        return 0.0;
    case SS_DIST_NORMAL:
        return p[1] * p[1];
    case SS_DIST_LOGNORMAL:
        return expm1(p[1] * p[1]) * exp(2.0 * p[0] + p[1] * p[1]);
    case SS_DIST_UNIFORM:
        return (p[1] - p[0]) * (p[1] - p[0]) / 12.0;
    case SS_DIST_TRIANGULAR: {
        double a = p[0], c = p[1], b = p[2];
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
    }
    case SS_DIST_BETA: {
        double al = p[0], be = p[1], s = al + be, w = p[3] - p[2];
        return w * w * al * be / (s * s * (s + 1.0));
    }
    case SS_DIST_TRUNCNORMAL: {
        double a, b, mz, vz;
        int refl;
        tn_standardise(d, &a, &b, &refl);
        tn_std_moments(a, b, &mz, &vz);
        return p[1] * p[1] * vz;
    }
    default:
        return NAN;
    }
}
