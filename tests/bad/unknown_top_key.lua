-- misspelt top-level key
-- expect: 1 unknown_top_key.lua:7: provders: unknown key 'provders' (did you mean 'providers'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 2022, stop = 2025, step = 0.5 },
  segments = { { id = "public", size = 100, growth = 0.1 } },
  provders = { { id = "a", share = { public = 0.6 } },
                { id = "b", share = { public = 0.4 } } },
}
