-- a long string compared with itself by <= (strcoll over 8 MB per instruction)
-- expect: 1 limit_string_compare_lt.lua:6: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local s = ("b"):rep(8e6)
for i = 1, 1e12 do local x = s <= s end
