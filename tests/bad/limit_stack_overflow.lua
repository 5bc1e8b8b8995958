-- endless recursion
-- expect: 1 limit_stack_overflow.lua:3: stack overflow
local function f(n) return 1 + f(n + 1) end
return f(1)
