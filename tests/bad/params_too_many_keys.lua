-- a --params file with 200,000 parameters (was minutes of quadratic work)
-- expect: 1 params_too_many_keys.lua: more than 10000 parameters (the limit of an override file)
-- cmd: check ../../scenarios/baseline.lua --params %f
-- timeout: 20
local t = {}
for i = 1, 200000 do t["providers.p" .. i .. ".reinvest"] = 0.5 end
return t
