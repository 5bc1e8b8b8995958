/*
 * sketch.c - merging t-digest (Dunning & Ertl, "Computing extremely accurate
 * quantiles using t-digests", 2019) with the k1 scale function.
 *
 * One array holds the merged centroids [0, nc), sorted by mean, followed by
 * the buffer of incoming weighted points [nc, nc + nb).  When the array is
 * full, it grows (doubling) up to its fixed bound; at the bound the buffer
 * is sorted (the core's quicksort, sort_doubles.h), merged with the
 * centroids through a scratch array, and the sorted whole is merged in
 * place in one greedy pass (without memory for the scratch, everything is
 * sorted in place, with the same outcome): a run of points joins the
 * current centroid while the centroid stays within one unit of k,
 * k(q) = delta / (2 pi) asin(2q - 1).  Any two neighbouring centroids span
 * more than one unit of k, whose range is delta / 2, so at most delta + 2
 * centroids survive a pass and the bound 3 * (ceil(delta) + 4) always leaves
 * room for a buffer of at least 2 * delta points.  Passes alternate between
 * left-to-right and right-to-left, which removes the bias a one-directional
 * greedy merge has.  Ties in the sort are broken by weight, and entries equal
 * in both are identical (-0 is stored as +0), so an unstable sort cannot leak
 * into the result: the sketch is a deterministic function of its inputs.
 * Quantiles interpolate between centroid centres, treat singletons as exact
 * points, and use the exact minimum and maximum at the ends (as in the
 * reference MergingDigest).  Depends on the C library and the core's
 * sort (sort_doubles.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim/sketch.h"
#include "core/sort_doubles.h"

#define SKETCH_PI 3.14159265358979323846

typedef struct centroid {
    double m; /* mean */
    double w; /* weight */
} centroid;

struct ss_sketch {
    double delta;    /* compression */
    double ca, sa;   /* cos and sin of 2 pi / delta (one unit of k as an angle) */
    size_t cap_max;  /* bound on entries (centroids + buffer) */
    size_t cap;      /* entries allocated */
    size_t nc, nb;   /* merged centroids, buffered points */
    centroid *c;
    double total;    /* sum of weights */
    uint64_t count;  /* values summarised */
    double min, max;
    unsigned long passes; /* merge passes done (direction alternates) */
};

int ss_sketch_new(ss_sketch **out, double compression, ss_err *err)
{
    ss_sketch *s;
    *out = NULL;
    if (compression == 0.0)
        compression = SS_SKETCH_COMPRESSION;
    if (!(compression >= 10.0 && compression <= 1e5))
        return ss_err_set(err, SS_EINVAL, "", "sketch compression must be in [10, 100000] (got %g)",
                          compression);
    s = calloc(1, sizeof *s);
    if (!s)
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    s->delta = compression;
    s->ca = cos(2.0 * SKETCH_PI / compression);
    s->sa = sin(2.0 * SKETCH_PI / compression);
    s->cap_max = 3 * ((size_t)ceil(compression) + 4);
    s->min = NAN;
    s->max = NAN;
    *out = s;
    return SS_OK;
}

void ss_sketch_free(ss_sketch *s)
{
    if (!s)
        return;
    free(s->c);
    free(s);
}

void ss_sketch_reset(ss_sketch *s)
{
    s->nc = s->nb = 0;
    s->total = 0.0;
    s->count = 0;
    s->min = s->max = NAN;
    s->passes = 0;
}

/* Order by mean, then weight: a total preorder whose ties are identical. */
static int before(const centroid *a, const centroid *b)
{
    return a->m < b->m || (a->m == b->m && a->w < b->w);
}

/* Sort c[0, n) by (mean, weight) (sort_doubles.h; insertion sort up to 16). */
SS_DEFINE_QUICKSORT(sort_centroids, centroid, before, 16)

/*
 * The k1 scale k(q) = delta / (2 pi) asin(2q - 1) and its inverse: a centroid
 * that starts at quantile q may reach q' = k^-1(k(q) + 1).  With
 * x = 2q - 1 and the angle a = 2 pi / delta of one unit of k,
 * 2q' - 1 = sin(asin(x) + a) = x cos a + sqrt(1 - x^2) sin a while
 * asin(x) + a < pi / 2, i.e. x < cos a, and q' = 1 beyond: one square root
 * instead of an asin and a sin.
 */
