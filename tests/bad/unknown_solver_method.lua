-- misspelt solver method
-- expect: 1 unknown_solver_method.lua:9: solver.method: unknown solver method 'rk45' (did you mean 'rkf45'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "rk45" },
}
