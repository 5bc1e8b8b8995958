-- NaN as a schedule value
-- expect: 1 nan_in_schedule.lua:8: stratsim.steps: knot 1: must be finite, got {2023, nan}
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  reinvest = stratsim.steps { { 2023, 0/0 } } } },
}
