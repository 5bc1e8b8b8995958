-- a decision epoch too small for the horizon
-- expect: 1 time_too_many_epochs.lua:5: time.epoch: too many decision epochs
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1e6, step = 1e3, epoch = 1e-3 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
