-- an overlong UTF-8 encoding of '/' in a name derived with :with
-- expect: 1 name_overlong_utf8.lua:8: name: "a\xc0\xafb" contains invalid UTF-8 (byte 2)
local base = stratsim.scenario {
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 } },
  providers = { { id = "a", share = { public = 1 } } },
}
return base:with { name = "a\xc0\xafb" }
