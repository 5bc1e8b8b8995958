-- stratsim.series on a file that does not exist
-- expect: 1 series_missing_file.lua:7: stratsim.series: cannot open data/series_missing_file.csv: No such file or directory
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_missing_file.csv" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
