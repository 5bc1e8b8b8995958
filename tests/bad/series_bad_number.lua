-- stratsim.series on a file with a bad number
-- expect: 1 series_bad_number.lua:7: stratsim.series: data/series_bad_number.csv:3: column 'value': expected a finite number, got 'abc'
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_bad_number.csv" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