static double q_next(double q, double ca, double sa)
{
    double x = 2.0 * q - 1.0;
    if (x >= ca)
        return 1.0;
    if (x < -1.0)
        x = -1.0;
    return (x * ca + sqrt(1.0 - x * x) * sa + 1.0) / 2.0;
}

/* Merge point x into centroid cur. */
static void absorb(centroid *cur, const centroid *x)
{
    double w = cur->w + x->w;
    cur->m += (x->m - cur->m) * (x->w / w);
    cur->w = w;
}

/*
 * Merge the sorted c[0, n) greedily in place; returns the number of
 * centroids left at the front of c.  `reverse` walks right to left (the k1
 * scale is symmetric, so the same limit applies with q counted from the right).
 */
static size_t merge_pass(centroid *c, size_t n, double total, double ca, double sa, int reverse)
{
    double so_far = 0.0, limit;
    centroid cur;
    size_t i, out;
    if (n == 0)
        return 0;
    limit = total * q_next(0.0, ca, sa);
    if (!reverse) {
        cur = c[0];
        out = 0;
        for (i = 1; i < n; i++) {
            if (so_far + cur.w + c[i].w <= limit) {
                absorb(&cur, &c[i]);
            } else {
                c[out++] = cur;
                so_far += cur.w;
                limit = total * q_next(so_far / total, ca, sa);
                cur = c[i];
            }
        }
        c[out++] = cur;
        return out;
    }
    cur = c[n - 1];
    out = n; /* entries [out, n) are written */
    for (i = n - 1; i-- > 0;) {
        if (so_far + cur.w + c[i].w <= limit) {
            absorb(&cur, &c[i]);
        } else {
            c[--out] = cur;
            so_far += cur.w;
            limit = total * q_next(so_far / total, ca, sa);
            cur = c[i];
        }
    }
    c[--out] = cur;
    memmove(c, c + out, (n - out) * sizeof *c);
    return n - out;
}

/*
 * Sort c[0, nc + nb), whose first nc entries are already sorted: sort the
 * rest, then merge the two runs through a scratch array.  Without memory for
 * the scratch, sort everything in place: the outcome is the same, since
 * entries that compare equal are identical (zeros are stored as +0).
 */
static void sort_entries(centroid *c, size_t nc, size_t nb)
{
    size_t n = nc + nb, i = 0, j = nc, k = 0;
    centroid *tmp = nc > 0 ? malloc(n * sizeof *tmp) : NULL;
    if (!tmp) {
        sort_centroids(c, n);
        return;
    }
    sort_centroids(c + nc, nb);
    while (i < nc && j < n)
        tmp[k++] = before(&c[j], &c[i]) ? c[j++] : c[i++];
    while (i < nc)
        tmp[k++] = c[i++];
    while (j < n)
        tmp[k++] = c[j++];
    memcpy(c, tmp, n * sizeof *c);
    free(tmp);
}

int ss_sketch_compress(ss_sketch *s)
{
    if (s->nb == 0)
        return SS_OK;
    sort_entries(s->c, s->nc, s->nb);
    s->nc = merge_pass(s->c, s->nc + s->nb, s->total, s->ca, s->sa, (int)(s->passes & 1));
    s->nb = 0;
    s->passes++;
    return SS_OK;
}

/* Append a weighted point, growing or compressing as needed. */
static int push(ss_sketch *s, double x, double w)
{
    if (s->nc + s->nb == s->cap) {
        if (s->cap < s->cap_max) {
            size_t ncap = s->cap ? 2 * s->cap : 32;
            centroid *nc;
            if (ncap > s->cap_max)
                ncap = s->cap_max;
            nc = realloc(s->c, ncap * sizeof *nc);
            if (!nc)
                return SS_ENOMEM;
            s->c = nc;
            s->cap = ncap;
        } else {
            ss_sketch_compress(s);
        }
    }
    s->c[s->nc + s->nb].m = x;
    s->c[s->nc + s->nb].w = w;
    s->nb++;
    s->total += w;
    return SS_OK;
}

