-- an event kind that is a number
-- expect: 1 type_event_kind_number.lua:9: events[1].kind: expected a string, got number
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = 1, provider = "a", severity = 0.1 } },
}
