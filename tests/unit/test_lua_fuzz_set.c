/*
 * test_lua_fuzz_set.c - the fuzz harness tests/fuzz/fuzz_set.c replayed over
 * its committed corpus tests/fuzz/corpus/fuzz_set/ (see tests/fuzz/replay.h).
 */
#include "../fuzz/fuzz_set.c"
#include "../fuzz/replay.h"

int main(void)
{
    return replay_main("fuzz_set");
}
