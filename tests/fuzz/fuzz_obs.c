/*
 * fuzz_obs.c - libFuzzer harness for the calibration data reader
 * (docs/robustness.md): the input is a CSV file read with ss_obs_read_stream
 * (through fmemopen) and, when it parses, validated against a small model.
 * Errors are normal outcomes; they must carry a FILE:LINE message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stratsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static ss_model *model;

static void set_id(char **dst, const char *id)
{
    free(*dst);
    *dst = strdup(id);
    if (!*dst)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ss_err err;
    (void)argc;
    (void)argv;
    ss_global_init();
    model = ss_model_new(2, 2);
    if (!model)
        abort();
    model->t0 = 2021;
    model->t1 = 2025;
    model->step = 0.5;
    set_id(&model->seg[0].id, "public");
    set_id(&model->seg[1].id, "private");
    set_id(&model->prov[0].id, "alibaba");
    set_id(&model->prov[1].id, "others");
    model->seg[0].size = 100;
    model->seg[1].size = 50;
    model->prov[0].share[0] = 0.4;
    model->prov[1].share[0] = 0.6;
    model->prov[0].share[1] = 0.3;
    model->prov[1].share[1] = 0.7;
    ss_err_clear(&err);
    if (ss_model_resolve(model, &err) != SS_OK) {
        fprintf(stderr, "fuzz_obs: %s\n", err.msg);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_obs_set *o = NULL;
    ss_err err;
    FILE *f;
    int rc;

    if (size == 0) {
        f = fopen("/dev/null", "r");
    } else {
        f = fmemopen((void *)data, size, "r");
    }
    if (!f)
        abort();
    ss_err_clear(&err);
    rc = ss_obs_read_stream(&o, f, "data.csv", &err);
    fclose(f);
    if (rc == SS_OK) {
        if (!o || o->n == 0)
            abort(); /* at least one row is required */
        ss_err_clear(&err);
        rc = ss_obs_validate(o, model, &err);
    } else if (o != NULL) {
        abort(); /* failure leaves *out NULL */
    }
    if (rc != SS_OK && strncmp(err.msg, "data.csv", 8) != 0)
        abort(); /* every message starts with FILE: */
    ss_obs_free(o);
    return 0;
}
