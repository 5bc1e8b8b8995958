-- a scenario name of 1 MiB
-- expect: 1 limit_name_1mb.lua:4: name: must be a non-empty string of at most 255 bytes
return stratsim.scenario {
  name = ("x"):rep(2^20),
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
