-- a margin of exactly 1
-- expect: 1 margin_eq_1.lua:7: providers.a.margin.public: must be < 1, got 1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 }, margin = { public = 1 } } },
}
