-- a market event with factor 0
-- expect: 1 market_factor_zero.lua:9: events[1].factor: must be > 0, got 0
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  events = { { t = 2023, kind = "market", segment = "public", factor = 0 } },
}
