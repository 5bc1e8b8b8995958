-- stratsim.series on a file that is not a .csv file
-- expect: 1 series_not_csv.lua:7: stratsim.series: file: expected the name of a .csv file, got '/etc/passwd'
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100,
                 growth = stratsim.series { file = "/etc/passwd" } } },
  providers = { { id = "a", share = { public = 0.5 } }, { id = "b", share = { public = 0.5 } } },
}
