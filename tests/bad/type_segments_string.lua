-- segments is a string
-- expect: 1 type_segments_string.lua:6: segments: expected an array of segment tables {id = ..., size = ...}, got string
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = "public",
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
