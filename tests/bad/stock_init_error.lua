-- a stock init that raises an error
-- expect: 1 stock_init_error.lua:8: bad argument #1 to 'stock' (unknown stock 'nope') (in init of stock 'gpu' at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = function(v) return v:stock("nope") end, unit = "u",
               rate = function(v) return 0 end } },
}
