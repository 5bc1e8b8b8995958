-- a message handler that loops
-- expect: 1 limit_xpcall_handler_loop.lua:4: instruction limit exceeded (1000000 instructions)
-- args: --max-instructions 1000000
xpcall(function() while true do end end, function() while true do end end)
