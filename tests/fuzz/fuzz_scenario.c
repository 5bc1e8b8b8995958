/*
 * fuzz_scenario.c - libFuzzer harness for the scenario loader (docs/robustness.md
 * ): the input is a scenario script, loaded in the sandbox with tiny
 * budgets (4 MiB, 200000 instructions) and, when it yields small models,
 * simulated with a bounded step count. A crash, a sanitizer report, a leak
 * or a hang is a host bug; a Lua or scenario error is a normal outcome.
 * Build and run: `make fuzz` (FUZZ_SECONDS per harness).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stratsim.h"
#include "lua/sl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    ss_global_init();
    snprintf(path, sizeof path, "/tmp/fuzz-scenario-%ld.lua", (long)getpid());
    return 0;
}

/* Simulate a model if it is small enough to finish quickly. */
static void maybe_run(const ss_model *m)
{
    ss_model *c;
    ss_result *r = NULL;
    ss_err err;
    if (!m || (m->t1 - m->t0) / m->step > 200 || m->nprov * m->nseg > 64 ||
        (m->epoch > 0 && (m->t1 - m->t0) / m->epoch > 200) || m->nev > 64)
        return;
    c = ss_model_copy(m);
    if (!c)
        return;
    if (c->solver.max_steps > 2000)
        c->solver.max_steps = 2000;
    ss_err_clear(&err);
    if (ss_sim_run(&r, c, NULL, &err) == SS_OK)
        ss_result_free(r);
    ss_model_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_script_opts o = SS_SCRIPT_OPTS_INIT;
    ss_script *s = NULL;
    ss_err err;
    FILE *f = fopen(path, "wb");
    size_t i;

    if (!f)
        abort();
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    o.max_memory = 4u << 20;
    o.max_instructions = 200000;
    ss_err_clear(&err);
    if (ss_script_open(&s, &o, &err) != SS_OK)
        return 0;
    if (ss_script_load(s, path, NULL, 0, &err) == SS_OK) {
        for (i = 0; i < ss_script_count(s); i++)
            maybe_run(ss_script_model(s, i));
    } else if (err.msg[0] == '\0' || memchr(err.msg, '\0', sizeof err.msg) == NULL) {
        abort(); /* every failure must carry a message */
    }
    ss_script_close(s);
    return 0;
}
