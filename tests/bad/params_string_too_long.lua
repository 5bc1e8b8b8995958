-- a --params file making a string longer than 16 MiB
-- expect: 1 params_string_too_long.lua:5: a string of 16777216 bytes: longer than the 16 MiB limit on strings
-- cmd: check ../../scenarios/baseline.lua --params %f
local s = "x"
while true do s = s .. s end
