-- a __gc finalizer (runs with hooks off)
-- expect: 1 sandbox_gc_metamethod.lua:3: __gc metamethods are not available in the sandbox
setmetatable({}, { __gc = function() while true do end end })
