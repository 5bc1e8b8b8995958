-- misspelt provider key
-- expect: 1 unknown_provider_key.lua:7: providers.a.margn: unknown key 'margn' (did you mean 'margin'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 }, margn = 0.3 } },
}
