-- a loop whose few instructions each copy a long string (found by fuzzing):
-- allocation volume counts against the instruction budget
-- expect: 1 limit_string_churn.lua:6: instruction limit exceeded (20000000 instructions)
-- args: --max-instructions 20000000
local s = "x"
while true do s = s .. #s end
