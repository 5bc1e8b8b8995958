-- -math.huge as a growth rate
-- expect: 1 inf_negative.lua:6: segments.public.growth: must be finite, got -inf
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = -math.huge } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
