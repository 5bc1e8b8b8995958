-- math.huge as a size
-- expect: 1 inf_direct.lua:6: segments.public.size: must be finite, got inf
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = math.huge } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
