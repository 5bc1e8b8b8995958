-- --set with a value out of range
-- expect: 1 --set segments.public.tau: must be > 0, got -1
-- args: --set segments.public.tau=-1
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
