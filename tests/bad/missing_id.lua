-- a provider without id
-- expect: 1 missing_id.lua:7: providers[1].id: missing (required)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { share = { public = 1 } } },
}
