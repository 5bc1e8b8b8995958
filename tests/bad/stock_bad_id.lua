-- a stock id that is not an id
-- expect: 1 stock_bad_id.lua:8: stocks[1].id: invalid stock id '9gpu' (ids match [A-Za-z_][A-Za-z0-9_-]*, at most 63 characters)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  stocks = { { id = "9gpu", init = 1, unit = "u", rate = function(v) return 0 end } },
}
