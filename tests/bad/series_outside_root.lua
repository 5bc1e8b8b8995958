-- stratsim.series on a CSV above the scenario's directory (the include root)
-- expect: 1 series_outside_root.lua:7: stratsim.series: ../../scenarios/data/gpu_supply_cap.csv is outside the root
return stratsim.scenario {
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
  events = { { t = 2023, kind = "set", provider = "a", field = "lever", value = stratsim.series { file = "../../scenarios/data/gpu_supply_cap.csv" } } },
}
