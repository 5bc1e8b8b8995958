-- table.sort of a million numbers over and over
-- expect: 1 limit_table_sort.lua:7: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local t = {}
for i = 1, 1e6 do t[i] = (i * 7919) % 1000003 end
for i = 1, 1e12 do table.sort(t) end
