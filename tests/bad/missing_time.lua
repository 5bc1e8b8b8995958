-- no time
-- expect: 1 missing_time.lua:3: time: missing (required): time = {start = ..., stop = ..., step = ...}
return stratsim.scenario {
  name = "bad",
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
