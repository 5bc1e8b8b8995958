-- expect: 1 unknown_key.lua:5: segments.public.growht: unknown key 'growht' (did you mean 'growth'?)
return stratsim.scenario {
  name = "bad",
  time = { start = 0, stop = 1, step = 0.5 },
  segments = { { id = "public", size = 100, growht = 0.1 } },
  providers = { { id = "a", share = { public = 1 } } },
}
