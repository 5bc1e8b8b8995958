-- a list holding something other than scenarios
-- expect: 1 type_returned_list_item.lua: element 1 of the returned list is a table, expected a scenario (stratsim.scenario{...})
local a = {}
a[1] = a
return a
