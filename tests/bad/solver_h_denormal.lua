-- the smallest positive double as the RK4 step
-- expect: 1 fixed steps of solver.h = 4.940656458e-324 exceed solver.max_steps
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "rk4", h = 5e-324 },
}
