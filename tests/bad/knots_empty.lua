-- a schedule without knots
-- expect: 1 knots_empty.lua:8: stratsim.steps: a schedule needs at least one {t, v} knot
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 },
                  reinvest = stratsim.steps {} } },
}
