-- select('#', ...) over 500,000 arguments, again and again
-- expect: 1 limit_select_varargs.lua:7: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local t = {}
for i = 1, 5e5 do t[i] = i end
for i = 1, 1e12 do select('#', table.unpack(t)) end
