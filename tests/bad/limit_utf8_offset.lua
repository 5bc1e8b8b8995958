-- utf8.offset walks the string from its start
-- expect: 1 limit_utf8_offset.lua:6: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local s = ("\u{e9}"):rep(4e6)
for i = 1, 1e12 do utf8.offset(s, 4e6) end
