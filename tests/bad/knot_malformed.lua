-- a knot that is not a {t, v} pair
-- expect: 1 knot_malformed.lua:8: stratsim.steps: knot 1: expected {t, v} with two numbers
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  reinvest = stratsim.steps { { 2023 } } } },
}
