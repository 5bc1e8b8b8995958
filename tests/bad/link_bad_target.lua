-- a link on something that is not an input
-- expect: 1 link_bad_target.lua:8: links.providers.a.margin.public: 'margin' is not a decision input (links target reinvest, allocation.SEG, price.SEG, participat
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.margin.public"] = function(v) return 1 end },
}
