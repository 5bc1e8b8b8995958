/*
 * test_models.h - the small model the core unit tests build in C: segments
 * s1..sK (size 100*k), providers p1..pN with equal shares, time from 0 to t1
 * by 0.5, every other input at its documented default. Shared by test_model.c,
 * test_mc.c and test_analysis.c. Include after test_util.h and stratsim.h.
 */
#ifndef SS_TEST_MODELS_H
#define SS_TEST_MODELS_H
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    strcpy(d, s);
    return d;
}

static ss_model *test_model_new(size_t K, size_t N, double t1)
{
    ss_model *m = ss_model_new(K, N);
    size_t i, k;
    char buf[32];
    assert_non_null(m);
    for (k = 0; k < K; k++) {
        snprintf(buf, sizeof buf, "s%zu", k + 1);
        m->seg[k].id = xstrdup(buf);
        m->seg[k].size = 100.0 * (double)(k + 1);
    }
    for (i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "p%zu", i + 1);
        m->prov[i].id = xstrdup(buf);
        for (k = 0; k < K; k++)
            m->prov[i].share[k] = 1.0 / (double)N;
    }
    m->t0 = 0.0;
    m->t1 = t1;
    m->step = 0.5;
    return m;
}
#endif
