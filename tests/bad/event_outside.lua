-- expect: 1 event_outside.lua:7: events[1].t
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
  events = { { t = 5, kind = "outage", provider = "a", severity = 0.1 } },
}
