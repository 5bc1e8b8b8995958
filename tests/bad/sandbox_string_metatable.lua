-- tampering with the shared string metatable (CVE-2025-46818)
-- expect: 1 sandbox_string_metatable.lua:3: attempt to index a boolean value
getmetatable("").__index.rep = function() return "pwned" end
