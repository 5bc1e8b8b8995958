/*
 * test_lua_fuzz_obs.c - the fuzz harness tests/fuzz/fuzz_obs.c replayed over
 * its committed corpus tests/fuzz/corpus/fuzz_obs/ (see tests/fuzz/replay.h).
 */
#include "../fuzz/fuzz_obs.c"
#include "../fuzz/replay.h"

int main(void)
{
    return replay_main("fuzz_obs");
}
