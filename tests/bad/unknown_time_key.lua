-- misspelt time key
-- expect: 1 unknown_time_key.lua:5: time.stpe: unknown key 'stpe' (did you mean 'step'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, stpe = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  providers = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
