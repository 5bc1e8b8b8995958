-- a scenario name with a control character (BEL)
-- expect: 1 name_bell.lua:4: name: "ring\x07" contains a control character (byte 5)
return stratsim.scenario {
  name = "ring\a",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
