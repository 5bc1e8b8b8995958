-- misspelt solver key
-- expect: 1 unknown_solver_key.lua:9: solver.rtoll: unknown key 'rtoll' (did you mean 'rtol'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { rtoll = 1e-6 },
}
