-- a policy that yields
-- expect: 1 policy_yield.lua:9: attempt to yield from outside a coroutine (in policy at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    coroutine.yield(1)
  end,
}
