-- calibration bounds the wrong way round
-- expect: 1 cal_bad_bounds.lua:10: calibrate["segments.public.tau"]: lower (10) must be < upper (0.1)
-- cmd: calibrate %f --data data/cal_ok.csv -o %o
return stratsim.scenario {
  name = "cal",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  calibrate = { ["segments.public.tau"] = { lower = 10, upper = 0.1, start = 2 } },
}
