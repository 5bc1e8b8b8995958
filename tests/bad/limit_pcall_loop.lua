-- an endless loop that catches the budget error
-- expect: 1 limit_pcall_loop.lua:4: instruction limit exceeded (1000000 instructions)
-- args: --max-instructions 1000000
while true do pcall(function() while true do end end) end
