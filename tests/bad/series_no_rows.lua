-- stratsim.series on a file with a header only
-- expect: 1 series_no_rows.lua:7: stratsim.series: data/series_no_rows.csv: no data rows (at least one is required)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_no_rows.csv" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
