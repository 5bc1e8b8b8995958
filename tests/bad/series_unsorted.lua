-- stratsim.series on times out of order
-- expect: 1 series_unsorted.lua:7: stratsim.series: data/series_unsorted.csv:4: column 'time': 2023 comes after 2024 on line 3 (times must be strictly increasing)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "data/series_unsorted.csv" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
