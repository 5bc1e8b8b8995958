-- NaN as a schedule knot time
-- expect: 1 nan_knot_time.lua:8: stratsim.linear: knot 1: must be finite, got {nan, 1}
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  price = stratsim.linear { { 0/0, 1 }, { 2024, 0.9 } } } },
}
