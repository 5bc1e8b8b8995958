-- a policy that raises an error
-- expect: 1 policy_error.lua:10: policy gave up (in policy at t=2023.5)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    if view.t > 2023 then error("policy gave up") end
  end,
}
