-- a link and a policy view:set on the same input
-- expect: 1 link_and_policy_set.lua:8: set: lever is defined by the link providers.a.lever.ai (in policy at t=2023)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 }, { id = "ai", size = 20, growth = 0.3 } },
  providers = { { id = "a", share = { public = 0.5, ai = 0.4 } }, { id = "b", share = { public = 0.5, ai = 0.6 } } },
  policy = function(v) if v.t >= 2023 then v:set("a", "lever", { ai = 1.2 }) end end,
  links = { ["providers.a.lever.ai"] = function(v) return 1 end },
}
