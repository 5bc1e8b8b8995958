-- misspelt event kind
-- expect: 1 unknown_event_kind.lua:9: events[1].kind: unknown event kind 'outrage' (did you mean 'outage'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "outrage", provider = "a", severity = 0.1 } },
}
