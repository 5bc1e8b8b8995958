-- a --params file that exhausts its 64 MiB
-- expect: 1 params_memory.lua:6: scenario exceeded 64 MiB of memory
-- cmd: check ../../scenarios/baseline.lua --params %f
local t = {}
for i = 1, 1e7 do
  t[i] = { i }
end
return t
