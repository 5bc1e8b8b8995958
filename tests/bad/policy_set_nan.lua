-- a policy setting NaN
-- expect: 1 policy_set_nan.lua:10: set: reinvest must be finite, got 
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    view:set("a", "reinvest", 0/0)
  end,
}
