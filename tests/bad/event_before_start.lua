-- an event before the start
-- expect: 1 event_before_start.lua:9: events[1].t: time 2021 is outside the scenario's time range [2022, 2025]
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2021, kind = "outage", provider = "a", severity = 0.1 } },
}
