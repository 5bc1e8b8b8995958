-- a stock rate allocating without bound
-- expect: 1 stock_rate_memory.lua:10: scenario exceeded 32 MiB of memory (in rate of stock 'gpu' at t=2022)
-- args: --max-memory 32
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = 1, unit = "u", rate = function(v)
    local t = {} while true do t[#t + 1] = {} end end } },
}
