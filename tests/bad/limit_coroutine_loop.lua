-- an endless loop inside a coroutine
-- expect: 1 limit_coroutine_loop.lua:4: instruction limit exceeded (1000000 instructions)
-- args: --max-instructions 1000000
local co = coroutine.wrap(function() while true do end end)
co()
