-- no providers
-- expect: 1 missing_providers.lua:3: providers: missing (required): providers = {{id = ..., share = {...}}, ...}
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
}
