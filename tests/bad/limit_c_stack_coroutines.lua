-- recursion through coroutines (CVE-2021-43519)
-- expect: 1 limit_c_stack_coroutines.lua:3: C stack overflow
local function f() coroutine.wrap(f)() end
f()
