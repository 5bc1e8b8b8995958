-- a zero output step
-- expect: 1 time_step_zero.lua:5: time.step: must be > 0, got 0
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
