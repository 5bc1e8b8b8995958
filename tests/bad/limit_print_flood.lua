-- print of a 12 MB string in a loop: output is capped at 4 MiB, the bytes
-- are charged, and the loop ends
-- expect: 1 limit_print_flood.lua:7: instruction limit exceeded (100000000 instructions)
-- expect-also: [print: output limit of 4 MiB reached; further print output is dropped]
-- args: --max-instructions 1e8
local s = ("p"):rep(12e6)
for i = 1, 1e12 do print(s) end