int ss_sketch_add(ss_sketch *s, double x)
{
    int rc;
    if (!isfinite(x))
        return SS_EINVAL;
    if (x == 0.0)
        x = 0.0; /* -0 -> +0: equal entries must be identical (see sort_entries) */
    if ((rc = push(s, x, 1.0)))
        return rc;
    if (s->count == 0 || x < s->min)
        s->min = x;
    if (s->count == 0 || x > s->max)
        s->max = x;
    s->count++;
    return SS_OK;
}

/*
 * Merge the sorted src[0, n) into the sorted dst->c[0, nc) in place, from the
 * back (dst->c has room for nc + n entries).
 */
static void merge_sorted_into(ss_sketch *dst, const centroid *src, size_t n)
{
    size_t i = dst->nc, j = n, k = dst->nc + n;
    while (i > 0 && j > 0) {
        /* select without a branch: the comparison is unpredictable */
        int from_dst = before(&src[j - 1], &dst->c[i - 1]);
        const centroid *p = from_dst ? &dst->c[i - 1] : &src[j - 1];
        dst->c[--k] = *p;
        i -= (size_t)from_dst;
        j -= (size_t)!from_dst;
    }
    while (j > 0)
        dst->c[--k] = src[--j];
    dst->nc += n;
}

int ss_sketch_merge(ss_sketch *dst, const ss_sketch *src)
{
    size_t j, n = src->nc + src->nb;
    double mn, mx;
    uint64_t cnt;
    int rc;
    if (src->count == 0)
        return SS_OK;
    mn = dst->count ? fmin(dst->min, src->min) : src->min;
    mx = dst->count ? fmax(dst->max, src->max) : src->max;
    cnt = dst->count;
    /* reserve first, so that nothing below can fail half-way */
    if (dst->cap < dst->cap_max && dst->nc + dst->nb + n > dst->cap) {
        size_t need = dst->nc + dst->nb + n;
        centroid *c = realloc(dst->c, (need < dst->cap_max ? need : dst->cap_max) * sizeof *c);
        if (!c)
            return SS_ENOMEM;
        dst->c = c;
        dst->cap = need < dst->cap_max ? need : dst->cap_max;
    }
    if (src->nb == 0 && src->delta == dst->delta) {
        /* src is one sorted run of centroids: merge it into dst's sorted
         * centroids in linear time and compress once, instead of buffering
         * its entries and sorting them again */
        ss_sketch_compress(dst);
        if (dst->nc + n <= dst->cap) {
            merge_sorted_into(dst, src->c, n);
            dst->total += src->total;
            dst->nc = merge_pass(dst->c, dst->nc, dst->total, dst->ca, dst->sa,
                                 (int)(dst->passes & 1));
            dst->passes++;
            dst->count = cnt + src->count;
            dst->min = mn;
            dst->max = mx;
            return SS_OK;
        }
    }
    for (j = 0; j < n; j++)
        if ((rc = push(dst, src->c[j].m, src->c[j].w)))
            return rc;
    dst->count = cnt + src->count;
    dst->min = mn;
    dst->max = mx;
    return SS_OK;
}

/* ---- digests of sorted batches ---- */

struct ss_sketch_plan {
    double delta;
    size_t n;          /* values per batch */
    size_t nsizes;     /* centroids per batch */
    uint32_t *size;    /* [nsizes] values in each centroid, left to right */
};

