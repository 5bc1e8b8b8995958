-- schedule knots out of order
-- expect: 1 knots_unsorted.lua:8: stratsim.steps: knot 2: times must be strictly increasing (2023 after 2024)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  reinvest = stratsim.steps { { 2024, 0.3 }, { 2023, 0.2 } } } },
}
