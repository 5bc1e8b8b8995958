-- two segments with one id
-- expect: 1 duplicate_segment.lua:7: segments[2].id: duplicate segment id 'public' (also segments[1])
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100 },
               { id = "public", size = 50 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
