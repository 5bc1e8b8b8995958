-- an error object whose __tostring fails
-- expect: 1 error_tostring_fails.lua:3: (error object is a table value whose __tostring failed)
error(setmetatable({}, { __tostring = function() error("again") end }))
