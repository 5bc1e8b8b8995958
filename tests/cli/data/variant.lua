-- Derives from include/base.lua (stratsim.include resolves relative to this file).
local base = stratsim.include("include/base.lua")
return base:with { name = "variant", providers = { a = { reinvest = 0.3 } } }
