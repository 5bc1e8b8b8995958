-- two providers with one id
-- expect: 1 duplicate_provider.lua:8: providers[2].id: duplicate provider id 'a' (also providers[1])
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "a", share = { public = 0.4 } } },
}
