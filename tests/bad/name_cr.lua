-- a scenario name with a control character (CR)
-- expect: 1 name_cr.lua:4: name: "over\x0dwrite" contains a control character (byte 5)
return stratsim.scenario {
  name = "over\rwrite",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
