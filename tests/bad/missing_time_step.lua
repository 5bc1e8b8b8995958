-- time without step
-- expect: 1 missing_time_step.lua:5: time.step: missing (required)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
