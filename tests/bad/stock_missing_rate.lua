-- a stock without a rate
-- expect: 1 stock_missing_rate.lua:8: stocks[1].rate: missing (required): rate = function(v) return dk/dt end
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = 1, unit = "u" } },
}
