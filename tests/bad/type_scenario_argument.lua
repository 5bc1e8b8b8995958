-- stratsim.scenario called with a string
-- expect: 1 type_scenario_argument.lua:3: stratsim.scenario: expected a table, got string
return stratsim.scenario("baseline")
