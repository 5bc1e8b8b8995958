-- a policy setting an unknown field
-- expect: 1 policy_set_unknown_field.lua:10: bad argument #2 to 'set' (unknown field 'reinvst' (expected reinvest, allocation, price, participation or lever)) (in policy at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    view:set("a", "reinvst", 0.3)
  end,
}
