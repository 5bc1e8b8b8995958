-- a stock whose init is a string
-- expect: 1 stock_init_string.lua:8: stocks[1].init: expected a number or a function of the initial view, got string
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = "10", unit = "u", rate = function(v) return 0 end } },
}
