-- a memory bomb inside pcall
-- expect: 1 limit_memory_pcall.lua:4: scenario exceeded 16 MiB of memory
-- args: --max-memory 16
while true do pcall(function() local t = {} while true do t[#t + 1] = ("x"):rep(1e5) .. #t end end) end
