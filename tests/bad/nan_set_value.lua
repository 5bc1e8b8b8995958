-- NaN given with --set
-- expect: 1 --set segments.public.tau: value 'nan' is not a finite number
-- args: --set segments.public.tau=nan
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
