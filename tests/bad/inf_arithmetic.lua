-- Inf produced by arithmetic overflow
-- expect: 1 inf_arithmetic.lua:7: segments.public.growth: must be finite, got inf
local big = 1e308
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = big * 10 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
