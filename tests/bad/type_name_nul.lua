-- a scenario name with an embedded NUL byte
-- expect: 1 type_name_nul.lua:4: name: must be a non-empty string of at most 255 bytes without NUL
return stratsim.scenario {
  name = "bad\0name",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
