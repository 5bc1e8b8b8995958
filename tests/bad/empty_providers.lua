-- an empty provider list
-- expect: 1 empty_providers.lua:7: providers: at least one provider is required
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = {},
}
