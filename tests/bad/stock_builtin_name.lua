-- a stock named like a built-in metric
-- expect: 1 stock_builtin_name.lua:8: stocks[1].id: 'share' is the name of a built-in metric (choose another id)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "share", init = 1, unit = "u", rate = function(v) return 0 end } },
}
