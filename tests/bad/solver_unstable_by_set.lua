-- a stable solver.h made unstable with --set
-- expect: 1 solver.h: 1 is beyond the stability limit of rk4 for segments.public.tau = 0.25
-- args: --set solver.h=1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, tau = 0.25 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "rk4" },
}
