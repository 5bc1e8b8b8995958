-- a step a few ulps of the times: the grid would repeat times
-- expect: 1 time_step_below_resolution.lua:5: time.step: 8 is below the resolution of times near 1e+17
return stratsim.scenario {
  name = "bad",
  time = { start = 1e17, stop = 1e17 + 4096, step = 8 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
