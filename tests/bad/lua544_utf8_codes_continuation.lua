-- Lua 5.4.4's utf8.codes accepted spurious continuation bytes (and skipped
-- any number of them in one step); the sandbox's follows Lua 5.4.6
-- expect: 1 lua544_utf8_codes_continuation.lua:5: bad argument #1 to 'codes' (invalid UTF-8 code)
local n = 0
for p, c in utf8.codes("\x80hello") do n = n + 1 end
