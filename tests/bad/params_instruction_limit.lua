-- a --params file that loops
-- expect: 1 params_instruction_limit.lua:4: instruction limit exceeded (10000000 instructions)
-- cmd: check ../../scenarios/baseline.lua --params %f
while true do end
