-- a share for a misspelt segment
-- expect: 1 unknown_segment_in_share.lua:7: providers.a.share.publc: unknown segment 'publc' (did you mean 'public'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { publc = 1 } } },
}
