-- classical RK4 beyond its stability limit for tau
-- expect: 1 solver_rk4_unstable.lua:9: solver.h: 0.3 is beyond the stability limit of rk4 for segments.public.tau = 0.1: h must be <= 2.78 * tau = 0.278
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, tau = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "rk4", h = 0.3 },
}
