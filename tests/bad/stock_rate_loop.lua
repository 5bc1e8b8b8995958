-- a stock rate that never returns
-- expect: 1 stock_rate_loop.lua:10: instruction limit exceeded (2000000 instructions) (in rate of stock 'gpu' at t=2022)
-- args: --max-instructions 2000000
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = 1, unit = "u", rate = function(v)
    while true do end end } },
}
