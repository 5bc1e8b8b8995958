-- a backtracking gsub
-- expect: 1 limit_gsub_backtracking.lua:4: instruction limit exceeded (50000000 instructions)
-- args: --max-instructions 50000000
return (("a"):rep(30)):gsub(("a-"):rep(20) .. "b", "x")
