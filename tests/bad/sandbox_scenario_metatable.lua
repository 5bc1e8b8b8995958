-- tampering with the metatable of a scenario object
-- expect: 1 sandbox_scenario_metatable.lua:10: attempt to index a string value
local s = stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
getmetatable(s).__index = nil
