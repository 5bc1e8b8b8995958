-- observations near the largest double: chi2 overflows (non-finite statistics are an error)
-- expect: 1 the fit statistics are not finite
-- cmd: calibrate %f --data data/cal_huge_values.csv -o %o
return stratsim.scenario {
  name = "cal",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  calibrate = { ["segments.public.tau"] = { lower = 0.1, upper = 10, start = 2 } },
}
