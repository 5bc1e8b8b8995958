-- a table growing without bound
-- expect: 1 limit_memory_table.lua:5: scenario exceeded 16 MiB of memory
-- args: --max-memory 16
local t = {}
for i = 1, 1e9 do t[i] = i end
