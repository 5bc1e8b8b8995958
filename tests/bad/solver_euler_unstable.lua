-- explicit Euler beyond its stability limit for tau (shares of -1e38 before)
-- expect: 1 solver_euler_unstable.lua:9: solver.h: 0.5 is beyond the stability limit of euler for segments.public.tau = 0.2: h must be <= 2 * tau = 0.4
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, tau = 0.2 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "euler", h = 0.5 },
}
