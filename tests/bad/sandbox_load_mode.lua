-- load asking for binary mode
-- expect: 1 sandbox_load_mode.lua:3: attempt to load a binary chunk (mode is 't')
local f = assert(load("\27LuaT\0", "x", "b"))
