-- load() of a long comment: compiling is C work, charged by size
-- expect: 1 limit_load_comment.lua:6: instruction limit exceeded (100000000 instructions)
-- args: --max-instructions 1e8
-- timeout: 30
local src = "--" .. ("x"):rep(8e6)
for i = 1, 1e12 do load(src) end
