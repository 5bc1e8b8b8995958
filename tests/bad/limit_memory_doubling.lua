-- a string doubled until memory runs out
-- expect: 1 limit_memory_doubling.lua:5: scenario exceeded 16 MiB of memory
-- args: --max-memory 16
local s = "x"
while true do s = s .. s end
