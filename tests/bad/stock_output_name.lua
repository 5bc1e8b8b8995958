-- a stock named like a derived metric
-- expect: 1 stock_output_name.lua:9: stocks[1].id: 'gpu' is also the name of a derived metric in outputs
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  outputs = { gpu = function(v) return 1 end },
  stocks = { { id = "gpu", init = 1, unit = "u", rate = function(v) return 0 end } },
}
