-- an empty list of scenarios
-- expect: 1 empty_scenario_list.lua: the script returned an empty list (expected stratsim.scenario{...} or a list of them)
return {}
