-- NaN produced by arithmetic
-- expect: 1 nan_arithmetic.lua:7: segments.public.tau: must be finite, got nan
local spread = math.sqrt(-1)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, tau = 2 + spread } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
