-- a view kept from an earlier call
-- expect: 1 policy_stale_view.lua:11: view used outside its policy call (in policy at t=2022.5)
local saved
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  policy = function(view)
    if saved then saved:set("a", "reinvest", 0.5) end
    saved = view
  end,
}
