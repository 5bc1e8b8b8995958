-- stop before start
-- expect: 1 time_stop_before_start.lua:5: time.stop: must be >= time.start (2025), got 2022
return stratsim.scenario {
  name = "bad",
  time = { start = 2025, stop = 2022, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
