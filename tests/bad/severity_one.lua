-- an outage of severity 1
-- expect: 1 severity_one.lua:9: events[1].severity: must be in (0, 1), got 1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "outage", provider = "a", severity = 1 } },
}
