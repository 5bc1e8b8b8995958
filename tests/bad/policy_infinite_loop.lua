-- a policy that never returns
-- expect: 1 policy_infinite_loop.lua:11: instruction limit exceeded (2000000 instructions) (in policy at t=2022)
-- args: --max-instructions 2000000
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    while true do end
  end,
}
