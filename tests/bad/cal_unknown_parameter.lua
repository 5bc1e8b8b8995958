-- a calibrate table naming an unknown parameter
-- expect: 1 unknown segment field 'tua' (did you mean 'tau'?)
-- expect-also: cal_unknown_parameter.lua:11: calibrate
-- cmd: calibrate %f --data ../../scenarios/data/china_public_cloud_iaas.csv -o %o
return stratsim.scenario {
  name = "cal",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1, tau = 2 } },
  providers = { { id = "a", share = { public = 0.6 }, reinvest = 0.3 },
                { id = "b", share = { public = 0.4 } } },
  calibrate = { ["segments.public.tua"] = { lower = 0.1, upper = 10, start = 2 } },
}
