-- an included file includes its neighbour through pcall: the name resolves
-- against the including file (data/include/), not the working directory
-- expect: 1 sandbox_include_pcall_relative.lua:5: included: baseline
local sc = stratsim.include("data/include/pcall_relative.lua")
error("included: " .. sc.name)
