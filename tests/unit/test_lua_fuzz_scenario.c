/*
 * test_lua_fuzz_scenario.c - the fuzz harness tests/fuzz/fuzz_scenario.c replayed over
 * its committed corpus tests/fuzz/corpus/fuzz_scenario/ (see tests/fuzz/replay.h).
 */
#include "../fuzz/fuzz_scenario.c"
#include "../fuzz/replay.h"

int main(void)
{
    return replay_main("fuzz_scenario");
}
