-- two scenarios with one name
-- expect: 1 duplicate_scenario_name.lua: scenarios 1 and 2 are both named 'bad' (give each a distinct name)
local s = stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
return { s, s:with { discount_rate = 0.1 } }
