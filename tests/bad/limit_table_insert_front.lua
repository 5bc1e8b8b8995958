-- table.insert at the front shifts every element
-- expect: 1 limit_table_insert_front.lua:7: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local t = {}
for i = 1, 1e6 do t[i] = i end
for i = 1, 1e12 do table.insert(t, 1, i) table.remove(t, 1) end
