-- string.dump reached through the string metatable
-- expect: 1 sandbox_dump_method.lua:4: attempt to call a nil value (local 'd')
local d = ("").dump
return d(print)
