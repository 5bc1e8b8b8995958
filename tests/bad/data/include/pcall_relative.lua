-- included by sandbox_include_* cases: includes a file relative to itself under pcall
local ok, sc = pcall(stratsim.include, "base.lua")
if not ok then error(sc, 0) end
return sc
