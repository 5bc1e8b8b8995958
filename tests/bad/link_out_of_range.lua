-- a link giving a negative lever
-- expect: 1 link_out_of_range.lua:8: link providers.a.lever.ai returned 0 at t=2023: lever must be > 0
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  links = { ["providers.a.lever.ai"] = function(v) return 1 - v.t + 2022 end },
}
