-- the same far below zero
-- expect: 1 time_huge_negative.lua:5: time.step: 1 is below the resolution of times near 1e+308
return stratsim.scenario {
  name = "bad",
  time = { start = -1e308, stop = -1e308, step = 1 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
