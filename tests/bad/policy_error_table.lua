-- a policy that raises a table
-- expect: 1 policy_error_table.lua:10: (error object is a table value) (in policy at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    error({ reason = "x" })
  end,
}
