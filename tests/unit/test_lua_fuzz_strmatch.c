/*
 * test_lua_fuzz_strmatch.c - the fuzz harness tests/fuzz/fuzz_strmatch.c replayed over
 * its committed corpus tests/fuzz/corpus/fuzz_strmatch/ (see tests/fuzz/replay.h).
 */
#include "../fuzz/fuzz_strmatch.c"
#include "../fuzz/replay.h"

int main(void)
{
    return replay_main("fuzz_strmatch");
}
