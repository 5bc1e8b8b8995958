-- explicit Euler beyond its stability limit for the capability depreciation
-- expect: 1 solver.h: 0.25 is beyond the stability limit of euler for segments.public.depreciation = 10: h must be <= 2 / depreciation = 0.2
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, depreciation = 10 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  solver = { method = "euler", h = 0.25 },
}
