-- a chunk returning 100,000 values (CVE-2021-32626: values crossing the binding)
-- expect: 1 limit_many_returns.lua: the script must return stratsim.scenario{...} or a list of them, got number
local t = {}
for i = 1, 100000 do t[i] = i end
return table.unpack(t)
