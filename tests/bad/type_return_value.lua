-- the script returns a number
-- expect: 1 type_return_value.lua: the script must return stratsim.scenario{...} or a list of them, got number
return 42
