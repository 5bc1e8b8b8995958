-- a scenario name with a control character (C1 NEL)
-- expect: 1 name_c1.lua:4: name: "next\xc2\x85line" contains a control character (byte 5)
return stratsim.scenario {
  name = "next\u{85}line",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
