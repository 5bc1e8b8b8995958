-- a decision epoch below the spacing of doubles at these times
-- expect: 1 time_epoch_below_resolution.lua:5: time.epoch: 0.5 is below the resolution of times near 1e+15
return stratsim.scenario {
  name = "bad",
  time = { start = 1e15, stop = 1e15 + 1000, step = 100, epoch = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
