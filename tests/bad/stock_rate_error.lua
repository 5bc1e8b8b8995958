-- a stock rate that raises an error
-- expect: 1 stock_rate_error.lua:9: no data after 2023 (in rate of stock 'gpu' at t=2023.
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = 1, unit = "u", rate = function(v)
    if v.t > 2023 then error("no data after 2023") end
    return 0 end } },
}
