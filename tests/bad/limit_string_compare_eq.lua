-- two equal long strings compared over and over: each == compares 8 MB in
-- one instruction; long live strings make every instruction count more
-- expect: 1 limit_string_compare_eq.lua:8: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local s = ("a"):rep(8e6)
local t = ("a"):rep(8e6)
for i = 1, 1e12 do local x = s == t end
