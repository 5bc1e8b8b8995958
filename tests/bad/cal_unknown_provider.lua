-- calibration data naming an unknown provider
-- expect: 1 data/cal_unknown_provider.csv:2:provider: unknown provider 'alibaba'
-- cmd: calibrate %f --data data/cal_unknown_provider.csv -o %o
return stratsim.scenario {
  name = "cal",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  calibrate = { ["segments.public.tau"] = { lower = 0.1, upper = 10, start = 2 } },
}
