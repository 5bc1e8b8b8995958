-- a schedule value outside the field range
-- expect: 1 knot_value_out_of_range.lua:8: providers.a.price.public: must be > 0, got -1 at knot 2 (t = 2024)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  price = { public = stratsim.steps { { 2023, 1 }, { 2024, -1 } } } } },
}
