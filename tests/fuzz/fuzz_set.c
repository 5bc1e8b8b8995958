/*
 * fuzz_set.c - libFuzzer harness for the `--set PATH=VALUE` parser and the
 * parameter-path resolver (docs/robustness.md): each line of the input is an
 * assignment applied with sl_override_apply() to a copy of a small model
 * (constant, step and linear schedules, a Bass segment), which is then
 * resolved; the path part is also looked up with ss_param_lookup() and read
 * and written through the handle. Errors are normal outcomes; they must
 * carry a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"
#include "lua/sl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static ss_model *base;

static void set_id(char **dst, const char *id)
{
    free(*dst);
    *dst = strdup(id);
    if (!*dst)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const double t[] = { 2022, 2023, 2024 }, g[] = { 0.1, 0.05, 0.02 },
                        pr[] = { 1.0, 0.9, 0.8 };
    ss_err err;
    (void)argc;
    (void)argv;
    ss_global_init();
    base = ss_model_new(3, 2);
    if (!base)
        abort();
    base->t0 = 2021;
    base->t1 = 2025;
    base->step = 0.5;
    set_id(&base->seg[0].id, "public");
    set_id(&base->seg[1].id, "private");
    set_id(&base->seg[2].id, "ai");
    set_id(&base->prov[0].id, "alibaba");
    set_id(&base->prov[1].id, "others");
    base->seg[0].size = 100;
    base->seg[1].size = 50;
    base->seg[2].size = 5;
    base->seg[2].has_bass = 1;
    base->seg[2].bass_p = 0.03;
    base->seg[2].bass_q = 0.4;
    base->seg[2].bass_potential = 80;
    ss_err_clear(&err);
    if (ss_schedule_set_knots(&base->seg[1].growth, SS_SCHED_STEPS, 3, t, g, "g", &err) ||
        ss_schedule_set_knots(&base->prov[0].price[0], SS_SCHED_LINEAR, 3, t, pr, "p", &err))
        abort();
    base->prov[0].share[0] = 0.4;
    base->prov[1].share[0] = 0.6;
    base->prov[0].share[1] = 0.3;
    base->prov[1].share[1] = 0.7;
    base->prov[0].share[2] = 0.5;
    base->prov[1].share[2] = 0.5;
    return 0;
}

static void check_msg(const ss_err *err)
{
    if (err->msg[0] == '\0' || memchr(err->msg, '\0', sizeof err->msg) == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_model *m = ss_model_copy(base);
    char line[600];
    size_t i = 0;
    ss_err err;

    if (!m)
        abort();
    while (i < size) {
        size_t n = 0;
        ss_param p;
        char *eq;
        while (i < size && data[i] != '\n') {
            if (n + 1 < sizeof line)
                line[n++] = data[i] == '\0' ? ' ' : (char)data[i];
            i++;
        }
        i++;
        line[n] = '\0';
        ss_err_clear(&err);
        if (sl_override_apply(m, line, &err) != SS_OK)
            check_msg(&err);
        eq = strchr(line, '=');
        if (eq)
            *eq = '\0';
        ss_err_clear(&err);
        if (ss_param_lookup(&p, m, line, &err) == SS_OK) {
            double v = ss_param_get(&p, m);
            if (ss_param_set(&p, v, &err) != SS_OK)
                check_msg(&err);
        } else {
            check_msg(&err);
        }
    }
    ss_err_clear(&err);
    if (ss_model_resolve(m, &err) != SS_OK)
        check_msg(&err);
    ss_model_free(m);
    return 0;
}
