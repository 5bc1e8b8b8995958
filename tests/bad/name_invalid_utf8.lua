-- a scenario name that is not UTF-8 (Latin-1): the JSON sidecar would be invalid
-- expect: 1 name_invalid_utf8.lua:4: name: "caf\xe9" contains invalid UTF-8 (byte 4)
return stratsim.scenario {
  name = "caf\xe9",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
