-- an event naming an unknown provider
-- expect: 1 event_unknown_provider.lua:9: events[1].provider: unknown provider 'aa' (did you mean 'a'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "outage", provider = "aa", severity = 0.1 } },
}
