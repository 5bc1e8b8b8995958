-- stratsim.include of a file above the scenario's directory (the root)
-- expect: 1 sandbox_include_parent.lua:3: stratsim.include: ../../scenarios/baseline.lua is outside the root
return stratsim.include("../../scenarios/baseline.lua")
