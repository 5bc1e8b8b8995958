-- a plain string.find that scans 12 MB without a hit
-- expect: 1 limit_plain_find.lua:6: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local s = ("a"):rep(12e6)
for i = 1, 1e12 do s:find("b", 1, true) end
