-- NaN as an event time
-- expect: 1 nan_event_time.lua:9: events[1].t: must be finite, got nan
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 0/0, kind = "outage", provider = "a", severity = 0.1 } },
}
