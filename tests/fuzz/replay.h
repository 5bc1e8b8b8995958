/*
 * replay.h - run a libFuzzer harness over its committed corpus without
 * libFuzzer, as a unit test (tests/unit/test_lua_fuzz_*.c include a harness
 * and this file): every input of tests/fuzz/corpus/<NAME>/ (the seeds plus
 * the inputs kept from fuzzing, crashers included) is fed to
 * LLVMFuzzerTestOneInput once. A harness aborts on any property violation,
 * and the sanitizer builds (make asan) and valgrind check memory, so past
 * findings stay fixed in `make test`.
 */
#ifndef SS_FUZZ_REPLAY_H
#define SS_FUZZ_REPLAY_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REPLAY_MAX_BYTES
#define REPLAY_MAX_BYTES (1u << 20)
#endif

/* Feed every file of `dir` to the harness; returns the number of inputs,
 * or -1 if the directory cannot be read. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char file[1024];
        unsigned char *buf;
        size_t len;
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        f = fopen(file, "rb");
        if (!f)
            continue;
        buf = malloc(REPLAY_MAX_BYTES);
        if (!buf) {
            fclose(f);
            closedir(d);
            return -1;
        }
        len = fread(buf, 1, REPLAY_MAX_BYTES, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

/* main() of a replay test: the corpus directory is relative to the
 * repository root, where `make test` runs the unit tests. */
static int replay_main(const char *name)
{
    char dir[512];
    int argc = 1, n;
    char *args[] = { (char *)"replay", NULL };
    char **argv = args;
    LLVMFuzzerInitialize(&argc, &argv);
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    n = replay_dir(dir);
    if (n <= 0) {
        fprintf(stderr, "replay %s: no inputs in %s\n", name, dir);
        return 1;
    }
    printf("replay %s: %d inputs, no failure\n", name, n);
    return 0;
}

#endif
