-- stratsim.series naming a column the file lacks
-- expect: 1 series_missing_column.lua:7: stratsim.series: data/series_missing_column.csv:1: no column 'growth' in the header
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_missing_column.csv", value = "growth" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
