-- no segments
-- expect: 1 missing_segments.lua:3: segments: missing (required): segments = {{id = ..., size = ...}, ...}
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
