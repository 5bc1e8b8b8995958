-- string.rep of an empty string loops n times without allocating
-- expect: 1 limit_string_rep_empty.lua:5: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
for i = 1, 1e12 do local s = (""):rep(2^50) end
