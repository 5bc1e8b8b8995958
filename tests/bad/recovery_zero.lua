-- zero reliability recovery time
-- expect: 1 recovery_zero.lua:7: providers.a.recovery: must be > 0, got 0
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 1 }, recovery = 0 } },
}
