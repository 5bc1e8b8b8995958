-- `compare` where one file is bad
-- expect: 1 compare_bad_second.lua:10: events[1].t: time 2030 is outside the scenario's time range
-- cmd: compare ../cli/data/small.lua %f -o %o
return stratsim.scenario {
  name = "ana",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2030, kind = "outage", provider = "a", severity = 0.1 } },
}
