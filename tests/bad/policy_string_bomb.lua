-- a policy doubling a string
-- expect: 1 policy_string_bomb.lua:12: scenario exceeded 16 MiB of memory (in policy at t=2022)
-- args: --max-memory 16
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    local s = "x"
    while true do s = s .. s end
  end,
}
