-- an infinite discount rate
-- expect: 1 inf_discount_rate.lua:9: discount_rate: must be finite, got inf
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
  discount_rate = math.huge,
}
