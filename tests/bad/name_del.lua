-- a scenario name with a control character (DEL)
-- expect: 1 name_del.lua:4: name: "del\x7f" contains a control character (byte 4)
return stratsim.scenario {
  name = "del\127",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
