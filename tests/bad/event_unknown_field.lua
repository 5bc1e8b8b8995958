-- a set event naming an unknown field
-- expect: 1 event_unknown_field.lua:9: events[1].field: unknown field 'prize' (did you mean 'price'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "set", provider = "a", field = "prize", value = 1 } },
}
