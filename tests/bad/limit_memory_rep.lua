-- string.rep of 1 GiB
-- expect: 1 limit_memory_rep.lua:4: scenario exceeded 16 MiB of memory
-- args: --max-memory 16
return ("x"):rep(2^30)
