-- two knots at one time
-- expect: 1 knots_duplicate.lua:8: stratsim.linear: knot 2: times must be strictly increasing (2023 after 2023)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  price = stratsim.linear { { 2023, 1 }, { 2023, 0.9 } } } },
}