int ss_sketch_plan_new(ss_sketch_plan **out, double compression, size_t n, ss_err *err)
{
    ss_sketch_plan *p;
    double ca, sa, so_far = 0.0, limit, total = (double)n;
    size_t i, cur;
    *out = NULL;
    if (compression == 0.0)
        compression = SS_SKETCH_COMPRESSION;
    if (!(compression >= 10.0 && compression <= 1e5))
        return ss_err_set(err, SS_EINVAL, "", "sketch compression must be in [10, 100000] (got %g)",
                          compression);
    if (n == 0 || n > UINT32_MAX)
        return ss_err_set(err, SS_EINVAL, "", "a sketch plan needs 1 to 2^32 - 1 values per batch");
    p = calloc(1, sizeof *p);
    if (!p || !(p->size = malloc(n * sizeof *p->size))) {
        free(p);
        return ss_err_set(err, SS_ENOMEM, "", "out of memory");
    }
    p->delta = compression;
    p->n = n;
    ca = cos(2.0 * SKETCH_PI / compression);
    sa = sin(2.0 * SKETCH_PI / compression);
    /* merge_pass's left-to-right greedy rule applied to n points of weight 1 */
    limit = total * q_next(0.0, ca, sa);
    cur = 1;
    for (i = 1; i < n; i++) {
        if (so_far + (double)cur + 1.0 <= limit) {
            cur++;
        } else {
            p->size[p->nsizes++] = (uint32_t)cur;
            so_far += (double)cur;
            limit = total * q_next(so_far / total, ca, sa);
            cur = 1;
        }
    }
    p->size[p->nsizes++] = (uint32_t)cur;
    *out = p;
    return SS_OK;
}

void ss_sketch_plan_free(ss_sketch_plan *p)
{
    if (!p)
        return;
    free(p->size);
    free(p);
}

size_t ss_sketch_plan_values(const ss_sketch_plan *p) { return p->n; }

/*
 * The centroids of plan p from y[0, n): values in centroid order, i.e. every
 * value of centroid j <= every value of centroid j + 1, in any order within
 * a centroid. Each mean is y0 + mean(y - y0) (y0 the centroid's first value:
 * exact for a run of equal values, and a sum of zeros makes -0 a +0, see
 * sort_entries), kept within the centroid's smallest and largest value so
 * that the centroids stay sorted.
 */
