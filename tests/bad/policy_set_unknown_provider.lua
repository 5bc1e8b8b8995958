-- a policy naming an unknown provider
-- expect: 1 policy_set_unknown_provider.lua:10: bad argument #1 to 'set' (unknown provider 'zz') (in policy at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    view:set("zz", "reinvest", 0.3)
  end,
}
