-- a market event naming an unknown segment
-- expect: 1 event_unknown_segment.lua:9: events[1].segment: unknown segment 'pubic' (did you mean 'public'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "market", segment = "pubic", factor = 1.2 } },
}
