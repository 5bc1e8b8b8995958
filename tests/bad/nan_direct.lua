-- NaN written as 0/0
-- expect: 1 nan_direct.lua:6: segments.public.size: must be finite, got nan
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 0/0 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
