-- a scenario name with an ANSI escape sequence
-- expect: 1 name_escape.lua:4: name: "red\x1b[31m" contains a control character (byte 4)
return stratsim.scenario {
  name = "red\27[31m",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
