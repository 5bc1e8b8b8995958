-- stratsim.series with an unknown kind
-- expect: 1 series_bad_kind.lua:7: stratsim.series: kind: expected "linear" or "steps", got 'cubic'
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_bad_kind.csv", kind = "cubic" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
