-- utf8.len scans its whole string in one call
-- expect: 1 limit_utf8_len.lua:6: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local s = ("\u{4e00}"):rep(4e6)
for i = 1, 1e12 do utf8.len(s) end
