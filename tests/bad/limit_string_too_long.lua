-- a string longer than the 16 MiB limit on strings
-- expect: 1 limit_string_too_long.lua:3: a string of 33554432 bytes: longer than the 16 MiB limit on strings
local s = ("x"):rep(2^25)
