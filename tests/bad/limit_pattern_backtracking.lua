-- a backtracking pattern burning CPU inside C (A5)
-- expect: 1 limit_pattern_backtracking.lua:4: instruction limit exceeded (50000000 instructions)
-- args: --max-instructions 50000000
return ("a"):rep(26):find(("a-"):rep(25) .. "b")
