-- two stocks with one id
-- expect: 1 stock_duplicate_id.lua:9: stocks[2].id: duplicate stock id 'gpu' (also stocks[1])
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "gpu", init = 1, unit = "u", rate = function(v) return 0 end },
             { id = "gpu", init = 2, unit = "u", rate = function(v) return 0 end } },
}
