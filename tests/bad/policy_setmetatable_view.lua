-- setmetatable on the view
-- expect: 1 policy_setmetatable_view.lua:10: bad argument #1 to 'setmetatable' (table expected, got stratsim.View) (in policy at t=2022)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    setmetatable(view, {})
  end,
}
