-- a link reading an algebraic quantity
-- expect: 1 link_reads_algebra.lua:8: view:investment is not available in a link or a stock's init: they are evaluated before the algebra (read the state: share,
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.lever.ai"] = function(v) return v:investment("a") end },
}
