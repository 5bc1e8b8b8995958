-- a C stack overflow inside gsub (recursive replacement) in a --params file
-- expect: 1 params_gsub_c_stack.lua:4: C stack overflow
-- cmd: check ../../scenarios/baseline.lua --params %f
local function f(s) return (s:gsub(".", f)) end
return { ["segments.public.growth"] = #f("ab") }
