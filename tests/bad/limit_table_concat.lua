-- table.concat of a million empty strings allocates nothing
-- expect: 1 limit_table_concat.lua:7: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local t = {}
for i = 1, 1e6 do t[i] = "" end
for i = 1, 1e12 do table.concat(t) end
