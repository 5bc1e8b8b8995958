-- a set event value naming an unknown segment
-- expect: 1 event_set_unknown_segment.lua:9: events[1].value.privat: unknown segment 'privat'
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "set", provider = "a", field = "price", value = { privat = 1 } } },
}