static void centroids_from(ss_sketch *s, const ss_sketch_plan *p, const double *y)
{
    size_t j, pos = 0;
    for (j = 0; j < p->nsizes; j++) {
        size_t w = p->size[j], i;
        double y0 = y[pos], d = 0.0, lo = y0, hi = y0, mj;
        for (i = 1; i < w; i++) {
            double v = y[pos + i];
            d += v - y0;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        mj = y0 + d / (double)w;
        if (!isfinite(mj)) {
            /* the differences overflow (values near the largest double) */
            mj = 0.0;
            for (i = 0; i < w; i++)
                mj += y[pos + i] / (double)w;
        }
        s->c[j].m = mj < lo ? lo : mj > hi ? hi : mj;
        s->c[j].w = (double)w;
        pos += w;
    }
}

/* Make room for the plan's centroids. */
static int reserve_plan(ss_sketch *s, const ss_sketch_plan *p)
{
    if (p->delta != s->delta)
        return SS_EINVAL;
    if (s->cap < p->nsizes) {
        centroid *c = realloc(s->c, p->nsizes * sizeof *c);
        if (!c)
            return SS_ENOMEM;
        s->c = c;
        s->cap = p->nsizes;
    }
    return SS_OK;
}

/* The rest of the state of a sketch set from a batch of plan p. */
static void finish_batch(ss_sketch *s, const ss_sketch_plan *p, double mn, double mx)
{
    s->nc = p->nsizes;
    s->nb = 0;
    s->total = (double)p->n;
    s->count = p->n;
    s->min = mn == 0.0 ? 0.0 : mn;
    s->max = mx == 0.0 ? 0.0 : mx;
    s->passes = 1; /* as after one left-to-right pass */
}

int ss_sketch_set_values(ss_sketch *s, const ss_sketch_plan *p, double *x, double *tmp,
                         uint32_t *cnt)
{
    size_t n = p->n, j, pos = 0, sorted_to = 0;
    ss_buckets bk;
    int rc = reserve_plan(s, p), r;
    if (rc)
        return rc;
    r = n > 1 ? ss_bucket_partition(&bk, x, n, tmp, cnt) : 0;
    if (r <= 0) {
        /* one value, all equal, or a range that cannot be bucketed: sort */
        if (r < 0)
            ss_sort_doubles(x, n);
        centroids_from(s, p, x);
        finish_batch(s, p, x[0], x[n - 1]);
        return SS_OK;
    }
    /* tmp is in bucket order; a centroid boundary that cuts a bucket needs
     * that bucket sorted (the values left of the boundary are the smallest
     * of the bucket); other buckets lie within one centroid, whose mean does
     * not depend on the order */
    for (j = 0; j + 1 < p->nsizes; j++) {
        size_t k, start, end;
        pos += p->size[j];
        if (pos < sorted_to)
            continue;
        k = ss_bucket_of(&bk, tmp[pos]);
        start = k ? bk.end[k - 1] : 0;
        end = bk.end[k];
        if (start < pos) {
            ss_sort_doubles(tmp + start, end - start);
            sorted_to = end;
        }
    }
    centroids_from(s, p, tmp);
    finish_batch(s, p, bk.mn, bk.mx);
    return SS_OK;
}

int ss_sketch_set_sorted(ss_sketch *s, const ss_sketch_plan *p, const double *x)
{
    int rc = reserve_plan(s, p);
    if (rc)
        return rc;
    centroids_from(s, p, x);
    finish_batch(s, p, x[0], x[p->n - 1]);
    return SS_OK;
}

/* a + (b - a) * t, exact when a == b, kept within [min(a,b), max(a,b)]. */
static double lerp(double a, double b, double t)
{
    double x = isfinite(b - a) ? a + (b - a) * t : a * (1.0 - t) + b * t;
    double lo = fmin(a, b), hi = fmax(a, b);
    return x < lo ? lo : x > hi ? hi : x;
}

/* Quantile from merged centroids (the MergingDigest interpolation). */
static double quantile_merged(const centroid *c, size_t n, double total,
                              double mn, double mx, double q)
{
    double index, so_far;
    size_t i;
    if (n == 0 || !(q >= 0.0 && q <= 1.0))
        return NAN;
    if (q == 0.0)
        return mn;
    if (q == 1.0)
        return mx;
    index = q * total;
    if (index < 1.0)
        return mn;
    if (index > total - 1.0)
        return mx;
    if (c[0].w > 1.0 && index < c[0].w / 2.0) {
        /* between the minimum and the first centroid's centre */
        double span = c[0].w / 2.0 - 1.0;
        return span > 0 ? lerp(mn, c[0].m, (index - 1.0) / span) : c[0].m;
    }
    if (c[n - 1].w > 1.0 && total - index <= c[n - 1].w / 2.0) {
        double span = c[n - 1].w / 2.0 - 1.0;
        return span > 0 ? lerp(mx, c[n - 1].m, (total - index - 1.0) / span) : c[n - 1].m;
    }
    so_far = c[0].w / 2.0;
    for (i = 0; i + 1 < n; i++) {
        double dw = (c[i].w + c[i + 1].w) / 2.0;
        if (so_far + dw > index) {
            double left = 0.0, right = 0.0, z1, z2;
            if (c[i].w == 1.0) {
                if (index - so_far < 0.5)
                    return c[i].m;
                left = 0.5;
            }
            if (c[i + 1].w == 1.0) {
                if (so_far + dw - index <= 0.5)
                    return c[i + 1].m;
                right = 0.5;
            }
            z1 = index - so_far - left;
            z2 = so_far + dw - index - right;
            if (z1 + z2 <= 0)
                return c[i].m;
            return lerp(c[i].m, c[i + 1].m, z1 / (z1 + z2));
        }
        so_far += dw;
    }
    return c[n - 1].m;
}

int ss_sketch_quantiles(const ss_sketch *s, const double *q, size_t n, double *out)
{
    const centroid *c = s->c;
    centroid *tmp = NULL;
    size_t j, nc = s->nc;
    if (s->nb > 0) {
        nc = s->nc + s->nb;
        tmp = malloc(nc * sizeof *tmp);
        if (!tmp) {
            for (j = 0; j < n; j++)
                out[j] = NAN;
            return SS_ENOMEM;
        }
        memcpy(tmp, s->c, nc * sizeof *tmp);
        sort_centroids(tmp, nc);
        nc = merge_pass(tmp, nc, s->total, s->ca, s->sa, (int)(s->passes & 1));
        c = tmp;
    }
    for (j = 0; j < n; j++)
        out[j] = s->count ? quantile_merged(c, nc, s->total, s->min, s->max, q[j]) : NAN;
    free(tmp);
    return SS_OK;
}

double ss_sketch_quantile(const ss_sketch *s, double q)
{
    double v;
    ss_sketch_quantiles(s, &q, 1, &v);
    return v;
}

uint64_t ss_sketch_count(const ss_sketch *s) { return s->count; }
double ss_sketch_min(const ss_sketch *s) { return s->count ? s->min : NAN; }
double ss_sketch_max(const ss_sketch *s) { return s->count ? s->max : NAN; }
double ss_sketch_compression(const ss_sketch *s) { return s->delta; }

/* Bytes the allocator takes for a block of n bytes (glibc: 8 bytes of
 * header, 16-byte granules, 32 at least). */
static size_t alloc_bytes(size_t n)
{
    size_t b = (n + 8 + 15) / 16 * 16;
    return n == 0 ? 0 : b < 32 ? 32 : b;
}

size_t ss_sketch_bytes(double compression, size_t centroids)
{
    size_t cap_max = 3 * ((size_t)ceil(compression == 0.0 ? SS_SKETCH_COMPRESSION : compression) + 4);
    if (centroids > cap_max)
        centroids = cap_max;
    return alloc_bytes(sizeof(ss_sketch)) + alloc_bytes(centroids * sizeof(centroid));
}

size_t ss_sketch_centroid_bound(double compression)
{
    return (size_t)ceil(compression == 0.0 ? SS_SKETCH_COMPRESSION : compression) + 2;
}

size_t ss_sketch_memory(const ss_sketch *s)
{
    return sizeof *s + s->cap * sizeof *s->c;
}

/* ---- packing (for sending a sketch to another process) ---- */

/* delta, total, min, max as doubles; nc, nb, count, passes as uint64 */
#define PACK_HEAD (4 * sizeof(double) + 4 * sizeof(uint64_t))

size_t ss_sketch_packed_size(const ss_sketch *s)
{
    return PACK_HEAD + (s->nc + s->nb) * 2 * sizeof(double);
}

void ss_sketch_pack(const ss_sketch *s, unsigned char *buf)
{
    double d[4];
    uint64_t u[4];
    size_t j, n = s->nc + s->nb;
    d[0] = s->delta;
    d[1] = s->total;
    d[2] = s->min;
    d[3] = s->max;
    u[0] = s->nc;
    u[1] = s->nb;
    u[2] = s->count;
    u[3] = s->passes;
    memcpy(buf, d, sizeof d);
    memcpy(buf + sizeof d, u, sizeof u);
    buf += PACK_HEAD;
    for (j = 0; j < n; j++) {
        memcpy(buf, &s->c[j].m, sizeof(double));
        memcpy(buf + sizeof(double), &s->c[j].w, sizeof(double));
        buf += 2 * sizeof(double);
    }
}

int ss_sketch_unpack(ss_sketch *s, const unsigned char *buf, size_t len, size_t *used)
{
    double d[4];
    uint64_t u[4];
    size_t j, n;
    if (len < PACK_HEAD)
        return SS_EINVAL;
    memcpy(d, buf, sizeof d);
    memcpy(u, buf + sizeof d, sizeof u);
    if (d[0] != s->delta || u[0] > s->cap_max || u[1] > s->cap_max || u[0] + u[1] > s->cap_max)
        return SS_EINVAL;
    n = (size_t)(u[0] + u[1]);
    if (len - PACK_HEAD < n * 2 * sizeof(double))
        return SS_EINVAL;
    if (n > s->cap) {
        centroid *c = realloc(s->c, n * sizeof *c);
        if (!c)
            return SS_ENOMEM;
        s->c = c;
        s->cap = n;
    }
    s->total = d[1];
    s->min = d[2];
    s->max = d[3];
    s->nc = (size_t)u[0];
    s->nb = (size_t)u[1];
    s->count = u[2];
    s->passes = (unsigned long)u[3];
    buf += PACK_HEAD;
    for (j = 0; j < n; j++) {
        memcpy(&s->c[j].m, buf, sizeof(double));
        memcpy(&s->c[j].w, buf + sizeof(double), sizeof(double));
        buf += 2 * sizeof(double);
    }
    *used = PACK_HEAD + n * 2 * sizeof(double);
    return SS_OK;
}
