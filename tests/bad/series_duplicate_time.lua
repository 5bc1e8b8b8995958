-- stratsim.series on a repeated time
-- expect: 1 series_duplicate_time.lua:7: stratsim.series: data/series_duplicate_time.csv:3: column 'time': 2022 repeats 2022 on line 2 (times must be strictly inc
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_duplicate_time.csv" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
