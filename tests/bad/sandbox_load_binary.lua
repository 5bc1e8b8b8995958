-- load of a binary chunk (CVE-2015-4335, CVE-2018-1999023)
-- expect: 1 sandbox_load_binary.lua:3: attempt to load a binary chunk (mode is 't')
local f = assert(load("\27LuaT\0\25\147\r\n\26\n"))
